// `gptlab seq2seq train` on disk: a parallel corpus (a TSV/JSONL pair file, or the built-in Chinese→English
// grammar of src/data/parallel-corpus.ts), a Seq2seq model (src/models/seq2seq.ts) trained by the one Trainer
// with the Seq2seq objective into a run folder (src/train/run-folder.node.ts: checkpoint/, best/, loss.svg,
// log.jsonl; --resume continues the same trajectory). Seq2seq is no next-token LM, so its checkpoint folders
// hold their own small set of files, written atomically:
//   config.json          {"format": "gptlab-seq2seq", "version": 1, "model": Seq2seqConfig, "train": …, "meta": …}
//   model.safetensors    parameters (float32) under their dotted names (encoder.weight_ih_l0, attention.v, …)
//   src_vocab.json, tgt_vocab.json   the two vocabularies ({"level": "char"|"word", "tokens": […]})
//   optimizer.safetensors, trainer_state.json   (checkpoint/ only) what resuming needs
import fs from 'node:fs';
import path from 'node:path';
import { Seq2seq, validateSeq2seqConfig, type Seq2seqConfig } from '../models/seq2seq.js';
import { SPECIAL_COUNT, Seq2seqVocab, UNK, type VocabLevel } from '../models/seq2seq-vocab.js';
import { builtinParallelCorpus, guessLevel, parseParallelPairs, type ParallelPair } from '../data/parallel-corpus.js';
import { readSafetensors, toFloat32 } from '../formats/safetensors.js';
import { readTextFile } from '../formats/text-file.node.js';
import { checkStepLimit, kebab, resumeChangeNotes, Trainer, type TrainConfig, type TrainState } from './trainer.js';
import { modelToSafetensors, trainerStateFiles, validateTrainState } from './checkpoint.js';
import { readJSONFile } from './checkpoint.node.js';
import { RunFolder, evalLine, nothingLeftLine, recordedInput, recordedPath, resumeDataNote } from './run-folder.node.js';
import { ProgressBar } from './progress.node.js';
import { encodePairs, Seq2seqObjective } from './seq2seq.js';
import { UsageError } from '../usage-error.js';
import { checkResumedOptimizer } from './resumed-optimizer.js';

export const SEQ2SEQ_FORMAT = 'gptlab-seq2seq';

/** the model settings a job may choose; the vocabulary sizes come from the data */
export type Seq2seqModelOptions = Omit<Seq2seqConfig, 'vocabSize' | 'srcVocabSize'>;

export const SEQ2SEQ_MODEL_DEFAULTS: Seq2seqModelOptions = {
  blockSize: 24, embDim: 32, hidden: 64, cell: 'gru', bidirectional: true, attention: 'additive', attnDim: 32, seed: 1337,
};

/** the share of a --data file held out for dev loss and BLEU unless --dev-fraction says otherwise */
export const SEQ2SEQ_DEV_FRACTION = 0.1;

/** training defaults (src/train/trainer.ts TRAIN_DEFAULTS otherwise) */
export const SEQ2SEQ_TRAIN_DEFAULTS: Partial<TrainConfig> = {
  maxIters: 600, batchSize: 32, lr: 3e-3, minLr: 3e-4, warmupIters: 20, weightDecay: 0, gradClip: 1, evalInterval: 100, sampleAt: [],
};

export interface Seq2seqJob {
  /** pair file (TSV or JSONL); default the built-in corpus (a resumed run reuses its file) */
  data?: string;
  /** dev pair file; default a devFraction share of --data (or the built-in dev part) */
  dev?: string;
  /** share of --data held out (a resumed run keeps its own unless given) */
  devFraction?: number;
  /** set on resume: whether --data was given now (its training pairs must be spelt in the run's vocabularies) */
  dataGiven?: boolean;
  /** 'auto' (char for Chinese-looking text, else word) or a level, per side */
  srcLevel: VocabLevel | 'auto';
  tgtLevel: VocabLevel | 'auto';
  out: string;
  resume: boolean;
  force?: boolean;
  /** the model's shape; when resuming only the flags given now, which must describe the run's model */
  model: Partial<Seq2seqModelOptions>;
  /** when resuming: only the settings given now (the run's others are kept, changes noted) */
  train: Partial<TrainConfig>;
  /** dev pairs translated for BLEU at each evaluation */
  bleuSample: number;
  quiet?: boolean;
}

/** a loaded seq2seq checkpoint folder */
export interface Seq2seqCheckpoint {
  dir: string;
  model: Seq2seq;
  src: Seq2seqVocab;
  tgt: Seq2seqVocab;
  train?: Partial<TrainConfig>;
  meta: Record<string, unknown>;
  trainerState?: TrainState;
  moments?: Map<string, Float32Array>;
}

/** The files of a checkpoint folder; `trainer` adds the optimizer and trainer state for resuming. */
export function seq2seqFiles(model: Seq2seq, src: Seq2seqVocab, tgt: Seq2seqVocab, meta: Record<string, unknown>, trainer?: Trainer): Record<string, Uint8Array | string> {
  const config = { format: SEQ2SEQ_FORMAT, version: 1, model_type: 'seq2seq', model: model.config, train: trainer?.config, meta };
  const files: Record<string, Uint8Array | string> = {
    'config.json': JSON.stringify(config, null, 2) + '\n',
    'model.safetensors': modelToSafetensors(model),
    'src_vocab.json': JSON.stringify(src.toJSON()) + '\n',
    'tgt_vocab.json': JSON.stringify(tgt.toJSON()) + '\n',
  };
  return trainer ? { ...files, ...trainerStateFiles(trainer) } : files;
}

/** a checkpoint folder itself, or a run folder's best/ (checkpoint/ when `resumable`, or when there is no best/) */
export function resolveSeq2seqDir(p: string, resumable = false): string {
  if (!fs.existsSync(p)) throw new Error(`${p}: no such checkpoint folder`);
  if (!fs.statSync(p).isDirectory()) throw new Error(`${p}: is a file, not a seq2seq checkpoint (a folder made by gptlab seq2seq train, or its run folder)`);
  if (!resumable && fs.existsSync(path.join(p, 'config.json'))) return p;
  for (const sub of resumable ? ['checkpoint'] : ['best', 'checkpoint']) if (fs.existsSync(path.join(p, sub, 'config.json'))) return path.join(p, sub);
  throw new Error(`${p}: not a seq2seq checkpoint (no config.json here, nor in best/ or checkpoint/)`);
}

/** Loads and validates a checkpoint: config, vocabularies against the config, every weight present and finite. */
export function loadSeq2seq(p: string, resumable = false): Seq2seqCheckpoint {
  const dir = resolveSeq2seqDir(p, resumable);
  const cfg = readJSONFile(path.join(dir, 'config.json')) as { format?: string; model?: Seq2seqConfig; train?: Partial<TrainConfig>; meta?: Record<string, unknown> };
  if (cfg?.format !== SEQ2SEQ_FORMAT) throw new Error(`${dir}/config.json: not a seq2seq checkpoint (format ${JSON.stringify(cfg?.format)}, expected "${SEQ2SEQ_FORMAT}")`);
  try {
    validateSeq2seqConfig(cfg.model ?? ({} as Seq2seqConfig));
  } catch (e) {
    throw new Error(`${dir}/config.json: ${(e as Error).message}`);
  }
  const config = cfg.model!;
  const src = Seq2seqVocab.fromJSON(readJSONFile(path.join(dir, 'src_vocab.json')), `${dir}/src_vocab.json`);
  const tgt = Seq2seqVocab.fromJSON(readJSONFile(path.join(dir, 'tgt_vocab.json')), `${dir}/tgt_vocab.json`);
  if (src.size !== config.srcVocabSize) throw new Error(`${dir}/src_vocab.json: ${src.size} tokens, config.json says ${config.srcVocabSize}`);
  if (tgt.size !== config.vocabSize) throw new Error(`${dir}/tgt_vocab.json: ${tgt.size} tokens, config.json says ${config.vocabSize}`);
  const wfile = path.join(dir, 'model.safetensors');
  if (!fs.existsSync(wfile)) throw new Error(`${wfile}: missing`);
  const st = readSafetensors(new Uint8Array(fs.readFileSync(wfile)), wfile);
  const weights = new Map([...st.tensors].map(([k, e]) => {
    const data = toFloat32(e);
    if (!data.every(Number.isFinite)) throw new Error(`${wfile}: tensor "${k}" has a non-finite value`);
    return [k, { shape: e.shape, data }] as const;
  }));
  const model = new Seq2seq(config);
  model.loadStateDict(weights, wfile);
  const ck: Seq2seqCheckpoint = { dir, model, src, tgt, train: cfg.train, meta: cfg.meta ?? {} };
  if (resumable) {
    ck.trainerState = validateTrainState(readJSONFile(path.join(dir, 'trainer_state.json')), dir);
    const ofile = path.join(dir, 'optimizer.safetensors');
    if (!fs.existsSync(ofile)) throw new Error(`${ofile}: missing (a resumable checkpoint holds the optimizer state)`);
    ck.moments = new Map([...readSafetensors(new Uint8Array(fs.readFileSync(ofile)), ofile).tensors].map(([k, e]) => [k, toFloat32(e)]));
  }
  return ck;
}

interface Splits { train: ParallelPair[]; dev: ParallelPair[]; trainName: string; devName: string }

function loadPairs(job: Seq2seqJob, log: (l: string) => void): Splits {
  if (!job.data) {
    const b = builtinParallelCorpus(job.devFraction ?? SEQ2SEQ_DEV_FRACTION);
    log(`data: built-in Chinese→English phrase grammar: ${b.train.length} train, ${b.dev.length} dev pairs`);
    return { ...b, trainName: 'built-in', devName: 'built-in' };
  }
  let train = parseParallelPairs(readTextFile(job.data, 'pair file'), job.data), dev: ParallelPair[] = [];
  let devName = job.data;
  if (job.dev) (dev = parseParallelPairs(readTextFile(job.dev, 'dev pair file'), job.dev)), (devName = job.dev);
  else {
    const nDev = Math.floor(train.length * (job.devFraction ?? SEQ2SEQ_DEV_FRACTION));
    (dev = train.slice(train.length - nDev)), (train = train.slice(0, train.length - nDev));
  }
  log(`data: ${job.data}: ${train.length} train, ${dev.length} dev pairs`);
  return { train, dev, trainName: job.data, devName };
}

/** a flag as typed for a model setting and value: --hidden 64, --max-len 24, --unidirectional */
function shapeFlag(k: keyof Seq2seqModelOptions, v: unknown): string {
  if (k === 'bidirectional') return v ? 'a bidirectional encoder (no --unidirectional)' : '--unidirectional';
  return `--${k === 'blockSize' ? 'max-len' : kebab(k)} ${String(v)}`;
}

/**
 * A resumed run keeps its model and vocabularies: the shape flags and vocabulary levels given now must describe
 * them, else one line naming the flag and both values. Repeating the run's own is fine.
 */
function checkResumedShape(job: Seq2seqJob, ck: Seq2seqCheckpoint): void {
  const saved = ck.model.config as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(job.model) as [keyof Seq2seqModelOptions, unknown][]) {
    if (k === 'seed' || v === saved[k]) continue;
    throw new UsageError(`seq2seq train --resume: the run has ${shapeFlag(k, saved[k])}; ${shapeFlag(k, v)} cannot change it (train a new run into another --out)`);
  }
  for (const [side, level, vocab] of [['src', job.srcLevel, ck.src], ['tgt', job.tgtLevel, ck.tgt]] as const) {
    if (level !== 'auto' && level !== vocab.level) throw new UsageError(`seq2seq train --resume: the run's ${side === 'src' ? 'source' : 'target'} vocabulary is by ${vocab.level}; --${side}-level ${level} cannot change it (train a new run into another --out)`);
  }
}

/**
 * The run to resume: its checkpoint, checked against the flags given now, with its data, dev share and training
 * settings kept unless given (each change noted). Returns the checkpoint and the job as the run continues it.
 */
function resumeRun(job: Seq2seqJob, folder: RunFolder, log: (l: string) => void): { ck: Seq2seqCheckpoint; job: Seq2seqJob } {
  const ck = loadSeq2seq(folder.dir, true);
  checkResumedShape(job, ck);
  checkStepLimit('--max-iters', job.train.maxIters, ck.trainerState!.step); // before any note, as every resuming command
  job.train = checkResumedOptimizer(job.train, ck.train ?? {}, 'seq2seq train');
  const meta = ck.meta, devFraction = typeof meta.devFraction === 'number' ? meta.devFraction : SEQ2SEQ_DEV_FRACTION;
  const notes = resumeChangeNotes({ ...SEQ2SEQ_TRAIN_DEFAULTS, ...ck.train, devFraction }, { ...job.train, devFraction: job.devFraction });
  log(`resuming ${ck.dir} at step ${ck.trainerState!.step}`);
  // a --dev given now replaces the run's dev pairs (its own file, or the last share of --data): noted
  // (paths as recordedInput shows them: an absolute one as recorded, an older run's relative one as it is)
  const ownDev = typeof meta.dev === 'string' && meta.dev !== meta.data ? recordedInput(meta.dev) : undefined;
  const devNote = job.dev !== undefined && (ownDev === undefined || path.resolve(job.dev) !== path.resolve(ownDev))
    ? `note: resuming with --dev ${ownDev ?? `(the last ${devFraction} of --data)`} → ${job.dev} (given now): dev losses and BLEU from here on (and best/) do not compare with earlier ones`
    : null;
  for (const note of [...notes, resumeDataNote(meta.data, job.data), devNote]) if (note) log(note);
  const recorded = !job.data && typeof meta.data === 'string' && meta.data !== 'built-in' ? { data: recordedInput(meta.data), dev: job.dev ?? ownDev } : {};
  return { ck, job: { ...job, ...recorded, devFraction: job.devFraction ?? devFraction } };
}

/**
 * A resumed run's vocabularies are fixed: training pairs from a --data given now must be spelt in them, else one
 * line naming the flag, the file, the first unknown word (or character) and how many there are.
 */
function checkKnownPieces(pairs: readonly ParallelPair[], src: Seq2seqVocab, tgt: Seq2seqVocab, file: string): void {
  let unknown = 0, first: string | undefined;
  for (const p of pairs) {
    for (const [vocab, text, side] of [[src, p.src, 'source'], [tgt, p.tgt, 'target']] as const) {
      const ids = vocab.encode(text), pieces = vocab.pieces(text);
      ids.forEach((id, i) => {
        if (id !== UNK || pieces[i] === '<unk>') return;
        unknown++;
        first ??= `${vocab.level === 'word' ? 'word' : 'character'} ${JSON.stringify(pieces[i])} (line ${p.line}, ${side} side) is not in the run's ${side} vocabulary`;
      });
    }
  }
  if (first) throw new Error(`seq2seq train: --data ${file}: ${first} (${unknown} unknown in its training pairs); a resumed run's vocabularies are fixed: give pairs spelt in them, or train a new run into another --out`);
}

/** the model, vocabularies and trainer of a fresh run, or of the run being resumed (`ck`) */
function startRun(job: Seq2seqJob, ck: Seq2seqCheckpoint | null, d: Splits, log: (l: string) => void): { model: Seq2seq; src: Seq2seqVocab; tgt: Seq2seqVocab; trainer: Trainer; objective: Seq2seqObjective } {
  let model: Seq2seq, src: Seq2seqVocab, tgt: Seq2seqVocab;
  if (ck) {
    ({ model, src, tgt } = ck);
    if (job.dataGiven) checkKnownPieces(d.train, src, tgt, d.trainName);
  }
  else {
    const lvl = (l: VocabLevel | 'auto', texts: string[]): VocabLevel => (l === 'auto' ? guessLevel(texts) : l);
    src = Seq2seqVocab.build(d.train.map((p) => p.src), lvl(job.srcLevel, d.train.map((p) => p.src)));
    tgt = Seq2seqVocab.build(d.train.map((p) => p.tgt), lvl(job.tgtLevel, d.train.map((p) => p.tgt)));
    model = new Seq2seq({ ...SEQ2SEQ_MODEL_DEFAULTS, ...job.model, srcVocabSize: src.size, vocabSize: tgt.size });
  }
  const max = model.config.blockSize, enc = (ps: ParallelPair[], f: string) => encodePairs(ps, src, tgt, max, f);
  const objective = new Seq2seqObjective(enc(d.train, d.trainName), enc(d.dev, d.devName), tgt, job.bleuSample);
  const dropped = d.train.length - objective.train.length;
  if (d.train.length && !objective.train.length) throw new UsageError(`seq2seq train: all ${d.train.length} training pairs are longer than --max-len ${max} (source tokens, or target tokens with <eos>); raise --max-len`);
  if (dropped) log(`note: ${dropped} training pairs longer than --max-len ${max} (source tokens, or target tokens with <eos>) left out`);
  const trainer = new Trainer(model, objective, { ...SEQ2SEQ_TRAIN_DEFAULTS, ...(ck?.train ?? {}), ...job.train });
  if (ck) trainer.restore(ck.trainerState!, ck.moments!);
  const pieces = (v: Seq2seqVocab): string => `${v.pieceCount} ${v.level === 'char' ? 'characters' : 'words'} + ${SPECIAL_COUNT} special tokens`;
  log(`model: ${model.describe()}; vocabularies: source ${pieces(src)}, target ${pieces(tgt)}`);
  if (objective.bleuTokenize !== '13a') log(`BLEU (sacreBLEU tokenize ${objective.bleuTokenize}): its references contain Chinese characters, so each Chinese character is a token (as sacrebleu --tokenize zh; 13a would take an unsegmented sentence for one word)`);
  return { model, src, tgt, trainer, objective };
}

export interface Seq2seqJobResult {
  outcome: string;
  steps: number;
  bestDevLoss: number;
  /** BLEU of the last evaluation */
  bleu: number;
  seconds: number;
  out: string;
}

/** Trains (see Seq2seqJob) into the run folder, saving checkpoint/ and best/ at each evaluation. */
export async function runSeq2seqTrain(job: Seq2seqJob, log: (l: string) => void = (l) => process.stdout.write(l + '\n')): Promise<Seq2seqJobResult> {
  const folder = new RunFolder(job.out, true, { resume: job.resume, force: job.force, inputs: [job.data, job.dev], command: 'seq2seq train' });
  const resumed = job.resume ? resumeRun(job, folder, log) : null;
  if (resumed) job = { ...resumed.job, dataGiven: job.data !== undefined };
  const d = loadPairs(job, log);
  const { model, src, tgt, trainer, objective } = startRun(job, resumed?.ck ?? null, d, log);
  const recorded = (name: string): string => (name === 'built-in' && !job.data ? name : recordedPath(name));
  const meta = { kind: 'seq2seq', data: recorded(d.trainName), dev: recorded(d.devName), devFraction: job.devFraction ?? SEQ2SEQ_DEV_FRACTION };
  const bar = job.quiet ? null : new ProgressBar({ label: 'seq2seq' });
  const say = (l: string): void => (bar ? bar.log(l) : log(l));
  let stop = false, bleu = NaN, lastDev = NaN;
  const onSignal = (): void => void ((stop = true), say('interrupt: finishing this step and saving a checkpoint'));
  process.on('SIGINT', onSignal), process.on('SIGTERM', onSignal);
  const t0 = performance.now(), step0 = trainer.state.step;
  let outcome: string;
  try {
    outcome = await trainer.run({
      onStep: (s) => bar?.update({ step: s.step, total: trainer.config.maxIters, loss: s.loss, devLoss: lastDev, tokensPerSec: s.tokensPerSec }),
      onEval: (e) => {
        (lastDev = e.selected), (bleu = e.metrics?.BLEU ?? NaN);
        folder.appendLog({ step: e.step, train: e.train, dev: e.dev, ...e.metrics, time: (performance.now() - t0) / 1000 }); // before the checkpoint (RunFolder.appendLog)
        folder.saveCheckpoint(seq2seqFiles(model, src, tgt, meta, trainer));
        if (e.improved) folder.saveBest(seq2seqFiles(model, src, tgt, { ...meta, step: e.step, devLoss: e.dev, BLEU: bleu }));
        folder.writePlot(trainer.state.history, trainer.objective.lossLabel);
        bar?.pause();
        say(evalLine(e));
      },
      shouldStop: () => stop,
    });
  } finally {
    process.off('SIGINT', onSignal), process.off('SIGTERM', onSignal);
    bar?.done();
  }
  // a resumed run already at its --max-iters trains and writes nothing, as runTrainer (run-folder.node.ts)
  const idle = trainer.state.step === step0 && step0 >= trainer.config.maxIters;
  if (!idle) {
    folder.saveCheckpoint(seq2seqFiles(model, src, tgt, meta, trainer));
    if (!folder.hasBest()) folder.saveBest(seq2seqFiles(model, src, tgt, meta));
  }
  const seconds = (performance.now() - t0) / 1000;
  const which = objective.dev.length ? 'dev' : 'training (no dev pairs)';
  const best = Number.isFinite(trainer.state.bestDevLoss) ? `best ${which} loss ${trainer.state.bestDevLoss.toFixed(4)}` : 'no evaluation yet';
  if (idle) log(nothingLeftLine(step0, best));
  else log(`${outcome} at step ${trainer.state.step} in ${seconds.toFixed(1)} s; ${best}${Number.isFinite(bleu) ? `, last BLEU ${bleu.toFixed(2)}` : ''}; saved ${job.out}/{checkpoint,best,loss.svg}`);
  return { outcome, steps: trainer.state.step - step0, bestDevLoss: trainer.state.bestDevLoss, bleu, seconds, out: job.out };
}
