// Tiny fixed-seed models and tokenizers for the GGUF tests. Random weights are scaled up so that logits
// are far apart and greedy decoding has no near-ties (a 0.02-std random model predicts almost uniformly).
import { GPT } from '../src/models/gpt.js';
import { Llama } from '../src/models/llama.js';
import type { LanguageModel } from '../src/models/model.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { trainBPE } from '../src/tokenizers/bpe-train.js';
import type { Tokenizer } from '../src/tokenizers/tokenizer.js';
import { Rng } from '../src/tensor/rng.js';
import { noGrad } from '../src/tensor/tensor.js';

/** deterministic English-like text */
export function generatedText(n = 300, seed = 5): string {
  const words = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'and', 'cat', 'sat', 'on', 'mat', 'with', 'hat', 'in', 'sun', 'rain', 'runs', 'far', 'Hello', 'World'];
  const rng = new Rng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(words[Math.floor(rng.random() * words.length)]! + (i % 9 === 8 ? '.\n' : i % 5 === 4 ? ',' : ''));
  return out.join(' ') + ' 12 345! "quoted" it\'s';
}

export function charTokenizer(): Tokenizer {
  return CharTokenizer.fromText(generatedText(), ['<|user|>', '<|assistant|>', '<|end|>']);
}

export function bpeTokenizer(pattern: 'gpt2' | 'gpt4' = 'gpt2'): Tokenizer {
  return trainBPE(generatedText(), { vocabSize: 320, pattern, specialTokens: ['<|endoftext|>'] });
}

function scale(model: LanguageModel, s: number): LanguageModel {
  for (const [, p] of model.namedParameters()) if (p.ndim === 2) for (let i = 0; i < p.data.length; i++) p.data[i]! *= s;
  return model.eval();
}

/** a GPT (biases on) whose matrices have rows of `width` (a multiple of 256 allows K-quants) */
export function tinyGPT(vocabSize: number, width = 256, seed = 3): LanguageModel {
  return scale(new GPT({ vocabSize, blockSize: 128, nLayer: 2, nHead: 4, nEmbd: width, dropout: 0, bias: true }, seed), 6);
}

/** a LLaMA with grouped-query attention and an untied head */
export function tinyLlama(vocabSize: number, width = 256, seed = 3, tied = false): LanguageModel {
  return scale(new Llama({
    vocabSize, blockSize: 128, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: width, intermediateSize: width,
    ropeTheta: 10000, rmsNormEps: 1e-5, tieWordEmbeddings: tied, dropout: 0,
  }, seed), 6);
}

/** greedy continuation of `ids` for n tokens, with the KV cache */
export function greedy(model: LanguageModel, ids: number[], n: number): number[] {
  return noGrad(() => {
    const state = model.createState(1);
    const out: number[] = [];
    let input = ids;
    for (let i = 0; i < n; i++) {
      const { logits } = model.forward(Int32Array.from(input), 1, input.length, { state, lastOnly: true });
      let best = 0;
      for (let v = 1; v < logits.data.length; v++) if (logits.data[v]! > logits.data[best]!) best = v;
      out.push(best);
      input = [best];
    }
    return out;
  });
}

/** log-softmax of every position's logits, (T, V) rows */
export function logProbs(model: LanguageModel, ids: number[]): Float32Array[] {
  return noGrad(() => {
    const { logits } = model.forward(Int32Array.from(ids), 1, ids.length);
    const V = logits.shape[2]!;
    const rows: Float32Array[] = [];
    for (let t = 0; t < ids.length; t++) {
      const r = logits.data.slice(t * V, (t + 1) * V);
      let m = -Infinity;
      for (const x of r) m = Math.max(m, x);
      let s = 0;
      for (const x of r) s += Math.exp(x - m);
      const lse = m + Math.log(s);
      for (let v = 0; v < V; v++) r[v]! -= lse;
      rows.push(r);
    }
    return rows;
  });
}
