// Continuous batching (Yu et al. 2022, "Orca": iteration-level scheduling; vLLM does the same): requests
// arrive at any time and join the running batch between two decode steps instead of waiting for the whole
// batch to finish; a row that finishes (stop token, its maxNewTokens, abort) leaves at once. One decode step
// serves every running request, so N concurrent clients cost about one forward per token, not N.
//
// One iteration of the loop (then it yields to the event loop, so new requests and disconnects get in):
//   1. aborted requests leave (queued ones resolve at once with 'aborted');
//   2. rows whose window is full slide (window.ts: keep the last ⌈C/2⌉ tokens) and become "fresh";
//      queued requests are admitted first come, first served while fewer than maxBatch rows run;
//   3. the running rows take one step (one token each); the fresh rows are prefilled in a DecodeBatch of
//      their own (left-padded among themselves);
//   4. every row samples its next token with its own options, Rng and stop tokens; finished rows leave;
//   5. the fresh batch is joined below the running one (DecodeBatch.join: KV caches are concatenated along
//      the batch axis, the shorter one left-padded). For states that cannot be joined (n-gram, recurrent),
//      whenever fresh rows exist every row is prefilled again from its window instead.
//
//   t=0  A arrives            prefill [A]           → A1
//   t=1  B, C arrive          step [A]; prefill [B C] → A2, B1, C1; join → batch [A B C]
//   t=2                       step [A B C]          → A3, B2, C2 (C stops: leaves)
//
// A row produces exactly the tokens generateTokens would produce alone with the same options and seed
// (test/batcher.test.ts): the same window rule, the same sampler calls on the same Rng, and left padding
// that hides nothing a row would see alone.
import type { LanguageModel } from '../models/model.js';
import { Rng } from '../tensor/rng.js';
import { DecodeBatch, inEvalMode, tokenLogprob } from './decoder.js';
import { checkSamplingOptions, sampleNext, type SamplingOptions } from './sampling.js';
import { topLogprobs, type TopLogprob } from './logprobs.js';
import { initialWindowStart, nextWindowStart } from './window.js';
import { tick, type FinishReason } from './generate.js';

export interface BatcherOptions {
  /** most rows decoding together; default 16 */
  maxBatch?: number;
  /** most requests waiting for a row; more are refused with QueueFullError; default 256 */
  maxQueue?: number;
}

/** a produced token, as onToken sees it */
export interface BatcherToken {
  id: number;
  /** log-probability the model gave it (before temperature, top-k/p, penalties, bias) */
  logprob: number;
  /** with topLogprobs > 0: the model's most likely alternatives, most likely first */
  top?: TopLogprob[];
}

export interface BatcherRequest {
  /** non-empty token ids; a prompt longer than the context keeps its last contextLength tokens */
  promptIds: readonly number[];
  maxNewTokens: number;
  sampling?: SamplingOptions;
  /** this request's Rng seed; default 1337, as generateTokens */
  seed?: number;
  /** the request ends right after producing one of these ids (the id is part of the output) */
  stopTokens?: readonly number[];
  /** OpenAI top_logprobs: 0–20 alternatives per token; default 0 */
  topLogprobs?: number;
  /** penalise repeats over the prompt too (HF does); default true */
  penalizePrompt?: boolean;
  /** aborting ends the request at the next step with finishReason 'aborted' and the tokens so far */
  signal?: AbortSignal;
  onToken?: (t: BatcherToken) => void;
}

export interface BatcherResult {
  ids: number[];
  logprobs: number[];
  /** with topLogprobs > 0: the alternatives of each token */
  top?: TopLogprob[][];
  finishReason: FinishReason;
  promptTokens: number;
}

/** submit() when maxQueue requests are already waiting (a server answers 429) */
export class QueueFullError extends Error {
  readonly code = 'queue_full';
}

interface Row {
  req: BatcherRequest;
  ctx: number[];
  promptLen: number;
  penaltyStart: number;
  /** window start: the state holds ctx[ws, n − 1) and the last token is fed next */
  ws: number;
  rng: Rng;
  stops: Set<number>;
  result: BatcherResult;
  resolve: (r: BatcherResult) => void;
  reject: (e: unknown) => void;
}

export class ContinuousBatcher {
  readonly maxBatch: number;
  readonly maxQueue: number;
  private readonly joinable: boolean;
  private queue: Row[] = [];
  /** running rows; rows[j] is decoder row j */
  private rows: Row[] = [];
  private dec: DecodeBatch | null = null;
  private looping = false;
  /** rows taken out of `rows`/`queue` during an iteration, so a failure can still reach them */
  private inflight: Row[] = [];
  /** decode iterations run so far */
  steps = 0;

  constructor(readonly model: LanguageModel, opts: BatcherOptions = {}) {
    this.maxBatch = opts.maxBatch ?? 16;
    this.maxQueue = opts.maxQueue ?? 256;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1) throw new Error(`ContinuousBatcher: maxBatch must be a positive integer, got ${opts.maxBatch}`);
    if (!(Number.isInteger(this.maxQueue) && this.maxQueue >= 0) && this.maxQueue !== Infinity) throw new Error(`ContinuousBatcher: maxQueue must be a non-negative integer, got ${opts.maxQueue}`);
    this.joinable = DecodeBatch.canJoin(model);
  }

  /** requests decoding now */
  get running(): number {
    return this.rows.length;
  }

  /** requests waiting for a row */
  get queued(): number {
    return this.queue.length;
  }

  /** Queues a request; resolves when it ends. Bad options reject at once with one line naming the option. */
  submit(req: BatcherRequest): Promise<BatcherResult> {
    try {
      this.check(req);
    } catch (e) {
      return Promise.reject(e);
    }
    const promptTokens = req.promptIds.length;
    const result: BatcherResult = { ids: [], logprobs: [], finishReason: 'length', promptTokens, ...(req.topLogprobs ? { top: [] } : {}) };
    if (req.signal?.aborted) return Promise.resolve({ ...result, finishReason: 'aborted' });
    if (req.maxNewTokens === 0) return Promise.resolve(result);
    if (this.queue.length >= this.maxQueue) return Promise.reject(new QueueFullError(`batcher: the queue is full (${this.maxQueue} requests waiting)`));
    return new Promise<BatcherResult>((resolve, reject) => {
      this.queue.push({
        req, ctx: req.promptIds.slice(), promptLen: promptTokens, penaltyStart: req.penalizePrompt === false ? promptTokens : 0,
        ws: initialWindowStart(promptTokens, this.model.contextLength), rng: new Rng(req.seed ?? 1337),
        stops: new Set(req.stopTokens ?? []), result, resolve, reject,
      });
      if (!this.looping) void this.loop();
    });
  }

  private check(req: BatcherRequest): void {
    const V = this.model.config.vocabSize;
    if (!Array.isArray(req.promptIds) || req.promptIds.length === 0) throw new Error('batcher: promptIds must be a non-empty array of token ids');
    req.promptIds.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`batcher: promptIds[${i}] = ${id} is outside the vocabulary [0, ${V})`);
    });
    if (!Number.isInteger(req.maxNewTokens) || req.maxNewTokens < 0) throw new Error(`batcher: maxNewTokens must be a non-negative integer, got ${req.maxNewTokens}`);
    for (const id of req.stopTokens ?? []) if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`batcher: stopTokens id ${id} is outside the vocabulary [0, ${V})`);
    const k = req.topLogprobs ?? 0;
    if (!Number.isInteger(k) || k < 0 || k > 20) throw new Error(`batcher: topLogprobs must be an integer in [0, 20], got ${k}`);
    if (req.seed !== undefined && !Number.isFinite(req.seed)) throw new Error(`batcher: seed must be a number, got ${req.seed}`);
    checkSamplingOptions(req.sampling ?? {}, V);
  }

  /** runs iterations while there is work, yielding to the event loop after each */
  private async loop(): Promise<void> {
    this.looping = true;
    try {
      await tick(); // requests submitted in the same turn are admitted together, and never inside submit()
      while (this.rows.length > 0 || this.queue.length > 0) {
        try {
          inEvalMode(this.model, () => this.iterate());
        } catch (e) {
          this.failAll(e);
        }
        this.steps++;
        await tick();
      }
    } finally {
      this.looping = false;
    }
  }

  /** one decode step for every running row plus the prefill of fresh ones (see the top of this file) */
  private iterate(): void {
    this.dropAborted();
    const C = this.model.contextLength;
    const slide = this.rows.map((r) => nextWindowStart(r.ws, r.ctx.length, C) !== r.ws);
    let stay = this.rows.filter((_, j) => !slide[j]);
    let fresh = this.rows.filter((_, j) => slide[j]);
    for (const r of fresh) r.ws = nextWindowStart(r.ws, r.ctx.length, C);
    while (this.queue.length > 0 && stay.length + fresh.length < this.maxBatch) fresh.push(this.queue.shift()!);
    if (!this.joinable && fresh.length > 0 && stay.length > 0) {
      fresh = [...stay, ...fresh]; // states that cannot be joined: everyone is prefilled again from its window
      stay = [];
    }
    this.inflight = [...stay, ...fresh];
    let stayLogits: Float32Array | null = null;
    if (stay.length > 0) {
      this.dec!.selectRows(this.rows.flatMap((_, j) => (slide[j] ? [] : [j])));
      stayLogits = this.dec!.step(stay.map((r) => r.ctx[r.ctx.length - 1]));
    } else {
      this.dec?.dispose(); // every running row left: give the old cache's storage back now
      this.dec = null;
    }
    const freshDec = fresh.length > 0 ? new DecodeBatch(this.model, fresh.map((r) => r.ctx.slice(r.ws))) : null;
    const freshLogits = freshDec?.prefill() ?? null;
    const keepStay = fillGaps(this.advanceAll(stay, stayLogits)), keepFresh = fillGaps(this.advanceAll(fresh, freshLogits));
    this.dec?.selectRows(keepStay);
    freshDec?.selectRows(keepFresh);
    if (this.dec && freshDec) this.dec.join(freshDec);
    else this.dec = this.dec ?? freshDec;
    this.rows = [...keepStay.map((j) => stay[j]), ...keepFresh.map((j) => fresh[j])];
    this.inflight = [];
  }

  /** samples every row's next token from its (B, V) logits; returns the indices of rows that go on */
  private advanceAll(rows: Row[], logits: Float32Array | null): number[] {
    const V = this.model.config.vocabSize, keep: number[] = [];
    rows.forEach((r, j) => {
      try {
        if (this.advance(r, logits!.subarray(j * V, (j + 1) * V))) keep.push(j);
      } catch (e) {
        r.reject(e); // a throwing onToken ends its own request only
      }
    });
    return keep;
  }

  /** row r's next token, as generateTokens picks it; resolves the row and returns false when it ends */
  private advance(r: Row, logits: Float32Array): boolean {
    const s = r.req.sampling ?? {};
    const next = sampleNext(logits.slice(), s, r.rng, r.ctx.slice(r.penaltyStart), r.ctx.slice(r.promptLen));
    r.ctx.push(next);
    const t: BatcherToken = { id: next, logprob: tokenLogprob(logits, next) };
    if (r.req.topLogprobs) t.top = topLogprobs(logits, r.req.topLogprobs);
    r.result.ids.push(t.id);
    r.result.logprobs.push(t.logprob);
    if (t.top) r.result.top!.push(t.top);
    r.req.onToken?.(t);
    const stopped = r.stops.has(next);
    if (stopped || r.result.ids.length >= r.req.maxNewTokens) {
      r.result.finishReason = stopped ? 'stop' : 'length';
      r.resolve(r.result);
      return false;
    }
    return true;
  }

  /** aborted requests end now: queued ones with no tokens, running ones with what they have */
  private dropAborted(): void {
    const aborted = (r: Row): boolean => !!r.req.signal?.aborted;
    for (const r of [...this.queue, ...this.rows]) {
      if (!aborted(r)) continue;
      r.result.finishReason = 'aborted';
      r.resolve(r.result);
    }
    this.queue = this.queue.filter((r) => !aborted(r));
    const keep = fillGaps(this.rows.flatMap((r, j) => (aborted(r) ? [] : [j])));
    if (keep.length < this.rows.length) {
      this.dec?.selectRows(keep);
      this.rows = keep.map((j) => this.rows[j]);
    }
  }

  /** a failure of the model itself: every running request rejects with it, the queue goes on */
  private failAll(e: unknown): void {
    for (const r of new Set([...this.rows, ...this.inflight])) r.reject(e);
    this.rows = [];
    this.inflight = [];
    this.dec?.dispose();
    this.dec = null;
  }
}

/**
 * The order of the rows that stay (ascending indices `keep`) that moves the fewest of them: a row that stays
 * keeps its place, and each place left free is taken by the last of the rows beyond the new batch size, so a
 * finished row costs one move in the KV cache instead of shifting every row after it. [0, 2, 3, 4] → [0, 4, 2, 3].
 */
export function fillGaps(keep: readonly number[]): number[] {
  const n = keep.length, staying = new Set(keep);
  const tail = keep.filter((j) => j >= n);
  return Array.from({ length: n }, (_, j) => (staying.has(j) ? j : tail.pop()!));
}
