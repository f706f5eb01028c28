// Subsampling of frequent words (Mikolov et al. 2013b, §2.3), in the form the original tool implements
// (word2vec.c, TrainModelThread): a word with count c in a text of T tokens is kept with probability
//
//   keep(c) = (sqrt(c / (s·T)) + 1) · (s·T) / c          (s = sample, default 1e-3; ≥ 1 means always kept)
//
// (the paper writes discard = 1 − sqrt(t/f) with f = c/T; the tool's formula keeps a little more). Each
// occurrence is dropped independently, afresh each epoch, before windows are formed, so dropping a frequent
// word brings more distant words into the window.
//
// Worked example: T = 1,000,000, s = 1e-3 (s·T = 1000): a word seen 10,000 times (f = 1%) is kept with
// probability (sqrt(10) + 1)·1000/10000 ≈ 0.416; a word seen 1,000 times with (1 + 1)·1000/1000 = 2 → always.

/** per-word keep probabilities, clipped to 1; all 1 when sample ≤ 0 (no subsampling) */
export function keepProbabilities(counts: ArrayLike<number>, total: number, sample: number): Float64Array {
  const keep = new Float64Array(counts.length).fill(1);
  if (!(sample > 0)) return keep;
  const st = sample * total;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c > 0) keep[i] = Math.min(1, (Math.sqrt(c / st) + 1) * (st / c));
  }
  return keep;
}
