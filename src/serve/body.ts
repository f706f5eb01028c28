// Reading a request body as JSON within a size limit. Node only.
import type { IncomingMessage } from 'node:http';
import { ApiError } from './openai-types.js';

/**
 * The body parsed as JSON. Errors: 413 request_too_large past `limit` bytes (checked against
 * Content-Length first, then while reading), 400 invalid_body when empty, 400 invalid_json.
 */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
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
