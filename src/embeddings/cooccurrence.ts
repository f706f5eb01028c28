// Word–context co-occurrence counts in a symmetric window: the raw material of count-based word vectors
// (Church & Hanks 1990; Levy, Goldberg & Dagan 2015, "Improving distributional similarity with lessons
// learned from word embeddings").
//
// For every token at position i and every other token at distance d = 1..window in the same sentence, the
// pair (word, context) gets weight(d) added, in both directions, so the matrix is symmetric. Weightings:
//   'uniform'   1                      every position in the window counts the same
//   'harmonic'  1/d                    GloVe's and Levy et al.'s distance weighting
//   'linear'    (window − d + 1)/window the expected weight of word2vec's window shrinking (a random
//                                       b in 0..window−1 makes distance d visible with probability that)
//
// Worked example: ids [1, 2, 3] (one sentence), window 1, uniform → (1,2), (2,1), (2,3), (3,2) each 1.
// With window 2, harmonic, (1,3) and (3,1) get 1/2 as well.
// Sentence ends (id 0, `</s>`) separate sentences and take part in no pair; a window longer than the longest
// sentence counts the same pairs as one that long.
import { CsrMatrix } from './sparse.js';

export type WindowWeighting = 'uniform' | 'harmonic' | 'linear';

export interface CooccurrenceOptions {
  /** largest distance counted, ≥ 1 (default 5) */
  window?: number;
  /** default 'uniform' */
  weighting?: WindowWeighting;
}

/** weight of a context at distance d (1 ≤ d ≤ window) */
export function windowWeight(d: number, window: number, weighting: WindowWeighting): number {
  if (weighting === 'uniform') return 1;
  if (weighting === 'harmonic') return 1 / d;
  return (window - d + 1) / window;
}

/**
 * The symmetric [V, V] co-occurrence matrix of `ids` (from Word2VecVocabulary.encode; id 0 ends a sentence).
 * A window longer than the longest sentence counts the same pairs as one of that length (with the weights of
 * the window given), so only distances up to the longest sentence are visited. Counts are kept row by row
 * (a JavaScript Map holds at most 2^24 entries: one map for all V² pairs would overflow on a large vocabulary).
 * Throws on a window below 1, an unknown weighting or an id outside 0..V-1.
 */
export function cooccurrenceMatrix(ids: Int32Array, vocabSize: number, opts: CooccurrenceOptions = {}): CsrMatrix {
  const window = opts.window ?? 5;
  const weighting = opts.weighting ?? 'uniform';
  if (!Number.isInteger(window) || window < 1) throw new Error(`cooccurrence: window must be a whole number ≥ 1, got ${window}`);
  if (weighting !== 'uniform' && weighting !== 'harmonic' && weighting !== 'linear') throw new Error(`cooccurrence: unknown weighting ${JSON.stringify(weighting)}`);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0 || ids[i] >= vocabSize) throw new Error(`cooccurrence: id ${ids[i]} at position ${i} is outside the vocabulary of ${vocabSize}`);
  }
  const reach = Math.min(window, Math.max(0, longestSentence(ids) - 1)); // no two words of a sentence lie farther apart
  const weights = Array.from({ length: reach + 1 }, (_, d) => (d === 0 ? 0 : windowWeight(d, window, weighting)));
  const rows: (Map<number, number> | undefined)[] = new Array(vocabSize);
  const add = (a: number, b: number, w: number): void => {
    const row = (rows[a] ??= new Map());
    row.set(b, (row.get(b) ?? 0) + w);
  };
  for (let i = 0; i < ids.length; i++) {
    const a = ids[i];
    if (a === 0) continue;
    for (let d = 1; d <= reach && i + d < ids.length; d++) {
      const b = ids[i + d];
      if (b === 0) break;
      add(a, b, weights[d]);
      add(b, a, weights[d]);
    }
  }
  return CsrMatrix.fromRows(vocabSize, vocabSize, rows);
}

/** how many sentences of `ids` (words between two sentence ends, id 0) have each length: length → count */
export function sentenceLengths(ids: Int32Array): Map<number, number> {
  const lengths = new Map<number, number>();
  let n = 0;
  for (let i = 0; i <= ids.length; i++) {
    if (i < ids.length && ids[i] !== 0) n++;
    else if (n > 0) (lengths.set(n, (lengths.get(n) ?? 0) + 1), (n = 0));
  }
  return lengths;
}

/** the most words between two sentence ends (id 0) of `ids` */
export function longestSentence(ids: Int32Array): number {
  let longest = 0, run = 0;
  for (let i = 0; i < ids.length; i++) {
    run = ids[i] === 0 ? 0 : run + 1;
    if (run > longest) longest = run;
  }
  return longest;
}

/** the word pairs (each counted in both directions) of a sentence of `n` words within `window`: Σᵢ min(window, n − 1 − i) */
export function pairsInSentence(n: number, window: number): number {
  const w = Math.min(window, Math.max(0, n - 1));
  return w * n - (w * (w + 1)) / 2;
}

/** the word pairs within `window` of a text whose sentences have `lengths` (sentenceLengths: length → count) */
export function pairsInText(lengths: ReadonlyMap<number, number>, window: number): number {
  let pairs = 0;
  for (const [n, times] of lengths) pairs += times * pairsInSentence(n, window);
  return pairs;
}

/** the word pairs cooccurrenceMatrix visits for `ids` and `window`: the work of counting, known before counting */
export function cooccurrencePairs(ids: Int32Array, window: number): number {
  return pairsInText(sentenceLengths(ids), window);
}
