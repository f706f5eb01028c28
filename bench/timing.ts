// Timing helpers shared by the benchmarks: the median of a list, and the median time of a call after warm-up.

/** the median (the upper one of an even count) of `xs`, which is left unsorted */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
}

/** median of `runs` timings of f in ms, after two untimed calls that let the engine's optimising tier compile it */
export function medianMs(f: () => void, runs: number): number {
  f();
  f();
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    f();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}
