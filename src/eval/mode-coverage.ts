// Mode coverage of a generator on a mixture of Gaussians (the measure of Metz et al. 2017 and Srivastava et
// al. 2017's VEEGAN): each generated point is assigned to its nearest mode if it lies within 3σ of it; a mode
// is covered when at least `minShare` of all samples fall there. Also the share of high-quality samples
// (within 3σ of some mode). Browser-safe.

export interface ModeCoverage {
  /** modes with at least minShare of the samples within 3σ */
  covered: number;
  modes: number;
  /** samples within 3σ of each mode */
  counts: number[];
  /** share of samples within 3σ of some mode */
  highQuality: number;
}

/**
 * samples (N, 2) and centres (K, 2) row-major; sigma: each mode's standard deviation; minShare: the share
 * of samples a mode needs to count as covered (default 1/(4K), a quarter of its fair share).
 */
export function modeCoverage(samples: ArrayLike<number>, centres: ArrayLike<number>, sigma: number, minShare?: number): ModeCoverage {
  const N = samples.length / 2, K = centres.length / 2, share = minShare ?? 1 / (4 * K), counts = new Array<number>(K).fill(0);
  if (!(sigma > 0)) throw new Error(`mode coverage: sigma must be > 0, got ${sigma}`);
  let good = 0;
  for (let i = 0; i < N; i++) {
    let best = -1, bd = Infinity;
    for (let k = 0; k < K; k++) {
      const d = Math.hypot(samples[2 * i] - centres[2 * k], samples[2 * i + 1] - centres[2 * k + 1]);
      if (d < bd) (bd = d), (best = k);
    }
    if (bd <= 3 * sigma) (counts[best]++, good++);
  }
  return { covered: counts.filter((c) => N > 0 && c / N >= share).length, modes: K, counts, highQuality: N ? good / N : 0 };
}
