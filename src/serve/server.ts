// `gptlab serve`: an OpenAI-compatible HTTP API over a TextEngine, plus the web chat page at `/`.
// Plain node:http, no framework. Generations run one at a time through a FIFO (the model computes on the
// main thread), while cheap routes (/v1/models, /health, the page) answer at once even when busy.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { GenerateParams, GenerateResult, TextEngine } from '../generate/text-engine.js';
import { ApiError, type ChatCompletion, type ChatCompletionChunk, type ModelObject, type TextCompletion, type Usage } from './openai-types.js';
import { asBody, parseChatRequest, parseCompletionRequest, type RequestLimits, type SamplingRequest } from './openai-request.js';
import { GenerationQueue, QueueFullError } from './queue.js';

export interface ServerLimits extends RequestLimits {
  /** largest accepted request body, in bytes (default 1 MiB) */
  maxBodyBytes: number;
  /** requests allowed to wait behind the running one before 429 (default 16) */
  maxQueue: number;
}

export interface ServerOptions {
  engine: TextEngine;
  /** default 127.0.0.1: nothing outside this machine can reach the model unless asked for */
  host?: string;
  /** default 8080; 0 picks a free port */
  port?: number;
  /** when set, /v1/* requires `Authorization: Bearer <apiKey>` */
  apiKey?: string;
  limits?: Partial<ServerLimits>;
  /** path of the web chat page, or false to not serve one; default: the repo's src/web/chat.html */
  chatPage?: string | false;
  /** answer cross-origin requests (Access-Control-Allow-Origin: *), for web UIs served elsewhere */
  cors?: boolean;
  /** one line per request and per problem; default: silent */
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  queue: GenerationQueue;
  /** stops listening, aborts running and queued generations, closes connections */
  close(): Promise<void>;
}

export function defaultLimits(engine: TextEngine): ServerLimits {
  return {
    maxBodyBytes: 1 << 20,
    maxQueue: 16,
    maxTokens: engine.contextLength,
    defaultMaxTokens: 256,
    maxPromptTokens: engine.contextLength - 1,
    maxN: 8,
  };
}

/** where the page lives relative to the compiled module (dist/src/serve/server.js → src/web/chat.html) */
export const DEFAULT_CHAT_PAGE = fileURLToPath(new URL('../../../src/web/chat.html', import.meta.url));

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { engine } = opts;
  const host = opts.host ?? '127.0.0.1';
  const limits: ServerLimits = { ...defaultLimits(engine), ...opts.limits };
  const log = opts.log ?? (() => {});
  const queue = new GenerationQueue(limits.maxQueue);
  const inFlight = new Set<AbortController>();
  const started = Math.floor(Date.now() / 1000);
  const page = loadPage(opts.chatPage, log);

  const model: ModelObject = { id: engine.modelId, object: 'model', created: started, owned_by: 'gptlab', context_length: engine.contextLength };

  const routes: Record<string, { methods: string[]; handle: (req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => Promise<void> | void }> = {
    '/': { methods: ['GET', 'HEAD'], handle: (req, res) => servePage(req, res, page) },
    '/health': { methods: ['GET'], handle: (_q, res) => sendJson(res, 200, { status: 'ok', model: engine.modelId, busy: queue.busy, queued: queue.pending }) },
    '/v1/models': { methods: ['GET'], handle: (_q, res) => sendJson(res, 200, { object: 'list', data: [model] }) },
    '/v1/chat/completions': { methods: ['POST'], handle: (req, res, signal) => chatCompletions(req, res, signal) },
    '/v1/completions': { methods: ['POST'], handle: (req, res, signal) => completions(req, res, signal) },
  };

  const server = createServer((req, res) => {
    const t0 = Date.now();
    const ac = new AbortController();
    inFlight.add(ac);
    // 'close' before the response finished means the client went away: stop its generation
    res.on('close', () => {
      inFlight.delete(ac);
      if (!res.writableFinished) ac.abort(new Error('client disconnected'));
      log(`${req.method} ${req.url} ${res.statusCode}${res.writableFinished ? '' : ' (client disconnected)'} ${Date.now() - t0}ms`);
    });
    handle(req, res, ac.signal).catch((e: unknown) => {
      if (e instanceof ApiError) return sendError(res, e, req);
      log(`error in ${req.method} ${req.url}: ${(e as Error)?.stack ?? e}`);
      sendError(res, new ApiError(500, `The server had an error while processing your request: ${(e as Error)?.message ?? e}`, 'server_error'), req);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (opts.cors) {
      res.setHeader('Access-Control-Allow-Origin', '*');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, POST, OPTIONS', 'Access-Control-Allow-Headers': 'Authorization, Content-Type', 'Access-Control-Max-Age': '600' });
        res.end();
        return;
      }
    }
    let route = routes[path];
    if (!route && path.startsWith('/v1/models/')) {
      const id = decodeURIComponent(path.slice('/v1/models/'.length));
      route = {
        methods: ['GET'],
        handle: (_q, r) => {
          if (id !== engine.modelId) throw new ApiError(404, `The model '${id}' does not exist.`, 'invalid_request_error', 'model', 'model_not_found');
          sendJson(r, 200, model);
        },
      };
    }
    if (!route) throw new ApiError(404, `Invalid URL (${req.method} ${path})`, 'invalid_request_error', null, 'unknown_url');
    if (!route.methods.includes(req.method ?? '')) {
      res.setHeader('Allow', route.methods.join(', '));
      throw new ApiError(405, `Method ${req.method} is not allowed for ${path}; use ${route.methods.join(' or ')}.`, 'invalid_request_error', null, 'method_not_allowed');
    }
    if (opts.apiKey !== undefined && path.startsWith('/v1/')) checkKey(req, opts.apiKey);
    await route.handle(req, res, signal);
  }

  async function chatCompletions(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const body = asBody(await readJson(req, limits.maxBodyBytes));
    checkModel(body);
    const r = parseChatRequest(body, limits);
    const prompt = engine.renderChat(r.messages);
    const maxTokens = fitTokens(prompt, r.maxTokens, 'messages');
    const id = `chatcmpl-${randomUUID().replace(/-/g, '').slice(0, 24)}`;
    const created = Math.floor(Date.now() / 1000);
    const base = { id, created, model: engine.modelId, system_fingerprint: 'gptlab' };

    if (r.stream) {
      const chunk = (index: number, delta: ChatCompletionChunk['choices'][0]['delta'], finish: ChatCompletionChunk['choices'][0]['finish_reason']): ChatCompletionChunk => ({
        ...base,
        object: 'chat.completion.chunk',
        choices: [{ index, delta, logprobs: null, finish_reason: finish }],
        ...(r.includeUsage ? { usage: null } : {}),
      });
      const usage = await streamJob(res, signal, r, async (sig) => {
        const results: GenerateResult[] = [];
        for (let i = 0; i < r.n && !sig.aborted; i++) {
          sse(res, chunk(i, { role: 'assistant', content: '' }, null));
          const result = await generate(prompt, r, maxTokens, i, (piece) => sse(res, chunk(i, { content: piece }, null)), sig);
          if (sig.aborted) break;
          sse(res, chunk(i, {}, result.finishReason));
          results.push(result);
        }
        return results;
      });
      if (usage && r.includeUsage) sse(res, { ...base, object: 'chat.completion.chunk', choices: [], usage } satisfies ChatCompletionChunk);
      endStream(res);
      return;
    }

    const results = await runJob(signal, async (sig) => {
      const out: GenerateResult[] = [];
      for (let i = 0; i < r.n && !sig.aborted; i++) out.push(await generate(prompt, r, maxTokens, i, () => {}, sig));
      return out;
    });
    if (!results) return;
    const completion: ChatCompletion = {
      ...base,
      object: 'chat.completion',
      choices: results.map((g, index) => ({ index, message: { role: 'assistant', content: g.text, refusal: null }, logprobs: null, finish_reason: g.finishReason })),
      usage: usageOf(results, r.n),
    };
    sendJson(res, 200, completion);
  }

  async function completions(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const body = asBody(await readJson(req, limits.maxBodyBytes));
    checkModel(body);
    const r = parseCompletionRequest(body, limits);
    const maxTokens = r.prompts.map((p, i) => fitTokens(p, r.maxTokens, r.prompts.length > 1 ? `prompt[${i}]` : 'prompt'));
    const id = `cmpl-${randomUUID().replace(/-/g, '').slice(0, 24)}`;
    const created = Math.floor(Date.now() / 1000);
    const base = { id, created, model: engine.modelId, system_fingerprint: 'gptlab' };
    const chunk = (index: number, text: string, finish: 'stop' | 'length' | null): TextCompletion => ({
      ...base,
      object: 'text_completion',
      choices: [{ index, text, logprobs: null, finish_reason: finish }],
      ...(r.includeUsage ? { usage: null } : {}),
    });
    // every prompt × n choices, in one job so they come out together
    const each = async (sig: AbortSignal, onChoice: (index: number, prompt: string) => (piece: string) => void, done: (index: number, g: GenerateResult) => void) => {
      const out: GenerateResult[] = [];
      for (let p = 0; p < r.prompts.length; p++) {
        for (let i = 0; i < r.n && !sig.aborted; i++) {
          const index = p * r.n + i;
          const g = await generate(r.prompts[p], r, maxTokens[p], i, onChoice(index, r.prompts[p]), sig);
          if (sig.aborted) break;
          done(index, g);
          out.push(g);
        }
      }
      return out;
    };

    if (r.stream) {
      const usage = await streamJob(res, signal, r, (sig) =>
        each(
          sig,
          (index, prompt) => {
            if (r.echo) sse(res, chunk(index, prompt, null));
            return (piece) => sse(res, chunk(index, piece, null));
          },
          (index, g) => sse(res, chunk(index, '', g.finishReason)),
        ),
        r.n,
      );
      if (usage && r.includeUsage) sse(res, { ...base, object: 'text_completion', choices: [], usage } satisfies TextCompletion);
      endStream(res);
      return;
    }
    const texts = new Map<number, string>();
    const finals: { index: number; g: GenerateResult }[] = [];
    const results = await runJob(signal, (sig) => each(sig, () => () => {}, (index, g) => finals.push({ index, g })));
    if (!results) return;
    for (const { index, g } of finals) texts.set(index, (r.echo ? r.prompts[Math.floor(index / r.n)] : '') + g.text);
    const completion: TextCompletion = {
      ...base,
      object: 'text_completion',
      choices: finals.map(({ index, g }) => ({ index, text: texts.get(index)!, logprobs: null, finish_reason: g.finishReason })),
      usage: usageOf(results, r.n),
    };
    sendJson(res, 200, completion);
  }

  /** max_tokens for this prompt: the request's (checked against the context) or a default that fits */
  function fitTokens(prompt: string, requested: number | undefined, param: string): number {
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

  function generate(prompt: string, r: SamplingRequest, maxTokens: number, choice: number, onText: (piece: string) => void, signal: AbortSignal): Promise<GenerateResult> {
    const params: GenerateParams = { ...r.params, maxTokens };
    // a fixed seed still gives n different choices, each reproducible
    if (r.params.seed !== undefined) params.seed = r.params.seed + choice;
    return engine.generate(prompt, params, onText, signal).catch((e: unknown) => {
      if (signal.aborted) return { text: '', finishReason: 'stop', promptTokens: 0, completionTokens: 0 } satisfies GenerateResult;
      throw e;
    });
  }

  /** queues a non-streaming job; null when the client went away */
  async function runJob<T>(signal: AbortSignal, job: (sig: AbortSignal) => Promise<T>): Promise<T | null> {
    let p: Promise<T>;
    try {
      p = queue.submit(job, signal);
    } catch (e) {
      if (e instanceof QueueFullError) throw queueFull();
      throw e;
    }
    try {
      const v = await p;
      return signal.aborted ? null : v;
    } catch (e) {
      if (signal.aborted) return null;
      throw e;
    }
  }

  /** queues a streaming job: headers go out once it is accepted; failures become an SSE error event */
  async function streamJob(res: ServerResponse, signal: AbortSignal, r: SamplingRequest, job: (sig: AbortSignal) => Promise<GenerateResult[]>, promptsShareN = 0): Promise<Usage | null> {
    if (queue.full) throw queueFull();
    // headers first: the job may start (and write) synchronously inside submit
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    try {
      const results = await queue.submit(job, signal);
      if (signal.aborted) return null;
      return usageOf(results, promptsShareN || r.n);
    } catch (e) {
      if (signal.aborted) return null;
      log(`error while streaming: ${(e as Error)?.stack ?? e}`);
      sse(res, new ApiError(500, `The server had an error while generating: ${(e as Error)?.message ?? e}`, 'server_error').toJSON());
      return null;
    }
  }

  function checkModel(body: Record<string, unknown>): void {
    if (body.model !== undefined && typeof body.model !== 'string') {
      throw new ApiError(400, "Invalid type for 'model': expected a string.", 'invalid_request_error', 'model', 'invalid_type');
    }
    // any model name is accepted: this server has exactly one model
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const hint = e.code === 'EADDRINUSE' ? ` (port ${opts.port} is in use; pick another with --port)` : '';
      reject(new Error(`cannot listen on ${host}:${opts.port ?? 8080}: ${e.message}${hint}`));
    });
    server.listen(opts.port ?? 8080, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const urlHost = addr.family === 'IPv6' || host.includes(':') ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${urlHost}:${addr.port}`,
    host: addr.address,
    port: addr.port,
    queue,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ac of inFlight) ac.abort(new Error('server closing'));
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function queueFull(): ApiError {
  return new ApiError(429, 'The server is busy: too many requests are waiting for the model. Retry later.', 'rate_limit_error', null, 'queue_full');
}

function usageOf(results: GenerateResult[], choicesPerPrompt: number): Usage {
  // the prompt is counted once per distinct prompt, as OpenAI does for n > 1
  let prompt = 0;
  let completion = 0;
  results.forEach((g, i) => {
    if (i % choicesPerPrompt === 0) prompt += g.promptTokens;
    completion += g.completionTokens;
  });
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function checkKey(req: IncomingMessage, key: string): void {
  const h = req.headers.authorization;
  if (!h) throw new ApiError(401, "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.", 'authentication_error', null, 'missing_api_key');
  const m = /^Bearer\s+(.+)$/i.exec(h);
  const given = Buffer.from(m ? m[1].trim() : '');
  const want = Buffer.from(key);
  if (!m || given.length !== want.length || !timingSafeEqual(given, want)) {
    throw new ApiError(401, 'Incorrect API key provided.', 'authentication_error', null, 'invalid_api_key');
  }
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const tooLarge = () => new ApiError(413, `The request body is larger than this server's limit of ${limit} bytes.`, 'invalid_request_error', null, 'request_too_large');
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw tooLarge();
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new ApiError(400, 'The request body is empty; send a JSON object.', 'invalid_request_error', null, 'invalid_body');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, `We could not parse the JSON body of your request: ${(e as Error).message}`, 'invalid_request_error', null, 'invalid_json');
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const s = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(s) });
  res.end(s);
}

function sendError(res: ServerResponse, e: ApiError, req: IncomingMessage): void {
  if (res.headersSent) {
    // mid-stream: report in-band, as OpenAI does
    if (!res.destroyed && !res.writableEnded) {
      sse(res, e.toJSON());
      res.end();
    }
    return;
  }
  // an unread body (413, early 4xx) would otherwise stall the connection: drain it and close
  if (!req.complete) {
    res.setHeader('Connection', 'close');
    req.resume();
  }
  sendJson(res, e.status, e.toJSON());
}

function sse(res: ServerResponse, data: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  res.write(`data: ${JSON.stringify(data)}\n\n`);
}

function endStream(res: ServerResponse): void {
  if (res.destroyed || res.writableEnded) return;
  res.end('data: [DONE]\n\n');
}

interface Page {
  html: Buffer | null;
  problem: string;
}

function loadPage(chatPage: string | false | undefined, log: (l: string) => void): Page {
  if (chatPage === false) return { html: null, problem: 'this server was started without the web chat page' };
  const path = chatPage ?? DEFAULT_CHAT_PAGE;
  try {
    return { html: readFileSync(path), problem: '' };
  } catch (e) {
    const problem = `the web chat page is missing: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the API under /v1 still works`;
    log(problem);
    return { html: null, problem };
  }
}

function servePage(req: IncomingMessage, res: ServerResponse, page: Page): void {
  if (!page.html) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(page.problem + '\n');
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': page.html.length, 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : page.html);
}
