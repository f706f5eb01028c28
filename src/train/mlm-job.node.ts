// A BERT pretraining job on disk (`gptlab train --arch bert`): a WordPiece vocabulary trained on the text
// (or a given tokenizer file), the text cut into [CLS] … [SEP] sequences split by position into train and
// dev, and the Trainer with the masked-language-model objective (src/train/mlm.ts) in a run folder,
// resumable like every run. Evaluations log masked-token accuracy beside the unigram baseline.
import type { BertConfig } from '../models/bert-config.js';
import { BERT_PRESETS } from '../models/bert-config.js';
import { BertForMaskedLM } from '../models/bert-heads.js';
import { registerBertTypes } from '../models/bert-type.js';
import { registerModelType } from '../models/registry.js';
import { WordPieceTokenizer } from '../tokenizers/wordpiece.js';
import { parseTokenizerFile } from '../tokenizers/file.node.js';
import { readTextFile } from '../formats/text-file.node.js';
import { parseSplit } from '../data/dataset.js';
import { UsageError } from '../usage-error.js';
import { resumeChangeNotes, Trainer, TRAIN_DEFAULTS, type TrainConfig } from './trainer.js';
import { MaskedLanguageModeling, packSequences, wordPieceMasking } from './mlm.js';
import { resumableCheckpoint, type ResumableCheckpoint } from './resume.node.js';
import { resumeDataNote, resumedSplit, RunFolder, runTrainer, type RunResult } from './run-folder.node.js';
import {
  checkResumedModel, DEFAULT_SPLIT, recordedSource, validateJobTrainConfig, type JobTrainConfig,
} from './pretrain-job.node.js';
import { checkResumedOptimizer } from './resumed-optimizer.js';

/** MLM pretraining's defaults where they differ from TRAIN_DEFAULTS (BERT: AdamW, lr 1e-4 at scale; higher for tiny models) */
export const MLM_DEFAULTS: Partial<TrainConfig> = {
  maxIters: 1500, batchSize: 16, lr: 1e-3, minLr: 1e-4, warmupIters: 100, weightDecay: 0.01, evalInterval: 250, evalIters: 10, sampleAt: [],
};

export interface MlmJob {
  text: string;
  /** where the text came from, for messages and checkpoint metadata (a data file's path is recorded absolute) */
  source: string;
  out: string;
  /** a new run's preset (default tiny); on --resume only when given, and then it must describe the run's model */
  preset?: string;
  /** model settings (on --resume: only those given, which must describe the run's model) */
  overrides?: Partial<BertConfig>;
  /** WordPiece vocabulary size when no tokenizer file is given */
  vocabSize: number;
  tokenizerFile?: string;
  /**
   * train/dev/test percentages (--split): the dev share of the sequences (the last ones) is held out for the
   * dev loss. A resumed run keeps its own unless given (a change is noted). Without it, `devFraction`.
   */
  split?: string;
  /** the held-out share directly (library callers); a new run's default is DEFAULT_SPLIT's dev share */
  devFraction?: number;
  /** whole-word masking and the masking share: a resumed run's own unless given (a change is noted) */
  wholeWord?: boolean;
  maskProb?: number;
  /** trainer settings and the optimizer (default AdamW), as pretraining's; on --resume only those given */
  train: JobTrainConfig;
  /** the seed the built-in demo corpus was drawn with (recorded as meta.corpusSeed, as train records it) */
  corpusSeed?: number;
  resume: boolean;
  force?: boolean;
  quiet?: boolean;
}

/** masking settings of a run that records none (a run from before they were recorded) */
const MASKING_DEFAULTS = { wholeWord: false, maskProb: 0.15 };

/** the held-out share of a --split string */
const devShare = (split: string): number => parseSplit(split).dev;

interface MlmStart {
  model: BertForMaskedLM;
  tokenizer: WordPieceTokenizer;
  ck?: ResumableCheckpoint;
  /** what the run trains with: its split (or dev share), masking, and the notes of what changed on resume */
  split?: string;
  devFraction: number;
  wholeWord: boolean;
  maskProb: number;
  notes: string[];
}

/**
 * A resumed BERT run: refused when another command trained it, when --max-iters is below its step, or when a
 * model flag or the optimizer given now differs from the run's (exit 2, as train --resume); its split, data
 * path, masking and training settings are kept unless given now, and each change is noted.
 */
function resumeStart(job: MlmJob, folder: RunFolder): MlmStart {
  const ck = resumableCheckpoint(folder, 'train --arch bert', job.train.maxIters);
  if (!(ck.model instanceof BertForMaskedLM) || !(ck.tokenizer instanceof WordPieceTokenizer)) throw new Error(`${folder.checkpointDir}: not a BERT MLM run`);
  checkResumedModel({ ...(job.preset !== undefined ? { preset: job.preset } : {}), ...(job.overrides ?? {}) }, ck.model.type, ck.model.config as unknown as Record<string, unknown>, ck.tokenizer.vocabSize);
  const saved = ck.config.train ?? {};
  job.train = checkResumedOptimizer(job.train, saved, 'train');
  const meta = ck.config.meta ?? {};
  const recordedSplit = typeof meta.split === 'string' ? meta.split : undefined;
  const recordedDev = typeof meta.devFraction === 'number' ? meta.devFraction : recordedSplit !== undefined ? devShare(recordedSplit) : devShare(DEFAULT_SPLIT);
  let split = recordedSplit, devFraction = recordedDev;
  const splitNotes: string[] = [];
  if (job.split !== undefined) {
    const r = resumedSplit(recordedSplit, job.split, DEFAULT_SPLIT);
    split = r.split, devFraction = devShare(r.split);
    if (r.note) splitNotes.push(r.note);
  } else if (job.devFraction !== undefined && job.devFraction !== recordedDev) {
    split = undefined, devFraction = job.devFraction;
    splitNotes.push(`note: resuming with a dev share ${recordedDev} → ${job.devFraction} (given now): the held-out part changes with it, so dev losses from here on (and best/) do not compare with earlier ones`);
  }
  const masking = { wholeWord: typeof meta.wholeWord === 'boolean' ? meta.wholeWord : MASKING_DEFAULTS.wholeWord, maskProb: typeof meta.maskProb === 'number' ? meta.maskProb : MASKING_DEFAULTS.maskProb };
  const given = { wholeWord: job.wholeWord, maskProb: job.maskProb };
  const dataNote = resumeDataNote(meta.source ?? meta.data, job.source);
  const notes = [...resumeChangeNotes({ ...saved, ...masking }, { ...job.train, ...given }, { ...TRAIN_DEFAULTS, ...MLM_DEFAULTS, ...MASKING_DEFAULTS }), ...(dataNote ? [dataNote] : []), ...splitNotes];
  job.train = { ...saved, ...job.train };
  validateJobTrainConfig({ ...MLM_DEFAULTS, ...job.train });
  return {
    model: ck.model, tokenizer: ck.tokenizer, ck, split, devFraction, notes,
    wholeWord: job.wholeWord ?? masking.wholeWord, maskProb: job.maskProb ?? masking.maskProb,
  };
}

/** the model and tokenizer: the run's checkpoint when resuming, else fresh */
function start(job: MlmJob, folder: RunFolder): MlmStart {
  if (job.resume) return resumeStart(job, folder);
  const tok = job.tokenizerFile ? parseTokenizerFile(readTextFile(job.tokenizerFile, 'tokenizer file'), job.tokenizerFile) : WordPieceTokenizer.train(job.text, job.vocabSize);
  if (!(tok instanceof WordPieceTokenizer)) throw new Error(`${job.tokenizerFile}: BERT needs a WordPiece tokenizer, got ${tok.type}`);
  for (const s of ['[PAD]', '[CLS]', '[SEP]', '[MASK]']) if (tok.tokenToId(s) === undefined) throw new Error(`${job.tokenizerFile}: the WordPiece vocabulary lacks ${s}`);
  const name = job.preset ?? 'tiny';
  const preset = BERT_PRESETS[name];
  if (!preset) throw new UsageError(`unknown preset "${name}" for bert (choose from ${Object.keys(BERT_PRESETS).join(', ')})`);
  const split = job.split ?? (job.devFraction === undefined ? DEFAULT_SPLIT : undefined);
  return {
    model: new BertForMaskedLM({ ...preset, ...job.overrides, vocabSize: tok.vocabSize }, job.train.seed ?? 1337), tokenizer: tok, split,
    devFraction: split !== undefined ? devShare(split) : job.devFraction!, wholeWord: job.wholeWord ?? MASKING_DEFAULTS.wholeWord, maskProb: job.maskProb ?? MASKING_DEFAULTS.maskProb, notes: [],
  };
}

/** Pretrains BERT with MLM on job.text (see MlmJob). */
export async function runMlmJob(job: MlmJob, log: (l: string) => void = (l) => process.stdout.write(l + '\n')): Promise<RunResult> {
  registerBertTypes(registerModelType);
  if (!job.resume) validateJobTrainConfig({ ...MLM_DEFAULTS, ...job.train }); // before any work, as train --arch gpt
  const folder = new RunFolder(job.out, true, { resume: job.resume, force: job.force, command: 'train --arch bert' });
  const st = start(job, folder);
  const { model, tokenizer, ck } = st;
  const seqs = packSequences(job.text, tokenizer, model.config.blockSize);
  const nDev = Math.floor(seqs.length * st.devFraction);
  const masking = wordPieceMasking(tokenizer, st.wholeWord, st.maskProb);
  const objective = new MaskedLanguageModeling(seqs.slice(0, seqs.length - nDev), seqs.slice(seqs.length - nDev), masking, tokenizer.tokenToId('[PAD]')!);
  const trainer = new Trainer(model, objective, { ...MLM_DEFAULTS, ...job.train });
  if (ck) trainer.restore(ck.trainerState, ck.moments);
  if (ck) log(`resuming ${folder.checkpointDir} at step ${ck.trainerState.step}`);
  for (const note of st.notes) log(note);
  const c = trainer.config;
  log(`model: ${model.describe()} — ${(model.numParams() / 1e6).toFixed(2)}M parameters, WordPiece vocabulary of ${tokenizer.vocabSize}`);
  log(`data: ${job.source} — ${seqs.length} sequences of ≤ ${model.config.blockSize} pieces (train ${seqs.length - nDev}, dev ${nDev}); masking ${100 * st.maskProb}%${st.wholeWord ? ', whole words' : ''}`);
  log(`training ${c.maxIters} steps of ${c.batchSize} sequences, ${job.train.optimizer ?? 'adamw'}, lr ${c.lr} → ${c.minLr}, out ${job.out}`);
  const meta = {
    source: recordedSource(job.source), ...(st.split !== undefined ? { split: st.split } : {}), devFraction: st.devFraction, objective: 'mlm', wholeWord: st.wholeWord, maskProb: st.maskProb,
    ...(job.corpusSeed !== undefined ? { corpusSeed: job.corpusSeed } : ck && typeof ck.config.meta?.corpusSeed === 'number' ? { corpusSeed: ck.config.meta.corpusSeed } : {}),
  };
  return runTrainer(trainer, folder, { model, tokenizer, meta, quiet: job.quiet, log, label: 'mlm' });
}
