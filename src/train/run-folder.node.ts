// A run folder on disk, for every training command (train, sft, and the alignment objectives):
//   <out>/checkpoint/   latest state, resumable (written atomically at every evaluation and at the end)
//   <out>/best/         the model with the best held-out loss so far (what `sample`/`eval` pick by default)
//   <out>/loss.svg      loss curves
//   <out>/log.jsonl     one JSON line per evaluation and sample
// `runTrainer` drives a Trainer into such a folder with a progress bar, and saves a checkpoint before it
// stops on Ctrl-C (SIGINT) or SIGTERM (timeout, docker stop, systemd); a second signal quits at once.
import fs from 'node:fs';
import path from 'node:path';
import type { LanguageModel } from '../models/model.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { lossCurveSVG } from '../eval/plot.js';
import { folderCreationProblem, folderWriteProblem, makeDirs, writeFileAtomicSync } from '../formats/atomic.node.js';
import { ProgressBar } from './progress.node.js';
import { UsageError } from '../usage-error.js';
import { checkpointFiles } from './checkpoint.js';
import { clearRunContents, enclosingModelFolder, isCheckpointFolder, isRunFolder, shownLike } from './model-folder.node.js';
import { recoverCheckpoints, resolveCheckpointDir, saveCheckpoint } from './checkpoint.node.js';
import { trainConfigNotes, type EvalInfo, type HistoryPoint, type Trainer, type TrainOutcome } from './trainer.js';

export class RunFolder {
  /**
   * `dir` is the run folder; with `save` false nothing is written (tests). Refuses a folder that already
   * holds a run unless resuming it or `force`, which clears the old run's files at the new run's first
   * checkpoint (all that any kind of run writes there, RUN_CONTENTS, so that no file of the old run stays beside
   * the new one): until then a new run's log lines wait in memory and its plot is not drawn, so a job that fails
   * before its first checkpoint (a missing base, bad data, a bad flag, a loss that turns NaN at step 1) leaves
   * the old run as it was, and a new folder empty. A resumed run's log.jsonl loses the lines past its
   * checkpoint's step (written by a run killed between its log line and its checkpoint), which it trains again.
   * Also refuses the current folder, a folder with no run to resume, a folder that is not writable, and (unless
   * resuming) one that is or holds one of `inputs`: the models the job reads (--base, --policy, --reward,
   * --teacher), which --force would otherwise destroy, and its data files (a run's folder holds the run alone).
   * Each refusal is a UsageError (exit 2): --out, --resume or --force is at odds with the folder --out names.
   */
  constructor(readonly dir: string, readonly save = true, opts: { resume?: boolean; force?: boolean; inputs?: (string | undefined)[]; command?: string } = {}) {
    if (!save) return;
    if (opts.resume && opts.force) throw new UsageError(`${dir}: --resume continues the run there and --force overwrites it; give one of them`);
    const abs = path.resolve(dir);
    if (abs === process.cwd()) throw new UsageError(`--out ${dir}: is the current folder; give a new folder for the run`);
    const input = opts.resume ? undefined : opts.inputs?.find((i) => i !== undefined && fs.existsSync(i) && within(path.resolve(i), abs));
    if (input !== undefined) throw new UsageError(`--out ${dir}: holds the input ${input}; give a new folder (a run's folder holds the run alone)`);
    if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new UsageError(`${dir}: exists and is not a folder (--out names the run folder)`);
    refuseModelFolder(dir);
    const why = fs.existsSync(dir) ? null : folderCreationProblem(dir);
    if (why) throw new UsageError(`--out ${dir}: cannot make this folder (${why})`);
    recoverCheckpoints(dir);
    // the run's kind before the loader, which would call another command's checkpoint (a seq2seq or vision run's) unreadable
    if (opts.resume) refuseNoRun(dir, opts.command);
    const holdsRun = isRunFolder(dir);
    if (holdsRun && !opts.resume && !opts.force) {
      throw new UsageError(`${dir} already holds a run: continue it with --resume, choose another --out, or overwrite it with --force`);
    }
    const unwritable = fs.existsSync(dir) ? folderWriteProblem(dir) : null;
    if (unwritable) throw new UsageError(`--out ${dir}: cannot write into this folder (${unwritable}); give a folder you can write to`);
    this.replacing = holdsRun && !!opts.force && !opts.resume;
    this.fresh = !opts.resume;
    if (opts.resume) trimLogPastCheckpoint(dir);
  }

  /** an old run that --force replaces, not cleared yet */
  private replacing = false;
  /** a new run that has not written a checkpoint yet: the log and plot an aborted earlier run left (no checkpoint) are not its own */
  private fresh = false;
  /** a new run's log lines before its first checkpoint */
  private pendingLog: string[] = [];

  /** the files of a run that stopped before its first checkpoint, which a new run in its folder starts afresh */
  static readonly LEFTOVERS = ['log.jsonl', 'loss.svg', 'reward.svg'] as const;

  /**
   * Whether the run has files of its own here: after its first checkpoint, or at once when resuming. Only
   * then are the plot and other files drawn in the folder (they would replace the old run's, or leave a folder
   * with no checkpoint).
   */
  get started(): boolean {
    return this.save && !this.fresh;
  }

  /** at the first checkpoint the folder is made, an old run cleared and the waiting log lines written */
  private ensure(): boolean {
    if (!this.save) return false;
    if (this.replacing) {
      clearRunContents(this.dir);
      this.replacing = false;
    }
    makeDirs(this.dir);
    if (this.fresh) {
      for (const n of RunFolder.LEFTOVERS) fs.rmSync(path.join(this.dir, n), { force: true });
      this.fresh = false;
      if (this.pendingLog.length) fs.appendFileSync(path.join(this.dir, 'log.jsonl'), this.pendingLog.join(''));
      this.pendingLog = [];
    }
    return true;
  }

  get checkpointDir(): string {
    return path.join(this.dir, 'checkpoint');
  }

  get bestDir(): string {
    return path.join(this.dir, 'best');
  }

  saveCheckpoint(files: Record<string, Uint8Array | string>): void {
    if (this.ensure()) saveCheckpoint(this.checkpointDir, files);
  }

  saveBest(files: Record<string, Uint8Array | string>): void {
    if (this.ensure()) saveCheckpoint(this.bestDir, files);
  }

  /** whether this run has a best/: none before its first checkpoint (the best/ of an old run that --force replaces is not its own) */
  hasBest(): boolean {
    return !this.fresh && fs.existsSync(this.bestDir);
  }

  /**
   * One line of log.jsonl; a new run's wait in memory until its first checkpoint. Callers append an
   * evaluation's line before saving its checkpoint, so that a kill between the two loses no line (the resumed
   * run drops the line past its checkpoint and writes it again).
   */
  appendLog(record: object): void {
    if (!this.save) return;
    const line = JSON.stringify(record) + '\n';
    if (this.fresh) this.pendingLog.push(line);
    else fs.appendFileSync(path.join(this.dir, 'log.jsonl'), line);
  }

  /** loss.svg: training loss per batch, and the evaluations' train and dev losses (drawn once the run has started) */
  writePlot(history: readonly HistoryPoint[], yLabel: string): void {
    if (!this.started) return;
    const pts = (f: (p: HistoryPoint) => number | undefined, keep: (p: HistoryPoint) => boolean): [number, number][] =>
      history.filter((p) => keep(p) && f(p) !== undefined).map((p) => [p.step, f(p)!]);
    const isEval = (p: HistoryPoint): boolean => p.lr === undefined;
    const svg = lossCurveSVG(
      [
        { name: 'train (batch)', points: pts((p) => p.train, (p) => !isEval(p)) },
        { name: 'train (eval)', points: pts((p) => p.train, isEval) },
        { name: 'dev', points: pts((p) => p.dev, isEval) },
      ],
      { title: `gptlab — ${path.basename(path.resolve(this.dir))}`, xLabel: 'step', yLabel },
    );
    writeFileAtomicSync(path.join(this.dir, 'loss.svg'), svg);
  }
}

/**
 * Drops the lines of `dir`/log.jsonl whose step is past the step of `dir`/checkpoint (a run killed after
 * logging an evaluation but before its checkpoint was saved), which the resumed run trains and logs again.
 */
function trimLogPastCheckpoint(dir: string): void {
  const logFile = path.join(dir, 'log.jsonl'), stateFile = path.join(dir, 'checkpoint', 'trainer_state.json');
  if (!fs.existsSync(logFile) || !fs.existsSync(stateFile)) return;
  let step: unknown;
  try {
    step = (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { step?: unknown }).step;
  } catch {
    return; // the loader reports an unreadable state with its file
  }
  if (typeof step !== 'number') return;
  const lines = fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => l.trim());
  const kept = lines.filter((l) => {
    try {
      const s = (JSON.parse(l) as { step?: unknown }).step;
      return typeof s !== 'number' || s <= step;
    } catch {
      return false; // a line cut short by the kill
    }
  });
  if (kept.length !== lines.length) writeFileAtomicSync(logFile, kept.map((l) => l + '\n').join(''));
}

export interface RunOptions {
  model: LanguageModel;
  tokenizer: Tokenizer;
  /** stored in every checkpoint's config.json */
  meta: Record<string, unknown>;
  quiet?: boolean;
  log?: (line: string) => void;
  /** progress-bar label */
  label?: string;
}

export interface RunResult {
  outcome: TrainOutcome;
  /** for an interrupted run, the exit code its signal calls for (130 SIGINT, 143 SIGTERM) */
  exitCode?: number;
  steps: number;
  bestDevLoss: number;
  lastDevLoss: number;
  seconds: number;
  tokensPerSec: number;
  out: string;
}

/** `inner` is `outer` or lies inside it (resolved paths) */
export const within = (inner: string, outer: string): boolean => inner === outer || inner.startsWith(outer.endsWith(path.sep) ? outer : outer + path.sep);

/** the command that trains each kind a run's meta records (its objective's name), where the two differ */
const KIND_COMMANDS: Record<string, string> = {
  pretrain: 'train', reinforce: 'grpo', mlm: 'train --arch bert', classify: 'classify train', tag: 'tag train',
  seq2seq: 'seq2seq train', 'image-classification': 'vision train',
};

/**
 * which command trained a run (as typed after `gptlab`), from its checkpoint's model type and meta (what each
 * job records there); a run from before kinds were recorded is told by its meta: DPO's β, distillation's
 * teacher, SFT's base, and pretraining's none of them
 */
export function runKind(modelType: string, meta: Record<string, unknown>): string {
  if (modelType === 'reward') return 'rm train';
  if (typeof meta.kind === 'string' && meta.kind !== 'sft') return KIND_COMMANDS[meta.kind] ?? meta.kind;
  if (typeof meta.beta === 'number') return 'dpo';
  if (typeof meta.teacher === 'string') return 'distill';
  if (meta.kind === undefined && meta.base === undefined) return 'train';
  return 'sft';
}

/** the command that trained each checkpoint format other than gptlab-checkpoint (whose runs runKind tells apart) */
const FORMAT_COMMANDS: Record<string, string> = { 'gptlab-seq2seq': 'seq2seq train', 'gptlab-vision': 'vision train', 'gptlab-gan': 'gan train' };

/**
 * The checkpoint/config.json of the run in run folder `dir` as a JSON object, read before any loader (what a
 * resumed run keeps: its kind, model type, recorded inputs, LoRA); null when it is missing or not a JSON object
 * (the loader then names the problem).
 */
export function runConfig(dir: string): Record<string, unknown> | null {
  try {
    const cfg: unknown = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint', 'config.json'), 'utf8'));
    return cfg && typeof cfg === 'object' && !Array.isArray(cfg) ? (cfg as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Which command trained the run in run folder `dir`, from its checkpoint/config.json (its format, else runKind);
 * null when that file cannot be read as JSON (the loader then names the problem, a damaged run: exit 1).
 */
export function resumedRunKind(dir: string): string | null {
  const cfg = runConfig(dir);
  if (!cfg) return null;
  if (typeof cfg.format === 'string' && Object.hasOwn(FORMAT_COMMANDS, cfg.format)) return FORMAT_COMMANDS[cfg.format];
  const meta = cfg.meta && typeof cfg.meta === 'object' && !Array.isArray(cfg.meta) ? (cfg.meta as Record<string, unknown>) : {};
  return runKind(typeof cfg.model_type === 'string' ? cfg.model_type : 'gpt', meta);
}

/**
 * Refuses to resume, with `command`, a run another command trained (its optimizer state and files are that
 * command's): a UsageError (exit 2), as every flag at odds with the run it resumes.
 */
export function checkRunKind(dir: string, modelType: string, meta: Record<string, unknown>, command: string): void {
  checkKind(dir, runKind(modelType, meta), command);
}

function checkKind(dir: string, kind: string, command: string): void {
  if (kind === command) return;
  const how = kind === 'gan train' ? 'a GAN run does not resume: train a new one into another --out' : `resume it with gptlab ${kind} --resume`;
  throw new UsageError(`${command} --resume: ${dir} holds a run of gptlab ${kind}, whose state ${command} cannot continue; ${how}`);
}

/**
 * An input path (--base, --policy, --teacher, a reward model, --data) as a run records it: absolute, so that
 * the run resumes from any folder.
 */
export function recordedPath(p: string): string {
  return path.resolve(p);
}

/**
 * A path a run recorded, as a resumed run uses and shows it: relative to the current folder when it lies
 * inside it, else absolute (either names the same file from here). An older run's relative path stays as it
 * is, read against the current folder. Undefined for anything but a string.
 */
export function recordedInput(p: unknown): string | undefined {
  if (typeof p !== 'string' || !path.isAbsolute(p)) return typeof p === 'string' ? p : undefined;
  const rel = path.relative(process.cwd(), p);
  if (rel === '') return '.';
  return rel.split(/[\\/]/)[0] === '..' || path.isAbsolute(rel) ? p : rel;
}

/** whether two checkpoint paths name the same checkpoint (a run folder and its best/ do); true when either cannot be read */
export function sameCheckpoint(a: string, b: string): boolean {
  try {
    return path.resolve(resolveCheckpointDir(a)) === path.resolve(resolveCheckpointDir(b));
  } catch {
    return true;
  }
}

/**
 * Refuses, on `command --resume`, an input model flag (`flag`: --base, --teacher) naming another checkpoint than
 * the one the run started from (`recorded`, from its meta): the run's reference, teacher or starting point is
 * that one. Repeating it (or its run folder) is fine. A UsageError (exit 2): the flag is at odds with the run.
 */
export function checkSameInput(command: string, flag: string, given: string | undefined, recorded: unknown): void {
  if (given === undefined || typeof recorded !== 'string' || sameCheckpoint(given, recorded)) return;
  throw new UsageError(`${command} --resume: the run started from ${flag} ${recordedInput(recorded)!}; ${flag} ${given} cannot change it (leave ${flag} out, or start a new run)`);
}

/**
 * The note for a resumed run given another data file than it trained on (`recorded`: its meta's path, or
 * 'built-in'): training goes on with the new data, and the held-out split changes with it, so dev losses (and
 * best/, chosen by them) no longer compare with the earlier ones. Null when the data is the same or not given.
 */
export function resumeDataNote(recorded: unknown, given: string | undefined): string | null {
  if (given === undefined) return null;
  const was = typeof recorded === 'string' ? recordedInput(recorded)! : 'built-in';
  if (was === given || (was !== 'built-in' && path.resolve(was) === path.resolve(given))) return null;
  return `note: resuming with --data ${was} → ${given} (given now): training continues on it, and the held-out split changes with it, so dev scores from here on (and best/) do not compare with earlier ones`;
}

/**
 * What a run records of its training text to notice later that the file changed: its length in characters and
 * a 32-bit FNV-1a hash of its UTF-16 code units (hex). Not a security hash; a changed file is caught at once.
 */
export function textFingerprint(text: string): { dataChars: number; dataHash: string } {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return { dataChars: text.length, dataHash: h.toString(16).padStart(8, '0') };
}

/**
 * The note for a resumed run whose data file (the same path) no longer holds the text it trained on (`meta`:
 * the run's, with textFingerprint's fields; runs from before they were recorded get none): training goes on
 * with the text as it is now, and the held-out split moves with it. Null when the text is the same.
 */
export function changedTextNote(meta: Record<string, unknown> | undefined, text: string, source: string): string | null {
  if (typeof meta?.dataHash !== 'string' || typeof meta.dataChars !== 'number') return null;
  const now = textFingerprint(text);
  if (now.dataHash === meta.dataHash && now.dataChars === meta.dataChars) return null;
  return `note: ${source} changed since the run last saved (${meta.dataChars.toLocaleString('en')} → ${now.dataChars.toLocaleString('en')} characters): training continues on it as it is now, and the held-out split moves with it, so dev scores from here on (and best/) do not compare with earlier ones`;
}

/**
 * The --split a resumed run trains on: the one given now, else its recorded one (`recorded`: meta.split), else
 * `fallback` (the command's default, for a run from before the split was recorded). A change is noted: the
 * held-out part moves with it, so dev losses (and best/) no longer compare with earlier ones.
 */
export function resumedSplit(recorded: unknown, given: string | undefined, fallback: string): { split: string; note: string | null } {
  const was = typeof recorded === 'string' ? recorded : fallback;
  if (given === undefined || given === was) return { split: was, note: null };
  return { split: given, note: `note: resuming with --split ${was} → ${given} (given now): the held-out part changes with it, so dev losses from here on (and best/) do not compare with earlier ones` };
}

/**
 * Runs `encode` (which tokenizes data file `file`; undefined: built-in data) so that its error names the command
 * and the file, e.g. `sft: --data chat.jsonl: character "✓" (U+2713) is not in the vocabulary …`; `given`:
 * whether --data named the file now (else it is the resumed run's own).
 */
export function namingData<T>(command: string, file: string | undefined, given: boolean, encode: () => T): T {
  try {
    return encode();
  } catch (e) {
    if (file === undefined) throw e;
    throw new Error(`${command}: ${given ? `--data ${file}` : `${file} (the run's --data)`}: ${(e as Error).message}`);
  }
}

/**
 * Throws when run folder `dir` is a checkpoint (RUN/best, RUN/checkpoint, a model such as --base's), lies
 * inside a run or checkpoint (insideModelFolder: nothing writes there but its own command, and a run in
 * RUN/checkpoint would be deleted by that run's next checkpoint swap), or holds some other config.json, which
 * `gptlab sample DIR` would load instead of the run (resolveCheckpointDir reads DIR/config.json first). A
 * UsageError (exit 2): --out is at odds with the folder it names.
 */
export function refuseModelFolder(dir: string): void {
  const abs = path.resolve(dir), home = enclosingModelFolder(path.dirname(abs));
  const where = home ? ` inside ${isRunFolder(home, true) ? 'a run' : 'a checkpoint'} (${shownLike(home, dir)})` : '';
  if (isCheckpointFolder(abs, true)) throw new UsageError(`--out ${dir}: is a model folder${where}; a run goes in a folder of its own, choose another --out`);
  if (home) throw new UsageError(`--out ${dir}: lies${where}, a gptlab model folder that no other command writes into; choose another --out`);
  if (fs.existsSync(path.join(abs, 'config.json'))) throw new UsageError(`--out ${dir}: holds a config.json, which gptlab would read in place of the run's best/; choose another --out`);
}

/** the exit status after `signal`, as shells report it (128 + its number): SIGTERM 143, SIGPIPE 141 (a closed output, src/cli/main.ts), SIGINT 130 */
export function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? 143 : signal === 'SIGPIPE' ? 141 : 130;
}

/**
 * Stops the run at the next step on SIGINT or SIGTERM (`requested`); a second signal exits at once (130). The
 * line said on the first names what happens now (`doing`, default: the step ends and a checkpoint is saved).
 * release() removes the handlers.
 */
export class StopSignal {
  requested = false;
  /** 128 + the signal's number, as shells report it: 130 for SIGINT, 143 for SIGTERM */
  exitCode = 130;
  private readonly handler = (signal: NodeJS.Signals): void => {
    if (this.requested) process.exit(this.exitCode);
    this.requested = true;
    this.exitCode = signalExitCode(signal);
    this.say(signal === 'SIGPIPE' ? `output closed: ${this.doing}` : `interrupt: ${this.doing} (Ctrl-C again to quit at once)`);
  };
  constructor(private readonly say: (line: string) => void, private readonly doing = 'finishing this step and saving a checkpoint') {
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
  }
  release(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
  }
}

/** one line per evaluation: `step 250: train loss 1.9021, dev loss 1.9533 (best)` */
export function evalLine(e: EvalInfo): string {
  const parts: string[] = [];
  if (e.train !== undefined) parts.push(`train loss ${e.train.toFixed(4)}`);
  if (e.dev !== undefined) parts.push(`dev loss ${e.dev.toFixed(4)}`);
  else parts.push('no dev data: best/ and early stopping follow the training loss');
  for (const [k, v] of Object.entries(e.metrics ?? {})) parts.push(`${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`);
  return `step ${e.step}: ${parts.join(', ')}${e.improved ? ' (best)' : ''}`;
}

/** Runs `trainer` to its end in `folder`: progress, evaluations saved as checkpoints and best/, plot, log. */
export async function runTrainer(trainer: Trainer, folder: RunFolder, o: RunOptions): Promise<RunResult> {
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const bar = o.quiet ? null : new ProgressBar({ label: o.label ?? trainer.objective.name });
  const say = (line: string): void => (bar ? bar.log(line) : log(line));
  const files = (withTrainer: boolean, meta = o.meta): Record<string, Uint8Array | string> =>
    checkpointFiles(o.model, o.tokenizer, { trainer: withTrainer ? trainer : undefined, meta: { kind: trainer.objective.name, ...meta } });
  const stop = new StopSignal(say);
  for (const note of trainConfigNotes(trainer.config)) say(note);
  const t0 = performance.now(), startStep = trainer.state.step, startTokens = trainer.state.tokensSeen;
  let lastDev = NaN;
  let outcome: TrainOutcome;
  try {
    outcome = await trainer.run({
      onStep: (s) => bar?.update({ step: s.step, total: trainer.config.maxIters, loss: s.loss, devLoss: lastDev, tokensPerSec: s.tokensPerSec, extra: { lr: s.lr.toExponential(1) } }),
      onEval: (e) => {
        lastDev = e.selected;
        // logged, then saved, before the line is printed: whoever sees `step N:` can count on checkpoint/ holding step N
        folder.appendLog({ step: e.step, train: e.train, dev: e.dev, ...e.metrics, time: (performance.now() - t0) / 1000 });
        folder.saveCheckpoint(files(true));
        if (e.improved) folder.saveBest(files(false, { ...o.meta, step: e.step, devLoss: e.dev, trainLoss: e.train }));
        folder.writePlot(trainer.state.history, trainer.objective.lossLabel);
        bar?.pause();
        say(evalLine(e));
      },
      onSample: ({ step, text }) => {
        bar?.pause();
        say(`--- sample at step ${step} ---\n${text}\n---`);
        folder.appendLog({ step, sample: text });
      },
      shouldStop: () => stop.requested,
    });
  } finally {
    stop.release();
    bar?.done();
  }
  // a resumed run already at its --max-iters trains nothing, and writes nothing: settings given now (another
  // --split, --data, --lr) would otherwise become the run's own without a step trained on them
  const idle = trainer.state.step === startStep && startStep >= trainer.config.maxIters;
  if (!idle) {
    folder.saveCheckpoint(files(true));
    if (!folder.hasBest()) folder.saveBest(files(false));
    folder.writePlot(trainer.state.history, trainer.objective.lossLabel);
  }
  const seconds = (performance.now() - t0) / 1000;
  const tokensPerSec = (trainer.state.tokensSeen - startTokens) / seconds;
  log(idle ? nothingLeftLine(trainer.state.step, bestText(trainer)) : summaryLine(trainer, outcome, seconds, tokensPerSec, folder));
  return { outcome, exitCode: outcome === 'interrupted' ? stop.exitCode : undefined, steps: trainer.state.step - startStep, bestDevLoss: trainer.state.bestDevLoss, lastDevLoss: lastDev, seconds, tokensPerSec, out: folder.dir };
}

/** whether the run's evaluations had dev data (else best/ followed the training loss) */
function hadDev(trainer: Trainer): boolean {
  return trainer.state.history.some((p) => p.lr === undefined && p.dev !== undefined);
}

function bestText(trainer: Trainer): string {
  return Number.isFinite(trainer.state.bestDevLoss) ? `best ${hadDev(trainer) ? 'held-out' : 'training (no dev data)'} loss ${trainer.state.bestDevLoss.toFixed(4)}` : 'no evaluation yet';
}

/** the line of a resumed run already at its --max-iters: nothing was trained (`best`: its best score, in words) */
export function nothingLeftLine(step: number, best: string): string {
  return `nothing left to train: the run is at step ${step}, its --max-iters; give a larger --max-iters to train on (${best}); nothing written, the run keeps its settings`;
}

function summaryLine(trainer: Trainer, outcome: TrainOutcome, seconds: number, tokensPerSec: number, folder: RunFolder): string {
  const what = outcome === 'early-stopped' ? `early-stopped (no improvement in ${trainer.config.patience} evaluations)` : outcome;
  return (
    `${what} at step ${trainer.state.step} in ${seconds.toFixed(1)} s (${Math.round(tokensPerSec).toLocaleString('en')} tokens/s); ` +
    bestText(trainer) + (folder.save ? `; saved ${folder.dir}/{checkpoint,best,loss.svg}` : '')
  );
}

/** Throws, for --resume, when `dir` holds no run (no checkpoint/), or (given `command`) another command's run: one line naming the folder. */
export function refuseNoRun(dir: string, command?: string): void {
  if (!fs.existsSync(path.join(dir, 'checkpoint'))) {
    throw new UsageError(`--resume: ${dir} holds no run to resume (no checkpoint/ there); drop --resume to start a run, or give the run's folder with --out`);
  }
  const kind = command === undefined ? null : resumedRunKind(dir);
  if (kind !== null) checkKind(dir, kind, command!);
}
