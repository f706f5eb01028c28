// Rollouts for on-policy RL (GRPO, REINFORCE, PPO): chat prompts encoded with the template, G completions
// each sampled in one batch on the generation core with its KV cache (generateBatch), rewards from a reward
// function, and the (B, T) layout every loss works on — rows prompt ++ completion, right-padded, with
// next-token targets and the completion mask (position t scores token t + 1; TRL's completion_mask shifted
// by one), and per-token log-probabilities of any model (policy, reference) over that layout.
import type { LanguageModel } from '../models/model.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { noGrad, type Tensor } from '../tensor/tensor.js';
import { stepScope } from '../backend/storage.js';
import { mul } from '../tensor/elementwise.js';
import { crossEntropyPerToken } from '../tensor/nnops.js';
import { reshape } from '../tensor/shape.js';
import { generateBatch, type BatchRowResult } from '../generate/batch.js';
import type { VerifiablePrompt } from '../data/verifiable.js';
import { completionMask } from './logprobs.js';
import { encodePrompt, endOfTurnId } from './pairs.js';
import { checkedReward, type RewardFn } from './rewards.js';
import { maxOf } from '../tensor/max-of.js';

export interface SampleOptions {
  /** completions per prompt, G */
  groupSize: number;
  maxNewTokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  /** row i samples with seed + i */
  seed: number;
}

export interface Rollout {
  /** the prompt record of each row (rows of one prompt are consecutive) */
  items: VerifiablePrompt[];
  /** decoded completions without the closing <|end|> */
  texts: string[];
  rewards: Float32Array;
  /** (B, T) inputs, right-padded with 0 */
  x: Int32Array;
  /** (B, T) next-token targets, −1 past each row */
  y: Int32Array;
  /** (B·T) 1 where the position predicts a completion token */
  mask: Float32Array;
  /** rows B and columns T */
  B: number;
  T: number;
  /** completion lengths (tokens, including <|end|> when the row stopped) */
  lengths: number[];
  /** each row ended with <|end|> */
  stopped: boolean[];
}

/** Generates G completions of every prompt (batched, KV cache), decodes and scores them. Eval mode, no gradients. */
export function sampleRollout(model: LanguageModel, tok: Tokenizer, items: readonly VerifiablePrompt[], reward: RewardFn, o: SampleOptions, rewardName = 'reward function'): Rollout {
  const end = endOfTurnId(tok);
  const promptIds = items.map((it) => encodePrompt(it.prompt, tok));
  promptIds.forEach((p, i) => {
    if (p.length + 1 > model.contextLength) throw new Error(`prompt ${i} has ${p.length} tokens: no room to answer in a context of ${model.contextLength}`);
  });
  const rows = promptIds.flatMap((p) => Array.from({ length: o.groupSize }, () => p));
  const out = generateBatch(model, rows, { maxNewTokens: o.maxNewTokens, temperature: o.temperature, topK: o.topK, topP: o.topP, seed: o.seed, stopTokens: [end] });
  const rowItems = items.flatMap((it) => Array.from({ length: o.groupSize }, () => it));
  const texts = out.map((r) => tok.decode(r.ids.filter((id) => id !== end)));
  const rewards = Float32Array.from(texts, (t, i) => checkedReward(reward, t, rowItems[i], rewardName));
  return { items: rowItems, texts, rewards, ...layout(rows, out), stopped: out.map((r) => r.finishReason === 'stop') };
}

/**
 * The rollout restricted to `rows` (indices into its B rows, in the order given), its columns cut to the
 * longest of them. Throws on an index outside [0, B).
 */
export function selectRows(r: Rollout, rows: readonly number[]): Rollout {
  for (const b of rows) if (!(Number.isInteger(b) && b >= 0 && b < r.B)) throw new Error(`selectRows: row ${b} is outside [0, ${r.B})`);
  let T = 1;
  for (const b of rows) for (let t = 0; t < r.T; t++) if (r.y[b * r.T + t] >= 0) T = Math.max(T, t + 1);
  const x = new Int32Array(rows.length * T), y = new Int32Array(rows.length * T), mask = new Float32Array(rows.length * T);
  rows.forEach((b, i) => {
    x.set(r.x.subarray(b * r.T, b * r.T + T), i * T);
    y.set(r.y.subarray(b * r.T, b * r.T + T), i * T);
    mask.set(r.mask.subarray(b * r.T, b * r.T + T), i * T);
  });
  const pick = <V>(a: readonly V[]): V[] => rows.map((b) => a[b]);
  return { items: pick(r.items), texts: pick(r.texts), rewards: Float32Array.from(rows, (b) => r.rewards[b]), x, y, mask, B: rows.length, T, lengths: pick(r.lengths), stopped: pick(r.stopped) };
}

/** prompt ++ completion rows as (B, T) inputs, targets and the completion mask */
export function layout(prompts: readonly (readonly number[])[], completions: readonly BatchRowResult[]): { x: Int32Array; y: Int32Array; mask: Float32Array; B: number; T: number; lengths: number[] } {
  const B = prompts.length;
  const seqs = prompts.map((p, b) => [...p, ...completions[b].ids]);
  const T = maxOf(seqs.map((s) => s.length)) - 1;
  const x = new Int32Array(B * T), y = new Int32Array(B * T).fill(-1);
  seqs.forEach((s, b) => {
    for (let t = 0; t < s.length - 1; t++) {
      x[b * T + t] = s[t];
      y[b * T + t] = s[t + 1];
    }
  });
  const mask = completionMask(prompts.map((p) => p.length), seqs.map((s) => s.length), T);
  return { x, y, mask, B, T, lengths: completions.map((c) => c.ids.length) };
}

/**
 * per-token log-probabilities (B, T) of the rollout's targets under `model`, differentiable (0 where y = −1).
 * With a sampling temperature τ ≠ 1 they are those of softmax(logits/τ), the distribution the rollout was
 * drawn from (TRL's GRPO/PPO divide the logits by the temperature the same way).
 */
export function rolloutLogProbs(model: LanguageModel, r: Pick<Rollout, 'x' | 'y' | 'B' | 'T'>, temperature = 1): { logp: Tensor; logits: Tensor } {
  if (temperature === 1) {
    const out = model.forward(r.x, r.B, r.T, { targets: r.y, reduction: 'none' });
    return { logp: negate(out.loss!), logits: out.logits }; // loss: (B, T) nll
  }
  const logits = model.forward(r.x, r.B, r.T).logits; // (B, T, V)
  const nll = crossEntropyPerToken(mul(logits, 1 / temperature), r.y); // (B·T)
  return { logp: reshape(negate(nll), [r.B, r.T]), logits };
}

/** the same, as plain numbers, without gradients (old policy, reference) */
export function rolloutLogProbsData(model: LanguageModel, r: Pick<Rollout, 'x' | 'y' | 'B' | 'T'>, temperature = 1): Float32Array {
  const was = model.training;
  model.eval();
  try {
    return stepScope(() => noGrad(() => rolloutLogProbs(model, r, temperature).logp.data.slice()));
  } finally {
    model.train(was);
  }
}

function negate(t: Tensor): Tensor {
  return mul(t, -1);
}

/** the prompts whose encoded length leaves room for `room` new tokens in the context, and how many were dropped */
export function fitPrompts(items: readonly VerifiablePrompt[], tok: Tokenizer, context: number, room: number): { kept: VerifiablePrompt[]; dropped: number } {
  const kept = items.filter((it) => encodePrompt(it.prompt, tok).length + Math.max(1, room) <= context);
  return { kept, dropped: items.length - kept.length };
}
