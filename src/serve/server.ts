// `gptlab serve`: an OpenAI-compatible HTTP API over a TextEngine, plus the web chat page at `/`.
// Plain node:http, no framework. Generations go through a FIFO, one at a time (the model computes on the main
// thread) or as many as the engine batches (engine.maxConcurrent), while cheap routes (/v1/models, /health,
// the page) answer at once even when busy.
//
// How a request flows: server.ts (this file: per-request abort and logging, error mapping, listen, close)
// → router.ts (CORS, API key, route, method) → chat-handler.ts / completions-handler.ts (body.ts reads the
// JSON, openai-request.ts checks every field, jobs.ts queues the generation, http-out.ts writes JSON or SSE).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TextEngine } from '../generate/text-engine.js';
import { ApiError } from './openai-types.js';
import { GenerationQueue } from './queue.js';
import { sendError } from './http-out.js';
import { loadPage } from './page.js';
import { makeRouter, type Handler } from './router.js';
import { checkLimits, defaultLimits, type ServerContext, type ServerLimits } from './context.js';

export { defaultLimits, type ServerLimits } from './context.js';
export { DEFAULT_CHAT_PAGE } from './page.js';

export interface ServerOptions {
  engine: TextEngine;
  /** default 127.0.0.1: nothing outside this machine can reach the model unless asked for */
  host?: string;
  /** default 8080; 0 picks a free port */
  port?: number;
  /** when set, /v1/* requires `Authorization: Bearer <apiKey>`; must not be empty */
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

/**
 * Starts listening and resolves once the port is bound. Throws one line for bad options (an empty API
 * key, a limit that is not a positive integer) or when the address cannot be bound.
 */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { engine } = opts;
  if (opts.apiKey !== undefined && opts.apiKey.trim() === '') throw new Error('the API key must not be empty (leave it unset for no key)');
  const limits: ServerLimits = { ...defaultLimits(engine), ...opts.limits };
  checkLimits(limits);
  const log = opts.log ?? (() => {});
  const model = { id: engine.modelId, object: 'model' as const, created: Math.floor(Date.now() / 1000), owned_by: 'gptlab', context_length: engine.contextLength };
  const ctx: ServerContext = { engine, limits, queue: new GenerationQueue(limits.maxQueue, engine.maxConcurrent ?? 1), model, log };
  const route = makeRouter(ctx, { apiKey: opts.apiKey, cors: opts.cors, page: loadPage(opts.chatPage, log) });
  const inFlight = new Set<AbortController>();
  const server = createServer((req, res) => handleRequest(ctx, route, inFlight, req, res));
  const addr = await listen(server, opts.host ?? '127.0.0.1', opts.port ?? 8080);
  const urlHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return { url: `http://${urlHost}:${addr.port}`, host: addr.address, port: addr.port, queue: ctx.queue, close: () => shutdown(server, inFlight) };
}

/** one request: an abort signal that fires when the client leaves, a log line at the end, errors mapped */
function handleRequest(ctx: ServerContext, route: Handler, inFlight: Set<AbortController>, req: IncomingMessage, res: ServerResponse): void {
  const t0 = Date.now();
  const ac = new AbortController();
  inFlight.add(ac);
  // 'close' before the response finished means the client went away: stop its generation
  res.on('close', () => {
    inFlight.delete(ac);
    if (!res.writableFinished) ac.abort(new Error('client disconnected'));
    ctx.log(`${req.method} ${req.url} ${res.statusCode}${res.writableFinished ? '' : ' (client disconnected)'} ${Date.now() - t0}ms`);
  });
  Promise.resolve()
    .then(() => route(req, res, ac.signal))
    .catch((e: unknown) => sendError(res, toApiError(ctx, e, req), req));
}

/** ApiErrors go to the client as they are; anything else is the server's fault: logged, and a 500 */
function toApiError(ctx: ServerContext, e: unknown, req: IncomingMessage): ApiError {
  if (e instanceof ApiError) return e;
  ctx.log(`error in ${req.method} ${req.url}: ${(e as Error)?.stack ?? e}`);
  return new ApiError(500, `The server had an error while processing your request: ${(e as Error)?.message ?? e}`, 'server_error');
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const hint = e.code === 'EADDRINUSE' ? ` (port ${port} is in use; pick another with --port)` : '';
      reject(new Error(`cannot listen on ${host}:${port}: ${e.message}${hint}`));
    });
    server.listen(port, host, () => resolve(server.address() as AddressInfo));
  });
}

/** aborts every running and queued generation, stops listening, closes the connections */
function shutdown(server: Server, inFlight: Set<AbortController>): Promise<void> {
  return new Promise<void>((resolve) => {
    for (const ac of inFlight) ac.abort(new Error('server closing'));
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
