// The reward model's pairwise loss (Ouyang et al. 2022, InstructGPT §3.5; the Bradley–Terry model), as TRL's
// RewardTrainer.compute_loss: with scalar rewards r_c, r_r for the chosen and rejected completion of each pair,
//   loss = mean(−logσ(r_c − r_r − margin))  + c · mean((r_c + r_r)²)
// where the optional per-pair margin comes from the data and the optional center_rewards_coefficient c
// (Eisenstein et al. 2023) keeps rewards centred on zero. Logged: accuracy (r_c > r_r) and the mean margin.
import { Tensor } from '../tensor/tensor.js';
import { add, mul, neg, pow, sub } from '../tensor/elementwise.js';
import { mean } from '../tensor/shape.js';
import { constant, logSigmoid } from './ops.js';

export interface RewardLossOptions {
  /** (B) per-pair margins subtracted inside the sigmoid (TRL's `margin` column) */
  margin?: ArrayLike<number>;
  /** TRL's center_rewards_coefficient (default none) */
  centerRewardsCoefficient?: number;
}

export interface RewardLossOutput {
  /** scalar */
  loss: Tensor;
  /** fraction of pairs with r_c > r_r */
  accuracy: number;
  /** mean of r_c − r_r */
  margin: number;
}

/**
 * rChosen, rRejected: (B) scalar rewards, differentiable. Throws on mismatched shapes or a margin of the
 * wrong length.
 */
export function rewardModelLoss(rChosen: Tensor, rRejected: Tensor, opts: RewardLossOptions = {}): RewardLossOutput {
  const B = rChosen.size;
  if (rChosen.ndim !== 1 || B === 0) throw new Error(`rewardModelLoss: rChosen must be a non-empty (B) tensor, got [${rChosen.shape}]`);
  if (rRejected.ndim !== 1 || rRejected.size !== B) throw new Error(`rewardModelLoss: rRejected must be (${B}), got [${rRejected.shape}]`);
  let d = sub(rChosen, rRejected); // (B)
  const raw = d.data.slice();
  if (opts.margin !== undefined) {
    if (opts.margin.length !== B) throw new Error(`rewardModelLoss: margin has ${opts.margin.length} values for ${B} pairs`);
    d = sub(d, constant(opts.margin, [B]));
  }
  let loss = mean(neg(logSigmoid(d)));
  const c = opts.centerRewardsCoefficient;
  if (c !== undefined && c !== null) {
    if (!Number.isFinite(c)) throw new Error(`rewardModelLoss: centerRewardsCoefficient must be a number, got ${c}`);
    loss = add(loss, mul(mean(pow(add(rChosen, rRejected), 2)), c));
  }
  let correct = 0, m = 0;
  for (let b = 0; b < B; b++) {
    if (raw[b] > 0) correct++;
    m += raw[b];
  }
  return { loss, accuracy: correct / B, margin: m / B };
}
