// A user's reward function from a JavaScript module (`--reward-fn FILE.mjs` / `--reward FILE.mjs`): its
// default export (or an export named `reward`) is called as reward(completion, { prompt, answer, kind })
// and must return a finite number synchronously (an async function is refused when loaded, a Promise
// returned when called); a throw or NaN stops the run with one line naming the file, and for a throw the
// line:column in it where it threw (src/align/rewards.ts checkedReward). A module that does not load is named
// with the line (and column) of its error where Node gives it: a file problem, exit 1.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { namedReward, stackOf, throwSite, type ModuleRewardFn, type RewardFn } from './rewards.js';
import { sameCheckpoint } from '../train/run-folder.node.js';
import { UsageError } from '../usage-error.js';

/**
 * Imports FILE and returns its reward function (carrying the module's URL, for the line a throw names); throws
 * one line, a file problem (exit 1), for a missing file, a module that fails to load (naming the line of the
 * error where it can be found) or one without a synchronous reward function.
 */
export async function loadRewardModule(file: string): Promise<ModuleRewardFn> {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such reward module`);
  const abs = fs.realpathSync(path.resolve(file)); // as the loader names it in stack frames
  const url = pathToFileURL(abs).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(importFailure(file, abs, url, e));
  }
  const fn = typeof mod.default === 'function' ? mod.default : mod.reward;
  if (typeof fn !== 'function') throw new Error(`${file}: export a function (export default function (completion, { prompt, answer, kind }) { … } or export function reward)`);
  if (fn.constructor?.name === 'AsyncFunction' || fn.constructor?.name === 'AsyncGeneratorFunction') throw new Error(`${file}: the reward function is async; it must return a number synchronously (a Promise is not supported): drop "async" and compute the reward directly`);
  const user = fn as RewardFn;
  return Object.assign((completion: string, item: Parameters<RewardFn>[1]) => user(completion, item), { moduleUrl: url });
}

/** the one line of a failed import of FILE: `FILE:LINE[:COL]: could not load the module: SyntaxError: …` */
function importFailure(file: string, abs: string, url: string, e: unknown): string {
  const err = e as { name?: unknown; message?: unknown } | null;
  const msg = String(err?.message ?? e).split('\n')[0];
  const what = typeof err?.name === 'string' && err.name !== 'Error' ? `${err.name}: ${msg}` : msg;
  const header = stackHeader(e);
  if (header && header.file !== abs) return `${file}: could not load the module: ${header.file}:${header.site}: ${what}`;
  const site = header?.site ?? throwSite(e, url) ?? (err?.name === 'SyntaxError' ? checkedSyntaxSite(abs) : null);
  return `${file}${site ? `:${site}` : ''}: could not load the module: ${what}`;
}

/**
 * Where a SyntaxError's stack says it lies, as Node decorates it: a first line `file:///x/r.mjs:3` (or a path),
 * then the source line and a caret line under the error (its column). null without such a header.
 */
export function stackHeader(e: unknown): { file: string; site: string } | null {
  const stack = stackOf(e);
  return stack === null ? null : locationHeader(stack);
}

/** the file and LINE[:COL] of a `FILE:LINE` first line, its caret line giving the column; null without one */
function locationHeader(text: string): { file: string; site: string } | null {
  const lines = text.split('\n');
  const m = /^(file:\/\/\S+|\/.*|[A-Za-z]:\\.*):(\d+)$/.exec(lines[0].trim());
  if (!m) return null;
  let file = m[1];
  try {
    if (file.startsWith('file:')) file = fileURLToPath(file);
  } catch {
    return null;
  }
  const caret = lines[2] !== undefined && /^\s*\^/.test(lines[2]) ? lines[2].indexOf('^') + 1 : 0;
  return { file, site: caret ? `${m[2]}:${caret}` : m[2] };
}

/** the LINE[:COL] of a syntax error in module `abs` as `node --check` reports it (Node 20 leaves it off the error); null if not found */
function checkedSyntaxSite(abs: string): string | null {
  const r = spawnSync(process.execPath, ['--check', abs], { encoding: 'utf8', timeout: 10_000 });
  if (r.status === 0 || typeof r.stderr !== 'string') return null;
  const h = locationHeader(r.stderr);
  return h && h.file === abs ? h.site : null;
}

/**
 * A reward by name (exact, last-number, format, exact+format) or from a .js/.mjs file. `choices` lists what
 * the calling command takes, for the error on an unknown name (a UsageError, exit 2); a spec that looks like a
 * path and does not exist is called a missing file or folder, not an unknown name, and a module file that
 * cannot be used is a file problem (exit 1), both plain errors.
 */
export async function resolveReward(spec: string, choices = 'exact, last-number, format, exact+format, rule or FILE.mjs'): Promise<{ fn: RewardFn; name: string }> {
  if (/\.(m?js|cjs)$/.test(spec)) return { fn: await loadRewardModule(spec), name: spec };
  if (/[\\/]|^\./.test(spec) && !fs.existsSync(spec)) throw new Error(`${spec}: no such file or folder (a reward is ${choices})`);
  try {
    return { fn: namedReward(spec), name: spec };
  } catch {
    throw new UsageError(`unknown reward "${spec}" (choose ${choices})`);
  }
}

/** a --reward that names a file or folder (a reward model, FILE.mjs) rather than a reward by name */
export function isRewardPath(spec: string | undefined): spec is string {
  return spec !== undefined && spec !== 'rule' && (/\.(m?js|cjs)$/.test(spec) || fs.existsSync(spec));
}

/** whether --reward given now names the run's own reward: the same name, module file or reward-model checkpoint */
export function sameReward(given: string, recorded: string): boolean {
  if (given === recorded) return true;
  if (!isRewardPath(given) && !isRewardPath(recorded)) return false;
  if (/\.(m?js|cjs)$/.test(given) || /\.(m?js|cjs)$/.test(recorded)) return path.resolve(given) === path.resolve(recorded);
  return fs.existsSync(given) && fs.existsSync(recorded) ? sameCheckpoint(given, recorded) : path.resolve(given) === path.resolve(recorded);
}
