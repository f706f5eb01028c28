// A checkpoint as a TextEngine: the chat REPL, the HTTP server and the web page talk to this. A conversation
// becomes token ids through the chat template with every message's content encoded as plain text (so no
// message can forge a turn). Tokens come from the generation core: one request at a time through
// generateTokens, or, with `maxBatch`, many at once through a ContinuousBatcher (requests join the running
// batch between decode steps; each gets exactly the tokens it would get alone). Generation stops at the
// end-of-turn token (or its text, for tokenizers without specials) and reports per-token log-probabilities
// with the likeliest alternatives when asked.
import type { LanguageModel } from '../models/model.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { chatTemplate } from '../data/chat.js';
import type { EnginePrompt, GenerateParams, GenerateResult, OnText, TextEngine, TokenAlternative, TokenLogprob } from './text-engine.js';
import { generateTokens, tick, type GeneratedToken } from './generate.js';
import type { SamplingOptions } from './sampling.js';
import { ContinuousBatcher } from './continuous-batcher.js';
import { StopStringMatcher, StreamDecoder } from './stop.js';

export interface ChatEngineOptions {
  /** decode up to this many requests together (continuous batching); default 1: one at a time, no batcher */
  maxBatch?: number;
}

export class ChatEngine implements TextEngine {
  readonly contextLength: number;
  readonly vocabSize: number;
  /** the server runs this many generations at once */
  readonly maxConcurrent: number;
  private readonly endId: number | undefined;
  private readonly batcher: ContinuousBatcher | null;

  constructor(readonly model: LanguageModel, readonly tokenizer: Tokenizer, readonly modelId = 'gptlab', opts: ChatEngineOptions = {}) {
    this.contextLength = model.contextLength;
    this.vocabSize = tokenizer.vocabSize;
    this.endId = tokenizer.specialTokens.get(chatTemplate.endOfTurn);
    this.maxConcurrent = opts.maxBatch ?? 1;
    // the server's queue bounds the waiting requests; the batcher never needs to refuse one
    this.batcher = this.maxConcurrent > 1 ? new ContinuousBatcher(model, { maxBatch: this.maxConcurrent, maxQueue: Infinity }) : null;
  }

  /**
   * Prompt ids: messages through the chat template with the generation prompt (contents as plain text); a
   * raw completion prompt as the tokenizer reads it with special tokens allowed (it is the caller's own text).
   * Throws what the tokenizer throws for text it cannot encode.
   */
  encodePrompt(prompt: EnginePrompt): number[] {
    if (typeof prompt === 'string') return this.tokenizer.encode(prompt, { allowedSpecial: 'all' });
    return chatTemplate.renderIds(prompt, this.tokenizer, { addGenerationPrompt: true });
  }

  countTokens(prompt: EnginePrompt): number {
    return this.encodePrompt(prompt).length;
  }

  async generate(prompt: EnginePrompt, p: GenerateParams, onText: OnText, signal?: AbortSignal): Promise<GenerateResult> {
    const encoded = this.encodePrompt(prompt);
    const ids = encoded.length ? encoded : [0];
    const stopIds = this.endId !== undefined ? [this.endId] : [];
    const text = new TextAssembler(this.tokenizer, { stopIds, stop: [...(p.stop ?? []), ...chatTemplate.stopStrings], logprobs: !!p.logprobs, onText });
    const run = { maxNewTokens: p.maxTokens, seed: p.seed ?? Math.floor(Math.random() * 2 ** 31), stopTokens: stopIds, topLogprobs: p.logprobs ? p.topLogprobs ?? 0 : 0 };
    const finish = this.batcher
      ? await this.viaBatcher(ids, p, run, text, signal)
      : await this.oneAtATime(ids, p, run, text, signal);
    return { ...text.finish(finish), promptTokens: encoded.length };
  }

  /** generateTokens on this request alone, yielding to the event loop after every token */
  private async oneAtATime(ids: number[], p: GenerateParams, run: RunOptions, text: TextAssembler, signal?: AbortSignal): Promise<'stop' | 'length'> {
    const tokens = generateTokens(this.model, ids, { ...samplingOf(p), ...run });
    for (;;) {
      if (signal?.aborted) return 'stop';
      const r = tokens.next();
      if (r.done) return r.value === 'length' ? 'length' : 'stop';
      if (text.push(r.value)) {
        tokens.return('stop');
        return 'stop';
      }
      await tick();
    }
  }

  /** the request joins the continuous batch; a stop string found in the text ends it there */
  private async viaBatcher(ids: number[], p: GenerateParams, run: RunOptions, text: TextAssembler, signal?: AbortSignal): Promise<'stop' | 'length'> {
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    if (signal?.aborted) ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let stopped = false;
    try {
      const r = await this.batcher!.submit({
        promptIds: ids, ...run, sampling: samplingOf(p), signal: ac.signal,
        onToken: (t: GeneratedToken) => {
          if (!stopped && text.push(t)) {
            stopped = true;
            ac.abort();
          }
        },
      });
      return r.finishReason === 'length' && !stopped ? 'length' : 'stop';
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

type RunOptions = { maxNewTokens: number; seed: number; stopTokens: number[]; topLogprobs: number };

/** the core's sampling options for a request (top_p 0 is greedy there, as in OpenAI's API) */
export function samplingOf(p: GenerateParams): SamplingOptions {
  return {
    temperature: p.temperature, topP: p.topP, topK: p.topK, repetitionPenalty: p.repetitionPenalty,
    logitBias: p.logitBias, presencePenalty: p.presencePenalty, frequencyPenalty: p.frequencyPenalty,
  };
}

export interface TextAssemblerOptions {
  /** end-of-turn ids: counted, never shown nor reported */
  stopIds: readonly number[];
  /** the text ends before the first of these; it is not part of the text */
  stop: readonly string[];
  /** keep each token with its log-probability and alternatives */
  logprobs: boolean;
  onText: OnText;
}

/**
 * Turns generated tokens into streamed text: whole characters only (StreamDecoder), stop strings
 * (StopStringMatcher), and the tokens behind each emitted piece with their log-probabilities. Tokens whose
 * text is held back (a possible stop string) go out with the next piece; those of a stop string never do.
 */
export class TextAssembler {
  private readonly dec: StreamDecoder;
  private readonly matcher: StopStringMatcher;
  private pending: TokenLogprob[] = [];
  private readonly tokens: TokenLogprob[] = [];
  private text = '';
  private count = 0;

  constructor(private readonly tokenizer: Tokenizer, private readonly o: TextAssemblerOptions) {
    this.dec = new StreamDecoder((ids) => tokenizer.decode(ids.filter((i) => !o.stopIds.includes(i))));
    this.matcher = new StopStringMatcher(o.stop);
  }

  /** one token; true when a stop string ended the text (push nothing more) */
  push(t: GeneratedToken): boolean {
    this.count++;
    if (this.o.logprobs && !this.o.stopIds.includes(t.id)) this.pending.push(this.describe(t));
    const res = this.matcher.push(this.dec.push(t.id));
    this.emit(res.text);
    return res.stopped;
  }

  /** flushes what is held back; the result without promptTokens */
  finish(reason: 'stop' | 'length'): Omit<GenerateResult, 'promptTokens'> {
    let finishReason = reason;
    if (!this.matcher.stopped) {
      const res = this.matcher.push(this.dec.flush());
      this.emit(res.text);
      if (res.stopped) finishReason = 'stop';
      else this.emit(this.matcher.flush());
    }
    return { text: this.text, finishReason, completionTokens: this.count, ...(this.o.logprobs ? { tokens: this.tokens } : {}) };
  }

  private emit(piece: string): void {
    if (!piece) return;
    this.text += piece;
    const tokens = this.o.logprobs ? this.pending : undefined;
    if (tokens) this.tokens.push(...tokens);
    this.pending = [];
    this.o.onText(piece, tokens);
  }

  private describe(t: GeneratedToken): TokenLogprob {
    return { ...this.alternative(t.id, t.logprob), top: (t.top ?? []).map((a) => this.alternative(a.id, a.logprob)) };
  }

  private alternative(id: number, logprob: number): TokenAlternative {
    const bytes = this.tokenizer.decodeBytes ? this.tokenizer.decodeBytes([id]) : new TextEncoder().encode(this.tokenizer.decode([id]));
    return { token: this.tokenizer.decode([id]), bytes: [...bytes], logprob };
  }
}
