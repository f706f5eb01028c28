// POST /v1/completions (legacy): every prompt × n choices in one queued job, answered as one JSON object or
// as a stream of `text_completion` events ending with `data: [DONE]`. Node only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GenerateResult, TokenLogprob } from '../generate/text-engine.js';
import type { TextCompletion } from './openai-types.js';
import { parseCompletionRequest, type CompletionRequest } from './openai-request.js';
import { asBody } from './request-fields.js';
import { readJson } from './body.js';
import { endStream, jsonTemplate, sendJson, sse, sseJson } from './http-out.js';
import { fitTokens, generateChoice, responseBase, runJob, streamJob, usageOf } from './jobs.js';
import { completionLogprobs } from './logprobs.js';
import type { ServerContext } from './context.js';

/** called per choice before it starts; returns the choice's text callback */
type OnChoice = (index: number, prompt: string) => (piece: string, tokens?: TokenLogprob[]) => void;

/** Answers one legacy completion request; throws ApiError (400/413/429) for the client to see. */
export async function completions(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const r = parseCompletionRequest(asBody(await readJson(req, ctx.limits.maxBodyBytes)), { ...ctx.limits, vocabSize: ctx.engine.vocabSize });
  const maxTokens = r.prompts.map((p, i) => fitTokens(ctx, p, r.maxTokens, r.prompts.length > 1 ? `prompt[${i}]` : 'prompt'));
  if (r.stream) return streamCompletions(ctx, res, signal, r, maxTokens);
  const finals: { index: number; g: GenerateResult }[] = [];
  const results = await runJob(ctx, signal, (sig) => eachChoice(ctx, r, maxTokens, sig, () => () => {}, (index, g) => finals.push({ index, g })));
  if (!results) return;
  const completion: TextCompletion = {
    ...responseBase(ctx, 'cmpl'),
    object: 'text_completion',
    choices: finals.map(({ index, g }) => ({
      index, text: (r.echo ? r.prompts[Math.floor(index / r.n)] : '') + g.text,
      logprobs: r.logprobs !== null ? completionLogprobs(g.tokens ?? []) : null, finish_reason: g.finishReason,
    })),
    usage: usageOf(results, r.n),
  };
  sendJson(res, 200, completion);
}

/** runs every prompt × n choices in order; `done` sees each finished one */
async function eachChoice(ctx: ServerContext, r: CompletionRequest, maxTokens: number[], sig: AbortSignal, onChoice: OnChoice, done: (index: number, g: GenerateResult) => void): Promise<GenerateResult[]> {
  const out: GenerateResult[] = [];
  for (let p = 0; p < r.prompts.length; p++) {
    for (let i = 0; i < r.n && !sig.aborted; i++) {
      const index = p * r.n + i;
      const g = await generateChoice(ctx, r.prompts[p], r, maxTokens[p], i, onChoice(index, r.prompts[p]), sig);
      if (sig.aborted) break;
      done(index, g);
      out.push(g);
    }
  }
  return out;
}

async function streamCompletions(ctx: ServerContext, res: ServerResponse, signal: AbortSignal, r: CompletionRequest, maxTokens: number[]): Promise<void> {
  const base = responseBase(ctx, 'cmpl');
  const chunk = (index: number, text: string, finish: 'stop' | 'length' | null, logprobs: TextCompletion['choices'][0]['logprobs'] = null): TextCompletion => ({
    ...base,
    object: 'text_completion',
    choices: [{ index, text, logprobs, finish_reason: finish }],
    ...(r.includeUsage ? { usage: null } : {}),
  });
  const onChoice: OnChoice = (index, prompt) => {
    if (r.echo) sse(res, chunk(index, prompt, null));
    let offset = 0;
    const text = jsonTemplate((piece) => chunk(index, piece, null)); // per token without logprobs: filled in
    return (piece, tokens) => {
      if (r.logprobs === null) return sseJson(res, text(piece));
      const lp = completionLogprobs(tokens ?? [], offset);
      offset += (tokens ?? []).reduce((n, t) => n + t.token.length, 0);
      sse(res, chunk(index, piece, null, lp));
    };
  };
  const usage = await streamJob(ctx, res, signal, r.n, (sig) => eachChoice(ctx, r, maxTokens, sig, onChoice, (index, g) => sse(res, chunk(index, '', g.finishReason))));
  if (usage && r.includeUsage) sse(res, { ...base, object: 'text_completion', choices: [], usage } satisfies TextCompletion);
  endStream(res);
}
