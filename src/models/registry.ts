// The registry of model types: the one place that knows every concrete model class. Checkpoints store a
// model's `type` and config; loading, the CLI's `--arch` and vocabulary growth (SFT's special tokens) go
// through here. A new built-in type is one file in models/ plus its `registerModelType` call below; a type
// from outside registers itself when imported (GPTLAB_PLUGINS for the CLI).
import { GPT, GPT_PRESETS, gptParamCount, validateConfig, type GPTConfig } from './gpt.js';
import type { LanguageModel, ModelConfig } from './model.js';
import { Llama, LLAMA_PRESETS, llamaParamCount, validateLlamaConfig, type LlamaConfig } from './llama.js';
import { ngramModelType } from './ngram-type.js';
import { NgramModel } from './ngram-model.js';
import { BERT_MODEL_TYPES } from './bert-type.js';
import { MlpLM, MLP_PRESETS, validateMlpConfig, type MlpLMConfig } from './mlp-lm.js';
import { RnnLM, RNN_PRESETS, validateRnnConfig, type RecurrentCell, type RnnLMConfig } from './rnn-lm.js';

export interface ModelType<C extends ModelConfig = ModelConfig> {
  /** the key stored in checkpoints and given to `--arch` */
  type: string;
  /** one line for `--help` */
  description: string;
  /** named shapes without vocabSize (it comes from the tokenizer) */
  presets: Record<string, Omit<C, 'vocabSize'>>;
  /** the preset used when none is named */
  defaultPreset: string;
  /** config fields a flag may override (`--n-layer`, `--block-size`, …), with their types */
  overridable: Record<string, 'int' | 'number' | 'bool'>;
  /**
   * Checks a config read from a file or built from flags; throws `model config: FIELD must be …` naming the
   * field, so checkpoint loading can prefix the file name. Returns it typed.
   */
  validate(config: Record<string, unknown>): C;
  /** a fresh model with weights drawn from Rng(seed) */
  create(config: C, seed: number): LanguageModel;
  /** the number of parameters a config gives, without allocating (checkpoints are checked against it) */
  parameterCount?(config: C): number;
  /** tensors a checkpoint may hold that are accepted and dropped (GPT's tied `lm_head.weight`, as nanoGPT saves it) */
  ignoredTensors?: string[];
  /** parameters whose rows are indexed by token id (grown when a vocabulary grows) */
  vocabParameters: string[];
  /** extra config.json fields other tools read (nanoGPT's `model_args`) */
  exportConfig?(config: C): Record<string, unknown>;
  /** state that is not parameters (an n-gram's counts), as extra checkpoint files: name → contents */
  saveExtra?(model: LanguageModel): Record<string, string | Uint8Array>;
  /** restores what saveExtra wrote; `read` returns a file's text or null; `where` names the folder in errors */
  loadExtra?(model: LanguageModel, read: (name: string) => string | null, where: string): LanguageModel;
}

const TYPES = new Map<string, ModelType>();

/** Adds a model type; a second registration under the same name replaces the first (tests use that). */
export function registerModelType<C extends ModelConfig>(t: ModelType<C>): void {
  TYPES.set(t.type, t as unknown as ModelType);
}

/** the registered type, or an error that lists the known ones */
export function modelType(type: string): ModelType {
  const t = TYPES.get(type);
  if (!t) throw new Error(`unknown model type "${type}" (known: ${[...TYPES.keys()].join(', ')})`);
  return t;
}

export function modelTypes(): string[] {
  return [...TYPES.keys()];
}

/** Validates `config` for `type` and builds the model; errors name the field. */
export function createModel(type: string, config: Record<string, unknown>, seed = 1337): LanguageModel {
  const t = modelType(type);
  return t.create(t.validate(config), seed);
}

/**
 * The config of a preset of `type` with `vocabSize` and the given overrides (undefined ones ignored).
 * Throws on an unknown preset, naming the known ones.
 */
export function presetConfig(type: string, preset: string | undefined, vocabSize: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const t = modelType(type);
  const name = preset ?? t.defaultPreset;
  const base = t.presets[name];
  if (!base) throw new Error(`unknown preset "${name}" for ${type} (choose from ${Object.keys(t.presets).join(', ')})`);
  const cfg: Record<string, unknown> = { ...base, vocabSize };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) cfg[k] = v;
  return cfg;
}

registerModelType<GPTConfig>({
  type: 'gpt',
  description: "nanoGPT's GPT-2: learned positions, pre-LayerNorm blocks, GELU MLP, tied head",
  presets: GPT_PRESETS,
  defaultPreset: 'cpu',
  overridable: { nLayer: 'int', nHead: 'int', nEmbd: 'int', blockSize: 'int', dropout: 'number', bias: 'bool' },
  validate: (c) => validateConfig(c),
  create: (c, seed) => new GPT(c, seed),
  parameterCount: gptParamCount,
  ignoredTensors: ['lm_head.weight'],
  vocabParameters: ['transformer.wte.weight'],
  exportConfig: (c) => ({
    model_args: { n_layer: c.nLayer, n_head: c.nHead, n_embd: c.nEmbd, block_size: c.blockSize, bias: c.bias, vocab_size: c.vocabSize, dropout: c.dropout },
  }),
});

registerModelType<LlamaConfig>({
  type: 'llama',
  description: 'LLaMA-style decoder: RMSNorm, rotary positions, SwiGLU MLP, grouped-query attention, no biases',
  presets: LLAMA_PRESETS,
  defaultPreset: 'cpu',
  overridable: {
    nLayer: 'int', nHead: 'int', nKvHead: 'int', nEmbd: 'int', intermediateSize: 'int', blockSize: 'int',
    ropeTheta: 'number', rmsNormEps: 'number', tieWordEmbeddings: 'bool', dropout: 'number',
  },
  validate: (c) => {
    validateLlamaConfig(c as unknown as LlamaConfig);
    return c as unknown as LlamaConfig;
  },
  create: (c, seed) => new Llama(c, seed),
  parameterCount: llamaParamCount,
  vocabParameters: ['model.embed_tokens.weight', 'lm_head.weight'],
});

registerModelType({
  ...ngramModelType,
  saveExtra: (m) => ({ 'ngram.json': JSON.stringify((m as NgramModel).toJSON()) }),
  loadExtra: (_m, read, where) => {
    const text = read('ngram.json');
    if (text === null) throw new Error(`${where}: ngram.json is missing (an n-gram checkpoint keeps its counts there)`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new Error(`${where}/ngram.json: not valid JSON (${(e as Error).message})`);
    }
    return NgramModel.fromJSON(json as never, `${where}/ngram.json`);
  },
} as ModelType);

registerModelType<MlpLMConfig>({
  type: 'mlp',
  description: "Bengio et al. 2003's MLP language model as makemore: the previous n tokens' embeddings → tanh layer → logits",
  presets: MLP_PRESETS,
  defaultPreset: 'cpu',
  overridable: { context: 'int', nEmbd: 'int', nHidden: 'int', blockSize: 'int' },
  validate: (c) => validateMlpConfig(c),
  create: (c, seed) => new MlpLM(c, seed),
  vocabParameters: ['wte.weight', 'head.weight', 'head.bias'],
});

const RECURRENT_DESCRIPTIONS: Record<RecurrentCell, string> = {
  rnn: "Elman RNN language model (char-rnn): embedding → tanh recurrent layers → linear head",
  lstm: 'LSTM language model (Hochreiter & Schmidhuber 1997): embedding → LSTM layers → linear head',
  gru: 'GRU language model (Cho et al. 2014): embedding → GRU layers → linear head',
};

for (const cell of ['rnn', 'lstm', 'gru'] as const) {
  registerModelType<RnnLMConfig>({
    type: cell,
    description: RECURRENT_DESCRIPTIONS[cell],
    presets: RNN_PRESETS,
    defaultPreset: 'cpu',
    overridable: { nEmbd: 'int', nHidden: 'int', nLayer: 'int', blockSize: 'int', dropout: 'number' },
    validate: (c) => validateRnnConfig(c),
    create: (c, seed) => new RnnLM(cell, c, seed),
    vocabParameters: ['wte.weight', 'head.weight', 'head.bias'],
  });
}

// BERT (encoder; MLM pretraining and the two fine-tuning heads)
for (const t of BERT_MODEL_TYPES) registerModelType(t);
