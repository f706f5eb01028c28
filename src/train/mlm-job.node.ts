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
import { Trainer, type TrainConfig } from './trainer.js';
import { MaskedLanguageModeling, packSequences, wordPieceMasking } from './mlm.js';
import { loadCheckpoint } from './checkpoint.node.js';
import { RunFolder, runTrainer, type RunResult } from './run-folder.node.js';
import { validateJobTrainConfig, type JobTrainConfig } from './pretrain-job.node.js';

/** MLM pretraining's defaults where they differ from TRAIN_DEFAULTS (BERT: AdamW, lr 1e-4 at scale; higher for tiny models) */
export const MLM_DEFAULTS: Partial<TrainConfig> = {
  maxIters: 1500, batchSize: 16, lr: 1e-3, minLr: 1e-4, warmupIters: 100, weightDecay: 0.01, evalInterval: 250, evalIters: 10, sampleAt: [],
};

export interface MlmJob {
  text: string;
  /** where the text came from, for messages and checkpoint metadata */
  source: string;
  out: string;
  preset?: string;
  overrides?: Partial<BertConfig>;
  /** WordPiece vocabulary size when no tokenizer file is given */
  vocabSize: number;
  tokenizerFile?: string;
  /** share of the sequences (the last ones) held out for the dev loss */
  devFraction: number;
  wholeWord: boolean;
  maskProb: number;
  /** trainer settings and the optimizer (default AdamW), as pretraining's */
  train: JobTrainConfig;
  resume: boolean;
  force?: boolean;
  quiet?: boolean;
}

/** the model and tokenizer: the run's checkpoint when resuming, else fresh */
function start(job: MlmJob, folder: RunFolder): { model: BertForMaskedLM; tokenizer: WordPieceTokenizer; ck?: ReturnType<typeof loadCheckpoint> } {
  if (job.resume) {
    const ck = loadCheckpoint(folder.checkpointDir, true);
    if (!ck.trainerState || !ck.moments) throw new Error(`${folder.checkpointDir}: has no optimizer/trainer state, so it cannot resume`);
    if (!(ck.model instanceof BertForMaskedLM) || !(ck.tokenizer instanceof WordPieceTokenizer)) throw new Error(`${folder.checkpointDir}: not a BERT MLM run`);
    job.train = { ...(ck.config.train ?? {}), ...job.train };
    return { model: ck.model, tokenizer: ck.tokenizer, ck };
  }
  const tok = job.tokenizerFile ? parseTokenizerFile(readTextFile(job.tokenizerFile, 'tokenizer file'), job.tokenizerFile) : WordPieceTokenizer.train(job.text, job.vocabSize);
  if (!(tok instanceof WordPieceTokenizer)) throw new Error(`${job.tokenizerFile}: BERT needs a WordPiece tokenizer, got ${tok.type}`);
  for (const s of ['[PAD]', '[CLS]', '[SEP]', '[MASK]']) if (tok.tokenToId(s) === undefined) throw new Error(`${job.tokenizerFile}: the WordPiece vocabulary lacks ${s}`);
  const name = job.preset ?? 'tiny';
  const preset = BERT_PRESETS[name];
  if (!preset) throw new Error(`unknown preset "${name}" for bert (choose from ${Object.keys(BERT_PRESETS).join(', ')})`);
  return { model: new BertForMaskedLM({ ...preset, ...job.overrides, vocabSize: tok.vocabSize }, job.train.seed ?? 1337), tokenizer: tok };
}

/** Pretrains BERT with MLM on job.text (see MlmJob). */
export async function runMlmJob(job: MlmJob, log: (l: string) => void = (l) => process.stdout.write(l + '\n')): Promise<RunResult> {
  registerBertTypes(registerModelType);
  if (!job.resume) validateJobTrainConfig({ ...MLM_DEFAULTS, ...job.train }); // before any work, as train --arch gpt
  const folder = new RunFolder(job.out, true, { resume: job.resume, force: job.force });
  const { model, tokenizer, ck } = start(job, folder);
  const seqs = packSequences(job.text, tokenizer, model.config.blockSize);
  const nDev = Math.floor(seqs.length * job.devFraction);
  const masking = wordPieceMasking(tokenizer, job.wholeWord, job.maskProb);
  const objective = new MaskedLanguageModeling(seqs.slice(0, seqs.length - nDev), seqs.slice(seqs.length - nDev), masking, tokenizer.tokenToId('[PAD]')!);
  const trainer = new Trainer(model, objective, { ...MLM_DEFAULTS, ...job.train });
  if (ck) trainer.restore(ck.trainerState!, ck.moments!);
  if (ck) log(`resuming ${folder.checkpointDir} at step ${ck.trainerState!.step}`);
  const c = trainer.config;
  log(`model: ${model.describe()} — ${(model.numParams() / 1e6).toFixed(2)}M parameters, WordPiece vocabulary of ${tokenizer.vocabSize}`);
  log(`data: ${job.source} — ${seqs.length} sequences of ≤ ${model.config.blockSize} pieces (train ${seqs.length - nDev}, dev ${nDev}); masking ${100 * job.maskProb}%${job.wholeWord ? ', whole words' : ''}`);
  log(`training ${c.maxIters} steps of ${c.batchSize} sequences, ${job.train.optimizer ?? 'adamw'}, lr ${c.lr} → ${c.minLr}, out ${job.out}`);
  return runTrainer(trainer, folder, { model, tokenizer, meta: { data: job.source, objective: 'mlm', wholeWord: job.wholeWord }, quiet: job.quiet, log, label: 'mlm' });
}
