// A pretraining job on disk: builds (or restores) the model and tokenizer, splits the text, and drives the
// Trainer with the Pretraining objective into a run folder (src/train/run-folder.node.ts). A count-based model
// (the n-gram: `fit(ids)`, no parameters) is fitted on the training split instead, evaluated once and saved
// the same way. The optimizer is AdamW unless the train config names another (`optimizer`,
// `optimizerOptions`: src/optim/registry.ts); both are saved in the checkpoint, so a resumed run rebuilds it.
import fs from 'node:fs';
import path from 'node:path';
import type { LanguageModel } from '../models/model.js';
import { createModel, presetConfig } from '../models/registry.js';
import { checkResumedOptimizer } from './resumed-optimizer.js';
import { CharTokenizer } from '../tokenizers/char.js';
import { parseTokenizerFile } from '../tokenizers/file.node.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { parseSplit, splitTokens, type TokenSplits } from '../data/dataset.js';
import { readTextFile } from '../formats/text-file.node.js';
import { checkMemoryBounds, MAX_RUN_BYTES } from './memory-bounds.js';
import { optimizerStateCount } from '../optim/registry.js';
import {
  configuredOptimizer, kebab, resumeChangeNotes, Trainer, TRAIN_DEFAULTS, validateTrainConfig, type TrainConfig, type TrainState,
} from './trainer.js';
import { Pretraining } from './pretraining.js';
import { checkpointFiles } from './checkpoint.js';
import { isFittable, type Fittable } from './fittable.js';
import { evalLine, recordedPath, RunFolder, runTrainer, type RunResult, resumeDataNote, resumedSplit, changedTextNote, textFingerprint } from './run-folder.node.js';
import { resumableCheckpoint } from './resume.node.js';
import { UsageError } from '../usage-error.js';

/** train/dev/test percentages when --split is not given */
export const DEFAULT_SPLIT = '90/5/5';

/** the trainer's config plus the optimizer: its name ('adamw' when absent) and options (src/optim/registry.ts) */
export type JobTrainConfig = Partial<TrainConfig> & { optimizer?: string; optimizerOptions?: Record<string, number | boolean | string> };

export interface TrainJob {
  text: string;
  /** where the text came from, for messages and checkpoint metadata */
  source: string;
  out: string;
  /** model type (default 'gpt'), preset and config overrides */
  model: { arch?: string; preset?: string } & Record<string, unknown>;
  train: JobTrainConfig;
  /** the seed the built-in demo corpus was drawn with (recorded as meta.corpusSeed; a resume draws it again) */
  corpusSeed?: number;
  /** train/dev/test percentages; a resumed run's own when absent (new runs: 90/5/5) */
  split?: string;
  tokenizerFile?: string;
  resume: boolean;
  /** overwrite a run already in `out` */
  force?: boolean;
  /** write checkpoints at all (tests may turn it off) */
  save: boolean;
  quiet?: boolean;
}

export type TrainJobResult = RunResult;

interface Restored {
  model: LanguageModel;
  tokenizer: Tokenizer;
  state?: { trainer: TrainState; moments: Map<string, Float32Array> };
  /** a resumed run's settings that the flags given now change (resumeChangeNotes) */
  notes?: string[];
}

/**
 * A resumed run keeps its model: model flags given now (job.model holds only those) must describe it, else one
 * line (a UsageError, exit 2) naming the first that does not, e.g. `train --resume: the run has n-hidden 256; --n-hidden 64 cannot change it`.
 * Repeating the run's own flags is fine.
 */
export function checkResumedModel(given: TrainJob['model'], type: string, saved: Record<string, unknown>, vocabSize: number): void {
  const { arch, preset, ...overrides } = given;
  if (arch !== undefined && arch !== type) throw new UsageError(`train --resume: the run is --arch ${type}; --arch ${arch} cannot change it (train a new run into another --out)`);
  const want: Record<string, unknown> = preset !== undefined ? presetConfig(type, preset, vocabSize, overrides) as unknown as Record<string, unknown> : overrides;
  for (const [k, v] of Object.entries(want)) {
    if (k === 'vocabSize' || JSON.stringify(v) === JSON.stringify(saved[k])) continue;
    if (!(k in saved)) throw new UsageError(`train --resume: --${kebab(k)} does not apply to the run's --arch ${type}`);
    const flag = k in overrides ? `--${kebab(k)} ${String(v)}` : `--preset ${preset!} (${kebab(k)} ${String(v)})`;
    throw new UsageError(`train --resume: the run has ${kebab(k)} ${String(saved[k])}; ${flag} cannot change it (train a new run into another --out)`);
  }
}

/** the model and tokenizer of a run: from its checkpoint when resuming (its settings under the flags given now), else new */
function buildOrRestore(job: TrainJob, folder: RunFolder): Restored {
  if (job.resume) {
    const ck = resumableCheckpoint(folder, 'train', job.train.maxIters); // a LoRA run's too, to be refused by its kind
    checkResumedModel(job.model, ck.model.type, ck.model.config as unknown as Record<string, unknown>, ck.tokenizer.vocabSize);
    job.train = checkResumedOptimizer(job.train, ck.config.train ?? {}, 'train');
    const dataNote = resumeDataNote(ck.config.meta?.source, job.source) ?? changedTextNote(ck.config.meta, job.text, job.source);
    const { split, note: splitNote } = resumedSplit(ck.config.meta?.split, job.split, DEFAULT_SPLIT);
    job.split = split;
    const notes = [...resumeChangeNotes(ck.config.train ?? {}, job.train), ...(dataNote ? [dataNote] : []), ...(splitNote ? [splitNote] : [])];
    job.train = { ...(ck.config.train ?? {}), ...job.train };
    validateTrainConfig(job.train);
    checkMemoryBounds({ ...ck.model.config }, job.train.batchSize ?? TRAIN_DEFAULTS.batchSize, MAX_RUN_BYTES, undefined, optimizerStateCount(job.train.optimizer, job.train.optimizerOptions));
    return { model: ck.model, tokenizer: ck.tokenizer, state: { trainer: ck.trainerState, moments: ck.moments }, notes };
  }
  const tokenizer = job.tokenizerFile
    ? parseTokenizerFile(readTextFile(job.tokenizerFile, 'tokenizer file'), job.tokenizerFile)
    : CharTokenizer.fromText(job.text);
  const { arch = 'gpt', preset, ...overrides } = job.model;
  const cfg = presetConfig(arch, preset, tokenizer.vocabSize, overrides);
  checkMemoryBounds(cfg as Record<string, unknown>, job.train.batchSize ?? TRAIN_DEFAULTS.batchSize, MAX_RUN_BYTES, undefined, optimizerStateCount(job.train.optimizer, job.train.optimizerOptions));
  return { model: createModel(arch, cfg, job.train.seed ?? 1337), tokenizer };
}

/** the text as token splits; errors name the source */
function tokenSplits(job: TrainJob, tokenizer: Tokenizer, blockSize: number): { tokens: Int32Array; splits: TokenSplits } {
  let ids: number[];
  try {
    ids = tokenizer.encode(job.text);
  } catch (e) {
    throw new Error(`${job.source}: cannot be tokenized with this tokenizer: ${(e as Error).message}`);
  }
  const tokens = Int32Array.from(ids);
  const splits = splitTokens(tokens, parseSplit(job.split ?? DEFAULT_SPLIT));
  if (splits.train.length < blockSize + 1) {
    throw new Error(
      `${job.source}: the training split has ${splits.train.length} tokens, fewer than block size ${blockSize} + 1; ` +
        'use more data or a smaller --block-size',
    );
  }
  return { tokens, splits };
}

/**
 * A sample prompt the vocabulary cannot spell (the default '\n' in a text without newlines) must not stop a
 * run at its first sample: samples start from the data's first token instead.
 */
function usableSamplePrompt(job: TrainJob, tokenizer: Tokenizer, firstToken: number, log: (l: string) => void): void {
  const prompt = job.train.samplePrompt ?? TRAIN_DEFAULTS.samplePrompt;
  try {
    tokenizer.encode(prompt, { allowedSpecial: 'all' });
  } catch {
    job.train = { ...job.train, samplePrompt: tokenizer.decode([firstToken]) };
    log(`note: the sample prompt ${JSON.stringify(prompt)} is not in the vocabulary; samples start from ${JSON.stringify(job.train.samplePrompt)}`);
  }
}

function describeRun(job: TrainJob, r: Restored, tokens: Int32Array, splits: TokenSplits, trainer: Trainer, log: (l: string) => void): void {
  const n = (x: number): string => x.toLocaleString('en');
  const c = trainer.config;
  const size = isFittable(r.model) ? 'fitted by counting' : `${r.model.numParams() >= 1e5 ? `${(r.model.numParams() / 1e6).toFixed(2)}M` : r.model.numParams().toLocaleString('en')} parameters`;
  log(`model: ${r.model.describe()} (${r.tokenizer.type} tokenizer) — ${size}`);
  log(`data: ${job.source} — ${n(tokens.length)} tokens (train ${n(splits.train.length)}, dev ${n(splits.dev.length)}, test ${n(splits.test.length)})`);
  if (splits.dev.length <= r.model.config.blockSize) log(`note: the dev part has fewer than ${r.model.config.blockSize + 1} tokens: evaluations report training loss only, and best/ and early stopping follow it`);
  if (r.state) log(`resuming ${path.join(job.out, 'checkpoint')} at step ${r.state.trainer.step}`);
  for (const note of r.notes ?? []) log(note);
  if (isFittable(r.model)) log(`fitting by counting the training split (no gradient steps), out ${job.out}`);
  else log(`training ${c.maxIters} steps of ${c.batchSize}×${r.model.config.blockSize} tokens, ${job.train.optimizer ?? 'adamw'}, lr ${c.lr} → ${c.minLr}, out ${job.out}`);
}

/**
 * Checks a job's train config and its optimizer's options (built once over no parameters) before any work;
 * throws one line naming the setting, e.g. "sgd: momentum must be ≥ 0, got -1". Every training job calls it.
 */
export function validateJobTrainConfig(train: JobTrainConfig): void {
  validateTrainConfig(train);
  if (train.optimizer !== undefined) configuredOptimizer([], { ...TRAIN_DEFAULTS, ...train });
}

/**
 * Fits a count-based model on the training split, evaluates it once (the objective's train/dev estimate, as
 * the trainer's evaluations) and saves checkpoint/ and best/ with a step count of 0; prints a sample when
 * any sampleAt step is asked for. A resumed n-gram run is fitted again (counting is deterministic).
 */
async function runFitJob(job: TrainJob, r: Restored, trainer: Trainer, folder: RunFolder, log: (l: string) => void): Promise<TrainJobResult> {
  const t0 = performance.now();
  const train = (trainer.objective as Pretraining).splits.train;
  (r.model as Fittable).fit(train);
  const ev = trainer.evaluate();
  const selected = (ev.dev ?? ev.train)!;
  trainer.state = { ...trainer.state, bestDevLoss: selected, evalsWithoutImprovement: 0, history: [{ step: 0, train: ev.train, dev: ev.dev }] };
  const meta = { kind: trainer.objective.name, source: recordedSource(job.source), split: job.split ?? DEFAULT_SPLIT, ...textFingerprint(job.text) };
  folder.saveCheckpoint(checkpointFiles(r.model, r.tokenizer, { trainer, meta }));
  folder.saveBest(checkpointFiles(r.model, r.tokenizer, { meta: { ...meta, step: 0, devLoss: ev.dev, trainLoss: ev.train } }));
  folder.writePlot(trainer.state.history, trainer.objective.lossLabel);
  const seconds = (performance.now() - t0) / 1000;
  folder.appendLog({ step: 0, train: ev.train, dev: ev.dev, time: seconds });
  log(evalLine({ ...ev, step: 0, selected, selectedFrom: ev.dev !== undefined ? 'dev' : 'train', improved: true }));
  if (trainer.config.sampleAt.length > 0) log(`--- sample ---\n${await trainer.sample()}\n---`);
  log(`fitted ${r.model.describe()} in ${seconds.toFixed(1)} s; held-out loss ${selected.toFixed(4)}` + (folder.save ? `; saved ${folder.dir}/{checkpoint,best}` : ''));
  return { outcome: 'done', steps: 0, bestDevLoss: selected, lastDevLoss: selected, seconds, tokensPerSec: train.length / seconds, out: folder.dir };
}

/** the source a run records: a data file's absolute path (recordedPath), else the label as given ('built-in demo corpus') */
export function recordedSource(source: string): string {
  return fs.existsSync(source) && fs.statSync(source).isFile() ? recordedPath(source) : source;
}

/** Runs a pretraining job to its end (or early stop, or interrupt); see TrainJob. */
export async function runTrainJob(job: TrainJob, log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<TrainJobResult> {
  if (!job.resume) validateJobTrainConfig(job.train); // before any work: a bad setting must not cost a tokenization
  const folder = new RunFolder(job.out, job.save, { resume: job.resume, force: job.force, inputs: [job.source], command: 'train' });
  const r = buildOrRestore(job, folder);
  const { tokens, splits } = tokenSplits(job, r.tokenizer, r.model.config.blockSize);
  usableSamplePrompt(job, r.tokenizer, tokens[0], log);
  const trainer = new Trainer(r.model, new Pretraining(splits), job.train, { tokenizer: r.tokenizer });
  describeRun(job, r, tokens, splits, trainer, log);
  if (isFittable(r.model)) return runFitJob(job, r, trainer, folder, log);
  if (r.state) trainer.restore(r.state.trainer, r.state.moments);
  return runTrainer(trainer, folder, {
    model: r.model, tokenizer: r.tokenizer, meta: { source: recordedSource(job.source), split: job.split ?? DEFAULT_SPLIT, ...textFingerprint(job.text), ...(job.corpusSeed !== undefined ? { corpusSeed: job.corpusSeed } : {}) }, quiet: job.quiet, log, label: 'train',
  });
}
