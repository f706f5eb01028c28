// Fine-tuning objectives for BERT's task heads on the one Trainer: sequence classification (one label per
// text, scored by accuracy and macro F1) and token classification (one tag per token, scored by seqeval's
// entity-level F1 and token accuracy). Batches are random examples, right-padded with an attention mask;
// evaluation runs over the whole dev set. Prediction helpers serve the CLI. Browser-safe.
import type { LanguageModel } from '../models/model.js';
import { BertForSequenceClassification, BertForTokenClassification } from '../models/bert-heads.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { stepScope } from '../backend/storage.js';
import { padBatch, type EncodedText } from '../data/classification-data.js';
import type { EncodedTagging } from '../data/tagging-data.js';
import { MLM_IGNORE } from '../data/mlm-masking.js';
import { classificationMetrics } from '../eval/classification.js';
import { seqevalReport } from '../eval/seqeval.js';
import type { Evaluation, Objective, ObjectiveSettings } from './objective.js';

/** index of the largest of row r's C values */
function argmaxRow(data: Float32Array, r: number, C: number): number {
  let best = 0;
  for (let c = 1; c < C; c++) if (data[r * C + c] > data[r * C + best]) best = c;
  return best;
}

/** rows of `items` in batches of `batchSize`: fn gets each batch and its offset */
function inBatches<T>(items: readonly T[], batchSize: number, fn: (batch: readonly T[], offset: number) => void): void {
  for (let i = 0; i < items.length; i += batchSize) fn(items.slice(i, i + batchSize), i);
}

/**
 * Class scores of texts: softmax probabilities (rows × classes) and argmax classes, in batches, no gradients
 * needed (the caller sets eval mode and noGrad). Returns the mean loss too when every item has a label.
 */
export function predictClasses(model: BertForSequenceClassification, items: readonly EncodedText[], padId: number, batchSize = 32): { pred: Int32Array; probs: Float32Array; loss: number } {
  const C = model.config.labels.length;
  const pred = new Int32Array(items.length), probs = new Float32Array(items.length * C);
  let loss = 0;
  inBatches(items, batchSize, (batch, off) => stepScope(() => {
    const b = padBatch(batch.map((e) => e.ids), padId);
    const out = model.run({ ids: b.ids, B: b.B, T: b.T, attentionMask: b.mask }, batch.map((e) => e.label));
    loss += out.loss!.item() * batch.length;
    batch.forEach((_, r) => {
      pred[off + r] = argmaxRow(out.logits.data, r, C);
      let m = -Infinity, s = 0;
      for (let c = 0; c < C; c++) m = Math.max(m, out.logits.data[r * C + c]);
      for (let c = 0; c < C; c++) s += Math.exp(out.logits.data[r * C + c] - m);
      for (let c = 0; c < C; c++) probs[(off + r) * C + c] = Math.exp(out.logits.data[r * C + c] - m) / s;
    });
  }));
  return { pred, probs, loss: loss / items.length };
}

export class SequenceClassification implements Objective {
  readonly name = 'classify';
  readonly lossLabel = 'cross-entropy (nats/example)';

  /** train and dev examples encoded by encodeTexts; padId: [PAD]'s id */
  constructor(readonly train: readonly EncodedText[], readonly dev: readonly EncodedText[], readonly labels: readonly string[], readonly padId: number) {}

  dataSeed(seed: number): number {
    return seed ^ 0x2c1b3c6d;
  }

  check(model: LanguageModel): void {
    if (!(model instanceof BertForSequenceClassification)) throw new Error(`classification needs a bert-seq-cls model, got ${model.type}`);
    if (model.config.labels.length !== this.labels.length) throw new Error(`the model has ${model.config.labels.length} labels, the data ${this.labels.length}`);
    if (!this.train.length) throw new Error('classification: no training examples');
  }

  trainLoss(model: LanguageModel, rng: Rng, s: ObjectiveSettings): { loss: Tensor; tokens: number } {
    const picks = Array.from({ length: s.batchSize }, () => this.train[rng.int(this.train.length)]);
    const b = padBatch(picks.map((e) => e.ids), this.padId);
    const out = (model as BertForSequenceClassification).run({ ids: b.ids, B: b.B, T: b.T, attentionMask: b.mask }, picks.map((e) => e.label));
    return { loss: out.loss!, tokens: b.B * b.T };
  }

  /** loss, accuracy and macro F1 over the dev set (the first 256 training examples without one) */
  evaluate(model: LanguageModel, _rng: Rng, s: ObjectiveSettings): Evaluation {
    const set = this.dev.length ? this.dev : this.train.slice(0, 256);
    const r = predictClasses(model as BertForSequenceClassification, set, this.padId, s.batchSize);
    const m = classificationMetrics(set.map((e) => e.label), r.pred, this.labels);
    const metrics = { accuracy: m.accuracy, 'macro F1': m.macro.f1 };
    return this.dev.length ? { dev: r.loss, metrics } : { train: r.loss, metrics };
  }
}

/**
 * Tags of sentences: per token the argmax tag at its first piece (tags[0], 'O' by convention, for a token
 * without pieces), and the mean loss over labelled pieces when labels are present.
 */
export function predictTags(model: BertForTokenClassification, items: readonly EncodedTagging[], tags: readonly string[], padId: number, batchSize = 32): { tags: string[][]; loss: number } {
  const C = tags.length, out: string[][] = [];
  let loss = 0, weight = 0;
  inBatches(items, batchSize, (batch) => stepScope(() => {
    const b = padBatch(batch.map((e) => e.ids), padId);
    const labels = new Int32Array(b.B * b.T).fill(MLM_IGNORE);
    batch.forEach((e, r) => e.labels.forEach((l, t) => (labels[r * b.T + t] = l)));
    const n = labels.reduce((c, l) => c + (l >= 0 ? 1 : 0), 0);
    const res = model.run({ ids: b.ids, B: b.B, T: b.T, attentionMask: b.mask }, n ? labels : undefined);
    if (n) (loss += res.loss!.item() * n), (weight += n);
    batch.forEach((e, r) => out.push(e.first.map((p) => (p < 0 ? tags[0] : tags[argmaxRow(res.logits.data, r * b.T + p, C)]))));
  }));
  return { tags: out, loss: weight ? loss / weight : NaN };
}

export class TokenClassification implements Objective {
  readonly name = 'tag';
  readonly lossLabel = 'cross-entropy (nats/token)';

  /** encoded sentences (encodeTagged) with their gold tags for the dev set's entity scores */
  constructor(
    readonly train: readonly EncodedTagging[], readonly dev: readonly EncodedTagging[], readonly devGold: readonly string[][],
    readonly tags: readonly string[], readonly padId: number,
  ) {}

  dataSeed(seed: number): number {
    return seed ^ 0x6d2b79f5;
  }

  check(model: LanguageModel): void {
    if (!(model instanceof BertForTokenClassification)) throw new Error(`tagging needs a bert-token-cls model, got ${model.type}`);
    if (model.config.labels.length !== this.tags.length) throw new Error(`the model has ${model.config.labels.length} tags, the data ${this.tags.length}`);
    if (!this.train.length) throw new Error('tagging: no training sentences');
    if (this.dev.length !== this.devGold.length) throw new Error('tagging: dev sentences and gold tags differ in number');
  }

  trainLoss(model: LanguageModel, rng: Rng, s: ObjectiveSettings): { loss: Tensor; tokens: number } {
    const picks = Array.from({ length: s.batchSize }, () => this.train[rng.int(this.train.length)]);
    const b = padBatch(picks.map((e) => e.ids), this.padId);
    const labels = new Int32Array(b.B * b.T).fill(MLM_IGNORE);
    picks.forEach((e, r) => e.labels.forEach((l, t) => (labels[r * b.T + t] = l)));
    const out = (model as BertForTokenClassification).run({ ids: b.ids, B: b.B, T: b.T, attentionMask: b.mask }, labels);
    return { loss: out.loss!, tokens: b.B * b.T };
  }

  /** loss, entity F1 (seqeval default mode, micro) and token accuracy over the dev set */
  evaluate(model: LanguageModel, _rng: Rng, s: ObjectiveSettings): Evaluation {
    if (!this.dev.length) return { train: predictTags(model as BertForTokenClassification, this.train.slice(0, 256), this.tags, this.padId, s.batchSize).loss };
    const r = predictTags(model as BertForTokenClassification, this.dev, this.tags, this.padId, s.batchSize);
    const rep = seqevalReport(this.devGold, r.tags);
    return { dev: r.loss, metrics: { 'entity F1': rep.micro.f1, 'token accuracy': rep.accuracy } };
  }
}
