// The API key check: `Authorization: Bearer KEY`, compared in constant time. Node only.
import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { ApiError } from './openai-types.js';

/** throws 401 missing_api_key or invalid_api_key unless the request carries `key` */
export function checkKey(req: IncomingMessage, key: string): void {
  const h = req.headers.authorization;
  if (!h) throw new ApiError(401, "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.", 'authentication_error', null, 'missing_api_key');
  const m = /^Bearer\s+(.+)$/i.exec(h);
  const given = Buffer.from(m ? m[1].trim() : '');
  const want = Buffer.from(key);
  if (!m || given.length !== want.length || !timingSafeEqual(given, want)) {
    throw new ApiError(401, 'Incorrect API key provided.', 'authentication_error', null, 'invalid_api_key');
  }
}
