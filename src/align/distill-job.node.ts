// A distillation job on disk (`gptlab distill`): a teacher checkpoint, a fresh student of a preset shape with
// the teacher's tokenizer, text (a file, or the built-in demo corpus) split into train/dev, and the
// DistillationObjective on the one Trainer in a run folder (checkpoints, best/, loss.svg, --resume).
import type { LanguageModel } from '../models/model.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { createModel, modelType, presetConfig } from '../models/registry.js';
import { demoCorpus } from '../data/corpus.js';
import { parseSplit, splitTokens, type TokenSplits } from '../data/dataset.js';
import { readTextFile } from '../formats/text-file.node.js';
import { kebab, resumeChangeNotes, Trainer, type TrainConfig, type TrainState } from '../train/trainer.js';
import { checkMemoryBounds, MAX_RUN_BYTES } from '../train/memory-bounds.js';
import { namingData, recordedInput, recordedPath, resumeDataNote, resumedSplit, RunFolder, runTrainer, type RunResult } from '../train/run-folder.node.js';
import { DistillationObjective, type DistillOptions } from './distill.js';
import { hasLora, mergedCopy } from './adapt.js';
import { loadAnyCheckpoint } from './lora-checkpoint.node.js';
import { resumableCheckpoint } from '../train/resume.node.js';
import { UsageError } from '../usage-error.js';
import { checkResumedOptimizer } from '../train/resumed-optimizer.js';
import { optimizerStateCount } from '../optim/registry.js';

/** train/dev percentages of the text when --split is not given */
export const DISTILL_SPLIT = '90/10';

export const DISTILL_DEFAULTS: Partial<TrainConfig> = {
  maxIters: 500, batchSize: 12, lr: 1e-3, minLr: 1e-4, warmupIters: 50, weightDecay: 0.1, gradClip: 1, evalInterval: 100, evalIters: 10, patience: 0, seed: 1337, sampleAt: [],
};

export interface DistillJob {
  teacher?: string;
  /** the student's model type and preset shape; a resumed run keeps its own (given ones must describe it) */
  studentArch?: string;
  studentPreset?: string;
  /** config overrides of the student (nLayer, blockSize, …) */
  studentOverrides?: Record<string, unknown>;
  data?: string;
  /** train/dev percentages; a resumed run's own when absent (new runs: 90/10) */
  split?: string;
  out: string;
  resume: boolean;
  force?: boolean;
  /** τ and α; a resumed run keeps its own unless given */
  distill: DistillOptions;
  train: Partial<TrainConfig>;
  quiet?: boolean;
}

/** the saved state of the run being resumed */
interface Resumed {
  model: LanguageModel;
  meta: Record<string, unknown>;
  train: Partial<TrainConfig>;
  trainerState: TrainState;
  moments: Map<string, Float32Array>;
}

/**
 * The run to resume in `folder`: its student and state, checked to be a distillation run. Its teacher, τ, α and
 * training settings are kept unless given now (each change noted); another --teacher or student shape is refused.
 */
function resumeRun(job: DistillJob, folder: RunFolder, log: (l: string) => void): Resumed {
  const ck = resumableCheckpoint(folder, 'distill', job.train.maxIters, { flag: '--teacher', given: job.teacher, key: 'teacher' });
  const meta = ck.config.meta ?? {};
  checkResumedStudent(job, ck.model);
  job.train = checkResumedOptimizer(job.train, ck.config.train ?? {}, 'distill');
  const saved: DistillOptions = {};
  for (const k of ['temperature', 'alpha'] as const) if (typeof meta[k] === 'number') saved[k] = meta[k];
  const notes = resumeChangeNotes({ ...DISTILL_DEFAULTS, ...ck.config.train, ...DISTILL_OPTION_DEFAULTS, ...saved }, { ...job.train, ...job.distill });
  job.distill = { ...DISTILL_OPTION_DEFAULTS, ...saved, ...job.distill };
  log(`resuming ${folder.checkpointDir} at step ${ck.trainerState.step}`);
  const { split, note: splitNote } = resumedSplit(meta.split, job.split, DISTILL_SPLIT);
  job.split = split;
  for (const note of [...notes, resumeDataNote(meta.data, job.data), splitNote]) if (note) log(note);
  return { model: ck.model, meta, train: ck.config.train ?? {}, trainerState: ck.trainerState, moments: ck.moments };
}

/**
 * A resumed run keeps its student: --student-arch, --student-preset and --student-block-size given now must
 * describe it, else one line naming the flag and both values.
 */
function checkResumedStudent(job: DistillJob, student: LanguageModel): void {
  const { studentArch: arch, studentPreset: preset, studentOverrides: overrides = {} } = job;
  if (arch !== undefined && arch !== student.type) throw new UsageError(`distill --resume: the run's student is --student-arch ${student.type}; --student-arch ${arch} cannot change it (start a new run)`);
  const saved = student.config as unknown as Record<string, unknown>;
  const presets = Object.keys(modelType(student.type).presets);
  if (preset !== undefined && !presets.includes(preset)) throw new UsageError(`distill --resume: --student-preset ${preset} is not one of the run's student type ${student.type}: ${presets.join(', ')}`);
  const want = preset !== undefined ? presetConfig(student.type, preset, student.config.vocabSize, { blockSize: saved.blockSize, ...overrides }) : overrides;
  for (const [k, v] of Object.entries(want)) {
    if (k === 'vocabSize' || JSON.stringify(v) === JSON.stringify(saved[k])) continue;
    const flag = k in overrides ? `--student-${kebab(k)} ${String(v)}` : `--student-preset ${preset!} (${kebab(k)} ${String(v)})`;
    throw new UsageError(`distill --resume: the run's student has ${kebab(k)} ${String(saved[k])}; ${flag} cannot change it (start a new run)`);
  }
}

/** τ and α when neither the flags nor the run say otherwise */
const DISTILL_OPTION_DEFAULTS: Required<DistillOptions> = { temperature: 2, alpha: 0.5 };

/** the text's train/dev token splits; an error names the command and the file */
function tokenSplits(tok: Tokenizer, dataFile: string | undefined, job: DistillJob, log: (l: string) => void): TokenSplits {
  const text = dataFile ? readTextFile(dataFile, 'data file') : demoCorpus();
  const ids = namingData('distill', dataFile, job.data !== undefined, () => tok.encode(text));
  const splits = splitTokens(Int32Array.from(ids), parseSplit(job.split ?? DISTILL_SPLIT));
  log(`data: ${dataFile ?? 'built-in demo corpus'}: ${splits.train.length.toLocaleString('en')} train, ${splits.dev.length.toLocaleString('en')} dev tokens`);
  return splits;
}

/** a fresh student of the preset shape, with the teacher's vocabulary and (unless given) its context up to 64 */
function newStudent(job: DistillJob, teacher: LanguageModel): LanguageModel {
  const arch = job.studentArch ?? 'gpt';
  const blockSize = job.studentOverrides?.blockSize ?? Math.min(teacher.contextLength, 64);
  return createModel(arch, presetConfig(arch, job.studentPreset ?? 'tiny', teacher.config.vocabSize, { blockSize, ...job.studentOverrides }), job.train.seed ?? 1337);
}

/** Runs a distillation job; returns the run's result (best dev loss = the student's plain cross-entropy). */
export async function runDistillJob(job: DistillJob, log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<RunResult> {
  const folder = new RunFolder(job.out, true, { resume: job.resume, force: job.force, inputs: [job.teacher, job.data], command: 'distill' });
  const resumed = job.resume ? resumeRun(job, folder, log) : null;
  const meta = resumed?.meta ?? {};
  const teacherPath = job.teacher ?? recordedInput(meta.teacher);
  if (!teacherPath) throw new Error('distill: give --teacher CHECKPOINT');
  const tck = loadAnyCheckpoint(teacherPath);
  if (tck.model.type === 'reward') throw new Error(`distill: --teacher ${teacherPath} is a reward model (gptlab rm train), not a language model; give a pretrained or chat model (e.g. runs/demo)`);
  const teacher = hasLora(tck.model) ? mergedCopy(tck.model) : tck.model;
  const tok = tck.tokenizer;
  const asked = job.studentOverrides?.blockSize;
  if (!resumed && typeof asked === 'number' && asked > teacher.contextLength) {
    // the teacher scores the student's windows: one longer than its context it cannot see (and a huge one exhausts memory)
    throw new UsageError(`distill: --student-block-size ${asked} is above the teacher's context (${teacher.contextLength} tokens), which scores the student's windows; give at most ${teacher.contextLength}`);
  }
  if (resumed && teacher.config.vocabSize !== resumed.model.config.vocabSize) throw new Error(`${teacherPath}: its vocabulary differs from the run's student; give the run's own --teacher`);
  const dataFile = job.data ?? (typeof meta.data === 'string' && meta.data !== 'built-in' ? recordedInput(meta.data) : undefined);
  const splits = tokenSplits(tok, dataFile, job, log);
  const student = resumed?.model ?? newStudent(job, teacher);
  log(`teacher: ${teacher.describe()} (${teacher.numParameters().toLocaleString('en')} params); student: ${student.describe()} (${student.numParameters().toLocaleString('en')} params)`);
  const tc = { ...DISTILL_DEFAULTS, ...resumed?.train, ...job.train };
  checkMemoryBounds({ ...student.config }, tc.batchSize!, MAX_RUN_BYTES, '--batch-size', optimizerStateCount(tc.optimizer, tc.optimizerOptions));
  const trainer = new Trainer(student, new DistillationObjective(teacher, splits, job.distill), tc, { tokenizer: tok });
  if (resumed) trainer.restore(resumed.trainerState, resumed.moments);
  const d = { ...DISTILL_OPTION_DEFAULTS, ...job.distill };
  const preset = job.studentPreset ?? (typeof meta.studentPreset === 'string' ? meta.studentPreset : undefined);
  return runTrainer(trainer, folder, {
    model: student, tokenizer: tok, quiet: job.quiet, log, label: 'distill',
    // inputs recorded absolute, so the run resumes from any folder (both were read from here)
    meta: { teacher: recordedPath(teacherPath), data: dataFile !== undefined ? recordedPath(dataFile) : 'built-in', split: job.split ?? DISTILL_SPLIT, temperature: d.temperature, alpha: d.alpha, studentArch: student.type, ...(preset ? { studentPreset: preset } : {}) },
  });
}
