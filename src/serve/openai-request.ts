// Turns an OpenAI request body into engine calls, checking every field with an error that names it
// (OpenAI's `param`), so that a client learns exactly what to fix. Browser-safe.
import type { ChatMessage, GenerateParams } from '../generate/text-engine.js';
import { ApiError } from './openai-types.js';

export interface RequestLimits {
  /** ceiling for max_tokens */
  maxTokens: number;
  /** used when the request omits max_tokens (then clamped to what fits in the context) */
  defaultMaxTokens: number;
  /** longest accepted prompt, in tokens */
  maxPromptTokens: number;
  /** most choices per request */
  maxN: number;
}

export interface SamplingRequest {
  /** undefined when the request did not say: the server picks a default that fits the context */
  maxTokens: number | undefined;
  params: Omit<GenerateParams, 'maxTokens'>;
  n: number;
  stream: boolean;
  includeUsage: boolean;
}

export interface ChatRequest extends SamplingRequest {
  messages: ChatMessage[];
}

export interface CompletionRequest extends SamplingRequest {
  prompts: string[];
  echo: boolean;
}

type Body = Record<string, unknown>;

export function asBody(v: unknown): Body {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ApiError(400, 'The request body must be a JSON object.', 'invalid_request_error', null, 'invalid_body');
  }
  return v as Body;
}

export function parseChatRequest(body: Body, limits: RequestLimits): ChatRequest {
  const raw = body.messages;
  if (raw === undefined) throw invalid('messages', "Missing required parameter: 'messages'.", 'missing_required_parameter');
  if (!Array.isArray(raw)) throw invalid('messages', `Invalid type for 'messages': expected an array, but got ${typeName(raw)}.`);
  if (raw.length === 0) throw invalid('messages', "Invalid 'messages': empty array. Expected an array with minimum length 1.");
  const messages: ChatMessage[] = raw.map((m, i) => {
    const at = `messages[${i}]`;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw invalid(at, `Invalid type for '${at}': expected an object, but got ${typeName(m)}.`);
    const msg = m as Body;
    let role = msg.role;
    // newer clients send system instructions as 'developer'
    if (role === 'developer') role = 'system';
    if (role !== 'system' && role !== 'user' && role !== 'assistant') {
      throw invalid(`${at}.role`, `Invalid value for '${at}.role': ${JSON.stringify(role ?? null)}. Supported values are: 'system', 'developer', 'user' and 'assistant'.`);
    }
    return { role, content: messageContent(msg.content, `${at}.content`) };
  });
  return { messages, ...parseSampling(body, limits) };
}

export function parseCompletionRequest(body: Body, limits: RequestLimits): CompletionRequest {
  const p = body.prompt;
  let prompts: string[];
  if (p === undefined) throw invalid('prompt', "Missing required parameter: 'prompt'.", 'missing_required_parameter');
  if (typeof p === 'string') prompts = [p];
  else if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string')) prompts = p as string[];
  else throw invalid('prompt', "Invalid 'prompt': expected a string or a non-empty array of strings (token-id prompts are not supported).");
  if (body.suffix !== undefined && body.suffix !== null) throw invalid('suffix', "'suffix' is not supported by this model.", 'unsupported_parameter');
  const echo = optBool(body, 'echo') ?? false;
  const s = parseSampling(body, limits);
  if (prompts.length * s.n > limits.maxN) throw invalid('n', `Too many choices: ${prompts.length} prompts × n=${s.n} exceeds the limit of ${limits.maxN}.`);
  return { prompts, echo, ...s };
}

function parseSampling(body: Body, limits: RequestLimits): SamplingRequest {
  const temperature = optNumber(body, 'temperature', 0, 2) ?? 1;
  const topP = optNumber(body, 'top_p', 0, 1) ?? 1;
  const topK = optInt(body, 'top_k', 0, Number.MAX_SAFE_INTEGER);
  const repetitionPenalty = optNumber(body, 'repetition_penalty', 0, 10, true);
  // accepted for compatibility, not used by this engine
  optNumber(body, 'presence_penalty', -2, 2);
  optNumber(body, 'frequency_penalty', -2, 2);
  const seed = optInt(body, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const n = optInt(body, 'n', 1, limits.maxN) ?? 1;
  const mt = optInt(body, 'max_completion_tokens', 1, Infinity) ?? optInt(body, 'max_tokens', 1, Infinity);
  if (mt !== undefined && mt > limits.maxTokens) {
    const param = body.max_completion_tokens !== undefined && body.max_completion_tokens !== null ? 'max_completion_tokens' : 'max_tokens';
    throw invalid(param, `'${param}' is too large: ${mt}. This server allows at most ${limits.maxTokens} completion tokens.`, 'invalid_value');
  }
  const stream = optBool(body, 'stream') ?? false;
  let includeUsage = false;
  const so = body.stream_options;
  if (so !== undefined && so !== null) {
    if (typeof so !== 'object' || Array.isArray(so)) throw invalid('stream_options', `Invalid type for 'stream_options': expected an object, but got ${typeName(so)}.`);
    if (!stream) throw invalid('stream_options', "The 'stream_options' parameter is only allowed when 'stream' is enabled.");
    includeUsage = optBool(so as Body, 'include_usage', 'stream_options.include_usage') ?? false;
  }
  let stop: string[] | undefined;
  const st = body.stop;
  if (typeof st === 'string') stop = [st];
  else if (Array.isArray(st)) {
    if (st.length > 4) throw invalid('stop', `Invalid 'stop': at most 4 stop sequences are allowed, got ${st.length}.`);
    st.forEach((x, i) => {
      if (typeof x !== 'string') throw invalid(`stop[${i}]`, `Invalid type for 'stop[${i}]': expected a string, but got ${typeName(x)}.`);
    });
    stop = st as string[];
  } else if (st !== undefined && st !== null) throw invalid('stop', `Invalid type for 'stop': expected a string or an array of strings, but got ${typeName(st)}.`);
  stop = stop?.filter((s) => s.length > 0);
  const params: SamplingRequest['params'] = { temperature, topP };
  if (topK !== undefined) params.topK = topK;
  if (repetitionPenalty !== undefined) params.repetitionPenalty = repetitionPenalty;
  if (stop && stop.length) params.stop = stop;
  if (seed !== undefined) params.seed = seed;
  return { maxTokens: mt, params, n, stream, includeUsage };
}

function messageContent(c: unknown, param: string): string {
  if (typeof c === 'string') return c;
  // the content-parts form: [{ type: 'text', text }]
  if (Array.isArray(c)) {
    return c
      .map((part, i) => {
        const p = part as Body;
        if (typeof p !== 'object' || p === null || p.type !== 'text' || typeof p.text !== 'string') {
          throw invalid(`${param}[${i}]`, `Invalid content part '${param}[${i}]': only {"type": "text", "text": string} parts are supported.`);
        }
        return p.text;
      })
      .join('');
  }
  if (c === undefined) throw invalid(param, `Missing required parameter: '${param}'.`, 'missing_required_parameter');
  throw invalid(param, `Invalid type for '${param}': expected a string, but got ${typeName(c)}.`);
}

function optNumber(body: Body, key: string, min: number, max: number, exclusiveMin = false): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(key, `Invalid type for '${key}': expected a number, but got ${typeName(v)}.`);
  if (v < min || v > max || (exclusiveMin && v === min)) {
    throw invalid(key, `Invalid '${key}': ${v} is out of range; expected a value ${exclusiveMin ? '>' : '>='} ${min} and <= ${max}.`, 'invalid_value');
  }
  return v;
}

function optInt(body: Body, key: string, min: number, max: number): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(key, `Invalid type for '${key}': expected an integer, but got ${typeName(v)}.`);
  if (v < min) throw invalid(key, `Invalid '${key}': ${v} is less than the minimum of ${min}.`, 'invalid_value');
  if (v > max) throw invalid(key, `Invalid '${key}': ${v} is greater than the maximum of ${max}.`, 'invalid_value');
  return v;
}

function optBool(body: Body, key: string, param = key): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(param, `Invalid type for '${param}': expected a boolean, but got ${typeName(v)}.`);
  return v;
}

function invalid(param: string, message: string, code = 'invalid_type'): ApiError {
  return new ApiError(400, message, 'invalid_request_error', param, code);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a decimal';
  if (typeof v === 'boolean') return 'a boolean';
  return `an ${typeof v}`;
}
