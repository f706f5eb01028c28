// The LLaMA model's configuration: shape, validation, presets and a parameter count that needs no weights.
// Field names are ours (camelCase, as GPTConfig); src/formats/hf.ts maps them to transformers' LlamaConfig
// (hidden_size, intermediate_size, num_key_value_heads, rope_theta, rms_norm_eps, …).

export interface LlamaConfig {
  vocabSize: number;
  /** the context window (transformers' max_position_embeddings); RoPE itself has no length limit */
  blockSize: number;
  nLayer: number;
  /** query heads */
  nHead: number;
  /** key/value heads (grouped-query attention); nHead = nKvHead is multi-head, 1 is multi-query */
  nKvHead: number;
  nEmbd: number;
  /** the SwiGLU MLP's hidden width (gate_proj / up_proj outputs) */
  intermediateSize: number;
  /** RoPE base: 10000 in LLaMA 1/2, 500000 in LLaMA 3 */
  ropeTheta: number;
  /** RMSNorm's eps: 1e-6 in LLaMA 1, 1e-5 in LLaMA 2/3 */
  rmsNormEps: number;
  /** lm_head shares model.embed_tokens.weight (no separate lm_head.weight) */
  tieWordEmbeddings: boolean;
  /**
   * dropout on the embedding output and on each residual branch (attention's o_proj, the MLP's down_proj),
   * as nanoGPT's GPT; transformers' Llama has only attention_dropout (0 in released models)
   */
  dropout: number;
}

/**
 * LLaMA's SwiGLU width for a model width d (Touvron et al. 2023; Meta's model.py): ⅔·4d rounded up to a
 * multiple of `multipleOf` — 11008 for d = 4096 with 256.
 */
export function swigluHidden(nEmbd: number, multipleOf = 256): number {
  const h = Math.floor((2 * 4 * nEmbd) / 3);
  return multipleOf * Math.ceil(h / multipleOf);
}

/** shapes from tiny to a 124M-class model (with a 50257-token vocabulary); vocabSize comes from the tokenizer */
export const LLAMA_PRESETS: Record<string, Omit<LlamaConfig, 'vocabSize'>> = {
  /** tests and the quickest demos: 2 layers, 4 query heads sharing 2 kv heads */
  tiny: { nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 64, intermediateSize: swigluHidden(64, 32), blockSize: 32, ropeTheta: 10000, rmsNormEps: 1e-5, tieWordEmbeddings: true, dropout: 0 },
  /** the GPT demo's shape with a 128-token context */
  demo: { nLayer: 4, nHead: 4, nKvHead: 2, nEmbd: 128, intermediateSize: swigluHidden(128, 32), blockSize: 128, ropeTheta: 10000, rmsNormEps: 1e-5, tieWordEmbeddings: true, dropout: 0 },
  /** nanoGPT's CPU config's shape */
  cpu: { nLayer: 4, nHead: 4, nKvHead: 2, nEmbd: 128, intermediateSize: swigluHidden(128, 32), blockSize: 64, ropeTheta: 10000, rmsNormEps: 1e-5, tieWordEmbeddings: true, dropout: 0 },
  /** nanoGPT's shakespeare_char shape */
  shakespeare_char: { nLayer: 6, nHead: 6, nKvHead: 2, nEmbd: 384, intermediateSize: swigluHidden(384, 64), blockSize: 256, ropeTheta: 10000, rmsNormEps: 1e-5, tieWordEmbeddings: true, dropout: 0.2 },
  /** GPT-2 small's width and depth with LLaMA's blocks: 123.6M parameters with a 50257 vocabulary */
  '124m': { nLayer: 12, nHead: 12, nKvHead: 12, nEmbd: 768, intermediateSize: swigluHidden(768), blockSize: 1024, ropeTheta: 10000, rmsNormEps: 1e-5, tieWordEmbeddings: true, dropout: 0 },
};

/** LLaMA-7B's shape (Touvron et al. 2023, Table 2): for counting, far too large to allocate here */
export const LLAMA_7B: LlamaConfig = {
  vocabSize: 32000, blockSize: 2048, nLayer: 32, nHead: 32, nKvHead: 32, nEmbd: 4096, intermediateSize: 11008,
  ropeTheta: 10000, rmsNormEps: 1e-6, tieWordEmbeddings: false, dropout: 0,
};

/** Throws one line naming the first bad field. */
export function validateLlamaConfig(c: LlamaConfig): void {
  const ints: (keyof LlamaConfig)[] = ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nKvHead', 'nEmbd', 'intermediateSize'];
  for (const k of ints) {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < 1) throw new Error(`llama config: ${k} must be a positive integer, got ${v}`);
  }
  if (c.nEmbd % c.nHead !== 0) throw new Error(`llama config: nEmbd (${c.nEmbd}) must be divisible by nHead (${c.nHead}) (flags --n-embd, --n-head)`);
  if ((c.nEmbd / c.nHead) % 2 !== 0) throw new Error(`llama config: the head size nEmbd/nHead (${c.nEmbd / c.nHead}) must be even for RoPE`);
  if (c.nHead % c.nKvHead !== 0) throw new Error(`llama config: nKvHead (${c.nKvHead}) must divide nHead (${c.nHead})`);
  if (!(c.ropeTheta > 0) || !Number.isFinite(c.ropeTheta)) throw new Error(`llama config: ropeTheta must be a positive number, got ${c.ropeTheta}`);
  if (!(c.rmsNormEps > 0 && c.rmsNormEps < 1)) throw new Error(`llama config: rmsNormEps must be in (0, 1), got ${c.rmsNormEps}`);
  if (typeof c.tieWordEmbeddings !== 'boolean') throw new Error(`llama config: tieWordEmbeddings must be true or false, got ${c.tieWordEmbeddings}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new Error(`llama config: dropout must be in [0, 1), got ${c.dropout}`);
}

/**
 * Every parameter of a LLaMA of this shape, computed from the config alone:
 *   embed V·C + L·(attention C·(2·C + 2·nKv·hs) + MLP 3·C·I + 2 norms 2·C) + final norm C (+ lm_head V·C untied)
 * LLaMA-7B (LLAMA_7B) gives 6,738,415,616.
 */
export function llamaParamCount(c: LlamaConfig): number {
  validateLlamaConfig(c);
  const C = c.nEmbd, hs = C / c.nHead, kv = c.nKvHead * hs;
  const attn = C * C /* q */ + 2 * C * kv /* k, v */ + C * C; /* o */
  const mlp = 3 * C * c.intermediateSize; // gate, up, down
  const block = attn + mlp + 2 * C; // + input_layernorm, post_attention_layernorm
  const embed = c.vocabSize * C;
  return embed + c.nLayer * block + C + (c.tieWordEmbeddings ? 0 : embed);
}
