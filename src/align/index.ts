// The alignment toolkit: sequence log-probabilities, DPO, the reward model's pairwise loss, PPO and GRPO.
export { sequenceLogProbs, tokenLogProbs, completionMask, chunkPairs } from './logprobs.js';
export { dpoLoss, type DPOOptions, type DPOOutput, type DPOLossType } from './dpo.js';
export { rewardModelLoss, type RewardLossOptions, type RewardLossOutput } from './reward.js';
export {
  gae, ppoAdvantages, maskedWhiten, maskedVar, maskedMeanOf, klPenaltyRewards, ppoPolicyLoss, ppoValueLoss, approxKl,
  type PolicyLossOutput,
} from './ppo.js';
export { grpoAdvantages, grpoLoss, type GRPOScale, type GRPOLossType, type GRPOLossOptions, type GRPOLossOutput } from './grpo.js';
export { logSigmoid, clamp, clampBetween, maxOf, minOf, maskedMean, entropyFromLogits } from './ops.js';
