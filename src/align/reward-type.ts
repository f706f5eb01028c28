// The 'reward' model type for the registry (src/models/registry.ts): a checkpoint whose config.json says
// `"model_type": "reward"` holds a RewardModel (src/align/reward-model.ts), its config naming the backbone's
// type and config. models/ cannot import align/ (test/layers.test.ts), so whoever needs reward checkpoints
// registers the type: `registerRewardModelType()` (the align commands do; idempotent).
import { modelType, registerModelType, type ModelType } from '../models/registry.js';
import { RewardModel, type RewardConfig } from './reward-model.js';
import { REWARD_READOUTS, type RewardReadout } from './reward-readout.js';

function validateReward(raw: Record<string, unknown>): RewardConfig {
  const baseType = raw.baseType;
  if (typeof baseType !== 'string' || baseType === 'reward') throw new Error(`model config: baseType must name a language-model type, got ${JSON.stringify(baseType)}`);
  if (!raw.base || typeof raw.base !== 'object' || Array.isArray(raw.base)) throw new Error('model config: base must be the backbone\'s config object');
  const base = modelType(baseType).validate(raw.base as Record<string, unknown>) as RewardConfig['base'];
  if (raw.readout !== undefined && !REWARD_READOUTS.includes(raw.readout as RewardReadout)) throw new Error(`model config: readout must be one of ${REWARD_READOUTS.join(', ')}, got ${JSON.stringify(raw.readout)}`);
  return { vocabSize: base.vocabSize, blockSize: base.blockSize, baseType, base, ...(raw.readout === undefined ? {} : { readout: raw.readout as RewardReadout }) };
}

export const rewardModelType: ModelType<RewardConfig> = {
  type: 'reward',
  description: 'reward model: a language-model backbone with a scalar head on the last token, optionally plus gated response log-likelihoods (Bradley–Terry)',
  presets: {},
  defaultPreset: '',
  overridable: {},
  validate: validateReward,
  create: (c, seed) => {
    const t = modelType(c.baseType);
    return new RewardModel(t.create(t.validate(c.base), seed), seed, c.readout ?? 'last');
  },
  // token-indexed parameters of the backbone types (GPT, LLaMA); names a backbone lacks are ignored
  vocabParameters: ['transformer.wte.weight', 'model.embed_tokens.weight', 'lm_head.weight'],
};

/** Registers the 'reward' type once (checkpoints of reward models load after this). */
export function registerRewardModelType(): void {
  try {
    modelType('reward');
  } catch {
    registerModelType(rewardModelType);
  }
}
