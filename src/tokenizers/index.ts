// Restores any tokenizer from the JSON its toJSON() wrote (or a Hugging Face tokenizer.json).
import type { Tokenizer } from './tokenizer.js';
import { CharTokenizer, type CharTokenizerJSON } from './char.js';

export type { Tokenizer, EncodeOptions, SpecialPolicy } from './tokenizer.js';
export { CharTokenizer } from './char.js';

export function tokenizerFromJSON(json: unknown): Tokenizer {
  const j = json as { type?: string };
  if (j && typeof j === 'object' && j.type === 'char') {
    const c = json as CharTokenizerJSON;
    if (!Array.isArray(c.chars)) throw new Error('char tokenizer JSON: field "chars" must be an array of strings');
    return new CharTokenizer(c.chars, c.special ?? {});
  }
  throw new Error(`unknown tokenizer JSON (type ${JSON.stringify(j && typeof j === 'object' ? j.type : j)})`);
}
