// Raw n-gram counts of orders 1 … n over sentences of word ids, counted the way KenLM's lmplz does: each
// sentence becomes `<s> w1 … wk </s>` and every predicted position (w1 … wk and `</s>`) contributes one m-gram
// of each order m ending there, cut short at `<s>` (the m-gram "<s> <s> w1" of a padded text is "<s> w1").
// Worked example (order 2), sentences "人工智能 让", "人工智能 让", "人工智能 让", "人工智能 让", "人工智能 是":
//   bigrams  <s> 人工智能 ×5, 人工智能 让 ×4, 人工智能 是 ×1, 让 </s> ×4, 是 </s> ×1
//   so c(人工智能 ·) = 5 and the maximum-likelihood p(让 | 人工智能) = 4/5 = 0.8, p(是 | 人工智能) = 0.2.

/** an n-gram's key: its ids joined by spaces ("3 4" for 人工智能 让) */
export function ngramKey(ids: ArrayLike<number>, start = 0, end = ids.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += i > start ? ' ' + ids[i] : String(ids[i]);
  return s;
}

/** ids of a key ("" → []) */
export function keyIds(key: string): number[] {
  return key === '' ? [] : key.split(' ').map(Number);
}

/** the words following one context, with their counts (or any per-word number) */
export interface Followers {
  words: number[];
  values: number[];
  /** sum of values */
  total: number;
}

/** count tables of orders 1 … n: `orders[m − 1]` maps an m-gram's key to its count */
export class NgramCounts {
  readonly orders: Map<string, number>[];
  private followerIndex: Map<string, Followers>[] | null = null;

  /** order ≥ 1 (an integer); throws otherwise */
  constructor(readonly order: number) {
    if (!Number.isInteger(order) || order < 1) throw new Error(`n-gram order must be a positive integer, got ${order}`);
    this.orders = Array.from({ length: order }, () => new Map<string, number>());
  }

  /**
   * Counts one sequence of ids. `first` is the index of the first predicted position: 1 when ids[0] is `<s>`
   * (sentences), 0 for a stream without one. Every m-gram ending at a predicted position is counted, its left
   * end clipped at index 0.
   */
  addSequence(ids: ArrayLike<number>, first = 1): void {
    this.followerIndex = null;
    for (let i = first; i < ids.length; i++) {
      let key = String(ids[i]); // grows leftwards: "w", "v w", "u v w", …
      for (let m = 1; m <= this.order && i - m + 1 >= 0; m++) {
        if (m > 1) key = ids[i - m + 1] + ' ' + key;
        const tab = this.orders[m - 1];
        tab.set(key, (tab.get(key) ?? 0) + 1);
      }
    }
  }

  /** count of an n-gram given as ids (0 when unseen) */
  count(ids: readonly number[]): number {
    if (ids.length === 0 || ids.length > this.order) return 0;
    return this.orders[ids.length - 1].get(ngramKey(ids)) ?? 0;
  }

  /** the words seen after `context` (ids, length < order) with their counts; null when never seen */
  followers(context: readonly number[]): Followers | null {
    if (context.length >= this.order) throw new Error(`context of ${context.length} words for an order-${this.order} model`);
    this.followerIndex ??= this.orders.map((tab) => groupByContext(tab));
    return this.followerIndex[context.length].get(ngramKey(context)) ?? null;
  }

  /** number of distinct n-grams of every order */
  get size(): number {
    return this.orders.reduce((s, t) => s + t.size, 0);
  }
}

/** key "a b c" → value, grouped by context "a b": words [c, …] and values [value, …] */
export function groupByContext(tab: ReadonlyMap<string, number>): Map<string, Followers> {
  const out = new Map<string, Followers>();
  for (const [key, v] of tab) {
    const cut = key.lastIndexOf(' ');
    const ctx = cut < 0 ? '' : key.slice(0, cut);
    const w = Number(cut < 0 ? key : key.slice(cut + 1));
    let f = out.get(ctx);
    if (!f) out.set(ctx, (f = { words: [], values: [], total: 0 }));
    f.words.push(w);
    f.values.push(v);
    f.total += v;
  }
  return out;
}
