// POST /v1/chat/completions: read and check the request, then answer with one JSON completion or a stream of
// `chat.completion.chunk` events ending with `data: [DONE]`. Node only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GenerateResult, TokenLogprob } from '../generate/text-engine.js';
import type { ChatCompletion, ChatCompletionChunk } from './openai-types.js';
import { parseChatRequest, type ChatRequest } from './openai-request.js';
import { asBody } from './request-fields.js';
import { readJson } from './body.js';
import { endStream, jsonTemplate, sendJson, sse, sseJson } from './http-out.js';
import { fitTokens, generateChoice, responseBase, runJob, streamJob, usageOf } from './jobs.js';
import { chatLogprobs } from './logprobs.js';
import type { ServerContext } from './context.js';

type Delta = ChatCompletionChunk['choices'][0]['delta'];
type Finish = ChatCompletionChunk['choices'][0]['finish_reason'];

/** Answers one chat completion request; throws ApiError (400/413/429) for the client to see. */
export async function chatCompletions(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const r = parseChatRequest(asBody(await readJson(req, ctx.limits.maxBodyBytes)), { ...ctx.limits, vocabSize: ctx.engine.vocabSize });
  const maxTokens = fitTokens(ctx, r.messages, r.maxTokens, 'messages');
  if (r.stream) return streamChat(ctx, res, signal, r, maxTokens);
  const results = await runJob(ctx, signal, async (sig) => {
    const out: GenerateResult[] = [];
    for (let i = 0; i < r.n && !sig.aborted; i++) out.push(await generateChoice(ctx, r.messages, r, maxTokens, i, () => {}, sig));
    return out;
  });
  if (!results) return;
  const completion: ChatCompletion = {
    ...responseBase(ctx, 'chatcmpl'),
    object: 'chat.completion',
    choices: results.map((g, index) => ({
      index, message: { role: 'assistant', content: g.text, refusal: null },
      logprobs: r.params.logprobs ? chatLogprobs(g.tokens ?? []) : null, finish_reason: g.finishReason,
    })),
    usage: usageOf(results, r.n),
  };
  sendJson(res, 200, completion);
}

async function streamChat(ctx: ServerContext, res: ServerResponse, signal: AbortSignal, r: ChatRequest, maxTokens: number): Promise<void> {
  const base = responseBase(ctx, 'chatcmpl');
  const chunk = (index: number, delta: Delta, finish: Finish, tokens?: TokenLogprob[]): ChatCompletionChunk => ({
    ...base,
    object: 'chat.completion.chunk',
    choices: [{ index, delta, logprobs: r.params.logprobs && tokens ? chatLogprobs(tokens) : null, finish_reason: finish }],
    ...(r.includeUsage ? { usage: null } : {}),
  });
  const usage = await streamJob(ctx, res, signal, r.n, async (sig) => {
    const results: GenerateResult[] = [];
    for (let i = 0; i < r.n && !sig.aborted; i++) {
      sse(res, chunk(i, { role: 'assistant', content: '' }, null));
      // per token: the chunk's JSON from a template (the same bytes as JSON.stringify of the chunk)
      const content = jsonTemplate((piece) => chunk(i, { content: piece }, null));
      const onText = (piece: string, tokens?: TokenLogprob[]): void => {
        if (r.params.logprobs && tokens) sse(res, chunk(i, { content: piece }, null, tokens));
        else sseJson(res, content(piece));
      };
      const result = await generateChoice(ctx, r.messages, r, maxTokens, i, onText, sig);
      if (sig.aborted) break;
      sse(res, chunk(i, {}, result.finishReason));
      results.push(result);
    }
    return results;
  });
  if (usage && r.includeUsage) sse(res, { ...base, object: 'chat.completion.chunk', choices: [], usage } satisfies ChatCompletionChunk);
  endStream(res);
}
