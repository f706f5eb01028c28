// Restores any tokenizer from the JSON its toJSON() wrote (or a Hugging Face tokenizer.json).
import { SpmTokenizer, type SpmVocab } from './spm.js';
import type { Tokenizer } from './tokenizer.js';
import { CharTokenizer, type CharTokenizerJSON } from './char.js';
import { BPETokenizer, type BPETokenizerJSON } from './bpe.js';
import { WordTokenizer, type WordTokenizerJSON } from './word.js';
import { WordPieceTokenizer, type WordPieceJSON } from './wordpiece.js';
import { ChineseTokenizer, type ChineseTokenizerJSON } from './chinese.js';
import { parseTiktokenRanks } from './tiktoken.js';
import { tokenizerFromHF } from './huggingface.js';
import { checkSpecials, withSource } from './validate.js';

export type { Tokenizer, EncodeOptions, SpecialPolicy } from './tokenizer.js';
export { CharTokenizer } from './char.js';
export { BPETokenizer } from './bpe.js';
export { trainBPE, type BPETrainOptions, type BPETrainProgress } from './bpe-train.js';
export { WordTokenizer, splitWords } from './word.js';
export { BagOfWords } from './bow.js';
export { WordPieceTokenizer, bertPreTokenize } from './wordpiece.js';
export { ChineseTokenizer, type ChineseTrainOptions } from './chinese.js';
export { GPT2_PATTERN, CL100K_PATTERN, GPT4_PATTERN, O200K_PATTERN, NAMED_PATTERNS, compilePattern, expandInlineCaseFolding } from './patterns.js';
export { backtrackingHazard } from './regex-safety.js';
export { ENCODINGS, canonicalEncoding, parseTiktokenRanks, parseJsTiktokenRanks, encodingFromRanks } from './tiktoken.js';
export { bpeToHF, wordPieceToHF, tokenizerFromHF, bytesToUnicode } from './huggingface.js';
export { tokenStats, type TokenStats } from './stats.js';
export { decodeUtf8Strict, asBytes } from './utf8.js';

function need(cond: unknown, source: string, msg: string): asserts cond {
  if (!cond) throw new Error(`${source}: ${msg}`);
}

const isStrArray = (a: unknown): a is string[] => Array.isArray(a) && a.every((x) => typeof x === 'string');

/**
 * Restores a tokenizer from its JSON (ours, or a Hugging Face tokenizer.json). `source` (a file name)
 * prefixes every error, which is always one line naming the field: a bad checkpoint says which file is bad.
 */
export function tokenizerFromJSON(json: unknown, source = 'tokenizer.json'): Tokenizer {
  need(json && typeof json === 'object' && !Array.isArray(json), source, 'tokenizer JSON must be an object');
  const j = json as { type?: unknown; model?: unknown };
  if (j.type === undefined && j.model) return tokenizerFromHF(json, source);
  return withSource(source, () => fromOurJSON(json as { type?: unknown; special?: unknown }));
}

function fromOurJSON(json: { type?: unknown; special?: unknown }): Tokenizer {
  const special = json.special as Record<string, number> | undefined;
  checkSpecials(special, 'field "special"');
  switch (json.type) {
    case 'char': {
      const c = json as CharTokenizerJSON;
      need(isStrArray(c.chars), 'char tokenizer', 'field "chars" must be an array of strings');
      return new CharTokenizer(c.chars, c.special ?? {});
    }
    case 'bpe': return bpeFromJSON(json as BPETokenizerJSON);
    case 'word': {
      const w = json as WordTokenizerJSON;
      need(isStrArray(w.words), 'word tokenizer', 'field "words" must be an array of strings');
      return new WordTokenizer(w.words, w.unk ?? '<unk>', w.special ?? {});
    }
    case 'wordpiece': {
      const w = json as WordPieceJSON;
      need(isStrArray(w.vocab), 'wordpiece tokenizer', 'field "vocab" must be an array of strings');
      return new WordPieceTokenizer(w.vocab, { lowercase: w.lowercase, unk: w.unk, prefix: w.prefix, maxInputCharsPerWord: w.maxInputCharsPerWord });
    }
    case 'spm': {
      const v = json as unknown as SpmVocab;
      need(isStrArray(v.tokens), 'spm tokenizer', 'field "tokens" must be an array of strings');
      need(Array.isArray(v.scores) && v.scores.length === v.tokens.length && v.scores.every((x) => typeof x === 'number'), 'spm tokenizer', 'field "scores" must be numbers, one per token');
      need(Array.isArray(v.types) && v.types.length === v.tokens.length && v.types.every((x) => Number.isInteger(x)), 'spm tokenizer', 'field "types" must be integers, one per token');
      need(typeof v.addSpacePrefix === 'boolean', 'spm tokenizer', 'field "addSpacePrefix" must be true or false');
      return new SpmTokenizer(v);
    }
    case 'chinese': {
      const c = json as ChineseTokenizerJSON;
      need(isStrArray(c.pieces), 'chinese tokenizer', 'field "pieces" must be an array of strings');
      need(Array.isArray(c.counts) && c.counts.length === c.pieces.length, 'chinese tokenizer', 'field "counts" must be an array as long as "pieces"');
      return new ChineseTokenizer(c.pieces, c.counts, c.special ?? {});
    }
  }
  throw new Error(`unknown tokenizer type ${JSON.stringify(json.type)} (expected char, bpe, word, wordpiece, chinese, spm, or a Hugging Face tokenizer.json)`);
}

function bpeFromJSON(b: BPETokenizerJSON): BPETokenizer {
  need(b.pattern === undefined || b.pattern === null || typeof b.pattern === 'string', 'bpe tokenizer', 'field "pattern" must be a string or null');
  need(b.name === undefined || typeof b.name === 'string', 'bpe tokenizer', 'field "name" must be a string');
  const opts = { name: b.name, pattern: b.pattern ?? null, special: b.special };
  if (b.merges !== undefined) {
    need(Array.isArray(b.merges) && b.merges.every((x) => Number.isInteger(x)), 'bpe tokenizer', 'field "merges" must be a flat array of integer ids');
    return BPETokenizer.fromMerges(b.merges, opts);
  }
  need(typeof b.ranks === 'string', 'bpe tokenizer', 'needs "merges" (array) or "ranks" (tiktoken text)');
  return new BPETokenizer(parseTiktokenRanks(b.ranks, 'field "ranks"'), opts);
}
