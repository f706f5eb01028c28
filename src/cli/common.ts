// Options every compute command shares, the one place that installs the kernel backend, and the check of
// output-file flags before any work starts.
import fs from 'node:fs';
import path from 'node:path';
import type { OptTable, Parsed } from './args.js';
import { UsageError } from './args.js';
import { systemReason } from '../formats/atomic.node.js';
import { parseSplit } from '../data/dataset.js';
import { enclosingModelFolder, shownLike } from '../train/model-folder.node.js';

export const BACKEND_OPTS: OptTable = {
  backend: { type: 'string', default: 'auto', choices: ['auto', 'wasm', 'js', 'blas'], help: 'kernels: auto (default: blas where it loads, else wasm), wasm (WebAssembly SIMD), js (plain TypeScript reference) or blas (native OpenBLAS matmul; needs koffi and libopenblas)' },
  threads: { type: 'int', min: 1, max: 16, help: 'threads for the wasm and blas backends, 1–16 (default: all cores, at most 4)' },
};

export async function setupBackend(o: Parsed): Promise<string> {
  // a resumed run given neither flag goes on with the backend and threads it trained on, so that its numbers are
  // those of an uninterrupted run (sums over other threads differ in their last bits)
  const given = o._given instanceof Set ? o._given : new Set<string>();
  const own = o.resume === true && typeof o.out === 'string' && !given.has('backend') && !given.has('threads') ? recordedBackend(o.out) : null;
  const name = own ? (own.name === 'blas' ? 'auto' : own.name) : (o.backend as string);
  if (name !== 'auto' && name !== 'wasm' && name !== 'js' && name !== 'blas') throw new UsageError(`--backend must be auto, wasm, js or blas, got "${name}"`);
  const threads = own ? own.threads : (o.threads as number | undefined);
  if (threads !== undefined && (threads < 1 || threads > 16)) throw new UsageError(`--threads must be between 1 and 16, got ${threads}`);
  const { initBackend } = await import('../backend/index.node.js');
  const b = await initBackend({ backend: name, threads });
  const label = `${b.name}${b.threads > 1 ? ` × ${b.threads} threads` : ''}`;
  return own ? `${label} (as the run trained; --backend/--threads to change)` : label;
}

/**
 * The backend and threads a run in `out` trained on (its checkpoint's trainer_state.json records them); null
 * when there is none, or it is unreadable (the job then reports the checkpoint itself).
 */
function recordedBackend(out: string): { name: string; threads: number } | null {
  try {
    const b = (JSON.parse(fs.readFileSync(path.join(out, 'checkpoint', 'trainer_state.json'), 'utf8')) as { backend?: { name?: unknown; threads?: unknown } }).backend;
    const ok = b && ['js', 'wasm', 'blas'].includes(b.name as string) && Number.isInteger(b.threads) && (b.threads as number) >= 1 && (b.threads as number) <= 16;
    return ok ? { name: b.name as string, threads: b.threads as number } : null;
  } catch {
    return null;
  }
}

/**
 * A command made of subcommands (`gptlab embed train …`): runs the one `argv[0]` names on the rest. None, or
 * --help/-h, prints `usage` to stdout and returns 2 (none given) or 0 (help asked); an unknown one is a
 * UsageError naming `command` and the subcommands (`names`, as the message lists them).
 */
export async function runSubcommand(command: string, argv: string[], usage: string, subs: Record<string, (argv: string[]) => Promise<number>>, names: string): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(usage + '\n');
    return sub === undefined ? 2 : 0;
  }
  if (Object.hasOwn(subs, sub)) return subs[sub](rest);
  throw new UsageError(`${command}: unknown subcommand "${sub}" (${names})`);
}

/** prints help and returns true when asked */
export function maybeHelp(o: { help?: boolean }, text: () => string): boolean {
  if (o.help) process.stdout.write(text() + '\n');
  return !!o.help;
}

export interface OutputFileOptions {
  /** refuse a file that exists (the command's --force lifts that) */
  refuseExisting?: boolean;
  /** the command creates missing parent folders itself */
  parentMayBeMissing?: boolean;
  /** refuse an existing path that is not a regular file (a device, fifo or socket), even with --force: an atomic write would replace it */
  regularOnly?: boolean;
  /** the command's input files ([flag, path]): the output may not be one of them, even with --force */
  inputs?: [string, unknown][];
}

/** the nearest existing folder above `file` (or a file standing where a folder should be) */
export function nearestExisting(file: string): { dir: string; st: fs.Stats } | null {
  for (let d = path.dirname(path.resolve(file)); ; d = path.dirname(d)) {
    const st = statOrNull(d);
    if (st) return { dir: d, st };
    if (d === path.dirname(d)) return null;
  }
}

/** the file's stats, or null where there is none (also when a path component is a file: ENOTDIR) */
export function statOrNull(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch {
    return null;
  }
}

/**
 * What is wrong with `file`, the value of output flag `flag` (e.g. '--svg') of `command`, as one line; null when
 * it can be written: its parent folder exists, it is not itself a folder, it does not lie in a gptlab run or
 * checkpoint folder (new or not: nothing but the run's own command writes there) and, with `refuseExisting`, it
 * does not exist.
 */
export function outputFileProblem(file: string, flag: string, command: string, opts: OutputFileOptions = {}): string | null {
  const where = `${command}: ${flag} ${file}`;
  if (file === '') return `${command}: ${flag} needs a file name`;
  const st = statOrNull(file);
  if (st?.isDirectory()) return `${where}: is a folder; give a file name`;
  if (st && opts.regularOnly && !st.isFile()) return `${where}: is not a regular file (a device, fifo or socket); give a file name`;
  for (const [inFlag, input] of opts.inputs ?? []) {
    if (st && typeof input === 'string' && fs.existsSync(input) && fs.realpathSync(input) === fs.realpathSync(file)) {
      return `${where} is the ${inFlag} file, which the output would overwrite; give another ${flag}`;
    }
  }
  const home = enclosingModelFolder(path.dirname(path.resolve(file)));
  if (home && st) return `${where}: is a file of a gptlab checkpoint or run, which is never overwritten; give another path`;
  if (home) return `${where}: lies in the gptlab run or checkpoint folder ${shownLike(home, file)}, which is never written to by another command; give a path outside it`;
  if (st && opts.refuseExisting) return `${where}: exists; choose another name, or overwrite it with --force`;
  if (st) return null;
  if (opts.parentMayBeMissing) {
    const up = nearestExisting(file);
    return up && !up.st.isDirectory() ? `${where}: its folder ${path.isAbsolute(file) ? up.dir : path.relative(process.cwd(), up.dir)} is a file` : null;
  }
  const pst = statOrNull(path.dirname(path.resolve(file)));
  if (!pst) return `${where}: folder ${path.dirname(file)} does not exist`;
  if (!pst.isDirectory()) return `${where}: ${path.dirname(file)} is not a folder`;
  // a file that cannot be made there (/proc, a read-only mount) is named now, not after the work
  const probe = path.join(path.dirname(path.resolve(file)), `.gptlab-probe-${process.pid}`);
  try {
    fs.writeFileSync(probe, '');
    fs.rmSync(probe, { force: true });
    return null;
  } catch (e) {
    return `${where}: cannot write in ${path.dirname(file)} (${systemReason(e)})`;
  }
}

/** Checks --split (train/dev[/test] percentages) before any work starts: a bad one is a flag error naming `command` */
export function checkSplitFlag(split: string, command: string): void {
  try {
    parseSplit(split);
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message}`);
  }
}

/** Checks an output flag's file before any work starts (see outputFileProblem); throws a one-line UsageError. */
export function checkOutputFile(file: string, flag: string, command: string, opts: OutputFileOptions = {}): void {
  const why = outputFileProblem(file, flag, command, opts);
  if (why) throw new UsageError(why);
}

/**
 * Refuses a reward model (gptlab rm train) where `command` needs a language model: it scores responses and
 * predicts no text, so its loss, perplexity or samples would mean nothing. Throws one line pointing at rm score.
 */
export function refuseRewardModel(modelType: string, ckpt: string, command: string): void {
  if (modelType !== 'reward') return;
  throw new Error(`${command}: ${ckpt} is a reward model (gptlab rm train), which scores responses rather than predicting text; score with gptlab rm score ${ckpt} --prompt TEXT --response TEXT`);
}
