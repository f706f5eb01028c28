// Attention of a decoder state over the encoder's outputs, for src/models/seq2seq.ts:
//   additive (Bahdanau, Cho & Bengio 2015, eq. 6):  e_ij = vᵀ tanh(W_s s_{i−1} + W_h h_j)
//   dot      (Luong, Pham & Manning 2015, "dot"):   e_ij = s_{i−1}ᵀ h_j   (h_j first mapped to the decoder's width
//            by a bias-free W_h when the encoder is bidirectional, i.e. Luong's "general" score sᵀ W_h h_j)
// then a_ij = softmax_j(e_ij) over the real (unpadded) source positions, and the context c_i = Σ_j a_ij h_j.
// The memory-side projection W_h h_j is computed once per source sentence (`keys`), not once per step.
import { Tensor } from '../tensor/tensor.js';
import { linear, matmul } from '../tensor/matmul.js';
import { add, tanh } from '../tensor/elementwise.js';
import { reshape } from '../tensor/shape.js';
import { softmax } from '../tensor/nnops.js';
import type { Rng } from '../tensor/rng.js';
import { Module } from '../nn/module.js';

export type AttentionKind = 'additive' | 'dot';

/** the additive mask value of a padded source position: exp(−1e9 − max) is 0 in float32 */
export const MASKED = -1e9;

export interface AttentionResult {
  /** (B, S) weights; each row sums to 1 over the unpadded positions and is 0 on padding */
  weights: Tensor;
  /** (B, M) context vectors Σ_j a_ij h_j, M the memory width */
  context: Tensor;
}

export class Seq2seqAttention extends Module {
  readonly wS: Tensor | null;
  readonly wH: Tensor | null;
  readonly v: Tensor | null;

  /** memDim M: the encoder output width (D·H); queryDim: the decoder state width H; attnDim A (additive only) */
  constructor(readonly kind: AttentionKind, readonly memDim: number, readonly queryDim: number, attnDim: number, rng: Rng) {
    super();
    if (kind !== 'additive' && kind !== 'dot') throw new Error(`attention must be 'additive' or 'dot', got ${String(kind)}`);
    const init = (shape: number[]): Tensor => Tensor.randn(shape, rng, 1 / Math.sqrt(shape[shape.length - 1]));
    if (kind === 'additive') {
      this.wS = this.param('w_s', init([attnDim, queryDim]));
      this.wH = this.param('w_h', init([attnDim, memDim]));
      this.v = this.param('v', init([1, attnDim]));
    } else {
      this.wS = this.v = null;
      this.wH = memDim === queryDim ? null : this.param('w_h', init([queryDim, memDim]));
    }
  }

  /** memory (B, S, M) → keys (B, S, A) additive, (B, S, H) dot */
  keys(memory: Tensor): Tensor {
    return this.wH ? linear(memory, this.wH) : memory;
  }

  /**
   * query (B, H) the decoder state, keys from `keys`, memory (B, S, M), mask (B, S) additive (0 or MASKED) →
   * weights (B, S) and context (B, M).
   */
  forward(query: Tensor, keys: Tensor, memory: Tensor, mask: Tensor): AttentionResult {
    const [B, S] = memory.shape;
    let scores: Tensor; // (B, S)
    if (this.kind === 'additive') {
      const q = reshape(linear(query, this.wS!), [B, 1, keys.shape[2]]);
      const e = tanh(add(keys, q)); // (B, S, A): broadcast over S
      scores = reshape(linear(e, this.v!), [B, S]);
    } else {
      scores = reshape(matmul(keys, reshape(query, [B, 1, query.shape[1]]), true), [B, S]); // (B, S, 1)
    }
    const weights = softmax(add(scores, mask));
    const context = reshape(matmul(reshape(weights, [B, 1, S]), memory), [B, memory.shape[2]]);
    return { weights, context };
  }
}
