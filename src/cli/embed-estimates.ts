// embed train's estimates before any work: the memory a built-in corpus and the vectors need (checkCorpusMemory,
// embedMemoryProblem) and the time a run takes (embedWorkProblem, from the text's shape and nominal speeds), so
// that no flag value makes a run hang or die of its heap: each refusal is one line naming the flags.
import { constants as bufferConstants } from 'node:buffer';
import os from 'node:os';
import v8 from 'node:v8';
import { kebab } from './args.js';
import { checkBytes } from '../train/memory-bounds.js';
import { formatFromName } from '../embeddings/vectors-file.node.js';
import { keepProbabilities } from '../embeddings/subsample.js';
import { pairsInText, sentenceLengths } from '../embeddings/cooccurrence.js';
import { WORD2VEC_MAX_WINDOW } from '../embeddings/word2vec.js';

/**
 * Refuses, before it is generated, a built-in corpus too large for this process's JavaScript heap: its text,
 * words and ids take about CORPUS_BYTES_PER_SENTENCE a sentence (measured at its peak, while the text is split
 * into words), allowed up to 3/4 of the heap (the rest is the vocabulary's and V8's own).
 */
export function checkCorpusMemory(sentences: number, heapLimit = v8.getHeapStatistics().heap_size_limit): void {
  checkBytes(`the built-in corpus of ${count(sentences)} sentences (its text, words and ids)`, sentences * CORPUS_BYTES_PER_SENTENCE, '--sentences', 0.75 * heapLimit);
}

/** JavaScript heap bytes a sentence of the built-in corpus takes at the peak (~430 measured: 38 characters, 9 words, ids) */
export const CORPUS_BYTES_PER_SENTENCE = 500;

/** what a JavaScript process can hold: one typed array's length, one string's length, and the machine's memory */
export interface MemoryLimits {
  /** the most elements of one typed array (Node's buffer.constants.MAX_LENGTH) */
  arrayLength: number;
  /** the most characters of one string (buffer.constants.MAX_STRING_LENGTH) */
  stringLength: number;
  /** bytes of memory (os.totalmem()) */
  memory: number;
}

/** this process's limits */
export function memoryLimits(): MemoryLimits {
  return { arrayLength: bufferConstants.MAX_LENGTH, stringLength: bufferConstants.MAX_STRING_LENGTH, memory: os.totalmem() };
}

const gib = (bytes: number): string => (bytes < 2 ** 30 ? `${Math.round(bytes / 2 ** 20)} MiB` : `${(bytes / 2 ** 30).toFixed(1)} GiB`);
const count = (n: number): string => n.toLocaleString('en');

/**
 * Why embed train cannot hold the vectors of `words` words × `dim` dimensions, as one line naming --dim and the
 * estimate; null when they fit. Estimated before any training, from what each method allocates:
 * - sgns, cbow: 2 float32 matrices of words × dim (the input vectors and the output weights, word2vec's syn0 and
 *   syn1neg);
 * - ppmi-svd: 6 float64 matrices of words × (dim + 10) (the randomized SVD's projection, bases and factors) and
 *   the float32 vectors;
 * and the vector file, built whole before it is written: `out` in binary (.bin: 4 bytes a value) or in text (at
 * least 9 characters a value, "%lf "). Refused when one matrix or the file is longer than a JavaScript typed
 * array or string can be, or all of it is more than the machine's memory.
 */
export function embedMemoryProblem(o: { words: number; wordChars: number; dim: number; method: string; out: string }, limits: MemoryLimits = memoryLimits()): string | null {
  const { words: V, dim: D } = o;
  const ppmi = o.method === 'ppmi-svd', width = ppmi ? Math.min(V, D + 10) : D;
  const matrices = ppmi ? 6 : 2, bytesPer = ppmi ? 8 : 4;
  const one = V * width * bytesPer, vectors = matrices * one + (ppmi ? V * D * 4 : 0);
  const what = `${matrices} ${ppmi ? 'float64' : 'float32'} matrices of ${count(V)} × ${width}, ${gib(one)} each${ppmi ? ', and the float32 vectors' : ''}`;
  const head = `--dim ${D} for a vocabulary of ${count(V)} words needs about ${gib(vectors)} (${o.method}: ${what})`;
  const lower = 'lower --dim, or raise --min-count to keep fewer words';
  if (V * width > limits.arrayLength) return `${head}, more than a JavaScript typed array holds (${count(limits.arrayLength)} values); ${lower}`;
  const binary = (formatFromName(o.out) ?? 'text') === 'binary';
  const file = binary ? V * (4 * D + 2) + o.wordChars : V * (9 * D + 2) + o.wordChars;
  if (binary && file > limits.arrayLength) return `--out ${o.out}: the binary file for ${count(V)} words × --dim ${D} would be about ${gib(file)}, more than a JavaScript typed array holds (${gib(limits.arrayLength)}); ${lower}`;
  if (!binary && file > limits.stringLength) return `--out ${o.out}: the text file for ${count(V)} words × --dim ${D} would be about ${gib(file)}, more than a JavaScript string holds (${gib(limits.stringLength)}); write the binary format (an --out name ending in .bin), or ${lower}`;
  if (vectors + file > limits.memory) return `${head} and ${gib(file)} for the ${binary ? 'binary' : 'text'} file, more than this machine's memory (${gib(limits.memory)}); ${lower}`;
  return null;
}

/** the sentences of an encoded text (Word2VecVocabulary.encode): how many of each length, its words and tokens */
export interface TextShape {
  /** sentence length → number of sentences that long */
  lengths: Map<number, number>;
  /** tokens other than `</s>` */
  words: number;
  /** tokens, `</s>` included */
  tokens: number;
}

/** the shape of `ids` (id 0 ends a sentence) */
export function textShape(ids: Int32Array): TextShape {
  const lengths = sentenceLengths(ids);
  let words = 0;
  for (const [n, times] of lengths) words += n * times;
  return { lengths, words, tokens: ids.length };
}

/** a run estimated to take longer than this (seconds, on the nominal speeds below) is refused before it starts */
export const MAX_TRAIN_SECONDS = 3600;

/**
 * Nominal speeds of one thread, measured on a current x86 core (the estimate is for orders of magnitude):
 * word2vec's multiply-adds in the wasm/blas kernels (f32x4) and in the TypeScript reference (--backend js), the
 * tokens they read (each one drawn for subsampling), the kernels' steps over a window's positions; ppmi-svd's
 * word pairs counted (two map updates each), and its float64 multiply-adds with the sparse PPMI matrix
 * (scattered reads) and in dense blocks (the SVD's QRs).
 */
export const EMBED_SPEEDS = { kernels: 3.5e9, reference: 1e9, kernelTokens: 2e7, referenceTokens: 7e6, windowSteps: 1e9, pairs: 1e6, sparse: 2.5e8, dense: 7e8 };

/**
 * How much slower word2vec gets as its two V × dim float32 matrices outgrow the caches (every pair reads rows
 * at random): the speeds above hold up to a MiB or so; measured about 3× slower (the kernels) at 30 MiB, 2×
 * for the TypeScript reference, slower to begin with.
 */
function cacheFactor(bytes: number, fast: boolean): number {
  return Math.min(Math.sqrt(1 + bytes / 2 ** 21), fast ? 4 : 2);
}

export interface WorkSettings {
  method: string;
  /** vocabulary size */
  words: number;
  dim: number;
  window: number;
  negative: number;
  epochs: number;
  /** whether word2vec runs in the backend's kernels (else the TypeScript reference) */
  fast: boolean;
  /** threads word2vec trains on */
  threads: number;
  /** the share of the words subsampling keeps (sgns, cbow; default 1: none dropped), see subsampledShare */
  kept?: number;
}

/** the expected share of the text's words (`</s>` aside) that word2vec's subsampling keeps at threshold `sample` */
export function subsampledShare(counts: ArrayLike<number>, total: number, sample: number): number {
  const keep = keepProbabilities(counts, total, sample);
  let words = 0, kept = 0;
  for (let i = 1; i < counts.length; i++) (words += counts[i]), (kept += counts[i] * keep[i]);
  return words > 0 ? kept / words : 1;
}

/** the settings the estimate compares with, to name the flags that make a run long: embed train's defaults */
const DEFAULT_WORK = { dim: 100, window: 5, negative: 5, epochs: 5 };

/**
 * Why a run of these settings on a text of `shape` is refused as too long, as one line naming the flags that
 * make it so (those above their default, the largest factor first) and the estimate; null when it is estimated
 * at `limit` seconds or less. Estimated from the work each method does, at EMBED_SPEEDS:
 * - sgns, cbow: every epoch, each word of a sentence (read in pieces of at most 1000 words) pairs with about
 *   min(window + 1, n − 1) context words (the window shrinks at random to 1..window on each side), among the
 *   words subsampling keeps (a share `kept` of each sentence); sgns updates --negative + 1 output vectors for
 *   each pair, cbow for each word (from the mean of its contexts, 2·dim a context): 3·dim multiply-adds each,
 *   at speeds that fall as the matrices outgrow the caches (cacheFactor); every token is read (and drawn for
 *   subsampling) every epoch, and the kernels step over the window's positions, 2·(window − b) + 1 of them;
 * - ppmi-svd: counting visits Σ min(window, n − 1 − i) pairs per sentence; the randomized SVD at rank
 *   l = dim + 10 takes about 22·V·l² (ten thin QRs of V × l and the final products) + 30·l³ (the Jacobi SVD of
 *   l × l) dense multiply-adds, and 10·nnz·l (ten sparse products; nnz ≤ V², and ≤ twice the pairs) + 100·nnz
 *   (building the PPMI matrix) sparse ones.
 */
export function embedWorkProblem(shape: TextShape, s: WorkSettings, given: ReadonlySet<string> = new Set(), limit = MAX_TRAIN_SECONDS): string | null {
  const parts = embedWork(shape, s);
  const seconds = parts.reduce((t, p) => t + p.seconds, 0);
  if (seconds <= limit) return null;
  const main = parts.reduce((a, b) => (b.seconds > a.seconds ? b : a));
  // the flags above their default, by how much more work they ask for than the default
  const factors = main.factors.filter(([k, f]) => f > 1 && given.has(k)).sort((a, b) => b[1] - a[1]);
  const named = factors.map(([k]) => `--${kebab(k)}`);
  const head = factors.length ? `${factors.map(([k]) => `--${kebab(k)} ${(s as unknown as Record<string, number>)[k]}`).join(', ')}: ` : '';
  const lower = named.length ? `lower ${named.join(' or ')}` : main.otherwise;
  return `${head}${main.what} would take about ${duration(seconds)} (${main.how}); embed train refuses a run estimated at more than ${duration(limit)}: ${lower}`;
}

/** the parts of a run's work with their estimated seconds (see embedWorkProblem) */
export function embedWork(shape: TextShape, s: WorkSettings): WorkPart[] {
  return s.method === 'ppmi-svd' ? ppmiWork(shape, s) : word2vecWork(shape, s);
}

export interface WorkPart {
  /** "training", "counting the word pairs", "the SVD" */
  what: string;
  seconds: number;
  /** the estimate's terms, in words */
  how: string;
  /** option key → the factor by which its value multiplies the work of this part, against the default */
  factors: [string, number][];
  /** the advice when no flag is above its default (the text itself is large) */
  otherwise: string;
}

const sci = (x: number): string => (x === 0 ? '0' : x.toExponential(1).replace('e+', 'e'));

function word2vecWork(shape: TextShape, s: WorkSettings): WorkPart[] {
  const window = Math.min(s.window, WORD2VEC_MAX_WINDOW), kept = s.kept ?? 1;
  // a sentence of n words keeps about n·kept, each of which pairs with the others (n(n − 1)·kept² pairs in all)
  // up to about window + 1 of them (at most 999: word2vec reads pieces of at most 1000 words)
  const contexts = (w: number): number => {
    let c = 0;
    for (const [n, times] of shape.lengths) c += times * Math.min(n * (n - 1) * kept * kept, n * kept * Math.min(w + 1, WORD2VEC_MAX_WINDOW - 1));
    return c;
  };
  const pairs = contexts(window), words = shape.words * kept;
  // sgns: every word–context pair updates the output vectors; cbow: every word, from the mean of its contexts
  const cbow = s.method === 'cbow';
  const madds = s.epochs * (cbow ? words * (s.negative + 1) * 3 * s.dim + 2 * pairs * s.dim : pairs * (s.negative + 1) * 3 * s.dim);
  const steps = s.fast ? s.epochs * words * (window + 1) : 0;
  const rate = (s.fast ? EMBED_SPEEDS.kernels : EMBED_SPEEDS.reference) / cacheFactor(2 * s.words * s.dim * 4, s.fast);
  const reading = (s.epochs * shape.tokens) / (s.fast ? EMBED_SPEEDS.kernelTokens : EMBED_SPEEDS.referenceTokens);
  const threads = Math.max(1, s.threads);
  const seconds = (madds / rate + steps / EMBED_SPEEDS.windowSteps + reading) / threads;
  const base = contexts(Math.min(DEFAULT_WORK.window, WORD2VEC_MAX_WINDOW));
  return [{
    what: 'training',
    seconds,
    how: `${s.method}: ${count(s.epochs)} epoch${s.epochs > 1 ? 's' : ''} × ${count(Math.round(cbow ? words : pairs))} ${cbow ? 'words' : 'word–context pairs'} × ${count(s.negative + 1)} output vectors (--negative + 1) × 3·--dim ${s.dim}${cbow ? `, and the means of ${count(Math.round(pairs))} contexts` : ''}: about ${sci(madds)} multiply-adds at ${sci(rate)} a second, and reading ${sci(s.epochs * shape.tokens)} tokens${threads > 1 ? `, on ${threads} threads` : ''}`,
    factors: [['epochs', s.epochs / DEFAULT_WORK.epochs], ['negative', (s.negative + 1) / (DEFAULT_WORK.negative + 1)], ['window', base > 0 ? pairs / base : 1], ['dim', s.dim / DEFAULT_WORK.dim]],
    otherwise: 'train on less text, or lower --epochs or --dim',
  }];
}

function ppmiWork(shape: TextShape, s: WorkSettings): WorkPart[] {
  const pairs = pairsInText(shape.lengths, s.window), base = pairsInText(shape.lengths, DEFAULT_WORK.window);
  const longest = Math.max(0, ...shape.lengths.keys());
  const V = s.words, l = Math.min(V, s.dim + 10), nnz = Math.min(V * V, 2 * pairs);
  const dense = 22 * V * l * l + 30 * l ** 3, sparse = 10 * nnz * l + 100 * nnz; // + building the PPMI matrix
  const svd = dense + sparse;
  const baseL = Math.min(V, DEFAULT_WORK.dim + 10);
  return [{
    what: 'counting the word pairs',
    seconds: pairs / EMBED_SPEEDS.pairs,
    how: `ppmi-svd: ${sci(pairs)} pairs within --window ${s.window} in sentences of up to ${count(longest)} words, at ${sci(EMBED_SPEEDS.pairs)} a second`,
    factors: [['window', base > 0 ? pairs / base : 1]],
    otherwise: 'train on less text, or with a smaller --window',
  }, {
    what: 'the SVD',
    seconds: dense / EMBED_SPEEDS.dense + sparse / EMBED_SPEEDS.sparse,
    how: `ppmi-svd: rank ${count(l)} of the ${count(V)} × ${count(V)} PPMI matrix with up to ${sci(nnz)} non-zeros, about ${sci(svd)} multiply-adds at ${sci(EMBED_SPEEDS.sparse)}–${sci(EMBED_SPEEDS.dense)} a second`,
    factors: [['dim', (l * l) / (baseL * baseL)]],
    otherwise: 'raise --min-count to keep fewer words',
  }];
}

/** a duration in words, rounded: "40 minutes", "3 hours", "12 days", "2,000 years", "3.2e9 years" */
export function duration(seconds: number): string {
  if (seconds === 3600) return 'an hour';
  if (seconds < 90) return `${Math.round(seconds)} seconds`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} minutes`;
  if (seconds < 2 * 86400) return `${Math.round(seconds / 3600)} hours`;
  const days = seconds / 86400;
  if (days < 730) return `${Math.round(days)} days`;
  const years = days / 365.25;
  return years < 1e6 ? `${count(Math.round(years))} years` : `${sci(years)} years`;
}
