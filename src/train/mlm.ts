// Masked-language-model pretraining as an objective on the one Trainer (Devlin et al. 2019, §3.1): text is
// cut into [CLS] … [SEP] sequences of at most blockSize pieces; each training batch draws sequences at random,
// pads them, and corrupts them afresh (src/data/mlm-masking.ts: 15% selected, 80/10/10); the loss is the
// cross-entropy on the selected tokens only. Evaluation masks the dev sequences with a fixed seed, so every
// evaluation scores the same corruption, and reports masked-token accuracy beside a unigram baseline (always
// guessing the most frequent training token). Browser-safe.
import type { LanguageModel } from '../models/model.js';
import { BertForMaskedLM } from '../models/bert-heads.js';
import { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { stepScope } from '../backend/storage.js';
import type { WordPieceTokenizer } from '../tokenizers/wordpiece.js';
import { padBatch } from '../data/classification-data.js';
import { MLM_IGNORE, maskTokens, wordPieceContinuation, type MlmMaskingOptions } from '../data/mlm-masking.js';
import type { Evaluation, Objective, ObjectiveSettings } from './objective.js';

/**
 * Lines of `text` → WordPiece ids, packed greedily into sequences [CLS] a b … [SEP] of at most blockSize ids
 * (lines joined until the next would not fit; a line longer than a block is cut into blocks). Empty lines
 * are skipped.
 */
export function packSequences(text: string, tok: WordPieceTokenizer, blockSize: number): number[][] {
  const cls = tok.tokenToId('[CLS]'), sep = tok.tokenToId('[SEP]');
  if (cls === undefined || sep === undefined) throw new Error('mlm: the WordPiece vocabulary has no [CLS]/[SEP]');
  if (blockSize < 3) throw new Error(`mlm: --block-size ${blockSize} leaves no room between [CLS] and [SEP] (use at least 3)`);
  const room = blockSize - 2, out: number[][] = [];
  let cur: number[] = [];
  const flush = (): void => {
    if (cur.length) out.push([cls, ...cur, sep]);
    cur = [];
  };
  for (const line of text.split(/\r?\n/)) {
    const ids = tok.encode(line);
    for (let i = 0; i < ids.length; i += room) {
      const part = ids.slice(i, i + room);
      if (cur.length + part.length > room) flush();
      cur.push(...part);
    }
  }
  flush();
  return out;
}

/** the masking options for a WordPiece vocabulary: its specials never selected, optional whole-word masking */
export function wordPieceMasking(tok: WordPieceTokenizer, wholeWord = false, maskProb = 0.15): MlmMaskingOptions {
  const maskId = tok.tokenToId('[MASK]');
  if (maskId === undefined) throw new Error('mlm: the WordPiece vocabulary has no [MASK]');
  return {
    maskId, vocabSize: tok.vocabSize, maskProb, specialIds: new Set(tok.specialTokens.values()),
    isContinuation: wholeWord ? wordPieceContinuation(tok.vocab, tok.prefix) : undefined,
  };
}

export class MaskedLanguageModeling implements Objective {
  readonly name = 'mlm';
  readonly lossLabel = 'MLM loss (nats/masked token)';
  /** the most frequent non-special training token: the unigram baseline's guess */
  readonly unigramGuess: number;

  constructor(readonly train: readonly number[][], readonly dev: readonly number[][], readonly masking: MlmMaskingOptions, readonly padId: number) {
    const counts = new Map<number, number>();
    for (const s of train) for (const id of s) if (!masking.specialIds.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
    this.unigramGuess = [...counts].reduce((a, b) => (b[1] > a[1] ? b : a), [-1, 0])[0];
  }

  dataSeed(seed: number): number {
    return seed ^ 0x1b873593;
  }

  check(model: LanguageModel): void {
    if (!(model instanceof BertForMaskedLM)) throw new Error(`MLM pretraining needs a bert model, got ${model.type}`);
    if (!this.train.length) throw new Error('mlm: no training sequences (the text is empty)');
    const long = this.train.find((s) => s.length > model.config.blockSize);
    if (long) throw new Error(`mlm: a sequence of ${long.length} ids is longer than the model's ${model.config.blockSize} positions`);
  }

  /** masked batch of `seqs`: padded ids, mask, labels (−100 at unselected and padding positions) */
  batch(seqs: readonly number[][], rng: Rng): { ids: Int32Array; mask: Uint8Array; labels: Int32Array; B: number; T: number } {
    const b = padBatch(seqs, this.padId);
    const m = maskTokens(b.ids, this.masking, rng);
    for (let i = 0; i < b.mask.length; i++) if (!b.mask[i]) m.labels[i] = MLM_IGNORE;
    return { ids: m.inputs, mask: b.mask, labels: m.labels, B: b.B, T: b.T };
  }

  trainLoss(model: LanguageModel, rng: Rng, s: ObjectiveSettings): { loss: Tensor; tokens: number } {
    const picks = Array.from({ length: s.batchSize }, () => this.train[rng.int(this.train.length)]);
    const b = this.batch(picks, rng);
    const out = (model as BertForMaskedLM).run({ ids: b.ids, B: b.B, T: b.T, attentionMask: b.mask }, b.labels);
    return { loss: out.loss!, tokens: b.B * b.T };
  }

  /**
   * Mean loss, masked-token accuracy and the unigram baseline's accuracy over `seqs` (at most evalIters
   * batches), masked with Rng(seed) so that repeated evaluations score the same corruption.
   */
  score(model: BertForMaskedLM, seqs: readonly number[][], s: ObjectiveSettings, seed = 4242): { loss: number; accuracy: number; unigram: number } {
    const rng = new Rng(seed), V = model.config.vocabSize;
    let nll = 0, hits = 0, uni = 0, n = 0;
    for (let i = 0; i < seqs.length && i < s.evalIters * s.batchSize; i += s.batchSize) {
      const b = this.batch(seqs.slice(i, i + s.batchSize), rng);
      stepScope(() => {
        const out = model.run({ ids: b.ids, B: b.B, T: b.T, attentionMask: b.mask }, b.labels);
        const k = b.labels.reduce((c, l) => c + (l >= 0 ? 1 : 0), 0);
        if (!k) return;
        nll += out.loss!.item() * k;
        n += k;
        b.labels.forEach((l, p) => {
          if (l < 0) return;
          let best = 0;
          for (let v = 1; v < V; v++) if (out.logits.data[p * V + v] > out.logits.data[p * V + best]) best = v;
          if (best === l) hits++;
          if (l === this.unigramGuess) uni++;
        });
      });
    }
    return n ? { loss: nll / n, accuracy: hits / n, unigram: uni / n } : { loss: NaN, accuracy: NaN, unigram: NaN };
  }

  evaluate(model: LanguageModel, _rng: Rng, s: ObjectiveSettings): Evaluation {
    const m = model as BertForMaskedLM;
    const tr = this.score(m, this.train, s);
    if (!this.dev.length) return { train: tr.loss, metrics: { 'masked acc': tr.accuracy, 'unigram acc': tr.unigram } };
    const dv = this.score(m, this.dev, s);
    return { train: tr.loss, dev: dv.loss, metrics: { 'masked acc': dv.accuracy, 'unigram acc': dv.unigram } };
  }
}
