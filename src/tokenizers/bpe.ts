// Byte-level BPE (GPT-2 / tiktoken style). One class serves OpenAI's encodings (ranks loaded from tiktoken
// data) and the tokenizers we train (bpe-train.ts): in both, a token's id is its merge rank, the byte
// strings of all tokens form the vocabulary, and encoding a chunk repeatedly merges the adjacent pair whose
// concatenation has the lowest rank — exactly tiktoken's `byte_pair_merge`.
//
// Worked example with a toy vocabulary {a:0, b:1, c:2, ab:3, abc:4, bc:5}:
//   "abc" → whole chunk is a token → [4]        (tiktoken looks the whole piece up first)
//   "abcab" → [a b c a b] → lowest pair rank is "ab"(3), leftmost first → [ab c a b] → [ab c ab]
//           → "abc"(4) → [abc ab] → [4, 3]
//
// Speed: text → regex chunks; each distinct chunk is encoded once and cached; ASCII chunks are their own
// byte string so the whole-piece lookup needs no UTF-8 encoding; merges look up (left id, right id) → merged
// id in a numeric Map filled lazily, so the merge loop never builds strings.
import type { EncodeOptions, Tokenizer } from './tokenizer.js';
import { compilePattern } from './patterns.js';
import { binaryToBytes, utf8Decode, utf8EncodeInto } from './utf8.js';

export interface BPETokenizerJSON {
  type: 'bpe';
  name?: string;
  /** split regex source (JS syntax, compiled with 'gu'); null/absent = no split (minbpe's BasicTokenizer) */
  pattern?: string | null;
  /** compact form for trained tokenizers: ids 0–255 are bytes, token 256+i = merges[2i] ++ merges[2i+1] */
  merges?: number[];
  /** general form (any tiktoken encoding): tiktoken rank-file text, "base64 rank" per line */
  ranks?: string;
  special?: Record<string, number>;
}

export interface BPEOptions {
  name?: string;
  pattern?: string | null;
  special?: Record<string, number>;
}

const PAIR = 2097152; // 2^21: pair key = left * PAIR + right stays an exact double for ids < 2^21
const CACHE_LIMIT = 200_000;
const NONE = -1;

export class BPETokenizer implements Tokenizer {
  readonly type = 'bpe';
  readonly name: string;
  readonly pattern: string | null;
  readonly specialTokens: Map<string, number>;
  /** byte string (one char per byte) → id */
  private readonly ranks: Map<string, number>;
  /** id → byte string; holes for unused ids */
  private readonly tokens: string[] = [];
  private readonly byteId = new Int32Array(256).fill(NONE);
  private readonly regex: RegExp | null;
  private readonly pairs = new PairTable();
  private readonly cache = new Map<string, number | number[]>();
  private readonly specialById = new Map<number, string>();
  private readonly maxId: number;
  private scratch = new Uint8Array(1024);
  private scratchIds = new Int32Array(1024);
  private scratchRanks = new Float64Array(1024);
  /** merges this tokenizer was trained with, if it was built from merges (kept for compact JSON) */
  private trainedMerges: number[] | null = null;

  constructor(ranks: Map<string, number>, opts: BPEOptions = {}) {
    this.ranks = ranks;
    this.name = opts.name ?? 'bpe';
    this.pattern = opts.pattern ?? null;
    this.regex = this.pattern === null ? null : compilePattern(this.pattern);
    let maxId = -1;
    for (const [bin, id] of ranks) {
      this.tokens[id] = bin;
      if (id > maxId) maxId = id;
      if (bin.length === 1) this.byteId[bin.charCodeAt(0)] = id;
    }
    for (let b = 0; b < 256; b++) {
      if (this.byteId[b] === NONE) throw new Error(`BPE vocabulary lacks the single byte 0x${b.toString(16).padStart(2, '0')}; every byte needs a token`);
    }
    if (maxId >= PAIR) throw new Error(`BPE vocabulary too large (${maxId + 1} ids; at most ${PAIR})`);
    this.specialTokens = new Map(Object.entries(opts.special ?? {}));
    for (const [s, id] of this.specialTokens) {
      if (this.tokens[id] !== undefined) throw new Error(`special token ${JSON.stringify(s)} reuses id ${id} of an ordinary token`);
      this.specialById.set(id, s);
      if (id > maxId) maxId = id;
    }
    this.maxId = maxId;
  }

  /** the minbpe form: ids 0–255 are the bytes, merges[i] = [left, right] makes token 256 + i */
  static fromMerges(merges: ArrayLike<number>, opts: BPEOptions = {}): BPETokenizer {
    if (merges.length % 2) throw new Error('BPE merges must be a flat list of (left, right) id pairs');
    const bins: string[] = [];
    for (let b = 0; b < 256; b++) bins.push(String.fromCharCode(b));
    for (let i = 0; i < merges.length; i += 2) {
      const a = merges[i], b = merges[i + 1];
      const id = 256 + i / 2;
      if (!(a >= 0 && a < id && b >= 0 && b < id) || !Number.isInteger(a) || !Number.isInteger(b)) {
        throw new Error(`BPE merge #${i / 2} (${a}, ${b}) refers to an id that does not exist yet (must be < ${id})`);
      }
      bins.push(bins[a] + bins[b]);
    }
    const ranks = new Map<string, number>();
    bins.forEach((bin, id) => {
      // a later duplicate would be unreachable; keep the first, like tiktoken keeps the lowest rank
      if (!ranks.has(bin)) ranks.set(bin, id);
    });
    const t = new BPETokenizer(ranks, opts);
    t.trainedMerges = Array.from(merges);
    return t;
  }

  get vocabSize(): number {
    return this.maxId + 1;
  }

  /** ordinary (non-special) token count */
  get mergeableCount(): number {
    return this.ranks.size;
  }

  /** byte strings by id, for exporters (holes are undefined) */
  tokenBinaries(): readonly (string | undefined)[] {
    return this.tokens;
  }

  /** the merges, if this tokenizer was built from merges */
  get merges(): readonly number[] | null {
    return this.trainedMerges;
  }

  rankOf(bin: string): number | undefined {
    return this.ranks.get(bin);
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const out: number[] = [];
    const policy = opts.allowedSpecial ?? 'none';
    if (this.specialTokens.size === 0 || policy === 'none') {
      this.encodeOrdinaryInto(text, 0, text.length, out);
      return out;
    }
    const allowed = policy === 'all' || policy === 'raise' ? [...this.specialTokens.keys()] : [...this.specialTokens.keys()].filter((s) => policy.has(s));
    if (allowed.length === 0) {
      this.encodeOrdinaryInto(text, 0, text.length, out);
      return out;
    }
    // longest first so "<|end|>" never shadows "<|endoftext|>"
    allowed.sort((a, b) => b.length - a.length);
    const re = new RegExp(allowed.map(escapeRegExp).join('|'), 'g');
    let start = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (policy === 'raise') throw new Error(`input contains the special token ${JSON.stringify(m[0])} at offset ${m.index}; pass allowedSpecial 'all' to encode it as a special token or 'none' to encode it as text`);
      this.encodeOrdinaryInto(text, start, m.index, out);
      out.push(this.specialTokens.get(m[0])!);
      start = m.index + m[0].length;
    }
    this.encodeOrdinaryInto(text, start, text.length, out);
    return out;
  }

  /** encode without looking for special tokens at all (tiktoken's encode_ordinary) */
  encodeOrdinary(text: string): number[] {
    const out: number[] = [];
    this.encodeOrdinaryInto(text, 0, text.length, out);
    return out;
  }

  private encodeOrdinaryInto(text: string, start: number, end: number, out: number[]): void {
    if (start >= end) return;
    const re = this.regex;
    if (re === null) {
      this.encodeChunk(text.slice(start, end), out, false);
      return;
    }
    const s = start === 0 && end === text.length ? text : text.slice(start, end);
    re.lastIndex = 0;
    const cache = this.cache;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      const chunk = m[0];
      const hit = cache.get(chunk);
      if (hit !== undefined) {
        if (typeof hit === 'number') out.push(hit);
        else for (let i = 0; i < hit.length; i++) out.push(hit[i]);
        continue;
      }
      this.encodeChunk(chunk, out, true);
    }
  }

  private encodeChunk(chunk: string, out: number[], useCache: boolean): void {
    let ascii = true;
    for (let i = 0; i < chunk.length; i++) {
      if (chunk.charCodeAt(i) >= 0x80) { ascii = false; break; }
    }
    let n = chunk.length;
    let bytes: Uint8Array;
    if (ascii) {
      const id = this.ranks.get(chunk);
      if (id !== undefined) {
        out.push(id);
        if (useCache) this.remember(chunk, id);
        return;
      }
      if (this.scratch.length < n) this.scratch = new Uint8Array(n * 2);
      bytes = this.scratch;
      for (let i = 0; i < n; i++) bytes[i] = chunk.charCodeAt(i);
    } else {
      if (this.scratch.length < chunk.length * 3) this.scratch = new Uint8Array(chunk.length * 6);
      bytes = this.scratch;
      n = utf8EncodeInto(chunk, 0, chunk.length, bytes);
      if (n <= 4096) {
        const id = this.ranks.get(String.fromCharCode.apply(null, bytes.subarray(0, n) as unknown as number[]));
        if (id !== undefined) {
          out.push(id);
          if (useCache) this.remember(chunk, id);
          return;
        }
      }
    }
    const ids = n <= 128 ? this.mergeSmall(bytes, n) : this.mergeLarge(bytes, n);
    for (let i = 0; i < ids.length; i++) out.push(ids[i]);
    if (useCache) this.remember(chunk, ids.length === 1 ? ids[0] : ids);
  }

  private remember(chunk: string, v: number | number[]): void {
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(chunk, v);
  }

  /** id of the token that is left ++ right, or NONE; memoised because the same pairs recur endlessly */
  private pairRank(left: number, right: number): number {
    const r = this.pairs.get(left, right);
    if (r !== ABSENT) return r;
    const id = this.ranks.get(this.tokens[left] + this.tokens[right]);
    const v = id === undefined ? NONE : id;
    this.pairs.set(left, right, v);
    return v;
  }

  /** O(n²) merge over flat arrays: fastest for the short chunks regex splitting produces */
  private mergeSmall(bytes: Uint8Array, n: number): number[] {
    if (this.scratchIds.length < n + 1) {
      this.scratchIds = new Int32Array(n * 2);
      this.scratchRanks = new Float64Array(n * 2);
    }
    const ids = this.scratchIds;
    const rk = this.scratchRanks; // rk[i] = id of ids[i] ++ ids[i+1], Infinity when no such token
    for (let i = 0; i < n; i++) ids[i] = this.byteId[bytes[i]];
    for (let i = 0; i < n - 1; i++) {
      const r = this.pairRank(ids[i], ids[i + 1]);
      rk[i] = r === NONE ? Infinity : r;
    }
    let len = n;
    while (len > 1) {
      let best = Infinity;
      let at = -1;
      for (let i = 0; i < len - 1; i++) {
        if (rk[i] < best) { best = rk[i]; at = i; }
      }
      if (at < 0) break;
      ids[at] = best;
      for (let i = at + 1; i < len - 1; i++) { ids[i] = ids[i + 1]; rk[i] = rk[i + 1]; }
      len--;
      if (at < len - 1) { const r = this.pairRank(ids[at], ids[at + 1]); rk[at] = r === NONE ? Infinity : r; }
      if (at > 0) { const r = this.pairRank(ids[at - 1], ids[at]); rk[at - 1] = r === NONE ? Infinity : r; }
    }
    return Array.from(ids.subarray(0, len));
  }

  /**
   * O(n log n) merge for long chunks (huge whitespace runs, unsplit text of the basic variant): a linked
   * list of parts and a min-heap of (rank, position), so ties still go to the leftmost pair like tiktoken.
   */
  private mergeLarge(bytes: Uint8Array, n: number): number[] {
    const ids = new Int32Array(n);
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) { ids[i] = this.byteId[bytes[i]]; next[i] = i + 1 < n ? i + 1 : NONE; prev[i] = i - 1; }
    const heap = new MinHeap();
    for (let i = 0; i < n - 1; i++) {
      const r = this.pairRank(ids[i], ids[i + 1]);
      if (r !== NONE) heap.push(r, i, ids[i], ids[i + 1]);
    }
    while (heap.size > 0) {
      const { rank, pos, left, right } = heap.pop();
      const q = next[pos];
      // stale entry: one side was merged away since it was pushed
      if (ids[pos] !== left || q === NONE || ids[q] !== right) continue;
      ids[pos] = rank;
      ids[q] = NONE;
      const nq = next[q];
      next[pos] = nq;
      if (nq !== NONE) prev[nq] = pos;
      if (nq !== NONE) { const r = this.pairRank(rank, ids[nq]); if (r !== NONE) heap.push(r, pos, rank, ids[nq]); }
      const p = prev[pos];
      if (p >= 0) { const r = this.pairRank(ids[p], rank); if (r !== NONE) heap.push(r, p, ids[p], rank); }
    }
    const out: number[] = [];
    for (let i = 0; i !== NONE; i = next[i]) out.push(ids[i]);
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    return utf8Decode(this.decodeBytes(ids));
  }

  /** raw bytes of the ids (special tokens as their UTF-8 text); a partial character stays partial */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    let total = 0;
    for (let i = 0; i < ids.length; i++) total += this.binaryOf(ids[i]).length;
    const out = new Uint8Array(total);
    let k = 0;
    for (let i = 0; i < ids.length; i++) {
      const bin = this.binaryOf(ids[i]);
      for (let j = 0; j < bin.length; j++) out[k++] = bin.charCodeAt(j);
    }
    return out;
  }

  tokenBytes(id: number): Uint8Array {
    return binaryToBytes(this.binaryOf(id));
  }

  private binaryOf(id: number): string {
    const bin = this.tokens[id];
    if (bin !== undefined) return bin;
    const s = this.specialById.get(id);
    if (s !== undefined) return unescape(encodeURIComponent(s)); // UTF-8 as a binary string
    throw new Error(`token id ${id} is not in the ${this.name} vocabulary (size ${this.vocabSize})`);
  }

  idToToken(id: number): string {
    const s = this.specialById.get(id);
    if (s !== undefined) return s;
    return utf8Decode(this.tokenBytes(id));
  }

  toJSON(): BPETokenizerJSON {
    const j: BPETokenizerJSON = { type: 'bpe', name: this.name, pattern: this.pattern };
    if (this.trainedMerges) j.merges = this.trainedMerges;
    else j.ranks = this.toTiktoken();
    if (this.specialTokens.size) j.special = Object.fromEntries(this.specialTokens);
    return j;
  }

  /** tiktoken rank-file text: "base64(bytes) rank" per line, in rank order */
  toTiktoken(): string {
    const lines: string[] = [];
    this.tokens.forEach((bin, id) => {
      if (bin !== undefined && this.ranks.get(bin) === id) lines.push(`${btoa(bin)} ${id}`);
    });
    return lines.join('\n') + '\n';
  }
}

const ABSENT = -2;

/**
 * (left id, right id) → merged id, open addressing over Int32Arrays: several times faster than a Map with
 * the 42-bit numeric keys it replaces, and this lookup is the inner loop of every merge.
 */
class PairTable {
  private bits = 12;
  private a = new Int32Array(1 << 12).fill(-1);
  private b = new Int32Array(1 << 12);
  private v = new Int32Array(1 << 12);
  private size = 0;
  private slot(left: number, right: number): number {
    return ((Math.imul(left, 0x9e3779b1) ^ Math.imul(right + 0x632be5ab, 0x85ebca77)) >>> 0) >>> (32 - this.bits);
  }
  get(left: number, right: number): number {
    const mask = (1 << this.bits) - 1;
    for (let i = this.slot(left, right); ; i = (i + 1) & mask) {
      const k = this.a[i];
      if (k === -1) return ABSENT;
      if (k === left && this.b[i] === right) return this.v[i];
    }
  }
  set(left: number, right: number, value: number): void {
    if ((this.size + 1) * 2 > 1 << this.bits) this.grow();
    const mask = (1 << this.bits) - 1;
    let i = this.slot(left, right);
    while (this.a[i] !== -1) i = (i + 1) & mask;
    this.a[i] = left;
    this.b[i] = right;
    this.v[i] = value;
    this.size++;
  }
  private grow(): void {
    const { a, b, v } = this;
    this.bits++;
    this.a = new Int32Array(1 << this.bits).fill(-1);
    this.b = new Int32Array(1 << this.bits);
    this.v = new Int32Array(1 << this.bits);
    this.size = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== -1) this.set(a[i], b[i], v[i]);
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/** binary min-heap over (rank, pos) with the pair it was computed for, in parallel arrays */
class MinHeap {
  private r: number[] = [];
  private p: number[] = [];
  private a: number[] = [];
  private b: number[] = [];
  get size(): number {
    return this.r.length;
  }
  private less(i: number, j: number): boolean {
    return this.r[i] < this.r[j] || (this.r[i] === this.r[j] && this.p[i] < this.p[j]);
  }
  private swap(i: number, j: number): void {
    for (const arr of [this.r, this.p, this.a, this.b]) { const t = arr[i]; arr[i] = arr[j]; arr[j] = t; }
  }
  push(rank: number, pos: number, left: number, right: number): void {
    this.r.push(rank); this.p.push(pos); this.a.push(left); this.b.push(right);
    let i = this.r.length - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!this.less(i, up)) break;
      this.swap(i, up);
      i = up;
    }
  }
  pop(): { rank: number; pos: number; left: number; right: number } {
    const top = { rank: this.r[0], pos: this.p[0], left: this.a[0], right: this.b[0] };
    const last = this.r.length - 1;
    this.swap(0, last);
    this.r.pop(); this.p.pop(); this.a.pop(); this.b.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, rr = l + 1;
      let m = i;
      if (l < last && this.less(l, m)) m = l;
      if (rr < last && this.less(rr, m)) m = rr;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}
