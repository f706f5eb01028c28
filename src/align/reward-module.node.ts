// A user's reward function from a JavaScript module (`--reward-fn FILE.mjs` / `--reward FILE.mjs`): its
// default export (or an export named `reward`) is called as reward(completion, { prompt, answer, kind })
// and must return a finite number synchronously (an async function is refused when loaded, a Promise
// returned when called); a throw or NaN stops the run with one line naming the file
// (src/align/rewards.ts checkedReward).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { namedReward, type RewardFn } from './rewards.js';
import { sameCheckpoint } from '../train/run-folder.node.js';

/** Imports FILE and returns its reward function; throws one line for a missing file or a module without one. */
export async function loadRewardModule(file: string): Promise<RewardFn> {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw new Error(`${file}: no such reward module`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}: could not load the module: ${(e as Error).message.split('\n')[0]}`);
  }
  const fn = typeof mod.default === 'function' ? mod.default : mod.reward;
  if (typeof fn !== 'function') throw new Error(`${file}: export a function (export default function (completion, { prompt, answer, kind }) { … } or export function reward)`);
  if (fn.constructor?.name === 'AsyncFunction' || fn.constructor?.name === 'AsyncGeneratorFunction') throw new Error(`${file}: the reward function is async; it must return a number synchronously (a Promise is not supported): drop "async" and compute the reward directly`);
  return fn as RewardFn;
}

/**
 * A reward by name (exact, last-number, format, exact+format) or from a .js/.mjs file. `choices` lists what
 * the calling command takes, for the error on an unknown name; a spec that looks like a path and does not
 * exist is called a missing file or folder, not an unknown name.
 */
export async function resolveReward(spec: string, choices = 'exact, last-number, format, exact+format, rule or FILE.mjs'): Promise<{ fn: RewardFn; name: string }> {
  if (/\.(m?js|cjs)$/.test(spec)) return { fn: await loadRewardModule(spec), name: spec };
  if (/[\\/]|^\./.test(spec) && !fs.existsSync(spec)) throw new Error(`${spec}: no such file or folder (a reward is ${choices})`);
  try {
    return { fn: namedReward(spec), name: spec };
  } catch {
    throw new Error(`unknown reward "${spec}" (choose ${choices})`);
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
