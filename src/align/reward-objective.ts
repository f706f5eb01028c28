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
import { gather, reshape, sum } from '../tensor/shape.js';
import { add, mul } from '../tensor/elementwise.js';
import { sequenceLogProbs } from './logprobs.js';
import { groupByPrompt, rankingBatch, type EncodedPair, type RankingBatch } from './pairs.js';

function asRewardModel(model: LanguageModel): RewardModel {
  if (!(model instanceof RewardModel)) throw new Error(`reward-model training needs a RewardModel, got a ${model.type} model`);
  return model;
}

/** the reward model's training options beyond the Bradley–Terry loss */
export interface RewardObjectiveOptions {
  /** TRL's center_rewards_coefficient (default none) */
  centerRewardsCoefficient?: number;
  /**
   * Weight of a language-model loss on each ranking's preferred response (default 0, off): the mean
   * per-token NLL of the rows a batch never rejects, added to the pairwise loss. Yang et al. 2024 (GRM,
   * "Regularizing Hidden States Enables Learning Generalizable Reward Model for LLMs"): the SFT loss on
   * chosen responses keeps the backbone's language modelling, and with it what the backbone knows.
   */
  lmCoefficient?: number;
}

/**
 * The loss, accuracy and margin of one batch of pairs. Each distinct (prompt, response) is scored once
 * (rankingBatch), so the comparisons of a ranking cost one forward pass per response; the rewards, and so
 * the loss, are those of scoring every pair's two rows apart (TRL's concatenated chosen/rejected batch).
 * With opts.lmCoefficient > 0 the loss adds that times the preferred responses' language-model loss.
 */
export function pairLoss(model: RewardModel, pairs: readonly EncodedPair[], opts: RewardObjectiveOptions = {}): { loss: Tensor; accuracy: number; margin: number; tokens: number } {
  const b = rankingBatch(pairs);
  const lm = opts.lmCoefficient ?? 0;
  const scored = lm > 0 ? model.rewardsWithLikelihood(b.x, b.rows, b.T, b.last, b.first) : { rewards: model.rewards(b.x, b.rows, b.T, b.last, b.first) };
  const r = reshape(scored.rewards, [b.rows, 1]);
  const pick = (rows: Int32Array): Tensor => reshape(gather(r, rows, [rows.length]), [rows.length]);
  const out = { ...rewardModelLoss(pick(b.chosen), pick(b.rejected), opts), tokens: b.rows * b.T };
  if (!('nll' in scored)) return out;
  return { ...out, loss: add(out.loss, mul(preferredNll(scored.nll, scored.mask, b), lm)) };
}

/**
 * The mean per-token NLL of the preferred responses: rows chosen in some pair of the batch and rejected in
 * none (a ranking's best; a lone pair's chosen), each row's tokens averaged first. nll (rows, T), mask (rows·T) → scalar.
 */
function preferredNll(nll: Tensor, mask: Float32Array, b: RankingBatch): Tensor {
  const rejected = new Set(b.rejected), keep = new Float32Array(mask.length);
  const rows = [...new Set(b.chosen)].filter((row) => !rejected.has(row));
  for (const row of rows) keep.set(mask.subarray(row * b.T, (row + 1) * b.T), row * b.T);
  return mul(sum(sequenceLogProbs(nll, keep, 'mean')), -1 / rows.length);
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

  constructor(readonly train: readonly EncodedPair[], readonly dev: readonly EncodedPair[], readonly opts: RewardObjectiveOptions = {}) {
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

  /** mean pairwise loss (without the language-model term), pairwise accuracy and margin over a set of pairs, in batches */
  score(model: LanguageModel, set: readonly EncodedPair[], batchSize: number): { loss: number; accuracy: number; margin: number } {
    const rm = asRewardModel(model);
    let loss = 0, acc = 0, margin = 0;
    for (let i = 0; i < set.length; i += batchSize) {
      const group = set.slice(i, i + batchSize);
      const r = stepScope(() => {
        const o = pairLoss(rm, group, { ...this.opts, lmCoefficient: 0 }); // the pairwise loss alone, comparable across runs
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
