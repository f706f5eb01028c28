// WordPiece (BERT): text is normalised and pre-split into words (BERT's BasicTokenizer), then each word is
// cut greedily, longest match first, into vocabulary pieces; pieces after the first carry a `##` prefix.
// A word that cannot be covered becomes one [UNK].
//
// Example with vocab {annoying, ##ly, ...}: "Annoyingly!" → lowercase → ["annoyingly", "!"]
//   → "annoyingly": longest prefix in vocab "annoying", rest "ly" → "##ly" → [annoying, ##ly, !]
import type { EncodeOptions, Tokenizer } from './tokenizer.js';
import { splitSpecial } from './word.js';
import { MAX_TOKEN_ID } from './validate.js';

export interface WordPieceJSON {
  type: 'wordpiece';
  vocab: string[];
  lowercase: boolean;
  unk: string;
  prefix: string;
  maxInputCharsPerWord: number;
}

export const BERT_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

export interface WordPieceOptions {
  lowercase?: boolean;
  unk?: string;
  prefix?: string;
  maxInputCharsPerWord?: number;
}

function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

const OTHER = /\p{C}/u; // Cc, Cf, Cn, Co, Cs: what BERT's _is_control drops (after \t \n \r)
const ZS = /\p{Zs}/u;
const PUNCT = /\p{P}/u;

/**
 * One character of BERT's _clean_text: "" for NUL, U+FFFD and control/format/unassigned/private-use
 * characters (category C*), " " for whitespace (space, \t, \n, \r, Zs, and U+2028/U+2029, which Python's
 * str.split() splits on afterwards), the character itself otherwise.
 */
function cleanChar(ch: string, cp: number): string {
  if (cp === 0 || cp === 0xfffd) return '';
  if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') return ' ';
  if (OTHER.test(ch)) return '';
  if (ZS.test(ch) || cp === 0x2028 || cp === 0x2029) return ' ';
  return ch;
}

function isPunctuation(ch: string, cp: number): boolean {
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126) || PUNCT.test(ch);
}

/**
 * BERT's BasicTokenizer (transformers' tokenization_bert, tokenize_chinese_chars=True, strip_accents=None),
 * step for step: _clean_text, spaces around CJK ideographs, NFC, split on whitespace, per word lowercase and
 * strip accents (NFD, drop Mn) when `lowercase`, split off punctuation. Returns the words.
 * Example: "Héllo\vWörld!\uFEFF" → ["helloworld", "!"] (\v and U+FEFF are dropped, not split on).
 */
export function bertPreTokenize(text: string, lowercase: boolean): string[] {
  let s = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const c = cleanChar(ch, cp);
    s += c !== '' && isChineseChar(cp) ? ` ${c} ` : c;
  }
  const out: string[] = [];
  for (let word of s.normalize('NFC').split(' ')) {
    if (!word) continue;
    if (lowercase) word = word.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
    let cur = '';
    for (const ch of word) {
      if (isPunctuation(ch, ch.codePointAt(0)!)) { if (cur) out.push(cur); out.push(ch); cur = ''; } else cur += ch;
    }
    if (cur) out.push(cur);
  }
  return out;
}

function checkWordPieceOptions(vocab: unknown, o: WordPieceOptions): void {
  if (!Array.isArray(vocab) || !vocab.every((t) => typeof t === 'string')) throw new Error('field "vocab" must be an array of strings');
  if (vocab.length > MAX_TOKEN_ID + 1) throw new Error(`field "vocab" has ${vocab.length} tokens (at most ${MAX_TOKEN_ID + 1})`);
  if (o.lowercase !== undefined && typeof o.lowercase !== 'boolean') throw new Error(`field "lowercase" must be true or false, got ${JSON.stringify(o.lowercase)}`);
  if (o.unk !== undefined && typeof o.unk !== 'string') throw new Error(`field "unk" must be a string, got ${JSON.stringify(o.unk)}`);
  if (o.prefix !== undefined && (typeof o.prefix !== 'string' || o.prefix === '')) throw new Error(`field "prefix" must be a non-empty string, got ${JSON.stringify(o.prefix)}`);
  const m = o.maxInputCharsPerWord;
  if (m !== undefined && (typeof m !== 'number' || !Number.isInteger(m) || m < 1)) throw new Error(`field "maxInputCharsPerWord" must be a positive integer, got ${JSON.stringify(m)}`);
}

export class WordPieceTokenizer implements Tokenizer {
  readonly type = 'wordpiece';
  readonly vocab: string[];
  readonly lowercase: boolean;
  readonly unk: string;
  readonly prefix: string;
  readonly maxInputCharsPerWord: number;
  readonly specialTokens: Map<string, number>;
  private readonly index = new Map<string, number>();

  /**
   * `vocab[i]` is token i (strings; a repeated entry keeps its first id). Throws an Error naming the field
   * for a wrongly typed option, an empty prefix or a vocabulary without its unknown token.
   */
  constructor(vocab: string[], opts: WordPieceOptions = {}) {
    checkWordPieceOptions(vocab, opts);
    this.vocab = vocab;
    this.lowercase = opts.lowercase ?? true;
    this.unk = opts.unk ?? '[UNK]';
    this.prefix = opts.prefix ?? '##';
    this.maxInputCharsPerWord = opts.maxInputCharsPerWord ?? 100;
    vocab.forEach((t, i) => { if (!this.index.has(t)) this.index.set(t, i); });
    if (!this.index.has(this.unk)) throw new Error(`field "unk": the WordPiece vocabulary lacks its unknown token ${JSON.stringify(this.unk)}`);
    this.specialTokens = new Map(BERT_SPECIALS.filter((s) => this.index.has(s)).map((s) => [s, this.index.get(s)!]));
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  tokenToId(t: string): number | undefined {
    return this.index.get(t);
  }

  /** the pieces of one pre-tokenized word */
  wordPieces(word: string): string[] {
    const chars = Array.from(word);
    if (chars.length > this.maxInputCharsPerWord) return [this.unk];
    const out: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: string | null = null;
      while (start < end) {
        let piece = chars.slice(start, end).join('');
        if (start > 0) piece = this.prefix + piece;
        if (this.index.has(piece)) { found = piece; break; }
        end--;
      }
      if (found === null) return [this.unk];
      out.push(found);
      start = end;
    }
    return out;
  }

  tokenize(text: string): string[] {
    return bertPreTokenize(text, this.lowercase).flatMap((w) => this.wordPieces(w));
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const out: number[] = [];
    for (const [seg, special] of splitSpecial(text, this.specialTokens, opts)) {
      if (special) out.push(this.specialTokens.get(seg)!);
      else for (const p of this.tokenize(seg)) out.push(this.index.get(p)!);
    }
    return out;
  }

  /** BERT input: [CLS] text [SEP] (and a second segment + [SEP] when given) */
  encodeForBert(text: string, pair?: string): number[] {
    const cls = this.index.get('[CLS]'), sep = this.index.get('[SEP]');
    if (cls === undefined || sep === undefined) throw new Error('this WordPiece vocabulary has no [CLS]/[SEP]');
    const ids = [cls, ...this.encode(text), sep];
    if (pair !== undefined) ids.push(...this.encode(pair), sep);
    return ids;
  }

  /** pieces joined, `##` continuations glued to the previous piece; lowercasing/accents are not restored */
  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const t = this.idToToken(ids[i]);
      if (t.startsWith(this.prefix) && s) s += t.slice(this.prefix.length);
      else s += (s ? ' ' : '') + t;
    }
    return s;
  }

  idToToken(id: number): string {
    const t = this.vocab[id];
    if (t === undefined) throw new Error(`token id ${id} is out of range for a vocabulary of ${this.vocab.length}`);
    return t;
  }

  toJSON(): WordPieceJSON {
    return { type: 'wordpiece', vocab: this.vocab, lowercase: this.lowercase, unk: this.unk, prefix: this.prefix, maxInputCharsPerWord: this.maxInputCharsPerWord };
  }

  /**
   * Trains a vocabulary: start from characters (and `##`characters), repeatedly merge the most frequent
   * adjacent pair inside words, as Hugging Face's WordPieceTrainer does. (Google's likelihood score
   * count(ab)/(count(a)·count(b)) is available with `score: 'likelihood'`; on small corpora it fills the
   * vocabulary with rare pairs.) Counts update incrementally per affected word.
   */
  static train(text: string, vocabSize: number, opts: WordPieceOptions & { minFrequency?: number; score?: 'frequency' | 'likelihood'; onProgress?: (done: number, total: number) => void } = {}): WordPieceTokenizer {
    const lowercase = opts.lowercase ?? true;
    const prefix = opts.prefix ?? '##';
    const wordCounts = new Map<string, number>();
    for (const w of bertPreTokenize(text, lowercase)) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
    const vocab = [...BERT_SPECIALS];
    const id = new Map<string, number>(vocab.map((t, i) => [t, i]));
    const intern = (t: string): number => {
      let i = id.get(t);
      if (i === undefined) { i = vocab.length; vocab.push(t); id.set(t, i); }
      return i;
    };
    const words: number[][] = [];
    const freqs: number[] = [];
    for (const [w, c] of wordCounts) {
      words.push(Array.from(w).map((ch, k) => intern(k === 0 ? ch : prefix + ch)));
      freqs.push(c);
    }
    if (vocabSize < vocab.length) {
      throw new Error(`WordPiece vocab size ${vocabSize} is too small: the data's ${vocab.length - BERT_SPECIALS.length} characters (with ## forms) and ${BERT_SPECIALS.length} special tokens need ${vocab.length}`);
    }
    const K = 2097152;
    const unit = new Map<number, number>();
    const pair = new Map<number, number>();
    const pairWords = new Map<number, Set<number>>();
    const account = (wi: number, sign: number): void => {
      const w = words[wi], f = freqs[wi] * sign;
      for (let k = 0; k < w.length; k++) {
        unit.set(w[k], (unit.get(w[k]) ?? 0) + f);
        if (k + 1 < w.length) {
          const key = w[k] * K + w[k + 1];
          pair.set(key, (pair.get(key) ?? 0) + f);
          if (sign > 0) { let s = pairWords.get(key); if (!s) pairWords.set(key, (s = new Set())); s.add(wi); }
        }
      }
    };
    words.forEach((_, wi) => account(wi, 1));
    const minFreq = opts.minFrequency ?? 2;
    const target = vocabSize - vocab.length;
    while (vocab.length < vocabSize) {
      let best = -1, bestScore = -1, bestCount = 0;
      for (const [key, c] of pair) {
        if (c < minFreq) continue;
        const a = Math.floor(key / K), b = key - a * K;
        const score = opts.score === 'likelihood' ? c / (unit.get(a)! * unit.get(b)!) : c;
        if (score > bestScore || (score === bestScore && key < best)) { bestScore = score; best = key; bestCount = c; }
      }
      if (best < 0 || bestCount <= 0) break; // nothing left worth merging: a smaller vocabulary, documented
      const a = Math.floor(best / K), b = best - a * K;
      const merged = intern(vocab[a] + vocab[b].slice(prefix.length));
      for (const wi of pairWords.get(best) ?? []) {
        const w = words[wi];
        let has = false;
        for (let k = 0; k + 1 < w.length; k++) if (w[k] === a && w[k + 1] === b) { has = true; break; }
        if (!has) continue;
        account(wi, -1);
        const nw: number[] = [];
        for (let k = 0; k < w.length; k++) {
          if (k + 1 < w.length && w[k] === a && w[k + 1] === b) { nw.push(merged); k++; } else nw.push(w[k]);
        }
        words[wi] = nw;
        account(wi, 1);
      }
      pair.delete(best);
      opts.onProgress?.(target - (vocabSize - vocab.length), target);
    }
    for (const [k, c] of pair) if (c <= 0) pair.delete(k);
    return new WordPieceTokenizer(vocab, { ...opts, lowercase, prefix });
  }
}
