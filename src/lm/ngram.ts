// N-gram language models of any order over words or token ids (Jurafsky & Martin, "N-gram Language Models",
// ch. 3): counts → maximum likelihood, add-k (Laplace for k = 1), or interpolated modified Kneser–Ney
// (Chen & Goodman 1998, estimated as KenLM's lmplz does); scoring, perplexity and sampling.
//
// Sentences are scored as KenLM and SRILM score them: "<s> w1 … wk </s>", where `<s>` is context only and
// `</s>` is predicted, so a sentence of k words is k + 1 predictions and
//   perplexity = 10^(−Σ log10 p / Σ (k + 1))   over all sentences, unknown words (as `<unk>`) included.
// Worked example: trained on "人工智能 让" ×4 and "人工智能 是" ×1 (order 2, maximum likelihood),
//   p(让 | 人工智能) = 0.8, p(是 | 人工智能) = 0.2, and the sentence "人工智能 是" scores
//   log10 (p(人工智能 | <s>) · p(是 | 人工智能) · p(</s> | 是)) = log10 (1 · 0.2 · 1) ≈ −0.699, perplexity 0.2^(−1/3) ≈ 1.71.
import { BackoffTable } from './backoff-table.js';
import { NgramCounts } from './counts.js';
import { kneserNey, type Discounts, type KneserNeyOptions } from './kneser-ney.js';
import { Vocabulary } from './vocab.js';
import type { Rng } from '../tensor/rng.js';

/**
 * The largest order the command line accepts (gptlab ngram train, train --arch ngram, ladder --ngram-orders).
 * KenLM's query and build_binary load orders up to KENLM_MAX_ORDER, 6 by default; counting keeps one key of up
 * to n ids for every order at every token (memory ∝ n² · tokens), and beyond ~10 nearly every top-order n-gram
 * of a corpus is seen once, so higher orders add memory and nothing the back-off to lower orders does not give.
 */
export const MAX_NGRAM_ORDER = 10;

export type Smoothing =
  /** relative frequency c(h w) / c(h), h the longest suffix of the context seen in training (p = 0 for unseen h w) */
  | { kind: 'mle' }
  /** (c(h w) + k) / (c(h) + k|V|), |V| the predictable words (all but `<s>`) unless `vocabSize` says otherwise */
  | { kind: 'add-k'; k: number; vocabSize?: number }
  | ({ kind: 'kneser-ney' } & KneserNeyOptions);

export interface SentenceScore {
  /** log10 p of the sentence, `</s>` included */
  log10Prob: number;
  /** predictions: words + 1 */
  tokens: number;
  /** words scored as `<unk>`: those not in the vocabulary, and `<unk>` itself (KenLM's query counts it too) */
  oovs: number;
  /** the part of log10Prob from every prediction but the OOVs' (what the perplexity without OOVs counts) */
  knownLog10: number;
}

export interface PerplexityResult extends SentenceScore {
  /** 10^(−log10Prob / tokens) */
  perplexity: number;
  /** the same without the OOV predictions (KenLM's "excluding OOVs") */
  perplexityWithoutOovs: number;
}

export class NgramLM {
  /** raw counts (null for a model read from an ARPA file) */
  readonly counts: NgramCounts | null;
  /** the back-off table of Kneser–Ney or of an ARPA file (null for mle / add-k) */
  readonly table: BackoffTable | null;
  /** Kneser–Ney's D1, D2, D3+ per order (empty otherwise) */
  readonly discounts: Discounts[] = [];

  private constructor(readonly order: number, readonly vocab: Vocabulary, readonly smoothing: Smoothing | { kind: 'arpa' }, counts: NgramCounts | null, table: BackoffTable | null) {
    this.counts = counts;
    if (smoothing.kind === 'kneser-ney') {
      const kn = kneserNey(counts!, vocab, smoothing);
      this.table = kn.table;
      this.discounts = kn.discounts;
    } else this.table = table;
    if (smoothing.kind === 'add-k' && !(smoothing.k > 0)) throw new Error(`add-k smoothing: k must be positive, got ${smoothing.k}`);
  }

  /**
   * Trains on sentences of words (strings). The vocabulary is `<unk>`, `<s>`, `</s>` and every word seen.
   * Throws on an order that is not a positive integer or that no sentence is long enough for (a sentence of k
   * words gives n-grams of up to k + 2 tokens), on no sentences, and (Kneser–Ney) on data whose discounts
   * cannot be estimated unless `discountFallback` is given.
   */
  static fit(sentences: readonly (readonly string[])[], order: number, smoothing: Smoothing = { kind: 'kneser-ney' }): NgramLM {
    const vocab = Vocabulary.fromSentences(sentences);
    const counts = new NgramCounts(order);
    for (const s of sentences) counts.addSequence([vocab.bos, ...s.map((w) => vocab.lookup(w)), vocab.eos], 1);
    checkCounts(counts, sentences.length, Math.max(0, ...sentences.map((s) => s.length + 2)));
    return new NgramLM(order, vocab, smoothing, counts, null);
  }

  /**
   * Trains on a stream of token ids in [0, vocabSize) (a tokenized corpus), read as one sequence that starts
   * after a hidden `<s>` and has no `</s>`. Throws on ids outside the vocabulary or a stream shorter than order − 1.
   */
  static fitIds(ids: ArrayLike<number>, vocabSize: number, order: number, smoothing: Smoothing = { kind: 'kneser-ney' }): NgramLM {
    const vocab = Vocabulary.forIds(vocabSize);
    const seq = new Int32Array(ids.length + 1);
    seq[0] = vocab.bos;
    for (let i = 0; i < ids.length; i++) {
      const t = ids[i];
      if (!Number.isInteger(t) || t < 0 || t >= vocabSize) throw new Error(`n-gram fit: token ${t} at index ${i} is outside [0, ${vocabSize})`);
      seq[i + 1] = t;
    }
    const counts = new NgramCounts(order);
    counts.addSequence(seq, 1);
    checkCounts(counts, ids.length > 0 ? 1 : 0, seq.length);
    return new NgramLM(order, vocab, smoothing, counts, null);
  }

  /** a token-id model from counts made over `Vocabulary.forIds(vocabSize)` ids (a checkpoint) */
  static fromCounts(counts: NgramCounts, vocabSize: number, smoothing: Smoothing): NgramLM {
    return new NgramLM(counts.order, Vocabulary.forIds(vocabSize), smoothing, counts, null);
  }

  /** a model from a back-off table (an ARPA file): scores exactly as the table says */
  static fromTable(vocab: Vocabulary, table: BackoffTable): NgramLM {
    return new NgramLM(table.order, vocab, { kind: 'arpa' }, null, table);
  }

  /** the same training data with another smoothing (needs counts) */
  withSmoothing(smoothing: Smoothing): NgramLM {
    if (!this.counts) throw new Error('withSmoothing: this model has no counts (read from an ARPA file)');
    return new NgramLM(this.order, this.vocab, smoothing, this.counts, null);
  }

  /** log10 p(word | context) for ids; only the last order − 1 context ids count */
  log10ProbId(word: number, context: readonly number[]): number {
    const h = context.length >= this.order ? context.slice(context.length - this.order + 1) : context;
    if (this.table) return this.table.log10Prob(word, h);
    return Math.log10(this.countProb(word, h));
  }

  /** log10 p(word | context) for words (unknown ones are `<unk>`); e.g. log10Prob('让', ['人工智能']) */
  log10Prob(word: string, context: readonly string[] = []): number {
    return this.log10ProbId(this.vocab.lookup(word), context.map((w) => this.vocab.lookup(w)));
  }

  /** p(word | context) for words; e.g. prob('让', ['人工智能']) = 0.8 in the example above (mle) */
  prob(word: string, context: readonly string[] = []): number {
    return 10 ** this.log10Prob(word, context);
  }

  /**
   * log10 p(w | context) for every id w of the vocabulary (length vocab.size; −Infinity for `<s>`, which is
   * never predicted). Sums (as probabilities) to 1 for mle with a seen context, add-k and Kneser–Ney.
   */
  log10Distribution(context: readonly number[], out = new Float64Array(this.vocab.size)): Float64Array {
    const h = context.length >= this.order ? context.slice(context.length - this.order + 1) : context;
    if (this.table) this.table.log10Distribution(h, out);
    else this.countDistribution(h, out);
    if (this.vocab.bos >= 0 && this.vocab.bos < out.length) out[this.vocab.bos] = -Infinity;
    return out;
  }

  /** KenLM-style score of one sentence of words: "<s> words </s>", `</s>` predicted */
  scoreSentence(words: readonly string[]): SentenceScore {
    const v = this.vocab;
    if (v.bos < 0 || v.eos < 0) throw new Error('scoreSentence: the model has no <s> and </s> (a token-id model); use log10ProbId');
    const ids = [v.bos, ...words.map((w) => v.lookup(w)), v.eos];
    let oovLog10 = 0, knownLog10 = 0, oovs = 0;
    for (let i = 1; i < ids.length; i++) {
      const lp = this.log10ProbId(ids[i], ids.slice(Math.max(0, i - this.order + 1), i));
      if (ids[i] === v.unk && i < ids.length - 1) (oovLog10 += lp), oovs++;
      else knownLog10 += lp;
    }
    // the two parts summed apart: never −∞ − −∞ when mle gives an OOV probability 0 (KenLM's query leaves OOVs out)
    return { log10Prob: oovLog10 + knownLog10, tokens: ids.length - 1, oovs, knownLog10 };
  }

  /** perplexity over sentences (module comment); OOVs counted as `<unk>`, and separately left out */
  perplexity(sentences: readonly (readonly string[])[]): PerplexityResult {
    return NgramLM.perplexityOf(sentences.map((s) => this.scoreSentence(s)));
  }

  /** the perplexities of sentences already scored (scoreSentence): for a caller that also reports each sentence */
  static perplexityOf(scores: readonly SentenceScore[]): PerplexityResult {
    let log10Prob = 0, knownLog10 = 0, tokens = 0, oovs = 0;
    for (const r of scores) (log10Prob += r.log10Prob), (knownLog10 += r.knownLog10), (tokens += r.tokens), (oovs += r.oovs);
    if (tokens === 0) throw new Error('perplexity: no sentences');
    return {
      log10Prob, tokens, oovs, knownLog10,
      perplexity: 10 ** (-log10Prob / tokens),
      perplexityWithoutOovs: 10 ** (-knownLog10 / (tokens - oovs)),
    };
  }

  /**
   * Draws the next id after `context` (ids) from p(· | context) with `rng.random()`; temperature τ > 0 scales
   * log-probabilities by 1/τ; ids in `exclude` are never drawn (the rest renormalised). Throws when no word has
   * positive probability (mle after an unseen word).
   */
  sampleNextId(context: readonly number[], rng: Rng, temperature = 1, exclude: readonly number[] = []): number {
    if (!(temperature > 0)) throw new Error(`sampleNext: temperature must be positive, got ${temperature}`);
    const d = this.log10Distribution(context);
    for (const id of exclude) if (id >= 0 && id < d.length) d[id] = -Infinity;
    let max = -Infinity;
    for (const x of d) if (x > max) max = x;
    if (max === -Infinity) throw new Error('sampleNext: no word has positive probability after this context');
    let total = 0;
    for (let i = 0; i < d.length; i++) total += d[i] = 10 ** ((d[i] - max) / temperature);
    let r = rng.random() * total;
    for (let i = 0; i < d.length; i++) if (d[i] > 0 && (r -= d[i]) < 0) return i;
    for (let i = d.length - 1; i >= 0; i--) if (d[i] > 0) return i;
    return 0;
  }

  /**
   * Samples words after `<s>` until `</s>` or maxWords; e.g. ['人工智能', '让']. `<unk>` (the mass smoothing
   * keeps for unseen words) is not a word to print: it is never drawn, the others renormalised.
   */
  sampleSentence(rng: Rng, maxWords = 100, temperature = 1): string[] {
    const v = this.vocab;
    if (v.bos < 0 || v.eos < 0) throw new Error('sampleSentence: the model has no <s> and </s>');
    const ids = [v.bos];
    while (ids.length <= maxWords) {
      const next = this.sampleNextId(ids.slice(-(this.order - 1) || ids.length), rng, temperature, [v.unk]);
      if (next === v.eos) break;
      ids.push(next);
    }
    return ids.slice(1).map((i) => v.words[i]);
  }

  /** number of stored n-grams over all orders */
  get size(): number {
    return this.table ? this.table.counts().reduce((a, b) => a + b, 0) : this.counts!.size;
  }

  /** mle / add-k probability of word after h (h at most order − 1 long) */
  private countProb(word: number, h: readonly number[]): number {
    const counts = this.counts!;
    const sm = this.smoothing;
    if (sm.kind === 'add-k') {
      const V = sm.vocabSize ?? this.vocab.predictable;
      const total = counts.followers(h)?.total ?? 0;
      return (counts.count([...h, word]) + sm.k) / (total + sm.k * V);
    }
    for (let s = 0; s <= h.length; s++) {
      const f = counts.followers(h.slice(s));
      if (f) return counts.count([...h.slice(s), word]) / f.total;
    }
    return 0;
  }

  /** countProb for every word at once */
  private countDistribution(h: readonly number[], out: Float64Array): void {
    const counts = this.counts!;
    const sm = this.smoothing;
    let s = 0;
    if (sm.kind === 'mle') while (s < h.length && !counts.followers(h.slice(s))) s++;
    const f = counts.followers(h.slice(s));
    const k = sm.kind === 'add-k' ? sm.k : 0;
    const V = sm.kind === 'add-k' ? sm.vocabSize ?? this.vocab.predictable : 0;
    const total = (f?.total ?? 0) + k * V;
    out.fill(total > 0 ? Math.log10(k / total) : -Infinity);
    if (f) f.words.forEach((w, i) => w < out.length && (out[w] = Math.log10((f.values[i] + k) / total)));
  }
}

/** the data must hold at least one sentence and one n-gram of the full order */
function checkCounts(counts: NgramCounts, sequences: number, longest: number): void {
  if (sequences === 0) throw new Error('n-gram fit: no sentences (or tokens) to count');
  if (counts.orders[counts.order - 1].size === 0) {
    throw new Error(`n-gram fit: order ${counts.order} is larger than the data: the longest sentence gives ${longest} tokens with <s> and </s>`);
  }
}
