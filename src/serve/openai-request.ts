// Turns an OpenAI request body into engine calls. Every field is known and checked: the implemented ones for
// type and range, the ones OpenAI has and this server does not implement (tools, audio, …) refused with
// 400 unsupported_parameter, anything else with 400 unknown_parameter, each naming the field. Browser-safe.
import type { ChatMessage } from '../generate/text-engine.js';
import { PARAM_RULES } from './param-rules.js';
import { invalid, isObject, optBool, optInt, optObject, optString, typeName, unsupported, type Body } from './request-fields.js';
import { parseSampling, type RequestLimits, type SamplingRequest } from './sampling-request.js';

export { asBody } from './request-fields.js';
export type { RequestLimits, SamplingRequest } from './sampling-request.js';

export interface ChatRequest extends SamplingRequest {
  messages: ChatMessage[];
}

export interface CompletionRequest extends SamplingRequest {
  prompts: string[];
  echo: boolean;
  /** the legacy `logprobs: N` (alternatives per token), null when not asked for */
  logprobs: number | null;
}

const SAMPLING_FIELDS = ['model', 'temperature', 'top_p', 'top_k', 'repetition_penalty', 'n', 'max_tokens', 'stream', 'stream_options', 'stop', 'seed', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'logprobs', 'user'];
/** accepted and ignored: they change nothing about the reply */
const IGNORED_CHAT_FIELDS = ['store', 'metadata', 'service_tier', 'parallel_tool_calls'];
const CHAT_FIELDS = new Set([...SAMPLING_FIELDS, ...IGNORED_CHAT_FIELDS, 'messages', 'max_completion_tokens', 'top_logprobs', 'response_format', 'modalities']);
const COMPLETION_FIELDS = new Set([...SAMPLING_FIELDS, 'prompt', 'suffix', 'echo', 'best_of']);
/** OpenAI fields this server does not implement */
const UNSUPPORTED = new Set(['tools', 'tool_choice', 'functions', 'function_call', 'audio', 'prediction', 'reasoning_effort', 'web_search_options', 'verbosity']);

/** 400 for any field that is unsupported or unknown */
function checkFieldNames(body: Body, known: Set<string>): void {
  for (const k of Object.keys(body)) {
    if (UNSUPPORTED.has(k) && body[k] !== null) throw unsupported(k);
    if (!known.has(k) && !UNSUPPORTED.has(k)) throw invalid(k, `Unrecognized request argument supplied: ${k}`, 'unknown_parameter');
  }
  optString(body, 'model');
  optString(body, 'user');
}

/** POST /v1/chat/completions: messages, sampling, logprobs/top_logprobs */
export function parseChatRequest(body: Body, limits: RequestLimits): ChatRequest {
  checkFieldNames(body, CHAT_FIELDS);
  checkTextOnly(body);
  for (const k of IGNORED_CHAT_FIELDS.filter((f) => f !== 'metadata' && f !== 'service_tier')) optBool(body, k);
  optObject(body, 'metadata');
  optString(body, 'service_tier');
  const messages = parseMessages(body.messages);
  const s = parseSampling(body, limits);
  const logprobs = optBool(body, 'logprobs') ?? false;
  const top = optInt(body, 'top_logprobs', PARAM_RULES.topLogprobs.min, PARAM_RULES.topLogprobs.max);
  if (top !== undefined && !logprobs) throw invalid('top_logprobs', "'top_logprobs' requires 'logprobs' to be true.", 'invalid_value');
  if (logprobs) Object.assign(s.params, { logprobs: true, topLogprobs: top ?? 0 });
  return { messages, ...s };
}

/** response_format {"type": "text"} and modalities ["text"] are what this server does anyway */
function checkTextOnly(body: Body): void {
  const rf = optObject(body, 'response_format');
  if (rf && rf.type !== 'text') throw unsupported('response_format', `${JSON.stringify(rf.type ?? null)} is not supported; only {"type": "text"} is`);
  const mod = body.modalities;
  if (mod !== undefined && mod !== null && !(Array.isArray(mod) && mod.every((m) => m === 'text'))) throw unsupported('modalities', 'supports only ["text"]');
}

function parseMessages(raw: unknown): ChatMessage[] {
  if (raw === undefined || raw === null) throw invalid('messages', "Missing required parameter: 'messages'.", 'missing_required_parameter');
  if (!Array.isArray(raw)) throw invalid('messages', `Invalid type for 'messages': expected an array, but got ${typeName(raw)}.`);
  if (raw.length === 0) throw invalid('messages', "Invalid 'messages': empty array. Expected an array with minimum length 1.", 'invalid_value');
  return raw.map((m, i) => parseMessage(m, `messages[${i}]`));
}

function parseMessage(m: unknown, at: string): ChatMessage {
  if (!isObject(m)) throw invalid(at, `Invalid type for '${at}': expected an object, but got ${typeName(m)}.`);
  for (const k of Object.keys(m)) {
    if (k === 'tool_calls' || k === 'function_call' || k === 'audio' || k === 'tool_call_id') throw unsupported(`${at}.${k}`);
    if (k !== 'role' && k !== 'content' && k !== 'name' && k !== 'refusal') throw invalid(`${at}.${k}`, `Unrecognized request argument supplied: ${at}.${k}`, 'unknown_parameter');
  }
  optString(m, 'name', `${at}.name`);
  // newer clients send system instructions as 'developer'
  const role = m.role === 'developer' ? 'system' : m.role;
  if (role === 'tool' || role === 'function') throw unsupported(`${at}.role`, `'${role}' messages are not supported (this server has no tools)`);
  if (role !== 'system' && role !== 'user' && role !== 'assistant') {
    throw invalid(`${at}.role`, `Invalid value for '${at}.role': ${JSON.stringify(role ?? null)}. Supported values are: 'system', 'developer', 'user' and 'assistant'.`, 'invalid_value');
  }
  return { role, content: messageContent(m.content, `${at}.content`) };
}

function messageContent(c: unknown, param: string): string {
  if (typeof c === 'string') return c;
  // the content-parts form: [{ type: 'text', text }]
  if (Array.isArray(c)) {
    return c.map((part, i) => {
      if (!isObject(part) || part.type !== 'text' || typeof part.text !== 'string') {
        throw invalid(`${param}[${i}]`, `Invalid content part '${param}[${i}]': only {"type": "text", "text": string} parts are supported.`);
      }
      return part.text;
    }).join('');
  }
  if (c === undefined || c === null) throw invalid(param, `Missing required parameter: '${param}'.`, 'missing_required_parameter');
  throw invalid(param, `Invalid type for '${param}': expected a string, but got ${typeName(c)}.`);
}

/** POST /v1/completions: prompt(s), echo, the legacy logprobs N */
export function parseCompletionRequest(body: Body, limits: RequestLimits): CompletionRequest {
  checkFieldNames(body, COMPLETION_FIELDS);
  const prompts = parsePrompts(body.prompt);
  if (body.suffix !== undefined && body.suffix !== null) throw unsupported('suffix', 'is not supported by this model');
  const echo = optBool(body, 'echo') ?? false;
  const s = parseSampling(body, limits);
  const bestOf = optInt(body, 'best_of', 1, limits.maxN);
  if (bestOf !== undefined && bestOf !== s.n) throw unsupported('best_of', `other than n (${s.n}) is not supported`);
  if (prompts.length * s.n > limits.maxN) throw invalid('n', `Too many choices: ${prompts.length} prompts × n=${s.n} exceeds the limit of ${limits.maxN}.`, 'invalid_value');
  const logprobs = optInt(body, 'logprobs', 0, 5) ?? null;
  if (logprobs !== null && echo) throw unsupported('logprobs', 'together with echo (log-probabilities of the prompt) is not supported');
  if (logprobs !== null) Object.assign(s.params, { logprobs: true, topLogprobs: logprobs });
  return { prompts, echo, logprobs, ...s };
}

function parsePrompts(p: unknown): string[] {
  if (p === undefined || p === null) throw invalid('prompt', "Missing required parameter: 'prompt'.", 'missing_required_parameter');
  if (typeof p === 'string') return [p];
  if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string')) return p as string[];
  throw invalid('prompt', "Invalid 'prompt': expected a string or a non-empty array of strings (token-id prompts are not supported).");
}
