// Batched generation: several prompts of different lengths decoded together, one forward per step for the
// whole batch. Prompts are left-padded to the longest so that every row's newest token sits in the same
// column; `padding` hides the pad keys and makes each row's positions count from its first real token, so
// row i sees exactly what it would see alone and (given its own Rng, seeded with seed + i) produces the same
// tokens as generateIds(model, prompts[i], { ...opts, seed: seed + i }) (test/generate.test.ts holds it to it).
//
//   prompts [a b c d], [e f]     →  prefill  [a b c d]  padding 0     step 1  [x]   step 2  [y] ...
//                                            [_ _ e f]  padding 2             [z]           [w]
//
// A row that finishes (stop token or its own maxNewTokens) leaves the batch: its cache rows are dropped and,
// when every remaining row starts with pad columns, those columns are dropped too. That saves the wasted
// compute of stepping finished rows and frees context room for the rest.
//
// Context: the rows share one cache, so a row has room for blockSize − (its prompt + its pads) more tokens.
// generateIds would slide its window past blockSize by recomputing; a batch cannot (each row would need a
// different crop), so a row that runs out of room finishes with 'length' and `contextFull: true` instead.
// Up to that point its tokens equal generateIds's. A prompt longer than blockSize is an error.
import type { LanguageModel } from '../models/model.js';
import { Rng } from '../tensor/rng.js';
import { noGrad } from '../tensor/tensor.js';
import { sampleNext, type SamplingOptions } from './sampling.js';

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
  finishReason: 'stop' | 'length';
  /** the row ran out of context (blockSize) before its maxNewTokens */
  contextFull: boolean;
}

/** Generates for every prompt at once; returns one result per prompt, in order. Synchronous. */
export function generateBatch(model: LanguageModel, prompts: readonly (readonly number[])[], opts: BatchGenOptions): BatchRowResult[] {
  const { vocabSize } = model.config;
  const blockSize = model.contextLength;
  const padId = opts.padId ?? 0;
  if (!Number.isInteger(padId) || padId < 0 || padId >= vocabSize) throw new Error(`generateBatch: padId ${padId} is outside the vocabulary [0, ${vocabSize})`);
  if (opts.rows && opts.rows.length !== prompts.length) {
    throw new Error(`generateBatch: ${opts.rows.length} row options for ${prompts.length} prompts`);
  }
  const baseSeed = opts.seed ?? 1337;
  const rows = prompts.map((p, i) => {
    if (p.length === 0) throw new Error(`generateBatch: prompt ${i} is empty; generation needs at least one prompt token`);
    if (p.length > blockSize) throw new Error(`generateBatch: prompt ${i} has ${p.length} tokens, more than the block size ${blockSize}`);
    const ro = opts.rows?.[i] ?? {};
    const maxNew = ro.maxNewTokens ?? opts.maxNewTokens;
    if (!Number.isInteger(maxNew) || maxNew < 0) throw new Error(`generateBatch: maxNewTokens of row ${i} must be a non-negative integer, got ${maxNew}`);
    return {
      ctx: p.slice(),
      penaltyStart: opts.penalizePrompt === false ? p.length : 0,
      maxNew,
      stops: new Set(ro.stopTokens ?? opts.stopTokens ?? []),
      rng: new Rng(ro.seed ?? baseSeed + i),
      result: { ids: [] as number[], finishReason: 'length' as 'stop' | 'length', contextFull: false },
    };
  });
  // rows still generating, as indices into `rows`; cache row j belongs to active[j]
  let active = rows.map((_, i) => i).filter((i) => rows[i].maxNew > 0);
  if (active.length === 0) return rows.map((r) => r.result);

  const wasTraining = model.training;
  model.eval();
  try {
    const cache = model.createState(active.length);
    // prefill: left-pad to the longest prompt
    const T = Math.max(...active.map((i) => rows[i].ctx.length));
    let padding = Int32Array.from(active, (i) => T - rows[i].ctx.length);
    let feed = new Int32Array(active.length * T).fill(padId); // (B, T)
    active.forEach((i, b) => feed.set(rows[i].ctx, b * T + padding[b]));
    let feedT = T;
    for (;;) {
      const B = active.length;
      const logits = noGrad(() => model.forward(feed, B, feedT, { state: cache, lastOnly: true, padding }).logits); // (B, 1, V)
      const keep: number[] = [];
      active.forEach((i, b) => {
        const r = rows[i];
        const row = logits.data.slice(b * vocabSize, (b + 1) * vocabSize); // sampleNext works in place
        const next = sampleNext(row, opts, r.rng, r.ctx.slice(r.penaltyStart));
        r.ctx.push(next);
        r.result.ids.push(next);
        opts.onToken?.(i, next);
        if (r.stops.has(next)) r.result.finishReason = 'stop';
        else if (r.result.ids.length < r.maxNew) keep.push(b);
      });
      if (keep.length === 0) break;
      if (keep.length < B) {
        cache.selectRows(keep);
        active = keep.map((b) => active[b]);
        padding = Int32Array.from(keep, (b) => padding[b]);
        const shared = Math.min(...padding);
        if (shared > 0) {
          cache.dropPrefix(shared);
          padding = padding.map((p) => p - shared);
        }
      }
      if (cache.length + 1 > blockSize) {
        for (const i of active) rows[i].result.contextFull = true; // finishReason stays 'length'
        break;
      }
      feed = Int32Array.from(active, (i) => rows[i].ctx[rows[i].ctx.length - 1]); // (B, 1)
      feedT = 1;
    }
  } finally {
    model.train(wasTraining);
  }
  return rows.map((r) => r.result);
}
