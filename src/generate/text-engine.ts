// TextEngine: the boundary between the chat product (REPL, HTTP server, web page) and a language model. Everything on
// this side is testable without a model: tests drive it with a fake engine that "generates" canned text.
// Browser-safe: no Node imports.
import type { ChatMessage } from '../data/chat.js';

export type { ChatMessage } from '../data/chat.js';

/**
 * What to continue: a conversation (rendered by the chat template, its contents encoded as plain text so
 * no message can forge a turn, ending where the assistant's reply begins) or a raw completion prompt.
 */
export type EnginePrompt = string | readonly ChatMessage[];

export interface GenerateParams {
  maxTokens: number;
  /** 0 = greedy */
  temperature: number;
  /** nucleus mass in [0, 1]; 0 = greedy (as OpenAI), 1 = off */
  topP: number;
  topK?: number;
  repetitionPenalty?: number;
  /** generation ends before the first occurrence of any of these; the stop string is not returned */
  stop?: string[];
  seed?: number;
  /** token id → added to that token's logit before sampling, in [-100, 100] (OpenAI's logit_bias) */
  logitBias?: Readonly<Record<number, number>>;
  /** OpenAI's: logit[j] -= (c[j] > 0) · presencePenalty, c[j] = times j was generated so far; in [-2, 2] */
  presencePenalty?: number;
  /** OpenAI's: logit[j] -= c[j] · frequencyPenalty; in [-2, 2] */
  frequencyPenalty?: number;
  /** report each generated token with its log-probability (GenerateResult.tokens, onText's second argument) */
  logprobs?: boolean;
  /** with logprobs: this many most likely alternatives per position (0–20) */
  topLogprobs?: number;
}

/**
 * a token as text, its UTF-8 bytes (a token may hold part of a character) and its natural-log probability
 * under the model itself, before logit_bias, penalties, temperature and top-k/top-p (as OpenAI defines it)
 */
export interface TokenAlternative {
  token: string;
  bytes: number[];
  logprob: number;
}

/** a generated token and, when asked for, the likeliest alternatives at its position, most likely first */
export interface TokenLogprob extends TokenAlternative {
  top: TokenAlternative[];
}

export interface GenerateResult {
  text: string;
  /** 'stop': end-of-turn token or a stop string; 'length': maxTokens or the context window ran out */
  finishReason: 'stop' | 'length';
  promptTokens: number;
  completionTokens: number;
  /** with params.logprobs: the tokens behind `text`, in order (their texts concatenate to about `text`) */
  tokens?: TokenLogprob[];
}

/** receives each new piece of text and, with params.logprobs, the tokens it completes */
export type OnText = (piece: string, tokens?: TokenLogprob[]) => void;

export interface TextEngine {
  readonly modelId: string;
  /** max tokens (prompt + completion) */
  readonly contextLength: number;
  /** the tokenizer's vocabulary size when known (ids in logit_bias must be below it) */
  readonly vocabSize?: number;
  /** generations it runs well at once (continuous batching); the server lets this many run; default 1 */
  readonly maxConcurrent?: number;
  /**
   * Tokens `prompt` takes, counted exactly as `generate` encodes it (messages with the chat template and
   * the generation prompt). Throws when the tokenizer cannot encode it (e.g. an unknown character).
   */
  countTokens(prompt: EnginePrompt): number;
  /**
   * Calls onText with each new piece of text; must stop promptly when signal is aborted (resolving with
   * what it has, or rejecting with an AbortError — callers accept both); stops at end-of-turn or a stop
   * string (not included in the text). Pieces concatenated equal result.text.
   */
  generate(prompt: EnginePrompt, params: GenerateParams, onText: OnText, signal?: AbortSignal): Promise<GenerateResult>;
}

/** defaults shared by the REPL, the server and the web page */
export const DEFAULT_PARAMS: GenerateParams = { maxTokens: 256, temperature: 0.8, topP: 0.95 };
