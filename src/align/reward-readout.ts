// How a reward model turns its backbone's outputs into one score per sequence. 'last' is TRL's
// AutoModelForSequenceClassification head: r = w·f_last + b on the last token's logits. 'last+loglik' adds a
// likelihood term: the response tokens' log-probabilities under the backbone (the quantity DPO's implicit
// reward β·log π(y|x) is made of), each weighted by a gate read from the logits that predicted it,
//   r = w·f_last + b + Σ_t (u·f_t + c)·log p(y_t | x, y_<t),
// so the head can count the tokens where the model's own expectation decides (a fact's word) and ignore
// those where it does not (a response's first token, which depends on its format). The gate u, c starts at
// 0, so training starts from TRL's head. On the built-in set it reached in 300 steps (82.4 % held-out pairwise
// accuracy) what the last-token head reached in 600 (80.2 %); neither checks sums, which the backbone itself
// does not know (issue #10). Browser-safe.
import { Tensor } from '../tensor/tensor.js';

export type RewardReadout = 'last' | 'last+loglik';
export const REWARD_READOUTS: readonly RewardReadout[] = ['last', 'last+loglik'];

/**
 * Next-token targets of the response tokens and their mask: idx (B, T) right-padded rows whose response
 * occupies positions first[b] … last[b] (last[b] the closing <|end|>) → y (B·T) with y[b, t] = idx[b, t + 1]
 * for first[b] − 1 ≤ t < last[b], else −1, and mask (B·T) 1 at those positions.
 * Throws when a range does not fit 1 ≤ first[b] ≤ last[b] < T.
 */
export function responseTargets(idx: Int32Array, B: number, T: number, first: ArrayLike<number>, last: ArrayLike<number>): { y: Int32Array; mask: Float32Array } {
  const y = new Int32Array(B * T).fill(-1), mask = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    if (!(Number.isInteger(first[b]) && Number.isInteger(last[b]) && first[b] >= 1 && first[b] <= last[b] && last[b] < T)) throw new Error(`reward readout: row ${b}: response [${first[b]}, ${last[b]}] does not fit a row of ${T} tokens after a prompt`);
    for (let t = first[b] - 1; t < last[b]; t++) {
      y[b * T + t] = idx[b * T + t + 1];
      mask[b * T + t] = 1;
    }
  }
  return { y, mask };
}

/**
 * The gated likelihood term: logits f (B, T, V), nll (B, T) per-token negative log-likelihoods, mask (B·T),
 * gate weights u (V) and bias c (1) → (B), out[b] = Σ_t mask·(u·f[b, t] + c)·(−nll[b, t]). Differentiable in
 * f, nll, u and c.
 */
export function gatedLogLikelihood(f: Tensor, nll: Tensor, mask: Float32Array, u: Tensor, c: Tensor): Tensor {
  const [B, T, V] = f.shape;
  const out = new Float32Array(B), gate = new Float32Array(B * T);
  for (let i = 0; i < B * T; i++) {
    if (!mask[i]) continue;
    let g = c.data[0];
    for (let v = 0; v < V; v++) g += u.data[v] * f.data[i * V + v];
    gate[i] = g;
    out[Math.floor(i / T)] -= g * nll.data[i];
  }
  return Tensor.fromOp(out, [B], [f, nll, u, c], (o) => {
    const gf = f.gradBuf(), gn = nll.gradBuf(), gu = u.gradBuf(), gc = c.gradBuf();
    for (let i = 0; i < B * T; i++) {
      if (!mask[i]) continue;
      const go = o.grad![Math.floor(i / T)], lp = -nll.data[i];
      gn[i] -= gate[i] * go;
      gc[0] += lp * go;
      for (let v = 0; v < V; v++) {
        gf[i * V + v] += lp * u.data[v] * go;
        gu[v] += lp * f.data[i * V + v] * go;
      }
    }
  });
}
