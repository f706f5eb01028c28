// Restores any tokenizer from the JSON its toJSON() wrote (or a Hugging Face tokenizer.json).
import type { Tokenizer } from './tokenizer.js';
import { CharTokenizer, type CharTokenizerJSON } from './char.js';
import { BPETokenizer, type BPETokenizerJSON } from './bpe.js';
import { WordTokenizer, type WordTokenizerJSON } from './word.js';
import { WordPieceTokenizer, type WordPieceJSON } from './wordpiece.js';
import { ChineseTokenizer, type ChineseTokenizerJSON } from './chinese.js';
import { parseTiktokenRanks } from './tiktoken.js';
import { tokenizerFromHF } from './huggingface.js';

export type { Tokenizer, EncodeOptions, SpecialPolicy } from './tokenizer.js';
export { CharTokenizer } from './char.js';
export { BPETokenizer } from './bpe.js';
export { trainBPE, type BPETrainOptions, type BPETrainProgress } from './bpe-train.js';
export { WordTokenizer, splitWords } from './word.js';
export { BagOfWords } from './bow.js';
export { WordPieceTokenizer, bertPreTokenize } from './wordpiece.js';
export { ChineseTokenizer, type ChineseTrainOptions } from './chinese.js';
export { GPT2_PATTERN, CL100K_PATTERN, GPT4_PATTERN, O200K_PATTERN, NAMED_PATTERNS } from './patterns.js';
export { ENCODINGS, canonicalEncoding, parseTiktokenRanks, parseJsTiktokenRanks, encodingFromRanks } from './tiktoken.js';
export { bpeToHF, wordPieceToHF, tokenizerFromHF, bytesToUnicode } from './huggingface.js';
export { tokenStats, type TokenStats } from './stats.js';
export { decodeUtf8Strict } from './utf8.js';

function need(cond: unknown, source: string, msg: string): asserts cond {
  if (!cond) throw new Error(`${source}: ${msg}`);
}

const isStrArray = (a: unknown): a is string[] => Array.isArray(a) && a.every((x) => typeof x === 'string');

/** `source` (a file name) prefixes every error so a bad checkpoint says which file is bad */
export function tokenizerFromJSON(json: unknown, source = 'tokenizer.json'): Tokenizer {
  need(json && typeof json === 'object' && !Array.isArray(json), source, 'tokenizer JSON must be an object');
  const j = json as { type?: unknown; model?: unknown };
  if (j.type === undefined && j.model) return tokenizerFromHF(json, source);
  const special = (json as { special?: Record<string, number> }).special;
  need(special === undefined || (typeof special === 'object' && Object.values(special).every((v) => Number.isInteger(v) && v >= 0)), source, 'field "special" must map token text to non-negative integer ids');
  switch (j.type) {
    case 'char': {
      const c = json as CharTokenizerJSON;
      need(isStrArray(c.chars), source, 'char tokenizer: field "chars" must be an array of strings');
      return new CharTokenizer(c.chars, c.special ?? {});
    }
    case 'bpe': {
      const b = json as BPETokenizerJSON;
      need(b.pattern === undefined || b.pattern === null || typeof b.pattern === 'string', source, 'bpe tokenizer: field "pattern" must be a string or null');
      const opts = { name: b.name, pattern: b.pattern ?? null, special: b.special };
      if (b.merges !== undefined) {
        need(Array.isArray(b.merges) && b.merges.every((x) => Number.isInteger(x)), source, 'bpe tokenizer: field "merges" must be a flat array of integer ids');
        try {
          return BPETokenizer.fromMerges(b.merges, opts);
        } catch (e) {
          throw new Error(`${source}: ${(e as Error).message}`);
        }
      }
      need(typeof b.ranks === 'string', source, 'bpe tokenizer: needs "merges" (array) or "ranks" (tiktoken text)');
      return new BPETokenizer(parseTiktokenRanks(b.ranks, `${source} (ranks)`), opts);
    }
    case 'word': {
      const w = json as WordTokenizerJSON;
      need(isStrArray(w.words), source, 'word tokenizer: field "words" must be an array of strings');
      return new WordTokenizer(w.words, w.unk ?? '<unk>', w.special ?? {});
    }
    case 'wordpiece': {
      const w = json as WordPieceJSON;
      need(isStrArray(w.vocab), source, 'wordpiece tokenizer: field "vocab" must be an array of strings');
      return new WordPieceTokenizer(w.vocab, { lowercase: w.lowercase, unk: w.unk, prefix: w.prefix, maxInputCharsPerWord: w.maxInputCharsPerWord });
    }
    case 'chinese': {
      const c = json as ChineseTokenizerJSON;
      need(isStrArray(c.pieces), source, 'chinese tokenizer: field "pieces" must be an array of strings');
      need(Array.isArray(c.counts) && c.counts.length === c.pieces.length, source, 'chinese tokenizer: field "counts" must be an array as long as "pieces"');
      return new ChineseTokenizer(c.pieces, c.counts, c.special ?? {});
    }
  }
  throw new Error(`${source}: unknown tokenizer type ${JSON.stringify(j.type)} (expected char, bpe, word, wordpiece, chinese, or a Hugging Face tokenizer.json)`);
}
