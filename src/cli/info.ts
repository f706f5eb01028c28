// gptlab info: what a checkpoint holds.
import fs from 'node:fs';
import path from 'node:path';
import { helpText, parseArgs, UsageError, type OptTable } from './args.js';
import { maybeHelp } from './common.js';
import { readJSONFile, resolveCheckpointDir } from '../train/checkpoint.node.js';
import { loadAnyCheckpoint } from '../train/lora-checkpoint.node.js';
import { hfConfigProblem, HF_MODEL_TYPES } from '../train/checkpoint.js';
import { isLoraTensor, type LoraOptions } from '../train/adapt.js';
import type { LanguageModel } from '../models/model.js';
import { isGGUFFile } from '../train/model-file.node.js';
import { ggufInfoJson, hfFolderInfo, hfFolderText } from './info-formats.js';
import { readSafetensors } from '../formats/safetensors.js';

const OPTS: OptTable = {
  checkpoint: { type: 'string', positional: true, help: 'checkpoint folder, run folder or .gguf file' },
  json: { type: 'bool', help: 'print JSON' },
};

export async function infoCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'info');
  if (maybeHelp(o, () => helpText('info', 'summarise a checkpoint', OPTS, 'gptlab info CHECKPOINT [--json]'))) return 0;
  if (!o.checkpoint) throw new UsageError('info: give a checkpoint folder');
  const target = o.checkpoint as string;
  if (!fs.existsSync(target)) throw new Error(`no such file or folder: ${target}`);
  if (fs.statSync(target).isFile()) {
    if (!isGGUFFile(target)) throw new Error(`${target}: not a model file; info reads a checkpoint folder, a run folder or a .gguf file`);
    if (o.json) {
      process.stdout.write(JSON.stringify(ggufInfoJson(target), null, 2) + '\n');
      return 0;
    }
    const { ggufInfoText } = await import('./export.js');
    process.stdout.write(ggufInfoText(target) + '\n');
    return 0;
  }
  const dir = resolveCheckpointDir(target);
  const cfg = readJSONFile(path.join(dir, 'config.json')) as Record<string, unknown>;
  if (cfg && typeof cfg === 'object' && !('format' in cfg) && typeof cfg.model_type === 'string' && HF_MODEL_TYPES.includes(cfg.model_type)) {
    const hf = hfFolderInfo(dir, cfg);
    process.stdout.write((o.json ? JSON.stringify(hf, null, 2) : hfFolderText(hf)) + '\n');
    return 0;
  }
  const problem = hfConfigProblem(cfg, dir);
  if (problem) throw new Error(problem);
  const other = otherRunInfo(dir);
  if (other) {
    process.stdout.write(o.json ? JSON.stringify(other, null, 2) + '\n' : otherRunText(other) + '\n');
    return 0;
  }
  const ck = loadAnyCheckpoint(dir);
  const plus = (ck.config as { train?: { loraplusLrRatio?: number } }).train?.loraplusLrRatio;
  // an n-gram model is counted, not trained by an optimizer
  const optimizer = ck.model.type === 'ngram' ? null : optimizerOf(ck.config as unknown as Record<string, unknown>);
  const lora = ck.lora ? { ...loraSummary(ck.model, ck.lora), ...(plus !== undefined && plus !== 1 ? { loraplusLrRatio: plus } : {}) } : null;
  const c = ck.model.config;
  const files = fs.readdirSync(dir).map((f) => ({ file: f, bytes: fs.statSync(path.join(dir, f)).size }));
  const info = {
    folder: dir, modelType: ck.model.type, model: c, parameters: ck.model.numParameters(), nonEmbeddingParameters: ck.model.numParams(),
    tokenizer: { type: ck.tokenizer.type, vocabSize: ck.tokenizer.vocabSize, special: Object.fromEntries(ck.tokenizer.specialTokens) },
    step: ck.trainerState?.step ?? null, bestDevLoss: ck.trainerState?.bestDevLoss ?? (ck.config.meta?.devLoss as number | undefined) ?? null,
    resumable: !!ck.trainerState, meta: ck.config.meta ?? {}, files, ...(lora ? { lora } : {}), ...(optimizer ? { optimizer } : {}),
  };
  if (o.json) {
    process.stdout.write(JSON.stringify(info, null, 2) + '\n');
    return 0;
  }
  const cl = (c as unknown as { labels?: unknown }).labels;
  const labels = Array.isArray(cl) ? cl.map(String) : null;
  const lines = [
    `checkpoint ${dir}`,
    `  model      ${ck.model.describe()}`,
    `  parameters ${info.parameters.toLocaleString('en')} (${info.nonEmbeddingParameters.toLocaleString('en')} as the model counts them)`,
    ...(lora ? [`  lora       r ${lora.r}, alpha ${lora.alpha}${lora.loraplusLrRatio ? `, LoRA+ ratio ${lora.loraplusLrRatio}` : ''}, targets ${lora.targets.join(' ')}: ${lora.trainable.toLocaleString('en')} trainable adapter parameters on a base of ${lora.base.toLocaleString('en')} (merged: RUN/merged, PEFT adapter: RUN/adapter)`] : []),
    ...(labels ? [`  ${ck.model.type === 'bert-token-cls' ? 'tags  ' : 'labels'}     ${labels.length}: ${labels.join(' ')}`] : []),
    `  tokenizer  ${ck.tokenizer.type}, ${ck.tokenizer.vocabSize} tokens${ck.tokenizer.specialTokens.size ? `, special ${[...ck.tokenizer.specialTokens.keys()].join(' ')}` : ''}`,
    `  training   ${info.step !== null ? `step ${info.step}, ` : ''}best dev loss ${info.bestDevLoss?.toFixed?.(4) ?? 'n/a'}, ${info.resumable ? 'resumable' : 'weights only'}`,
    ...(optimizer ? [optimizerLine(optimizer)] : []),
    `  files      ${files.map((f) => `${f.file} (${(f.bytes / 1024).toFixed(1)} KiB)`).join(', ')}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

interface OptimizerSummary {
  name: string;
  lr?: number;
  options: Record<string, unknown>;
}

/**
 * The optimizer a run was trained with and the options given to it: its config's `train` (language models,
 * seq2seq, GAN) or the RL loop's settings in `meta.rl` (ppo, grpo); the optimizer's name defaults to the
 * command's own (`dflt`: AdamW, Adam for a GAN) when the run predates --optimizer; null when neither is recorded.
 */
function optimizerOf(cfg: Record<string, unknown>, dflt = 'adamw'): OptimizerSummary | null {
  const meta = cfg.meta as { rl?: unknown } | undefined;
  const train = (cfg.train ?? meta?.rl) as { optimizer?: string; optimizerOptions?: Record<string, unknown>; lr?: number } | undefined;
  if (!train || typeof train !== 'object') return null;
  return { name: train.optimizer ?? dflt, ...(typeof train.lr === 'number' ? { lr: train.lr } : {}), options: train.optimizerOptions ?? {} };
}

/** `  optimizer  sgd, lr 0.01, momentum 0.9 (unlisted options at their defaults)` */
function optimizerLine(o: OptimizerSummary): string {
  return `  optimizer  ${o.name}${o.lr !== undefined ? `, lr ${o.lr}` : ''}${Object.entries(o.options).map(([k, v]) => `, ${k} ${String(v)}`).join('')} (unlisted options at their defaults)`;
}

/** a LoRA checkpoint's adapter: its options and how many parameters are adapter (trainable) and base */
function loraSummary(model: LanguageModel, lora: LoraOptions): LoraOptions & { trainable: number; base: number } {
  let trainable = 0, base = 0;
  for (const [name, p] of model.namedParameters()) {
    if (isLoraTensor(name)) trainable += p.size;
    else base += p.size;
  }
  return { ...lora, trainable, base };
}

/** the run formats that are not language-model checkpoints, and the command that made them */
const OTHER_FORMATS: Record<string, string> = { 'gptlab-vision': 'vision train', 'gptlab-gan': 'gan train', 'gptlab-seq2seq': 'seq2seq train' };

interface OtherRunInfo {
  folder: string;
  format: string;
  madeBy: string;
  /** the model's config fields that apply to its arch (no vocabSize/blockSize; no `hidden` on a CNN, …) */
  model: Record<string, unknown> | null;
  /** parameters per top-level module (generator, discriminator, encoder, …) and in all */
  parameters: Record<string, number>;
  /** BatchNorm running statistics and step counts: saved tensors that training does not update by gradient */
  buffers: number;
  step: number | null;
  epoch: number | null;
  resumable: boolean;
  meta: Record<string, unknown>;
  optimizer: OptimizerSummary | null;
  files: { file: string; bytes: number }[];
}

/**
 * Summarises an image-classifier, GAN or seq2seq checkpoint folder from its config.json and its safetensors
 * tensors' shapes; null for any other folder (a language-model checkpoint). Throws one line naming the file
 * when config.json or model.safetensors cannot be read.
 */
function otherRunInfo(dir: string): OtherRunInfo | null {
  const cfgFile = path.join(dir, 'config.json');
  const cfg = readJSONFile(cfgFile) as Record<string, unknown>;
  const format = typeof cfg.format === 'string' ? cfg.format : '';
  if (!(format in OTHER_FORMATS)) return null;
  const st = readSafetensors(new Uint8Array(fs.readFileSync(path.join(dir, 'model.safetensors'))), path.join(dir, 'model.safetensors'));
  const parameters: Record<string, number> = {};
  let total = 0, buffers = 0;
  for (const [name, t] of st.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (isBuffer(name)) {
      buffers += n;
      continue;
    }
    const group = name.includes('.') ? name.slice(0, name.indexOf('.')) : name;
    parameters[group] = (parameters[group] ?? 0) + n;
    total += n;
  }
  parameters.total = total;
  const meta = (cfg.meta as Record<string, unknown> | undefined) ?? {};
  const statePath = path.join(dir, 'trainer_state.json');
  const state = fs.existsSync(statePath) ? (readJSONFile(statePath) as { step?: number }) : null;
  return {
    folder: dir, format, madeBy: `gptlab ${OTHER_FORMATS[format]}`, model: applicableFields((cfg.model ?? cfg.gan ?? null) as Record<string, unknown> | null), parameters, buffers,
    step: state?.step ?? (typeof cfg.step === 'number' ? cfg.step : typeof meta.step === 'number' ? meta.step : null), epoch: typeof cfg.epoch === 'number' ? cfg.epoch : null,
    resumable: !!state, meta, optimizer: optimizerOf(cfg, format === 'gptlab-gan' ? 'adam' : 'adamw'),
    files: fs.readdirSync(dir).map((f) => ({ file: f, bytes: fs.statSync(path.join(dir, f)).size })),
  };
}

/** BatchNorm's saved running statistics (PyTorch's buffer names), which are not parameters */
const isBuffer = (name: string): boolean => /(^|\.)(running_mean|running_var|num_batches_tracked)$/.test(name);

/** config fields that only some archs read (ImageClassifierConfig, GanConfig) */
const ARCH_FIELDS: Record<string, string[]> = { hidden: ['mlp'], channels: ['cnn'], kernel: ['cnn'], fc: ['cnn'], base: ['dcgan'] };

/** a vision/GAN/seq2seq model config without the fields its arch ignores, and the LanguageModel placeholders */
function applicableFields(model: Record<string, unknown> | null): Record<string, unknown> | null {
  if (!model || typeof model !== 'object') return null;
  const arch = typeof model.arch === 'string' ? model.arch : undefined;
  return Object.fromEntries(Object.entries(model).filter(([k]) => k !== 'vocabSize' && k !== 'blockSize' && !(arch && ARCH_FIELDS[k] && !ARCH_FIELDS[k].includes(arch))));
}

/** `key value, key value` for a config: lists joined with commas, label lists shortened */
function keyValues(model: Record<string, unknown>): string {
  const show = (v: unknown): string => Array.isArray(v) ? (v.length > 12 ? `${v.slice(0, 12).join(' ')} … (${v.length})` : v.join(v.every((x) => typeof x === 'number') ? ',' : ' ')) : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  return Object.entries(model).map(([k, v]) => `${k} ${show(v)}`).join(', ');
}

function otherRunText(i: OtherRunInfo): string {
  const groups = Object.entries(i.parameters).filter(([k]) => k !== 'total');
  const scores = Object.entries(i.meta).filter(([k, v]) => typeof v === 'number' && k !== 'step').map(([k, v]) => `${k} ${Number((v as number).toPrecision(5))}`);
  return [
    `checkpoint ${i.folder} (${i.format}, made by ${i.madeBy})`,
    `  model      ${i.model ? keyValues(i.model) : 'n/a'}`,
    `  parameters ${i.parameters.total.toLocaleString('en')}${groups.length > 1 ? ` (${groups.map(([k, v]) => `${k} ${v.toLocaleString('en')}`).join(', ')})` : ''}`,
    ...(i.buffers ? [`  buffers    ${i.buffers.toLocaleString('en')} (BatchNorm running statistics; not parameters)`] : []),
    `  training   ${i.step !== null ? `step ${i.step}` : ''}${i.epoch !== null ? `${i.step !== null ? ', ' : ''}epoch ${i.epoch}` : ''}${i.step === null && i.epoch === null ? 'n/a' : ''}, ${i.resumable ? 'resumable' : 'weights only'}`,
    ...(scores.length ? [`  scores     ${scores.join(', ')}`] : []),
    ...(i.optimizer ? [optimizerLine(i.optimizer)] : []),
    `  files      ${i.files.map((f) => `${f.file} (${(f.bytes / 1024).toFixed(1)} KiB)`).join(', ')}`,
  ].join('\n');
}
