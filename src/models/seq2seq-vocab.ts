// A sequence-to-sequence vocabulary: one for the source side and one for the target side of a translation
// model, at character level (Chinese is read one character at a time) or word level (English words, with
// punctuation split off). Ids 0–3 are the specials <pad>, <bos>, <eos>, <unk>. Browser-safe.
//   const v = Seq2seqVocab.build(['我爱中国', '他喜欢音乐'], 'char');
//   v.pieces('我爱中国')          // ['我', '爱', '中', '国']
//   v.decode(v.encode('我爱中国'))  // '我爱中国'

export type VocabLevel = 'char' | 'word';

export const PAD = 0, BOS = 1, EOS = 2, UNK = 3;
const SPECIALS = ['<pad>', '<bos>', '<eos>', '<unk>'];
/** the special tokens every vocabulary starts with */
export const SPECIAL_COUNT = SPECIALS.length;
/** a word (letters, digits, apostrophes, hyphens) or one other non-space character */
const WORD_RE = /[\p{L}\p{N}\p{M}'’_-]+|[^\s\p{L}\p{N}\p{M}]/gu;

export interface VocabJSON {
  level: VocabLevel;
  tokens: string[];
}

export class Seq2seqVocab {
  private readonly index: Map<string, number>;

  /** tokens[0..3] must be the specials; throws otherwise or on a repeated token */
  constructor(readonly tokens: readonly string[], readonly level: VocabLevel) {
    if (level !== 'char' && level !== 'word') throw new Error(`vocabulary level must be 'char' or 'word', got ${String(level)}`);
    SPECIALS.forEach((s, i) => {
      if (tokens[i] !== s) throw new Error(`vocabulary: token ${i} must be ${s}, got ${JSON.stringify(tokens[i])}`);
    });
    this.index = new Map(tokens.map((t, i) => [t, i]));
    if (this.index.size !== tokens.length) throw new Error('vocabulary: a token appears twice');
  }

  get size(): number {
    return this.tokens.length;
  }

  /** the pieces (characters or words) of the training pairs: every token but the SPECIAL_COUNT specials */
  get pieceCount(): number {
    return this.tokens.length - SPECIAL_COUNT;
  }

  /** a vocabulary of every piece of `texts` (in order of first appearance) after the specials */
  static build(texts: Iterable<string>, level: VocabLevel): Seq2seqVocab {
    const seen = new Set<string>();
    for (const t of texts) for (const p of splitPieces(t, level)) seen.add(p);
    return new Seq2seqVocab([...SPECIALS, ...seen], level);
  }

  /** the text as pieces: characters (spaces kept, ends trimmed) or words and punctuation marks */
  pieces(text: string): string[] {
    return splitPieces(text, this.level);
  }

  /** ids of the pieces (unknown → <unk>), without <bos>/<eos> */
  encode(text: string): number[] {
    return this.pieces(text).map((p) => this.index.get(p) ?? UNK);
  }

  /** the token of an id (for attention-plot labels) */
  token(id: number): string {
    return this.tokens[id] ?? '<unk>';
  }

  /** text of ids up to the first <eos>, specials other than <unk> left out; words joined by spaces */
  decode(ids: readonly number[]): string {
    const out: string[] = [];
    for (const id of ids) {
      if (id === EOS) break;
      if (id === PAD || id === BOS) continue;
      out.push(this.token(id));
    }
    return out.join(this.level === 'word' ? ' ' : '');
  }

  toJSON(): VocabJSON {
    return { level: this.level, tokens: this.tokens.slice() };
  }

  /** throws naming `source` for a malformed object */
  static fromJSON(j: unknown, source = 'vocabulary'): Seq2seqVocab {
    const o = j as Partial<VocabJSON> | null;
    if (!o || typeof o !== 'object' || !Array.isArray(o.tokens) || !o.tokens.every((t) => typeof t === 'string')) {
      throw new Error(`${source}: not a vocabulary (expected {"level": "char"|"word", "tokens": [...]})`);
    }
    try {
      return new Seq2seqVocab(o.tokens, o.level as VocabLevel);
    } catch (e) {
      throw new Error(`${source}: ${(e as Error).message}`);
    }
  }
}

function splitPieces(text: string, level: VocabLevel): string[] {
  const t = text.trim();
  if (level === 'char') return [...t];
  return t.match(WORD_RE) ?? [];
}
