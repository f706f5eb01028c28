// Interpolated modified Kneser–Ney smoothing (Chen & Goodman 1998, §3 and eq. 26) estimated as KenLM's lmplz
// does (Heafield et al. 2013), written out as a back-off table (an ARPA model):
//  1. adjusted counts a(g): the raw count for the highest order and for n-grams that start with `<s>` (nothing
//     can precede them); otherwise the number of distinct words seen just before g (continuation count).
//  2. three discounts per order from the count-of-counts t1 … t4 of the adjusted counts:
//     Y = t1 / (t1 + 2 t2),  D_j = j − (j + 1) Y t_{j+1} / t_j  (j = 1, 2, 3; D3 serves counts ≥ 3).
//     As lmplz, one n-gram of each lower order enters t with its raw count (lmplzLastSuffixes).
//  3. per context h: u(w | h) = (a(h w) − D(a(h w))) / Σ_w a(h w) and the left-over mass
//     γ(h) = (D1 N1(h ·) + D2 N2(h ·) + D3 N3+(h ·)) / Σ_w a(h w).
//  4. interpolation, lowest order first: p(w) = u(w) + γ(ε) / |V| (|V| counts `<unk>` and `</s>`, not `<s>`;
//     `<unk>` and unseen words get γ(ε)/|V| alone), p(w | h) = u(w | h) + γ(h) p(w | h minus its first word).
//  5. each stored n-gram keeps p; an n-gram that is a context keeps γ as its back-off weight; so the back-off
//     table scores seen n-grams with their interpolated p and unseen ones by backing off (back-off-table.ts).
// Example, bigrams after 人工智能: 让 ×4, 是 ×1 (adjusted counts). With D1 = 0.5, D3+ = 1.2:
//   u(让 | 人工智能) = (4 − 1.2)/5 = 0.56, u(是 | 人工智能) = (1 − 0.5)/5 = 0.1, γ = (0.5 + 1.2)/5 = 0.34, and
//   p(让 | 人工智能) = 0.56 + 0.34 p(让) — the 0.8 of maximum likelihood, shaded towards the unigram.
import { BackoffTable } from './backoff-table.js';
import { groupByContext, keyIds, ngramKey, type NgramCounts } from './counts.js';
import type { Vocabulary } from './vocab.js';

/** D1, D2, D3+ of one order */
export type Discounts = [number, number, number];

export interface KneserNeyOptions {
  /** discounts used for an order whose count-of-counts cannot give valid ones (lmplz --discount_fallback: 0.5 1 1.5); without it such data throws */
  discountFallback?: Discounts;
  /** discounts to use instead of estimating them, one triple per order from 1 (lmplz --discount_fallback with overrides) */
  discounts?: Discounts[];
}

export interface KneserNeyModel {
  table: BackoffTable;
  /** the discounts of orders 1 … n */
  discounts: Discounts[];
  /** adjusted counts of orders 1 … n (key → a) */
  adjusted: Map<string, number>[];
}

/** Builds the table. Throws when the vocabulary has no `<s>` or when discounts cannot be estimated (without a fallback). */
export function kneserNey(counts: NgramCounts, vocab: Vocabulary, opts: KneserNeyOptions = {}): KneserNeyModel {
  if (vocab.bos < 0) throw new Error('Kneser–Ney needs a vocabulary with <s>');
  const n = counts.order;
  const adjusted = adjustCounts(counts, vocab.bos);
  const last = lmplzLastSuffixes(counts, vocab.bos);
  const discounts = adjusted.map((a, i) => opts.discounts?.[i] ?? estimateDiscounts(a, i + 1, opts.discountFallback, last[i]));
  const table = new BackoffTable(n);
  const gammas: Map<string, number>[] = [];
  let lower = new Map<string, number>(); // interpolated p of the previous order, by key
  for (let m = 1; m <= n; m++) {
    const { u, gamma } = initialProbabilities(adjusted[m - 1], discounts[m - 1]);
    gammas.push(gamma);
    const p = new Map<string, number>();
    if (m === 1) {
      const uniform = 1 / vocab.predictable;
      const g0 = gamma.get('') ?? 0;
      // in id order, so that an ARPA file lists the vocabulary as lmplz does; <s> is never predicted:
      // probability 1 (log10 0), as lmplz writes it
      for (let w = 0; w < vocab.size; w++) p.set(String(w), w === vocab.bos ? 1 : (u.get(String(w)) ?? 0) + g0 * uniform);
    } else {
      for (const [key, uk] of u) {
        const cut = key.indexOf(' ');
        const ctx = key.slice(0, key.lastIndexOf(' '));
        p.set(key, uk + gamma.get(ctx)! * lower.get(key.slice(cut + 1))!);
      }
    }
    for (const [key, pk] of p) table.setKey(m, key, Math.min(0, Math.log10(pk)));
    lower = p;
  }
  // back-off weights: γ of each n-gram that is a context of the next order
  for (let m = 1; m < n; m++) {
    for (const [ctx, g] of gammas[m]) if (ctx !== '') table.backoff[m - 1].set(ctx, Math.log10(g));
  }
  return { table, discounts, adjusted };
}

/** adjusted counts (step 1); `bos` is the id of `<s>` */
export function adjustCounts(counts: NgramCounts, bos: number): Map<string, number>[] {
  const n = counts.order;
  const out = counts.orders.map(() => new Map<string, number>());
  out[n - 1] = new Map(counts.orders[n - 1]);
  const bosPrefix = String(bos);
  for (let m = 1; m < n; m++) {
    const a = out[m - 1];
    for (const [key, c] of counts.orders[m - 1]) {
      if (key === bosPrefix || key.startsWith(bosPrefix + ' ')) a.set(key, c);
    }
    for (const key of counts.orders[m].keys()) {
      const suffix = key.slice(key.indexOf(' ') + 1);
      a.set(suffix, (a.get(suffix) ?? 0) + 1);
    }
  }
  return out;
}

/**
 * lmplz's count-of-counts take one n-gram of each lower order m < n with its raw count instead of its adjusted
 * one: adjust_counts.cc walks the highest-order n-grams (padded on the left with `<s>`) in suffix order — last
 * word first, word ids in order of first appearance — and the m-grams still open when the walk ends, the
 * m-word suffixes of the last n-gram, are flushed with their raw counts (`actual_counts`), where every other
 * m-gram is counted with its adjusted count. The two differ only when that suffix does not start with `<s>`
 * and occurs more often than it has distinct left neighbours — e.g. when the word that appears last for the
 * first time is repeated (a text whose lines repeat): "a b c / b c a / a c b / c a b / x y" twice gives the
 * unigram y raw count 2, adjusted count 1, and lmplz -o 2's D1 0.2, D2 1.4, D3+ 2.6. Returns, per order
 * 1 … n, the n-gram (key) to count raw with its raw count, or undefined.
 */
export function lmplzLastSuffixes(counts: NgramCounts, bos: number): ({ key: string; raw: number } | undefined)[] {
  const n = counts.order;
  const out: ({ key: string; raw: number } | undefined)[] = new Array(n).fill(undefined);
  let best: number[] | null = null; // the last n-gram in suffix order, padded to n words with <s>
  const consider = (key: string): void => {
    if (best && best[n - 1] > Number(key.slice(key.lastIndexOf(' ') + 1))) return; // most keys lose on the last word, unparsed
    const ids = keyIds(key);
    while (ids.length < n) ids.unshift(bos);
    if (!best || suffixAfter(ids, best)) best = ids;
  };
  for (const key of counts.orders[n - 1].keys()) consider(key);
  const bosKey = String(bos);
  for (let m = 1; m < n; m++) for (const key of counts.orders[m - 1].keys()) if (key.startsWith(bosKey + ' ')) consider(key);
  if (!best) return out;
  for (let m = 1; m < n; m++) {
    const suffix = (best as number[]).slice(n - m);
    if (suffix[0] === bos) continue; // starts with <s>: its adjusted count is its raw count
    const key = ngramKey(suffix);
    out[m - 1] = { key, raw: counts.orders[m - 1].get(key) ?? 0 };
  }
  return out;
}

/** whether n-gram a comes after b in KenLM's SuffixOrder (compare the last words, then the ones before) */
function suffixAfter(a: readonly number[], b: readonly number[]): boolean {
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return a[i] > b[i];
  return false;
}

/**
 * D1, D2, D3+ of one order from its adjusted counts (step 2, Chen & Goodman eq. 26), `raw` the one n-gram lmplz
 * counts raw (lmplzLastSuffixes). Throws (or falls back) on degenerate data.
 */
export function estimateDiscounts(adjusted: ReadonlyMap<string, number>, order: number, fallback?: Discounts, raw?: { key: string; raw: number }): Discounts {
  const t = [0, 0, 0, 0, 0];
  for (const a of adjusted.values()) if (a >= 1 && a <= 4) t[a]++;
  const swapped = raw && adjusted.get(raw.key);
  if (raw && swapped !== undefined) {
    if (swapped >= 1 && swapped <= 4) t[swapped]--;
    if (raw.raw >= 1 && raw.raw <= 4) t[raw.raw]++;
  }
  const fail = (why: string): Discounts => {
    if (fallback) return [...fallback];
    throw new Error(`Kneser–Ney: cannot estimate the discounts of ${order}-grams: ${why} (small or artificial data?); pass discountFallback, e.g. [0.5, 1, 1.5]`);
  };
  for (let j = 1; j <= 3; j++) if (t[j] === 0) return fail(`no ${order}-grams with adjusted count ${j}`);
  const y = t[1] / (t[1] + 2 * t[2]);
  const d: Discounts = [0, 0, 0];
  for (let j = 1; j <= 3; j++) {
    d[j - 1] = j - (j + 1) * y * (t[j + 1] / t[j]);
    if (!(d[j - 1] >= 0 && d[j - 1] <= j)) return fail(`discount D${j} = ${d[j - 1]} is outside [0, ${j}]`);
  }
  return d;
}

/** the discount of an adjusted count: D1, D2 or D3+ (0 for 0) */
export function discountOf(d: Discounts, a: number): number {
  return a <= 0 ? 0 : d[Math.min(a, 3) - 1];
}

/** step 3 for one order: u of every n-gram and γ of every context (key without the last word) */
function initialProbabilities(adjusted: ReadonlyMap<string, number>, d: Discounts): { u: Map<string, number>; gamma: Map<string, number> } {
  const u = new Map<string, number>();
  const gamma = new Map<string, number>();
  for (const [ctx, f] of groupByContext(adjusted)) {
    let mass = 0;
    f.words.forEach((w, i) => {
      const a = f.values[i];
      mass += discountOf(d, a);
      u.set(ctx === '' ? String(w) : `${ctx} ${w}`, (a - discountOf(d, a)) / f.total);
    });
    gamma.set(ctx, mass / f.total);
  }
  return { u, gamma };
}
