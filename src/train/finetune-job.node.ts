// What the BERT fine-tuning jobs (classify-job.node.ts, tag-job.node.ts) share: where a run starts — a fresh
// task model with a WordPiece vocabulary trained on the task's text, the encoder of a pretrained BERT
// checkpoint (its `bert.*` tensors copied; the head, and the pooler that MLM pretraining does not train, start
// fresh, as transformers' from_pretrained does), or the run's own checkpoint when resuming — and the Trainer
// driven into a run folder.
import type { LanguageModel } from '../models/model.js';
import { BERT_PRESETS, type BertClassifierConfig, type BertConfig } from '../models/bert-config.js';
import { BertForSequenceClassification, BertForTokenClassification, BertTaskModel } from '../models/bert-heads.js';
import { registerBertTypes } from '../models/bert-type.js';
import { registerModelType } from '../models/registry.js';
import { WordPieceTokenizer } from '../tokenizers/wordpiece.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { Trainer, type TrainConfig, type TrainState } from './trainer.js';
import type { Objective } from './objective.js';
import { loadCheckpoint } from './checkpoint.node.js';
import { recordedPath, RunFolder, runTrainer, type RunResult } from './run-folder.node.js';
import { resumableCheckpoint } from './resume.node.js';
import { checkResumedOptimizer } from './resumed-optimizer.js';

export type BertTask = 'bert-seq-cls' | 'bert-token-cls';

export interface BertStartOptions {
  task: BertTask;
  labels: string[];
  /** text to train a WordPiece vocabulary on (fresh models) */
  text: string;
  /** WordPiece vocabulary size for a fresh model (it stops early when the text has fewer pieces) */
  vocabSize: number;
  /** preset and overrides of a fresh model's shape */
  preset?: string;
  overrides?: Partial<BertConfig>;
  seed: number;
}

function makeTask(task: BertTask, cfg: BertClassifierConfig, seed: number): BertTaskModel {
  return task === 'bert-seq-cls' ? new BertForSequenceClassification(cfg, seed) : new BertForTokenClassification(cfg, seed);
}

/** a new task model and WordPiece tokenizer trained on `o.text`; throws for an unknown preset */
export function freshBertTask(o: BertStartOptions): { model: BertTaskModel; tokenizer: WordPieceTokenizer } {
  const name = o.preset ?? 'tiny';
  const preset = BERT_PRESETS[name];
  if (!preset) throw new Error(`unknown preset "${name}" for BERT (choose from ${Object.keys(BERT_PRESETS).join(', ')})`);
  const chars = new Set(o.text).size;
  const tokenizer = WordPieceTokenizer.train(o.text, Math.max(o.vocabSize, 2 * chars + 8));
  const cfg: BertClassifierConfig = { ...preset, ...o.overrides, vocabSize: tokenizer.vocabSize, labels: o.labels };
  return { model: makeTask(o.task, cfg, o.seed), tokenizer };
}

/**
 * A task model on the encoder of a pretrained BERT: same shape and vocabulary, `bert.*` tensors copied.
 * Throws `where: …` when the base is not a BERT or its tokenizer not WordPiece.
 */
export function bertTaskFromBase(base: LanguageModel, tokenizer: Tokenizer, o: BertStartOptions, where: string): { model: BertTaskModel; tokenizer: WordPieceTokenizer } {
  if (!(base instanceof BertTaskModel)) throw new Error(`${where}: not a BERT checkpoint (model type ${base.type})`);
  if (!(tokenizer instanceof WordPieceTokenizer)) throw new Error(`${where}: a BERT base needs a WordPiece tokenizer, got ${tokenizer.type}`);
  const model = makeTask(o.task, { ...base.config, labels: o.labels }, o.seed);
  const own = model.stateDict();
  for (const [name, t] of base.stateDict()) {
    const dst = own.get(name);
    if (name.startsWith('bert.') && dst && dst.size === t.size) dst.data.set(t.data);
  }
  return { model, tokenizer };
}

/** fine-tuning's defaults where they differ from pretraining's (src/train/trainer.ts TRAIN_DEFAULTS) */
export const FINETUNE_DEFAULTS: Partial<TrainConfig> = {
  maxIters: 400, batchSize: 16, lr: 1e-3, minLr: 1e-4, warmupIters: 20, weightDecay: 0.01, gradClip: 1.0,
  evalInterval: 100, patience: 0, seed: 1337, sampleAt: [],
};

export interface FinetuneJob {
  task: BertTask;
  out: string;
  /** a pretrained BERT checkpoint (or run folder) whose encoder to start from; default a fresh model */
  base?: string;
  resume: boolean;
  force?: boolean;
  preset?: string;
  overrides?: Partial<BertConfig>;
  /** WordPiece vocabulary size of a fresh model */
  vocabSize: number;
  train: Partial<TrainConfig>;
  quiet?: boolean;
  /** stored in the checkpoints (data files, task) */
  meta: Record<string, unknown>;
}

export interface FinetuneStart {
  model: BertTaskModel;
  tokenizer: WordPieceTokenizer;
  state?: { trainer: TrainState; moments: Map<string, Float32Array> };
}

/** the run's own checkpoint when resuming, a base's encoder with --base, else a fresh model */
export function finetuneStart(job: FinetuneJob, folder: RunFolder, labels: string[], text: string, log: (l: string) => void): FinetuneStart {
  if (job.resume) {
    registerBertTypes(registerModelType);
    // another command's run is refused (exit 2), naming the command that resumes it
    const ck = resumableCheckpoint(folder, job.task === 'bert-seq-cls' ? 'classify train' : 'tag train', job.train.maxIters);
    if (ck.model.type !== job.task || !(ck.tokenizer instanceof WordPieceTokenizer)) throw new Error(`${folder.checkpointDir}: holds a ${ck.model.type} model, not ${job.task}`);
    const have = (ck.model.config as BertClassifierConfig).labels;
    if (have.join('\u0001') !== labels.join('\u0001')) throw new Error(`${folder.checkpointDir}: trained on labels ${have.join(', ')}, the data has ${labels.join(', ')}`);
    job.train = { ...(ck.config.train ?? {}), ...checkResumedOptimizer(job.train, ck.config.train ?? {}, job.task === 'bert-seq-cls' ? 'classify train' : 'tag train') };
    log(`resuming ${folder.checkpointDir} at step ${ck.trainerState.step}`);
    return { model: ck.model as BertTaskModel, tokenizer: ck.tokenizer, state: { trainer: ck.trainerState, moments: ck.moments } };
  }
  const o: BertStartOptions = { task: job.task, labels, text, vocabSize: job.vocabSize, preset: job.preset, overrides: job.overrides, seed: job.train.seed ?? 1337 };
  if (!job.base) return freshBertTask(o);
  registerBertTypes(registerModelType);
  const base = loadCheckpoint(job.base);
  log(`base: ${job.base} (${base.model.describe()})`);
  const start = bertTaskFromBase(base.model, base.tokenizer, o, job.base);
  const unk = unknownShare(start.tokenizer, text);
  if (unk > UNK_NOTE_SHARE) log(`note: the base's vocabulary covers the data poorly: ${(100 * unk).toFixed(1)}% of its tokens become ${start.tokenizer.unk}; a fresh model (no --base) learns a vocabulary from the data`);
  return start;
}

/** the share of [UNK] above which fine-tuning from a base prints a note */
export const UNK_NOTE_SHARE = 0.2;

/** the share of `text`'s WordPiece tokens that are the unknown token (0 for empty text) */
export function unknownShare(tokenizer: WordPieceTokenizer, text: string): number {
  const ids = tokenizer.encode(text);
  const unk = tokenizer.tokenToId(tokenizer.unk);
  return ids.length ? ids.filter((id) => id === unk).length / ids.length : 0;
}

/** Trains `start.model` on `objective` into the run folder; logs the model and the run's size first. */
export async function runFinetune(job: FinetuneJob, folder: RunFolder, start: FinetuneStart, objective: Objective, log: (l: string) => void): Promise<RunResult> {
  const trainer = new Trainer(start.model, objective, { ...FINETUNE_DEFAULTS, ...job.train });
  if (start.state) trainer.restore(start.state.trainer, start.state.moments);
  const c = trainer.config;
  log(`model: ${start.model.describe()} — ${(start.model.numParams() / 1e6).toFixed(2)}M parameters, WordPiece vocabulary of ${start.tokenizer.vocabSize}`);
  log(`training ${c.maxIters} steps of ${c.batchSize} examples, lr ${c.lr} → ${c.minLr}, out ${job.out}`);
  return runTrainer(trainer, folder, { model: start.model, tokenizer: start.tokenizer, meta: { task: job.task, base: job.base !== undefined ? recordedPath(job.base) : undefined, ...job.meta }, quiet: job.quiet, log, label: job.task });
}
