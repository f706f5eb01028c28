// Metadata a GGUF model load must refuse rather than run differently from llama.cpp: RoPE scaling (gptlab
// runs plain RoPE only), special token ids outside the vocabulary, a vocab_size that disagrees with the token
// list or the embedding rows, and norm epsilons that are not positive finite numbers. Keys: gguf-names.ts
// (llama.cpp's llama-arch.cpp LLM_KV_* names). Every error is one line naming the file and the key.
import type { GGUFFile } from './gguf.js';
import { metaNumber, metaString, metaStringArray } from './gguf-meta.js';
import { TOKENIZER, archKeys } from './gguf-names.js';

function fail(f: GGUFFile, key: string, msg: string): never {
  throw new Error(`${f.name}: metadata "${key}": ${msg}`);
}

/** `${arch}.rope.scaling.type` other than "none", or a scaling factor other than 1 (0 means unset) */
function checkRopeScaling(f: GGUFFile, arch: string): void {
  const k = archKeys(arch);
  const type = metaString(f, k.ropeScalingType);
  if (type !== undefined && type !== 'none') fail(f, k.ropeScalingType, `rope type ${JSON.stringify(type)} is not supported (only plain RoPE)`);
  const factor = metaNumber(f, k.ropeScalingFactor);
  if (factor !== undefined && factor !== 0 && factor !== 1) fail(f, k.ropeScalingFactor, `rope scaling by ${factor} is not supported (only plain RoPE)`);
}

/** layer_norm_epsilon / layer_norm_rms_epsilon, when present: a positive finite number */
function checkEpsilons(f: GGUFFile, arch: string): void {
  const k = archKeys(arch);
  for (const key of [k.layerNormEpsilon, k.layerNormRmsEpsilon]) {
    const v = metaNumber(f, key);
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) fail(f, key, `must be a positive finite number, got ${v}`);
  }
}

/** `${arch}.vocab_size`, when present, equal to the token list's length and to token_embd's rows */
function checkVocabSize(f: GGUFFile, arch: string, rows: number, nTokens: number | undefined): void {
  const key = archKeys(arch).vocabSize, v = metaNumber(f, key);
  if (v === undefined) return;
  if (v !== rows) fail(f, key, `${v} but tensor "token_embd.weight" has ${rows} rows`);
  if (nTokens !== undefined && v !== nTokens) fail(f, key, `${v} but "${TOKENIZER.tokens}" holds ${nTokens} tokens`);
}

const SPECIAL_IDS = [TOKENIZER.bosTokenId, TOKENIZER.eosTokenId, TOKENIZER.unknownTokenId, TOKENIZER.paddingTokenId, TOKENIZER.separatorTokenId, TOKENIZER.eotTokenId];

/** every special token id present is an index into a vocabulary of `n` tokens */
function checkSpecialIds(f: GGUFFile, n: number): void {
  for (const key of SPECIAL_IDS) {
    const id = metaNumber(f, key);
    if (id !== undefined && !(Number.isInteger(id) && id >= 0 && id < n)) fail(f, key, `token id ${id} is outside the vocabulary of ${n} tokens`);
  }
}

/**
 * Throws one line `<file>: metadata "<key>": …` for metadata gptlab would otherwise run silently wrong:
 * RoPE scaling, a NaN / negative epsilon, `${arch}.vocab_size` against the embedding's `rows` and the token
 * list, a special token id at or past the vocabulary (`vocab`: the tokenizer's size when the file has no
 * tokenizer.ggml.tokens).
 */
export function checkModelMetadata(f: GGUFFile, arch: string, rows: number, vocab: number): void {
  checkRopeScaling(f, arch);
  checkEpsilons(f, arch);
  const nTokens = metaStringArray(f, TOKENIZER.tokens)?.length;
  checkVocabSize(f, arch, rows, nTokens);
  checkSpecialIds(f, Math.min(nTokens ?? vocab, rows));
}
