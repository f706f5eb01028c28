// What every request handler shares: the engine, the limits, the queue, the log. Built once by startServer.
import type { TextEngine } from '../generate/text-engine.js';
import type { RequestLimits } from './openai-request.js';
import type { ModelObject } from './openai-types.js';
import type { GenerationQueue } from './queue.js';

export interface ServerLimits extends RequestLimits {
  /** largest accepted request body, in bytes (default 1 MiB) */
  maxBodyBytes: number;
  /** requests allowed to wait behind the running one before 429 (default 16) */
  maxQueue: number;
}

export interface ServerContext {
  engine: TextEngine;
  limits: ServerLimits;
  queue: GenerationQueue;
  /** the one model this server offers, as /v1/models lists it */
  model: ModelObject;
  /** one line per request and per problem */
  log: (line: string) => void;
}

/** limits for an engine: generous defaults that fit its context window */
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

/**
 * Checks limits given to startServer (the CLI checks its flags before this): each must be a positive
 * integer (maxQueue may be 0). Throws one line naming the limit.
 */
export function checkLimits(l: ServerLimits): void {
  for (const key of ['maxBodyBytes', 'maxTokens', 'defaultMaxTokens', 'maxPromptTokens', 'maxN'] as const) {
    if (!Number.isSafeInteger(l[key]) || l[key] < 1) throw new Error(`server limit ${key} must be a positive integer, got ${l[key]}`);
  }
  if (!Number.isSafeInteger(l.maxQueue) || l.maxQueue < 0) throw new Error(`server limit maxQueue must be an integer ≥ 0, got ${l.maxQueue}`);
}
