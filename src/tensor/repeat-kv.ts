// Grouped-query attention's key/value sharing (Ainslie et al. 2023, "GQA: Training Generalized Multi-Query
// Transformer Models from Multi-Head Checkpoints"): nKvHead heads of keys and values serve nHead query
// heads, each kv head a group of nHead/nKvHead consecutive query heads. As transformers' `repeat_kv`
// (modeling_llama.py), the kv heads are repeated so that ordinary attention can run; query head h reads kv
// head ⌊h / nRep⌋. The KV cache keeps the unrepeated nKvHead heads.
import { allocUninit } from '../backend/storage.js';
import { Tensor } from './tensor.js';

/**
 * x (B, nKv, T, hs) → (B, nKv·nRep, T, hs), head h = copy of kv head ⌊h / nRep⌋; nRep = 1 returns x.
 * The backward sums each group's gradients into its kv head. Throws when nRep is not a positive integer.
 */
export function repeatKv(x: Tensor, nRep: number): Tensor {
  if (!Number.isInteger(nRep) || nRep < 1) throw new Error(`repeatKv: nRep must be a positive integer, got ${nRep}`);
  if (x.ndim !== 4) throw new Error(`repeatKv: input must be (B, nKv, T, hs), got [${x.shape}]`);
  if (nRep === 1) return x;
  const [B, K, T, hs] = x.shape;
  const blk = T * hs; // one head of one batch row
  const out = allocUninit(B * K * nRep * blk);
  const X = x.data;
  for (let b = 0; b < B; b++)
    for (let k = 0; k < K; k++) {
      const src = X.subarray((b * K + k) * blk, (b * K + k + 1) * blk);
      for (let r = 0; r < nRep; r++) out.set(src, ((b * K + k) * nRep + r) * blk);
    }
  return Tensor.fromOp(out, [B, K * nRep, T, hs], [x], (o) => {
    const g = o.grad!, gx = x.gradBuf();
    for (let b = 0; b < B; b++)
      for (let k = 0; k < K; k++) {
        const dst = (b * K + k) * blk;
        for (let r = 0; r < nRep; r++) {
          const src = ((b * K + k) * nRep + r) * blk;
          for (let i = 0; i < blk; i++) gx[dst + i] += g[src + i];
        }
      }
  });
}
