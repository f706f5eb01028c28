// A checkpoint is a folder of plain files, so other tools can read each part:
//   config.json           format tag, the model type and config (for GPT also nanoGPT's `model_args`), train config
//   model.safetensors     parameters under nanoGPT's state-dict names, float32, Linear weights [out, in]
//   tokenizer.json        the tokenizer (Tokenizer.toJSON())
//   optimizer.safetensors AdamW moments `m.<name>`, `v.<name>` (only in resumable checkpoints)
//   trainer_state.json    step, generator states, best dev loss, loss history
// This module turns a model into those files and back; reading and writing the folder is checkpoint.node.ts.
import type { LanguageModel, ModelConfig } from '../models/model.js';
import { modelType, type ModelType } from '../models/registry.js';
import { readSafetensors, toFloat32, writeSafetensors, type SafetensorsEntry } from '../formats/safetensors.js';
import { firstNonFinite } from '../formats/finite-weights.js';
import { tokenizerFromJSON } from '../tokenizers/index.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import type { Trainer, TrainConfig, TrainState } from './trainer.js';
import type { Optimizer } from '../optim/optimizer.js';
import { backend } from '../backend/backend.js';
import type { Tensor } from '../tensor/tensor.js';

export const CHECKPOINT_FORMAT = 'gptlab-checkpoint';
export const CHECKPOINT_VERSION = 2;

export interface CheckpointConfig {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** the registry key of the model type (src/models/registry.ts); absent in version-1 files, which are GPTs */
  model_type?: string;
  model: ModelConfig & Record<string, unknown>;
  /** GPT: the same config under nanoGPT's names, for tools that read nanoGPT's ckpt['model_args'] */
  model_args?: Record<string, unknown>;
  train?: Partial<TrainConfig>;
  /** free-form: what produced it (pretrain, sft, …), data file, time */
  meta?: Record<string, unknown>;
}

export interface Checkpoint {
  config: CheckpointConfig;
  model: LanguageModel;
  tokenizer: Tokenizer;
  /** present when the checkpoint can resume training */
  trainerState?: TrainState;
  moments?: Map<string, Float32Array>;
}

export function modelToSafetensors(model: LanguageModel): Uint8Array {
  const tensors: Record<string, SafetensorsEntry> = {};
  for (const [name, p] of model.namedParameters()) tensors[name] = { dtype: 'F32', shape: p.shape.slice(), data: p.data };
  return writeSafetensors(tensors, { format: 'pt' });
}

/** Files of a checkpoint. `trainer` adds the optimizer and trainer state that resuming needs. */
export function checkpointFiles(
  model: LanguageModel, tokenizer: Tokenizer, opts: { trainer?: Trainer; meta?: Record<string, unknown> } = {},
): Record<string, Uint8Array | string> {
  const c = model.config as ModelConfig & Record<string, unknown>;
  const config: CheckpointConfig = {
    format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, model_type: model.type, model: c,
    ...(modelType(model.type).exportConfig?.(c) ?? {}),
    train: opts.trainer?.config, meta: opts.meta,
  };
  const files: Record<string, Uint8Array | string> = {
    'config.json': JSON.stringify(config, null, 2) + '\n',
    'model.safetensors': modelToSafetensors(model),
    'tokenizer.json': JSON.stringify(tokenizer.toJSON()) + '\n',
    ...(modelType(model.type).saveExtra?.(model) ?? {}),
  };
  return opts.trainer ? { ...files, ...trainerStateFiles(opts.trainer) } : files;
}

/** an optimizer's moments as optimizer.safetensors bytes, one flat float32 tensor per state slot and parameter */
export function optimizerStateBytes(optimizer: Optimizer, nameOf: (p: Tensor) => string): Uint8Array {
  const moments: Record<string, SafetensorsEntry> = {};
  for (const [k, v] of Object.entries(optimizer.stateTensors(nameOf))) moments[k] = { dtype: 'F32', shape: [v.length], data: v };
  return writeSafetensors(moments);
}

/**
 * optimizer.safetensors and trainer_state.json: what resuming a Trainer needs, for every run folder that holds
 * one (language models, image classifiers, seq2seq). Syncs the trainer's generators into its state first.
 */
export function trainerStateFiles(t: Trainer): Record<string, Uint8Array | string> {
  t.syncRngState();
  // the backend and threads it trains on, which a resume given neither flag takes again (cli/common.ts)
  const b = backend();
  return { 'optimizer.safetensors': optimizerStateBytes(t.optimizer, t.nameOf), 'trainer_state.json': JSON.stringify({ ...t.state, backend: { name: b.name, threads: b.threads } }) + '\n' };
}

/** a JSON file of a checkpoint, with errors that name the file */
export function parseJSON(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** gptlab's checkpoints that are not language models: what they are, the command that trains them and the one that uses them */
const OTHER_GPTLAB_MODELS: Record<string, { what: string; madeBy: string; use: string }> = {
  'gptlab-seq2seq': { what: 'a seq2seq (encoder-decoder) model', madeBy: 'seq2seq train', use: 'seq2seq translate' },
  'gptlab-vision': { what: 'an image classifier', madeBy: 'vision train', use: 'vision predict' },
  'gptlab-gan': { what: 'a GAN', madeBy: 'gan train', use: 'gan sample' },
};

function readConfig(text: (name: string) => string | null, where: string): CheckpointConfig {
  const cfgText = text('config.json');
  if (cfgText === null) throw new Error(`${where}: not a checkpoint (config.json is missing)`);
  const config = parseJSON(cfgText, `${where}/config.json`) as CheckpointConfig;
  const foreign = hfConfigProblem(config, where);
  if (foreign) throw new Error(foreign);
  const other = config && typeof config === 'object' ? OTHER_GPTLAB_MODELS[String(config.format)] : undefined;
  if (other) throw new Error(`${where}: ${other.what} (gptlab ${other.madeBy}), not a language model; use it with gptlab ${other.use}`);
  if (!config || typeof config !== 'object' || config.format !== CHECKPOINT_FORMAT || !config.model || typeof config.model !== 'object') {
    throw new Error(`${where}/config.json: not a gptlab checkpoint config (field "format" must be "${CHECKPOINT_FORMAT}", "model" an object)`);
  }
  if (!Number.isInteger(config.version) || config.version < 1 || config.version > CHECKPOINT_VERSION) {
    throw new Error(`${where}/config.json: field "version" must be a checkpoint version from 1 to ${CHECKPOINT_VERSION}, got ${JSON.stringify(config.version)} (written by a newer gptlab, or not a gptlab checkpoint)`);
  }
  if ('model_type' in config && typeof config.model_type !== 'string') {
    throw new Error(`${where}/config.json: field "model_type" must be a model type name (string), got ${JSON.stringify(config.model_type)}`);
  }
  return config;
}

/** the model types a Hugging Face folder may have for gptlab to read it */
export const HF_MODEL_TYPES = ['gpt2', 'llama'];

/**
 * Why a config.json without gptlab's format tag cannot be read here, as one line naming the file, or null
 * when it is (or claims to be) a gptlab checkpoint config. A Hugging Face config (one with `model_type`,
 * `architectures` or `vocab_size` and no `format`) of an unsupported or missing model_type says so; one of a
 * supported type says this command needs a gptlab checkpoint (sample, eval, chat, serve, info and sft read it).
 */
export function hfConfigProblem(config: unknown, where: string): string | null {
  if (!config || typeof config !== 'object' || Array.isArray(config)) return null;
  const c = config as Record<string, unknown>;
  if ('format' in c) return null;
  if (!('model_type' in c) && !('architectures' in c) && !('vocab_size' in c)) return null;
  const t = c.model_type;
  if (typeof t !== 'string') return `${where}/config.json: model_type is missing: a Hugging Face folder is read when model_type is one of ${HF_MODEL_TYPES.join(', ')}`;
  if (!HF_MODEL_TYPES.includes(t)) return `${where}/config.json: model_type ${JSON.stringify(t)} is not supported (${HF_MODEL_TYPES.join(', ')})`;
  return `${where}: a Hugging Face folder (model_type ${JSON.stringify(t)}): this command needs a gptlab checkpoint (gptlab sample, eval, chat, serve, info and sft --base read Hugging Face folders)`;
}

/** `RUN/best is a LoRA run's checkpoint: …`, the line for a LoRA checkpoint read as a plain one */
export function loraCheckpointMessage(where: string): string {
  const sub = where.replace(/[\\/]+$/, '').split(/[\\/]/).pop();
  const run = sub === 'best' || sub === 'checkpoint' ? where.replace(/[\\/]+$/, '').slice(0, -sub.length - 1) || '.' : 'RUN';
  return `${where} is a LoRA run's checkpoint: use ${run}/merged, ${run}/adapter with --base, or gptlab lora merge`;
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);
const LORA_TENSOR = /(lora_[AB]\.weight|trainable_tokens_delta)$/;

/** the weights as a state dict, checked against the config's parameter count before any model is allocated */
function readWeights(read: (name: string) => Uint8Array | null, where: string, t: ModelType, cfg: ModelConfig): Map<string, { shape: number[]; data: Float32Array }> {
  const weights = read('model.safetensors');
  if (weights === null) throw new Error(`${where}: model.safetensors is missing`);
  const st = readSafetensors(weights, `${where}/model.safetensors`);
  const ignored = new Set(t.ignoredTensors ?? []);
  const entries = [...st.tensors].filter(([name]) => !ignored.has(name));
  if (entries.some(([name]) => LORA_TENSOR.test(name))) throw new Error(loraCheckpointMessage(where));
  const held = entries.reduce((n, [, e]) => n + e.shape.reduce((a, b) => a * b, 1), 0);
  const expected = t.parameterCount?.(cfg);
  if (expected !== undefined && held !== expected) {
    throw new Error(`${where}: config.json describes a ${t.type} of ${expected.toLocaleString('en')} parameters but model.safetensors holds ${held.toLocaleString('en')}`);
  }
  for (const [name, e] of entries) {
    if (!FLOAT_DTYPES.has(e.dtype)) {
      throw new Error(`${where}/model.safetensors: tensor "${name}" has dtype ${e.dtype}: model weights must be a float type (F32, F16 or BF16)`);
    }
  }
  const state = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, e] of entries) {
    const data = toFloat32(e);
    const bad = firstNonFinite(data);
    if (bad >= 0) throw new Error(`${where}/model.safetensors: tensor "${name}" holds ${data[bad]} at index ${bad}: refusing weights that are not finite`);
    state.set(name, { shape: e.shape, data });
  }
  return state;
}

function readTokenizer(text: (name: string) => string | null, where: string, vocabSize: number): Tokenizer {
  const tokText = text('tokenizer.json');
  if (tokText === null) throw new Error(`${where}: tokenizer.json is missing`);
  let tokenizer: Tokenizer;
  try {
    tokenizer = tokenizerFromJSON(parseJSON(tokText, `${where}/tokenizer.json`));
  } catch (e) {
    throw new Error(`${where}/tokenizer.json: ${(e as Error).message.replace(`${where}/tokenizer.json: `, '')}`);
  }
  if (tokenizer.vocabSize !== vocabSize) {
    throw new Error(`${where}: the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabulary is ${vocabSize}: they must match (a model could produce ids the tokenizer cannot decode, or never see tokens it can encode)`);
  }
  return tokenizer;
}

/** trainer_state.json checked field by field: a corrupt state is refused, never resumed */
export function validateTrainState(raw: unknown, where: string): TrainState {
  const fail = (field: string, what: string): never => {
    throw new Error(`${where}/trainer_state.json: field "${field}" ${what}`);
  };
  if (!raw || typeof raw !== 'object') fail('(root)', 'must be a JSON object');
  const st = raw as Record<string, unknown>;
  // a step beyond 2^53 is no count a run reaches: refused here, naming the file, rather than reported later as a
  // --max-iters below the run's step
  if (!Number.isSafeInteger(st.step) || (st.step as number) < 0) fail('step', `must be a whole number in [0, ${Number.MAX_SAFE_INTEGER}], got ${st.step === undefined ? 'nothing (the field is missing)' : JSON.stringify(st.step)}`);
  for (const k of ['rng', 'modelRng']) {
    const r = st[k] as { s?: unknown; spare?: unknown } | undefined;
    const ok = r && Array.isArray(r.s) && r.s.length === 4 && r.s.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32) &&
      !r.s.every((x) => x === 0) && (r.spare === null || typeof r.spare === 'number');
    if (!ok) fail(k, 'must be a generator state {"s": [4 unsigned 32-bit integers, not all 0], "spare": number or null}');
  }
  if (st.bestDevLoss !== null && typeof st.bestDevLoss !== 'number') fail('bestDevLoss', 'must be a number or null');
  if (!Number.isInteger(st.evalsWithoutImprovement) || (st.evalsWithoutImprovement as number) < 0) fail('evalsWithoutImprovement', 'must be a whole number ≥ 0');
  if (!Array.isArray(st.history)) fail('history', 'must be a list');
  if (typeof st.tokensSeen !== 'number' || !Number.isFinite(st.tokensSeen) || (st.tokensSeen as number) < 0) fail('tokensSeen', 'must be a number ≥ 0');
  return st as unknown as TrainState;
}

/**
 * Rebuilds a checkpoint from its files. `read(name)` returns a file's bytes or null when absent; `where` names
 * the folder in error messages. Everything is validated before the model is allocated: the config field by
 * field, the weights' parameter count against the config, then every weight finite, the tokenizer's size,
 * and the trainer state when present.
 */
export function checkpointFromFiles(read: (name: string) => Uint8Array | null, where: string): Checkpoint {
  const text = (name: string): string | null => {
    const b = read(name);
    return b === null ? null : new TextDecoder().decode(b);
  };
  const config = readConfig(text, where);
  let t: ModelType, cfg: ModelConfig;
  try {
    t = modelType(config.model_type ?? 'gpt');
    cfg = t.validate(config.model);
  } catch (e) {
    throw new Error(`${where}/config.json: ${(e as Error).message.replace(/^unknown model type/, 'field "model_type": unknown model type')}`);
  }
  const state = readWeights(read, where, t, cfg);
  const tokenizer = readTokenizer(text, where, cfg.vocabSize);
  let model = t.create(cfg, 1337);
  model.loadStateDict(state, `${where}/model.safetensors`);
  if (t.loadExtra) model = t.loadExtra(model, text, where);
  const ck: Checkpoint = { config, model, tokenizer };
  const stText = text('trainer_state.json');
  const opt = read('optimizer.safetensors');
  if (stText !== null && opt !== null) {
    ck.trainerState = validateTrainState(parseJSON(stText, `${where}/trainer_state.json`), where);
    const m = readSafetensors(opt, `${where}/optimizer.safetensors`);
    ck.moments = new Map([...m.tensors].map(([k, e]) => [k, toFloat32(e)]));
  }
  return ck;
}
