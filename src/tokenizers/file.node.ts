// Node-only file I/O for tokenizers: strict UTF-8 text reading, and loading a tokenizer from a file
// (our JSON, a Hugging Face tokenizer.json, or a `.tiktoken` rank file) with errors that name the file.
import { readFile, writeFile } from 'node:fs/promises';
import { decodeUtf8Strict } from './utf8.js';
import type { Tokenizer } from './tokenizer.js';
import { tokenizerFromJSON } from './index.js';
import { ENCODINGS, encodingFromRanks, parseTiktokenRanks } from './tiktoken.js';
import { loadEncoding } from './tiktoken.node.js';
import { withSource } from './validate.js';

/** a text file that must be valid UTF-8 (a BOM is skipped); invalid bytes → error with line and offset */
export async function readTextFile(file: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : code ?? (e as Error).message}`);
  }
  return decodeUtf8Strict(bytes, file);
}

export async function loadTokenizerFile(file: string): Promise<Tokenizer> {
  return parseTokenizerFile(await readTextFile(file), file);
}

/** a tokenizer from the text of a file already read (`file` names it in errors and picks the format) */
export function parseTokenizerFile(text: string, file: string): Tokenizer {
  if (file.endsWith('.tiktoken')) {
    const ranks = parseTiktokenRanks(text, file);
    // a bare rank file has no pattern; the rank count says which encoding it is
    const name = Object.keys(ENCODINGS).find((n) => ENCODINGS[n].mergeable === ranks.size && n !== 'p50k_base');
    if (!name) throw new Error(`${file}: ${ranks.size} ranks match no known encoding (gpt2 50256, cl100k_base 100256, o200k_base 199998)`);
    return withSource(file, () => encodingFromRanks(name, ranks));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return tokenizerFromJSON(json, file);
}

export async function saveTokenizerFile(tok: Tokenizer, file: string): Promise<void> {
  await writeFile(file, JSON.stringify(tok.toJSON()) + '\n');
}

/** `--encoding NAME` or `--tokenizer FILE`, whichever is given (default cl100k_base) */
export async function resolveTokenizer(opts: { encoding?: string; tokenizer?: string; ranks?: string }): Promise<Tokenizer> {
  if (opts.tokenizer) return loadTokenizerFile(opts.tokenizer);
  return loadEncoding(opts.encoding ?? 'cl100k_base', { ranksFile: opts.ranks });
}
