// BERT's entries for the model registry (src/models/registry.ts): 'bert' (BertForMaskedLM, what `--arch bert`
// pretrains), 'bert-seq-cls' and 'bert-token-cls' (the fine-tuned task models, whose configs carry their
// label names). With them checkpoints save and load BERT like any model. This module imports the registry for
// types only, so registry.ts can register BERT_MODEL_TYPES itself without an import cycle; until it does, the
// BERT jobs call registerBertTypes(registerModelType) (idempotent: a repeat replaces the same entries).
import type { ModelType } from './registry.js';
import { BERT_PRESETS, validateBertClassifierConfig, validateBertConfig, type BertClassifierConfig, type BertConfig } from './bert-config.js';
import { BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification } from './bert-heads.js';

const OVERRIDABLE: Record<string, 'int' | 'number' | 'bool'> = {
  nLayer: 'int', nHead: 'int', nEmbd: 'int', intermediateSize: 'int', blockSize: 'int', typeVocabSize: 'int',
  layerNormEps: 'number', dropout: 'number', attentionDropout: 'number',
};

/** transformers' config.json fields for a BERT config (so tools that read HF configs know the shape) */
export function bertHFConfig(c: BertConfig, architecture: string): Record<string, unknown> {
  return {
    hf_config: {
      architectures: [architecture], model_type: 'bert', vocab_size: c.vocabSize, hidden_size: c.nEmbd, num_hidden_layers: c.nLayer,
      num_attention_heads: c.nHead, intermediate_size: c.intermediateSize, max_position_embeddings: c.blockSize,
      type_vocab_size: c.typeVocabSize, layer_norm_eps: c.layerNormEps, hidden_act: 'gelu', hidden_dropout_prob: c.dropout,
      attention_probs_dropout_prob: c.attentionDropout,
      ...('labels' in c ? { id2label: Object.fromEntries((c as BertClassifierConfig).labels.map((l, i) => [String(i), l])) } : {}),
    },
  };
}

export const bertMlmType: ModelType<BertConfig> = {
  type: 'bert',
  description: 'BERT encoder with the masked-language-model head (post-LN, bidirectional attention, GELU FFN, tied decoder)',
  presets: BERT_PRESETS,
  defaultPreset: 'tiny',
  overridable: OVERRIDABLE,
  validate: (c) => validateBertConfig(c),
  create: (c, seed) => new BertForMaskedLM(c, seed),
  vocabParameters: ['bert.embeddings.word_embeddings.weight', 'cls.predictions.bias'],
  exportConfig: (c) => bertHFConfig(c, 'BertForMaskedLM'),
};

/** presets of the task models: BERT's, with a placeholder label list the data replaces */
const classifierPresets = Object.fromEntries(Object.entries(BERT_PRESETS).map(([k, v]) => [k, { ...v, labels: ['0', '1'] }]));

export const bertSeqClsType: ModelType<BertClassifierConfig> = {
  type: 'bert-seq-cls',
  description: 'BERT with a sequence classifier on the pooled [CLS] vector',
  presets: classifierPresets,
  defaultPreset: 'tiny',
  overridable: OVERRIDABLE,
  validate: (c) => validateBertClassifierConfig(c),
  create: (c, seed) => new BertForSequenceClassification(c, seed),
  vocabParameters: ['bert.embeddings.word_embeddings.weight'],
  exportConfig: (c) => bertHFConfig(c, 'BertForSequenceClassification'),
};

export const bertTokenClsType: ModelType<BertClassifierConfig> = {
  type: 'bert-token-cls',
  description: 'BERT with a classifier on every token (tagging)',
  presets: classifierPresets,
  defaultPreset: 'tiny',
  overridable: OVERRIDABLE,
  validate: (c) => validateBertClassifierConfig(c),
  create: (c, seed) => new BertForTokenClassification(c, seed),
  vocabParameters: ['bert.embeddings.word_embeddings.weight'],
  exportConfig: (c) => bertHFConfig(c, 'BertForTokenClassification'),
};

/** the three BERT model types, for the registry */
export const BERT_MODEL_TYPES: ModelType[] = [bertMlmType, bertSeqClsType, bertTokenClsType] as unknown as ModelType[];

/** registers the three BERT model types with `register` (the registry's registerModelType) */
export function registerBertTypes(register: (t: ModelType) => void): void {
  for (const t of BERT_MODEL_TYPES) register(t);
}
