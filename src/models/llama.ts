// LLaMA (Touvron et al. 2023, "LLaMA: Open and Efficient Foundation Language Models"), as transformers'
// LlamaForCausalLM (modeling_llama.py): token embeddings, no learned positions; a stack of pre-norm blocks
//   x = x + o_proj(attention(rope(q_proj(rms(x))), rope(k_proj(rms(x))), v_proj(rms(x))))
//   x = x + down_proj(silu(gate_proj(rms(x))) · up_proj(rms(x)))
// with RMSNorm (Zhang & Sennrich 2019), rotary position embeddings on queries and keys (Su et al. 2021),
// grouped-query attention (Ainslie et al. 2023) and the SwiGLU MLP (Shazeer 2020); no biases anywhere; a
// final RMSNorm and lm_head, tied to the embedding or not. Parameter names are transformers' own
// (`model.layers.0.self_attn.q_proj.weight`, …), Linear weights [out, in], so its state dicts load directly.
import { Module } from '../nn/module.js';
import { Dropout, Embedding, Linear } from '../nn/layers.js';
import { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { add } from '../tensor/elementwise.js';
import { mergeHeads, slice, splitHeads } from '../tensor/shape.js';
import { linear } from '../tensor/matmul.js';
import { causalAttention } from '../tensor/nnops.js';
import { rmsNorm } from '../tensor/rmsnorm.js';
import { ropeHeads, ropePositions } from '../tensor/rope.js';
import { swiglu } from '../tensor/silu.js';
import { KVCache } from './kv-cache.js';
import { kvAttention } from '../tensor/kv-attention.js';
import { checkForwardShape, type ForwardOptions, type LanguageModel, type ModelOutput } from './model.js';
import { languageModelLoss } from './loss.js';
import { validateLlamaConfig, type LlamaConfig } from './llama-config.js';

export { LLAMA_PRESETS, LLAMA_7B, llamaParamCount, swigluHidden, validateLlamaConfig, type LlamaConfig } from './llama-config.js';

/** LLaMA's generation state: per layer, keys (after RoPE) and values of the nKvHead heads, (B, nKv, L, hs) */
export class LlamaCache extends KVCache {}

/** the weight-only RMSNorm module (transformers' LlamaRMSNorm): `<name>.weight`, initialised to ones */
class RMSNorm extends Module {
  readonly weight: Tensor;
  constructor(dim: number, readonly eps: number) {
    super();
    this.weight = this.param('weight', Tensor.ones([dim]));
  }
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}

/** where a forward pass is: the cache to extend, the layer, RoPE positions and left padding */
interface Step {
  cache?: LlamaCache;
  layer: number;
  positions: Int32Array;
  keyStart?: Int32Array;
}

class Attention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly o_proj: Linear;
  readonly resid: Dropout;
  constructor(private readonly cfg: LlamaConfig, rng: Rng) {
    super();
    const C = cfg.nEmbd, kv = (C / cfg.nHead) * cfg.nKvHead;
    this.q_proj = this.child('q_proj', new Linear(C, C, false, rng));
    this.k_proj = this.child('k_proj', new Linear(C, kv, false, rng));
    this.v_proj = this.child('v_proj', new Linear(C, kv, false, rng));
    this.o_proj = this.child('o_proj', new Linear(C, C, false, rng));
    this.resid = this.child('resid_dropout', new Dropout(cfg.dropout, rng));
  }

  /** x (B, T, C) → (B, T, C) */
  forward(x: Tensor, s: Step): Tensor {
    const { nHead: H, nKvHead: K, ropeTheta } = this.cfg;
    const q = ropeHeads(this.q_proj.forward(x), H, s.positions, ropeTheta); // (B, nh, T, hs)
    const k = ropeHeads(this.k_proj.forward(x), K, s.positions, ropeTheta); // (B, nkv, T, hs)
    const v = splitHeads(this.v_proj.forward(x), 0, 1, K); // (B, nkv, T, hs)
    // with a cache: appended after the cached positions, read in place (each kv head once for its group)
    s.cache?.append(s.layer, k, v);
    const y = s.cache
      ? kvAttention(q, s.cache.view(s.layer), s.keyStart)
      : causalAttention(q, k, v, s.keyStart); // (B, nh, T, hs), each kv head read in place by its group
    return this.resid.forward(this.o_proj.forward(mergeHeads(y))); // (B, T, C)
  }
}

class MLP extends Module {
  readonly gate_proj: Linear;
  readonly up_proj: Linear;
  readonly down_proj: Linear;
  readonly drop: Dropout;
  constructor(cfg: LlamaConfig, rng: Rng) {
    super();
    const C = cfg.nEmbd, I = cfg.intermediateSize;
    this.gate_proj = this.child('gate_proj', new Linear(C, I, false, rng));
    this.up_proj = this.child('up_proj', new Linear(C, I, false, rng));
    this.down_proj = this.child('down_proj', new Linear(I, C, false, rng));
    this.drop = this.child('dropout', new Dropout(cfg.dropout, rng));
  }
  /** x (B, T, C) → (B, T, C) through (B, T, I) */
  forward(x: Tensor): Tensor {
    return this.drop.forward(this.down_proj.forward(swiglu(this.gate_proj.forward(x), this.up_proj.forward(x))));
  }
}

/** transformers' LlamaDecoderLayer */
class DecoderLayer extends Module {
  readonly input_layernorm: RMSNorm;
  readonly self_attn: Attention;
  readonly post_attention_layernorm: RMSNorm;
  readonly mlp: MLP;
  constructor(cfg: LlamaConfig, rng: Rng) {
    super();
    this.input_layernorm = this.child('input_layernorm', new RMSNorm(cfg.nEmbd, cfg.rmsNormEps));
    this.self_attn = this.child('self_attn', new Attention(cfg, rng));
    this.post_attention_layernorm = this.child('post_attention_layernorm', new RMSNorm(cfg.nEmbd, cfg.rmsNormEps));
    this.mlp = this.child('mlp', new MLP(cfg, rng));
  }
  forward(x: Tensor, s: Step): Tensor {
    x = add(x, this.self_attn.forward(this.input_layernorm.forward(x), s));
    return add(x, this.mlp.forward(this.post_attention_layernorm.forward(x)));
  }
}

class LayerList extends Module {
  add<M extends Module>(name: string, m: M): M {
    return this.child(name, m);
  }
}

/** transformers' LlamaModel: the `model.` prefix of every parameter but lm_head */
class LlamaBody extends Module {
  readonly embed_tokens: Embedding;
  readonly drop: Dropout;
  readonly layers: DecoderLayer[] = [];
  readonly norm: RMSNorm;
  constructor(cfg: LlamaConfig, rng: Rng) {
    super();
    this.embed_tokens = this.child('embed_tokens', new Embedding(cfg.vocabSize, cfg.nEmbd, rng));
    this.drop = this.child('drop', new Dropout(cfg.dropout, rng));
    const list = this.child('layers', new LayerList());
    for (let i = 0; i < cfg.nLayer; i++) this.layers.push(list.add(String(i), new DecoderLayer(cfg, rng)));
    this.norm = this.child('norm', new RMSNorm(cfg.nEmbd, cfg.rmsNormEps));
  }
}

export class Llama extends Module implements LanguageModel {
  readonly type = 'llama';
  readonly config: LlamaConfig;
  readonly model: LlamaBody;
  /** the output projection [V, C]; null when tied to model.embed_tokens.weight */
  readonly lm_head: Linear | null;
  /** drew the initial weights; dropout keeps drawing from it */
  readonly rng: Rng;

  /** weights N(0, 0.02) (transformers' initializer_range), norms 1. Throws on an invalid config. */
  constructor(config: LlamaConfig, seed = 1337) {
    super();
    validateLlamaConfig(config);
    this.config = { ...config };
    this.rng = new Rng(seed);
    this.model = this.child('model', new LlamaBody(this.config, this.rng));
    this.lm_head = config.tieWordEmbeddings ? null : this.child('lm_head', new Linear(config.nEmbd, config.vocabSize, false, this.rng));
  }

  get contextLength(): number {
    return this.config.blockSize;
  }

  createState(): LlamaCache {
    return new LlamaCache(this.config.nLayer, this.config.blockSize);
  }

  describe(): string {
    const c = this.config;
    const kv = c.nKvHead === c.nHead ? '' : ` (${c.nKvHead} kv)`;
    return `LLaMA: ${c.nLayer} layers, ${c.nHead} heads${kv}, ${c.nEmbd} wide, MLP ${c.intermediateSize}, block ${c.blockSize}, vocab ${c.vocabSize}${c.tieWordEmbeddings ? ', tied' : ''}`;
  }

  /**
   * idx: B×T token ids (row-major), positions starting at the state's length. With targets (B×T, −1 =
   * ignore) returns the loss (src/models/loss.ts). lastOnly: logits (B, 1, V) of the last position only.
   * Left padding: `padding[b]` pad tokens start row b; they are hidden from attention (keyStart) and RoPE
   * positions count from the row's first real token. Throws on a foreign state or too long a sequence.
   */
  forward(idx: Int32Array, B: number, T: number, opts: ForwardOptions = {}): ModelOutput {
    const { targets, padding } = opts;
    const cache = opts.state as LlamaCache | undefined;
    if (cache && !(cache instanceof LlamaCache)) throw new Error('Llama.forward: state must come from Llama.createState');
    checkForwardShape(this, idx, B, T, cache);
    const positions = ropePositions(B, T, cache?.length ?? 0, padding);
    const body = this.model;
    let x = body.drop.forward(body.embed_tokens.forward(idx, [B, T])); // (B, T, C)
    body.layers.forEach((layer, i) => (x = layer.forward(x, { cache, layer: i, positions, keyStart: padding })));
    x = body.norm.forward(x);
    if (opts.lastOnly && !targets) x = slice(x, 1, T - 1, T); // (B, 1, C)
    const logits = linear(x, this.lm_head ? this.lm_head.weight : body.embed_tokens.weight); // (B, T, V)
    return { logits, loss: languageModelLoss(logits, opts) };
  }

  /** every parameter (RoPE has none; LLaMA's papers count the embeddings too) */
  numParams(): number {
    return this.numParameters();
  }

  /** weight decay for the 2-D weights of the blocks and an untied lm_head; not embeddings, not norms */
  decayedParameterNames(): Set<string> {
    return new Set(
      this.namedParameters()
        .filter(([n, p]) => p.ndim === 2 && (n.startsWith('model.layers.') || n === 'lm_head.weight'))
        .map(([n]) => n),
    );
  }

  /**
   * As Module.loadStateDict; with tied embeddings a `lm_head.weight` (transformers writes one in some
   * checkpoints) is accepted when it equals model.embed_tokens.weight, and refused otherwise.
   */
  override loadStateDict(state: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>, source = 'state dict'): void {
    const head = state.get('lm_head.weight');
    if (!this.lm_head && head) {
      const emb = state.get('model.embed_tokens.weight');
      if (emb && (emb.data.length !== head.data.length || emb.data.some((v, i) => v !== head.data[i]))) {
        throw new Error(`${source}: "lm_head.weight" differs from "model.embed_tokens.weight" but tieWordEmbeddings is true`);
      }
      const rest = new Map(state);
      rest.delete('lm_head.weight');
      return super.loadStateDict(rest, source);
    }
    super.loadStateDict(state, source);
  }
}
