// BERT's configuration (Devlin et al. 2019; transformers' BertConfig), under gptlab's field names, with its
// validation, presets and the mapping from a transformers config.json.
import type { ModelConfig } from './model.js';

export interface BertConfig extends ModelConfig {
  vocabSize: number;
  /** max_position_embeddings: the longest input */
  blockSize: number;
  /** num_hidden_layers */
  nLayer: number;
  /** num_attention_heads */
  nHead: number;
  /** hidden_size */
  nEmbd: number;
  /** intermediate_size: the FFN's inner width (4·nEmbd in BERT-base) */
  intermediateSize: number;
  /** type_vocab_size: number of segments (2: sentence A and B) */
  typeVocabSize: number;
  /** layer_norm_eps (1e-12 in BERT) */
  layerNormEps: number;
  /** hidden_dropout_prob: embeddings, residual branches, classifier */
  dropout: number;
  /** attention_probs_dropout_prob */
  attentionDropout: number;
}

/** a task model's config: the encoder's plus the label names (classifier outputs, in order) */
export interface BertClassifierConfig extends BertConfig {
  labels: string[];
}

/** shapes without vocabSize (it comes from the tokenizer) */
export const BERT_PRESETS: Record<string, Omit<BertConfig, 'vocabSize'>> = {
  /** tests and the built-in tasks: trains in seconds on a CPU */
  tiny: { blockSize: 64, nLayer: 2, nHead: 2, nEmbd: 64, intermediateSize: 128, typeVocabSize: 2, layerNormEps: 1e-12, dropout: 0.1, attentionDropout: 0.1 },
  /** a small CPU model */
  mini: { blockSize: 128, nLayer: 4, nHead: 4, nEmbd: 256, intermediateSize: 1024, typeVocabSize: 2, layerNormEps: 1e-12, dropout: 0.1, attentionDropout: 0.1 },
  /** BERT-base's shape (110M with its 30522 vocabulary) */
  base: { blockSize: 512, nLayer: 12, nHead: 12, nEmbd: 768, intermediateSize: 3072, typeVocabSize: 2, layerNormEps: 1e-12, dropout: 0.1, attentionDropout: 0.1 },
};

const INTS = ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nEmbd', 'intermediateSize', 'typeVocabSize'] as const;

/**
 * Checks a BERT config field by field and returns it typed (extra fields dropped, `labels` kept for task
 * models). Throws `model config: FIELD must be …`.
 */
export function validateBertConfig(raw: Record<string, unknown>): BertConfig {
  for (const k of INTS) {
    const v = raw[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`model config: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  const c = raw as unknown as BertConfig;
  if (c.nEmbd % c.nHead !== 0) throw new Error(`model config: nEmbd (${c.nEmbd}) must be divisible by nHead (${c.nHead}) (flags --n-embd, --n-head)`);
  for (const k of ['dropout', 'attentionDropout'] as const) {
    const v = raw[k];
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new Error(`model config: ${k} must be a number in [0, 1), got ${JSON.stringify(v)}`);
  }
  if (typeof raw.layerNormEps !== 'number' || !(c.layerNormEps > 0)) throw new Error(`model config: layerNormEps must be a positive number, got ${JSON.stringify(raw.layerNormEps)}`);
  const { vocabSize, blockSize, nLayer, nHead, nEmbd, intermediateSize, typeVocabSize, layerNormEps, dropout, attentionDropout } = c;
  return { vocabSize, blockSize, nLayer, nHead, nEmbd, intermediateSize, typeVocabSize, layerNormEps, dropout, attentionDropout };
}

/** validateBertConfig plus `labels`: a non-empty array of distinct strings */
export function validateBertClassifierConfig(raw: Record<string, unknown>): BertClassifierConfig {
  const base = validateBertConfig(raw);
  const labels = raw.labels;
  if (!Array.isArray(labels) || labels.length < 1 || !labels.every((l) => typeof l === 'string')) {
    throw new Error(`model config: labels must be a non-empty array of strings, got ${JSON.stringify(labels)}`);
  }
  if (new Set(labels).size !== labels.length) throw new Error('model config: labels must be distinct');
  return { ...base, labels: labels.slice() as string[] };
}

/**
 * Our config from a transformers BertConfig dict (config.json of a BERT checkpoint). Only hidden_act "gelu"
 * (exact) and absolute positions are supported; anything else throws naming the field.
 */
export function bertConfigFromHF(hf: Record<string, unknown>): BertConfig {
  if (hf.hidden_act !== undefined && hf.hidden_act !== 'gelu') throw new Error(`config.json: hidden_act ${JSON.stringify(hf.hidden_act)} is not supported (only "gelu")`);
  const pe = hf.position_embedding_type;
  if (pe !== undefined && pe !== 'absolute') throw new Error(`config.json: position_embedding_type ${JSON.stringify(pe)} is not supported (only "absolute")`);
  return validateBertConfig({
    vocabSize: hf.vocab_size, blockSize: hf.max_position_embeddings, nLayer: hf.num_hidden_layers, nHead: hf.num_attention_heads,
    nEmbd: hf.hidden_size, intermediateSize: hf.intermediate_size, typeVocabSize: hf.type_vocab_size ?? 2,
    layerNormEps: hf.layer_norm_eps ?? 1e-12, dropout: hf.hidden_dropout_prob ?? 0.1, attentionDropout: hf.attention_probs_dropout_prob ?? 0.1,
  });
}
