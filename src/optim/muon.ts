// Muon (Keller Jordan, 2024, "Muon: An optimizer for hidden layers in neural networks"; torch.optim.Muon, its
// single-tensor path): momentum SGD whose update of each hidden-layer weight matrix is orthogonalised by a
// quintic Newton–Schulz iteration, with AdamW for everything that is not such a matrix (embeddings, output
// heads, norms, biases), as the reference implementation and PyTorch's documentation prescribe. Per matrix
// parameter P (A × B) with gradient G, in a group marked `muon` (muonGroups):
//   M ← μ·M + (1 − μ)·G                         (torch: buf.lerp_(grad, 1 − μ); M starts at 0)
//   U ← (1 − μ)·G + μ·M with Nesterov, else M   (grad.lerp(buf, μ))
//   O ← NS₅(U): X ← U/‖U‖_F (transposed when A > B), then 5 × { S ← X·Xᵀ; X ← a·X + (b·S + c·S·S)·X }
//   P ← P·(1 − lr·λ) − lr·r·O,  r = √max(1, A/B) ('original', Keller's) or 0.2·√max(A, B) ('match_rms_adamw',
//                                Moonshot's "Muon is Scalable for LLM Training": the update's RMS matches AdamW's,
//                                so AdamW's lr and weight decay carry over)
// with (a, b, c) = (3.4445, −4.7750, 2.0315). PyTorch runs the iteration in bfloat16; here it runs in float32
// (the fixture compares against torch's code with the iteration in float32, and reports the bfloat16 gap).
// Every other group gets AdamW's update (the backend's fused kernel) at the same lr and the optimizer's betas.
// Browser-safe.
import { backend } from '../backend/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { allocPersistent } from '../backend/storage.js';
import { SlotState, type Optimizer, type ParamGroup } from './optimizer.js';

export type MuonAdjustLr = 'original' | 'match_rms_adamw';

export interface MuonOptions {
  lr: number;
  /** μ of the momentum buffer (torch default 0.95) */
  momentum: number;
  nesterov: boolean;
  /** Newton–Schulz iterations (torch default 5) */
  nsSteps: number;
  /** the Frobenius norm is clamped to at least eps before normalising (torch default 1e-7) */
  eps: number;
  /** how the lr is scaled per matrix shape; the project's default is Moonshot's, so one lr serves both parts */
  adjustLrFn: MuonAdjustLr;
  /** AdamW's betas and eps for the groups that are not Muon's */
  beta1: number;
  beta2: number;
  adamEps: number;
}

export const MUON_DEFAULTS: MuonOptions = {
  lr: 1e-3, momentum: 0.95, nesterov: true, nsSteps: 5, eps: 1e-7, adjustLrFn: 'match_rms_adamw', beta1: 0.9, beta2: 0.99, adamEps: 1e-8,
};

/** the quintic Newton–Schulz coefficients of torch.optim.Muon (and Keller Jordan's reference) */
export const NS_COEFFICIENTS = [3.4445, -4.775, 2.0315] as const;

/** the lr multiplier of an A × B matrix under `fn` (torch's _adjust_lr) */
export function muonLrRatio(A: number, B: number, fn: MuonAdjustLr): number {
  return fn === 'original' ? Math.sqrt(Math.max(1, A / B)) : 0.2 * Math.sqrt(Math.max(A, B));
}

/**
 * k matrices of m × n (m ≤ n), stacked in `x` and each already scaled to unit Frobenius norm, orthogonalised in
 * place by `steps` quintic Newton–Schulz iterations: X ← (a·I + b·S + c·S²)·X with S = X·Xᵀ, which is torch's
 * addmm(X, b·S + c·S², X, beta=a) with the a·X term folded into the m × m factor (the products are batched over
 * the k matrices: three backend matmuls per iteration for all of them). `work` holds ≥ k·(n·m + 2·m²) floats.
 */
export function newtonSchulzInPlace(x: Float32Array, k: number, m: number, n: number, steps: number, work: Float32Array): void {
  const [a, b, c] = NS_COEFFICIENTS, be = backend(), mm = m * m, mn = m * n;
  const S = work.subarray(0, k * mm), T = work.subarray(k * mm, 2 * k * mm), Y = work.subarray(2 * k * mm, 2 * k * mm + k * mn);
  const prod = (A: Float32Array, B: Float32Array, C: Float32Array, M: number, N: number, K: number, transB: boolean, sA: number, sB: number, sC: number): void =>
    be.matmul(A, B, C, { batch: k, M, N, K, transA: false, transB, accumulate: false, strideA: sA, strideB: sB, strideC: sC });
  const X = x.subarray(0, k * mn);
  let cur = X, nxt = Y;
  for (let s = 0; s < steps; s++) {
    prod(cur, cur, S, m, m, n, true, mn, mn, mm); // S = X·Xᵀ   (k, m, m)
    prod(S, S, T, m, m, m, false, mm, mm, mm); // T = S·S
    for (let i = 0; i < k * mm; i++) T[i] = b * S[i] + c * T[i];
    for (let q = 0; q < k; q++) for (let i = 0; i < m; i++) T[q * mm + i * m + i] += a; // a·I + b·S + c·S²
    prod(T, cur, nxt, m, n, m, false, mm, mn, mn); // X ← (a·I + b·S + c·S²)·X   (k, m, n)
    [cur, nxt] = [nxt, cur];
  }
  if (cur !== X) X.set(cur);
}

/**
 * Newton–Schulz orthogonalisation of the rows × cols matrix `g` (row-major), written into `out`: torch's
 * _zeropower_via_newtonschulz in float32 (transposed when rows > cols, scaled by 1/max(‖g‖_F, eps), `steps`
 * iterations). `work` holds ≥ 2·m·n + 2·m² floats (m = min(rows, cols), n = max).
 */
export function newtonSchulz(g: Float32Array, rows: number, cols: number, out: Float32Array, steps: number, eps: number, work: Float32Array): void {
  const m = Math.min(rows, cols), n = Math.max(rows, cols);
  const X = work.subarray(0, m * n);
  loadOriented(g, rows, cols, X, eps);
  newtonSchulzInPlace(X, 1, m, n, steps, work.subarray(m * n));
  storeOriented(X, rows, cols, out);
}

/** g (rows × cols) into x as min × max (transposed when rows > cols), scaled to unit Frobenius norm (floor eps) */
function loadOriented(g: Float32Array, rows: number, cols: number, x: Float32Array, eps: number): void {
  const n = rows * cols;
  if (rows > cols) for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) x[c * rows + r] = g[r * cols + c];
  else x.set(g.subarray(0, n));
  let ss = 0;
  for (let i = 0; i < n; i++) ss += x[i] * x[i];
  scaleToUnit(x, n, ss, eps);
}

/** x[0, n) ← x / max(√ss, eps), ss being Σ x² (torch: ortho_grad.div_(ortho_grad.norm().clamp(min=eps))) */
function scaleToUnit(x: Float32Array, n: number, ss: number, eps: number): void {
  const inv = 1 / Math.max(Math.sqrt(ss), eps);
  for (let i = 0; i < n; i++) x[i] *= inv;
}

/** the inverse of loadOriented's orientation: x (min × max) back to rows × cols in out */
function storeOriented(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
  if (rows > cols) for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = x[c * rows + r];
  else out.set(x.subarray(0, rows * cols));
}

/**
 * The momentum step of one A × B matrix (M ← μ·M + (1 − μ)·G; U ← G + μ·(M − G) with Nesterov, else M), with
 * U written into x oriented (transposed when A > B) and scaled to unit Frobenius norm (floor eps): the input
 * of newtonSchulzInPlace, in one pass.
 */
function momentumOriented(G: Float32Array, M: Float32Array, A: number, B: number, x: Float32Array, mu: number, nesterov: boolean, eps: number): void {
  const keep = 1 - mu, n = A * B, tall = A > B;
  let ss = 0;
  for (let r = 0, j = 0; r < A; r++)
    for (let c = 0; c < B; c++, j++) {
      const g = G[j], m = (M[j] += keep * (g - M[j]));
      const u = nesterov ? g + mu * (m - g) : m;
      x[tall ? c * A + r : j] = u;
      ss += u * u;
    }
  scaleToUnit(x, n, ss, eps);
}

/**
 * Marks the hidden-layer weight matrices for Muon: every 2-D parameter in `hidden` (the trainer passes the
 * model's decayed weights less output heads) moves out of its group into a group of its own with `muon: true`
 * and the same weight decay and lrScale. Throws when no trainable parameter qualifies.
 */
export function muonGroups(groups: ParamGroup[], named: readonly [string, Tensor][], hidden: ReadonlySet<string>): ParamGroup[] {
  const isHidden = new Set(named.filter(([n, p]) => hidden.has(n) && p.ndim === 2).map(([, p]) => p));
  if (!isHidden.size) throw new Error('muon: this model has no trainable hidden-layer weight matrix to orthogonalise; use another --optimizer');
  const out: ParamGroup[] = [];
  for (const g of groups) {
    const rest = g.params.filter((p) => !isHidden.has(p)), mats = g.params.filter((p) => isHidden.has(p));
    if (rest.length) out.push({ ...g, params: rest });
    if (mats.length) out.push({ ...g, params: mats, muon: true });
  }
  return out;
}

/** the Muon matrices of one oriented shape (m ≤ n), orthogonalised together in one batch */
interface Bucket {
  m: number;
  n: number;
  params: { p: Tensor; group: ParamGroup }[];
  /** (k, m, n): the oriented, normalised updates, then their orthogonalisation */
  x: Float32Array;
  work: Float32Array;
}

/**
 * Muon over parameter groups: groups marked `muon` (muonGroups) get the orthogonalised momentum update above,
 * their matrices batched by shape; every other group gets AdamW (backend kernel) at the same lr. State by
 * parameter name: `momentum_buffer.<name>` for Muon's matrices, `m.<name>`/`v.<name>` for AdamW's parameters.
 */
export class Muon implements Optimizer {
  readonly name = 'muon';
  readonly opts: MuonOptions;
  step = 0;
  private readonly muonSlots: SlotState;
  private readonly adamSlots: SlotState;
  private readonly buckets: Bucket[] = [];

  /** Throws naming the option when one is out of range, or a Muon group holds a parameter that is not 2-D. */
  constructor(readonly groups: ParamGroup[], opts: Partial<MuonOptions> = {}) {
    const o = (this.opts = { ...MUON_DEFAULTS, ...opts });
    if (!(o.lr >= 0)) throw new Error(`muon: lr must be ≥ 0, got ${o.lr}`);
    if (!(o.momentum >= 0 && o.momentum < 1)) throw new Error(`muon: momentum must be in [0, 1), got ${o.momentum}`);
    if (!(Number.isInteger(o.nsSteps) && o.nsSteps >= 1 && o.nsSteps < 100)) throw new Error(`muon: nsSteps must be an integer in 1–99, got ${o.nsSteps}`);
    if (!(o.eps > 0)) throw new Error(`muon: eps must be > 0, got ${o.eps}`);
    if (o.adjustLrFn !== 'original' && o.adjustLrFn !== 'match_rms_adamw') throw new Error(`muon: adjustLrFn must be original or match_rms_adamw, got ${String(o.adjustLrFn)}`);
    for (const k of ['beta1', 'beta2'] as const) if (!(o[k] >= 0 && o[k] < 1)) throw new Error(`muon: ${k} must be in [0, 1), got ${o[k]}`);
    if (!(o.adamEps >= 0)) throw new Error(`muon: adamEps must be ≥ 0, got ${o.adamEps}`);
    const mg = groups.filter((g) => g.muon), ag = groups.filter((g) => !g.muon);
    const byShape = new Map<string, Bucket>();
    for (const group of mg)
      for (const p of group.params) {
        if (p.ndim !== 2) throw new Error(`muon: only 2-D parameters can be orthogonalised, got shape [${p.shape.join(', ')}]`);
        const m = Math.min(p.shape[0], p.shape[1]), n = Math.max(p.shape[0], p.shape[1]);
        const key = `${m}x${n}`;
        if (!byShape.has(key)) byShape.set(key, { m, n, params: [], x: new Float32Array(0), work: new Float32Array(0) });
        byShape.get(key)!.params.push({ p, group });
      }
    for (const b of byShape.values()) {
      const k = b.params.length;
      b.x = allocPersistent(k * b.m * b.n);
      b.work = allocPersistent(k * (b.m * b.n + 2 * b.m * b.m));
      this.buckets.push(b);
    }
    this.muonSlots = new SlotState(['momentum_buffer'], mg, allocPersistent);
    this.adamSlots = new SlotState(['m', 'v'], ag, allocPersistent);
  }

  update(lr = this.opts.lr): void {
    this.step++;
    const o = this.opts, be = backend();
    for (const b of this.buckets) this.muonBucket(b, lr);
    for (const g of this.groups) {
      if (g.muon) continue;
      for (const p of g.params)
        if (p.grad) be.adamw(p.data, p.grad, this.adamSlots.get('m', p), this.adamSlots.get('v', p), p.size, lr * (g.lrScale ?? 1), o.beta1, o.beta2, o.adamEps, g.weightDecay, this.step);
    }
  }

  /** one Muon update of every matrix in the bucket that has a gradient (the others are left alone) */
  private muonBucket(b: Bucket, lr: number): void {
    const o = this.opts, mn = b.m * b.n;
    b.params.forEach(({ p }, i) => {
      const slot = b.x.subarray(i * mn, (i + 1) * mn);
      if (!p.grad) return void slot.fill(0);
      momentumOriented(p.grad, this.muonSlots.get('momentum_buffer', p), p.shape[0], p.shape[1], slot, o.momentum, o.nesterov, o.eps);
    });
    newtonSchulzInPlace(b.x, b.params.length, b.m, b.n, o.nsSteps, b.work);
    b.params.forEach(({ p, group }, i) => {
      if (!p.grad) return;
      const [A, B] = p.shape, X = b.x.subarray(i * mn, (i + 1) * mn), P = p.data;
      const glr = lr * (group.lrScale ?? 1), step = glr * muonLrRatio(A, B, o.adjustLrFn), keep = 1 - glr * group.weightDecay;
      if (A > B) for (let r = 0, j = 0; r < A; r++) for (let c = 0; c < B; c++, j++) P[j] = P[j] * keep - step * X[c * A + r];
      else for (let j = 0; j < A * B; j++) P[j] = P[j] * keep - step * X[j];
    });
  }

  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.zeroGrad();
  }

  stateTensors(nameOf: (p: Tensor) => string): Record<string, Float32Array> {
    return { ...this.muonSlots.toTensors(nameOf), ...this.adamSlots.toTensors(nameOf) };
  }

  loadStateTensors(state: ReadonlyMap<string, Float32Array>, nameOf: (p: Tensor) => string, step: number): void {
    this.muonSlots.load(state, nameOf);
    this.adamSlots.load(state, nameOf);
    this.step = step;
  }
}
