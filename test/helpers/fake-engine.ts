// A TextEngine without a model, for tests and the server benchmark: one token is one character, and the
// "generated" text is a deterministic function of the prompt and parameters, produced with an async yield
// between tokens so that streaming, disconnects and queueing behave as with the real engine.
import { StopStringMatcher } from '../../src/generate/stop.js';
import { chatTemplate } from '../../src/data/chat.js';
import type { ChatMessage, EnginePrompt, GenerateParams, GenerateResult, OnText, TextEngine, TokenLogprob } from '../../src/generate/text-engine.js';

export interface FakeEngineOptions {
  modelId?: string;
  contextLength?: number;
  /** ms to wait per token; 0 (default) yields with setImmediate only */
  tokenDelayMs?: number;
  /** the full text to "generate" for a prompt (before stop strings and maxTokens cut it) */
  reply?: (prompt: string, params: GenerateParams) => string;
}

export interface FakeCall {
  /** the prompt as text: messages rendered by the chat template */
  prompt: string;
  /** the messages, for a chat prompt */
  messages?: readonly ChatMessage[];
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

  readonly vocabSize = 0x110000;

  /** one token per character of the rendered prompt */
  countTokens(prompt: EnginePrompt): number {
    return [...this.renderChat(prompt)].length;
  }

  /** the text the fake "model" reads: a raw prompt as is, messages through the chat template */
  renderChat(prompt: EnginePrompt): string {
    return typeof prompt === 'string' ? prompt : chatTemplate.render(prompt, { addGenerationPrompt: true });
  }

  async generate(input: EnginePrompt, params: GenerateParams, onText: OnText, signal?: AbortSignal): Promise<GenerateResult> {
    const prompt = this.renderChat(input);
    const call: FakeCall = { prompt, params, aborted: false, finished: false, text: '', ...(typeof input === 'string' ? {} : { messages: input }) };
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
      const tokens: TokenLogprob[] = [];
      let pending: TokenLogprob[] = [];
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
        if (params.logprobs) pending.push(fakeLogprob(ch, n, params.topLogprobs ?? 0));
        const out = filter.push(ch).text;
        text += out;
        if (out) {
          tokens.push(...pending);
          onText(out, params.logprobs ? pending : undefined);
          pending = [];
        }
        if (filter.stopped) break;
      }
      if (!filter.stopped && !call.aborted) {
        const rest = filter.flush();
        text += rest;
        if (rest) {
          tokens.push(...pending);
          onText(rest, params.logprobs ? pending : undefined);
        }
      }
      call.text = text;
      call.finished = !call.aborted;
      return { text, finishReason, promptTokens, completionTokens: n, ...(params.logprobs ? { tokens } : {}) };
    } finally {
      this.active--;
    }
  }
}

/**
 * The fake's log-probabilities: token n (1-based) has logprob -(n % 4) / 4; the alternatives are the token
 * itself, then "a", "b", … with logprobs 1, 2, … lower.
 */
export function fakeLogprob(ch: string, n: number, top: number): TokenLogprob {
  const logprob = n % 4 === 0 ? 0 : -(n % 4) / 4;
  const bytes = [...new TextEncoder().encode(ch)];
  const alts = Array.from({ length: top }, (_, i) => {
    const token = i === 0 ? ch : String.fromCharCode(96 + i);
    return { token, bytes: [...new TextEncoder().encode(token)], logprob: logprob - i };
  });
  return { token: ch, bytes, logprob, top: alts };
}
