// Running generations for a request: sizing max_tokens to the context, one choice on the engine, queueing
// (one generation at a time), streaming's error handling, and the usage count. Node only (ServerResponse).
import type { ServerResponse } from 'node:http';
import type { EnginePrompt, GenerateParams, GenerateResult, OnText } from '../generate/text-engine.js';
import { ApiError, type Usage } from './openai-types.js';
import type { SamplingRequest } from './sampling-request.js';
import { QueueFullError } from './queue.js';
import { sse, startSse } from './http-out.js';
import type { ServerContext } from './context.js';

/**
 * max_tokens for this prompt: the request's (checked against the context) or a default that fits.
 * Errors: 400 invalid_prompt when the tokenizer cannot encode it, 400 context_length_exceeded.
 */
export function fitTokens(ctx: ServerContext, prompt: EnginePrompt, requested: number | undefined, param: string): number {
  const { engine, limits } = ctx;
  let promptTokens: number;
  try {
    promptTokens = engine.countTokens(prompt);
  } catch (e) {
    // e.g. a character-level model asked about characters it has never seen
    throw new ApiError(400, `The model's tokenizer cannot encode this prompt: ${(e as Error).message}`, 'invalid_request_error', param, 'invalid_prompt');
  }
  const room = engine.contextLength - promptTokens;
  if (promptTokens > limits.maxPromptTokens || room < 1) {
    throw new ApiError(400, `The prompt is ${promptTokens} tokens long; this server accepts at most ${Math.min(limits.maxPromptTokens, engine.contextLength - 1)} (the model's context is ${engine.contextLength} tokens). Please shorten your messages.`, 'invalid_request_error', param, 'context_length_exceeded');
  }
  if (requested === undefined) return Math.min(limits.defaultMaxTokens, room, limits.maxTokens);
  if (requested > room) {
    throw new ApiError(400, `This model's maximum context length is ${engine.contextLength} tokens. However, you requested ${promptTokens + requested} tokens (${promptTokens} in the prompt, ${requested} in the completion). Please reduce the prompt or the completion length.`, 'invalid_request_error', param, 'context_length_exceeded');
  }
  return requested;
}

/** one choice; a fixed seed still gives n different choices (seed + choice), each reproducible */
export function generateChoice(ctx: ServerContext, prompt: EnginePrompt, r: SamplingRequest, maxTokens: number, choice: number, onText: OnText, signal: AbortSignal): Promise<GenerateResult> {
  const params: GenerateParams = { ...r.params, maxTokens };
  if (r.params.seed !== undefined) params.seed = r.params.seed + choice;
  return ctx.engine.generate(prompt, params, onText, signal).catch((e: unknown) => {
    if (signal.aborted) return { text: '', finishReason: 'stop', promptTokens: 0, completionTokens: 0 } satisfies GenerateResult;
    throw e;
  });
}

/** queues a non-streaming job; null when the client went away */
export async function runJob<T>(ctx: ServerContext, signal: AbortSignal, job: (sig: AbortSignal) => Promise<T>): Promise<T | null> {
  let p: Promise<T>;
  try {
    p = ctx.queue.submit(job, signal);
  } catch (e) {
    throw e instanceof QueueFullError ? queueFull() : e;
  }
  try {
    const v = await p;
    return signal.aborted ? null : v;
  } catch (e) {
    if (signal.aborted) return null;
    throw e;
  }
}

/**
 * queues a streaming job: headers go out once it is accepted; a failure becomes an SSE error event. Returns
 * the usage (prompts counted once per `choicesPerPrompt` results), or null when the client left or it failed.
 */
export async function streamJob(ctx: ServerContext, res: ServerResponse, signal: AbortSignal, choicesPerPrompt: number, job: (sig: AbortSignal) => Promise<GenerateResult[]>): Promise<Usage | null> {
  if (ctx.queue.full) throw queueFull();
  startSse(res);
  try {
    const results = await ctx.queue.submit(job, signal);
    return signal.aborted ? null : usageOf(results, choicesPerPrompt);
  } catch (e) {
    if (signal.aborted) return null;
    ctx.log(`error while streaming: ${(e as Error)?.stack ?? e}`);
    sse(res, new ApiError(500, `The server had an error while generating: ${(e as Error)?.message ?? e}`, 'server_error').toJSON());
    return null;
  }
}

/** the prompt is counted once per distinct prompt, as OpenAI does for n > 1 */
export function usageOf(results: GenerateResult[], choicesPerPrompt: number): Usage {
  let prompt = 0;
  let completion = 0;
  results.forEach((g, i) => {
    if (i % choicesPerPrompt === 0) prompt += g.promptTokens;
    completion += g.completionTokens;
  });
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function queueFull(): ApiError {
  return new ApiError(429, 'The server is busy: too many requests are waiting for the model. Retry later.', 'rate_limit_error', null, 'queue_full');
}

/** a short id such as `chatcmpl-…` and the creation time in seconds */
export function responseBase(ctx: ServerContext, prefix: string): { id: string; created: number; model: string; system_fingerprint: string } {
  const id = `${prefix}-${globalThis.crypto.randomUUID().replace(/-/g, '').slice(0, 24)}`;
  return { id, created: Math.floor(Date.now() / 1000), model: ctx.engine.modelId, system_fingerprint: 'gptlab' };
}
