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
// the trainers and what they stand on (browser-safe; the run-folder jobs are the *.node.ts files beside them)
export { RewardModel, type RewardConfig } from './reward-model.js';
export { rewardModelType, registerRewardModelType } from './reward-type.js';
export { RewardModelObjective, pairLoss } from './reward-objective.js';
export { DPOObjective, pairLogProbs } from './dpo-objective.js';
export { DistillationObjective, distillationKl, type DistillOptions } from './distill.js';
export { GRPOTrainer, GRPO_DEFAULTS, type GRPOConfig, type RLStepLog } from './grpo-trainer.js';
export { PPOTrainer, PPO_DEFAULTS, ValueHead, adaptiveKlCoef, type PPOConfig } from './ppo-trainer.js';
export { sampleRollout, rolloutLogProbs, fitPrompts, type Rollout, type SampleOptions } from './rollout.js';
export { evaluatePolicy, type RewardEval } from './rl-eval.js';
export { encodePairs, pairBatch, encodePrompt, type EncodedPair, type PairBatch } from './pairs.js';
export {
  exactMatchReward, formatReward, answersMatch, parseNumber, extractBoxed, extractSolution, finalAnswer, lastNumber, namedReward, checkedReward,
  type RewardFn,
} from './rewards.js';
export { ruleRewardPrompts, rewardModelFn } from './reward-sources.js';
export { adaptModel, mergedCopy, hasLora, type AdaptOptions, type LoraOptions } from './adapt.js';
export { cloneModel } from './clone.js';
export { pickPositions } from './gather.js';
