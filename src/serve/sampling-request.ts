// The sampling fields common to /v1/chat/completions and /v1/completions, each checked for type and range
// with the same rules the terminal chat uses (param-rules.ts). Browser-safe.
import type { GenerateParams } from '../generate/text-engine.js';
import { PARAM_RULES, type ParamRule } from './param-rules.js';
import { invalid, isObject, optBool, optInt, optNumber, typeName, type Body } from './request-fields.js';

export interface RequestLimits {
  /** ceiling for max_tokens */
  maxTokens: number;
  /** used when the request omits max_tokens (then clamped to what fits in the context) */
  defaultMaxTokens: number;
  /** longest accepted prompt, in tokens */
  maxPromptTokens: number;
  /** most choices per request */
  maxN: number;
  /** the model's vocabulary size, when known: logit_bias ids must be below it */
  vocabSize?: number;
}

export interface SamplingRequest {
  /** undefined when the request did not say: the server picks a default that fits the context */
  maxTokens: number | undefined;
  params: Omit<GenerateParams, 'maxTokens'>;
  n: number;
  stream: boolean;
  includeUsage: boolean;
}

/** most logit_bias entries accepted */
export const MAX_LOGIT_BIAS = 1024;

/** reads the sampling fields; logprobs are read by each endpoint (their shapes differ) */
export function parseSampling(body: Body, limits: RequestLimits): SamplingRequest {
  const params: SamplingRequest['params'] = { temperature: rule(body, PARAM_RULES.temperature) ?? 1, topP: rule(body, PARAM_RULES.topP) ?? 1 };
  const optional = { topK: PARAM_RULES.topK, repetitionPenalty: PARAM_RULES.repetitionPenalty, presencePenalty: PARAM_RULES.presencePenalty, frequencyPenalty: PARAM_RULES.frequencyPenalty, seed: PARAM_RULES.seed };
  for (const [key, r] of Object.entries(optional)) {
    const v = rule(body, r);
    if (v !== undefined) (params as Record<string, unknown>)[key] = v;
  }
  const logitBias = parseLogitBias(body, limits.vocabSize);
  if (logitBias) params.logitBias = logitBias;
  const stop = parseStop(body);
  if (stop.length) params.stop = stop;
  const n = optInt(body, 'n', 1, limits.maxN) ?? 1;
  const stream = optBool(body, 'stream') ?? false;
  return { maxTokens: parseMaxTokens(body, limits), params, n, stream, includeUsage: parseStreamOptions(body, stream) };
}

function rule(body: Body, r: ParamRule): number | undefined {
  return r.integer ? optInt(body, r.name, r.min, r.max) : optNumber(body, r.name, r.min, r.max, r.exclusiveMin);
}

function parseMaxTokens(body: Body, limits: RequestLimits): number | undefined {
  const mt = optInt(body, 'max_completion_tokens', 1, Number.MAX_SAFE_INTEGER) ?? optInt(body, 'max_tokens', 1, Number.MAX_SAFE_INTEGER);
  if (mt !== undefined && mt > limits.maxTokens) {
    const param = body.max_completion_tokens !== undefined && body.max_completion_tokens !== null ? 'max_completion_tokens' : 'max_tokens';
    throw invalid(param, `'${param}' is too large: ${mt}. This server allows at most ${limits.maxTokens} completion tokens.`, 'invalid_value');
  }
  return mt;
}

function parseStreamOptions(body: Body, stream: boolean): boolean {
  const so = body.stream_options;
  if (so === undefined || so === null) return false;
  if (!isObject(so)) throw invalid('stream_options', `Invalid type for 'stream_options': expected an object, but got ${typeName(so)}.`);
  if (!stream) throw invalid('stream_options', "The 'stream_options' parameter is only allowed when 'stream' is enabled.");
  for (const k of Object.keys(so)) {
    if (k !== 'include_usage') throw invalid(`stream_options.${k}`, `Unrecognized request argument supplied: stream_options.${k}`, 'unknown_parameter');
  }
  return optBool(so, 'include_usage', 'stream_options.include_usage') ?? false;
}

/** a string or up to 4 strings; empty ones are dropped */
function parseStop(body: Body): string[] {
  const st = body.stop;
  if (st === undefined || st === null) return [];
  if (typeof st === 'string') return st ? [st] : [];
  if (!Array.isArray(st)) throw invalid('stop', `Invalid type for 'stop': expected a string or an array of strings, but got ${typeName(st)}.`);
  if (st.length > 4) throw invalid('stop', `Invalid 'stop': at most 4 stop sequences are allowed, got ${st.length}.`, 'invalid_value');
  st.forEach((x, i) => {
    if (typeof x !== 'string') throw invalid(`stop[${i}]`, `Invalid type for 'stop[${i}]': expected a string, but got ${typeName(x)}.`);
  });
  return (st as string[]).filter((s) => s.length > 0);
}

/** `{ "token id": bias }` with ids below the vocabulary size and biases in [-100, 100] */
function parseLogitBias(body: Body, vocabSize: number | undefined): Record<number, number> | undefined {
  const lb = body.logit_bias;
  if (lb === undefined || lb === null) return undefined;
  if (!isObject(lb)) throw invalid('logit_bias', `Invalid type for 'logit_bias': expected an object mapping token ids to biases, but got ${typeName(lb)}.`);
  const entries = Object.entries(lb);
  if (entries.length > MAX_LOGIT_BIAS) throw invalid('logit_bias', `Invalid 'logit_bias': at most ${MAX_LOGIT_BIAS} entries are allowed, got ${entries.length}.`, 'invalid_value');
  const out: Record<number, number> = {};
  for (const [k, v] of entries) {
    const id = /^(0|[1-9]\d{0,15})$/.test(k) ? Number(k) : NaN;
    if (!Number.isSafeInteger(id) || (vocabSize !== undefined && id >= vocabSize)) {
      throw invalid('logit_bias', `Invalid 'logit_bias': key ${JSON.stringify(k)} is not a token id${vocabSize !== undefined ? ` (an integer from 0 to ${vocabSize - 1})` : ''}.`, 'invalid_value');
    }
    const bias = optNumber(lb, k, PARAM_RULES.logitBias.min, PARAM_RULES.logitBias.max, false, `logit_bias.${k}`);
    if (bias === undefined) throw invalid(`logit_bias.${k}`, `Invalid type for 'logit_bias.${k}': expected a number, but got null.`);
    out[id] = bias;
  }
  return out;
}
