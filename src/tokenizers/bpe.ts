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
// Speed: text → regex chunks. Each distinct chunk is settled once and cached per instance (a small Map that
// stays in the CPU cache). A new chunk is first looked up whole, as text, in `textRanks` (token text → id for
// every token whose bytes are well-formed UTF-8): most chunks are one token, and this needs no UTF-8 bytes.
// The rest are encoded to bytes (ASCII copied straight) and merged; a merge finds the token left ++ right
// through ConcatTable, a hash table built from the vocabulary whose keys compose, so the merge loop never
// builds a string and a fresh tokenizer merges as fast as a used one.
import type { EncodeOptions, Tokenizer } from './tokenizer.js';
import { compilePattern } from './patterns.js';
import { binaryToBytes, binaryToText, utf8Decode, utf8EncodeInto } from './utf8.js';
import { MAX_TOKEN_ID, checkId, checkSpecials } from './validate.js';

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
const ABSENT = -2;

export class BPETokenizer implements Tokenizer {
  readonly type = 'bpe';
  readonly name: string;
  readonly pattern: string | null;
  readonly specialTokens: Map<string, number>;
  /** byte string (one char per byte) → id */
  private readonly ranks: Map<string, number>;
  /** token text → id, for the tokens whose bytes are well-formed UTF-8 (ASCII ones share their key with `ranks`) */
  private readonly textRanks = new Map<string, number>();
  /** id → byte string; holes for unused ids */
  private readonly tokens: string[] = [];
  private readonly byteId = new Int32Array(256).fill(NONE);
  /** (byte << 8 | byte) → id of the two-byte token, NONE, or ABSENT until first needed */
  private readonly bytePair = new Int32Array(65536).fill(ABSENT);
  private readonly regex: RegExp | null;
  /** filled in the constructor: finds the token whose bytes are those of two others, without a string */
  private readonly pairs: ConcatTable;
  /** chunk text → its id, or ids when it is not a single token */
  private readonly cache = new Map<string, number | number[]>();
  private readonly specialById = new Map<number, string>();
  private readonly maxId: number;
  private scratch = new Uint8Array(1024);
  private scratchIds = new Int32Array(1024);
  private scratchRanks = new Float64Array(1024);
  /** merges this tokenizer was trained with, if it was built from merges (kept for compact JSON) */
  private trainedMerges: number[] | null = null;

  /**
   * `ranks` maps each token's bytes (a binary string) to its id = merge rank. Throws an Error naming the
   * field for a bad or unsafe pattern, an invalid or repeated id, a missing single byte, or a special token
   * that reuses an ordinary id.
   */
  constructor(ranks: Map<string, number>, opts: BPEOptions = {}) {
    this.ranks = ranks;
    if (opts.name !== undefined && typeof opts.name !== 'string') throw new Error(`field "name" must be a string, got ${JSON.stringify(opts.name)}`);
    this.name = opts.name ?? 'bpe';
    this.pattern = opts.pattern ?? null;
    this.regex = this.pattern === null ? null : compilePattern(this.pattern, 'field "pattern"');
    let maxId = -1;
    for (const [bin, id] of ranks) {
      checkId(id, `token ${JSON.stringify(bin.slice(0, 40))}`);
      if (bin.length === 0) throw new Error(`token id ${id} has no bytes; every BPE token is at least one byte`);
      const other = this.tokens[id];
      if (other !== undefined) throw new Error(`id ${id} is given to two tokens (${JSON.stringify(other.slice(0, 40))} and ${JSON.stringify(bin.slice(0, 40))}, as bytes)`);
      this.tokens[id] = bin;
      if (id > maxId) maxId = id;
      if (bin.length === 1) this.byteId[bin.charCodeAt(0)] = id;
      let ascii = true;
      for (let i = 0; i < bin.length; i++) if (bin.charCodeAt(i) >= 0x80) { ascii = false; break; }
      const text = ascii ? bin : binaryToText(bin);
      if (text !== null) this.textRanks.set(text, id);
    }
    for (let b = 0; b < 256; b++) {
      if (this.byteId[b] === NONE) throw new Error(`BPE vocabulary lacks the single byte 0x${b.toString(16).padStart(2, '0')}; every byte needs a token`);
    }
    if (maxId > MAX_TOKEN_ID || maxId >= PAIR) throw new Error(`BPE vocabulary too large (${maxId + 1} ids; at most ${PAIR})`);
    this.pairs = new ConcatTable(this.tokens, maxId + 1);
    this.specialTokens = checkSpecials(opts.special, 'field "special"');
    for (const [s, id] of this.specialTokens) {
      if (this.tokens[id] !== undefined) throw new Error(`field "special": special token ${JSON.stringify(s)} reuses id ${id} of an ordinary token`);
      this.specialById.set(id, s);
      if (id > maxId) maxId = id;
    }
    this.maxId = maxId;
  }

  /** the minbpe form: ids 0–255 are the bytes, merges[i] = [left, right] makes token 256 + i */
  static fromMerges(merges: ArrayLike<number>, opts: BPEOptions = {}): BPETokenizer {
    if (merges.length / 2 > MAX_TOKEN_ID + 1 - 256) throw new Error(`field "merges": too many merges (${merges.length / 2})`);
    if (merges.length % 2) throw new Error('field "merges": BPE merges must be a flat list of (left, right) id pairs');
    const bins: string[] = [];
    for (let b = 0; b < 256; b++) bins.push(String.fromCharCode(b));
    for (let i = 0; i < merges.length; i += 2) {
      const a = merges[i], b = merges[i + 1];
      const id = 256 + i / 2;
      if (!(a >= 0 && a < id && b >= 0 && b < id) || !Number.isInteger(a) || !Number.isInteger(b)) {
        throw new Error(`field "merges": BPE merge #${i / 2} (${a}, ${b}) refers to an id that does not exist yet (must be < ${id})`);
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
      const whole = text.slice(start, end);
      const id = this.textRanks.get(whole);
      if (id !== undefined) out.push(id);
      else this.encodeChunk(whole, out, false);
      return;
    }
    const s = start === 0 && end === text.length ? text : text.slice(start, end);
    re.lastIndex = 0;
    const textRanks = this.textRanks;
    const cache = this.cache;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      const chunk = m[0];
      if (chunk === '') { re.lastIndex += s.codePointAt(m.index)! > 0xffff ? 2 : 1; continue; } // never stall
      // The per-instance cache comes first even though most chunks are single tokens: it holds only the
      // few thousand distinct chunks of the text, so it stays in the CPU cache, while textRanks has 100k
      // entries spread over megabytes (looking textRanks up first measured ~25% slower once warm).
      const hit = cache.get(chunk);
      if (hit !== undefined) {
        if (typeof hit === 'number') out.push(hit);
        else for (let i = 0; i < hit.length; i++) out.push(hit[i]);
        continue;
      }
      // tiktoken also looks the whole piece up first; as text it needs no UTF-8 bytes
      const id = textRanks.get(chunk);
      if (id !== undefined) {
        out.push(id);
        this.remember(chunk, id);
        continue;
      }
      this.encodeChunk(chunk, out, true);
    }
  }

  /** a chunk that is not one token's text: UTF-8 bytes, then BPE merges */
  private encodeChunk(chunk: string, out: number[], useCache: boolean): void {
    const len = chunk.length;
    if (this.scratch.length < len * 3) this.scratch = new Uint8Array(len * 6);
    const bytes = this.scratch;
    // ASCII prefix copied as is (all of most chunks); the first other char hands the rest to the encoder
    let n = 0;
    while (n < len) {
      const c = chunk.charCodeAt(n);
      if (c >= 0x80) break;
      bytes[n++] = c;
    }
    let ids: number[] | null = null;
    if (n < len) {
      const from = n;
      n = utf8EncodeInto(chunk, from, len, bytes, from);
      // A lone surrogate is encoded as U+FFFD, so the bytes may still be one token although the text missed
      // textRanks (which only holds well-formed text); every other chunk was settled by that lookup.
      if (hasLoneSurrogate(chunk, from) && n <= 4096) {
        const id = this.ranks.get(String.fromCharCode.apply(null, bytes.subarray(0, n) as unknown as number[]));
        if (id !== undefined) ids = [id];
      }
    }
    if (ids === null) ids = n <= 128 ? this.mergeSmall(bytes, n) : this.mergeLarge(bytes, n);
    for (let i = 0; i < ids.length; i++) out.push(ids[i]);
    if (useCache) this.remember(chunk, ids.length === 1 ? ids[0] : ids);
  }

  private remember(chunk: string, ids: number | number[]): void {
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(chunk, ids);
  }

  /** id of the token whose bytes are left's then right's, or NONE */
  private pairRank(left: number, right: number): number {
    return this.pairs.get(left, right);
  }

  /** O(n²) merge over flat arrays: fastest for the short chunks regex splitting produces */
  private mergeSmall(bytes: Uint8Array, n: number): number[] {
    if (this.scratchIds.length < n + 1) {
      this.scratchIds = new Int32Array(n * 2);
      this.scratchRanks = new Float64Array(n * 2);
    }
    const ids = this.scratchIds;
    const rk = this.scratchRanks; // rk[i] = id of ids[i] ++ ids[i+1], Infinity when no such token
    const bytePair = this.bytePair;
    for (let i = 0; i < n; i++) ids[i] = this.byteId[bytes[i]];
    for (let i = 0; i < n - 1; i++) {
      // the first round is over raw bytes: a direct 64k-entry table, filled as pairs are met
      const k = (bytes[i] << 8) | bytes[i + 1];
      let r = bytePair[k];
      if (r === ABSENT) r = bytePair[k] = this.pairRank(ids[i], ids[i + 1]);
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
    const res: number[] = []; // pushed, not preallocated: a packed array reads faster from the cache
    for (let i = 0; i < len; i++) res.push(ids[i]);
    return res;
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

/**
 * byte string → id, keyed by a polynomial hash that composes: H(a ++ b) = H(a)·B^|b| + H(b) (mod 2^32).
 * So the merge loop finds the token that is left ++ right from the two ids' hashes alone — no concatenated
 * string, no string hashing, no big Map — and only confirms a candidate by comparing its bytes. It is built
 * once from the vocabulary, so a fresh tokenizer merges as fast as a used one (nothing to memoise).
 */
class ConcatTable {
  private readonly hash: Int32Array; // per id: H(bytes)
  private readonly pow: Int32Array; // per id: B^length
  private readonly len: Int32Array; // per id: byte length, 0 for holes
  private readonly slotId: Int32Array; // open addressing, linear probing; -1 = empty
  private readonly slotHash: Int32Array; // the hash of slotId's token, so most probes touch one array
  private readonly mask: number;

  constructor(private readonly tokens: readonly (string | undefined)[], size: number) {
    const B = 0x01000193;
    this.hash = new Int32Array(size);
    this.pow = new Int32Array(size);
    this.len = new Int32Array(size);
    let bits = 4;
    while (1 << bits < size * 2) bits++;
    this.slotId = new Int32Array(1 << bits).fill(-1);
    this.slotHash = new Int32Array(1 << bits);
    this.mask = (1 << bits) - 1;
    for (let id = 0; id < size; id++) {
      const bin = tokens[id];
      if (bin === undefined) continue;
      let h = 0, p = 1;
      for (let i = 0; i < bin.length; i++) {
        h = (Math.imul(h, B) + bin.charCodeAt(i) + 1) | 0;
        p = Math.imul(p, B);
      }
      this.hash[id] = h;
      this.pow[id] = p;
      this.len[id] = bin.length;
      let i = ConcatTable.slot(h) & this.mask;
      while (this.slotId[i] !== -1) i = (i + 1) & this.mask;
      this.slotId[i] = id;
      this.slotHash[i] = h;
    }
  }

  private static slot(h: number): number {
    return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 12 ^ h;
  }

  /** id of the token that is tokens[left] ++ tokens[right], or NONE */
  get(left: number, right: number): number {
    const h = (Math.imul(this.hash[left], this.pow[right]) + this.hash[right]) | 0;
    const n = this.len[left] + this.len[right];
    const mask = this.mask;
    for (let i = ConcatTable.slot(h) & mask; ; i = (i + 1) & mask) {
      const id = this.slotId[i];
      if (id === -1) return NONE;
      if (this.slotHash[i] === h && this.len[id] === n && this.isConcat(id, left, right)) return id;
    }
  }

  private isConcat(id: number, left: number, right: number): boolean {
    const t = this.tokens[id]!, a = this.tokens[left]!, b = this.tokens[right]!;
    for (let i = 0; i < a.length; i++) if (t.charCodeAt(i) !== a.charCodeAt(i)) return false;
    for (let i = 0; i < b.length; i++) if (t.charCodeAt(a.length + i) !== b.charCodeAt(i)) return false;
    return true;
  }
}

/** whether s[from…] holds a surrogate without its partner (which UTF-8 encoding turns into U+FFFD) */
function hasLoneSurrogate(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return true;
    const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
    if (d < 0xdc00 || d > 0xdfff) return true;
    i++;
  }
  return false;
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
