// Scores a text with a model: slides non-overlapping windows of the block size over the tokens so every
// token (but the first) is predicted exactly once, and reports mean loss, perplexity, bits per byte and
// top-k accuracy.
import type { LanguageModel } from '../models/model.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { noGrad } from '../tensor/tensor.js';
import { stepScope } from '../tensor/storage.js';
import { bitsPerByte, perplexity } from './metrics.js';
import { splitTokens, type SplitFractions } from '../data/dataset.js';

export interface EvalResult {
  tokens: number;
  loss: number;
  perplexity: number;
  bitsPerByte: number;
  top1: number;
  top5: number;
}

export interface EvalOptions {
  batchSize?: number;
  maxTokens?: number;
  source?: string;
  /** score only one part of a train/dev/test split by position, as training split the tokens */
  split?: SplitFractions;
  part?: 'train' | 'dev' | 'test';
}

export function evaluateText(model: LanguageModel, tokenizer: Tokenizer, text: string, opts: EvalOptions = {}): EvalResult {
  let ids: number[];
  try {
    ids = tokenizer.encode(text);
  } catch (e) {
    throw new Error(`${opts.source ?? 'text'}: cannot be tokenized with the checkpoint's tokenizer: ${(e as Error).message}`);
  }
  if (opts.split && opts.part) ids = Array.from(splitTokens(Int32Array.from(ids), opts.split)[opts.part]);
  if (opts.maxTokens && ids.length > opts.maxTokens + 1) ids = ids.slice(0, opts.maxTokens + 1);
  if (ids.length < 2) throw new Error(`${opts.source ?? 'text'}: needs at least 2 tokens to score, has ${ids.length}`);
  const T = model.config.blockSize, V = model.config.vocabSize, B = opts.batchSize ?? 8;
  // windows: x = ids[s, s+t), y = ids[s+1, s+t+1)
  const starts: number[] = [];
  for (let s = 0; s < ids.length - 1; s += T) starts.push(s);
  let nats = 0, n = 0, top1 = 0, top5 = 0;
  model.toStorage().eval();
  noGrad(() => {
    for (let i = 0; i < starts.length; i += B) {
      const group = starts.slice(i, i + B);
      // the last window may be short: run it alone with its own length
      const full = group.filter((s) => s + T + 1 <= ids.length);
      const runs = full.length === group.length ? [group] : [full, group.filter((s) => s + T + 1 > ids.length)];
      for (const g of runs) {
        if (!g.length) continue;
        const t = Math.min(T, ids.length - 1 - g[0]);
        const x = new Int32Array(g.length * t), y = new Int32Array(g.length * t);
        g.forEach((s, b) => {
          for (let j = 0; j < t; j++) (x[b * t + j] = ids[s + j]), (y[b * t + j] = ids[s + j + 1]);
        });
        // each batch's activations live in a step arena, read here and released (src/tensor/storage.ts)
        stepScope(() => {
          const L = model.forward(x, g.length, t).logits.data;
          for (let r = 0; r < g.length * t; r++) {
            const o = r * V, target = y[r];
            let m = -Infinity;
            for (let j = 0; j < V; j++) if (L[o + j] > m) m = L[o + j];
            let s = 0, above = 0;
            const lt = L[o + target];
            for (let j = 0; j < V; j++) {
              s += Math.exp(L[o + j] - m);
              if (L[o + j] > lt) above++;
            }
            nats += m + Math.log(s) - lt;
            if (above === 0) top1++;
            if (above < 5) top5++;
            n++;
          }
        });
      }
    }
  });
  const loss = nats / n;
  const bytes = new TextEncoder().encode(tokenizer.decode(ids.slice(1))).length;
  return { tokens: n, loss, perplexity: perplexity(loss), bitsPerByte: bitsPerByte(nats, bytes), top1: top1 / n, top5: top5 / n };
}
