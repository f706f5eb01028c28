// GPT, as nanoGPT's model.py: token + learned position embeddings, a stack of pre-LayerNorm blocks (causal
// multi-head self-attention, then a 4× GELU MLP, each with a residual connection), a final LayerNorm and a
// language-model head tied to the token embedding. Parameter names and layouts are nanoGPT's, so its
// checkpoints' tensors can be exchanged (src/train/checkpoint.ts).
import { Module } from '../nn/module.js';
import { Dropout, Embedding, LayerNorm, Linear } from '../nn/layers.js';
import { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { add, gelu } from '../tensor/elementwise.js';
import { mergeHeads, slice, splitHeads } from '../tensor/shape.js';
import { linear } from '../tensor/matmul.js';
import { causalAttention, causalSelfAttention } from '../tensor/nnops.js';
import { kvAttention } from '../tensor/kv-attention.js';
import { KVCache } from './kv-cache.js';
import { checkForwardShape, type ForwardOptions, type LanguageModel, type ModelOutput, type ModelState } from './model.js';
import { languageModelLoss } from './loss.js';

export { KVCache } from './kv-cache.js';

export interface GPTConfig {
  vocabSize: number;
  blockSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  dropout: number;
  /** biases in Linear layers and LayerNorms (GPT-2: true; nanoGPT's default: false) */
  bias: boolean;
}

/** nanoGPT's presets; vocabSize comes from the tokenizer. */
export const GPT_PRESETS: Record<string, Omit<GPTConfig, 'vocabSize'>> = {
  /** tiny, for tests and the quickest demos */
  tiny: { nLayer: 2, nHead: 2, nEmbd: 64, blockSize: 32, dropout: 0, bias: false },
  /** `gptlab train --demo`: the CPU config with a 128-token context, so chat turns fit for SFT */
  demo: { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 128, dropout: 0, bias: false },
  /** nanoGPT's CPU config (README: "I only have a macbook") */
  cpu: { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, dropout: 0, bias: false },
  /** nanoGPT's config/train_shakespeare_char.py */
  shakespeare_char: { nLayer: 6, nHead: 6, nEmbd: 384, blockSize: 256, dropout: 0.2, bias: false },
  /** GPT-2 small's shape (124M with its 50257 vocabulary) */
  gpt2: { nLayer: 12, nHead: 12, nEmbd: 768, blockSize: 1024, dropout: 0, bias: true },
};

/**
 * Checks a GPT config field by field (types included, so `"nLayer": "4"` is blamed on nLayer) and returns it
 * typed. Throws `model config: FIELD must be …`.
 */
export function validateConfig(raw: Record<string, unknown> | GPTConfig): GPTConfig {
  const c = raw as Record<string, unknown>;
  const ints = ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nEmbd'] as const;
  for (const k of ints) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`model config: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  const cfg = c as unknown as GPTConfig;
  if (cfg.nEmbd % cfg.nHead !== 0) throw new Error(`model config: nEmbd (${cfg.nEmbd}) must be divisible by nHead (${cfg.nHead}) (flags --n-embd, --n-head)`);
  if (typeof c.dropout !== 'number' || !(cfg.dropout >= 0 && cfg.dropout < 1)) throw new Error(`model config: dropout must be a number in [0, 1), got ${JSON.stringify(c.dropout)}`);
  if (typeof c.bias !== 'boolean') throw new Error(`model config: bias must be true or false, got ${JSON.stringify(c.bias)}`);
  const { vocabSize, blockSize, nLayer, nHead, nEmbd, dropout, bias } = cfg;
  return { vocabSize, blockSize, nLayer, nHead, nEmbd, dropout, bias };
}

/**
 * Every parameter of a GPT of this shape, from the config alone (the tied head counted once):
 *   wte V·C + wpe T·C + L·(2 LayerNorms + qkv C·3C + proj C·C + fc C·4C + proj 4C·C, with biases) + ln_f
 */
export function gptParamCount(c: GPTConfig): number {
  const C = c.nEmbd, b = c.bias ? 1 : 0;
  const ln = C * (1 + b);
  const block = 2 * ln + (3 * C * C + b * 3 * C) + (C * C + b * C) + (4 * C * C + b * 4 * C) + (4 * C * C + b * C);
  return c.vocabSize * C + c.blockSize * C + c.nLayer * block + ln;
}

class CausalSelfAttention extends Module {
  readonly c_attn: Linear;
  readonly c_proj: Linear;
  readonly resid: Dropout;
  constructor(private readonly cfg: GPTConfig, rng: Rng) {
    super();
    const C = cfg.nEmbd;
    this.c_attn = this.child('c_attn', new Linear(C, 3 * C, cfg.bias, rng));
    // GPT-2's scaled init of residual projections: std 0.02/√(2·nLayer)
    this.c_proj = this.child('c_proj', new Linear(C, C, cfg.bias, rng, 0.02 / Math.sqrt(2 * cfg.nLayer)));
    this.resid = this.child('resid_dropout', new Dropout(cfg.dropout, rng));
  }

  forward(x: Tensor, cache?: KVCache, layer = 0, keyStart?: Int32Array): Tensor {
    const H = this.cfg.nHead;
    const qkv = this.c_attn.forward(x); // (B, T, 3C)
    // whole sequences (training, evaluation): one fused kernel from qkv to the merged heads (B, T, C)
    if (!cache && !keyStart) return this.resid.forward(this.c_proj.forward(causalSelfAttention(qkv, H)));
    const q = splitHeads(qkv, 0, 3, H); // (B, nh, T, hs)
    const k = splitHeads(qkv, 1, 3, H), v = splitHeads(qkv, 2, 3, H);
    // with a cache: the new keys and values go after the cached ones, and attention reads them all in place
    cache?.append(layer, k, v);
    const y = cache ? kvAttention(q, cache.view(layer), keyStart) : causalAttention(q, k, v, keyStart); // (B, nh, T, hs)
    const merged = mergeHeads(y); // (B, T, C): all head outputs side by side
    return this.resid.forward(this.c_proj.forward(merged));
  }
}

class MLP extends Module {
  readonly c_fc: Linear;
  readonly c_proj: Linear;
  readonly drop: Dropout;
  constructor(cfg: GPTConfig, rng: Rng) {
    super();
    this.c_fc = this.child('c_fc', new Linear(cfg.nEmbd, 4 * cfg.nEmbd, cfg.bias, rng));
    this.c_proj = this.child('c_proj', new Linear(4 * cfg.nEmbd, cfg.nEmbd, cfg.bias, rng, 0.02 / Math.sqrt(2 * cfg.nLayer)));
    this.drop = this.child('dropout', new Dropout(cfg.dropout, rng));
  }
  forward(x: Tensor): Tensor {
    return this.drop.forward(this.c_proj.forward(gelu(this.c_fc.forward(x))));
  }
}

class Block extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: CausalSelfAttention;
  readonly ln_2: LayerNorm;
  readonly mlp: MLP;
  constructor(cfg: GPTConfig, rng: Rng) {
    super();
    this.ln_1 = this.child('ln_1', new LayerNorm(cfg.nEmbd, cfg.bias));
    this.attn = this.child('attn', new CausalSelfAttention(cfg, rng));
    this.ln_2 = this.child('ln_2', new LayerNorm(cfg.nEmbd, cfg.bias));
    this.mlp = this.child('mlp', new MLP(cfg, rng));
  }
  forward(x: Tensor, cache?: KVCache, layer = 0, keyStart?: Int32Array): Tensor {
    x = add(x, this.attn.forward(this.ln_1.forward(x), cache, layer, keyStart));
    return add(x, this.mlp.forward(this.ln_2.forward(x)));
  }
}

/** the `transformer` ModuleDict of nanoGPT */
class Transformer extends Module {
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly drop: Dropout;
  readonly h: Block[] = [];
  readonly ln_f: LayerNorm;
  constructor(cfg: GPTConfig, rng: Rng) {
    super();
    this.wte = this.child('wte', new Embedding(cfg.vocabSize, cfg.nEmbd, rng));
    this.wpe = this.child('wpe', new Embedding(cfg.blockSize, cfg.nEmbd, rng));
    this.drop = this.child('drop', new Dropout(cfg.dropout, rng));
    const list = this.child('h', new BlockList());
    for (let i = 0; i < cfg.nLayer; i++) this.h.push(list.add(String(i), new Block(cfg, rng)));
    this.ln_f = this.child('ln_f', new LayerNorm(cfg.nEmbd, cfg.bias));
  }
}

class BlockList extends Module {
  add(name: string, b: Block): Block {
    return this.child(name, b);
  }
}

export type GPTOutput = ModelOutput;

export class GPT extends Module implements LanguageModel {
  readonly type = 'gpt';
  readonly config: GPTConfig;
  readonly transformer: Transformer;
  /** drew the initial weights; dropout keeps drawing from it, so checkpoints save its state */
  readonly rng: Rng;
  /**
   * Computes the tied head in place of x·wteᵀ when set: the same matrix in another form, such as a GGUF
   * file's quantized token_embd in a QuantizedLinear (src/formats/gguf-model-read.ts), which a decoding step
   * reads in a fraction of the float32 bytes (a 124M GPT-2's head is a third of its weights). Not a child
   * module (no parameters, nothing saved); inference only, as no gradient reaches wte through it.
   */
  tiedHead: { forward(x: Tensor): Tensor } | null = null;

  constructor(config: GPTConfig, seed = 1337) {
    super();
    validateConfig(config);
    this.config = { ...config };
    this.rng = new Rng(seed);
    this.transformer = this.child('transformer', new Transformer(this.config, this.rng));
    // the LM head is tied to wte (weight tying, Press & Wolf 2017): there is no separate lm_head tensor
  }

  get contextLength(): number {
    return this.config.blockSize;
  }

  createState(): KVCache {
    return new KVCache(this.config.nLayer, this.config.blockSize);
  }

  describe(): string {
    const c = this.config;
    return `GPT: ${c.nLayer} layers, ${c.nHead} heads, ${c.nEmbd} wide, block ${c.blockSize}, vocab ${c.vocabSize}${c.bias ? ', biases' : ''}`;
  }

  /**
   * idx: B×T token ids (row-major), positions starting at the state's length. With targets (B×T, −1 =
   * ignore) returns the loss (src/models/loss.ts); `lossMask` weights positions (SFT's assistant-only loss).
   * lastOnly computes logits for the last position only (generation).
   * Batches of prompts of different lengths are left-padded: `padding[b]` pad tokens start row b; they are
   * hidden from attention and the row's positions count from its first real token.
   */
  forward(idx: Int32Array, B: number, T: number, opts: ForwardOptions = {}): ModelOutput {
    const { targets, padding } = opts;
    const cache = opts.state as KVCache | undefined;
    if (cache && !(cache instanceof KVCache)) throw new Error('GPT.forward: state must come from GPT.createState');
    checkForwardShape(this, idx, B, T, cache);
    const pos0 = cache?.length ?? 0;
    const tr = this.transformer;
    const tok = tr.wte.forward(idx, [B, T]); // (B, T, C)
    const pe = tr.wpe.forward(...this.positions(B, T, pos0, padding)); // (B, T, C) or (T, C), broadcast over B
    let x = tr.drop.forward(add(tok, pe));
    tr.h.forEach((block, i) => (x = block.forward(x, cache, i, padding)));
    x = tr.ln_f.forward(x);
    if (opts.lastOnly && !targets) x = slice(x, 1, T - 1, T); // (B, 1, C)
    const logits = this.tiedHead ? this.tiedHead.forward(x) : linear(x, tr.wte.weight); // (B, T, V)
    return { logits, loss: languageModelLoss(logits, opts) };
  }

  /** position ids: (T) from pos0, or (B, T) counting from each row's first real token when left-padded */
  private positions(B: number, T: number, pos0: number, padding?: Int32Array): [Int32Array, number[]] {
    if (!padding) return [Int32Array.from({ length: T }, (_, t) => pos0 + t), [T]];
    const pos = new Int32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) pos[b * T + t] = Math.max(0, pos0 + t - padding[b]);
    return [pos, [B, T]];
  }

  /** parameter count; like nanoGPT, position embeddings are excluded unless asked */
  numParams(nonEmbedding = true): number {
    const n = this.numParameters();
    return nonEmbedding ? n - this.transformer.wpe.weight.size : n;
  }

  /** names of parameters that get weight decay by default: the 2-D weights of Linear layers in blocks */
  decayedParameterNames(): Set<string> {
    return new Set(
      this.namedParameters()
        .filter(([n, p]) => p.ndim === 2 && n.startsWith('transformer.h.'))
        .map(([n]) => n),
    );
  }
}
