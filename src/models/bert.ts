// BERT's encoder (Devlin et al. 2019), as transformers' modeling_bert.py builds it: token + learned position +
// segment (token_type) embeddings summed and LayerNorm'd, then a stack of post-LayerNorm blocks (bidirectional
// multi-head self-attention over the real tokens, then a GELU feed-forward network, each added to its input
// and normalised), and an optional pooler (dense + tanh on the [CLS] position). Module and parameter names are
// transformers' (`embeddings.word_embeddings.weight`, `encoder.layer.0.attention.self.query.weight`, …), so
// under a `bert.` prefix its state dicts load as they are. The task heads are in bert-heads.ts.
import { Module } from '../nn/module.js';
import { Dropout, Embedding, LayerNorm, Linear } from '../nn/layers.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, gelu, tanh } from '../tensor/elementwise.js';
import { mergeHeads, reshape, slice, splitHeads } from '../tensor/shape.js';
import { bidirectionalAttention } from '../tensor/attention-bidir.js';
import type { BertConfig } from './bert-config.js';

/** One batch of encoder inputs: all (B, T), row-major, right-padded. */
export interface BertInputs {
  /** token ids */
  ids: Int32Array;
  B: number;
  T: number;
  /** 1 = a real token, 0 = padding (hidden from attention); default: all real */
  attentionMask?: ArrayLike<number>;
  /** segment of each token (0 = sentence A, 1 = sentence B); default: all 0 */
  tokenTypeIds?: Int32Array;
}

/** Checks the shapes and id ranges of `x` against `cfg`; throws naming the field. */
export function checkBertInputs(x: BertInputs, cfg: BertConfig): void {
  const n = x.B * x.T;
  if (!(Number.isInteger(x.B) && Number.isInteger(x.T) && x.B >= 1 && x.T >= 1)) throw new Error(`bert inputs: B and T must be positive integers, got ${x.B}, ${x.T}`);
  if (x.ids.length !== n) throw new Error(`bert inputs: ids has ${x.ids.length} entries for B=${x.B} × T=${x.T}`);
  if (x.T > cfg.blockSize) throw new Error(`bert inputs: a sequence of ${x.T} tokens is longer than the ${cfg.blockSize} positions`);
  if (x.attentionMask && x.attentionMask.length !== n) throw new Error(`bert inputs: attentionMask has ${x.attentionMask.length} entries, expected ${n}`);
  if (x.tokenTypeIds) {
    if (x.tokenTypeIds.length !== n) throw new Error(`bert inputs: tokenTypeIds has ${x.tokenTypeIds.length} entries, expected ${n}`);
    const bad = x.tokenTypeIds.findIndex((t) => !(t >= 0 && t < cfg.typeVocabSize));
    if (bad >= 0) throw new Error(`bert inputs: tokenTypeIds[${bad}] = ${x.tokenTypeIds[bad]} is outside [0, ${cfg.typeVocabSize})`);
  }
}

export class BertEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly token_type_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;
  constructor(cfg: BertConfig, rng: Rng) {
    super();
    this.word_embeddings = this.child('word_embeddings', new Embedding(cfg.vocabSize, cfg.nEmbd, rng));
    this.position_embeddings = this.child('position_embeddings', new Embedding(cfg.blockSize, cfg.nEmbd, rng));
    this.token_type_embeddings = this.child('token_type_embeddings', new Embedding(cfg.typeVocabSize, cfg.nEmbd, rng));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(cfg.nEmbd, true, cfg.layerNormEps));
    this.dropout = this.child('dropout', new Dropout(cfg.dropout, rng));
  }
  /** → (B, T, C): LayerNorm(word + position + segment), positions 0 … T−1 in every row */
  forward(x: BertInputs): Tensor {
    const { B, T } = x;
    const words = this.word_embeddings.forward(x.ids, [B, T]); // (B, T, C)
    const types = this.token_type_embeddings.forward(x.tokenTypeIds ?? new Int32Array(B * T), [B, T]); // (B, T, C)
    const pos = this.position_embeddings.forward(Int32Array.from({ length: T }, (_, t) => t), [T]); // (T, C)
    return this.dropout.forward(this.LayerNorm.forward(add(add(words, types), pos)));
  }
}

class BertSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  constructor(private readonly cfg: BertConfig, private readonly rng: Rng) {
    super();
    const C = cfg.nEmbd;
    this.query = this.child('query', new Linear(C, C, true, rng));
    this.key = this.child('key', new Linear(C, C, true, rng));
    this.value = this.child('value', new Linear(C, C, true, rng));
  }
  /** x (B, T, C) → the heads' outputs side by side (B, T, C) */
  forward(x: Tensor, keyMask?: ArrayLike<number>): Tensor {
    const H = this.cfg.nHead;
    const q = splitHeads(this.query.forward(x), 0, 1, H); // (B, nh, T, hs)
    const k = splitHeads(this.key.forward(x), 0, 1, H); // (B, nh, T, hs)
    const v = splitHeads(this.value.forward(x), 0, 1, H); // (B, nh, T, hs)
    const y = bidirectionalAttention(q, k, v, { keyMask, dropout: this.cfg.attentionDropout, training: this.training, rng: this.rng });
    return mergeHeads(y); // (B, T, C)
  }
}

/** dense → dropout → LayerNorm(· + residual): BertSelfOutput and BertOutput */
class BertResidualOutput extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;
  constructor(inF: number, cfg: BertConfig, rng: Rng) {
    super();
    this.dense = this.child('dense', new Linear(inF, cfg.nEmbd, true, rng));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(cfg.nEmbd, true, cfg.layerNormEps));
    this.dropout = this.child('dropout', new Dropout(cfg.dropout, rng));
  }
  forward(h: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(add(this.dropout.forward(this.dense.forward(h)), residual));
  }
}

class BertAttention extends Module {
  readonly self: BertSelfAttention;
  readonly output: BertResidualOutput;
  constructor(cfg: BertConfig, rng: Rng) {
    super();
    this.self = this.child('self', new BertSelfAttention(cfg, rng));
    this.output = this.child('output', new BertResidualOutput(cfg.nEmbd, cfg, rng));
  }
  forward(x: Tensor, keyMask?: ArrayLike<number>): Tensor {
    return this.output.forward(this.self.forward(x, keyMask), x);
  }
}

class BertIntermediate extends Module {
  readonly dense: Linear;
  constructor(cfg: BertConfig, rng: Rng) {
    super();
    this.dense = this.child('dense', new Linear(cfg.nEmbd, cfg.intermediateSize, true, rng));
  }
  /** (B, T, C) → (B, T, intermediateSize) */
  forward(x: Tensor): Tensor {
    return gelu(this.dense.forward(x));
  }
}

/** one post-LN block: x = LN(x + attn(x)); x = LN(x + FFN(x)) */
class BertLayer extends Module {
  readonly attention: BertAttention;
  readonly intermediate: BertIntermediate;
  readonly output: BertResidualOutput;
  constructor(cfg: BertConfig, rng: Rng) {
    super();
    this.attention = this.child('attention', new BertAttention(cfg, rng));
    this.intermediate = this.child('intermediate', new BertIntermediate(cfg, rng));
    this.output = this.child('output', new BertResidualOutput(cfg.intermediateSize, cfg, rng));
  }
  forward(x: Tensor, keyMask?: ArrayLike<number>): Tensor {
    const a = this.attention.forward(x, keyMask); // (B, T, C)
    return this.output.forward(this.intermediate.forward(a), a);
  }
}

class BertEncoder extends Module {
  readonly layers: BertLayer[] = [];
  constructor(cfg: BertConfig, rng: Rng) {
    super();
    const list = this.child('layer', new LayerList());
    for (let i = 0; i < cfg.nLayer; i++) this.layers.push(list.add(String(i), new BertLayer(cfg, rng)));
  }
  forward(x: Tensor, keyMask?: ArrayLike<number>): Tensor {
    for (const l of this.layers) x = l.forward(x, keyMask);
    return x;
  }
}

class LayerList extends Module {
  add(name: string, l: BertLayer): BertLayer {
    return this.child(name, l);
  }
}

/** dense + tanh on the first ([CLS]) position: (B, T, C) → (B, C) */
export class BertPooler extends Module {
  readonly dense: Linear;
  constructor(cfg: BertConfig, rng: Rng) {
    super();
    this.dense = this.child('dense', new Linear(cfg.nEmbd, cfg.nEmbd, true, rng));
  }
  forward(seq: Tensor): Tensor {
    const [B, , C] = seq.shape;
    const first = reshape(slice(seq, 1, 0, 1), [B, C]); // (B, C)
    return tanh(this.dense.forward(first));
  }
}

/** transformers' BertModel: embeddings, encoder and (with `pooler`) the pooler */
export class BertModel extends Module {
  readonly embeddings: BertEmbeddings;
  readonly encoder: BertEncoder;
  readonly pooler: BertPooler | null;
  constructor(readonly config: BertConfig, rng: Rng, withPooler: boolean) {
    super();
    this.embeddings = this.child('embeddings', new BertEmbeddings(config, rng));
    this.encoder = this.child('encoder', new BertEncoder(config, rng));
    this.pooler = withPooler ? this.child('pooler', new BertPooler(config, rng)) : null;
  }
  /** → the last layer's states (B, T, C) and, with a pooler, the pooled [CLS] vector (B, C) */
  forward(x: BertInputs): { sequence: Tensor; pooled: Tensor | null } {
    checkBertInputs(x, this.config);
    const sequence = this.encoder.forward(this.embeddings.forward(x), x.attentionMask);
    return { sequence, pooled: this.pooler ? this.pooler.forward(sequence) : null };
  }
}
