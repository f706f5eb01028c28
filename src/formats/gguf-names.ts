// llama.cpp's metadata key names for GGUF files, for the `gpt2` and `llama` architectures and the GGML
// tokenizer. Source: ggml/docs/gguf.md ("Standardized key-value pairs") and the gguf Python package's
// constants.py (Keys.General, Keys.LLM, Keys.Attention, Keys.Rope, Keys.Tokenizer), which llama.cpp reads.
// Types noted are what llama.cpp's converters write.

/** Architectures this project writes and reads. */
export type GGUFArchitecture = 'gpt2' | 'llama';

export const GENERAL = {
  architecture: 'general.architecture', // string
  quantizationVersion: 'general.quantization_version', // uint32, required when any tensor is quantized (2)
  alignment: 'general.alignment', // uint32, default 32
  name: 'general.name', // string
  author: 'general.author',
  version: 'general.version',
  description: 'general.description',
  license: 'general.license',
  url: 'general.url',
  fileType: 'general.file_type', // uint32, llama_ftype
  sizeLabel: 'general.size_label',
  basename: 'general.basename',
} as const;

/** Per-architecture keys: archKeys('llama').contextLength === 'llama.context_length'. */
export function archKeys(arch: string) {
  return {
    contextLength: `${arch}.context_length`, // uint32
    embeddingLength: `${arch}.embedding_length`, // uint32
    blockCount: `${arch}.block_count`, // uint32
    feedForwardLength: `${arch}.feed_forward_length`, // uint32
    vocabSize: `${arch}.vocab_size`, // uint32 (optional; else the length of tokenizer.ggml.tokens)
    headCount: `${arch}.attention.head_count`, // uint32
    headCountKv: `${arch}.attention.head_count_kv`, // uint32 (GQA)
    layerNormEpsilon: `${arch}.attention.layer_norm_epsilon`, // float32 (gpt2)
    layerNormRmsEpsilon: `${arch}.attention.layer_norm_rms_epsilon`, // float32 (llama)
    keyLength: `${arch}.attention.key_length`, // uint32
    valueLength: `${arch}.attention.value_length`, // uint32
    ropeDimensionCount: `${arch}.rope.dimension_count`, // uint32
    ropeFreqBase: `${arch}.rope.freq_base`, // float32
    ropeScalingType: `${arch}.rope.scaling.type`, // string
    ropeScalingFactor: `${arch}.rope.scaling.factor`, // float32
  } as const;
}

export const TOKENIZER = {
  model: 'tokenizer.ggml.model', // string: 'gpt2' (byte-level BPE), 'llama' (SentencePiece), ...
  pre: 'tokenizer.ggml.pre', // string: pre-tokenizer name, e.g. 'gpt-2', 'default'
  tokens: 'tokenizer.ggml.tokens', // string[]
  tokenType: 'tokenizer.ggml.token_type', // int32[]: see TOKEN_TYPE
  scores: 'tokenizer.ggml.scores', // float32[]
  merges: 'tokenizer.ggml.merges', // string[] 'a b'
  bosTokenId: 'tokenizer.ggml.bos_token_id', // uint32
  eosTokenId: 'tokenizer.ggml.eos_token_id', // uint32
  unknownTokenId: 'tokenizer.ggml.unknown_token_id', // uint32
  separatorTokenId: 'tokenizer.ggml.seperator_token_id', // uint32 (llama.cpp's spelling)
  paddingTokenId: 'tokenizer.ggml.padding_token_id', // uint32
  eotTokenId: 'tokenizer.ggml.eot_token_id', // uint32
  addBosToken: 'tokenizer.ggml.add_bos_token', // bool
  addEosToken: 'tokenizer.ggml.add_eos_token', // bool
  chatTemplate: 'tokenizer.chat_template', // string (Jinja)
  huggingfaceJson: 'tokenizer.huggingface.json', // string
} as const;

/** tokenizer.ggml.token_type values (llama_token_type / LLAMA_TOKEN_TYPE_* in llama.cpp). */
export const TOKEN_TYPE = { undefined: 0, normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

/** general.file_type values (llama_ftype) for the formats src/quant implements. */
export const FILE_TYPE = {
  ALL_F32: 0, MOSTLY_F16: 1, MOSTLY_Q4_0: 2, MOSTLY_Q4_1: 3, MOSTLY_Q8_0: 7, MOSTLY_Q5_0: 8, MOSTLY_Q5_1: 9,
  MOSTLY_Q4_K_S: 14, MOSTLY_Q4_K_M: 15, MOSTLY_Q5_K_S: 16, MOSTLY_Q5_K_M: 17, MOSTLY_Q6_K: 18,
} as const;

/** general.quantization_version that llama.cpp currently writes (GGML_QNT_VERSION). */
export const QUANTIZATION_VERSION = 2;

/**
 * llama.cpp's tensor names per architecture (gguf constants.py TENSOR_NAMES / llama-arch.cpp), with {bid}
 * the block index: tensorName('blk.{bid}.attn_q', 3) === 'blk.3.attn_q' (add '.weight' / '.bias').
 */
export const TENSOR = {
  tokenEmbd: 'token_embd',
  posEmbd: 'position_embd', // gpt2
  outputNorm: 'output_norm',
  output: 'output',
  attnNorm: 'blk.{bid}.attn_norm',
  attnQkv: 'blk.{bid}.attn_qkv', // gpt2: fused q, k, v
  attnQ: 'blk.{bid}.attn_q', // llama
  attnK: 'blk.{bid}.attn_k',
  attnV: 'blk.{bid}.attn_v',
  attnOutput: 'blk.{bid}.attn_output',
  ffnNorm: 'blk.{bid}.ffn_norm',
  ffnUp: 'blk.{bid}.ffn_up',
  ffnGate: 'blk.{bid}.ffn_gate', // llama
  ffnDown: 'blk.{bid}.ffn_down',
} as const;

/** Substitutes the block index into a TENSOR name. */
export function tensorName(template: string, bid: number): string {
  return template.replace('{bid}', String(bid));
}
