// The largest of many numbers. Math.max(...xs) passes every value as an argument, and a call takes at most
// ~100,000 of them before "Maximum call stack size exceeded": batches and datasets can be larger than that.

/** the largest value of `xs` (−Infinity when empty, as Math.max()); NaN when any is NaN */
export function maxOf(xs: Iterable<number>): number {
  let m = -Infinity;
  for (const x of xs) {
    if (Number.isNaN(x)) return NaN;
    if (x > m) m = x;
  }
  return m;
}
