// The Fréchet distance between two sets of feature vectors, each summarised as a Gaussian (mean, covariance):
//   d² = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½)         (Dowson & Landau 1982)
// Heusel et al. 2017's FID computes it on Inception features of real and generated images; on digits it is
// computed on a small classifier's features instead. tr (Σ₁Σ₂)^½ = tr (A Σ₂ A)^½ with A = Σ₁^½, both symmetric
// positive semi-definite, so only symmetric eigendecompositions are needed (cyclic Jacobi, float64; the
// dimension is a classifier's hidden width, tens). Browser-safe.

/** mean (D) and covariance (D×D, divided by N − 1) of N row vectors (N, D) */
export function meanCovariance(x: ArrayLike<number>, D: number): { mean: Float64Array; cov: Float64Array } {
  const N = x.length / D;
  if (!Number.isInteger(N) || N < 2) throw new Error(`Fréchet distance: needs at least 2 whole rows of ${D} features, got ${x.length} values`);
  const mean = new Float64Array(D), cov = new Float64Array(D * D);
  for (let i = 0; i < N; i++) for (let a = 0; a < D; a++) mean[a] += x[i * D + a] / N;
  for (let i = 0; i < N; i++) for (let a = 0; a < D; a++) {
    const da = x[i * D + a] - mean[a];
    for (let b = a; b < D; b++) cov[a * D + b] += (da * (x[i * D + b] - mean[b])) / (N - 1);
  }
  for (let a = 0; a < D; a++) for (let b = 0; b < a; b++) cov[a * D + b] = cov[b * D + a];
  return { mean, cov };
}

/**
 * Eigenvalues and eigenvectors (columns of v, row-major D×D) of a symmetric matrix by cyclic Jacobi rotations
 * (Golub & Van Loan, §8.5), until the off-diagonal mass is below 1e-24 of the total or after 100 sweeps.
 */
export function symmetricEigen(m: Float64Array, D: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(m), v = new Float64Array(D * D);
  for (let i = 0; i < D; i++) v[i * D + i] = 1;
  const total = a.reduce((s, x) => s + x * x, 0);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < D; p++) for (let q = p + 1; q < D; q++) off += 2 * a[p * D + q] ** 2;
    if (off <= 1e-24 * total || off === 0) break;
    for (let p = 0; p < D; p++) for (let q = p + 1; q < D; q++) rotate(a, v, D, p, q);
  }
  return { values: Float64Array.from({ length: D }, (_, i) => a[i * D + i]), vectors: v };
}

/** one Jacobi rotation zeroing a[p][q] (and a[q][p]), applied to a from both sides and to v from the right */
function rotate(a: Float64Array, v: Float64Array, D: number, p: number, q: number): void {
  const apq = a[p * D + q];
  if (apq === 0) return;
  const theta = (a[q * D + q] - a[p * D + p]) / (2 * apq);
  const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1), s = t * c;
  for (let k = 0; k < D; k++) { // columns p, q
    const akp = a[k * D + p], akq = a[k * D + q];
    a[k * D + p] = c * akp - s * akq;
    a[k * D + q] = s * akp + c * akq;
  }
  for (let k = 0; k < D; k++) { // rows p, q
    const apk = a[p * D + k], aqk = a[q * D + k];
    a[p * D + k] = c * apk - s * aqk;
    a[q * D + k] = s * apk + c * aqk;
  }
  for (let k = 0; k < D; k++) {
    const vkp = v[k * D + p], vkq = v[k * D + q];
    v[k * D + p] = c * vkp - s * vkq;
    v[k * D + q] = s * vkp + c * vkq;
  }
}

/** the symmetric square root V·diag(√max(λ, 0))·Vᵀ of a symmetric positive semi-definite matrix */
function sqrtPsd(m: Float64Array, D: number): Float64Array {
  const { values, vectors: v } = symmetricEigen(m, D), out = new Float64Array(D * D);
  for (let k = 0; k < D; k++) {
    const r = Math.sqrt(Math.max(values[k], 0));
    for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) out[i * D + j] += r * v[i * D + k] * v[j * D + k];
  }
  return out;
}

function matmulSquare(a: Float64Array, b: Float64Array, D: number): Float64Array {
  const out = new Float64Array(D * D);
  for (let i = 0; i < D; i++) for (let k = 0; k < D; k++) {
    const x = a[i * D + k];
    for (let j = 0; j < D; j++) out[i * D + j] += x * b[k * D + j];
  }
  return out;
}

/**
 * The Fréchet distance d² between the Gaussians fitted to features x (N₁, D) and y (N₂, D), both row-major.
 * Throws when either set has fewer than 2 rows.
 */
export function frechetDistance(x: ArrayLike<number>, y: ArrayLike<number>, D: number): number {
  const p = meanCovariance(x, D), q = meanCovariance(y, D);
  const a = sqrtPsd(p.cov, D), m = matmulSquare(matmulSquare(a, q.cov, D), a, D);
  for (let i = 0; i < D; i++) for (let j = 0; j < i; j++) m[i * D + j] = m[j * D + i] = (m[i * D + j] + m[j * D + i]) / 2;
  const cross = symmetricEigen(m, D).values.reduce((s, l) => s + Math.sqrt(Math.max(l, 0)), 0);
  let d = 0;
  for (let i = 0; i < D; i++) d += (p.mean[i] - q.mean[i]) ** 2 + p.cov[i * D + i] + q.cov[i * D + i];
  return Math.max(0, d - 2 * cross);
}
