// Small dense linear algebra for truncated SVD, on row-major Float64Arrays: a thin QR by modified
// Gram–Schmidt with one re-orthogonalization pass ("twice is enough", Giraud et al. 2005), and the SVD of
// a small square matrix by one-sided Jacobi rotations (Hestenes 1958; Demmel & Veselić 1992), which is
// accurate to machine precision relative to each singular value.

/**
 * Thin QR of a tall matrix A [m, n] (m ≥ n): A = Q·R with Q [m, n] orthonormal columns and R [n, n] upper
 * triangular. A column that is (numerically) a combination of earlier ones becomes a zero column of Q with a
 * zero on R's diagonal, so rank-deficient input is fine.
 * Example: A = [[3], [4]] → Q = [[0.6], [0.8]], R = [[5]].
 */
export function thinQr(a: Float64Array, m: number, n: number): { q: Float64Array; r: Float64Array } {
  // work on contiguous columns (column-major copy): every inner loop below runs over one column
  const cols = new Float64Array(m * n);
  for (let t = 0; t < m; t++) for (let j = 0; j < n; j++) cols[j * m + t] = a[t * n + j];
  const r = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const cj = cols.subarray(j * m, (j + 1) * m);
    const before = norm2(cj);
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < j; i++) {
        const ci = cols.subarray(i * m, (i + 1) * m);
        let dot = 0;
        for (let t = 0; t < m; t++) dot += ci[t] * cj[t];
        for (let t = 0; t < m; t++) cj[t] -= dot * ci[t];
        r[i * n + j] += dot;
      }
    }
    const norm = norm2(cj);
    // what is left is rounding noise of the earlier columns: call the column dependent
    const keep = norm > 1e-13 * before && norm > 0;
    r[j * n + j] = keep ? norm : 0;
    for (let t = 0; t < m; t++) cj[t] = keep ? cj[t] / norm : 0;
  }
  const q = new Float64Array(m * n);
  for (let t = 0; t < m; t++) for (let j = 0; j < n; j++) q[t * n + j] = cols[j * m + t];
  return { q, r };
}

function norm2(x: Float64Array): number {
  let s = 0;
  for (let t = 0; t < x.length; t++) s += x[t] * x[t];
  return Math.sqrt(s);
}

/**
 * SVD of a square matrix A [n, n]: A = U·diag(s)·Vᵀ with s descending, U and V [n, n] (row-major; the
 * singular vectors are their columns). Columns of U for zero singular values are zero.
 */
export function jacobiSvd(a: Float64Array, n: number, maxSweeps = 60): { u: Float64Array; s: Float64Array; v: Float64Array } {
  const w = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotated = false;
    for (let i = 0; i < n - 1; i++) {
      for (let j = i + 1; j < n; j++) if (rotatePair(w, v, n, i, j)) rotated = true;
    }
    if (!rotated) break;
  }
  const s = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let sum = 0;
    for (let t = 0; t < n; t++) sum += w[t * n + j] * w[t * n + j];
    s[j] = Math.sqrt(sum);
  }
  const order = Array.from({ length: n }, (_, j) => j).sort((x, y) => s[y] - s[x]);
  const u = new Float64Array(n * n);
  const vs = new Float64Array(n * n);
  const ss = new Float64Array(n);
  order.forEach((j, k) => {
    ss[k] = s[j];
    for (let t = 0; t < n; t++) {
      u[t * n + k] = s[j] > 0 ? w[t * n + j] / s[j] : 0;
      vs[t * n + k] = v[t * n + j];
    }
  });
  return { u, s: ss, v: vs };
}

/** one Jacobi rotation making columns i and j of w orthogonal; false when they already are */
function rotatePair(w: Float64Array, v: Float64Array, n: number, i: number, j: number): boolean {
  let alpha = 0;
  let beta = 0;
  let gamma = 0;
  for (let t = 0; t < n; t++) {
    const x = w[t * n + i];
    const y = w[t * n + j];
    alpha += x * x;
    beta += y * y;
    gamma += x * y;
  }
  if (gamma === 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) return false;
  const zeta = (beta - alpha) / (2 * gamma);
  const tan = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
  const cos = 1 / Math.sqrt(1 + tan * tan);
  const sin = cos * tan;
  for (const m of [w, v]) {
    for (let t = 0; t < n; t++) {
      const x = m[t * n + i];
      const y = m[t * n + j];
      m[t * n + i] = cos * x - sin * y;
      m[t * n + j] = sin * x + cos * y;
    }
  }
  return true;
}
