// A supervised fine-tuning job on disk: chat data (a file, or the built-in Q&A set), a base checkpoint whose
// vocabulary grows to the chat template's special tokens, and the Trainer with the SFT objective in a run
// folder — resumable like pretraining (`--resume` continues the same trajectory). On the built-in set it
// reports held-out accuracy before and after. With LoRA (src/train/adapt.ts) only the adapters train, plus
// the rows of the tokens the chat vocabulary added (PEFT's trainable_token_indices: frozen, those rows would
// stay random); the run also leaves `adapter/` (PEFT layout) and `merged/` (a plain checkpoint).
import { counted } from '../data/jsonl.js';
import { refuseCountedModel } from './model-kinds.js';
import fs from 'node:fs';
import type { LanguageModel } from '../models/model.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { skippedLines, parseChatData, type Conversation } from '../data/chat.js';
import { defaultSftData, withBareAnswers, type SftExample } from '../data/sft-default.js';
import { UsageError } from '../usage-error.js';
import { readTextFile } from '../formats/text-file.node.js';
import { heldOutAccuracy } from '../eval/chat-accuracy.js';
import { resumeChangeNotes, Trainer, validateTrainConfig, type TrainConfig, type TrainState } from './trainer.js';
import { encodeChats, SupervisedFineTuning } from './sft.js';
import { withChatVocabulary } from './chat-vocabulary.js';
import { namingData, recordedInput, recordedPath, resumeDataNote, RunFolder, runTrainer, type RunResult } from './run-folder.node.js';
import { adaptModel, checkAdaptOptions, hasLora, mergedCopy, type AdaptOptions, type LoraOptions } from './adapt.js';
import { loadAnyCheckpoint, saveLoraOutputs } from './lora-checkpoint.node.js';
import { loadModelFile } from './model-file.node.js';
import { freezeParameters } from '../nn/freeze.js';
import { checkMemoryBounds, MAX_RUN_BYTES } from './memory-bounds.js';
import { resumableCheckpoint } from './resume.node.js';
import { checkResumedOptimizer } from './resumed-optimizer.js';
import { optimizerStateCount } from '../optim/registry.js';

/** SFT's defaults where they differ from pretraining's (src/train/trainer.ts TRAIN_DEFAULTS) */
export const SFT_DEFAULTS: Partial<TrainConfig> = {
  maxIters: 800, batchSize: 16, lr: 1e-3, minLr: 1e-4, warmupIters: 50, weightDecay: 0.1, gradClip: 1.0,
  evalInterval: 250, patience: 0, seed: 1337, sampleAt: [],
};

/** sft's held-out split where a new run is given none: 5 % of a data file's conversations, 100 built-in questions */
export const SFT_SPLIT = { devFraction: 0.05, evalExamples: 100 };

/**
 * What changes with LoRA: adapters start at zero and move only through a low-rank product, so they need a
 * learning rate about ten times full fine-tuning's (measured on the built-in set, bench/lora-sft.ts), and
 * weight decay pulls them back towards the base model, so it is off.
 */
export const SFT_LORA_DEFAULTS: Partial<TrainConfig> = { lr: 1e-2, minLr: 1e-3, weightDecay: 0 };

/** the LoRA settings SFT uses unless told otherwise: r 8, α 16, every Linear layer of the blocks (attention and MLP) */
export const SFT_LORA: Omit<LoraOptions, 'r'> = { alpha: 16, dropout: 0, targets: ['all-linear'] };

export interface SftJob {
  /** the pretrained checkpoint (not needed when resuming) */
  base?: string;
  /** chat data file; default the built-in Q&A set (a resumed run reuses the file it was trained on) */
  data?: string;
  out: string;
  resume: boolean;
  force?: boolean;
  /** share of the file's conversations held out for the dev loss; absent: a resumed run's own, else SFT_SPLIT's */
  devFraction?: number;
  /** held-out questions of the built-in set for the accuracy check; absent: a resumed run's own, else SFT_SPLIT's */
  evalExamples?: number;
  /**
   * built-in set only: the share of its conversations that also appear with the bare answer (withBareAnswers);
   * absent: a resumed run's own, else 0. A data file, or a resumed run's other share, is refused (UsageError).
   */
  bareAnswers?: number;
  train: Partial<TrainConfig>;
  /** LoRA and/or freezing (a resumed run keeps its own) */
  adapt?: AdaptOptions;
  /** with LoRA, train the rows of the tokens the chat vocabulary adds (default true) */
  trainNewTokens?: boolean;
  quiet?: boolean;
}

export interface SftJobResult extends RunResult {
  /** held-out accuracy on the built-in set, before and after (absent with --data) */
  before?: number;
  after?: number;
}

interface ChatSplits {
  train: Conversation[];
  dev: Conversation[];
  /** built-in questions for the accuracy check (empty with a data file) */
  heldOut: SftExample[];
}

function loadChatData(file: string | undefined, job: SftJob & typeof SFT_SPLIT & { bareAnswers: number }, log: (l: string) => void): ChatSplits {
  const builtin = defaultSftData({ seed: 1 });
  if (!file) {
    const heldOut = builtin.heldOut.slice(0, job.evalExamples);
    const train = withBareAnswers(builtin.train, job.bareAnswers).map((e) => ({ messages: e.messages }));
    const dev = builtin.heldOut.slice(job.evalExamples).map((e) => ({ messages: e.messages }));
    const twins = train.length - builtin.train.length;
    log(`data: built-in Q&A (sums, differences and facts of an invented world): ${train.length} train${twins ? ` (${twins} of them with the bare answer)` : ''}, ${dev.length} dev, ${heldOut.length} held-out questions`);
    return { train, dev, heldOut };
  }
  const parsed = parseChatData(readTextFile(file, 'chat data file'), file);
  for (const l of skippedLines(parsed.errors, 'malformed records')) process.stderr.write(`${l}\n`);
  log(`data: ${file}: kept ${counted(parsed.summary.kept, 'conversation')}, skipped ${parsed.summary.skipped}`);
  if (!parsed.conversations.length) throw new Error(`${file}: no valid conversations to train on`);
  const nDev = Math.floor(parsed.conversations.length * job.devFraction);
  if (nDev === 0) log('note: no conversations held out for dev loss (--dev-fraction): evaluations report training loss, and best/ follows it');
  return { dev: parsed.conversations.slice(0, nDev), train: parsed.conversations.slice(nDev), heldOut: [] };
}

interface Start {
  model: LanguageModel;
  tokenizer: Tokenizer;
  state?: { trainer: TrainState; moments: Map<string, Float32Array> };
  data?: string;
  /** a resumed run's adapter settings */
  adapt?: AdaptOptions;
  /** a resumed run's base checkpoint, as its meta records it */
  base?: string;
}

/** the training defaults of a run: SFT's, with LoRA's where it adapts */
export function sftDefaults(adapt: AdaptOptions | undefined): Partial<TrainConfig> {
  return adapt?.lora ? { ...SFT_DEFAULTS, ...SFT_LORA_DEFAULTS } : SFT_DEFAULTS;
}

/**
 * The run in `folder` to resume: its model, state, adapter settings and data. Another --base is refused; its
 * training settings and held-out split are kept unless given now, and each change (and other --data) is noted.
 */
function resumeStart(job: SftJob, folder: RunFolder, log: (l: string) => void): Start {
  const ck = resumableCheckpoint(folder, 'sft', job.train.maxIters, { flag: '--base', given: job.base, key: 'base' });
  const meta = ck.config.meta ?? {};
  const freeze = Array.isArray(meta.freeze) ? (meta.freeze as string[]) : undefined;
  if (freeze?.length) freezeParameters(ck.model, freeze);
  const adapt: AdaptOptions | undefined = ck.lora || freeze?.length ? { ...(ck.lora ? { lora: ck.lora } : {}), ...(freeze?.length ? { freeze } : {}) } : undefined;
  // a --data file that is not there is the one line, before any note about using it
  if (job.data !== undefined && !fs.existsSync(job.data)) throw new Error(`${job.data}: no such chat data file`);
  job.train = checkResumedOptimizer(job.train, ck.config.train ?? {}, 'sft');
  const notes = resumeNotes(job, meta, { ...sftDefaults(adapt), ...(ck.config.train ?? {}) });
  job.train = { ...(ck.config.train ?? {}), ...job.train };
  validateTrainConfig({ ...sftDefaults(adapt), ...job.train });
  if (typeof meta.evalExamples === 'number') job.evalExamples ??= meta.evalExamples;
  if (typeof meta.devFraction === 'number') job.devFraction ??= meta.devFraction;
  const own = typeof meta.bareAnswers === 'number' ? meta.bareAnswers : 0;
  if (own > 0 && job.data !== undefined) throw new UsageError(`sft --resume: the run trains on the built-in Q&A set with --bare-answers ${own}; --data ${job.data} cannot replace it (start a new run for the file)`);
  if (job.bareAnswers !== undefined && job.bareAnswers !== own) throw new UsageError(`sft --resume: --bare-answers ${job.bareAnswers} differs from the run's ${own}; the run goes on with its own training set (drop --bare-answers)`);
  job.bareAnswers = own;
  log(`resuming ${folder.checkpointDir} at step ${ck.trainerState.step}`);
  for (const note of notes) log(note);
  const data = job.data ?? (typeof meta.data === 'string' && meta.data !== 'built-in' ? recordedInput(meta.data) : undefined);
  // the base as recorded (resuming does not read it, so an older run's relative path stays as it was)
  return { model: ck.model, tokenizer: ck.tokenizer, state: { trainer: ck.trainerState, moments: ck.moments }, data, adapt, base: typeof meta.base === 'string' ? meta.base : undefined };
}

/** the notes of a resumed run: settings (training, held-out split) given now that differ from the run's, and another --data */
function resumeNotes(job: SftJob, meta: Record<string, unknown>, savedTrain: Partial<TrainConfig>): string[] {
  // the held-out split is the run's own unless given now
  const split = { evalExamples: meta.evalExamples ?? SFT_SPLIT.evalExamples, devFraction: meta.devFraction ?? SFT_SPLIT.devFraction };
  const dataNote = resumeDataNote(meta.data, job.data);
  const builtIn = (job.data ?? meta.data ?? 'built-in') === 'built-in';
  // the split's flag that moves examples in or out of the dev set: built-in, --eval-examples; a file, --dev-fraction
  const [flag, was, now] = builtIn ? ['--eval-examples', split.evalExamples, job.evalExamples] : ['--dev-fraction', split.devFraction, job.devFraction];
  const devNote = now !== undefined && now !== was
    ? [`note: ${flag} also sets the dev set (${builtIn ? 'the held-out questions the accuracy check leaves' : 'the first conversations of the file'}), so dev losses and best/ from before this resume were measured on other examples`]
    : [];
  return [...resumeChangeNotes({ ...savedTrain, ...split }, { ...job.train, evalExamples: job.evalExamples, devFraction: job.devFraction }), ...(dataNote ? [dataNote] : []), ...devNote];
}

/** the model to fine-tune: the run's own checkpoint when resuming, else the base with the chat vocabulary */
function startingPoint(job: SftJob, folder: RunFolder, log: (l: string) => void): Start {
  if (job.resume) return resumeStart(job, folder, log);
  if (!job.base) throw new Error('sft: give --base CHECKPOINT (a pretrained model, e.g. runs/demo from gptlab train --demo)');
  const base = loadSftBase(job.base);
  return { model: base.model, tokenizer: base.tokenizer, data: job.data };
}

/**
 * sft's base model: a checkpoint or run folder (a LoRA run's adapter merged in) or a Hugging Face folder
 * (gpt2/llama, float weights), through the loader sample and eval use. A file (GGUF: quantized blocks) is
 * refused with one line; so is a folder the loader cannot read.
 */
function loadSftBase(p: string): { model: LanguageModel; tokenizer: Tokenizer } {
  if (fs.existsSync(p) && fs.statSync(p).isFile()) {
    const what = /\.gguf$/i.test(p) ? 'a GGUF file' : 'a file';
    throw new Error(`sft --base: ${p} is ${what}; fine-tuning starts from a gptlab checkpoint or a Hugging Face folder (float weights), not a quantized model file`);
  }
  const { model, tokenizer } = loadModelFile(p);
  if (model.type === 'reward') throw new Error(`sft: --base ${p} is a reward model (gptlab rm train), not a language model; give a pretrained or chat model (e.g. runs/demo)`);
  refuseCountedModel(model.type, 'sft', '--base', p);
  return { model, tokenizer };
}

/** LoRA / freezing on a fresh run's model, with the new tokens' rows trainable under LoRA; the settings as run */
function adaptFresh(job: SftJob, model: LanguageModel, addedIds: number[], log: (l: string) => void): AdaptOptions | undefined {
  if (!job.adapt) return undefined;
  const lora = job.adapt.lora && { ...job.adapt.lora, ...(job.trainNewTokens !== false && addedIds.length ? { trainableTokens: addedIds } : {}) };
  const adapt = { ...job.adapt, ...(lora ? { lora } : {}) };
  log(adaptModel(model, adapt));
  return adapt;
}

/** Runs an SFT job (see SftJob); returns the run's result with held-out accuracies on the built-in set. */
export async function runSftJob(job: SftJob, log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<SftJobResult> {
  if (!job.resume) validateTrainConfig({ ...sftDefaults(job.adapt), ...job.train }); // before loading anything
  // a resumed run's own share is checked against --data by resumeStart
  if (!job.resume && (job.bareAnswers ?? 0) > 0 && job.data !== undefined) throw new UsageError(`sft: --bare-answers adds bare-answer twins to the built-in Q&A set; a --data file (${job.data}) is trained as it is`);
  const folder = new RunFolder(job.out, true, { resume: job.resume, force: job.force, inputs: [job.base, job.data], command: 'sft' });
  const start = startingPoint(job, folder, log);
  if (!start.state) checkAdaptOptions(start.model, job.adapt); // before the data and the accuracy check
  const tc = { ...sftDefaults(job.adapt ?? start.adapt), ...job.train };
  checkMemoryBounds({ ...start.model.config }, tc.batchSize!, MAX_RUN_BYTES, '--batch-size', optimizerStateCount(tc.optimizer, tc.optimizerOptions));
  const split = { evalExamples: job.evalExamples ?? SFT_SPLIT.evalExamples, devFraction: job.devFraction ?? SFT_SPLIT.devFraction };
  const bareAnswers = job.bareAnswers ?? 0;
  const data = loadChatData(start.data, { ...job, ...split, bareAnswers }, log);
  const allText = [...data.train, ...data.dev, ...data.heldOut].flatMap((c) => c.messages.map((m) => m.content)).join('') + '\n';
  const { model, tokenizer, added, addedIds } = start.state ? { ...start, added: [], addedIds: [] } : withChatVocabulary(start.model, start.tokenizer, allText, job.base && `sft: --base ${job.base}`);
  if (added.length) log(`vocabulary: added ${added.join(' ')} (${tokenizer.vocabSize} tokens now)`);
  const T = model.config.blockSize;
  const [tr, dv] = namingData('sft', start.data, job.data !== undefined, () => [encodeChats(data.train, tokenizer, T), encodeChats(data.dev, tokenizer, T)]);
  if (tr.tooLong + dv.tooLong) log(`note: ${tr.tooLong + dv.tooLong} conversations are longer than the context (${T} tokens) and were left out`);
  const before = data.heldOut.length && !start.state ? (await heldOutAccuracy(model, tokenizer, data.heldOut)).accuracy : undefined;
  if (before !== undefined) log(`held-out accuracy before SFT: ${(100 * before).toFixed(1)}% (${data.heldOut.length} questions)`);
  const adapt = start.state ? start.adapt : adaptFresh(job, model, addedIds, log);
  const trainer = new Trainer(model, new SupervisedFineTuning(tr.examples, dv.examples), { ...sftDefaults(adapt), ...job.train }, { tokenizer });
  if (start.state) trainer.restore(start.state.trainer, start.state.moments);
  const meta = {
    base: start.base ?? (job.base !== undefined ? recordedPath(job.base) : undefined), data: start.data !== undefined ? recordedPath(start.data) : 'built-in', ...split, ...(bareAnswers > 0 ? { bareAnswers } : {}),
    ...(adapt?.lora ? { lora: adapt.lora } : {}), ...(adapt?.freeze?.length ? { freeze: adapt.freeze } : {}),
  };
  const res = await runTrainer(trainer, folder, { model, tokenizer, meta, quiet: job.quiet, log, label: 'sft' });
  if (adapt?.lora && res.outcome !== 'interrupted') {
    const best = loadAnyCheckpoint(folder.bestDir);
    saveLoraOutputs(folder.dir, best.model, best.tokenizer, meta);
    log(`LoRA: adapter in ${folder.dir}/adapter (PEFT layout), merged model in ${folder.dir}/merged`);
  }
  // a stopped run ends at once: the accuracy check is for finished runs
  const after = data.heldOut.length && res.outcome !== 'interrupted' ? await reportAccuracy(folder, data.heldOut, before, log) : undefined;
  return { ...res, before, after };
}

/** scores the best checkpoint (as chat and serve will load it; a LoRA run's merged) on the held-out questions */
async function reportAccuracy(folder: RunFolder, heldOut: SftExample[], before: number | undefined, log: (l: string) => void): Promise<number> {
  const best = loadAnyCheckpoint(folder.dir);
  const after = await heldOutAccuracy(hasLora(best.model) ? mergedCopy(best.model) : best.model, best.tokenizer, heldOut);
  log(`held-out accuracy after SFT: ${(100 * after.accuracy).toFixed(1)}%` + (before !== undefined ? ` (before: ${(100 * before).toFixed(1)}%)` : ''));
  log(`  by kind: ${Object.entries(after.byKind).map(([k, v]) => `${k} ${v.right}/${v.total}`).join(', ')}`);
  for (let i = 0; i < Math.min(3, heldOut.length); i++) {
    const q = heldOut[i].messages[heldOut[i].messages.length - 2].content;
    log(`  Q: ${q}  A: ${after.answers[i].trim()}`);
  }
  return after.accuracy;
}
