// A TextEngine without a model, for tests and the server benchmark: one token is one character, and the
// "generated" text is a deterministic function of the prompt and parameters, produced with an async yield
// between tokens so that streaming, disconnects and queueing behave as with the real engine.
import { StopStringMatcher } from '../../src/generate/stop.js';
import { chatTemplate } from '../../src/data/chat.js';
import { type ChatMessage, type GenerateParams, type GenerateResult, type TextEngine } from '../../src/generate/text-engine.js';

export interface FakeEngineOptions {
  modelId?: string;
  contextLength?: number;
  /** ms to wait per token; 0 (default) yields with setImmediate only */
  tokenDelayMs?: number;
  /** the full text to "generate" for a prompt (before stop strings and maxTokens cut it) */
  reply?: (prompt: string, params: GenerateParams) => string;
}

export interface FakeCall {
  prompt: string;
  params: GenerateParams;
  aborted: boolean;
  finished: boolean;
  text: string;
}

const FILLER = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ';

/**
 * Default reply: `You said: <last user message>.`, then end of turn. A last message containing "long"
 * gets endless filler text instead (so it runs to max_tokens); with a seed the reply starts `[seed N] `.
 * A raw completion prompt (no chat markers) is continued with ` and then <prompt's last word>.`.
 */
export function defaultReply(prompt: string, params: GenerateParams): string {
  const seedTag = params.seed !== undefined ? `[seed ${params.seed}] ` : '';
  const m = /<\|user\|>((?:(?!<\|end\|>)[\s\S])*)<\|end\|>\s*<\|assistant\|>$/.exec(prompt);
  if (!m) {
    const words = prompt.trim().split(/\s+/);
    return `${seedTag} and then ${words[words.length - 1] ?? ''}.`;
  }
  const said = m[1];
  if (said.includes('long')) return seedTag + FILLER.repeat(1 + Math.ceil(params.maxTokens / FILLER.length));
  return `${seedTag}You said: ${said}.`;
}

export class FakeEngine implements TextEngine {
  readonly modelId: string;
  readonly contextLength: number;
  readonly calls: FakeCall[] = [];
  /** generations running right now, and the most ever at once (the server should keep this at 1) */
  active = 0;
  maxActive = 0;
  /** ms per token; tests may change it between requests */
  tokenDelayMs: number;
  private readonly reply: (prompt: string, params: GenerateParams) => string;

  constructor(opts: FakeEngineOptions = {}) {
    this.modelId = opts.modelId ?? 'fake-model';
    this.contextLength = opts.contextLength ?? 1024;
    this.tokenDelayMs = opts.tokenDelayMs ?? 0;
    this.reply = opts.reply ?? defaultReply;
  }

  countTokens(text: string): number {
    return [...text].length;
  }

  renderChat(messages: ChatMessage[]): string {
    return chatTemplate.render(messages, { addGenerationPrompt: true });
  }

  async generate(prompt: string, params: GenerateParams, onText: (piece: string) => void, signal?: AbortSignal): Promise<GenerateResult> {
    const call: FakeCall = { prompt, params, aborted: false, finished: false, text: '' };
    this.calls.push(call);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      const promptTokens = this.countTokens(prompt);
      const budget = Math.min(params.maxTokens, this.contextLength - promptTokens);
      const chars = [...this.reply(prompt, params)];
      const filter = new StopStringMatcher(params.stop ?? []);
      let text = '';
      let n = 0;
      let finishReason: GenerateResult['finishReason'] = 'stop';
      for (const ch of chars) {
        if (n >= budget) {
          finishReason = 'length';
          break;
        }
        await (this.tokenDelayMs > 0 ? new Promise((r) => setTimeout(r, this.tokenDelayMs)) : new Promise((r) => setImmediate(r)));
        if (signal?.aborted) {
          call.aborted = true;
          break;
        }
        n++;
        const out = filter.push(ch).text;
        text += out;
        if (out) onText(out);
        if (filter.stopped) break;
      }
      if (!filter.stopped && !call.aborted) {
        const rest = filter.flush();
        text += rest;
        if (rest) onText(rest);
      }
      call.text = text;
      call.finished = !call.aborted;
      return { text, finishReason, promptTokens, completionTokens: n };
    } finally {
      this.active--;
    }
  }
}
