// The noise distribution of negative sampling (Mikolov et al. 2013b, "Distributed representations of words
// and phrases and their compositionality", §2.2): words drawn with probability ∝ count^0.75, which samples
// rare words more often than their frequency would. As in the original tool (InitUnigramTable), it is a
// table of word ids in which word i fills a share ∝ count_i^0.75 of the slots, so one draw is one uniform
// integer and one array read.
//
// Difference from the original: `</s>` (word 0) gets no slots. The original gives it its share and then
// replaces every draw of word 0 by a uniformly random word; we simply leave it out.
//
// Worked example: counts [·, 16, 1] (word 0 excluded), power 0.75 → weights 8 and 1, so in a table of 9
// slots word 1 fills 8 and word 2 fills 1: [1, 1, 1, 1, 1, 1, 1, 1, 2].

/**
 * A table of `size` word ids, word i appearing ≈ size·counts[i]^power / Σ counts^power times (i ≥ 1).
 * Throws when no word other than `</s>` has a positive count.
 */
export function unigramTable(counts: ArrayLike<number>, size: number, power = 0.75): Int32Array {
  if (!Number.isInteger(size) || size < 1) throw new Error(`unigramTable: size must be a positive whole number, got ${size}`);
  const weights = new Float64Array(counts.length);
  let total = 0;
  for (let i = 1; i < counts.length; i++) {
    weights[i] = counts[i] > 0 ? Math.pow(counts[i], power) : 0;
    total += weights[i];
  }
  if (!(total > 0)) throw new Error('unigramTable: no word to sample (every count is zero)');
  const table = new Int32Array(size);
  let word = 1;
  while (weights[word] === 0) word++;
  let edge = weights[word] / total; // cumulative share up to and including `word`
  for (let a = 0; a < size; a++) {
    // slot a covers [a/size, (a+1)/size): it belongs to the word whose cumulative share its centre falls under
    while ((a + 0.5) / size > edge && word < counts.length - 1) {
      word++;
      edge += weights[word] / total;
    }
    table[a] = word;
  }
  return table;
}

/** the default table size: 100 slots per word, between 10^6 and the original's 10^8 */
export function defaultTableSize(vocabSize: number): number {
  return Math.min(1e8, Math.max(1e6, vocabSize * 100));
}
