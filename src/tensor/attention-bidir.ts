// Bidirectional (encoder) scaled dot-product attention with a key padding mask, as BERT's self-attention
// computes it (transformers' modeling_bert.py, eager path): every query sees every real key of its row,
// before and after it; keys whose mask is 0 (padding) get no weight. Attention-probability dropout is applied
// after the softmax, as `nn.Dropout(attention_probs_dropout_prob)` in BertSelfAttention.
import { allocUninit } from '../backend/storage.js';
import { backend } from '../backend/backend.js';
import { Tensor } from './tensor.js';
import { attentionBackwardFromProbs } from './nnops.js';

/** options of bidirectionalAttention */
export interface BidirAttentionOptions {
  /** (B, Tk) 1 = a real key, 0 = padding (hidden); absent = every key visible */
  keyMask?: ArrayLike<number>;
  /** dropout probability on the attention probabilities (only when `training`) */
  dropout?: number;
  training?: boolean;
  /** uniforms for the dropout mask */
  rng?: { random(): number };
}

/**
 * att = softmax(q·kᵀ/√hs + mask),  y = dropout(att)·v.
 * q (B, nh, Tq, hs), k and v (B, nh, Tk, hs) → y (B, nh, Tq, hs). A masked key adds −∞ to its score (HF adds
 * the most negative float32, which gives the same probabilities whenever a row has a real key). A row whose
 * keys are all masked gets zeros. Throws on mismatched shapes or a keyMask of the wrong length.
 */
export function bidirectionalAttention(q: Tensor, k: Tensor, v: Tensor, opts: BidirAttentionOptions = {}): Tensor {
  const [B, H, Tq, hs] = q.shape;
  const Tk = k.shape[2];
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4 || k.shape[0] !== B || k.shape[1] !== H || k.shape[3] !== hs || v.shape.some((d, i) => d !== k.shape[i])) {
    throw new Error(`bidirectionalAttention: q [${q.shape}], k [${k.shape}], v [${v.shape}] do not fit (B, nh, T, hs)`);
  }
  const mask = opts.keyMask;
  if (mask && mask.length !== B * Tk) throw new Error(`bidirectionalAttention: keyMask has ${mask.length} entries, expected B·Tk = ${B * Tk}`);
  const BH = B * H, scale = 1 / Math.sqrt(hs);
  const be = backend();
  const scores = allocUninit(BH * Tq * Tk); // (B, nh, Tq, Tk)
  be.matmul(q.data, k.data, scores, {
    batch: BH, M: Tq, N: Tk, K: hs, transA: false, transB: true, accumulate: false,
    strideA: Tq * hs, strideB: Tk * hs, strideC: Tq * Tk,
  });
  scaleAndMask(scores, B, H, Tq, Tk, scale, mask);
  const att = allocUninit(BH * Tq * Tk); // (B, nh, Tq, Tk) probabilities, kept for the backward
  be.softmax(scores, att, BH * Tq, Tk);
  const keep = dropMask(att.length, opts);
  const used = keep ? att.map((p, i) => p * keep[i]) : att; // the probabilities v is weighted by
  const out = allocUninit(BH * Tq * hs);
  be.matmul(used, v.data, out, {
    batch: BH, M: Tq, N: hs, K: Tk, transA: false, transB: false, accumulate: false,
    strideA: Tq * Tk, strideB: Tk * hs, strideC: Tq * hs,
  });
  return Tensor.fromOp(out, [B, H, Tq, hs], [q, k, v], (o) => attentionBackwardFromProbs(o.grad!, q, k, v, att, used, keep, { BH, Tq, Tk, hs, scale }));
}

/** scores ← scale·scores, −∞ where the key is padding */
function scaleAndMask(att: Float32Array, B: number, H: number, Tq: number, Tk: number, scale: number, mask?: ArrayLike<number>): void {
  for (let b = 0; b < B; b++)
    for (let r = 0; r < H * Tq; r++) {
      const o = (b * H * Tq + r) * Tk;
      for (let j = 0; j < Tk; j++) att[o + j] = mask && mask[b * Tk + j] === 0 ? -Infinity : att[o + j] * scale;
    }
}

/** inverted-dropout multipliers (0 or 1/(1−p)), or null when dropout is off */
function dropMask(n: number, opts: BidirAttentionOptions): Float32Array | null {
  const p = opts.dropout ?? 0;
  if (!opts.training || p === 0) return null;
  if (!(p > 0 && p < 1) || !opts.rng) throw new Error(`bidirectionalAttention: dropout ${p} needs a probability in [0, 1) and an rng`);
  const m = new Float32Array(n), s = 1 / (1 - p);
  for (let i = 0; i < n; i++) m[i] = opts.rng.random() >= p ? s : 0;
  return m;
}

