// Scores a text with a model: slides non-overlapping windows of the block size over the tokens so every
// token (but the first) is predicted exactly once, and reports mean loss, perplexity, bits per byte, bits per
// character and top-k accuracy.
//
// Bits per byte counts the bytes the scored tokens contribute to the text: the byte length of
// decodeBytes(ids[0..n)) − decodeBytes(ids[0..1)) on raw token bytes, so a first token that ends inside a
// UTF-8 character (a byte-level BPE on "，明明") neither adds nor loses bytes; decoding ids[1:] on its own
// would turn the orphaned continuation bytes into U+FFFD (3 bytes each) and understate bits per byte.
// Bits per character counts the Unicode characters (code points) that end in those bytes, so the character
// the first token leaves unfinished counts as scored; for a char tokenizer it is loss / ln 2.
// Top-k accuracy counts tied logits as fractional hits (metrics.ts topKHit): uniform logits score k/V.
import type { LanguageModel } from '../models/model.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { noGrad } from '../tensor/tensor.js';
import { stepScope } from '../backend/storage.js';
import { bitsPerByte, perplexity, topKShare } from './metrics.js';
import { splitTokens, type SplitFractions } from '../data/dataset.js';

export interface EvalResult {
  tokens: number;
  loss: number;
  perplexity: number;
  bitsPerByte: number;
  /** bits per Unicode character (code point) of the scored text */
  bitsPerChar: number;
  top1: number;
  top5: number;
}

export interface EvalOptions {
  batchSize?: number;
  /** score at most this many tokens (0 or absent: all) */
  maxTokens?: number;
  source?: string;
  /** score only one part of a train/dev/test split by position, as training split the tokens */
  split?: SplitFractions;
  part?: 'train' | 'dev' | 'test';
}

/** running sums over scored tokens */
interface Totals { nats: number; n: number; top1: number; top5: number }

/**
 * Scores `text` (all of it, or one part of a split). Throws a one-line Error naming `opts.source` when the
 * text cannot be tokenized, the part scored has fewer than 2 tokens, the scored tokens decode to no bytes,
 * batchSize is not a positive integer or maxTokens not an integer ≥ 0, or the model produces a non-finite logit.
 */
export function evaluateText(model: LanguageModel, tokenizer: Tokenizer, text: string, opts: EvalOptions = {}): EvalResult {
  const where = opts.source ?? 'text';
  const { batchSize, maxTokens } = opts;
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0)) throw new Error(`${where}: batchSize must be a positive integer, got ${batchSize}`);
  if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && maxTokens >= 0)) throw new Error(`${where}: maxTokens must be an integer ≥ 0 (0: no limit), got ${maxTokens}`);
  const ids = tokensToScore(tokenizer, text, opts, where);
  const totals: Totals = { nats: 0, n: 0, top1: 0, top5: 0 };
  model.toStorage().eval();
  noGrad(() => {
    for (const g of windowGroups(ids.length, model.config.blockSize, opts.batchSize ?? 8)) scoreGroup(model, ids, g, totals, where);
  });
  const { bytes, chars } = scoredSpan(tokenizer, ids);
  if (bytes === 0) throw new Error(`${where}: the ${ids.length - 1} scored tokens decode to no bytes, so bits per byte is undefined`);
  const { nats, n } = totals;
  const loss = nats / n;
  return {
    tokens: n, loss, perplexity: perplexity(loss), bitsPerByte: bitsPerByte(nats, bytes), bitsPerChar: nats / (chars * Math.LN2),
    top1: totals.top1 / n, top5: totals.top5 / n,
  };
}

/** the token ids to score: encoded, cut to the part and to maxTokens + 1; at least 2 */
function tokensToScore(tokenizer: Tokenizer, text: string, opts: EvalOptions, where: string): number[] {
  let ids: number[];
  try {
    ids = tokenizer.encode(text);
  } catch (e) {
    throw new Error(`${where}: cannot be tokenized with the checkpoint's tokenizer: ${(e as Error).message}`);
  }
  let what = where;
  if (opts.split && opts.part) {
    ids = Array.from(splitTokens(Int32Array.from(ids), opts.split)[opts.part]);
    what = `${where} (the ${opts.part} part of its ${ids.length === 0 ? 'split, which is empty' : 'split'})`;
  }
  if (opts.maxTokens && ids.length > opts.maxTokens + 1) ids = ids.slice(0, opts.maxTokens + 1);
  if (ids.length < 2) throw new Error(`${what}: needs at least 2 tokens to score, has ${ids.length}`);
  return ids;
}

/** window starts, grouped into batches of equal length: full windows by `B`, the short last one alone */
function windowGroups(count: number, T: number, B: number): number[][] {
  const starts: number[] = [];
  for (let s = 0; s < count - 1; s += T) starts.push(s);
  const out: number[][] = [];
  for (let i = 0; i < starts.length; i += B) {
    const group = starts.slice(i, i + B);
    const full = group.filter((s) => s + T + 1 <= count);
    if (full.length) out.push(full);
    const short = group.filter((s) => s + T + 1 > count);
    if (short.length) out.push(short);
  }
  return out;
}

/** runs one batch of windows x = ids[s, s+t), y = ids[s+1, s+t+1) and adds its scores to `totals` */
function scoreGroup(model: LanguageModel, ids: number[], g: number[], totals: Totals, where: string): void {
  const T = model.config.blockSize, V = model.config.vocabSize;
  const t = Math.min(T, ids.length - 1 - g[0]);
  const x = new Int32Array(g.length * t), y = new Int32Array(g.length * t);
  g.forEach((s, b) => {
    for (let j = 0; j < t; j++) (x[b * t + j] = ids[s + j]), (y[b * t + j] = ids[s + j + 1]);
  });
  // each batch's activations live in a step arena, read here and released (src/backend/storage.ts)
  stepScope(() => {
    const L = model.forward(x, g.length, t).logits.data;
    for (let r = 0; r < g.length * t; r++) {
      const o = r * V, target = y[r];
      let m = -Infinity;
      for (let j = 0; j < V; j++) {
        const v = L[o + j];
        if (!Number.isFinite(v)) {
          throw new Error(`${where}: token ${g[Math.floor(r / t)] + (r % t) + 1}: the model produced a non-finite logit (${v}) for id ${j}`);
        }
        if (v > m) m = v;
      }
      const lt = L[o + target];
      let s = 0, greater = 0, tied = 0;
      for (let j = 0; j < V; j++) {
        const v = L[o + j];
        s += Math.exp(v - m);
        if (v > lt) greater++;
        else if (v === lt) tied++;
      }
      totals.nats += m + Math.log(s) - lt;
      totals.top1 += topKShare(greater, tied, 1);
      totals.top5 += topKShare(greater, tied, 5);
      totals.n++;
    }
  });
}

/**
 * Bytes the scored tokens ids[1..] add to the text: |bytes(ids)| − |bytes(ids[0])| on raw token bytes
 * (Tokenizer.decodeBytes, exact at every cut point), or on the UTF-8 of decode() for tokenizers whose
 * tokens are whole characters and have no decodeBytes.
 */
export function scoredBytes(tokenizer: Tokenizer, ids: ArrayLike<number>): number {
  return scoredSpan(tokenizer, ids).bytes;
}

/**
 * What the scored tokens ids[1..] add to the text: its bytes (scoredBytes) and the characters (code points)
 * that end in them — every UTF-8 lead byte there, plus the character the first token leaves unfinished.
 * Example: a first token holding 1 of the 3 bytes of "，" before "明明" → 8 bytes, 3 characters.
 */
export function scoredSpan(tokenizer: Tokenizer, ids: ArrayLike<number>): { bytes: number; chars: number } {
  const all = Array.from(ids);
  const raw = (part: number[]): Uint8Array => (tokenizer.decodeBytes ? tokenizer.decodeBytes(part) : new TextEncoder().encode(tokenizer.decode(part)));
  const bytes = raw(all), cut = raw(all.slice(0, 1)).length;
  const continuation = (b: number): boolean => (b & 0xc0) === 0x80;
  let chars = cut < bytes.length && continuation(bytes[cut]) ? 1 : 0;
  for (let i = cut; i < bytes.length; i++) if (!continuation(bytes[i])) chars++;
  return { bytes: bytes.length - cut, chars };
}
