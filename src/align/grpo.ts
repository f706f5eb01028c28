// Group Relative Policy Optimization (Shao et al. 2024, "DeepSeekMath"), as TRL's GRPOTrainer: each prompt gets
// G completions; a completion's advantage is its reward relative to its group,
//   A = (r − mean_group(r)) / (std_group(r) + 1e−4)        (std unbiased; scale 'batch' uses the batch's std,
//                                                            'none' only subtracts the group mean)
// and every completion token gets its sequence's A in a clipped objective with a k3 KL penalty to a reference:
//   ratio = exp(logπ − logπ_old),  ℓ_t = −min(ratio·A, clip(ratio, 1 − ε_low, 1 + ε_high)·A) + β·KL_t
//   KL_t  = e^{logref − logπ} − (logref − logπ) − 1        (Schulman's k3 estimator, ≥ 0)
// aggregated as TRL's loss_type: 'grpo' the mean over sequences of each sequence's token mean, 'bnpo' the
// mean over all completion tokens, 'dr_grpo' the token sum over B · max_completion_length (Liu et al. 2025),
// 'dapo' (TRL's default; Yu et al. 2025) the token sum over the number of completion tokens in the whole
// generation batch (num_items_in_batch; this batch's count when not given, which makes it equal 'bnpo').
import { Tensor } from '../tensor/tensor.js';
import { add, exp, mul, neg, sub } from '../tensor/elementwise.js';
import { sum } from '../tensor/shape.js';
import { clamp, constant, minOf } from './ops.js';

export type GRPOScale = 'group' | 'batch' | 'none';

/** mean and unbiased std of xs[from, to) (std 0 for a single element, as TRL) */
function meanStd(xs: ArrayLike<number>, from: number, to: number): [number, number] {
  const n = to - from;
  let s = 0;
  for (let i = from; i < to; i++) s += xs[i];
  const mu = s / n;
  let v = 0;
  for (let i = from; i < to; i++) v += (xs[i] - mu) ** 2;
  return [mu, n > 1 ? Math.sqrt(v / (n - 1)) : 0];
}

/**
 * Group-normalised advantages: rewards (B) laid out as consecutive groups of `groupSize` completions of one
 * prompt → (B). Throws when B is not a positive multiple of groupSize.
 */
export function grpoAdvantages(rewards: ArrayLike<number>, groupSize: number, scale: GRPOScale = 'group'): Float32Array {
  const B = rewards.length;
  if (!(Number.isInteger(groupSize) && groupSize >= 1)) throw new Error(`grpoAdvantages: groupSize must be a positive integer, got ${groupSize}`);
  if (B === 0 || B % groupSize !== 0) throw new Error(`grpoAdvantages: ${B} rewards are not whole groups of ${groupSize}`);
  if (scale !== 'group' && scale !== 'batch' && scale !== 'none') throw new Error(`grpoAdvantages: scale must be group, batch or none, got ${String(scale)}`);
  const out = new Float32Array(B);
  const batchStd = meanStd(rewards, 0, B)[1];
  for (let g = 0; g < B; g += groupSize) {
    const [mu, sd] = meanStd(rewards, g, g + groupSize);
    const denom = scale === 'group' ? sd + 1e-4 : scale === 'batch' ? batchStd + 1e-4 : 1;
    for (let i = g; i < g + groupSize; i++) out[i] = (rewards[i] - mu) / denom;
  }
  return out;
}

export type GRPOLossType = 'grpo' | 'bnpo' | 'dr_grpo' | 'dapo';

export interface GRPOLossOptions {
  /** (B) per-sequence advantages (grpoAdvantages) */
  advantages: ArrayLike<number>;
  /** (B·T) 0/1 completion mask */
  mask: Float32Array;
  /** (B·T) log-probabilities of the policy that sampled; default: logp itself, detached (ratio 1) */
  oldLogp?: ArrayLike<number>;
  /** (B·T) reference log-probabilities; required when beta ≠ 0 */
  refLogp?: ArrayLike<number>;
  /** KL coefficient β (TRL default 0) */
  beta?: number;
  /** ε_low (TRL's epsilon, default 0.2) */
  epsilon?: number;
  /** ε_high (default ε_low) */
  epsilonHigh?: number;
  /** default 'grpo' */
  lossType?: GRPOLossType;
  /** for 'dr_grpo': the generation budget (default T) */
  maxCompletionLength?: number;
  /** for 'dapo': completion tokens in the whole generation batch, over all accumulation steps (default Σ mask) */
  numItemsInBatch?: number;
}

export interface GRPOLossOutput {
  /** scalar */
  loss: Tensor;
  /** mean k3 KL over completion tokens (0 when β = 0, as TRL does not compute it) */
  kl: number;
  /** fraction of completion tokens whose ratio was clipped on the side that matters for the advantage's sign */
  clipRatio: number;
}

function checkLen(name: string, a: ArrayLike<number> | undefined, n: number): void {
  if (a !== undefined && a.length !== n) throw new Error(`grpoLoss: ${name} has ${a.length} elements, expected ${n}`);
}

/** logp (B, T) policy log-probabilities of the sampled tokens, differentiable. Throws on mismatched shapes. */
export function grpoLoss(logp: Tensor, o: GRPOLossOptions): GRPOLossOutput {
  if (logp.ndim !== 2) throw new Error(`grpoLoss: logp must be (B, T), got [${logp.shape}]`);
  const [B, T] = logp.shape;
  checkLen('advantages', o.advantages, B);
  checkLen('mask', o.mask, B * T);
  checkLen('oldLogp', o.oldLogp, B * T);
  checkLen('refLogp', o.refLogp, B * T);
  const beta = o.beta ?? 0, epsLow = o.epsilon ?? 0.2, epsHigh = o.epsilonHigh ?? epsLow, type = o.lossType ?? 'grpo';
  if (beta !== 0 && !o.refLogp) throw new Error('grpoLoss: refLogp is required when beta is not 0');
  const A = constant(Float32Array.from({ length: B * T }, (_, i) => o.advantages[Math.floor(i / T)]), [B, T]);
  const ratio = exp(sub(logp, constant(o.oldLogp ?? logp.data.slice(), [B, T]))); // (B, T)
  let perToken = neg(minOf(mul(ratio, A), mul(clamp(ratio, 1 - epsLow, 1 + epsHigh), A))); // (B, T)
  let kl = 0;
  if (beta !== 0) {
    const d = sub(constant(o.refLogp!, [B, T]), logp); // logref − logπ
    const k3 = sub(sub(exp(d), d), 1); // (B, T)
    perToken = add(perToken, mul(k3, beta));
    kl = maskedAverage(k3.data, o.mask);
  }
  const loss = aggregate(perToken, o.mask, B, T, type, type === 'dapo' ? o.numItemsInBatch : o.maxCompletionLength ?? T);
  const clipped = Float32Array.from(ratio.data, (r, i) => {
    const a = o.advantages[Math.floor(i / T)];
    return (r < 1 - epsLow && a < 0) || (r > 1 + epsHigh && a > 0) ? 1 : 0;
  });
  return { loss, kl, clipRatio: maskedAverage(clipped, o.mask) };
}

/** Σ x·m / max(Σ m, 1) */
function maskedAverage(x: ArrayLike<number>, m: ArrayLike<number>): number {
  let s = 0, n = 0;
  for (let i = 0; i < x.length; i++) (s += x[i] * m[i]), (n += m[i]);
  return s / Math.max(n, 1);
}

/** TRL's loss_type reductions of the per-token loss (B, T) over the mask → a scalar */
function aggregate(perToken: Tensor, mask: Float32Array, B: number, T: number, type: GRPOLossType, n?: number): Tensor {
  const masked = mul(perToken, constant(mask, [B, T])); // (B, T)
  if (type === 'grpo') {
    const rowLen = Array.from({ length: B }, (_, b) => Math.max(mask.subarray(b * T, (b + 1) * T).reduce((s, v) => s + v, 0), 1));
    const perSeq = mul(sum(masked, 1), constant(rowLen.map((n) => 1 / n), [B])); // (B)
    return mul(sum(perSeq), 1 / B);
  }
  if (type === 'bnpo') return mul(sum(masked), 1 / Math.max(mask.reduce((s, v) => s + v, 0), 1));
  if (type === 'dr_grpo') {
    if (!(n! > 0)) throw new Error(`grpoLoss: maxCompletionLength must be > 0, got ${n}`);
    return mul(sum(masked), 1 / (B * n!));
  }
  if (type === 'dapo') {
    if (n !== undefined && !(n >= 0)) throw new Error(`grpoLoss: numItemsInBatch must be ≥ 0, got ${n}`);
    return mul(sum(masked), 1 / Math.max(n ?? mask.reduce((s, v) => s + v, 0), 1));
  }
  throw new Error(`grpoLoss: lossType must be grpo, bnpo, dr_grpo or dapo, got ${String(type)}`);
}
