// The boundary between the chat product (REPL, HTTP server, web page) and a language model. Everything on
// this side is testable without a model: tests drive it with a fake engine that "generates" canned text.
// Browser-safe: no Node imports.

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

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

/**
 * Holds back the tail of streamed text that could be the start of a stop string, so that an engine (or a
 * wrapper) can stream pieces and still never emit any part of a stop string. push() returns the text that
 * is safe to emit now; `stopped` becomes true once a stop string is complete; flush() returns the rest.
 */
export class StopStringFilter {
  private pending = '';
  stopped = false;
  /** everything emitted so far */
  text = '';

  constructor(private readonly stops: readonly string[]) {}

  push(piece: string): string {
    if (this.stopped) return '';
    this.pending += piece;
    let cut = -1;
    for (const s of this.stops) {
      if (!s) continue;
      const at = this.pending.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.stopped = true;
      const out = this.pending.slice(0, cut);
      this.pending = '';
      this.text += out;
      return out;
    }
    // keep the longest suffix that is a proper prefix of some stop string
    let keep = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, this.pending.length); k > keep; k--) {
        if (this.pending.endsWith(s.slice(0, k))) {
          keep = k;
          break;
        }
      }
    }
    const out = this.pending.slice(0, this.pending.length - keep);
    this.pending = this.pending.slice(this.pending.length - keep);
    this.text += out;
    return out;
  }

  flush(): string {
    if (this.stopped) return '';
    const out = this.pending;
    this.pending = '';
    this.text += out;
    return out;
  }
}
