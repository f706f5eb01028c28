// Causal attention of new queries over a KV cache (generation): the keys and values stay where the cache keeps
// them (models/kv-cache.ts: each (row, kv head) pair's positions at a fixed stride), so a step reads them in
// place instead of concatenating a contiguous copy. Grouped-query attention (LLaMA's nKvHead < nHead) reads
// each kv head once for its group of query heads instead of repeating it: query head h uses kv head
// ⌊h / groups⌋, as transformers' repeat_kv. The same two batched matmuls and masked softmax as
// causalAttention (nnops.ts), so the numbers are those of the contiguous path. Inference only: no backward.
import { allocUninit } from '../backend/storage.js';
import { backend } from '../backend/backend.js';
import { isGradEnabled, Tensor } from './tensor.js';

/** cached keys and values as kvAttention reads them */
export interface CachedKeysValues {
  /** pair i = (row b, kv head g), i = b·kvHeads + g, holds `length` positions of hs floats from i·stride */
  keys: Float32Array;
  values: Float32Array;
  /** floats from one (row, kv head) pair to the next */
  stride: number;
  /** positions held: the queries are the last Tq of them */
  length: number;
  /** kv heads per row */
  heads: number;
}

/**
 * q (B, nh, Tq, hs) over the cache's Tk ≥ Tq positions → (B, nh, Tq, hs):
 *   att = softmax(mask(q·kᵀ / √hs));  y = att·v
 * Query t (the cache's position Tk − Tq + t) sees positions ≤ its own and, with `keyStart` (one entry per
 * row), none before keyStart[b] (left padding); a query with no visible key gets zeros. nh must be a multiple
 * of the cache's kv heads. Throws when autograd would need a gradient (the cache holds values only).
 */
export function kvAttention(q: Tensor, kv: CachedKeysValues, keyStart?: Int32Array): Tensor {
  const [B, H, Tq, hs] = q.shape;
  const Tk = kv.length, K = kv.heads, groups = H / K;
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`kvAttention: ${H} query heads do not group over ${K} kv heads`);
  if (Tq > Tk) throw new Error(`kvAttention: ${Tq} queries but only ${Tk} cached positions`);
  if (isGradEnabled() && q.requiresGrad) throw new Error('kvAttention: the KV cache is for inference; run generation under noGrad');
  const M = groups * Tq; // a kv head's whole group of query heads, contiguous in q
  const scale = 1 / Math.sqrt(hs);
  const be = backend();
  const att = allocUninit(B * H * Tq * Tk); // (B, nh, Tq, Tk)
  be.matmul(q.data, kv.keys, att, {
    batch: B * K, M, N: Tk, K: hs, transA: false, transB: true, accumulate: false,
    strideA: M * hs, strideB: kv.stride, strideC: M * Tk,
  });
  be.causalSoftmax(att, B * H * Tq, Tq, Tk, scale, keyStart ?? null, H * Tq);
  const out = allocUninit(B * H * Tq * hs);
  be.matmul(att, kv.values, out, {
    batch: B * K, M, N: hs, K: Tk, transA: false, transB: false, accumulate: false,
    strideA: M * Tk, strideB: kv.stride, strideC: M * hs,
  });
  return new Tensor(out, [B, H, Tq, hs]);
}
