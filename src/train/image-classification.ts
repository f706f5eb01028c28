// Image classification as an objective on the one Trainer: random minibatches of a labelled ImageSet,
// cross-entropy of the classifier's logits; evaluation over the whole test set (loss and accuracy). The
// prediction helper serves the job, the CLI and the tests. Browser-safe.
import type { LanguageModel } from '../models/model.js';
import { ImageClassifier } from '../models/image-classifier.js';
import type { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { stepScope } from '../backend/storage.js';
import { imageCount, type ImageSet } from '../data/image-set.js';
import type { Evaluation, Objective, ObjectiveSettings } from './objective.js';

/** the images at `rows` as a (B, 1, H, W) tensor and their labels */
export function imageBatch(s: ImageSet, rows: ArrayLike<number>): { x: Tensor; y: Int32Array } {
  const px = s.height * s.width, x = new Float32Array(rows.length * px), y = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    x.set(s.images.subarray(rows[i] * px, (rows[i] + 1) * px), i * px);
    y[i] = s.labels[rows[i]];
  }
  return { x: new Tensor(x, [rows.length, 1, s.height, s.width]), y };
}

/**
 * Argmax classes of every image (N) and the mean loss, in batches; the caller sets eval mode and noGrad.
 */
export function predictImages(model: ImageClassifier, s: ImageSet, batchSize = 128): { pred: Int32Array; loss: number } {
  const N = imageCount(s), C = model.config.classes.length, pred = new Int32Array(N);
  let loss = 0;
  for (let i = 0; i < N; i += batchSize) {
    const rows = Array.from({ length: Math.min(batchSize, N - i) }, (_, k) => i + k);
    stepScope(() => {
      const b = imageBatch(s, rows), out = model.loss(b.x, b.y), d = out.logits.data;
      loss += out.loss.item() * rows.length;
      rows.forEach((_, r) => {
        let best = 0;
        for (let c = 1; c < C; c++) if (d[r * C + c] > d[r * C + best]) best = c;
        pred[i + r] = best;
      });
    });
  }
  return { pred, loss: loss / N };
}

/** the share of predictions equal to the labels */
export function accuracyOf(pred: Int32Array, labels: Int32Array): number {
  let ok = 0;
  for (let i = 0; i < pred.length; i++) ok += pred[i] === labels[i] ? 1 : 0;
  return pred.length ? ok / pred.length : NaN;
}

export class ImageClassification implements Objective {
  readonly name = 'image-classification';
  readonly lossLabel = 'cross-entropy (nats/image)';

  /** `test` may be empty: evaluation then scores the first 512 training images */
  constructor(readonly train: ImageSet, readonly test: ImageSet) {}

  dataSeed(seed: number): number {
    return seed ^ 0x5bd1e995;
  }

  check(model: LanguageModel): void {
    if (!(model instanceof ImageClassifier)) throw new Error(`image classification needs an image classifier, got ${model.type}`);
    const c = model.config;
    if (c.height !== this.train.height || c.width !== this.train.width) throw new Error(`the model takes ${c.height}×${c.width} images, the data has ${this.train.height}×${this.train.width}`);
    if (c.classes.length !== this.train.classes.length) throw new Error(`the model has ${c.classes.length} classes, the data ${this.train.classes.length}`);
    if (!imageCount(this.train)) throw new Error('image classification: no training images');
  }

  trainLoss(model: LanguageModel, rng: Rng, s: ObjectiveSettings): { loss: Tensor; tokens: number } {
    const n = imageCount(this.train), rows = Array.from({ length: s.batchSize }, () => rng.int(n));
    const b = imageBatch(this.train, rows);
    return { loss: (model as ImageClassifier).loss(b.x, b.y).loss, tokens: s.batchSize };
  }

  /** test loss and accuracy (train loss and accuracy on up to 512 training images without a test set) */
  evaluate(model: LanguageModel): Evaluation {
    const onTest = imageCount(this.test) > 0;
    const set = onTest ? this.test : { ...this.train, labels: this.train.labels.subarray(0, 512) };
    const r = predictImages(model as ImageClassifier, set);
    const metrics = { accuracy: accuracyOf(r.pred, set.labels) };
    return onTest ? { dev: r.loss, metrics } : { train: r.loss, metrics };
  }
}
