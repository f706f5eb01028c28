// A pretraining job on disk: builds (or restores) the model and tokenizer, splits the text, and drives the
// Trainer with the Pretraining objective into a run folder (src/train/run-folder.node.ts).
import path from 'node:path';
import type { LanguageModel } from '../models/model.js';
import { createModel, presetConfig } from '../models/registry.js';
import { CharTokenizer } from '../tokenizers/char.js';
import { parseTokenizerFile } from '../tokenizers/file.node.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { parseSplit, splitTokens, type TokenSplits } from '../data/dataset.js';
import { readTextFile } from '../formats/text-file.node.js';
import { Trainer, TRAIN_DEFAULTS, type TrainConfig, type TrainState } from './trainer.js';
import { Pretraining } from './pretraining.js';
import { loadCheckpoint } from './checkpoint.node.js';
import { RunFolder, runTrainer, type RunResult } from './run-folder.node.js';

export interface TrainJob {
  text: string;
  /** where the text came from, for messages and checkpoint metadata */
  source: string;
  out: string;
  /** model type (default 'gpt'), preset and config overrides */
  model: { arch?: string; preset?: string } & Record<string, unknown>;
  train: Partial<TrainConfig>;
  split: string;
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
}

/** the model and tokenizer of a run: from its checkpoint when resuming (its settings under the flags given now), else new */
function buildOrRestore(job: TrainJob, folder: RunFolder): Restored {
  if (job.resume) {
    const ck = loadCheckpoint(folder.checkpointDir, true);
    if (!ck.trainerState || !ck.moments) throw new Error(`${folder.checkpointDir}: has no optimizer/trainer state, so it cannot resume`);
    job.train = { ...(ck.config.train ?? {}), ...job.train };
    return { model: ck.model, tokenizer: ck.tokenizer, state: { trainer: ck.trainerState, moments: ck.moments } };
  }
  const tokenizer = job.tokenizerFile
    ? parseTokenizerFile(readTextFile(job.tokenizerFile, 'tokenizer file'), job.tokenizerFile)
    : CharTokenizer.fromText(job.text);
  const { arch = 'gpt', preset, ...overrides } = job.model;
  const cfg = presetConfig(arch, preset, tokenizer.vocabSize, overrides);
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
  const splits = splitTokens(tokens, parseSplit(job.split));
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
  log(`model: ${r.model.describe()} (${r.tokenizer.type} tokenizer) — ${(r.model.numParams() / 1e6).toFixed(2)}M parameters`);
  log(`data: ${job.source} — ${n(tokens.length)} tokens (train ${n(splits.train.length)}, dev ${n(splits.dev.length)}, test ${n(splits.test.length)})`);
  if (splits.dev.length <= r.model.config.blockSize) log(`note: the dev part has fewer than ${r.model.config.blockSize + 1} tokens: evaluations report training loss only, and best/ and early stopping follow it`);
  if (r.state) log(`resuming ${path.join(job.out, 'checkpoint')} at step ${r.state.trainer.step}`);
  log(`training ${c.maxIters} steps of ${c.batchSize}×${r.model.config.blockSize} tokens, lr ${c.lr} → ${c.minLr}, out ${job.out}`);
}

/** Runs a pretraining job to its end (or early stop, or interrupt); see TrainJob. */
export async function runTrainJob(job: TrainJob, log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<TrainJobResult> {
  const folder = new RunFolder(job.out, job.save, { resume: job.resume, force: job.force });
  const r = buildOrRestore(job, folder);
  const { tokens, splits } = tokenSplits(job, r.tokenizer, r.model.config.blockSize);
  usableSamplePrompt(job, r.tokenizer, tokens[0], log);
  const trainer = new Trainer(r.model, new Pretraining(splits), job.train, { tokenizer: r.tokenizer });
  if (r.state) trainer.restore(r.state.trainer, r.state.moments);
  describeRun(job, r, tokens, splits, trainer, log);
  return runTrainer(trainer, folder, {
    model: r.model, tokenizer: r.tokenizer, meta: { source: job.source, split: job.split }, quiet: job.quiet, log, label: 'train',
  });
}
