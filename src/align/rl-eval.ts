// Held-out evaluation of a policy on prompts with verifiable answers: greedy completions (batched on the
// generation core, KV cache), or K sampled ones per prompt at the training temperature (as TRL's PPOTrainer
// samples its evaluation completions), scored by the reward function; accuracy is the share with a positive
// reward, overall and per kind of question.
import type { LanguageModel } from '../models/model.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import type { VerifiablePrompt } from '../data/verifiable.js';
import { generateBatch } from '../generate/batch.js';
import { encodePrompt, endOfTurnId } from './pairs.js';
import { checkedReward, type RewardFn } from './rewards.js';

/** how completions are drawn: samples = 0 is one greedy completion per prompt, K > 0 is K samples at temperature */
export interface EvalSampling {
  samples: number;
  temperature: number;
  /** the first row's Rng seed (row i: seed + i), so an evaluation repeats exactly */
  seed?: number;
}

export interface RewardEval {
  /** share of completions that are right (reward ≥ rightAt; default positive); greedy: one per prompt */
  accuracy: number;
  meanReward: number;
  byKind: Record<string, { right: number; total: number }>;
  /** one per prompt and sample, prompt-major (prompt i's samples at i·K … i·K + K − 1) */
  completions: string[];
}

/**
 * Completions of `items` (in batches of `batch`; greedy, or `sampling.samples` per prompt), scored; a completion
 * is right when its reward ≥ rightAt (default: > 0). byKind counts completions.
 */
export function evaluatePolicy(model: LanguageModel, tok: Tokenizer, items: readonly VerifiablePrompt[], reward: RewardFn, maxNewTokens: number, batch = 32, rewardName = 'reward function', rightAt = Number.MIN_VALUE, sampling?: EvalSampling): RewardEval {
  const end = endOfTurnId(tok);
  const K = sampling?.samples ? sampling.samples : 1, temperature = sampling?.samples ? sampling.temperature : 0;
  const rows = items.flatMap((it) => Array.from({ length: K }, () => it));
  const completions: string[] = [];
  for (let i = 0; i < rows.length; i += batch) {
    const group = rows.slice(i, i + batch).map((it) => encodePrompt(it.prompt, tok));
    const out = generateBatch(model, group, { maxNewTokens, temperature, stopTokens: [end], seed: (sampling?.seed ?? 1337) + i });
    completions.push(...out.map((r) => tok.decode(r.ids.filter((id) => id !== end))));
  }
  const byKind: RewardEval['byKind'] = {};
  let right = 0, sum = 0;
  rows.forEach((it, i) => {
    const r = checkedReward(reward, completions[i], it, rewardName);
    const k = (byKind[it.kind ?? 'all'] ??= { right: 0, total: 0 });
    k.total++;
    sum += r;
    if (r >= rightAt) right++, k.right++;
  });
  return { accuracy: rows.length ? right / rows.length : 0, meanReward: rows.length ? sum / rows.length : 0, byKind, completions };
}

/** `add 12/20, sub 9/20` */
export function byKindLine(e: RewardEval): string {
  return Object.entries(e.byKind).map(([k, v]) => `${k} ${v.right}/${v.total}`).join(', ');
}

/** `30.0% → 55.0% (+25.0 points; add 26/65 → 40/65, sub 4/35 → 15/35)`: held-out accuracy before and after, overall and per kind */
export function gainLine(before: RewardEval, after: RewardEval): string {
  const kinds = [...new Set([...Object.keys(before.byKind), ...Object.keys(after.byKind)])];
  const per = kinds.map((k) => {
    const b = before.byKind[k] ?? { right: 0, total: 0 }, a = after.byKind[k] ?? { right: 0, total: 0 };
    return `${k} ${b.right}/${b.total} → ${a.right}/${a.total}`;
  });
  const d = 100 * (after.accuracy - before.accuracy);
  return `${(100 * before.accuracy).toFixed(1)}% → ${(100 * after.accuracy).toFixed(1)}% (${d >= 0 ? '+' : ''}${d.toFixed(1)} points; ${per.join(', ')})`;
}

/**
 * The note of a run without held-out prompts: every held-out prompt was left out for want of room in the context
 * (`dev.dropped`), or there were none (a --data file of fewer than 5 prompts holds none out).
 */
export function noHeldOutNote(dev: { dropped: number }): string {
  const why = dev.dropped ? `all ${dev.dropped} held out leave too little room in the context, as noted above` : 'a fifth of a --data file is held out, so it takes 5 prompts or more';
  return `note: no held-out prompts (${why}): held-out evaluation is skipped, and best/ is the latest policy`;
}

/** the most held-out prompts (--eval-prompts) a run scores: each is a greedy completion at every evaluation */
export const MAX_EVAL_PROMPTS = 10_000;

/**
 * The note of a completion length the context cannot hold: with maxNewTokens at or above the policy's context
 * (tokens), every completion ends where the context fills (prompt + completion), so the flag's value is never
 * reached; null when it fits.
 */
export function longCompletionNote(maxNewTokens: number, context: number): string | null {
  if (maxNewTokens < context) return null;
  return `note: --max-new-tokens ${maxNewTokens} is not below the policy's context (${context} tokens, the prompt's included): completions end where the context fills`;
}

/** the note of prompts left out for want of room in the context: how many, and how many held-out ones remain scored; null when none */
export function droppedPromptsNote(train: { dropped: number }, dev: { dropped: number; kept: readonly unknown[] }, room: number, context: number): string | null {
  const n = train.dropped + dev.dropped;
  if (!n) return null;
  const held = dev.dropped ? ` (${dev.dropped} of the ${dev.dropped + dev.kept.length} held out: ${dev.kept.length} held-out prompts are scored)` : '';
  return `note: ${n} prompts leave fewer than ${room} tokens of room in the context (${context}) and were left out${held}`;
}

/**
 * Checks that the policy's tokenizer spells the built-in prompts (`what`: which ones) before any work; one line
 * saying that it is the built-in prompts it cannot encode, and what to give instead.
 */
export function checkBuiltinPrompts(command: string, what: string, items: readonly VerifiablePrompt[], tok: Tokenizer, policy: string | undefined): void {
  for (const it of items) {
    try {
      encodePrompt(it.prompt, tok);
    } catch (e) {
      throw new Error(`${command}: the built-in prompts (${what}) cannot be encoded with the vocabulary of ${policy === undefined ? 'the policy' : `--policy ${policy}`}: ${(e as Error).message.replace(/; leave the character out or replace it$/, '')}; give a chat model trained by gptlab sft (e.g. runs/chat, whose vocabulary spells them), or prompts of your own with --data`);
    }
  }
}
