// Training a byte-level BPE: start from the 256 bytes and repeatedly merge the most frequent adjacent pair.
//
// minbpe recounts every pair after every merge (O(merges × text)). Here counts are updated incrementally:
// every distinct chunk is stored once with its frequency as a weight, in one linked list of positions; each
// pair keeps the positions where it (may) occur; a max-heap with lazy deletion finds the best pair. A merge
// only touches the occurrences of that pair and their two neighbours, so 3,840 merges on tinyshakespeare take
// well under a second instead of minutes.
//
// Ties (equal counts) go to the pair that occurs first in the (partly merged) text, exactly as minbpe's
// `max(stats, key=stats.get)` does over a dict filled in order of first occurrence (with a split pattern,
// over the chunks in text order). Each pair keeps the position of its first occurrence; positions in the
// linked list are in text order because distinct chunks are stored in order of first appearance. When that
// occurrence is merged away the position is stale, which is detected when the pair reaches the top of the
// heap and then recomputed from the pair's occurrence list (so no step is quadratic).
// Worked example, text "aaabdaaabac", vocab 256 + 3 (from the Wikipedia BPE article), checked with minbpe:
//   merge 1: (a,a)=4 → Z(256)   "ZabdZabac"
//   merge 2: (Z,a)=2 ties with (a,b)=2; (Z,a) occurs first → Y(257) = "aaa"   "YbdYbac"
//   merge 3: (Y,b)=2 → X(258) = "aaab"   "XdXac"
import { BPETokenizer } from './bpe.js';
import { NAMED_PATTERNS, compilePattern } from './patterns.js';
import { utf8Encode } from './utf8.js';

export interface BPETrainProgress {
  merge: number; // 1-based
  merges: number; // planned
  left: number;
  right: number;
  id: number;
  count: number;
}

export interface BPETrainOptions {
  vocabSize: number;
  /** split regex source or a name (gpt2, gpt4/cl100k, o200k); null = no split (minbpe's BasicTokenizer). Default gpt4 */
  pattern?: string | null;
  /** special tokens, given ids after the learned tokens; their text is cut out of the training data */
  specialTokens?: string[];
  /** pairs seen fewer times than this are never merged (default 2); training stops early then */
  minFrequency?: number;
  name?: string;
  onProgress?: (p: BPETrainProgress) => void;
}

const K = 2097152; // 2^21, pair key = left * K + right

/**
 * Trains a byte-level BPE the way minbpe does (BasicTokenizer with `pattern: null`, RegexTokenizer otherwise),
 * with identical merges, ties included. Throws on a vocabulary size below 256 + specials or above 2^21, and
 * on a split pattern that is invalid or can backtrack catastrophically (patterns.ts).
 */
export function trainBPE(text: string, opts: BPETrainOptions): BPETokenizer {
  const specials = opts.specialTokens ?? [];
  const vocabSize = opts.vocabSize;
  if (!Number.isInteger(vocabSize) || vocabSize < 256 + specials.length) {
    throw new Error(`BPE vocab size ${vocabSize} is too small: it must be at least 256 (one token per byte)${specials.length ? ` + ${specials.length} special tokens` : ''}`);
  }
  if (vocabSize > K) throw new Error(`BPE vocab size ${vocabSize} is too large (at most ${K})`);
  const pattern = opts.pattern === undefined ? NAMED_PATTERNS.gpt4 : opts.pattern === null ? null : NAMED_PATTERNS[opts.pattern] ?? opts.pattern;
  const numMerges = vocabSize - 256 - specials.length;
  const list = buildList(countChunks(text, pattern, specials));
  const merges = runMerges(list, numMerges, opts.minFrequency ?? 2, opts.onProgress);
  const special: Record<string, number> = Object.create(null); // "__proto__" is a possible token text
  const learned = 256 + merges.length / 2;
  specials.forEach((s, i) => (special[s] = learned + i));
  return BPETokenizer.fromMerges(merges, { name: opts.name ?? 'bpe', pattern, special });
}

/** distinct chunks → frequency, in order of first appearance (special-token text never takes part) */
function countChunks(text: string, pattern: string | null, specials: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  const segments = specials.length ? splitOnSpecials(text, specials) : [text];
  const re = pattern === null ? null : compilePattern(pattern, 'training pattern');
  for (const seg of segments) {
    if (!seg) continue;
    if (re === null) { counts.set(seg, (counts.get(seg) ?? 0) + 1); continue; }
    re.lastIndex = 0;
    for (let m = re.exec(seg); m !== null; m = re.exec(seg)) {
      if (m[0] === '') { re.lastIndex += seg.codePointAt(m.index)! > 0xffff ? 2 : 1; continue; } // an empty match would loop forever
      counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
    }
  }
  return counts;
}

/** all chunks' bytes in one doubly linked list (text order of first appearance); weight = chunk frequency */
interface TokenList { tok: Int32Array; next: Int32Array; prev: Int32Array; weight: Float64Array; total: number }

function buildList(counts: Map<string, number>): TokenList {
  const encoded: Uint8Array[] = [];
  let total = 0;
  for (const chunk of counts.keys()) { const b = utf8Encode(chunk); encoded.push(b); total += b.length; }
  const tok = new Int32Array(total), next = new Int32Array(total), prev = new Int32Array(total);
  const weight = new Float64Array(total);
  let p = 0, c = 0;
  for (const freq of counts.values()) {
    const b = encoded[c++];
    for (let i = 0; i < b.length; i++, p++) {
      tok[p] = b[i];
      weight[p] = freq;
      prev[p] = i === 0 ? -1 : p - 1;
      next[p] = i === b.length - 1 ? -1 : p + 1;
    }
  }
  return { tok, next, prev, weight, total };
}

/** merges until `numMerges` are made or the best pair is rarer than minFreq; returns the flat merge list */
function runMerges(L: TokenList, numMerges: number, minFreq: number, onProgress?: (p: BPETrainProgress) => void): number[] {
  const pairs = new PairIndex(L);
  const merges: number[] = [];
  while (merges.length / 2 < numMerges) {
    const best = pairs.popBest();
    if (best === null || best.count < minFreq) break;
    const a = Math.floor(best.key / K), b = best.key - a * K;
    const id = 256 + merges.length / 2;
    merges.push(a, b);
    pairs.merge(a, b, id);
    onProgress?.({ merge: merges.length / 2, merges: numMerges, left: a, right: b, id, count: best.count });
  }
  return merges;
}

/**
 * Pair counts over the token list, each pair's occurrence positions (some stale) and the position of its
 * first occurrence (a lower bound: exact whenever the occurrence there is still live), with a max-heap of
 * (count, first position) under lazy deletion.
 */
class PairIndex {
  /** per pair key: its weighted count, the lower bound of its first position, and its positions (some stale) */
  private readonly pairs = new Map<number, Pair>();
  private readonly heap = new MaxHeap();
  private readonly touched = new Set<number>();

  constructor(private readonly L: TokenList) {
    const { tok, next, weight, total } = L;
    for (let p = 0; p < total; p++) if (next[p] >= 0) this.add(tok[p] * K + tok[next[p]], weight[p], p);
    for (const [key, e] of this.pairs) this.heap.push(e.count, e.first, key);
  }

  private add(key: number, w: number, pos: number): void {
    const e = this.pairs.get(key);
    if (e === undefined) { this.pairs.set(key, { count: w, first: pos, where: [pos] }); return; }
    e.count += w;
    e.where.push(pos);
    if (pos < e.first) e.first = pos;
  }

  /** whether the pair `key` still occurs at position p */
  private live(key: number, p: number): boolean {
    const { tok, next } = this.L;
    const a = Math.floor(key / K), q = next[p];
    return tok[p] === a && q >= 0 && tok[q] === key - a * K;
  }

  /** the most frequent pair, ties to the one occurring first; null when none is left */
  popBest(): { key: number; count: number } | null {
    while (this.heap.size > 0) {
      const { count, first, key } = this.heap.pop();
      const e = this.pairs.get(key);
      if (e === undefined || e.count !== count) continue; // stale count
      if (!this.live(key, first)) {
        // the first occurrence was merged away: find the new first one, and drop dead positions meanwhile
        e.where = e.where.filter((p) => this.live(key, p));
        let f = Infinity;
        for (const p of e.where) if (p < f) f = p;
        e.first = f;
        this.heap.push(count, f, key);
        continue;
      }
      return { key, count };
    }
    return null;
  }

  /** replaces every occurrence of (a, b), left to right, by `id`, updating neighbouring pairs */
  merge(a: number, b: number, id: number): void {
    const { tok, next, prev, weight } = this.L;
    const key = a * K + b;
    const positions = this.pairs.get(key)!.where.sort((x, y) => x - y);
    const touched = this.touched;
    touched.clear();
    const dec = (k: number, w: number): void => { this.pairs.get(k)!.count -= w; touched.add(k); };
    for (const p of positions) {
      if (tok[p] !== a) continue;
      const q = next[p];
      if (q < 0 || tok[q] !== b) continue;
      const w = weight[p];
      const pp = prev[p], nq = next[q];
      if (pp >= 0) { dec(tok[pp] * K + a, w); this.add(tok[pp] * K + id, w, pp); touched.add(tok[pp] * K + id); }
      if (nq >= 0) { dec(b * K + tok[nq], w); this.add(id * K + tok[nq], w, p); touched.add(id * K + tok[nq]); }
      tok[p] = id;
      tok[q] = -1;
      next[p] = nq;
      if (nq >= 0) prev[nq] = p;
    }
    this.pairs.delete(key);
    touched.delete(key);
    for (const k of touched) {
      const e = this.pairs.get(k);
      if (e === undefined) continue;
      if (e.count <= 0) this.pairs.delete(k);
      else this.heap.push(e.count, e.first, k);
    }
  }
}

interface Pair { count: number; first: number; where: number[] }

function splitOnSpecials(text: string, specials: string[]): string[] {
  const re = new RegExp([...specials].sort((a, b) => b.length - a.length).map((s) => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')).join('|'), 'g');
  return text.split(re);
}

/** max-heap of (count, first position, key): larger count first, then earlier first occurrence, then smaller key */
class MaxHeap {
  private c: number[] = [];
  private f: number[] = [];
  private k: number[] = [];
  get size(): number {
    return this.c.length;
  }
  private above(i: number, j: number): boolean {
    const c = this.c, f = this.f;
    return c[i] > c[j] || (c[i] === c[j] && (f[i] < f[j] || (f[i] === f[j] && this.k[i] < this.k[j])));
  }
  private swap(i: number, j: number): void {
    const c = this.c, f = this.f, k = this.k;
    let t = c[i]; c[i] = c[j]; c[j] = t;
    t = f[i]; f[i] = f[j]; f[j] = t;
    t = k[i]; k[i] = k[j]; k[j] = t;
  }
  push(count: number, first: number, key: number): void {
    this.c.push(count); this.f.push(first); this.k.push(key);
    let i = this.c.length - 1;
    while (i > 0) { const up = (i - 1) >> 1; if (!this.above(i, up)) break; this.swap(i, up); i = up; }
  }
  pop(): { count: number; first: number; key: number } {
    const top = { count: this.c[0], first: this.f[0], key: this.k[0] };
    const last = this.c.length - 1;
    this.swap(0, last);
    this.c.pop(); this.f.pop(); this.k.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < last && this.above(l, m)) m = l;
      if (r < last && this.above(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m); i = m;
    }
    return top;
  }
}
