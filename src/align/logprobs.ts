// Sequence log-probabilities from a language model's per-token negative log-likelihoods: the quantity DPO,
// PPO and GRPO compare between a policy and a reference. `LanguageModel.forward(idx, B, T, { targets,
// reduction: 'none' })` gives nll (B, T) with nll[b, t] = −log p(targets[b, t] | idx[b, ≤t]); the completion
// mask picks the response tokens (TRL's completion_mask shifted by one: position t scores token t + 1).
// TRL: DPOTrainer sums per_token_logps over the completion (`logps = per_token_logps.sum(dim=1)`), its
// `sigmoid_norm` / IPO variants divide by the completion length clamped to ≥ 1.
import { Tensor } from '../tensor/tensor.js';
import { maskSum } from './ops.js';

/**
 * Per-row sum (or mean) of log p = −nll over the masked positions: nll (B, T), mask (B·T) of 0/1 weights →
 * (B). 'mean' divides each row by max(Σ mask, 1) as TRL does. Differentiable in nll.
 * Throws when nll is not 2-D or the mask does not have B·T elements.
 */
export function sequenceLogProbs(nll: Tensor, mask: Float32Array, reduction: 'sum' | 'mean' = 'sum'): Tensor {
  if (nll.ndim !== 2) throw new Error(`sequenceLogProbs: nll must be (B, T), got [${nll.shape}]`);
  maskSum(mask, nll, 'sequenceLogProbs');
  const [B, T] = nll.shape;
  const scale = new Float32Array(B); // d out[b] / d(−nll[b, t]·mask[b, t])
  const out = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0, n = 0;
    for (let t = 0; t < T; t++) {
      s -= nll.data[b * T + t] * mask[b * T + t];
      n += mask[b * T + t];
    }
    scale[b] = reduction === 'mean' ? 1 / Math.max(n, 1) : 1;
    out[b] = s * scale[b];
  }
  return Tensor.fromOp(out, [B], [nll], (o) => {
    const g = nll.gradBuf();
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) g[b * T + t] -= o.grad![b] * scale[b] * mask[b * T + t];
  });
}

/**
 * Per-token log-probabilities log p = −nll, zeroed outside the mask (TRL's `per_token_logps[mask == 0] = 0`):
 * nll (B, T), mask (B·T) → (B, T). Differentiable in nll.
 */
export function tokenLogProbs(nll: Tensor, mask?: Float32Array): Tensor {
  if (mask) maskSum(mask, nll, 'tokenLogProbs');
  const n = nll.size;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = mask && mask[i] === 0 ? 0 : -nll.data[i];
  return Tensor.fromOp(out, nll.shape.slice(), [nll], (o) => {
    const g = nll.gradBuf();
    for (let i = 0; i < n; i++) if (!(mask && mask[i] === 0)) g[i] -= o.grad![i];
  });
}

/**
 * The completion mask over next-token targets for sequences laid out prompt then completion: position t
 * predicts token t + 1, so it belongs to the completion when promptLengths[b] − 1 ≤ t < lengths[b] − 1.
 * promptLengths, lengths: (B) token counts (prompt, and prompt + completion without padding); T the row
 * length. → (B·T) of 0/1. Throws on a length outside [1, T] or a prompt longer than its sequence.
 */
export function completionMask(promptLengths: ArrayLike<number>, lengths: ArrayLike<number>, T: number): Float32Array {
  const B = promptLengths.length;
  if (lengths.length !== B) throw new Error(`completionMask: lengths has ${lengths.length} rows, promptLengths ${B}`);
  const m = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    const p = promptLengths[b], L = lengths[b];
    if (!(Number.isInteger(p) && p >= 1 && p <= L)) throw new Error(`completionMask: promptLengths[${b}] = ${p} must be in [1, ${L}]`);
    if (!(Number.isInteger(L) && L <= T + 1)) throw new Error(`completionMask: lengths[${b}] = ${L} must be an integer ≤ ${T + 1}`);
    for (let t = p - 1; t < L - 1; t++) m[b * T + t] = 1;
  }
  return m;
}

/**
 * Splits a (2B) batch laid out [chosen…, rejected…] into its halves, each (B), differentiably (TRL's
 * `logps.chunk(2, dim=0)`: DPOTrainer runs chosen and rejected completions as one batch). Throws on an odd size.
 */
export function chunkPairs(t: Tensor): [Tensor, Tensor] {
  if (t.ndim !== 1 || t.size % 2 !== 0 || t.size === 0) throw new Error(`chunkPairs: need an even-length (2B) tensor, got [${t.shape}]`);
  const B = t.size / 2;
  const half = (i: number): Tensor =>
    Tensor.fromOp(t.data.slice(i * B, (i + 1) * B), [B], [t], (o) => {
      const g = t.gradBuf();
      for (let b = 0; b < B; b++) g[i * B + b] += o.grad![b];
    });
  return [half(0), half(1)];
}
