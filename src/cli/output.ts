// Where a model-writing command (export, lora merge) puts its output, checked before any work, and written so
// that nothing half-done stays behind: a folder --out is refused when it holds other things (unless --force,
// which writes only the command's own files into it, each atomically) and always when it is a gptlab run or
// checkpoint, the current folder, or a folder holding the input; SIGINT/SIGTERM and errors remove the temp output.
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from './args.js';
import { nearestExisting, statOrNull } from './common.js';
import { folderCreationProblem, folderWriteProblem, systemReason, writeDirAtomic, writeFileAtomic } from '../formats/atomic.node.js';
import { enclosingModelFolder, isModelFolder, isRunFolder, shownLike } from '../train/model-folder.node.js';
import { signalExitCode, within } from '../train/run-folder.node.js';

export interface OutputDirOptions {
  /** --force: write the command's files into an existing non-empty folder (others are kept) */
  force?: boolean;
  /** the input model's path: --out may not be it or a folder above it */
  input?: string;
}

/** the folder an input model belongs to as a whole: the model folder it lies in (its run, for RUN/best or RUN/merged), else itself */
function inputFolder(input: string): string {
  const abs = path.resolve(input);
  return enclosingModelFolder(path.dirname(abs)) ?? abs;
}

/**
 * Why folder `dir` (flag `flag` of `command`) cannot take the output, as one line; null when it can. Refused: the
 * current folder, a folder holding the input or lying inside it (or inside its run), inside any model folder
 * (insideModelFolder), a file, a gptlab model folder (isModelFolder), a non-empty folder without --force.
 */
export function outputDirProblem(dir: string, flag: string, command: string, opts: OutputDirOptions = {}): string | null {
  const where = `${command}: ${flag} ${dir}`;
  if (dir === '') return `${command}: ${flag} needs a folder name`;
  const abs = path.resolve(dir);
  if (abs === process.cwd()) return `${where}: is the current folder; give a new folder`;
  if (opts.input !== undefined && within(path.resolve(opts.input), abs)) return `${where}: holds the input ${opts.input}; give a new folder`;
  const home = opts.input !== undefined && statOrNull(opts.input)?.isDirectory() ? inputFolder(opts.input) : null; // a file input: see below
  if (home && within(abs, home)) {
    const what = home === path.resolve(opts.input!) ? `the input ${opts.input}` : `${shownLike(home, opts.input!)}, the ${isRunFolder(home, true) ? 'run' : 'model folder'} of the input ${opts.input}`;
    return `${where}: lies inside ${what}, which is never written to; give a folder outside it`;
  }
  const above = enclosingModelFolder(path.dirname(abs));
  if (above) return `${where}: lies inside a gptlab run or checkpoint folder (${shownLike(above, dir)}), which is never written to by another command; give a folder outside it`;
  const st = statOrNull(abs);
  if (st && !st.isDirectory()) return `${where}: exists and is not a folder`;
  if (!st) {
    const up = nearestExisting(abs);
    if (up && !up.st.isDirectory()) return `${where}: its folder ${up.dir} is a file`;
    const why = folderCreationProblem(abs);
    return why ? `${where}: cannot make this folder (${why})` : null;
  }
  if (isModelFolder(abs)) return `${where}: is a gptlab run or checkpoint folder; give a new folder (it is never overwritten)`;
  const unwritable = folderWriteProblem(abs);
  if (unwritable) return `${where}: cannot write into this folder (${unwritable}); give a folder you can write to`;
  if (fs.readdirSync(abs).length && !opts.force) return `${where}: exists and is not empty; give a new folder, or add --force to write this command's files into it (other files are kept)`;
  return null;
}

/**
 * Why a model file `file` (flag `flag` of `command`) may not be written even with --force, as one line; null
 * when it may: it is the input itself, lies inside the input's folder, or in a gptlab run or checkpoint folder
 * (whose files --force would otherwise replace: model.safetensors, log.jsonl), directly or further down; its
 * folder is judged as outputDirProblem judges an output folder.
 */
export function protectedFileProblem(file: string, flag: string, command: string, input?: string): string | null {
  const abs = path.resolve(file), where = `${command}: ${flag} ${file}`;
  if (input !== undefined && within(abs, path.resolve(input))) return `${where}: is or lies inside the input ${input}; give another path`;
  const d = path.dirname(abs);
  const home = isModelFolder(d) ? d : enclosingModelFolder(path.dirname(d));
  if (home) return `${where}: lies in the gptlab run or checkpoint folder ${shownLike(home, file)}, whose files are never overwritten; give another path`;
  return null;
}

/** Checks an output folder before any work starts (see outputDirProblem); throws a one-line UsageError. */
export function checkOutputDir(dir: string, flag: string, command: string, opts: OutputDirOptions = {}): void {
  const why = outputDirProblem(dir, flag, command, opts);
  if (why) throw new UsageError(why);
}

/** `flag target: cannot write there (reason)` for a failed write: the system's reason without its code and path */
function writeError(e: unknown, flag: string, target: string, command: string): UsageError {
  return new UsageError(`${command}: ${flag} ${target}: cannot write there (${systemReason((e as Error).cause ?? e)})`);
}

/** removes the temp files and folders this process's atomic writes left beside `target` (`target.tmp-PID-…`) */
export function removeTemps(target: string): void {
  const abs = path.resolve(target), dir = path.dirname(abs);
  const re = new RegExp(`^${path.basename(abs).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.tmp-${process.pid}-[0-9a-f]+$`);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (re.test(n)) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
}

/**
 * Runs `work` (which writes `targets` atomically) so that SIGINT or SIGTERM removes the temp output, prints
 * "<command> interrupted: nothing written" and exits 130 (SIGINT) or 143 (SIGTERM), as a run does; an error
 * also removes it before it propagates. Signals are handled whenever `work` awaits.
 */
export async function removeTempsOnStop<T>(command: string, targets: () => string[], work: () => Promise<T>): Promise<T> {
  const clean = (): void => targets().forEach(removeTemps);
  const onSignal = (signal: NodeJS.Signals): void => {
    clean();
    process.stderr.write(`${command} interrupted: nothing written\n`);
    process.exit(signalExitCode(signal));
  };
  process.on('SIGINT', onSignal), process.on('SIGTERM', onSignal);
  try {
    return await work();
  } catch (e) {
    clean();
    throw e;
  } finally {
    process.off('SIGINT', onSignal), process.off('SIGTERM', onSignal);
  }
}

/** writes `file` atomically (creating its folder); a failure becomes one line naming `flag` */
export async function writeOutputFile(file: string, data: Uint8Array | string, flag: string, command: string): Promise<void> {
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    await writeFileAtomic(file, data);
  } catch (e) {
    throw writeError(e, flag, file, command);
  }
}

/**
 * Writes `files` (relative names) into folder `dir`: a new folder appears whole (written beside it, then
 * renamed); in an existing one (--force) each file is replaced atomically and nothing else is touched.
 */
export async function writeOutputDir(dir: string, files: Record<string, Uint8Array | string>, flag: string, command: string): Promise<void> {
  try {
    fs.mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
    if (!fs.existsSync(dir)) return await writeDirAtomic(dir, files);
    for (const [name, data] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFileAtomic(path.join(dir, name), data);
    }
  } catch (e) {
    throw writeError(e, flag, dir, command);
  }
}

/** the paths whose temp output removeTemps looks for when `files` go into folder `dir` */
export function dirTargets(dir: string, files: Iterable<string>): string[] {
  return [dir, ...[...files].map((n) => path.join(dir, n))];
}
