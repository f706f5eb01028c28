// The one interface every tokenizer implements. Training, sampling, checkpoints and the CLI only see this.

/** What to do when input text contains the literal text of a special token such as `<|endoftext|>`. */
export type SpecialPolicy = 'all' | 'none' | 'raise' | ReadonlySet<string>;

export interface EncodeOptions {
  /**
   * 'all': special-token text becomes the special id; 'none' (default): it is encoded as ordinary text;
   * 'raise': it is an error (tiktoken's disallowed_special); a set: only those specials are allowed.
   */
  allowedSpecial?: SpecialPolicy;
}

export interface Tokenizer {
  /** short name of the family: 'char', 'word', 'bpe', 'wordpiece', 'chinese', … */
  readonly type: string;
  readonly vocabSize: number;
  /** special token text → id */
  readonly specialTokens: ReadonlyMap<string, number>;
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: ArrayLike<number>): string;
  /**
   * Raw bytes of the ids (optional; byte-level tokenizers have it): each token's own bytes concatenated, so
   * a partial UTF-8 character stays partial and decodeBytes(ids[0..i+1]) extends decodeBytes(ids[0..i]).
   * Bits per byte counts with it (src/eval/evaluate.ts); without it, the UTF-8 of decode() is used.
   */
  decodeBytes?(ids: ArrayLike<number>): Uint8Array;
  /** the printable piece for one id (for viewers); byte-level pieces may be partial UTF-8 */
  idToToken(id: number): string;
  /** a JSON-serialisable description that `tokenizerFromJSON` (src/tokenizers/index.ts) restores */
  toJSON(): unknown;
}

/**
 * Whether two tokenizers give the same ids for the same text: the same family and the same description
 * (toJSON: vocabulary, merges, special tokens). A model fed another tokenizer's ids reads other text.
 */
export function sameTokenizer(a: Tokenizer, b: Tokenizer): boolean {
  return a === b || (a.type === b.type && a.vocabSize === b.vocabSize && JSON.stringify(a.toJSON()) === JSON.stringify(b.toJSON()));
}
