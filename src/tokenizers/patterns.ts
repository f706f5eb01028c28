// The pre-tokenizer split patterns of OpenAI's encodings, as JS RegExp source (compiled with the 'gu' flags).
// Text is first cut into chunks with one of these, then BPE runs inside each chunk, so merges never cross
// a word/number/punctuation boundary. They are copied from tiktoken (via js-tiktoken, which expands the
// Python `(?i:'s|'t…)` group by hand because JS has no inline case-insensitive groups).
//
// Example (cl100k): "I'm 12345 ok!!\n\n" → ["I", "'m", " ", "123", "45", " ok", "!!\n\n"]

import { backtrackingHazard } from './regex-safety.js';

/** GPT-2 / r50k_base / p50k_base */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

const CONTRACTIONS = "'s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D";

/** cl100k_base (GPT-3.5/GPT-4); minbpe calls it GPT4_SPLIT_PATTERN */
export const CL100K_PATTERN =
  `(${CONTRACTIONS})|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;
export const GPT4_PATTERN = CL100K_PATTERN;

/** o200k_base (GPT-4o): case-aware words so "HelloWorld" → "Hello", "World" */
export const O200K_PATTERN = [
  `[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(${CONTRACTIONS})?`,
  `[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(${CONTRACTIONS})?`,
  `\\p{N}{1,3}`,
  ` ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*`,
  `\\s*[\\r\\n]+`,
  `\\s+(?!\\S)`,
  `\\s+`,
].join('|');

/** names accepted wherever a pattern is asked for (CLI --pattern, training options) */
export const NAMED_PATTERNS: Record<string, string> = {
  gpt2: GPT2_PATTERN,
  gpt4: CL100K_PATTERN,
  cl100k: CL100K_PATTERN,
  cl100k_base: CL100K_PATTERN,
  o200k: O200K_PATTERN,
  o200k_base: O200K_PATTERN,
};

/**
 * Compiles a split pattern (flags 'gu') after checking it cannot backtrack catastrophically
 * (see regex-safety.ts) and does not match the empty string. `where` names the pattern's origin in errors,
 * e.g. `tok.json: field "pattern"`. Throws a one-line Error for invalid syntax or an unsafe pattern.
 * (A pattern may still match empty text at some positions only, e.g. a lookahead: the encoders skip such
 * matches one code point at a time.)
 */
export function compilePattern(pattern: string, where = 'split pattern'): RegExp {
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'gu');
  } catch (e) {
    throw new Error(`${where}: invalid split pattern ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
  const problem = backtrackingHazard(pattern);
  if (problem !== null) {
    throw new Error(`${where}: split pattern ${JSON.stringify(pattern)} can backtrack catastrophically (${problem}); rewrite it without nested repetition`);
  }
  if (new RegExp(pattern, 'u').test('')) {
    throw new Error(`${where}: split pattern ${JSON.stringify(pattern)} matches the empty string, so it would cut text into empty chunks forever`);
  }
  return re;
}

/**
 * Hugging Face tokenizer.json regexes are Oniguruma/Rust syntax; JavaScript (Node 20) lacks the inline
 * case-insensitive group `(?i:…)` that Llama 3, Qwen2 and GPT-4o-style files use for contractions. This
 * rewrites each such group (without nested groups or classes) by spelling every ASCII letter outside an
 * escape as a two-case class, e.g. "(?i:'s|'ll)" → "(?:'[sS]|'[lL][lL])"; anything else is returned unchanged.
 */
export function expandInlineCaseFolding(pattern: string): string {
  return pattern.replace(/\(\?i:((?:\\.|[^()\\])*)\)/g, (group: string, body: string) => {
    if (body.includes('[')) return group; // classes would need their ranges folded too: left to fail loudly
    let out = '';
    for (let i = 0; i < body.length; i++) {
      const c = body[i];
      if (c === '\\') { out += c + (body[i + 1] ?? ''); i++; continue; }
      out += /[a-zA-Z]/.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c;
    }
    return `(?:${out})`;
  });
}
