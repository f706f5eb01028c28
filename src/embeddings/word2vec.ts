// word2vec: skip-gram with negative sampling (SGNS) and continuous bag of words (CBOW) (Mikolov et al.
// 2013a, "Efficient estimation of word representations in vector space"; 2013b, "Distributed representations
// of words and phrases and their compositionality"), following the original tool's training loop
// (word2vec.c, TrainModelThread) step by step, single-threaded and seeded:
//
// - input vectors W [V, D] start uniform in (−0.5/D, 0.5/D), output ("context") vectors C [V, D] at zero;
// - the text is read sentence by sentence (a newline, `</s>`, ends one; at most 1000 words each), frequent
//   words dropped by subsampling (subsample.ts) as each sentence is read;
// - for each position a random b in 0..window−1 shrinks the window to window − b on both sides; a sentence
//   holds at most 1000 words, so a window above 1000 (WORD2VEC_MAX_WINDOW) trains as 1000, and the loop over
//   a window visits only the positions inside the sentence;
// - SGNS: for each context word u of the centre w, with input vector W[u]: the pair (u, w) gets label 1 and
//   `negative` words drawn from the unigram^0.75 table (noise.ts) label 0 (a draw equal to w is skipped);
//   for each target t:  g = (label − σ(W[u]·C[t]))·α,  e += g·C[t],  C[t] += g·W[u];  then W[u] += e;
// - CBOW: h = mean of the context words' W rows; the same updates with h as input; then every context row
//   gets W[u] += e (the full e, not e/count, as in the original);
// - σ comes from a 1000-entry table over [−6, 6]; beyond it the gradient is that of σ = 0 or 1;
// - the learning rate decays linearly, α = α₀·max(10⁻⁴, 1 − done/(epochs·N + 1)), with done the tokens read
//   so far (the original updates it every 10,000 words, we at every sentence).
// Everything random (init, subsampling, window shrinking, negatives) comes from one seeded Rng, so a seed
// fixes the result. The hot loops are flat Float32Array code over rows of D floats.
//
// This loop is the reference; the wasm and blas backends run the same loop in f32x4 (assembly/word2vec.ts through
// Backend.word2vecTrain), one thread drawing this generator's numbers in this order, or several lock-free
// (Hogwild) as the original's -threads. `gptlab bench --only word2vec` times both beside the C tool.
// (Compare with -iter 1: that revision of the C tool never resets its end-of-file flag, so a thread that
// reaches the end of the text stops after one pass, and -threads 1 -iter 5 trains a single epoch.)
//
// Worked example: trainWord2Vec(vocab, ids, { method: 'sgns', dim: 50, window: 5, negative: 5, epochs: 5 })
// on the built-in corpus (corpus.ts) puts `paris` nearest `france`'s capital-mates and answers
// france : paris :: italy : rome.
import { backend } from '../backend/backend.js';
import { Rng } from '../tensor/rng.js';
import { defaultTableSize, unigramTable } from './noise.js';
import { keepProbabilities } from './subsample.js';
import { WordVectors } from './vectors.js';
import type { Word2VecVocabulary } from './vocab.js';

export type Word2VecMethod = 'sgns' | 'cbow';

export interface Word2VecOptions {
  /** default 'sgns' */
  method?: Word2VecMethod;
  /** vector size D (default 100) */
  dim?: number;
  /** largest distance to a context word (default 5); above WORD2VEC_MAX_WINDOW (1000, the longest sentence) it trains as WORD2VEC_MAX_WINDOW */
  window?: number;
  /** noise words per positive pair (default 5) */
  negative?: number;
  /** subsampling threshold s (default 1e-3; 0 = off) */
  sample?: number;
  /** starting learning rate (default 0.025 for sgns, 0.05 for cbow, as the original) */
  alpha?: number;
  /** passes over the text (default 5) */
  epochs?: number;
  /** default 1 */
  seed?: number;
  /** noise table slots (default noise.ts defaultTableSize) */
  tableSize?: number;
  /**
   * Threads of the backend's fast path (default 1). One thread draws the reference's random numbers in its
   * order, so a seed fixes the result; more train lock-free (Hogwild) as the original tool's -threads: faster,
   * not reproducible. Without a fast path (the js backend) the reference loop runs, on one thread.
   */
  threads?: number;
  /** run the plain TypeScript loop even where the backend has a fast path (tests hold the two together) */
  reference?: boolean;
  /** called about every `progressEvery` tokens (default 10,000) and at the end */
  onProgress?: (p: Word2VecProgress) => void;
  progressEvery?: number;
}

export interface Word2VecProgress {
  /** tokens read so far, all epochs, `</s>` and subsampled words included */
  words: number;
  /** epochs × tokens */
  totalWords: number;
  epoch: number;
  alpha: number;
  seconds: number;
  wordsPerSecond: number;
}

export interface Word2VecModel {
  /** the input vectors W, the word vectors everyone uses */
  vectors: WordVectors;
  /** the output vectors C, [V, D] */
  contexts: Float32Array;
  seconds: number;
  wordsPerSecond: number;
}

const MAX_EXP = 6;
const EXP_TABLE_SIZE = 1000;
const EXP_SCALE = EXP_TABLE_SIZE / (2 * MAX_EXP);
/** σ(x) at x = (i / 1000·2 − 1)·6, i = 0..999 */
const SIGMOID = Float32Array.from({ length: EXP_TABLE_SIZE }, (_, i) => {
  const e = Math.exp(((i / EXP_TABLE_SIZE) * 2 - 1) * MAX_EXP);
  return e / (e + 1);
});
const MAX_SENTENCE = 1000;
/**
 * The largest window that trains as given: no two words of one sentence (at most 1000 words) lie further
 * apart, so a larger window is clipped to this one (the same results for every window up to it; above it, a
 * window of 1000 instead of the shrinking of a larger one).
 */
export const WORD2VEC_MAX_WINDOW = MAX_SENTENCE;

interface State {
  syn0: Float32Array;
  syn1: Float32Array;
  neu1: Float32Array;
  neu1e: Float32Array;
  table: Int32Array;
  dim: number;
  window: number;
  negative: number;
  rng: Rng;
  alpha: number;
}

/**
 * Trains word vectors on `ids` (Word2VecVocabulary.encode of the text; id 0 ends a sentence): W, C [V, dim].
 * Runs on the active backend's fast path when it has one (wasm, blas; `threads` of them) unless `reference`,
 * else the TypeScript loop below. Throws on options out of range, an id outside the vocabulary, or a vocabulary
 * with no word but `</s>`.
 */
export function trainWord2Vec(vocab: Word2VecVocabulary, ids: Int32Array, opts: Word2VecOptions = {}): Word2VecModel {
  const o = checkOptions(opts, vocab, ids);
  const rng = new Rng(o.seed);
  const V = vocab.size;
  const syn0 = new Float32Array(V * o.dim);
  for (let i = 0; i < syn0.length; i++) syn0[i] = (rng.random() - 0.5) / o.dim;
  const st: State = {
    syn0, syn1: new Float32Array(V * o.dim), neu1: new Float32Array(o.dim), neu1e: new Float32Array(o.dim),
    table: unigramTable(vocab.counts, o.tableSize), dim: o.dim, window: o.window, negative: o.negative, rng, alpha: o.alpha,
  };
  const keep = keepProbabilities(vocab.counts, vocab.totalCount, o.sample);
  const total = o.epochs * ids.length;
  const t0 = now();
  let done = 0, reported = -1;
  const report = (epoch: number): void => {
    if (done === reported) return;
    reported = done;
    const seconds = (now() - t0) / 1000;
    const alpha = decayedAlpha(o.alpha, done, total);
    o.onProgress?.({ words: done, totalWords: total, epoch, alpha, seconds, wordsPerSecond: seconds > 0 ? done / seconds : 0 });
  };
  const progress = (d: number, epoch: number): void => ((done = d), report(epoch));
  const be = backend();
  const fast = !o.reference && be.word2vecTrain?.({
    method: o.method === 'cbow' ? 1 : 0, syn0, syn1: st.syn1, table: st.table, keep, ids, sigmoid: SIGMOID, dim: o.dim,
    window: o.window, negative: o.negative, alpha: o.alpha, epochs: o.epochs, threads: o.threads,
    rngState: (t) => Uint32Array.from((t === 0 ? rng : new Rng((o.seed + 0x9e3779b9 * t) >>> 0)).getState().s), progressEvery: o.progressEvery, onProgress: progress,
  });
  if (!fast) done = trainReference(st, o, ids, keep, progress);
  report(o.epochs - 1);
  const seconds = (now() - t0) / 1000;
  return { vectors: new WordVectors(vocab.words.slice(), o.dim, syn0), contexts: st.syn1, seconds, wordsPerSecond: seconds > 0 ? done / seconds : 0 };
}

/**
 * The reference loop: every epoch reads the text sentence by sentence; `progress(done, epoch)` every
 * progressEvery tokens. Returns the tokens read.
 */
function trainReference(st: State, o: Checked, ids: Int32Array, keep: Float64Array, progress: (done: number, epoch: number) => void): number {
  const step = o.method === 'cbow' ? cbowStep : sgnsStep;
  const sen = new Int32Array(MAX_SENTENCE);
  const total = o.epochs * ids.length;
  let done = 0;
  let lastReport = 0;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    let pos = 0;
    while (pos < ids.length) {
      st.alpha = decayedAlpha(o.alpha, done, total);
      let len = 0;
      while (pos < ids.length && len < MAX_SENTENCE) {
        const w = ids[pos++];
        done++;
        if (w === 0) break;
        if (keep[w] < 1 && keep[w] < st.rng.random()) continue;
        sen[len++] = w;
      }
      for (let p = 0; p < len; p++) step(st, sen, len, p);
      if (done - lastReport >= o.progressEvery) {
        progress(done, epoch);
        lastReport = done;
      }
    }
  }
  return done;
}

/** the learning rate after `done` of `total` tokens: linear decay from `alpha`, floored at alpha·1e-4 (word2vec.c) */
function decayedAlpha(alpha: number, done: number, total: number): number {
  return alpha * Math.max(1e-4, 1 - done / (total + 1));
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** one skip-gram position: every context word in the shrunk window predicts the centre word */
function sgnsStep(st: State, sen: Int32Array, len: number, pos: number): void {
  const { syn0, neu1e, dim, window } = st;
  const word = sen[pos];
  const b = (st.rng.random() * window) | 0;
  // the context positions pos − (window − b) .. pos + (window − b) that lie inside the sentence, in order (the
  // original walks a = b .. 2·window − b and skips those outside: the same positions, without the empty steps)
  const lo = Math.max(0, pos - window + b);
  const hi = Math.min(len - 1, pos + window - b);
  for (let c = lo; c <= hi; c++) {
    if (c === pos) continue;
    const l1 = sen[c] * dim;
    neu1e.fill(0);
    negativeSampling(st, syn0, l1, word);
    for (let j = 0; j < dim; j++) syn0[l1 + j] += neu1e[j];
  }
}

/** one CBOW position: the mean of the context words predicts the centre word */
function cbowStep(st: State, sen: Int32Array, len: number, pos: number): void {
  const { syn0, neu1, neu1e, dim, window } = st;
  const word = sen[pos];
  const b = (st.rng.random() * window) | 0;
  const lo = Math.max(0, pos - window + b);
  const hi = Math.min(len - 1, pos + window - b);
  neu1.fill(0);
  let cw = 0;
  for (let c = lo; c <= hi; c++) {
    if (c === pos) continue;
    const l1 = sen[c] * dim;
    for (let j = 0; j < dim; j++) neu1[j] += syn0[l1 + j];
    cw++;
  }
  if (cw === 0) return;
  for (let j = 0; j < dim; j++) neu1[j] /= cw;
  neu1e.fill(0);
  negativeSampling(st, neu1, 0, word);
  for (let c = lo; c <= hi; c++) {
    if (c === pos) continue;
    const l1 = sen[c] * dim;
    for (let j = 0; j < dim; j++) syn0[l1 + j] += neu1e[j];
  }
}

/**
 * The positive pair (input, word) and `negative` noise words: updates the output rows in place and
 * accumulates the input's gradient step into st.neu1e. `input[io .. io+D)` is the input vector.
 */
function negativeSampling(st: State, input: Float32Array, io: number, word: number): void {
  const { syn1, neu1e, table, dim, negative, rng, alpha } = st;
  const slots = table.length;
  for (let d = 0; d <= negative; d++) {
    let target = word;
    let label = 1;
    if (d > 0) {
      target = table[(rng.random() * slots) | 0];
      if (target === word) continue;
      label = 0;
    }
    const l2 = target * dim;
    const f = dotRows(input, io, syn1, l2, dim);
    const g = f >= MAX_EXP ? (label - 1) * alpha : f < -MAX_EXP ? label * alpha : (label - SIGMOID[((f + MAX_EXP) * EXP_SCALE) | 0]) * alpha;
    // e += g·C[t] with C[t] before its update, then C[t] += g·input: one pass over the row
    for (let j = 0; j < dim; j++) {
      const c = syn1[l2 + j];
      neu1e[j] += g * c;
      syn1[l2 + j] = c + g * input[io + j];
    }
  }
}

/** x[xo .. xo+n) · y[yo .. yo+n), four partial sums so the additions can overlap */
function dotRows(x: Float32Array, xo: number, y: Float32Array, yo: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    s0 += x[xo + j] * y[yo + j];
    s1 += x[xo + j + 1] * y[yo + j + 1];
    s2 += x[xo + j + 2] * y[yo + j + 2];
    s3 += x[xo + j + 3] * y[yo + j + 3];
  }
  for (; j < n; j++) s0 += x[xo + j] * y[yo + j];
  return s0 + s1 + (s2 + s3);
}

/** the starting learning rate when none is given: the original tool's, 0.025 for skip-gram and 0.05 for CBOW */
export function defaultAlpha(method: Word2VecMethod): number {
  return method === 'cbow' ? 0.05 : 0.025;
}

type Checked = Required<Omit<Word2VecOptions, 'onProgress'>> & Pick<Word2VecOptions, 'onProgress'>;

function checkOptions(opts: Word2VecOptions, vocab: Word2VecVocabulary, ids: Int32Array): Checked {
  const method = opts.method ?? 'sgns';
  if (method !== 'sgns' && method !== 'cbow') throw new Error(`word2vec: method must be sgns or cbow, got ${JSON.stringify(method)}`);
  const o: Checked = {
    method, dim: opts.dim ?? 100, window: opts.window ?? 5, negative: opts.negative ?? 5, sample: opts.sample ?? 1e-3,
    alpha: opts.alpha ?? defaultAlpha(method), epochs: opts.epochs ?? 5, seed: opts.seed ?? 1,
    tableSize: opts.tableSize ?? defaultTableSize(vocab.size), progressEvery: opts.progressEvery ?? 10_000,
    threads: opts.threads ?? 1, reference: opts.reference ?? false, onProgress: opts.onProgress,
  };
  for (const k of ['dim', 'window', 'negative', 'epochs', 'tableSize', 'progressEvery', 'threads'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new Error(`word2vec: ${k} must be a whole number ≥ 1, got ${o[k]}`);
  }
  o.window = Math.min(o.window, WORD2VEC_MAX_WINDOW); // no sentence is longer: see WORD2VEC_MAX_WINDOW
  if (!(o.alpha > 0)) throw new Error(`word2vec: alpha must be positive, got ${o.alpha}`);
  if (!(o.sample >= 0)) throw new Error(`word2vec: sample must be ≥ 0, got ${o.sample}`);
  if (vocab.size < 2) throw new Error('word2vec: the vocabulary has no words (is min-count higher than every count?)');
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0 || ids[i] >= vocab.size) throw new Error(`word2vec: id ${ids[i]} at position ${i} is outside the vocabulary of ${vocab.size}`);
  }
  return o;
}
