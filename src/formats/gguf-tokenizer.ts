// Tokenizers in GGUF metadata, both directions, in forms llama.cpp loads and tokenizes identically:
//   byte-level BPE (ours, tiktoken's)  → tokenizer.ggml.model "gpt2": tokens spelled with GPT-2's
//       bytes_to_unicode, merges "a b" in rank order, tokenizer.ggml.pre naming the split regex
//       ("gpt-2", "llama-bpe" = cl100k's pattern, "gpt-4o" = o200k's);
//   SentencePiece vocabularies read from llama.cpp files (gguf-spm-tokenizer.ts) → written back as they were;
//   character-level and byte-fallback (char, chinese) → tokenizer.ggml.model "llama" (SentencePiece): one
//       piece per character with " " spelled "▁" (U+2581, SentencePiece's space), `<0xE8>` byte pieces of
//       token type BYTE, no space prefix, no BOS; llama.cpp's SPM merges two symbols only when their
//       concatenation is a piece, so single-character pieces tokenize character by character.
// Special tokens are CONTROL tokens. Our own tokenizer JSON is stored too (gptlab.tokenizer) so a file we
// wrote reads back exactly; files from llama.cpp's tools are rebuilt from tokens + merges.
// Sources: llama.cpp src/llama-vocab.cpp (llm_tokenizer_spm, llm_tokenizer_bpe, pre-tokenizer names),
// gguf-py constants.py (Keys.Tokenizer, TokenType), convert_hf_to_gguf.py (get_vocab_base_pre).
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { BPETokenizer } from '../tokenizers/bpe.js';
import { CharTokenizer } from '../tokenizers/char.js';
import { ChineseTokenizer } from '../tokenizers/chinese.js';
import { bpeMerges, bytesToUnicode, tokenizerFromHF } from '../tokenizers/huggingface.js';
import { tokenizerFromJSON } from '../tokenizers/index.js';
import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN } from '../tokenizers/patterns.js';
import { GGUFValues, type GGUFValue } from './gguf-values.js';
import type { GGUFFile } from './gguf.js';
import { metaBool, metaNumber, metaNumberArray, metaString, metaStringArray, requireString, requireStringArray } from './gguf-meta.js';
import { TOKENIZER, TOKEN_TYPE } from './gguf-names.js';
import { SpmTokenizer } from '../tokenizers/spm.js';

/** our key holding the tokenizer's own JSON (llama.cpp ignores keys it does not know) */
export const GPTLAB_TOKENIZER_KEY = 'gptlab.tokenizer';
const SPM_SPACE = '\u2581';
const B2U = bytesToUnicode();

/** llama.cpp pre-tokenizer names (tokenizer.ggml.pre) of the split patterns we use */
const PRE_NAMES: [string, string][] = [['gpt-2', GPT2_PATTERN], ['llama-bpe', CL100K_PATTERN], ['gpt-4o', O200K_PATTERN]];

/** The gptlab chat template (`<|role|>content<|end|>\n` per turn) as Jinja, for tokenizer.chat_template. */
export const GPTLAB_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}";

export interface GGUFTokenizerMeta {
  entries: [string, GGUFValue][];
  notes: string[];
}

function binToByteLevel(bin: string): string {
  let s = '';
  for (let i = 0; i < bin.length; i++) s += B2U[bin.charCodeAt(i)];
  return s;
}

/** id → special text, every id below vocabSize covered (holes become unused "[PADn]" tokens) */
function specialsById(tok: Tokenizer): Map<number, string> {
  return new Map([...tok.specialTokens].map(([s, id]) => [id, s]));
}

function bpeMeta(tok: BPETokenizer, nVocab: number, notes: string[]): [string, GGUFValue][] {
  const bins = tok.tokenBinaries();
  const specials = specialsById(tok);
  const tokens: string[] = [], types: number[] = [];
  for (let id = 0; id < nVocab; id++) {
    const bin = bins[id], sp = specials.get(id);
    if (bin !== undefined) { tokens.push(binToByteLevel(bin)); types.push(TOKEN_TYPE.normal); }
    else if (sp !== undefined) { tokens.push(sp); types.push(TOKEN_TYPE.control); }
    else { tokens.push(`[PAD${id}]`); types.push(TOKEN_TYPE.unused); }
  }
  const merges = bpeMerges(tok).map(([a, b]) => `${binToByteLevel(a)} ${binToByteLevel(b)}`);
  let pre = PRE_NAMES.find(([, p]) => p === tok.pattern)?.[0];
  if (!pre) {
    pre = 'gpt-2';
    notes.push(`the BPE split pattern ${tok.pattern === null ? '(none)' : JSON.stringify(tok.pattern.slice(0, 40))} has no llama.cpp pre-tokenizer; wrote "gpt-2", so llama.cpp may split text differently`);
  }
  return [
    [TOKENIZER.model, GGUFValues.string('gpt2')],
    [TOKENIZER.pre, GGUFValues.string(pre)],
    [TOKENIZER.tokens, GGUFValues.array('string', tokens)],
    [TOKENIZER.tokenType, GGUFValues.array('int32', types)],
    [TOKENIZER.merges, GGUFValues.array('string', merges)],
  ];
}

/** SentencePiece-style pieces for character-level and byte-fallback vocabularies */
function spmMeta(tok: Tokenizer, nVocab: number, notes: string[]): [string, GGUFValue][] {
  const specials = specialsById(tok);
  const tokens: string[] = [], types: number[] = [], scores: number[] = [];
  for (let id = 0; id < nVocab; id++) {
    const sp = specials.get(id);
    if (id >= tok.vocabSize) { tokens.push(`[PAD${id}]`); types.push(TOKEN_TYPE.unused); scores.push(0); continue; }
    let piece = sp ?? tok.idToToken(id);
    let type: number = sp !== undefined ? TOKEN_TYPE.control : TOKEN_TYPE.normal;
    if (sp === undefined && tok.type === 'chinese' && id < 256) type = TOKEN_TYPE.byte;
    else if (sp === undefined) {
      if (piece.includes(SPM_SPACE)) notes.push(`token ${id} contains "▁", which llama.cpp reads as a space`);
      piece = piece.replaceAll(' ', SPM_SPACE);
    }
    tokens.push(piece); types.push(type); scores.push(type === TOKEN_TYPE.normal ? -Array.from(piece).length : 0);
  }
  if (tok.type === 'chinese' && (tok as ChineseTokenizer).pieces.some((p) => Array.from(p).length > 1)) {
    notes.push('multi-character pieces: llama.cpp segments by piece scores, gptlab by word probabilities; tokenizations may differ');
  }
  return [
    [TOKENIZER.model, GGUFValues.string('llama')],
    [TOKENIZER.pre, GGUFValues.string('default')],
    [TOKENIZER.tokens, GGUFValues.array('string', tokens)],
    [TOKENIZER.scores, GGUFValues.array('float32', scores)],
    [TOKENIZER.tokenType, GGUFValues.array('int32', types)],
    ['tokenizer.ggml.add_space_prefix', GGUFValues.bool(false)],
  ];
}

/** a SentencePiece vocabulary read from a GGUF file, written back as it was */
function spmVocabMeta(tok: SpmTokenizer, nVocab: number): [string, GGUFValue][] {
  if (nVocab !== tok.vocabSize) throw new Error(`GGUF export: the model has ${nVocab} token rows but the tokenizer ${tok.vocabSize} tokens`);
  const v = tok.vocab;
  return [
    [TOKENIZER.model, GGUFValues.string('llama')],
    [TOKENIZER.pre, GGUFValues.string('default')],
    [TOKENIZER.tokens, GGUFValues.array('string', v.tokens)],
    [TOKENIZER.scores, GGUFValues.array('float32', v.scores)],
    [TOKENIZER.tokenType, GGUFValues.array('int32', v.types)],
    ['tokenizer.ggml.add_space_prefix', GGUFValues.bool(v.addSpacePrefix)],
  ];
}

/**
 * GGUF metadata for a tokenizer (nVocab ≥ vocabSize rows; extra ids are unused "[PADn]" tokens):
 * tokenizer.ggml.* in a form llama.cpp loads, BOS/EOS ids, the chat
 * template when the tokenizer has the gptlab chat tokens, and our own JSON. Throws for tokenizer types
 * llama.cpp has no model for (word, wordpiece).
 */
export function tokenizerToGGUF(tok: Tokenizer, nVocab = tok.vocabSize): GGUFTokenizerMeta {
  const notes: string[] = [];
  if (nVocab < tok.vocabSize) throw new Error(`GGUF export: the model has ${nVocab} token rows but the tokenizer ${tok.vocabSize} tokens`);
  let entries: [string, GGUFValue][];
  if (tok instanceof BPETokenizer) entries = bpeMeta(tok, nVocab, notes);
  else if (tok instanceof SpmTokenizer) entries = spmVocabMeta(tok, nVocab);
  else if (tok.type === 'char' || tok.type === 'chinese') entries = spmMeta(tok, nVocab, notes);
  else throw new Error(`GGUF export: the ${tok.type} tokenizer has no llama.cpp equivalent (char, chinese and byte-level BPE do)`);
  const sp = tok.specialTokens;
  const eos = sp.get('<|end|>') ?? sp.get('<|endoftext|>');
  const bos = sp.get('<|endoftext|>') ?? eos;
  if (bos !== undefined) entries.push([TOKENIZER.bosTokenId, GGUFValues.uint32(bos)]);
  if (eos !== undefined) entries.push([TOKENIZER.eosTokenId, GGUFValues.uint32(eos)]);
  entries.push([TOKENIZER.addBosToken, GGUFValues.bool(false)], [TOKENIZER.addEosToken, GGUFValues.bool(false)]);
  if (['<|user|>', '<|assistant|>', '<|end|>'].every((s) => sp.has(s))) entries.push([TOKENIZER.chatTemplate, GGUFValues.string(GPTLAB_CHAT_TEMPLATE)]);
  if (!(tok instanceof SpmTokenizer)) entries.push([GPTLAB_TOKENIZER_KEY, GGUFValues.string(JSON.stringify(tok.toJSON()))]);
  return { entries, notes };
}

function checkLengths(f: GGUFFile, n: number): void {
  for (const key of [TOKENIZER.tokenType, TOKENIZER.scores]) {
    const a = metaNumberArray(f, key);
    if (a && a.length !== n) throw new Error(`${f.name}: metadata "${key}": ${a.length} entries for ${n} tokens`);
  }
}

function bpeFromGGUF(f: GGUFFile, tokens: string[], types: number[] | undefined): Tokenizer {
  const merges = requireStringArray(f, TOKENIZER.merges);
  const pre = metaString(f, TOKENIZER.pre) ?? 'gpt-2';
  const pattern = PRE_NAMES.find(([n]) => n === pre)?.[1] ?? (pre === 'llama3' || pre === 'llama-v3' ? CL100K_PATTERN : pre === 'default' ? GPT2_PATTERN : undefined);
  if (!pattern) throw new Error(`${f.name}: metadata "${TOKENIZER.pre}": pre-tokenizer "${pre}" is not supported (gpt-2, llama-bpe, gpt-4o, default)`);
  const vocab: Record<string, number> = Object.create(null);
  const added: object[] = [];
  tokens.forEach((t, id) => {
    const ty = types?.[id] ?? TOKEN_TYPE.normal;
    if (ty === TOKEN_TYPE.control || ty === TOKEN_TYPE.userDefined) added.push({ id, content: t, special: true });
    else if (ty !== TOKEN_TYPE.unused) vocab[t] = id;
  });
  const hf = {
    added_tokens: added,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: pattern } }, { type: 'ByteLevel' }] },
    model: { type: 'BPE', vocab, merges },
  };
  try {
    return tokenizerFromHF(hf, 'gguf');
  } catch (e) {
    throw new Error(`${f.name}: metadata "${TOKENIZER.tokens}"/"${TOKENIZER.merges}": ${(e as Error).message.replace(/^gguf: /, '')}`);
  }
}

/**
 * A "llama" (SentencePiece) vocabulary: character-level ones without a space prefix (ours) as a
 * CharTokenizer; any other as llama.cpp's SPM algorithm (gguf-spm-tokenizer.ts).
 */
function spmFromGGUF(f: GGUFFile, tokens: string[], types: number[] | undefined): Tokenizer {
  const addSpacePrefix = metaBool(f, 'tokenizer.ggml.add_space_prefix') ?? true;
  const scores = metaNumberArray(f, TOKENIZER.scores) ?? tokens.map(() => 0);
  const chars: string[] = [];
  const special: Record<string, number> = Object.create(null);
  let charLevel = !addSpacePrefix;
  tokens.forEach((t, id) => {
    if (!charLevel) return;
    const ty = types?.[id] ?? TOKEN_TYPE.normal;
    if (ty === TOKEN_TYPE.control || ty === TOKEN_TYPE.userDefined) { special[t] = id; return; }
    const ch = t.replaceAll(SPM_SPACE, ' ');
    if (ty !== TOKEN_TYPE.normal || Array.from(ch).length !== 1 || Object.keys(special).length > 0) charLevel = false;
    else chars.push(ch);
  });
  if (charLevel) return new CharTokenizer(chars, special);
  return new SpmTokenizer({ tokens, scores, types: types ?? tokens.map(() => TOKEN_TYPE.normal), addSpacePrefix });
}

/**
 * The tokenizer of a GGUF file: our stored JSON when present, else rebuilt from tokenizer.ggml.* ("gpt2"
 * byte-level BPE with merges; character-level "llama" SentencePiece). Throws one line naming the file and
 * key for a missing or mistyped key or an unsupported tokenizer model.
 */
export function tokenizerFromGGUF(f: GGUFFile): Tokenizer {
  const ours = metaString(f, GPTLAB_TOKENIZER_KEY);
  if (ours !== undefined) {
    let json: unknown;
    try { json = JSON.parse(ours); } catch (e) { throw new Error(`${f.name}: metadata "${GPTLAB_TOKENIZER_KEY}": not valid JSON`); }
    return tokenizerFromJSON(json, `${f.name}: metadata "${GPTLAB_TOKENIZER_KEY}"`);
  }
  const model = requireString(f, TOKENIZER.model);
  const tokens = requireStringArray(f, TOKENIZER.tokens);
  const types = metaNumberArray(f, TOKENIZER.tokenType);
  checkLengths(f, tokens.length);
  metaNumber(f, TOKENIZER.bosTokenId);
  metaBool(f, TOKENIZER.addBosToken);
  metaStringArray(f, TOKENIZER.merges);
  if (model === 'gpt2') return bpeFromGGUF(f, tokens, types);
  if (model === 'llama') return spmFromGGUF(f, tokens, types);
  throw new Error(`${f.name}: metadata "${TOKENIZER.model}": tokenizer model "${model}" is not supported (gpt2, llama)`);
}
