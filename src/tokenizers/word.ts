// Word-level tokenizer: words and single punctuation marks are tokens; whitespace is a separate token class
// so decode(encode(x)) restores spacing exactly. Out-of-vocabulary words map to `<unk>` (lossy, documented).
//
// Example: "Hello, world!" → ["Hello", ",", " ", "world", "!"]
import type { EncodeOptions, Tokenizer } from './tokenizer.js';
import { checkDistinct, checkSpecials } from './validate.js';

export interface WordTokenizerJSON {
  type: 'word';
  words: string[];
  unk: string;
  special?: Record<string, number>;
}

/** words (letters/digits/marks, with inner apostrophes), whitespace runs, or one other character */
const WORD_RE = /[\p{L}\p{N}\p{M}]+(?:['’][\p{L}\p{N}\p{M}]+)*|\s+|[^\s\p{L}\p{N}\p{M}]/gu;

export function splitWords(text: string): string[] {
  return text.match(WORD_RE) ?? [];
}

export class WordTokenizer implements Tokenizer {
  readonly type = 'word';
  readonly words: string[];
  readonly unk: string;
  readonly specialTokens: Map<string, number>;
  private readonly index = new Map<string, number>();

  /**
   * `words[i]` is token i (distinct, non-empty); `unk` must be one of them; special ids must be
   * words.length … + n − 1. Throws an Error naming the field ("words", "unk" or "special") otherwise.
   */
  constructor(words: string[], unk = '<unk>', special: Record<string, number> = {}) {
    checkDistinct(words, 'field "words"', 'word');
    if (typeof unk !== 'string') throw new Error(`field "unk" must be a string, got ${JSON.stringify(unk)}`);
    this.words = words;
    this.unk = unk;
    words.forEach((w, i) => this.index.set(w, i));
    if (!this.index.has(unk)) throw new Error(`field "unk": the vocabulary lacks its unknown token ${JSON.stringify(unk)}`);
    this.specialTokens = checkSpecials(special, 'field "special"', words.length, true);
  }

  /** the `vocabSize - 1` most frequent pieces (ties by first appearance) plus `<unk>` at id 0 */
  static train(text: string, vocabSize: number, specials: string[] = []): WordTokenizer {
    if (!Number.isInteger(vocabSize) || vocabSize < 2 + specials.length) throw new Error(`word vocab size ${vocabSize} is too small (at least ${2 + specials.length})`);
    const counts = new Map<string, number>();
    for (const w of splitWords(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, vocabSize - 1 - specials.length).map((e) => e[0]);
    const words = ['<unk>', ...top];
    const special: Record<string, number> = Object.create(null); // "__proto__" is a possible token text
    specials.forEach((s, i) => (special[s] = words.length + i));
    return new WordTokenizer(words, '<unk>', special);
  }

  get vocabSize(): number {
    return this.words.length + this.specialTokens.size;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const unk = this.index.get(this.unk)!;
    const out: number[] = [];
    for (const [seg, special] of splitSpecial(text, this.specialTokens, opts)) {
      if (special) { out.push(this.specialTokens.get(seg)!); continue; }
      for (const w of splitWords(seg)) out.push(this.index.get(w) ?? unk);
    }
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.idToToken(ids[i]);
    return s;
  }

  idToToken(id: number): string {
    return pieceOrSpecial(this.words, this.specialTokens, id);
  }

  toJSON(): WordTokenizerJSON {
    const j: WordTokenizerJSON = { type: 'word', words: this.words, unk: this.unk };
    if (this.specialTokens.size) j.special = Object.fromEntries(this.specialTokens);
    return j;
  }
}

/** The token of `id` in a vocabulary laid out as `pieces` followed by the special tokens. */
export function pieceOrSpecial(pieces: readonly string[], specials: ReadonlyMap<string, number>, id: number): string {
  if (Number.isInteger(id) && id >= 0 && id < pieces.length) return pieces[id];
  for (const [s, sid] of specials) if (sid === id) return s;
  throw new Error(`token id ${id} is out of range for a vocabulary of ${pieces.length + specials.size}`);
}

/**
 * Cuts text at special-token text according to the policy; yields [segment, isSpecial].
 * Shared by the non-BPE tokenizers so they all treat `allowedSpecial` the same way.
 */
export function splitSpecial(text: string, specials: ReadonlyMap<string, number>, opts: EncodeOptions = {}): [string, boolean][] {
  const policy = opts.allowedSpecial ?? 'none';
  if (policy === 'none' || specials.size === 0) return [[text, false]];
  const allowed = [...specials.keys()].filter((s) => policy === 'all' || policy === 'raise' || (typeof policy === 'object' && policy.has(s)));
  if (!allowed.length) return [[text, false]];
  allowed.sort((a, b) => b.length - a.length);
  const re = new RegExp(allowed.map((s) => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')).join('|'), 'g');
  const out: [string, boolean][] = [];
  let start = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (policy === 'raise') throw new Error(`input contains the special token ${JSON.stringify(m[0])} at offset ${m.index}`);
    if (m.index > start) out.push([text.slice(start, m.index), false]);
    out.push([m[0], true]);
    start = m.index + m[0].length;
  }
  if (start < text.length) out.push([text.slice(start), false]);
  return out;
}
