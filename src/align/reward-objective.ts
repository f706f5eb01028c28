// Reward-model training as an objective for the one Trainer (src/train/trainer.ts): batches of preference
// pairs, each scored chosen and rejected by the RewardModel at its last token, under the Bradley–Terry loss
// −logσ(r_c − r_r) (rewardModelLoss; InstructGPT §3.5, TRL RewardTrainer). Evaluation: the mean loss over
// the held-out pairs and their pairwise accuracy (r_c > r_r) and mean margin as metrics. Browser-safe.
import type { LanguageModel } from '../models/model.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { stepScope } from '../backend/storage.js';
import { noGrad } from '../tensor/tensor.js';
import type { Evaluation, Objective, ObjectiveSettings } from '../train/objective.js';
import { rewardModelLoss } from './reward.js';
import { RewardModel } from './reward-model.js';
import { gather, reshape } from '../tensor/shape.js';
import { groupByPrompt, rankingBatch, type EncodedPair } from './pairs.js';

function asRewardModel(model: LanguageModel): RewardModel {
  if (!(model instanceof RewardModel)) throw new Error(`reward-model training needs a RewardModel, got a ${model.type} model`);
  return model;
}

/**
 * The loss, accuracy and margin of one batch of pairs. Each distinct (prompt, response) is scored once
 * (rankingBatch), so the comparisons of a ranking cost one forward pass per response; the rewards, and so
 * the loss, are those of scoring every pair's two rows apart (TRL's concatenated chosen/rejected batch).
 */
export function pairLoss(model: RewardModel, pairs: readonly EncodedPair[], opts: { centerRewardsCoefficient?: number } = {}): { loss: Tensor; accuracy: number; margin: number; tokens: number } {
  const b = rankingBatch(pairs);
  const r = reshape(model.rewards(b.x, b.rows, b.T, b.last, b.first), [b.rows, 1]);
  const pick = (rows: Int32Array): Tensor => reshape(gather(r, rows, [rows.length]), [rows.length]);
  return { ...rewardModelLoss(pick(b.chosen), pick(b.rejected), opts), tokens: b.rows * b.T };
}

/** right/total counts of pairs with r_c > r_r, per label */
export type AccuracyByLabel = Record<string, { right: number; total: number }>;

/** r_c − r_r for every pair of a set, scored in batches without gradients */
export function pairMargins(model: RewardModel, set: readonly EncodedPair[], batchSize: number): Float32Array {
  const out = new Float32Array(set.length);
  for (let i = 0; i < set.length; i += batchSize) {
    const group = set.slice(i, i + batchSize);
    stepScope(() => {
      const b = rankingBatch(group);
      const r = model.rewards(b.x, b.rows, b.T, b.last, b.first).data;
      for (let k = 0; k < group.length; k++) out[i + k] = r[b.chosen[k]] - r[b.rejected[k]];
    });
  }
  return out;
}

/** pairwise accuracy per label (a tie r_c = r_r counts as wrong, as the accuracy metric); pairs without the label are left out */
export function accuracyBy(set: readonly EncodedPair[], margins: Float32Array, label: (p: EncodedPair) => string | undefined): AccuracyByLabel {
  const out: AccuracyByLabel = {};
  set.forEach((p, i) => {
    const l = label(p);
    if (l === undefined) return;
    const e = (out[l] ??= { right: 0, total: 0 });
    e.total++;
    if (margins[i] > 0) e.right++;
  });
  return out;
}

/** 'right answer 38/40, format 12/12, …': counts per label, largest groups first */
export function accuracyLine(acc: AccuracyByLabel): string {
  return Object.entries(acc).sort((a, b) => b[1].total - a[1].total).map(([k, v]) => `${k} ${v.right}/${v.total}`).join(', ');
}

export class RewardModelObjective implements Objective {
  readonly name = 'reward-model';
  readonly lossLabel = 'pairwise loss −logσ(r_c − r_r)';

  /** the training pairs grouped by prompt: a step draws prompts and takes all their comparisons */
  private readonly groups: EncodedPair[][];

  constructor(readonly train: readonly EncodedPair[], readonly dev: readonly EncodedPair[], readonly opts: { centerRewardsCoefficient?: number } = {}) {
    this.groups = groupByPrompt(train);
  }

  dataSeed(seed: number): number {
    return seed;
  }

  check(model: LanguageModel): void {
    asRewardModel(model);
    if (!this.train.length) throw new Error('reward model: no usable training pairs (all malformed or longer than the context)');
  }

  /**
   * A step's loss: `batchSize` prompts drawn at random, each with every training comparison of it (InstructGPT
   * §3.5: a prompt's comparisons in one batch element, which also keeps the model from overfitting to pairs
   * seen apart); with one pair per prompt this is `batchSize` pairs, as TRL's RewardTrainer.
   */
  trainLoss(model: LanguageModel, rng: Rng, s: ObjectiveSettings): { loss: Tensor; tokens: number } {
    const picks = Array.from({ length: s.batchSize }, () => this.groups[rng.int(this.groups.length)]).flat();
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

  /** held-out pairwise accuracy per question kind and per comparison (built-in data labels its pairs); the model in eval mode, no gradients */
  breakdown(model: LanguageModel, batchSize: number): { byKind: AccuracyByLabel; byComparison: AccuracyByLabel } {
    const rm = asRewardModel(model), set = this.dev.length ? this.dev : this.train.slice(0, 64);
    const was = rm.training;
    rm.eval();
    try {
      const m = noGrad(() => pairMargins(rm, set, batchSize));
      return { byKind: accuracyBy(set, m, (p) => p.kind), byComparison: accuracyBy(set, m, (p) => p.comparison) };
    } finally {
      rm.train(was);
    }
  }

  /** dev loss with held-out pairwise accuracy and margin; without dev pairs, the same on up to 64 training pairs */
  evaluate(model: LanguageModel, _rng: Rng, s: ObjectiveSettings): Evaluation {
    const dev = this.dev.length > 0;
    const r = this.score(model, dev ? this.dev : this.train.slice(0, 64), s.batchSize);
    const metrics = { accuracy: r.accuracy, margin: r.margin };
    return dev ? { dev: r.loss, metrics } : { train: r.loss, metrics };
  }
}
