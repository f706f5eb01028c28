// Pretraining, as nanoGPT's train.py: random B×T windows of the token stream, next-token cross-entropy, and
// loss estimates over `evalIters` random batches of the training and dev parts (estimate_loss).
import type { LanguageModel } from '../models/model.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { stepScope } from '../backend/storage.js';
import { randomBatch, type TokenSplits } from '../data/dataset.js';
import type { Evaluation, Objective, ObjectiveSettings } from './objective.js';

export class Pretraining implements Objective {
  readonly name = 'pretrain';
  readonly lossLabel = 'loss (nats/token)';

  /** splits: token ids of the train/dev/test parts (src/data/dataset.ts splitTokens) */
  constructor(readonly splits: TokenSplits) {}

  /**
   * A stream of its own: the model's weights were drawn from Rng(seed), and batch offsets must not replay
   * the very uniforms those weights came from.
   */
  dataSeed(seed: number): number {
    return seed ^ 0x5bd1e995;
  }

  check(model: LanguageModel): void {
    const T = model.config.blockSize;
    if (this.splits.train.length < T + 1) {
      throw new Error(`the training split has ${this.splits.train.length} tokens, too few for block size ${T}: use more data or a smaller --block-size`);
    }
  }

  /** true when the dev part holds at least one block (else evaluation reports training loss only) */
  hasDev(model: LanguageModel): boolean {
    return this.splits.dev.length > model.config.blockSize;
  }

  trainLoss(model: LanguageModel, rng: Rng, s: ObjectiveSettings): { loss: Tensor; tokens: number } {
    const T = model.config.blockSize, B = s.batchSize;
    const batch = randomBatch(this.splits.train, B, T, rng);
    return { loss: model.forward(batch.x, B, T, { targets: batch.y }).loss!, tokens: B * T };
  }

  /** mean loss over `iters` random batches of `data` (nanoGPT's estimate_loss); NaN when data < T + 1 */
  estimateLoss(model: LanguageModel, data: Int32Array, rng: Rng, s: ObjectiveSettings): number {
    const T = model.config.blockSize, B = s.batchSize;
    if (data.length < T + 1) return NaN;
    let sum = 0;
    for (let i = 0; i < s.evalIters; i++) {
      const b = randomBatch(data, B, T, rng);
      sum += stepScope(() => model.forward(b.x, B, T, { targets: b.y }).loss!.item());
    }
    return sum / s.evalIters;
  }

  evaluate(model: LanguageModel, rng: Rng, s: ObjectiveSettings): Evaluation {
    const train = this.estimateLoss(model, this.splits.train, rng, s);
    if (!this.hasDev(model)) return { train };
    return { train, dev: this.estimateLoss(model, this.splits.dev, rng, s) };
  }
}
