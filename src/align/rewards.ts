// Reward functions for reinforcement learning with verifiable answers (GRPO, REINFORCE, PPO with a rule):
// exact match of the final answer, with numbers compared by value ("63/400" equals "0.1575", "1,000" equals
// "1000"); the final answer is the last `\boxed{…}` (DeepSeekMath / MATH convention), else the text of a
// `<|begin_of_solution|>…<|end_of_solution|>` block (the Open-Thoughts / Bespoke-Stratos template), else the
// whole completion stripped. A format reward checks that template:
//   <|begin_of_thought|> … <|end_of_thought|> <|begin_of_solution|> … <|end_of_solution|>
// Every function is pure and browser-safe; a reward is a finite number (the trainers refuse anything else).
import type { VerifiablePrompt } from '../data/verifiable.js';

/** a completion's reward given its prompt record; must return a finite number */
export type RewardFn = (completion: string, item: VerifiablePrompt) => number;

/** a reward function from a module file; `moduleUrl` (its file URL) lets a throw be named with its line */
export type ModuleRewardFn = RewardFn & { moduleUrl?: string };

/** the stack text of a thrown value; null when it has none (a thrown string) or its getter throws */
export function stackOf(e: unknown): string | null {
  try {
    const stack = (e as { stack?: unknown } | null)?.stack;
    return typeof stack === 'string' ? stack : null;
  } catch {
    return null;
  }
}

/**
 * "LINE:COLUMN" of the innermost frame of `e`'s stack that lies in the module at `url` (a file URL), as V8
 * writes frames (`at f (file:///x/r.mjs:4:12)` or `at file:///x/r.mjs:4:12`); null when none does.
 */
export function throwSite(e: unknown, url: string): string | null {
  const stack = stackOf(e);
  if (stack === null) return null;
  const escaped = url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const frame = new RegExp(`^\\s*at (?:.*\\()?${escaped}:(\\d+):(\\d+)\\)?\\s*$`);
  for (const line of stack.split('\n')) {
    const m = frame.exec(line);
    if (m) return `${m[1]}:${m[2]}`;
  }
  return null;
}

/**
 * A number written as an integer, decimal, exponent, fraction `a/b`, with thousands commas, a leading + or
 * − (also U+2212), a trailing '.' or '%' (÷100); null for anything else or a zero denominator.
 */
export function parseNumber(text: string): number | null {
  let s = text.trim().replace(/\u2212/g, '-').replace(/^\$|\$$/g, '').trim();
  if (s.endsWith('.')) s = s.slice(0, -1);
  let scale = 1;
  if (s.endsWith('%')) (scale = 0.01), (s = s.slice(0, -1).trim());
  if (/^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) s = s.replace(/,/g, '');
  const num = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  if (num.test(s)) return Number(s) * scale;
  const frac = /^([+-]?\d+)\s*\/\s*([+-]?\d+)$/.exec(s);
  if (frac && Number(frac[2]) !== 0) return (Number(frac[1]) / Number(frac[2])) * scale;
  return null;
}

/** the content of the last `\boxed{…}` (braces balanced), or null */
export function extractBoxed(text: string): string | null {
  const at = text.lastIndexOf('\\boxed{');
  if (at < 0) return null;
  let depth = 0;
  for (let i = at + 6; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(at + 7, i);
  }
  return null;
}

export const THOUGHT_TAGS = ['<|begin_of_thought|>', '<|end_of_thought|>', '<|begin_of_solution|>', '<|end_of_solution|>'] as const;

/** the text between the last <|begin_of_solution|> and the next <|end_of_solution|> (or the end), or null */
export function extractSolution(text: string): string | null {
  const at = text.lastIndexOf(THOUGHT_TAGS[2]);
  if (at < 0) return null;
  const rest = text.slice(at + THOUGHT_TAGS[2].length);
  const end = rest.indexOf(THOUGHT_TAGS[3]);
  return end < 0 ? rest : rest.slice(0, end);
}

/** the final answer of a completion: boxed, else the solution block (its boxed answer first), else the text; stripped */
export function finalAnswer(completion: string): string {
  const boxed = extractBoxed(completion);
  if (boxed !== null) return boxed.trim();
  const sol = extractSolution(completion);
  if (sol !== null) return (extractBoxed(sol) ?? sol).trim();
  return completion.trim();
}

/** two answers are equal: by value when both are numbers (relative 1e−9), else as trimmed, case-folded text without a final '.' */
export function answersMatch(predicted: string, reference: string): boolean {
  const a = parseNumber(predicted), b = parseNumber(reference);
  if (a !== null && b !== null) return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
  const norm = (s: string): string => s.trim().replace(/\.$/, '').replace(/\s+/g, ' ').toLowerCase();
  return norm(predicted) === norm(reference);
}

/** the last number written in a text (integers, decimals, fractions), or null */
export function lastNumber(text: string): string | null {
  const all = text.match(/[+-]?\d[\d,]*(\.\d+)?(\s*\/\s*\d+)?/g);
  return all ? all[all.length - 1].replace(/\s+/g, '') : null;
}

export interface MatchRewardOptions {
  /** reward of a match (default +1) */
  right?: number;
  /** reward otherwise (default −1, as the notes' example) */
  wrong?: number;
  /** 'exact' (default): the final answer must equal the reference; 'last-number': the final answer's last number must */
  extract?: 'exact' | 'last-number';
}

/** +1 when the completion's final answer matches the reference answer, −1 otherwise (configurable) */
export function exactMatchReward(completion: string, answer: string, o: MatchRewardOptions = {}): number {
  let pred: string | null = finalAnswer(completion);
  if (o.extract === 'last-number') pred = lastNumber(pred);
  return pred !== null && answersMatch(pred, answer) ? o.right ?? 1 : o.wrong ?? -1;
}

const FORMAT = /^\s*<\|begin_of_thought\|>[\s\S]*?<\|end_of_thought\|>\s*<\|begin_of_solution\|>[\s\S]*?<\|end_of_solution\|>\s*$/;

/** 1 when the completion is exactly one thought block then one solution block (whitespace around allowed), else 0 */
export function formatReward(completion: string): number {
  if (!FORMAT.test(completion)) return 0;
  return THOUGHT_TAGS.every((t) => completion.split(t).length === 2) ? 1 : 0;
}

/** a RewardFn from a name: 'exact' (±1), 'last-number' (1/0 on the last number, as the SFT set scores), 'format' */
export function namedReward(name: string): RewardFn {
  switch (name) {
    case 'exact':
      return (c, item) => exactMatchReward(c, item.answer);
    case 'last-number':
      return (c, item) => exactMatchReward(c, item.answer, { extract: 'last-number', wrong: 0 });
    case 'format':
      return (c) => formatReward(c);
    case 'exact+format':
      return (c, item) => exactMatchReward(c, item.answer) + formatReward(c);
    default:
      throw new Error(`unknown reward "${name}" (choose exact, last-number, format or exact+format)`);
  }
}

/**
 * Calls fn and checks its result: a throw, a non-finite value or one beyond ±MAX_REWARD becomes one error naming the completion (and,
 * for a module's function, the line:column in the module where it threw).
 */
export function checkedReward(fn: RewardFn, completion: string, item: VerifiablePrompt, who = 'reward function'): number {
  let r: unknown;
  try {
    r = fn(completion, item);
  } catch (e) {
    const url = (fn as ModuleRewardFn).moduleUrl, site = url ? throwSite(e, url) : null;
    throw new Error(`${who}${site ? `:${site}` : ''} threw on completion ${JSON.stringify(completion.slice(0, 60))}: ${(e as Error)?.message ?? String(e)}`);
  }
  if (r !== null && (typeof r === 'object' || typeof r === 'function') && typeof (r as { then?: unknown }).then === 'function') {
    (r as Promise<unknown>).then(undefined, () => {}); // its result is not awaited: nor is a rejection left unhandled
    throw new Error(`${who} returned a Promise for completion ${JSON.stringify(completion.slice(0, 60))}; a reward function must return a finite number synchronously (async functions are not supported)`);
  }
  if (typeof r !== 'number' || !Number.isFinite(r)) {
    throw new Error(`${who} returned ${typeof r === 'number' ? r : JSON.stringify(r) ?? String(r)} for completion ${JSON.stringify(completion.slice(0, 60))}; a reward must be a finite number`);
  }
  if (Math.abs(r) > MAX_REWARD) {
    throw new Error(`${who} returned ${r} for completion ${JSON.stringify(completion.slice(0, 60))}; a reward must lie within ±${MAX_REWARD} (the advantages' variance squares it, which float32 cannot hold beyond ~1e19): scale it down`);
  }
  return r;
}

/** the largest reward magnitude taken (checkedReward): squared in the advantages' statistics, it stays finite in float32 */
export const MAX_REWARD = 1e15;
