// Sample quality and mode coverage of an image generator through a classifier trained on the real data (the
// way Metz et al. 2017 and Srivastava et al. 2017 count the modes of MNIST GANs, and Salimans et al. 2016's
// Inception Score with a domain classifier in place of Inception): each generated image gets the classifier's
// class probabilities p(y|x);
//   confident   the share of samples whose top class has p > threshold (default 0.9): recognisable ones
//   covered     classes with at least minShare of all samples among their confident ones (default a quarter of
//               a fair share, 1/(4K), as the ring's mode coverage in mode-coverage.ts)
//   score       exp(E_x KL(p(y|x) ‖ p(y))), between 1 (one blurry class) and K (sure and balanced)
// Browser-safe.

export interface ClassCoverage {
  /** share of samples whose top-class probability exceeds the threshold */
  confident: number;
  /** classes with at least minShare of the samples among their confident ones */
  covered: number;
  classes: number;
  /** confident samples per class */
  counts: number[];
  /** Inception-Score-style exp(E KL(p(y|x) ‖ p(y))) with this classifier */
  score: number;
}

/**
 * probs (N, K) row-major class probabilities of N samples (rows summing to 1). threshold: the confidence a
 * sample needs (default 0.9); minShare: the share of all samples a class needs to count as covered (default
 * 1/(4K)). Throws on a ragged array or a threshold outside (0, 1).
 */
export function classCoverage(probs: ArrayLike<number>, K: number, threshold = 0.9, minShare = 1 / (4 * K)): ClassCoverage {
  if (!(Number.isInteger(K) && K >= 1) || probs.length % K) throw new Error(`class coverage: ${probs.length} probabilities are not rows of ${K} classes`);
  if (!(threshold > 0 && threshold < 1)) throw new Error(`class coverage: threshold must be in (0, 1), got ${threshold}`);
  const N = probs.length / K, counts = new Array<number>(K).fill(0), marginal = new Float64Array(K);
  let sure = 0;
  for (let i = 0; i < N; i++) {
    let best = 0;
    for (let k = 0; k < K; k++) {
      marginal[k] += probs[i * K + k] / N;
      if (probs[i * K + k] > probs[i * K + best]) best = k;
    }
    if (probs[i * K + best] > threshold) (counts[best]++, sure++);
  }
  let kl = 0; // E_x Σ_k p(k|x) (log p(k|x) − log p(k))
  for (let i = 0; i < N; i++) for (let k = 0; k < K; k++) {
    const p = probs[i * K + k];
    if (p > 0) kl += (p * (Math.log(p) - Math.log(marginal[k]))) / N;
  }
  return { confident: N ? sure / N : 0, covered: counts.filter((c) => N > 0 && c / N >= minShare).length, classes: K, counts, score: N ? Math.exp(kl) : 1 };
}
