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
// Sentence ends (id 0, `</s>`) separate sentences and take part in no pair.
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
 * Throws on a window below 1, an unknown weighting or an id outside 0..V-1.
 */
export function cooccurrenceMatrix(ids: Int32Array, vocabSize: number, opts: CooccurrenceOptions = {}): CsrMatrix {
  const window = opts.window ?? 5;
  const weighting = opts.weighting ?? 'uniform';
  if (!Number.isInteger(window) || window < 1) throw new Error(`cooccurrence: window must be a whole number ≥ 1, got ${window}`);
  if (weighting !== 'uniform' && weighting !== 'harmonic' && weighting !== 'linear') throw new Error(`cooccurrence: unknown weighting ${JSON.stringify(weighting)}`);
  const weights = Array.from({ length: window + 1 }, (_, d) => (d === 0 ? 0 : windowWeight(d, window, weighting)));
  const counts = new Map<number, number>();
  const add = (key: number, w: number): void => {
    counts.set(key, (counts.get(key) ?? 0) + w);
  };
  for (let i = 0; i < ids.length; i++) {
    const a = ids[i];
    if (a < 0 || a >= vocabSize) throw new Error(`cooccurrence: id ${a} at position ${i} is outside the vocabulary of ${vocabSize}`);
    if (a === 0) continue;
    for (let d = 1; d <= window && i + d < ids.length; d++) {
      const b = ids[i + d];
      if (b === 0) break;
      add(a * vocabSize + b, weights[d]);
      add(b * vocabSize + a, weights[d]);
    }
  }
  return CsrMatrix.fromEntries(vocabSize, vocabSize, counts);
}
