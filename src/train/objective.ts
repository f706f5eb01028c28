// An objective is what a training run optimises: where its batches come from, the loss of a batch, and how
// it is evaluated. The Trainer (src/train/trainer.ts) owns everything else — the loop, the optimizer and
// schedule, evaluation cadence, early stopping, NaN checks, samples, state for resuming — so pretraining,
// SFT and the alignment objectives (reward model, DPO, distillation) are each one small class.
import type { LanguageModel } from '../models/model.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';

/** the settings an objective may read (a subset of the trainer's config) */
export interface ObjectiveSettings {
  batchSize: number;
  /** batches per loss estimate, for objectives that estimate from random batches */
  evalIters: number;
}

/** Mean losses of one evaluation; `dev` is absent when the objective has no held-out data. */
export interface Evaluation {
  train?: number;
  dev?: number;
  /** further numbers to log (accuracy, reward margin, …) */
  metrics?: Record<string, number>;
}

export interface Objective {
  /** 'pretrain', 'sft', … — stored in checkpoints' meta */
  readonly name: string;
  /** what the loss measures, for logs and plot axes */
  readonly lossLabel: string;
  /** the seed of the trainer's data stream, from the run's seed */
  dataSeed(seed: number): number;
  /** throws a one-line reason when the data cannot feed this model (too short for a block, empty, …) */
  check(model: LanguageModel, s: ObjectiveSettings): void;
  /** the loss of one training batch drawn with `rng`, and how many tokens it holds (for tokens/s) */
  trainLoss(model: LanguageModel, rng: Rng, s: ObjectiveSettings): { loss: Tensor; tokens: number };
  /** evaluates without gradients (the trainer sets eval mode and a no-grad scope) */
  evaluate(model: LanguageModel, rng: Rng, s: ObjectiveSettings): Evaluation;
}
