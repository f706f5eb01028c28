// Reward-model training as an objective for the one Trainer (src/train/trainer.ts): batches of preference
// pairs, each scored chosen and rejected by the RewardModel at its last token, under the Bradley–Terry loss
// −logσ(r_c − r_r) (rewardModelLoss; InstructGPT §3.5, TRL RewardTrainer). Evaluation: the mean loss over
// the held-out pairs and their pairwise accuracy (r_c > r_r) and mean margin as metrics. Browser-safe.
import type { LanguageModel } from '../models/model.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { stepScope } from '../backend/storage.js';
import type { Evaluation, Objective, ObjectiveSettings } from '../train/objective.js';
import { chunkPairs } from './logprobs.js';
import { rewardModelLoss } from './reward.js';
import { RewardModel } from './reward-model.js';
import { pairBatch, type EncodedPair } from './pairs.js';

function asRewardModel(model: LanguageModel): RewardModel {
  if (!(model instanceof RewardModel)) throw new Error(`reward-model training needs a RewardModel, got a ${model.type} model`);
  return model;
}

/** the loss, accuracy and margin of one batch of pairs */
export function pairLoss(model: RewardModel, pairs: readonly EncodedPair[], opts: { centerRewardsCoefficient?: number } = {}): { loss: Tensor; accuracy: number; margin: number; tokens: number } {
  const b = pairBatch(pairs);
  const [rc, rr] = chunkPairs(model.rewards(b.x, b.rows, b.T, b.last));
  return { ...rewardModelLoss(rc, rr, opts), tokens: b.rows * b.T };
}

export class RewardModelObjective implements Objective {
  readonly name = 'reward-model';
  readonly lossLabel = 'pairwise loss −logσ(r_c − r_r)';

  constructor(readonly train: readonly EncodedPair[], readonly dev: readonly EncodedPair[], readonly opts: { centerRewardsCoefficient?: number } = {}) {}

  dataSeed(seed: number): number {
    return seed;
  }

  check(model: LanguageModel): void {
    asRewardModel(model);
    if (!this.train.length) throw new Error('reward model: no usable training pairs (all malformed or longer than the context)');
  }

  trainLoss(model: LanguageModel, rng: Rng, s: ObjectiveSettings): { loss: Tensor; tokens: number } {
    const picks = Array.from({ length: s.batchSize }, () => this.train[rng.int(this.train.length)]);
    const r = pairLoss(asRewardModel(model), picks, this.opts);
    return { loss: r.loss, tokens: r.tokens };
  }

  /** mean loss, pairwise accuracy and margin over a set of pairs, in batches */
  score(model: LanguageModel, set: readonly EncodedPair[], batchSize: number): { loss: number; accuracy: number; margin: number } {
    const rm = asRewardModel(model);
    let loss = 0, acc = 0, margin = 0;
    for (let i = 0; i < set.length; i += batchSize) {
      const group = set.slice(i, i + batchSize);
      const r = stepScope(() => {
        const o = pairLoss(rm, group, this.opts);
        return { loss: o.loss.item(), accuracy: o.accuracy, margin: o.margin };
      });
      loss += r.loss * group.length;
      acc += r.accuracy * group.length;
      margin += r.margin * group.length;
    }
    return { loss: loss / set.length, accuracy: acc / set.length, margin: margin / set.length };
  }

  /** dev loss with held-out pairwise accuracy and margin; without dev pairs, the same on up to 64 training pairs */
  evaluate(model: LanguageModel, _rng: Rng, s: ObjectiveSettings): Evaluation {
    const dev = this.dev.length > 0;
    const r = this.score(model, dev ? this.dev : this.train.slice(0, 64), s.batchSize);
    const metrics = { accuracy: r.accuracy, margin: r.margin };
    return dev ? { dev: r.loss, metrics } : { train: r.loss, metrics };
  }
}
