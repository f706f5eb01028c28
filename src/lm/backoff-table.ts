// A back-off n-gram table, the content of an ARPA file: for each stored n-gram its log10 probability and, for
// n-grams that are contexts of longer ones, a log10 back-off weight. Scoring (Jurafsky & Martin ch. 3; KenLM's
// `query`): the longest stored n-gram ending in the word gives the probability, and the back-off weights of
// the longer contexts that were not matched are added:
//   log10 p(w | h) = stored(h w)                        when "h w" is stored
//                  = backoff(h) + log10 p(w | h minus its first word)   otherwise (backoff(h) = 0 when h is not stored)
// Example: an order-2 table holding 人工智能 让 −0.097 (p 0.8) gives p(让 | 人工智能) = 0.8 directly; for
// p(是 | 让) with "让 是" absent it is backoff(让) + log10 p(是).
import { groupByContext, ngramKey, type Followers } from './counts.js';

export class BackoffTable {
  /** prob[m − 1]: m-gram key → log10 probability */
  readonly prob: Map<string, number>[];
  /** backoff[m − 1]: m-gram key → log10 back-off weight (absent = 0) */
  readonly backoff: Map<string, number>[];
  private children: Map<string, Followers>[] | null = null;

  constructor(readonly order: number) {
    if (!Number.isInteger(order) || order < 1) throw new Error(`n-gram order must be a positive integer, got ${order}`);
    this.prob = Array.from({ length: order }, () => new Map<string, number>());
    this.backoff = Array.from({ length: order }, () => new Map<string, number>());
  }

  /** stores an n-gram (ids) with its log10 probability and optional log10 back-off */
  set(ids: readonly number[], log10Prob: number, log10Backoff?: number): void {
    const m = ids.length;
    if (m < 1 || m > this.order) throw new Error(`an n-gram of ${m} words in an order-${this.order} table`);
    const key = ngramKey(ids);
    this.prob[m - 1].set(key, log10Prob);
    if (log10Backoff !== undefined && log10Backoff !== 0) this.backoff[m - 1].set(key, log10Backoff);
    this.children = null;
  }

  /** the same with the n-gram given as its order and key ("3 4"), unchecked (builders that already hold keys) */
  setKey(m: number, key: string, log10Prob: number): void {
    this.prob[m - 1].set(key, log10Prob);
    this.children = null;
  }

  /** log10 p(word | context); only the last order − 1 words of the context matter. −Infinity for a word not in the table. */
  log10Prob(word: number, context: readonly number[]): number {
    const h = context.length >= this.order ? context.slice(context.length - this.order + 1) : context;
    let bo = 0;
    for (let s = 0; s <= h.length; s++) {
      const ids = [...h.slice(s), word];
      const p = this.prob[ids.length - 1].get(ngramKey(ids));
      if (p !== undefined) return bo + p;
      if (s < h.length) bo += this.backoff[h.length - s - 1].get(ngramKey(h, s)) ?? 0;
    }
    return -Infinity;
  }

  /**
   * log10 p(w | context) for every id w < out.length, written into `out` (−Infinity where the table has no
   * unigram). Cost O(V + stored followers of the context's suffixes), the same values as `log10Prob`.
   */
  log10Distribution(context: readonly number[], out: Float64Array): Float64Array {
    this.children ??= this.prob.map((tab) => groupByContext(tab));
    out.fill(-Infinity);
    const uni = this.children[0].get('');
    if (uni) uni.words.forEach((w, i) => w < out.length && (out[w] = uni.values[i]));
    const h = context.length >= this.order ? context.slice(context.length - this.order + 1) : context;
    for (let k = 1; k <= h.length; k++) {
      const ctx = ngramKey(h, h.length - k);
      const bo = this.backoff[k - 1].get(ctx) ?? 0;
      if (bo !== 0) for (let w = 0; w < out.length; w++) out[w] += bo;
      const f = this.children[k].get(ctx);
      if (f) f.words.forEach((w, i) => w < out.length && (out[w] = f.values[i]));
    }
    return out;
  }

  /** number of n-grams of each order */
  counts(): number[] {
    return this.prob.map((t) => t.size);
  }
}
