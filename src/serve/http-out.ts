// Writing responses: JSON bodies, OpenAI-shaped errors, and server-sent events. Node only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './openai-types.js';

/** a JSON response; does nothing once headers went out or the socket is gone */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const s = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(s) });
  res.end(s);
}

/** an error in OpenAI's JSON shape; mid-stream it goes out as an SSE event instead, as OpenAI does */
export function sendError(res: ServerResponse, e: ApiError, req: IncomingMessage): void {
  if (res.headersSent) {
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

/** starts an event stream: headers go out now, before the job (which may write synchronously) starts */
export function startSse(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  res.flushHeaders();
}

/** one `data: JSON` event */
export function sse(res: ServerResponse, data: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  res.write(`data: ${JSON.stringify(data)}\n\n`);
}

/** the closing `data: [DONE]` event */
export function endStream(res: ServerResponse): void {
  if (res.destroyed || res.writableEnded) return;
  res.end('data: [DONE]\n\n');
}
