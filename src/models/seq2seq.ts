// An RNN encoder–decoder with attention (Sutskever, Vinyals & Le 2014; Bahdanau, Cho & Bengio 2015; Luong,
// Pham & Manning 2015). The encoder, a GRU or LSTM (optionally bidirectional), reads the source ids into
// memory h_1…h_S (B, S, D·H); the decoder starts from s_0 = tanh(W_b [→h_S; ←h_1]) and at each step i
//   a_i = attention(s_{i−1}, h)            (src/models/seq2seq-attention.ts: additive or dot)
//   c_i = Σ_j a_ij h_j                     (B, D·H)
//   s_i = cell([emb(y_{i−1}); c_i], s_{i−1})
//   p(y_i | y_<i, x) = softmax(W_o [s_i; c_i; emb(y_{i−1})])
// Training uses teacher forcing (the gold y_{i−1} is fed) and the mean cross-entropy over the real target
// tokens (padding masked out). Decoding (greedy, beam) is src/models/seq2seq-decode.ts.
//   const m = new Seq2seq({ srcVocabSize: 40, vocabSize: 30, blockSize: 20, embDim: 32, hidden: 64,
//                           cell: 'gru', bidirectional: true, attention: 'additive', attnDim: 64 });
//   const { loss } = m.loss([[4, 5, 6]], [[7, 8]]);          // scalar, nats per target token
// It implements LanguageModel so that the one Trainer can optimise it, but it is no next-token model:
// `forward` and `createState` throw.
import { Tensor } from '../tensor/tensor.js';
import { concat, gather, reshape, slice } from '../tensor/shape.js';
import { tanh } from '../tensor/elementwise.js';
import { crossEntropy } from '../tensor/nnops.js';
import { Rng } from '../tensor/rng.js';
import { Module } from '../nn/module.js';
import { Embedding, Linear } from '../nn/layers.js';
import { GRU, LSTM } from '../nn/recurrent.js';
import type { LanguageModel, ModelConfig, ModelOutput, ModelState } from './model.js';
import { MASKED, Seq2seqAttention, type AttentionKind } from './seq2seq-attention.js';
import { BOS, EOS, PAD } from './seq2seq-vocab.js';
import { maxOf } from '../tensor/max-of.js';

export type CellKind = 'gru' | 'lstm';

export interface Seq2seqConfig extends ModelConfig {
  /** target vocabulary size (ModelConfig.vocabSize) */
  vocabSize: number;
  /** the longest target (tokens, <eos> included) decoding produces (ModelConfig.blockSize) */
  blockSize: number;
  srcVocabSize: number;
  embDim: number;
  hidden: number;
  cell: CellKind;
  bidirectional: boolean;
  attention: AttentionKind;
  /** the additive attention's inner width A */
  attnDim: number;
  seed?: number;
}

/** the encoder's output for a batch: memory, its attention keys and mask, the decoder's first state */
export interface Encoded {
  /** (B, S, D·H), zeros at padded positions */
  memory: Tensor;
  keys: Tensor;
  /** (B, S): 0 on real positions, MASKED on padding */
  mask: Tensor;
  state: DecoderState;
  /** source lengths */
  lengths: number[];
}

/** decoder states (1, B, H); c for an LSTM */
export interface DecoderState {
  h: Tensor;
  c?: Tensor;
}

export interface StepOutput {
  /** (B, V) */
  logits: Tensor;
  /** (B, S) attention weights of this step */
  weights: Tensor;
  state: DecoderState;
}

/** Throws `seq2seq config: <field> must be …` for the first bad field. */
export function validateSeq2seqConfig(c: Seq2seqConfig): void {
  for (const k of ['vocabSize', 'blockSize', 'srcVocabSize', 'embDim', 'hidden', 'attnDim'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`seq2seq config: ${k} must be a whole number ≥ 1, got ${JSON.stringify(c[k])}`);
  }
  if (c.cell !== 'gru' && c.cell !== 'lstm') throw new Error(`seq2seq config: cell must be gru or lstm, got ${JSON.stringify(c.cell)}`);
  if (c.attention !== 'additive' && c.attention !== 'dot') throw new Error(`seq2seq config: attention must be additive or dot, got ${JSON.stringify(c.attention)}`);
  if (typeof c.bidirectional !== 'boolean') throw new Error(`seq2seq config: bidirectional must be true or false, got ${JSON.stringify(c.bidirectional)}`);
}

export class Seq2seq extends Module implements LanguageModel {
  readonly type = 'seq2seq';
  readonly contextLength = Infinity;
  readonly rng: Rng;
  readonly srcEmb: Embedding;
  readonly tgtEmb: Embedding;
  readonly encoder: GRU | LSTM;
  readonly bridge: Linear;
  readonly attention: Seq2seqAttention;
  readonly decoder: GRU | LSTM;
  readonly out: Linear;

  constructor(readonly config: Seq2seqConfig) {
    super();
    validateSeq2seqConfig(config);
    const c = config, rng = (this.rng = new Rng(c.seed ?? 1337));
    const D = c.bidirectional ? 2 : 1, M = D * c.hidden;
    const Cell = c.cell === 'gru' ? GRU : LSTM;
    this.srcEmb = this.child('src_embed', new Embedding(c.srcVocabSize, c.embDim, rng, 0.1));
    this.tgtEmb = this.child('tgt_embed', new Embedding(c.vocabSize, c.embDim, rng, 0.1));
    this.encoder = this.child('encoder', new Cell(c.embDim, c.hidden, { bidirectional: c.bidirectional, batchFirst: true, rng }));
    this.bridge = this.child('bridge', new Linear(M, c.hidden, true, rng, 1 / Math.sqrt(M)));
    this.attention = this.child('attention', new Seq2seqAttention(c.attention, M, c.hidden, c.attnDim, rng));
    this.decoder = this.child('decoder', new Cell(c.embDim + M, c.hidden, { rng }));
    const outIn = c.hidden + M + c.embDim;
    this.out = this.child('out', new Linear(outIn, c.vocabSize, true, rng, 1 / Math.sqrt(outIn)));
  }

  /** the encoder's output width D·H */
  get memoryDim(): number {
    return (this.config.bidirectional ? 2 : 1) * this.config.hidden;
  }

  /**
   * Encodes a batch of source id lists (no <bos>/<eos>; each non-empty). Rows of equal length run through the
   * encoder together, so padding never enters a recurrence; memory is zero-padded to the longest source.
   */
  encode(src: readonly (readonly number[])[]): Encoded {
    const B = src.length, M = this.memoryDim, H = this.config.hidden;
    if (B === 0) throw new Error('seq2seq: no source sentences to encode');
    src.forEach((s, i) => {
      if (s.length === 0) throw new Error(`seq2seq: source ${i} is empty`);
    });
    const lengths = src.map((s) => s.length), S = maxOf(lengths);
    const groups = new Map<number, number[]>();
    lengths.forEach((L, i) => {
      const g = groups.get(L);
      if (g) g.push(i);
      else groups.set(L, [i]);
    });
    const mems: Tensor[] = [], finals: Tensor[] = [], order: number[] = [];
    for (const [L, rows] of groups) {
      const ids = rows.flatMap((r) => src[r] as number[]);
      const x = this.srcEmb.forward(ids, [rows.length, L]); // (b, L, E)
      const { output, h } = this.encoder.forward(x); // output (b, L, M), h (D, b, H)
      mems.push(L === S ? output : concat([output, Tensor.zeros([rows.length, S - L, M])], 1));
      const dirs = this.config.bidirectional ? [slice(h, 0, 0, 1), slice(h, 0, 1, 2)] : [h];
      finals.push(concat(dirs.map((d) => reshape(d, [rows.length, H])), 1)); // (b, M)
      order.push(...rows);
    }
    const inv = new Array<number>(B);
    order.forEach((r, k) => (inv[r] = k));
    const memory = reshape(gather(reshape(concat(mems, 0), [B, S * M]), inv, [B]), [B, S, M]);
    const last = gather(concat(finals, 0), inv, [B]); // (B, M) in the original order
    const h0 = reshape(tanh(this.bridge.forward(last)), [1, B, H]);
    const state: DecoderState = { h: h0, c: this.config.cell === 'lstm' ? Tensor.zeros([1, B, H]) : undefined };
    const mask = new Float32Array(B * S);
    lengths.forEach((L, b) => mask.fill(MASKED, b * S + L, (b + 1) * S));
    return { memory, keys: this.attention.keys(memory), mask: new Tensor(mask, [B, S]), state, lengths };
  }

  /** one decoder step from the previous target ids prev (B) → logits (B, V), attention (B, S), new state */
  step(prev: readonly number[], enc: Encoded, state: DecoderState): StepOutput {
    const B = prev.length, H = this.config.hidden;
    const y = this.tgtEmb.forward(prev as number[], [B]); // (B, E)
    const { weights, context } = this.attention.forward(reshape(state.h, [B, H]), enc.keys, enc.memory, enc.mask);
    const x = reshape(concat([y, context], 1), [1, B, y.shape[1] + context.shape[1]]);
    const r: { h: Tensor; c?: Tensor } = this.decoder instanceof LSTM ? this.decoder.forward(x, state.h, state.c) : this.decoder.forward(x, state.h);
    const next: DecoderState = { h: r.h, c: r.c };
    const logits = this.out.forward(concat([reshape(r.h, [B, H]), context, y], 1));
    return { logits, weights, state: next };
  }

  /**
   * Teacher-forced mean cross-entropy (nats per target token) of targets given sources: the decoder reads
   * <bos> y_1 … y_n and predicts y_1 … y_n <eos>; padding is masked out. tokens: the target tokens scored.
   */
  loss(src: readonly (readonly number[])[], tgt: readonly (readonly number[])[]): { loss: Tensor; tokens: number } {
    if (src.length !== tgt.length) throw new Error(`seq2seq: ${src.length} sources but ${tgt.length} targets`);
    const enc = this.encode(src);
    const B = src.length, T = maxOf(tgt.map((t) => t.length)) + 1;
    const targets = new Int32Array(B * T).fill(-1);
    tgt.forEach((t, b) => [...t, EOS].forEach((id, i) => (targets[b * T + i] = id)));
    let state = enc.state;
    const logits: Tensor[] = [];
    for (let i = 0; i < T; i++) {
      const prev = tgt.map((t) => (i === 0 ? BOS : i - 1 < t.length ? t[i - 1] : PAD));
      const s = this.step(prev, enc, state);
      logits.push(reshape(s.logits, [B, 1, this.config.vocabSize]));
      state = s.state;
    }
    const tokens = targets.reduce((n, t) => n + (t >= 0 ? 1 : 0), 0);
    return { loss: crossEntropy(concat(logits, 1), targets, -1), tokens };
  }

  /** keeps, repeats or reorders batch rows of a decoder state (beam search) */
  selectState(state: DecoderState, rows: readonly number[]): DecoderState {
    const H = this.config.hidden, pick = (t: Tensor): Tensor => reshape(gather(reshape(t, [t.shape[1], H]), rows as number[], [rows.length]), [1, rows.length, H]);
    return { h: pick(state.h), c: state.c ? pick(state.c) : undefined };
  }

  // LanguageModel -----------------------------------------------------------------------------------------

  forward(): ModelOutput {
    throw new Error('seq2seq: not a next-token model; use loss() to train and translate() to decode');
  }

  createState(): ModelState {
    throw new Error('seq2seq: not a next-token model; decoding is seq2seq-decode.ts');
  }

  numParams(): number {
    return this.numParameters();
  }

  /** every matrix except the embeddings */
  decayedParameterNames(): Set<string> {
    return new Set(this.namedParameters().filter(([n, p]) => p.ndim >= 2 && !n.includes('embed')).map(([n]) => n));
  }

  describe(): string {
    const c = this.config;
    return `${c.bidirectional ? 'bidirectional ' : ''}${c.cell.toUpperCase()} encoder–decoder, ${c.attention} attention, ` +
      `${c.hidden} hidden, ${c.embDim} embedding, vocab ${c.srcVocabSize} → ${c.vocabSize}, ${this.numParameters().toLocaleString('en')} parameters`;
  }
}
