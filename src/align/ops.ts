// The element-wise and row ops the alignment losses need beyond src/tensor: a stable log-sigmoid, clamp and
// element-wise minimum with PyTorch's gradients, a masked mean and the entropy of a softmax from its logits.
// Each is one closure over float32 arrays, like the ops in src/tensor/elementwise.ts.
import { Tensor } from '../tensor/tensor.js';
import { mul } from '../tensor/elementwise.js';
import { sum } from '../tensor/shape.js';

/** y = f(x) element-wise with dy/dx = df(x, y) */
function unaryOp(a: Tensor, f: (x: number) => number, df: (x: number, y: number) => number): Tensor {
  const n = a.size, A = a.data;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = f(A[i]);
  return Tensor.fromOp(out, a.shape.slice(), [a], (o) => {
    const g = o.grad!, ga = a.gradBuf();
    for (let i = 0; i < n; i++) ga[i] += g[i] * df(A[i], out[i]);
  });
}

/**
 * log σ(x) = −softplus(−x), stable for any x (PyTorch's F.logsigmoid): min(x, 0) − log1p(e^−|x|).
 * d/dx = 1 − σ(x) = σ(−x).
 */
export function logSigmoid(a: Tensor): Tensor {
  return unaryOp(
    a,
    (x) => Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x))),
    (x) => (x >= 0 ? Math.exp(-x) / (1 + Math.exp(-x)) : 1 / (1 + Math.exp(x))),
  );
}

/**
 * torch.clamp(x, lo, hi): the gradient passes where lo ≤ x ≤ hi (bounds included) and is 0 outside.
 * Either bound may be ±Infinity. Throws when lo > hi.
 */
export function clamp(a: Tensor, lo: number, hi: number): Tensor {
  if (!(lo <= hi)) throw new Error(`clamp: lower bound ${lo} is above upper bound ${hi}`);
  return unaryOp(a, (x) => Math.min(Math.max(x, lo), hi), (x) => (x >= lo && x <= hi ? 1 : 0));
}

/**
 * clamp with per-element bounds (constants, same shape as a): torch.clamp(x, lo_tensor, hi_tensor), as PPO's
 * clipped value loss clamps v_pred to old_values ± cliprange_value.
 */
export function clampBetween(a: Tensor, lo: Float32Array, hi: Float32Array): Tensor {
  const n = a.size, A = a.data;
  if (lo.length !== n || hi.length !== n) throw new Error(`clampBetween: bounds have ${lo.length}/${hi.length} elements for ${n}`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.min(Math.max(A[i], lo[i]), hi[i]);
  return Tensor.fromOp(out, a.shape.slice(), [a], (o) => {
    const g = o.grad!, ga = a.gradBuf();
    for (let i = 0; i < n; i++) if (A[i] >= lo[i] && A[i] <= hi[i]) ga[i] += g[i];
  });
}

/**
 * Element-wise max or min of two same-shape tensors with torch.maximum / torch.minimum's gradient: the larger
 * (smaller) operand gets it, and on a tie each gets half.
 */
function pick(a: Tensor, b: Tensor, larger: boolean): Tensor {
  if (a.size !== b.size || a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${larger ? 'maximum' : 'minimum'}: shapes [${a.shape}] and [${b.shape}] differ`);
  }
  const n = a.size, A = a.data, B = b.data;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = larger ? Math.max(A[i], B[i]) : Math.min(A[i], B[i]);
  return Tensor.fromOp(out, a.shape.slice(), [a, b], (o) => {
    const g = o.grad!;
    const ga = a.requiresGrad ? a.gradBuf() : null, gb = b.requiresGrad ? b.gradBuf() : null;
    for (let i = 0; i < n; i++) {
      const wa = A[i] === B[i] ? 0.5 : (A[i] > B[i]) === larger ? 1 : 0;
      if (ga) ga[i] += g[i] * wa;
      if (gb) gb[i] += g[i] * (1 - wa);
    }
  });
}

export const maxOf = (a: Tensor, b: Tensor): Tensor => pick(a, b, true);
export const minOf = (a: Tensor, b: Tensor): Tensor => pick(a, b, false);

/** a constant (no-gradient) tensor of the given shape */
export function constant(data: ArrayLike<number>, shape: number[]): Tensor {
  return new Tensor(Float32Array.from(data), shape.slice(), false);
}

/** Σ mask, checking it has one weight per element of `like`; names the caller in the error */
export function maskSum(mask: Float32Array, like: Tensor, who: string): number {
  if (mask.length !== like.size) throw new Error(`${who}: mask has ${mask.length} elements, expected ${like.size} ([${like.shape}])`);
  let s = 0;
  for (let i = 0; i < mask.length; i++) s += mask[i];
  return s;
}

/**
 * TRL's masked_mean(values, mask) over all elements: Σ x·m / Σ m, a scalar. A mask summing to 0 gives NaN as
 * in TRL (0/0).
 */
export function maskedMean(x: Tensor, mask: Float32Array, who = 'maskedMean'): Tensor {
  const n = maskSum(mask, x, who);
  return mul(sum(mul(x, constant(mask, x.shape))), 1 / n);
}

/**
 * Entropy of softmax(logits) over the last axis, −Σ p log p = logsumexp(z) − Σ p·z (TRL's
 * entropy_from_logits). logits (…, V) → (…). dH/dz_j = −p_j (log p_j + H).
 */
export function entropyFromLogits(logits: Tensor): Tensor {
  const V = logits.shape[logits.ndim - 1], rows = logits.size / V, Z = logits.data;
  const out = new Float32Array(rows);
  const logp = new Float32Array(logits.size);
  for (let r = 0; r < rows; r++) {
    const o = r * V;
    let m = -Infinity;
    for (let j = 0; j < V; j++) m = Math.max(m, Z[o + j]);
    let s = 0;
    for (let j = 0; j < V; j++) s += Math.exp(Z[o + j] - m);
    const lse = m + Math.log(s);
    let h = 0;
    for (let j = 0; j < V; j++) {
      logp[o + j] = Z[o + j] - lse;
      h -= Math.exp(logp[o + j]) * logp[o + j];
    }
    out[r] = h;
  }
  return Tensor.fromOp(out, logits.shape.slice(0, -1), [logits], (res) => {
    const g = res.grad!, gz = logits.gradBuf();
    for (let r = 0; r < rows; r++) {
      const o = r * V;
      for (let j = 0; j < V; j++) gz[o + j] -= g[r] * Math.exp(logp[o + j]) * (logp[o + j] + out[r]);
    }
  });
}
