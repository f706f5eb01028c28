// A checkpoint as a TextEngine: the chat REPL, the HTTP server and the web page talk to this. A conversation
// becomes token ids through the chat template with every message's content encoded as plain text (so no
// message can forge a turn); generation steps through the generation core (decoder.ts DecodeBatch), stops at
// the end-of-turn token (or its text, for tokenizers without specials) and reports per-token log-probabilities
// with the likeliest alternatives when asked.
import type { LanguageModel } from '../models/model.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { chatTemplate } from '../data/chat.js';
import type { EnginePrompt, GenerateParams, GenerateResult, OnText, TextEngine, TokenAlternative, TokenLogprob } from './text-engine.js';
import { DecodeBatch, tokenLogprob } from './decoder.js';
import { sampleNext, type SamplingOptions } from './sampling.js';
import { StopStringMatcher, StreamDecoder } from './stop.js';
import { tick } from './generate.js';
import { Rng } from '../tensor/rng.js';

/** one generated token: its id, the model's log-probability of it, and the top alternatives as [id, logprob] */
interface StepToken {
  id: number;
  logprob: number;
  top: [number, number][];
}

export class ChatEngine implements TextEngine {
  readonly contextLength: number;
  readonly vocabSize: number;
  private readonly endId: number | undefined;

  constructor(readonly model: LanguageModel, readonly tokenizer: Tokenizer, readonly modelId = 'gptlab') {
    this.contextLength = model.contextLength;
    this.vocabSize = tokenizer.vocabSize;
    this.endId = tokenizer.specialTokens.get(chatTemplate.endOfTurn);
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
    const ids = this.encodePrompt(prompt);
    const stopIds = this.endId !== undefined ? [this.endId] : [];
    const rng = new Rng(p.seed ?? Math.floor(Math.random() * 2 ** 31));
    const tokens = stepTokens(this.model, ids.length ? ids : [0], p, rng, stopIds);
    const r = await this.decodeText(tokens, p, stopIds, onText, signal);
    return { ...r, promptTokens: ids.length };
  }

  /** runs the token stream into text: stream decoding, stop strings, abort, per-token logprobs */
  private async decodeText(
    tokens: Generator<StepToken, 'stop' | 'length'>, p: GenerateParams, stopIds: number[], onText: OnText, signal?: AbortSignal,
  ): Promise<Omit<GenerateResult, 'promptTokens'>> {
    const dec = new StreamDecoder((ids) => this.tokenizer.decode(ids.filter((i) => !stopIds.includes(i))));
    const matcher = new StopStringMatcher([...(p.stop ?? []), ...chatTemplate.stopStrings]);
    const out: TokenLogprob[] = [];
    let pending: TokenLogprob[] = [];
    let text = '';
    let n = 0;
    const emit = (piece: string): void => {
      if (!piece) return;
      text += piece;
      if (p.logprobs) out.push(...pending);
      onText(piece, p.logprobs ? pending : undefined);
      pending = [];
    };
    let finish: 'stop' | 'length' = 'length';
    for (;;) {
      if (signal?.aborted) break;
      const r = tokens.next();
      if (r.done) {
        finish = r.value;
        break;
      }
      n++;
      if (p.logprobs && !stopIds.includes(r.value.id)) pending.push(this.describe(r.value));
      const res = matcher.push(dec.push(r.value.id));
      emit(res.text);
      if (res.stopped) {
        finish = 'stop';
        tokens.return('stop');
        break;
      }
      await tick();
    }
    if (!matcher.stopped) {
      const res = matcher.push(dec.flush());
      emit(res.text);
      if (res.stopped) finish = 'stop';
      else emit(matcher.flush());
    }
    return { text, finishReason: finish, completionTokens: n, ...(p.logprobs ? { tokens: out } : {}) };
  }

  private describe(t: StepToken): TokenLogprob {
    return { ...this.alternative(t.id, t.logprob), top: t.top.map(([id, lp]) => this.alternative(id, lp)) };
  }

  private alternative(id: number, logprob: number): TokenAlternative {
    const bytes = this.tokenizer.decodeBytes ? this.tokenizer.decodeBytes([id]) : new TextEncoder().encode(this.tokenizer.decode([id]));
    return { token: this.tokenizer.decode([id]), bytes: [...bytes], logprob };
  }
}

/**
 * Yields tokens one by one on the generation core, sliding past the context window (restarting from the last
 * contextLength tokens) as generateTokens does. Log-probabilities are those of the model's distribution after
 * logit_bias and the presence/frequency penalties, before repetition penalty, temperature and top-k/top-p (so
 * a greedy choice is always the first alternative). Returns 'stop' after a stop id, 'length' after maxTokens.
 */
function* stepTokens(model: LanguageModel, prompt: number[], p: GenerateParams, rng: Rng, stopIds: number[]): Generator<StepToken, 'stop' | 'length'> {
  const ctx = prompt.slice();
  const counts = new Map<number, number>();
  const wasTraining = model.training;
  model.eval();
  let dec: DecodeBatch | null = null;
  try {
    for (let n = 0; n < p.maxTokens; n++) {
      let logits: Float32Array;
      if (dec && dec.room >= 1) logits = dec.step([ctx[ctx.length - 1]]);
      else {
        dec = new DecodeBatch(model, [ctx.slice(-model.contextLength)]);
        logits = dec.prefill();
      }
      const row = adjustLogits(logits.slice(), p, counts);
      const next = sampleNext(row.slice(), samplingOf(p), rng, ctx);
      ctx.push(next);
      counts.set(next, (counts.get(next) ?? 0) + 1);
      yield { id: next, logprob: tokenLogprob(row, next), top: topLogprobs(row, p.logprobs ? p.topLogprobs ?? 0 : 0) };
      if (stopIds.includes(next)) return 'stop';
    }
    return 'length';
  } finally {
    model.train(wasTraining);
  }
}

/** the sampler's options; top_p 0 means greedy, as in OpenAI's API */
export function samplingOf(p: GenerateParams): SamplingOptions {
  if (p.topP === 0) return { temperature: 0, topK: p.topK, repetitionPenalty: p.repetitionPenalty };
  return { temperature: p.temperature, topP: p.topP, topK: p.topK, repetitionPenalty: p.repetitionPenalty };
}

/**
 * OpenAI's logit processors, in place on one row (V): logit[j] += bias[j];
 * logit[j] -= c[j]·frequencyPenalty + (c[j] > 0)·presencePenalty, c[j] = count of j generated so far.
 */
export function adjustLogits(logits: Float32Array, p: GenerateParams, counts: ReadonlyMap<number, number>): Float32Array {
  for (const [k, b] of Object.entries(p.logitBias ?? {})) {
    const id = Number(k);
    if (id >= 0 && id < logits.length) logits[id] += b;
  }
  const fp = p.frequencyPenalty ?? 0;
  const pp = p.presencePenalty ?? 0;
  if (fp !== 0 || pp !== 0) for (const [id, c] of counts) if (id < logits.length) logits[id] -= c * fp + (c > 0 ? pp : 0);
  return logits;
}

/** the k likeliest ids of a logits row (V) with their log-probabilities, most likely first (ties: lower id) */
export function topLogprobs(logits: Float32Array, k: number): [number, number][] {
  if (k <= 0) return [];
  const best: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    if (best.length === k && !(logits[i] > logits[best[k - 1]])) continue;
    let j = Math.min(best.length, k - 1);
    best[j] = i;
    while (j > 0 && logits[best[j - 1]] < logits[i]) {
      best[j] = best[j - 1];
      best[--j] = i;
    }
  }
  const logZ = logits[best[0]] - tokenLogprob(logits, best[0]);
  return best.map((id) => [id, logits[id] - logZ]);
}
