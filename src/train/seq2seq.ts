// Translation on the one Trainer: batches of random (source, target) pairs, the teacher-forced cross-entropy
// over real target tokens (padding masked out, src/models/seq2seq.ts), and an evaluation that gives the dev
// loss (over the whole dev set) and the sacreBLEU score (src/eval/bleu.ts; its 'zh' tokenizer when the
// references are Chinese, else '13a') of greedy translations of a fixed dev sample. Browser-safe.
//   const obj = new Seq2seqObjective(encodePairs(corpus.train, sv, tv), encodePairs(corpus.dev, sv, tv), tv);
//   new Trainer(model, obj, { maxIters: 2000, batchSize: 32 }).run();
import type { LanguageModel } from '../models/model.js';
import { Seq2seq } from '../models/seq2seq.js';
import { greedyDecode } from '../models/seq2seq-decode.js';
import type { Seq2seqVocab } from '../models/seq2seq-vocab.js';
import type { ParallelPair } from '../data/parallel-corpus.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { stepScope } from '../backend/storage.js';
import { autoBleuTokenize, corpusBleu, type BleuTokenize } from '../eval/bleu.js';
import type { Evaluation, Objective, ObjectiveSettings } from './objective.js';

/** a pair as ids (no specials), with its reference text for BLEU */
export interface EncodedPair {
  src: number[];
  tgt: number[];
  /** the target text as written (BLEU's reference) */
  ref: string;
}

/**
 * Pairs as ids; pairs whose source or target has more than maxLen pieces are dropped (the target needs room
 * for <eos> within the model's blockSize). Throws `FILE:LINE` for a side with no pieces.
 */
export function encodePairs(pairs: readonly ParallelPair[], src: Seq2seqVocab, tgt: Seq2seqVocab, maxLen = Infinity, file = 'pairs'): EncodedPair[] {
  const out: EncodedPair[] = [];
  for (const p of pairs) {
    const s = src.encode(p.src), t = tgt.encode(p.tgt);
    if (!s.length || !t.length) throw new Error(`${file}:${p.line}: a side has no tokens`);
    if (s.length <= maxLen && t.length < maxLen) out.push({ src: s, tgt: t, ref: p.tgt });
  }
  return out;
}

export class Seq2seqObjective implements Objective {
  readonly name = 'seq2seq';
  readonly lossLabel = 'cross-entropy (nats/target token)';

  /**
   * sacreBLEU's tokenizer for this objective's BLEU: 'zh' when the references it scores (the dev sample, else
   * the training pairs') contain Han characters, else '13a' (autoBleuTokenize)
   */
  readonly bleuTokenize: BleuTokenize;

  /** bleuSample: how many dev pairs (the first ones) are translated for BLEU at each evaluation */
  constructor(readonly train: readonly EncodedPair[], readonly dev: readonly EncodedPair[], readonly tgtVocab: Seq2seqVocab, readonly bleuSample = 200) {
    this.bleuTokenize = autoBleuTokenize(this.bleuPairs().map((p) => p.ref));
  }

  /** the pairs an evaluation scores: the dev pairs, or the first 256 training pairs without dev */
  private evalPairs(): readonly EncodedPair[] {
    return this.dev.length ? this.dev : this.train.slice(0, 256);
  }

  /** the pairs translated for BLEU: the first bleuSample of evalPairs */
  private bleuPairs(): readonly EncodedPair[] {
    return this.evalPairs().slice(0, this.bleuSample);
  }

  dataSeed(seed: number): number {
    return seed ^ 0x5e9253e0;
  }

  check(model: LanguageModel): void {
    if (!(model instanceof Seq2seq)) throw new Error(`the seq2seq objective needs a seq2seq model, got ${model.type}`);
    if (!this.train.length) throw new Error('seq2seq: no training pairs');
    if (model.config.vocabSize !== this.tgtVocab.size) throw new Error(`seq2seq: the model has ${model.config.vocabSize} target tokens, the vocabulary ${this.tgtVocab.size}`);
  }

  trainLoss(model: LanguageModel, rng: Rng, s: ObjectiveSettings): { loss: Tensor; tokens: number } {
    const picks = Array.from({ length: s.batchSize }, () => this.train[rng.int(this.train.length)]);
    return (model as Seq2seq).loss(picks.map((p) => p.src), picks.map((p) => p.tgt));
  }

  /**
   * Dev loss (token-weighted, over all dev pairs) and BLEU of greedy translations of the dev sample; without dev
   * pairs, the loss and BLEU ('train BLEU') of the first 256 training pairs; no BLEU when bleuSample is 0.
   */
  evaluate(model: LanguageModel, _rng: Rng, s: ObjectiveSettings): Evaluation {
    const m = model as Seq2seq, loss = meanLoss(m, this.evalPairs(), s.batchSize);
    const sample = this.bleuPairs();
    const metrics = sample.length ? { [this.dev.length ? 'BLEU' : 'train BLEU']: translationBleu(m, sample, this.tgtVocab, s.batchSize, this.bleuTokenize) } : undefined;
    return this.dev.length ? { dev: loss, metrics } : { train: loss, metrics };
  }
}

/** token-weighted mean teacher-forced loss of pairs, in batches (call without gradients) */
export function meanLoss(model: Seq2seq, pairs: readonly EncodedPair[], batchSize: number): number {
  let total = 0, tokens = 0;
  for (let i = 0; i < pairs.length; i += batchSize) {
    const b = pairs.slice(i, i + batchSize);
    stepScope(() => {
      const r = model.loss(b.map((p) => p.src), b.map((p) => p.tgt));
      total += r.loss.item() * r.tokens;
      tokens += r.tokens;
    });
  }
  return tokens ? total / tokens : NaN;
}

/**
 * sacreBLEU corpus score [0, 100] of greedy translations of pairs against their reference texts, tokenized by
 * `tokenize` (default autoBleuTokenize of the references: 'zh' when they hold Han characters, else '13a')
 */
export function translationBleu(model: Seq2seq, pairs: readonly EncodedPair[], tgt: Seq2seqVocab, batchSize: number, tokenize: BleuTokenize = autoBleuTokenize(pairs.map((p) => p.ref))): number {
  if (!pairs.length) return 0;
  const hyps: string[] = [];
  for (let i = 0; i < pairs.length; i += batchSize) {
    const b = pairs.slice(i, i + batchSize);
    stepScope(() => greedyDecode(model, b.map((p) => p.src)).forEach((t) => hyps.push(tgt.decode(t.ids))));
  }
  return corpusBleu(hyps, [pairs.map((p) => p.ref)], { tokenize }).score;
}
