// Direct Preference Optimization (Rafailov et al. 2023, "Direct Preference Optimization: Your Language Model
// is Secretly a Reward Model"), as TRL's DPOTrainer computes it: from the summed log-probabilities of the
// chosen and rejected completions under the policy (π) and the frozen reference (ref),
//   Δ = (π_c − ref_c) − (π_r − ref_r)
//   sigmoid:  −logσ(βΔ)                      (with label smoothing ε: −(1−ε)·logσ(βΔ) − ε·logσ(−βΔ), cDPO)
//   robust:   (−(1−ε)·logσ(βΔ) + ε·logσ(−βΔ)) / (1 − 2ε)      (Chowdhury et al. 2024)
//   hinge:    relu(1 − βΔ)                                     (SLiC)
// and the implicit rewards β(π − ref) it logs: rewards/chosen, rewards/rejected, accuracies (chosen > rejected)
// and margins. TRL 1.13's 'sigmoid' ignores label_smoothing; the smoothed form here is TRL's earlier 'sigmoid'
// (≤ 0.x) and its current 'aot' expression, which equals TRL 1.13 exactly at ε = 0.
import { Tensor } from '../tensor/tensor.js';
import { add, mul, neg, relu, sub } from '../tensor/elementwise.js';
import { mean } from '../tensor/shape.js';
import { logSigmoid } from './ops.js';

export type DPOLossType = 'sigmoid' | 'robust' | 'hinge';

export interface DPOOptions {
  /** β, the strength of the pull towards the reference (TRL default 0.1) */
  beta?: number;
  /** ε: the probability that a preference label is flipped (cDPO / robust); [0, 0.5) */
  labelSmoothing?: number;
  lossType?: DPOLossType;
}

export interface DPOOutput {
  /** scalar: the mean of `losses` (TRL's `per_sequence_loss.mean()`) */
  loss: Tensor;
  /** (B) per-pair losses */
  losses: Tensor;
  /** (B) β(π_c − ref_c), detached */
  chosenRewards: Float32Array;
  /** (B) β(π_r − ref_r), detached */
  rejectedRewards: Float32Array;
  /** fraction of pairs with chosen reward > rejected reward (TRL's rewards/accuracies) */
  rewardAccuracy: number;
  /** mean of chosen − rejected rewards (TRL's rewards/margins) */
  rewardMargin: number;
}

function checkPairs(ts: Tensor[]): number {
  const names = ['policyChosen', 'policyRejected', 'refChosen', 'refRejected'];
  const B = ts[0].size;
  ts.forEach((t, i) => {
    if (t.ndim !== 1 || t.size !== B) throw new Error(`dpoLoss: ${names[i]} must be (B) = (${B}), got [${t.shape}]`);
  });
  if (B === 0) throw new Error('dpoLoss: policyChosen is empty');
  return B;
}

/**
 * The DPO loss from sequence log-probabilities (src/align/logprobs.ts): policyChosen, policyRejected,
 * refChosen, refRejected all (B) in nats. Gradients flow into the policy terms (the reference ones are
 * normally computed under noGrad). Throws on mismatched shapes, β ≤ 0 or ε outside [0, 0.5).
 */
export function dpoLoss(policyChosen: Tensor, policyRejected: Tensor, refChosen: Tensor, refRejected: Tensor, opts: DPOOptions = {}): DPOOutput {
  const B = checkPairs([policyChosen, policyRejected, refChosen, refRejected]);
  const beta = opts.beta ?? 0.1, eps = opts.labelSmoothing ?? 0, type = opts.lossType ?? 'sigmoid';
  if (!(beta > 0)) throw new Error(`dpoLoss: beta must be > 0, got ${beta}`);
  if (!(eps >= 0 && eps < 0.5)) throw new Error(`dpoLoss: labelSmoothing must be in [0, 0.5), got ${eps}`);
  const chosenRatio = sub(policyChosen, refChosen); // (B)
  const rejectedRatio = sub(policyRejected, refRejected); // (B)
  const z = mul(sub(chosenRatio, rejectedRatio), beta); // (B) βΔ
  let losses: Tensor;
  if (type === 'sigmoid') {
    losses = neg(logSigmoid(z));
    if (eps > 0) losses = add(mul(losses, 1 - eps), mul(logSigmoid(neg(z)), -eps));
  } else if (type === 'robust') {
    losses = mul(add(mul(logSigmoid(z), -(1 - eps)), mul(logSigmoid(neg(z)), eps)), 1 / (1 - 2 * eps));
  } else if (type === 'hinge') {
    losses = relu(add(neg(z), 1));
  } else throw new Error(`dpoLoss: lossType must be sigmoid, robust or hinge, got ${String(type)}`);
  const chosenRewards = Float32Array.from(chosenRatio.data, (v) => beta * v);
  const rejectedRewards = Float32Array.from(rejectedRatio.data, (v) => beta * v);
  let correct = 0, margin = 0;
  for (let b = 0; b < B; b++) {
    if (chosenRewards[b] > rejectedRewards[b]) correct++;
    margin += chosenRewards[b] - rejectedRewards[b];
  }
  return { loss: mean(losses), losses, chosenRewards, rejectedRewards, rewardAccuracy: correct / B, rewardMargin: margin / B };
}
