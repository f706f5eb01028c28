// Character-level tokenizer: one id per distinct code point, sorted, as nanoGPT's shakespeare_char does.
// Special tokens (optional) get ids after the characters.
import type { EncodeOptions, Tokenizer } from './tokenizer.js';
import { pieceOrSpecial, splitSpecial } from './word.js';
import { checkDistinct, checkSpecials } from './validate.js';

export interface CharTokenizerJSON {
  type: 'char';
  chars: string[];
  special?: Record<string, number>;
}

export class CharTokenizer implements Tokenizer {
  readonly type = 'char';
  readonly chars: string[];
  readonly specialTokens: Map<string, number>;
  private readonly index = new Map<string, number>();

  /**
   * `chars[i]` is token i (one code point each, all distinct); special ids must be chars.length … + n − 1.
   * Throws an Error naming the field ("chars" or "special") otherwise.
   */
  constructor(chars: string[], special: Record<string, number> = {}) {
    checkDistinct(chars, 'field "chars"', 'character', true);
    this.chars = chars;
    chars.forEach((c, i) => this.index.set(c, i));
    this.specialTokens = checkSpecials(special, 'field "special"', chars.length, true);
  }

  /** the vocabulary of a corpus: its distinct code points, sorted by code point */
  static fromText(text: string, specials: string[] = []): CharTokenizer {
    const set = new Set<string>();
    for (const ch of text) set.add(ch);
    const chars = [...set].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    const special: Record<string, number> = Object.create(null); // "__proto__" is a possible token text
    specials.forEach((s, i) => (special[s] = chars.length + i));
    return new CharTokenizer(chars, special);
  }

  get vocabSize(): number {
    return this.chars.length + this.specialTokens.size;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const out: number[] = [];
    for (const [seg, special] of splitSpecial(text, this.specialTokens, opts)) {
      if (special) {
        out.push(this.specialTokens.get(seg)!);
        continue;
      }
      for (const ch of seg) {
        const id = this.index.get(ch);
        if (id === undefined) {
          throw new Error(`character ${JSON.stringify(ch)} (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) is not in the vocabulary${this.knownCharsNote()}`);
        }
        out.push(id);
      }
    }
    return out;
  }

  /** why a character is missing and which ones the model knows (listed when the vocabulary is small) */
  private knownCharsNote(): string {
    const known = this.chars.length <= 200 ? `: it knows only ${JSON.stringify(this.chars.join(''))}` : '';
    return ` of this character-level model (${this.chars.length} characters, those of its training text)${known}; leave the character out or replace it`;
  }

    decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.idToToken(ids[i]);
    return s;
  }

  idToToken(id: number): string {
    return pieceOrSpecial(this.chars, this.specialTokens, id);
  }

  toJSON(): CharTokenizerJSON {
    const special = Object.fromEntries(this.specialTokens);
    return this.specialTokens.size ? { type: 'char', chars: this.chars, special } : { type: 'char', chars: this.chars };
  }
}
