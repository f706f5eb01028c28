// PPO for language models (Schulman et al. 2017, "Proximal Policy Optimization Algorithms"; advantages by
// GAE, Schulman et al. 2016) with the definitions of TRL's PPOTrainer (trl/trainer/ppo_trainer.py, v0.11–0.2x,
// and masked_whiten from trl/core.py; TRL 1.x no longer ships it). Rows are completions of T tokens; a
// (B·T) mask of 0/1 marks the real tokens. Per token:
//   rewards   r_t = −kl_coef · KL_t (+ the sequence's score at its last token)
//   GAE       δ_t = r_t + γ·V_{t+1} − V_t,   A_t = δ_t + γλ·A_{t+1}   (V_T = 0),   returns = A + V
//   whiten    A ← (A − mean_m(A)) / √(var_m(A) + 1e−8)   (unbiased masked variance), 0 outside the mask
//   policy    ratio = exp(logπ − logπ_old);  loss = mean_m(max(−A·ratio, −A·clip(ratio, 1 ± ε)))
//   value     loss = ½·mean_m(max((V − R)², (clip(V, V_old ± ε_v) − R)²))
// Everything computed from rollouts (rewards, values, advantages) is plain Float32Array; only the new
// log-probabilities and value predictions carry gradients.
import { Tensor } from '../tensor/tensor.js';
import { exp, mul, pow, sub } from '../tensor/elementwise.js';
import { clamp, clampBetween, constant, maskedMean, maxOf } from './ops.js';

function check(name: string, a: ArrayLike<number>, n: number, who: string): void {
  if (a.length !== n) throw new Error(`${who}: ${name} has ${a.length} elements, expected ${n}`);
}

/** TRL's masked_mean: Σ x·m / Σ m over all elements */
export function maskedMeanOf(x: ArrayLike<number>, mask: ArrayLike<number>): number {
  let s = 0, n = 0;
  for (let i = 0; i < x.length; i++) (s += x[i] * mask[i]), (n += mask[i]);
  return s / n;
}

/** TRL's masked_var: the masked variance, unbiased (× n/(n − 1)) by default. Throws when Σ mask < 2 (unbiased). */
export function maskedVar(x: ArrayLike<number>, mask: ArrayLike<number>, unbiased = true): number {
  check('mask', mask, x.length, 'maskedVar');
  const mu = maskedMeanOf(x, mask);
  let s = 0, n = 0;
  for (let i = 0; i < x.length; i++) (s += (x[i] - mu) ** 2 * mask[i]), (n += mask[i]);
  if (n === 0) throw new Error('maskedVar: the mask is empty');
  if (unbiased && n < 2) throw new Error('maskedVar: an unbiased variance needs at least 2 masked elements');
  return unbiased ? (s / n) * (n / (n - 1)) : s / n;
}

/**
 * TRL's masked_whiten: (x − mean) / √(var + 1e−8) with masked mean and unbiased masked variance; with
 * shiftMean false the mean is added back (TRL whitens rewards that way). Every element is transformed, masked
 * or not, as in TRL. → a new array.
 */
export function maskedWhiten(x: ArrayLike<number>, mask: ArrayLike<number>, shiftMean = true): Float32Array {
  const mu = maskedMeanOf(x, mask), inv = 1 / Math.sqrt(maskedVar(x, mask) + 1e-8);
  return Float32Array.from(x, (v) => (v - mu) * inv + (shiftMean ? 0 : mu));
}

/**
 * Generalized advantage estimation over rows of T steps, as TRL's PPO loop: rewards and values (B·T) are
 * zeroed outside the mask first (TRL masked_fills them), then for t = T−1 … 0:
 * δ = r_t + γ·V_{t+1} − V_t, A_t = δ + γλ·A_{t+1}, with V_T = A_T = 0. returns = A + V.
 */
export function gae(rewards: ArrayLike<number>, values: ArrayLike<number>, mask: ArrayLike<number>, B: number, T: number, gamma = 1, lam = 0.95): { advantages: Float32Array; returns: Float32Array } {
  for (const [n, a] of [['rewards', rewards], ['values', values], ['mask', mask]] as const) check(n, a, B * T, 'gae');
  if (!(gamma >= 0 && gamma <= 1) || !(lam >= 0 && lam <= 1)) throw new Error(`gae: gamma and lam must be in [0, 1], got ${gamma}, ${lam}`);
  const adv = new Float32Array(B * T), ret = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    let last = 0;
    for (let t = T - 1; t >= 0; t--) {
      const i = b * T + t;
      const v = values[i] * mask[i];
      const next = t < T - 1 ? values[i + 1] * mask[i + 1] : 0;
      last = rewards[i] * mask[i] + gamma * next - v + gamma * lam * last;
      adv[i] = last;
      ret[i] = last + v;
    }
  }
  return { advantages: adv, returns: ret };
}

/** GAE then TRL's whitening of the advantages over the mask, zero outside it. Returns are not whitened. */
export function ppoAdvantages(rewards: ArrayLike<number>, values: ArrayLike<number>, mask: ArrayLike<number>, B: number, T: number, opts: { gamma?: number; lam?: number; whiten?: boolean } = {}): { advantages: Float32Array; returns: Float32Array } {
  const { advantages, returns } = gae(rewards, values, mask, B, T, opts.gamma ?? 1, opts.lam ?? 0.95);
  const a = opts.whiten === false ? advantages : maskedWhiten(advantages, mask);
  for (let i = 0; i < a.length; i++) if (mask[i] === 0) a[i] = 0;
  return { advantages: a, returns };
}

/**
 * Per-token rewards from a KL penalty to the reference plus each sequence's score, as TRL's PPO: KL_t is
 * logπ − logref ('k1') or (e^{logref−logπ} − 1) − (logref − logπ) ('k3'), r_t = −klCoef·KL_t on masked tokens
 * (0 elsewhere) and scores[b] is added at scoreIndex[b] (default: the row's last masked token; TRL puts it one
 * past the last token when there is room, so pass that index to reproduce it).
 */
export function klPenaltyRewards(logp: ArrayLike<number>, refLogp: ArrayLike<number>, scores: ArrayLike<number>, mask: ArrayLike<number>, B: number, T: number, opts: { klCoef?: number; estimator?: 'k1' | 'k3'; scoreIndex?: ArrayLike<number> } = {}): Float32Array {
  for (const [n, a] of [['logp', logp], ['refLogp', refLogp], ['mask', mask]] as const) check(n, a, B * T, 'klPenaltyRewards');
  check('scores', scores, B, 'klPenaltyRewards');
  const coef = opts.klCoef ?? 0.05, k3 = opts.estimator === 'k3';
  const r = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    let last = -1;
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      if (mask[i] === 0) continue;
      const logr = refLogp[i] - logp[i];
      r[i] = -coef * (k3 ? Math.expm1(logr) - logr : -logr);
      last = t;
    }
    const at = opts.scoreIndex ? opts.scoreIndex[b] : last;
    if (!(Number.isInteger(at) && at >= 0 && at < T)) throw new Error(`klPenaltyRewards: row ${b} has no score position (index ${at})`);
    r[b * T + at] += scores[b];
  }
  return r;
}

export interface PolicyLossOutput {
  /** scalar: masked mean of the clipped surrogate (to minimise) */
  loss: Tensor;
  /** masked fraction of tokens where the clipped term was the larger (TRL's pg_clipfrac) */
  clipFraction: number;
  /** ½·mean((logπ − logπ_old)²) over the mask (TRL's approxkl, which averages over every position) */
  approxKl: number;
}

/**
 * PPO's clipped surrogate: logp (B, T) new log-probabilities (differentiable), oldLogp and advantages (B·T)
 * from the rollout, mask (B·T), cliprange ε (TRL default 0.2).
 */
export function ppoPolicyLoss(logp: Tensor, oldLogp: ArrayLike<number>, advantages: ArrayLike<number>, mask: Float32Array, cliprange = 0.2): PolicyLossOutput {
  const n = logp.size;
  check('oldLogp', oldLogp, n, 'ppoPolicyLoss');
  check('advantages', advantages, n, 'ppoPolicyLoss');
  const negA = constant(Float32Array.from(advantages, (a) => -a), logp.shape); // (B, T)
  const ratio = exp(sub(logp, constant(oldLogp, logp.shape))); // (B, T)
  const l1 = mul(negA, ratio), l2 = mul(negA, clamp(ratio, 1 - cliprange, 1 + cliprange));
  const loss = maskedMean(maxOf(l1, l2), mask, 'ppoPolicyLoss');
  const clipped = Float32Array.from(l1.data, (v, i) => (l2.data[i] > v ? 1 : 0));
  const kl2 = Float32Array.from(logp.data, (v, i) => 0.5 * (v - oldLogp[i]) ** 2);
  return { loss, clipFraction: maskedMeanOf(clipped, mask), approxKl: maskedMeanOf(kl2, mask) };
}

/**
 * PPO's clipped value loss: values (B, T) new predictions (differentiable), oldValues and returns (B·T) from
 * the rollout, mask (B·T), cliprangeValue (TRL default 0.2). → ½·masked mean of the larger squared error,
 * and the fraction of tokens where the clipped error was larger (TRL's vf_clipfrac).
 */
export function ppoValueLoss(values: Tensor, oldValues: ArrayLike<number>, returns: ArrayLike<number>, mask: Float32Array, cliprangeValue = 0.2): { loss: Tensor; clipFraction: number } {
  const n = values.size;
  check('oldValues', oldValues, n, 'ppoValueLoss');
  check('returns', returns, n, 'ppoValueLoss');
  const R = constant(returns, values.shape);
  const lo = Float32Array.from(oldValues, (v) => v - cliprangeValue), hi = Float32Array.from(oldValues, (v) => v + cliprangeValue);
  const e1 = pow(sub(values, R), 2), e2 = pow(sub(clampBetween(values, lo, hi), R), 2);
  const loss = mul(maskedMean(maxOf(e1, e2), mask, 'ppoValueLoss'), 0.5);
  const clipped = Float32Array.from(e1.data, (v, i) => (e2.data[i] > v ? 1 : 0));
  return { loss, clipFraction: maskedMeanOf(clipped, mask) };
}

/** ½·mean((logπ − logπ_old)²): over the mask when given, else over every element (TRL's approxkl). */
export function approxKl(logp: ArrayLike<number>, oldLogp: ArrayLike<number>, mask?: ArrayLike<number>): number {
  check('oldLogp', oldLogp, logp.length, 'approxKl');
  const sq = Float32Array.from(logp, (v, i) => 0.5 * (v - oldLogp[i]) ** 2);
  return maskedMeanOf(sq, mask ?? new Float32Array(sq.length).fill(1));
}
