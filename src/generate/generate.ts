// Autoregressive generation from a GPT: the model reads the context, a sampler picks the next token, repeat.
// With the KV cache, each step feeds only the newest token and attends to cached keys/values of the past;
// without it, each step re-reads the whole (cropped) context as nanoGPT's generate() does. Both crop the
// context by the same sliding-window rule (window.ts) and give the same logits, so greedy output is identical
// with and without the cache, also past the block size (test/generate.test.ts holds them to it).
import type { LanguageModel } from '../models/model.js';
import { DecodeBatch, tokenLogprob } from './decoder.js';
import { Rng } from '../tensor/rng.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { checkSamplingOptions, sampleNext, type SamplingOptions } from './sampling.js';
import { topLogprobs, type TopLogprob } from './logprobs.js';
import { initialWindowStart, nextWindowStart } from './window.js';
import { StopStringMatcher, StreamDecoder } from './stop.js';

export interface TokenGenOptions extends SamplingOptions {
  maxNewTokens: number;
  /** seeds a fresh Rng when `rng` is not given */
  seed?: number;
  rng?: Rng;
  /** generation ends right after any of these ids is produced (the id is returned but not decoded) */
  stopTokens?: readonly number[];
  /** KV cache on (default) or off */
  useCache?: boolean;
  /** penalise repeats over the prompt too (HF does); default true */
  penalizePrompt?: boolean;
  /** OpenAI top_logprobs: with k > 0 each token carries the model's k most likely alternatives; default 0 */
  topLogprobs?: number;
}

export type FinishReason = 'stop' | 'length' | 'aborted';

/** a generated token and the log-probability the model gave it (before temperature, top-k/p and penalties) */
export interface GeneratedToken {
  id: number;
  logprob: number;
  /** with opts.topLogprobs > 0: the model's most likely ids at this position, most likely first */
  top?: TopLogprob[];
}

/** Checks maxNewTokens, stopTokens and the sampling options before any work; throws one line naming the option. */
export function checkTokenGenOptions(opts: TokenGenOptions, vocabSize: number): void {
  if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 0) throw new Error(`generate: maxNewTokens must be a non-negative integer, got ${opts.maxNewTokens}`);
  for (const id of opts.stopTokens ?? []) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new Error(`generate: stopTokens id ${id} is outside the vocabulary [0, ${vocabSize})`);
  }
  const k = opts.topLogprobs ?? 0;
  if (!Number.isInteger(k) || k < 0 || k > 20) throw new Error(`generate: topLogprobs must be an integer in [0, 20], got ${k}`);
  checkSamplingOptions(opts, vocabSize);
}

/**
 * Yields new tokens one by one with their log-probabilities, on the generation core (decoder.ts) with one
 * row. Past the context window it slides by a chunk (window.ts): it keeps the last ⌈C/2⌉ tokens, recomputes
 * them once, then continues on the state; `useCache: false` re-reads exactly the same window every step.
 * Synchronous: the caller decides when to yield to the event loop. The generator's result is the finish
 * reason. Bad options throw before any work.
 */
export function* generateTokens(model: LanguageModel, prompt: readonly number[], opts: TokenGenOptions): Generator<GeneratedToken, FinishReason> {
  if (prompt.length === 0) throw new Error('generation needs at least one prompt token');
  checkTokenGenOptions(opts, model.config.vocabSize);
  const rng = opts.rng ?? new Rng(opts.seed ?? 1337);
  const useCache = opts.useCache ?? true;
  const stops = new Set(opts.stopTokens ?? []);
  const ctx = prompt.slice();
  const C = model.contextLength;
  const penaltyStart = opts.penalizePrompt === false ? prompt.length : 0;
  const wasTraining = model.training;
  model.eval();
  let dec: DecodeBatch | null = null;
  let ws = initialWindowStart(ctx.length, C);
  try {
    for (let n = 0; n < opts.maxNewTokens; n++) {
      const start = nextWindowStart(ws, ctx.length, C);
      let logits: Float32Array;
      if (dec && useCache && start === ws) logits = dec.step([ctx[ctx.length - 1]]);
      else {
        // the first window, a slide, or (no cache) every step: read ctx[start, n) afresh
        dec?.dispose();
        dec = new DecodeBatch(model, [ctx.slice(start)]);
        logits = dec.prefill();
      }
      ws = start;
      const next = sampleNext(logits.slice(), opts, rng, ctx.slice(penaltyStart), ctx.slice(prompt.length)); // sampling works on a copy
      ctx.push(next);
      const t: GeneratedToken = { id: next, logprob: tokenLogprob(logits, next) };
      if (opts.topLogprobs) t.top = topLogprobs(logits, opts.topLogprobs);
      yield t;
      if (stops.has(next)) return 'stop';
    }
    return 'length';
  } finally {
    dec?.dispose();
    model.train(wasTraining);
  }
}

/** generateTokens without the log-probabilities: the ids one by one */
export function* generateIds(model: LanguageModel, prompt: readonly number[], opts: TokenGenOptions): Generator<number, FinishReason> {
  const gen = generateTokens(model, prompt, opts);
  for (;;) {
    const r = gen.next();
    if (r.done) return r.value;
    yield r.value.id;
  }
}

export interface TextGenOptions extends TokenGenOptions {
  /** generation ends before any of these strings; they are not part of the text */
  stop?: readonly string[];
  signal?: AbortSignal;
  /** called with each new piece of text as it is produced */
  onText?: (piece: string) => void;
  /** yield to the event loop every this many tokens (servers stay responsive); 0 = never */
  yieldEvery?: number;
}

/** one turn of the event loop: setImmediate where it exists (Node), else a 0 ms timeout (browsers) */
export function tick(): Promise<void> {
  const si = (globalThis as { setImmediate?: (f: () => void) => void }).setImmediate;
  return new Promise((r) => (si ? si(r) : setTimeout(r, 0)));
}

export interface TextGenResult {
  text: string;
  ids: number[];
  /** the model's log-probability of each id */
  logprobs: number[];
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
}

/** Prompt text in, completion text out, streamed through onText, with stop strings and abort. Bad options throw before any work. */
export async function generateText(
  model: LanguageModel, tokenizer: Tokenizer, prompt: string, opts: TextGenOptions,
): Promise<TextGenResult> {
  checkTokenGenOptions(opts, model.config.vocabSize);
  const promptIds = tokenizer.encode(prompt, { allowedSpecial: 'all' });
  const stopIds = new Set(opts.stopTokens ?? []);
  const dec = new StreamDecoder((ids) => tokenizer.decode(ids.filter((i) => !stopIds.has(i))));
  const matcher = new StopStringMatcher(opts.stop ?? []);
  const ids: number[] = [];
  const logprobs: number[] = [];
  let text = '';
  const emit = (piece: string): void => {
    if (!piece) return;
    text += piece;
    opts.onText?.(piece);
  };
  const gen = generateTokens(model, promptIds.length ? promptIds : [0], opts);
  let finish: FinishReason = 'length';
  const yieldEvery = opts.yieldEvery ?? 1;
  for (;;) {
    if (opts.signal?.aborted) {
      finish = 'aborted';
      break;
    }
    const r = gen.next();
    if (r.done) {
      finish = r.value;
      break;
    }
    ids.push(r.value.id);
    logprobs.push(r.value.logprob);
    const res = matcher.push(dec.push(r.value.id));
    emit(res.text);
    if (res.stopped) {
      finish = 'stop';
      gen.return('stop');
      break;
    }
    if (yieldEvery > 0 && ids.length % yieldEvery === 0) await tick();
  }
  if (!matcher.stopped) {
    const res = matcher.push(dec.flush());
    emit(res.text);
    if (res.stopped) finish = 'stop';
    else emit(matcher.flush());
  }
  return { text, ids, logprobs, finishReason: finish, promptTokens: promptIds.length, completionTokens: ids.length };
}
