// Chinese: characters (optionally also words) as tokens, with LLaMA-style byte fallback so nothing is ever
// unknown: a character outside the vocabulary becomes its UTF-8 bytes as `<0xE8>`-style tokens, and decoding
// turns runs of byte tokens back into the exact characters.
//
// Ids: 0–255 are the byte tokens <0x00>…<0xFF>; then the pieces (characters and learned words) by
// frequency; then special tokens.
//
// Word segmentation is maximum probability (a unigram language model, Viterbi over the sentence) with a word
// list the tokenizer learns from raw text, no dictionary needed: frequent 2–4 character strings whose parts
// stick together far more often than chance (pointwise mutual information) become candidate words; the
// corpus is then segmented with them and the counts re-estimated from that segmentation.
//
// Example: after learning 明月 and 故乡 from poems, "举头望明月，低头思故乡" →
//   [举, 头, 望, 明月, ，, 低, 头, 思, 故乡]; "鑫" unseen → <0xE9> <0x91> <0xAB>
import type { EncodeOptions, Tokenizer } from './tokenizer.js';
import { splitSpecial } from './word.js';
import { utf8Decode, utf8Encode } from './utf8.js';
import { checkDistinct, checkSpecials } from './validate.js';

export interface ChineseTokenizerJSON {
  type: 'chinese';
  /** pieces (characters and words), id = 256 + index */
  pieces: string[];
  /** counts the segmentation probabilities come from (same order as pieces) */
  counts: number[];
  special?: Record<string, number>;
}

const HEX = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);

export interface ChineseTrainOptions {
  /** also learn multi-character words (default false: characters only) */
  words?: boolean;
  /** a candidate word must occur at least this often (default 5) */
  minCount?: number;
  /** minimum PMI (natural log) between a candidate's halves (default 3) */
  minPMI?: number;
  maxWordLength?: number;
  specialTokens?: string[];
}

export class ChineseTokenizer implements Tokenizer {
  readonly type = 'chinese';
  readonly pieces: string[];
  readonly counts: number[];
  readonly specialTokens: Map<string, number>;
  private readonly index = new Map<string, number>();
  private readonly logp: Map<string, number> = new Map();
  private readonly maxLen: number;
  private readonly unkCost: number;

  /**
   * `pieces[i]` is token 256 + i (distinct, non-empty); `counts[i]` its count (a finite number ≥ 0); special
   * ids must be distinct and ≥ 256 + pieces.length. Throws an Error naming the field otherwise.
   */
  constructor(pieces: string[], counts: number[] = pieces.map(() => 1), special: Record<string, number> = {}) {
    checkDistinct(pieces, 'field "pieces"', 'piece');
    if (!Array.isArray(counts) || counts.length !== pieces.length) throw new Error('chinese tokenizer: "counts" must have one entry per piece');
    counts.forEach((c, i) => {
      if (typeof c !== 'number' || !Number.isFinite(c) || c < 0) throw new Error(`field "counts"[${i}] must be a finite number ≥ 0, got ${JSON.stringify(c)}`);
    });
    this.pieces = pieces;
    this.counts = counts;
    let total = 0;
    for (const c of counts) total += Math.max(c, 1);
    let maxLen = 1, minLogp = 0;
    pieces.forEach((p, i) => {
      this.index.set(p, 256 + i);
      const lp = Math.log(Math.max(counts[i], 1) / total);
      this.logp.set(p, lp);
      minLogp = Math.min(minLogp, lp);
      maxLen = Math.max(maxLen, Array.from(p).length);
    });
    this.maxLen = maxLen;
    this.unkCost = minLogp - 10; // an unknown char is possible, just less likely than anything known
    this.specialTokens = checkSpecials(special, 'field "special"', 256 + pieces.length);
  }

  get vocabSize(): number {
    let max = 256 + this.pieces.length - 1;
    for (const id of this.specialTokens.values()) max = Math.max(max, id);
    return max + 1;
  }

  /** character-level: the `vocabSize - 256 - specials` most frequent characters */
  static train(text: string, vocabSize: number, opts: ChineseTrainOptions = {}): ChineseTokenizer {
    const specials = opts.specialTokens ?? [];
    const room = vocabSize - 256 - specials.length;
    if (!Number.isInteger(vocabSize) || room < 1) throw new Error(`chinese vocab size ${vocabSize} is too small: 256 byte tokens${specials.length ? ` + ${specials.length} specials` : ''} + at least one character`);
    const charCounts = new Map<string, number>();
    for (const ch of text) charCounts.set(ch, (charCounts.get(ch) ?? 0) + 1);
    let entries: [string, number][];
    if (!opts.words) {
      entries = [...charCounts.entries()];
    } else {
      entries = learnWords(text, charCounts, opts);
    }
    entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    // single characters first claim their place so frequent words never crowd out the alphabet entirely
    const kept = entries.slice(0, room);
    const special: Record<string, number> = Object.create(null); // "__proto__" is a possible token text
    specials.forEach((s, i) => (special[s] = 256 + kept.length + i));
    return new ChineseTokenizer(kept.map((e) => e[0]), kept.map((e) => e[1]), special);
  }

  /** the most probable segmentation of a text into pieces; unknown characters come back as themselves */
  segment(text: string): string[] {
    const cps = Array.from(text);
    const n = cps.length;
    const best = new Float64Array(n + 1).fill(-Infinity);
    const from = new Int32Array(n + 1);
    best[0] = 0;
    for (let i = 0; i < n; i++) {
      if (best[i] === -Infinity) continue;
      let w = '';
      for (let l = 1; l <= this.maxLen && i + l <= n; l++) {
        w += cps[i + l - 1];
        let lp = this.logp.get(w);
        if (lp === undefined) { if (l > 1) continue; lp = this.unkCost; }
        const v = best[i] + lp;
        if (v > best[i + l]) { best[i + l] = v; from[i + l] = i; }
      }
    }
    const out: string[] = [];
    for (let i = n; i > 0; i = from[i]) out.push(cps.slice(from[i], i).join(''));
    return out.reverse();
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const out: number[] = [];
    for (const [seg, special] of splitSpecial(text, this.specialTokens, opts)) {
      if (special) { out.push(this.specialTokens.get(seg)!); continue; }
      const pieces = this.maxLen > 1 ? this.segment(seg) : Array.from(seg);
      for (const p of pieces) {
        const id = this.index.get(p);
        if (id !== undefined) out.push(id);
        else for (const b of utf8Encode(p)) out.push(b); // byte fallback: id b is <0xBB>
      }
    }
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    const bytes: number[] = [];
    const flush = (): void => {
      if (bytes.length) { s += utf8Decode(Uint8Array.from(bytes)); bytes.length = 0; }
    };
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (Number.isInteger(id) && id >= 0 && id < 256) { bytes.push(id); continue; }
      flush();
      s += this.idToToken(id);
    }
    flush();
    return s;
  }

  /** raw bytes: a byte token is its byte, a piece or special token its UTF-8 (so partial characters stay partial) */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const b = Number.isInteger(id) && id >= 0 && id < 256 ? Uint8Array.of(id) : utf8Encode(this.idToToken(id));
      parts.push(b);
      total += b.length;
    }
    const out = new Uint8Array(total);
    let k = 0;
    for (const b of parts) { out.set(b, k); k += b.length; }
    return out;
  }

  idToToken(id: number): string {
    if (Number.isInteger(id) && id >= 0 && id < 256) return HEX[id];
    const p = Number.isInteger(id) ? this.pieces[id - 256] : undefined;
    if (p !== undefined) return p;
    for (const [s, sid] of this.specialTokens) if (sid === id) return s;
    throw new Error(`token id ${id} is out of range for a vocabulary of ${this.vocabSize}`);
  }

  toJSON(): ChineseTokenizerJSON {
    const j: ChineseTokenizerJSON = { type: 'chinese', pieces: this.pieces, counts: this.counts };
    if (this.specialTokens.size) j.special = Object.fromEntries(this.specialTokens);
    return j;
  }
}

const HAN = /^\p{Script=Han}+$/u;

/** candidate words by frequency + PMI, then counts re-estimated by segmenting the corpus with them */
function learnWords(text: string, charCounts: Map<string, number>, opts: ChineseTrainOptions): [string, number][] {
  const minCount = opts.minCount ?? 5;
  const minPMI = opts.minPMI ?? 3;
  const maxLen = opts.maxWordLength ?? 4;
  const runs = text.match(/\p{Script=Han}+/gu) ?? [];
  const gram = new Map<string, number>();
  let N = 0;
  for (const run of runs) {
    const cps = Array.from(run);
    N += cps.length;
    for (let l = 2; l <= maxLen; l++) {
      for (let i = 0; i + l <= cps.length; i++) {
        const g = cps.slice(i, i + l).join('');
        gram.set(g, (gram.get(g) ?? 0) + 1);
      }
    }
  }
  const count = (s: string): number => (Array.from(s).length === 1 ? charCounts.get(s) ?? 0 : gram.get(s) ?? 0);
  const words: string[] = [];
  for (const [g, c] of gram) {
    if (c < minCount || !HAN.test(g)) continue;
    const cps = Array.from(g);
    // the weakest split decides: "明月光" is a word only if neither 明|月光 nor 明月|光 is a coincidence
    let pmi = Infinity;
    for (let k = 1; k < cps.length; k++) {
      const a = count(cps.slice(0, k).join('')), b = count(cps.slice(k).join(''));
      pmi = Math.min(pmi, Math.log((c * N) / (a * b)));
    }
    if (pmi >= minPMI) words.push(g);
  }
  // re-estimate: segment with the candidates, count what the segmentation actually uses
  const provisional = new ChineseTokenizer([...charCounts.keys(), ...words], [...charCounts.values(), ...words.map((w) => gram.get(w)!)]);
  const used = new Map<string, number>();
  for (const line of text.split('\n')) for (const p of provisional.segment(line)) used.set(p, (used.get(p) ?? 0) + 1);
  for (const ch of charCounts.keys()) if (!used.has(ch)) used.set(ch, 1); // keep the whole alphabet reachable
  return [...used.entries()].filter(([p, c]) => Array.from(p).length === 1 || c >= minCount);
}
