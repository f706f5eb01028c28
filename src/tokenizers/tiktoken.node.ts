// Node-only: where OpenAI encodings' ranks come from at run time. Either a `.tiktoken` file the user passes,
// or the copy shipped inside the installed `js-tiktoken` package (a dev dependency here; `npm i js-tiktoken`
// elsewhere). Nothing is downloaded and no rank data lives in this repository.
import { readFile } from 'node:fs/promises';
import type { BPETokenizer } from './bpe.js';
import { ENCODINGS, canonicalEncoding, encodingFromRanks, parseJsTiktokenRanks, parseTiktokenRanks } from './tiktoken.js';
import { withSource } from './validate.js';

const loaded = new Map<string, Promise<BPETokenizer>>();

/** js-tiktoken's file names for the encodings (it calls r50k's "gpt2" too, with the same data) */
const JS_TIKTOKEN_NAME: Record<string, string> = { r50k_base: 'r50k_base', p50k_base: 'p50k_base', cl100k_base: 'cl100k_base', o200k_base: 'o200k_base' };

/**
 * Loads `gpt2`/`r50k_base`, `p50k_base`, `cl100k_base` or `o200k_base`. With `ranksFile`, ranks come from that
 * `.tiktoken` file; otherwise from the installed js-tiktoken package. Results are cached per process.
 */
export function loadEncoding(name: string, opts: { ranksFile?: string } = {}): Promise<BPETokenizer> {
  const canon = canonicalEncoding(name);
  if (!ENCODINGS[canon]) {
    return Promise.reject(new Error(`unknown encoding ${JSON.stringify(name)}; known: gpt2 (r50k_base), p50k_base, cl100k_base, o200k_base`));
  }
  const key = `${canon}\0${opts.ranksFile ?? ''}`;
  let p = loaded.get(key);
  if (!p) {
    p = opts.ranksFile ? fromFile(canon, opts.ranksFile) : fromJsTiktoken(canon);
    loaded.set(key, p);
    p.catch(() => loaded.delete(key));
  }
  return p;
}

async function fromFile(canon: string, file: string): Promise<BPETokenizer> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read rank file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return withSource(file, () => encodingFromRanks(canon, parseTiktokenRanks(text, file)));
}

async function fromJsTiktoken(canon: string): Promise<BPETokenizer> {
  const spec = `js-tiktoken/ranks/${JS_TIKTOKEN_NAME[canon]}`;
  let mod: { default: { pat_str: string; special_tokens: Record<string, number>; bpe_ranks: string } };
  try {
    mod = await import(spec);
  } catch {
    throw new Error(
      `the ranks of ${canon} were not found: install js-tiktoken (npm i js-tiktoken) or pass a rank file ` +
        `(--ranks ${canon}.tiktoken, from https://openaipublic.blob.core.windows.net/encodings/${canon}.tiktoken)`,
    );
  }
  const d = mod.default;
  return encodingFromRanks(canon, parseJsTiktokenRanks(d.bpe_ranks, spec), d.special_tokens);
}
