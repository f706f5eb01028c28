// Which handler answers a request: CORS preflight, the API key check (every /v1 path, known or not, before
// anything is read), the route table, the method check (HEAD wherever GET works). Node only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './openai-types.js';
import { checkKey } from './auth.js';
import { sendJson } from './http-out.js';
import { servePage, type Page } from './page.js';
import { chatCompletions } from './chat-handler.js';
import { completions } from './completions-handler.js';
import type { ServerContext } from './context.js';

export type Handler = (req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => Promise<void> | void;

interface Route {
  /** GET routes answer HEAD too (same headers, no body) */
  methods: string[];
  handle: Handler;
}

export interface RouterOptions {
  apiKey?: string;
  cors?: boolean;
  page: Page;
}

/** the request handler; throws ApiError for anything the client should hear about */
export function makeRouter(ctx: ServerContext, opts: RouterOptions): Handler {
  const routes = routeTable(ctx, opts.page);
  return async (req, res, signal) => {
    const path = (req.url ?? '/').split('?')[0];
    if (opts.cors && corsPreflight(req, res)) return;
    if (opts.apiKey !== undefined && (path === '/v1' || path.startsWith('/v1/'))) checkKey(req, opts.apiKey);
    const route = routes[path] ?? modelRoute(ctx, path);
    if (!route) throw new ApiError(404, `Invalid URL (${req.method} ${path})`, 'invalid_request_error', null, 'unknown_url');
    const method = req.method ?? '';
    const allowed = route.methods.includes('GET') ? [...route.methods, 'HEAD'] : route.methods;
    if (!allowed.includes(method)) {
      res.setHeader('Allow', allowed.join(', '));
      throw new ApiError(405, `Method ${method} is not allowed for ${path}; use ${route.methods.join(' or ')}.`, 'invalid_request_error', null, 'method_not_allowed');
    }
    await route.handle(req, res, signal);
  };
}

function routeTable(ctx: ServerContext, page: Page): Record<string, Route> {
  const { engine, queue } = ctx;
  return {
    '/': { methods: ['GET'], handle: (req, res) => servePage(req, res, page) },
    '/health': { methods: ['GET'], handle: (_q, res) => sendJson(res, 200, { status: 'ok', model: engine.modelId, busy: queue.busy, running: queue.active, queued: queue.pending }) },
    '/v1/models': { methods: ['GET'], handle: (_q, res) => sendJson(res, 200, { object: 'list', data: [ctx.model] }) },
    '/v1/chat/completions': { methods: ['POST'], handle: (req, res, signal) => chatCompletions(ctx, req, res, signal) },
    '/v1/completions': { methods: ['POST'], handle: (req, res, signal) => completions(ctx, req, res, signal) },
  };
}

/** GET /v1/models/{id}: 404 model_not_found unless it is this server's model; bad %-escapes are a 400 */
function modelRoute(ctx: ServerContext, path: string): Route | undefined {
  const prefix = '/v1/models/';
  if (!path.startsWith(prefix)) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(path.slice(prefix.length));
  } catch {
    throw new ApiError(400, `Invalid URL (${path}): malformed percent-encoding in the model id.`, 'invalid_request_error', 'model', 'invalid_url');
  }
  return {
    methods: ['GET'],
    handle: (_q, res) => {
      if (id !== ctx.engine.modelId) throw new ApiError(404, `The model '${id}' does not exist.`, 'invalid_request_error', 'model', 'model_not_found');
      sendJson(res, 200, ctx.model);
    },
  };
}

/** with cors on: sets Allow-Origin on every response; answers OPTIONS (returns true when it did) */
function corsPreflight(req: IncomingMessage, res: ServerResponse): boolean {
  res.setHeader('Access-Control-Allow-Origin', '*');
  if (req.method !== 'OPTIONS') return false;
  res.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, HEAD, POST, OPTIONS', 'Access-Control-Allow-Headers': 'Authorization, Content-Type', 'Access-Control-Max-Age': '600' });
  res.end();
  return true;
}
