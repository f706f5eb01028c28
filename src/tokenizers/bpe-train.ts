// Training a byte-level BPE: start from the 256 bytes and repeatedly merge the most frequent adjacent pair.
//
// minbpe recounts every pair after every merge (O(merges × text)). Here counts are updated incrementally:
// every distinct chunk is stored once with its frequency as a weight, in one linked list of positions; each
// pair keeps the positions where it (may) occur; a max-heap with lazy deletion finds the best pair. A merge
// only touches the occurrences of that pair and their two neighbours, so 3,840 merges on tinyshakespeare take
// well under a second instead of minutes.
//
// Ties (equal counts) go to the smaller (left id, right id), so training is deterministic.
// Worked example, text "aaabdaaabac", vocab 256 + 3 (from the Wikipedia BPE article):
//   merge 1: (a,a)=4 → Z(256)   "ZabdZabac"
//   merge 2: (Z,a)=2 ties with (a,b)=2; (97,98) < (256,97) → Y(257) = "ab"   "ZYdZYac"
//   merge 3: (Z,Y)=2 → X(258) = "aab"   "XdXac"
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

export function trainBPE(text: string, opts: BPETrainOptions): BPETokenizer {
  const specials = opts.specialTokens ?? [];
  const vocabSize = opts.vocabSize;
  if (!Number.isInteger(vocabSize) || vocabSize < 256 + specials.length) {
    throw new Error(`BPE vocab size ${vocabSize} is too small: it must be at least 256 (one token per byte)${specials.length ? ` + ${specials.length} special tokens` : ''}`);
  }
  if (vocabSize > K) throw new Error(`BPE vocab size ${vocabSize} is too large (at most ${K})`);
  const pattern = opts.pattern === undefined ? NAMED_PATTERNS.gpt4 : opts.pattern === null ? null : NAMED_PATTERNS[opts.pattern] ?? opts.pattern;
  const minFreq = opts.minFrequency ?? 2;
  const numMerges = vocabSize - 256 - specials.length;

  // 1. distinct chunks with their frequencies (special-token text never takes part in merges)
  const counts = new Map<string, number>();
  const segments = specials.length ? splitOnSpecials(text, specials) : [text];
  const re = pattern === null ? null : compilePattern(pattern);
  for (const seg of segments) {
    if (!seg) continue;
    if (re === null) { counts.set(seg, (counts.get(seg) ?? 0) + 1); continue; }
    re.lastIndex = 0;
    for (let m = re.exec(seg); m !== null; m = re.exec(seg)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  }

  // 2. all chunks' bytes in one linked list; weight = the chunk's frequency
  const encoded: Uint8Array[] = [];
  let total = 0;
  for (const chunk of counts.keys()) { const b = utf8Encode(chunk); encoded.push(b); total += b.length; }
  const tok = new Int32Array(total);
  const next = new Int32Array(total);
  const prev = new Int32Array(total);
  const weight = new Float64Array(total);
  {
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
  }

  // 3. pair counts, occurrence lists and the heap
  const pairCount = new Map<number, number>();
  const where = new Map<number, number[]>();
  const add = (key: number, w: number, pos: number): void => {
    pairCount.set(key, (pairCount.get(key) ?? 0) + w);
    const list = where.get(key);
    if (list) list.push(pos);
    else where.set(key, [pos]);
  };
  for (let p = 0; p < total; p++) if (next[p] >= 0) add(tok[p] * K + tok[next[p]], weight[p], p);
  const heap = new MaxHeap();
  for (const [key, c] of pairCount) heap.push(c, key);

  const merges: number[] = [];
  const touched = new Set<number>();
  while (merges.length / 2 < numMerges && heap.size > 0) {
    const { count, key } = heap.pop();
    if (pairCount.get(key) !== count) continue; // stale heap entry
    if (count < minFreq) break;
    const a = Math.floor(key / K), b = key - a * K;
    const id = 256 + merges.length / 2;
    merges.push(a, b);
    const positions = where.get(key)!.sort((x, y) => x - y);
    touched.clear();
    const dec = (k: number, w: number): void => { pairCount.set(k, pairCount.get(k)! - w); touched.add(k); };
    for (const p of positions) {
      if (tok[p] !== a) continue;
      const q = next[p];
      if (q < 0 || tok[q] !== b) continue;
      const w = weight[p];
      const pp = prev[p], nq = next[q];
      if (pp >= 0) { dec(tok[pp] * K + a, w); add(tok[pp] * K + id, w, pp); touched.add(tok[pp] * K + id); }
      if (nq >= 0) { dec(b * K + tok[nq], w); add(id * K + tok[nq], w, p); touched.add(id * K + tok[nq]); }
      tok[p] = id;
      tok[q] = -1;
      next[p] = nq;
      if (nq >= 0) prev[nq] = p;
    }
    pairCount.delete(key);
    where.delete(key);
    touched.delete(key);
    for (const k of touched) {
      const c = pairCount.get(k);
      if (c === undefined) continue;
      if (c <= 0) { pairCount.delete(k); where.delete(k); } else heap.push(c, k);
    }
    opts.onProgress?.({ merge: merges.length / 2, merges: numMerges, left: a, right: b, id, count });
  }

  const special: Record<string, number> = {};
  const learned = 256 + merges.length / 2;
  specials.forEach((s, i) => (special[s] = learned + i));
  return BPETokenizer.fromMerges(merges, { name: opts.name ?? 'bpe', pattern, special });
}

function splitOnSpecials(text: string, specials: string[]): string[] {
  const re = new RegExp([...specials].sort((a, b) => b.length - a.length).map((s) => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')).join('|'), 'g');
  return text.split(re);
}

/** max-heap of (count, key); ties → smaller key first */
class MaxHeap {
  private c: number[] = [];
  private k: number[] = [];
  get size(): number {
    return this.c.length;
  }
  private above(i: number, j: number): boolean {
    return this.c[i] > this.c[j] || (this.c[i] === this.c[j] && this.k[i] < this.k[j]);
  }
  private swap(i: number, j: number): void {
    let t = this.c[i]; this.c[i] = this.c[j]; this.c[j] = t;
    t = this.k[i]; this.k[i] = this.k[j]; this.k[j] = t;
  }
  push(count: number, key: number): void {
    this.c.push(count); this.k.push(key);
    let i = this.c.length - 1;
    while (i > 0) { const up = (i - 1) >> 1; if (!this.above(i, up)) break; this.swap(i, up); i = up; }
  }
  pop(): { count: number; key: number } {
    const top = { count: this.c[0], key: this.k[0] };
    const last = this.c.length - 1;
    this.swap(0, last);
    this.c.pop(); this.k.pop();
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
