// OpenAI's encodings: their split patterns and special tokens, and parsers for the two rank formats:
//  - a `.tiktoken` file (what tiktoken downloads): "base64(token bytes) rank" per line, e.g. "IQ== 0"
//  - js-tiktoken's compressed form: lines "! offset tok tok tok…", token k of a line has rank offset + k
// Browser-safe; finding the rank data on disk is tiktoken.node.ts's job. The ranks are never in this repo.
import { BPETokenizer } from './bpe.js';
import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN } from './patterns.js';

export interface EncodingSpec {
  pattern: string;
  special: Record<string, number>;
  /** number of mergeable ranks, a sanity check on rank files */
  mergeable: number;
}

export const ENCODINGS: Record<string, EncodingSpec> = {
  r50k_base: { pattern: GPT2_PATTERN, special: { '<|endoftext|>': 50256 }, mergeable: 50256 },
  p50k_base: { pattern: GPT2_PATTERN, special: { '<|endoftext|>': 50256 }, mergeable: 50280 },
  cl100k_base: {
    pattern: CL100K_PATTERN,
    special: { '<|endoftext|>': 100257, '<|fim_prefix|>': 100258, '<|fim_middle|>': 100259, '<|fim_suffix|>': 100260, '<|endofprompt|>': 100276 },
    mergeable: 100256,
  },
  o200k_base: { pattern: O200K_PATTERN, special: { '<|endoftext|>': 199999, '<|endofprompt|>': 200018 }, mergeable: 199998 },
};

/** aliases users type: gpt2 is r50k_base (the two share ranks, pattern and <|endoftext|>) */
export function canonicalEncoding(name: string): string {
  const n = name.toLowerCase();
  if (n === 'gpt2' || n === 'gpt-2' || n === 'r50k') return 'r50k_base';
  if (n === 'cl100k' || n === 'gpt4' || n === 'gpt-4') return 'cl100k_base';
  if (n === 'o200k' || n === 'gpt4o' || n === 'gpt-4o') return 'o200k_base';
  if (n === 'p50k') return 'p50k_base';
  return n;
}

function b64(token: string, where: string): string {
  try {
    return atob(token);
  } catch {
    throw new Error(`${where}: ${JSON.stringify(token.slice(0, 40))} is not valid base64`);
  }
}

/** parses `.tiktoken` rank-file text; errors name the source and line */
export function parseTiktokenRanks(text: string, source = 'rank file'): Map<string, number> {
  const ranks = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const sp = line.indexOf(' ');
    const rank = sp > 0 ? Number(line.slice(sp + 1)) : NaN;
    if (!Number.isInteger(rank) || rank < 0) {
      throw new Error(`${source}:${i + 1}: expected "<base64 token> <rank>", got ${JSON.stringify(line.slice(0, 60))}`);
    }
    ranks.set(b64(line.slice(0, sp), `${source}:${i + 1}`), rank);
  }
  if (ranks.size === 0) throw new Error(`${source}: no ranks found (is this a .tiktoken file?)`);
  return ranks;
}

/** parses js-tiktoken's compressed `bpe_ranks` string */
export function parseJsTiktokenRanks(compressed: string, source = 'js-tiktoken ranks'): Map<string, number> {
  const ranks = new Map<string, number>();
  const lines = compressed.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]) continue;
    const parts = lines[i].split(' ');
    const offset = Number(parts[1]);
    if (!Number.isInteger(offset)) throw new Error(`${source}:${i + 1}: bad offset ${JSON.stringify(parts[1])}`);
    for (let k = 2; k < parts.length; k++) ranks.set(b64(parts[k], `${source}:${i + 1}`), offset + k - 2);
  }
  return ranks;
}

/** a tokenizer for a named OpenAI encoding from its parsed ranks */
export function encodingFromRanks(name: string, ranks: Map<string, number>, special?: Record<string, number>): BPETokenizer {
  const canon = canonicalEncoding(name);
  const spec = ENCODINGS[canon];
  if (!spec) throw new Error(`unknown encoding ${JSON.stringify(name)}; known: gpt2 (r50k_base), p50k_base, cl100k_base, o200k_base`);
  if (ranks.size !== spec.mergeable) {
    throw new Error(`ranks for ${canon} should have ${spec.mergeable} tokens but have ${ranks.size}; wrong rank file?`);
  }
  return new BPETokenizer(ranks, { name: canon, pattern: spec.pattern, special: special ?? spec.special });
}
