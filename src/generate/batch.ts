// Batched generation: several prompts of different lengths decoded together on the generation core
// (decoder.ts), one forward per step for the whole batch. Row i (given its own Rng, seeded with seed + i)
// produces the same tokens as generateIds(model, prompts[i], { ...opts, seed: seed + i })
// (test/generate.test.ts holds it to it). Each row returns its ids, the log-probability the model gave each
// of them, and why it ended; `padCompletions` lays rows out as (B, L) arrays with a completion mask — what
// evaluation and RL rollouts (PPO, GRPO) consume.
//
// A row that finishes (stop token or its own maxNewTokens) leaves the batch: its cache rows are dropped and,
// when every remaining row starts with pad columns, those columns are dropped too. That saves the wasted
// compute of stepping finished rows and frees context room for the rest.
//
// Context: the rows share one cache, so a row has room for blockSize − (its prompt + its pads) more tokens.
// generateIds would slide its window past blockSize (window.ts); this fixed batch does not (the continuous
// batcher does, continuous-batcher.ts), so a row that runs out of room finishes with 'length' and
// `contextFull: true` instead. Up to that point its tokens equal generateIds's. A prompt longer than blockSize is an error.
import type { LanguageModel } from '../models/model.js';
import { Rng } from '../tensor/rng.js';
import { checkSamplingOptions, sampleNext, type SamplingOptions } from './sampling.js';
import { DecodeBatch, inEvalMode, tokenLogprob } from './decoder.js';

export interface BatchRowOptions {
  maxNewTokens?: number;
  stopTokens?: readonly number[];
  /** this row's Rng seed; default opts.seed + row index */
  seed?: number;
}

export interface BatchGenOptions extends SamplingOptions {
  /** per row unless overridden in `rows` */
  maxNewTokens: number;
  /** row i's Rng is seeded with seed + i (default seed 1337, as generateIds) */
  seed?: number;
  /** a row ends right after producing any of these ids (the id is part of its output) */
  stopTokens?: readonly number[];
  /** penalise repeats over the prompt too (HF does); default true */
  penalizePrompt?: boolean;
  /** per-row overrides, indexed like `prompts` */
  rows?: readonly (BatchRowOptions | undefined)[];
  /** id fed in pad positions; it is masked, so any valid id works; default 0 */
  padId?: number;
  /** called with each new token as it is produced */
  onToken?: (row: number, id: number) => void;
}

export interface BatchRowResult {
  ids: number[];
  /** log p(ids[t] | prompt, ids[<t]) under the model's own distribution (before temperature, top-k/p, penalties) */
  logprobs: number[];
  finishReason: 'stop' | 'length';
  /** the row ran out of context (blockSize) before its maxNewTokens */
  contextFull: boolean;
}

interface Row {
  ctx: number[];
  promptLen: number;
  penaltyStart: number;
  maxNew: number;
  stops: Set<number>;
  rng: Rng;
  result: BatchRowResult;
}

function makeRows(prompts: readonly (readonly number[])[], opts: BatchGenOptions, vocabSize: number): Row[] {
  if (opts.rows && opts.rows.length !== prompts.length) throw new Error(`generateBatch: ${opts.rows.length} row options for ${prompts.length} prompts`);
  const baseSeed = opts.seed ?? 1337;
  checkSamplingOptions(opts, vocabSize);
  return prompts.map((p, i) => {
    const ro = opts.rows?.[i] ?? {};
    const maxNew = ro.maxNewTokens ?? opts.maxNewTokens;
    if (!Number.isInteger(maxNew) || maxNew < 0) throw new Error(`generateBatch: maxNewTokens of row ${i} must be a non-negative integer, got ${maxNew}`);
    return {
      ctx: p.slice(), promptLen: p.length, penaltyStart: opts.penalizePrompt === false ? p.length : 0, maxNew,
      stops: new Set(ro.stopTokens ?? opts.stopTokens ?? []), rng: new Rng(ro.seed ?? baseSeed + i),
      result: { ids: [], logprobs: [], finishReason: 'length', contextFull: false },
    };
  });
}

/** samples row r's next token from its logits (copied: sampling works in place); true while the row goes on */
function advance(r: Row, logits: Float32Array, opts: BatchGenOptions): boolean {
  const row = logits.slice();
  const next = sampleNext(row, opts, r.rng, r.ctx.slice(r.penaltyStart), r.ctx.slice(r.promptLen));
  r.ctx.push(next);
  r.result.ids.push(next);
  r.result.logprobs.push(tokenLogprob(logits, next));
  if (r.stops.has(next)) {
    r.result.finishReason = 'stop';
    return false;
  }
  return r.result.ids.length < r.maxNew;
}

/** Generates for every prompt at once; returns one result per prompt, in order. Synchronous. */
export function generateBatch(model: LanguageModel, prompts: readonly (readonly number[])[], opts: BatchGenOptions): BatchRowResult[] {
  const V = model.config.vocabSize;
  const rows = makeRows(prompts, opts, V);
  // rows still generating, as indices into `rows`; decoder row j belongs to active[j]
  const active = rows.map((_, i) => i).filter((i) => rows[i].maxNew > 0);
  const dec = new DecodeBatch(model, prompts, opts.padId ?? 0);
  if (active.length === 0) return rows.map((r) => r.result);
  try {
    inEvalMode(model, () => decodeRows(dec, rows, active, opts, V));
  } finally {
    dec.dispose();
  }
  return rows.map((r) => r.result);
}

/** the decode loop of generateBatch: prefill, then a step per token until every row stops or the context is full */
function decodeRows(dec: DecodeBatch, rows: Row[], active: number[], opts: BatchGenOptions, V: number): void {
  dec.selectRows(active);
  let logits = dec.prefill(); // (B, V)
  for (;;) {
    const keep: number[] = [];
    active.forEach((i, b) => {
      const going = advance(rows[i], logits.subarray(b * V, (b + 1) * V), opts);
      opts.onToken?.(i, rows[i].ctx[rows[i].ctx.length - 1]);
      if (going) keep.push(b);
    });
    if (keep.length === 0) break;
    dec.selectRows(keep);
    active = keep.map((b) => active[b]);
    if (dec.room < 1) {
      for (const i of active) rows[i].result.contextFull = true; // finishReason stays 'length'
      break;
    }
    logits = dec.step(active.map((i) => rows[i].ctx[rows[i].ctx.length - 1]));
  }
}

/** Completions as (B, L) arrays, L the longest: ids (padId after the end), their log-probabilities, and mask 1 on generated tokens. */
export function padCompletions(rows: readonly BatchRowResult[], padId = 0): { ids: Int32Array; logprobs: Float32Array; mask: Uint8Array; B: number; L: number } {
  const B = rows.length, L = Math.max(0, ...rows.map((r) => r.ids.length));
  const ids = new Int32Array(B * L).fill(padId), logprobs = new Float32Array(B * L), mask = new Uint8Array(B * L);
  rows.forEach((r, b) => {
    ids.set(r.ids, b * L);
    logprobs.set(r.logprobs, b * L);
    mask.fill(1, b * L, b * L + r.ids.length);
  });
  return { ids, logprobs, mask, B, L };
}
