// A distillation job on disk (`gptlab distill`): a teacher checkpoint, a fresh student of a preset shape with
// the teacher's tokenizer, text (a file, or the built-in demo corpus) split into train/dev, and the
// DistillationObjective on the one Trainer in a run folder (checkpoints, best/, loss.svg, --resume).
import type { LanguageModel } from '../models/model.js';
import { createModel, presetConfig } from '../models/registry.js';
import { demoCorpus } from '../data/corpus.js';
import { parseSplit, splitTokens } from '../data/dataset.js';
import { readTextFile } from '../formats/text-file.node.js';
import { Trainer, type TrainConfig } from '../train/trainer.js';
import { loadCheckpoint } from '../train/checkpoint.node.js';
import { RunFolder, runTrainer, type RunResult } from '../train/run-folder.node.js';
import { DistillationObjective, type DistillOptions } from './distill.js';
import { hasLora, mergedCopy } from './adapt.js';
import { loadAnyCheckpoint } from './lora-checkpoint.node.js';

export const DISTILL_DEFAULTS: Partial<TrainConfig> = {
  maxIters: 500, batchSize: 12, lr: 1e-3, minLr: 1e-4, warmupIters: 50, weightDecay: 0.1, gradClip: 1, evalInterval: 100, evalIters: 10, patience: 0, seed: 1337, sampleAt: [],
};

export interface DistillJob {
  teacher?: string;
  studentArch: string;
  studentPreset: string;
  /** config overrides of the student (nLayer, blockSize, …) */
  studentOverrides?: Record<string, unknown>;
  data?: string;
  split: string;
  out: string;
  resume: boolean;
  force?: boolean;
  distill: DistillOptions;
  train: Partial<TrainConfig>;
  quiet?: boolean;
}

/** Runs a distillation job; returns the run's result (best dev loss = the student's plain cross-entropy). */
export async function runDistillJob(job: DistillJob, log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<RunResult> {
  const folder = new RunFolder(job.out, true, { resume: job.resume, force: job.force, inputs: [job.teacher] });
  const resumed = job.resume ? loadCheckpoint(folder.checkpointDir, true) : null;
  const meta = resumed?.config.meta ?? {};
  const teacherPath = job.teacher ?? (typeof meta.teacher === 'string' ? meta.teacher : undefined);
  if (!teacherPath) throw new Error('distill: give --teacher CHECKPOINT');
  const tck = loadAnyCheckpoint(teacherPath);
  const teacher = hasLora(tck.model) ? mergedCopy(tck.model) : tck.model;
  const tok = tck.tokenizer;
  const dataFile = job.data ?? (typeof meta.data === 'string' && meta.data !== 'built-in' ? meta.data : undefined);
  const text = dataFile ? readTextFile(dataFile, 'data file') : demoCorpus();
  const splits = splitTokens(Int32Array.from(tok.encode(text)), parseSplit(job.split));
  log(`data: ${dataFile ?? 'built-in demo corpus'}: ${splits.train.length.toLocaleString('en')} train, ${splits.dev.length.toLocaleString('en')} dev tokens`);
  let student: LanguageModel;
  if (resumed) student = resumed.model;
  else {
    const blockSize = job.studentOverrides?.blockSize ?? Math.min(teacher.contextLength, 64);
    student = createModel(job.studentArch, presetConfig(job.studentArch, job.studentPreset, teacher.config.vocabSize, { blockSize, ...job.studentOverrides }), job.train.seed ?? 1337);
  }
  log(`teacher: ${teacher.describe()} (${teacher.numParameters().toLocaleString('en')} params); student: ${student.describe()} (${student.numParameters().toLocaleString('en')} params)`);
  const trainer = new Trainer(student, new DistillationObjective(teacher, splits, job.distill), { ...DISTILL_DEFAULTS, ...(resumed?.config.train ?? {}), ...job.train }, { tokenizer: tok });
  if (resumed) trainer.restore(resumed.trainerState!, resumed.moments!);
  return runTrainer(trainer, folder, {
    model: student, tokenizer: tok, quiet: job.quiet, log, label: 'distill',
    meta: { teacher: teacherPath, data: dataFile ?? 'built-in', temperature: job.distill.temperature ?? 2, alpha: job.distill.alpha ?? 0.5 },
  });
}
