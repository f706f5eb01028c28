// How well a tokenizer compresses a text: the numbers people compare tokenizers by.
// English with cl100k_base is typically ~0.23 tokens/char (~4.3 chars per token); Chinese ~1 token/char.
import type { Tokenizer } from './tokenizer.js';
import { utf8Encode } from './utf8.js';

export interface TokenStats {
  tokens: number;
  chars: number; // code points
  words: number; // whitespace-separated words
  bytes: number; // UTF-8
  tokensPerChar: number;
  tokensPerWord: number;
  bytesPerToken: number;
  charsPerToken: number;
}

export function tokenStats(tok: Tokenizer, text: string, ids: number[] = tok.encode(text)): TokenStats {
  let chars = 0;
  for (const _ of text) chars++;
  const words = text.split(/\s+/u).filter(Boolean).length;
  const bytes = utf8Encode(text).length;
  const n = ids.length;
  return {
    tokens: n,
    chars,
    words,
    bytes,
    tokensPerChar: chars ? n / chars : 0,
    tokensPerWord: words ? n / words : 0,
    bytesPerToken: n ? bytes / n : 0,
    charsPerToken: n ? chars / n : 0,
  };
}
