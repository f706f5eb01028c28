// TextEngine: the boundary between the chat product (REPL, HTTP server, web page) and a language model. Everything on
// this side is testable without a model: tests drive it with a fake engine that "generates" canned text.
// Browser-safe: no Node imports.
import type { ChatMessage } from '../data/chat.js';

export type { ChatMessage } from '../data/chat.js';

export interface GenerateParams {
  maxTokens: number;
  temperature: number;
  topP: number;
  topK?: number;
  repetitionPenalty?: number;
  /** generation ends before the first occurrence of any of these; the stop string is not returned */
  stop?: string[];
  seed?: number;
}

export interface GenerateResult {
  text: string;
  /** 'stop': end-of-turn token or a stop string; 'length': maxTokens or the context window ran out */
  finishReason: 'stop' | 'length';
  promptTokens: number;
  completionTokens: number;
}

export interface TextEngine {
  readonly modelId: string;
  /** max tokens (prompt + completion) */
  readonly contextLength: number;
  countTokens(text: string): number;
  /** the chat prompt for messages, ending where the assistant's reply begins */
  renderChat(messages: ChatMessage[]): string;
  /**
   * Calls onText with each new piece of text; must stop promptly when signal is aborted (resolving with
   * what it has, or rejecting with an AbortError — callers accept both); stops at end-of-turn or a stop
   * string (not included in the text). Pieces concatenated equal result.text.
   */
  generate(
    prompt: string,
    params: GenerateParams,
    onText: (piece: string) => void,
    signal?: AbortSignal,
  ): Promise<GenerateResult>;
}

/** defaults shared by the REPL, the server and the web page */
export const DEFAULT_PARAMS: GenerateParams = { maxTokens: 256, temperature: 0.8, topP: 0.95 };
