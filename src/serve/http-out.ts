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

/** one `data: …` event whose JSON is already a string */
export function sseJson(res: ServerResponse, json: string): void {
  if (res.destroyed || res.writableEnded) return;
  res.write(`data: ${json}\n\n`);
}

/**
 * The JSON of `event(piece)` for any string `piece`, built once and filled in per call: what
 * JSON.stringify(event(piece)) gives, byte for byte, without walking the object for every token. `event`
 * must place `piece` as a string value exactly once.
 */
export function jsonTemplate(event: (piece: string) => unknown): (piece: string) => string {
  const mark = '\u{10FFFF}gptlab-piece\u{10FFFF}';
  const parts = JSON.stringify(event(mark)).split(JSON.stringify(mark));
  if (parts.length !== 2) throw new Error('jsonTemplate: the event must hold the piece exactly once');
  const [before, after] = parts;
  return (piece) => before + JSON.stringify(piece) + after;
}

/** the closing `data: [DONE]` event */
export function endStream(res: ServerResponse): void {
  if (res.destroyed || res.writableEnded) return;
  res.end('data: [DONE]\n\n');
}
