// The fused neural-network ops: softmax, log-softmax, cross-entropy, layer norm and causal self-attention.
// Fusing them (rather than composing exp/sum/div) keeps them numerically stable and their backward cheap.
import { alloc, allocUninit } from '../backend/storage.js';
import { backend } from '../backend/backend.js';
import { Tensor } from './tensor.js';

/** softmax over the last axis */
export function softmax(a: Tensor): Tensor {
  const C = a.shape[a.ndim - 1], rows = a.size / C;
  const out = allocUninit(a.size);
  backend().softmax(a.data, out, rows, C);
  return Tensor.fromOp(out, a.shape.slice(), [a], (o) => backend().softmaxBackward(out, o.grad!, a.gradBuf(), rows, C));
}

/** log-softmax over the last axis: x − logsumexp(x) */
export function logSoftmax(a: Tensor): Tensor {
  const C = a.shape[a.ndim - 1], rows = a.size / C;
  const out = alloc(a.size);
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    let m = -Infinity;
    for (let j = 0; j < C; j++) m = Math.max(m, a.data[o + j]);
    let s = 0;
    for (let j = 0; j < C; j++) s += Math.exp(a.data[o + j] - m);
    const lse = m + Math.log(s);
    for (let j = 0; j < C; j++) out[o + j] = a.data[o + j] - lse;
  }
  return Tensor.fromOp(out, a.shape.slice(), [a], (res) => {
    const g = res.grad!, ga = a.gradBuf();
    for (let r = 0; r < rows; r++) {
      const o = r * C;
      let gs = 0;
      for (let j = 0; j < C; j++) gs += g[o + j];
      for (let j = 0; j < C; j++) ga[o + j] += g[o + j] - Math.exp(out[o + j]) * gs;
    }
  });
}

/**
 * Mean cross-entropy of logits (..., V) against integer targets, skipping targets equal to ignoreIndex
 * (PyTorch's F.cross_entropy(ignore_index=…); nanoGPT uses −1). Optional per-position weights (a loss mask,
 * e.g. SFT's assistant-only mask) weight each position; the mean is over the total weight.
 */
export function crossEntropy(
  logits: Tensor, targets: Int32Array | number[], ignoreIndex = -1, weights?: Float32Array,
): Tensor {
  const V = logits.shape[logits.ndim - 1], rows = logits.size / V;
  if (targets.length !== rows) throw new Error(`crossEntropy: ${targets.length} targets for ${rows} rows of logits`);
  const probs = allocUninit(logits.size);
  backend().softmax(logits.data, probs, rows, V);
  let total = 0, count = 0;
  for (let r = 0; r < rows; r++) {
    const t = targets[r];
    if (t === ignoreIndex) continue;
    if (!(t >= 0 && t < V)) throw new Error(`crossEntropy: target ${t} at row ${r} is out of range for ${V} classes`);
    const w = weights ? weights[r] : 1;
    if (w === 0) continue;
    const o = r * V;
    const p = probs[o + t];
    if (p > 1e-30) total -= w * Math.log(p);
    else {
      // p underflowed (or nearly): log p = x_t − logsumexp(x), computed stably from the row max
      let m = -Infinity;
      for (let j = 0; j < V; j++) m = Math.max(m, logits.data[o + j]);
      let s = 0;
      for (let j = 0; j < V; j++) s += Math.exp(logits.data[o + j] - m);
      total += w * (m + Math.log(s) - logits.data[o + t]);
    }
    count += w;
  }
  const loss = count > 0 ? total / count : 0;
  return Tensor.fromOp(new Float32Array([loss]), [], [logits], (o) => {
    if (count === 0) return;
    const g = o.grad![0] / count, gl = logits.gradBuf();
    for (let r = 0; r < rows; r++) {
      const t = targets[r];
      if (t === ignoreIndex) continue;
      const w = weights ? weights[r] : 1;
      if (w === 0) continue;
      const off = r * V, gw = g * w;
      for (let j = 0; j < V; j++) gl[off + j] += gw * probs[off + j];
      gl[off + t] -= gw;
    }
  });
}

/**
 * Per-row cross-entropy −log softmax(logits)[target], differentiable: logits (…, V), targets one per row →
 * a (rows) tensor, 0 (and no gradient) where the target is `ignoreIndex`. Reinforcement learning reads
 * log-probabilities from it (log p = −nll) and PyTorch's `cross_entropy(reduction='none')` is the reference.
 */
export function crossEntropyPerToken(logits: Tensor, targets: Int32Array | number[], ignoreIndex = -1): Tensor {
  const V = logits.shape[logits.ndim - 1], rows = logits.size / V;
  if (targets.length !== rows) throw new Error(`crossEntropy: ${targets.length} targets for ${rows} rows of logits`);
  const probs = allocUninit(logits.size);
  backend().softmax(logits.data, probs, rows, V);
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const t = targets[r];
    if (t === ignoreIndex) continue;
    if (!(t >= 0 && t < V)) throw new Error(`crossEntropy: target ${t} at row ${r} is out of range for ${V} classes`);
    const o = r * V;
    let m = -Infinity;
    for (let j = 0; j < V; j++) m = Math.max(m, logits.data[o + j]);
    let s = 0;
    for (let j = 0; j < V; j++) s += Math.exp(logits.data[o + j] - m);
    out[r] = m + Math.log(s) - logits.data[o + t];
  }
  return Tensor.fromOp(out, [rows], [logits], (o) => {
    const gl = logits.gradBuf();
    for (let r = 0; r < rows; r++) {
      const t = targets[r];
      const g = o.grad![r];
      if (t === ignoreIndex || g === 0) continue;
      const off = r * V;
      for (let j = 0; j < V; j++) gl[off + j] += g * probs[off + j];
      gl[off + t] -= g;
    }
  });
}

/** LayerNorm over the last axis with optional affine weight and bias (nanoGPT's LayerNorm(ndim, bias)). */
export function layerNorm(x: Tensor, w: Tensor | null, b: Tensor | null, eps = 1e-5): Tensor {
  const C = x.shape[x.ndim - 1], rows = x.size / C;
  const out = allocUninit(x.size);
  const mean = allocUninit(rows), rstd = allocUninit(rows);
  backend().layerNorm(x.data, w?.data ?? null, b?.data ?? null, out, mean, rstd, rows, C, eps);
  const parents = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
  return Tensor.fromOp(out, x.shape.slice(), parents, (o) => {
    backend().layerNormBackward(
      x.data, w?.data ?? null, mean, rstd, o.grad!, x.gradBuf(),
      w && w.requiresGrad ? w.gradBuf() : null, b && b.requiresGrad ? b.gradBuf() : null, rows, C,
    );
  });
}

/**
 * Causal self-attention of whole sequences, fused from the projection to the merged heads:
 * qkv (B, T, 3C) → (B, T, C), the same as splitting qkv into q, k, v heads (B, nh, T, hs), causalAttention,
 * and merging the heads back, without materialising any of those copies. Training's path (no KV cache, no
 * padding); causalAttention below serves generation.
 */
export function causalSelfAttention(qkv: Tensor, H: number): Tensor {
  const [B, T, C3] = qkv.shape;
  const C = C3 / 3, hs = C / H;
  if (qkv.ndim !== 3 || !Number.isInteger(C) || !Number.isInteger(hs)) {
    throw new Error(`causalSelfAttention: [${qkv.shape}] does not split into q, k, v of ${H} heads`);
  }
  const scale = 1 / Math.sqrt(hs);
  const att = allocUninit(B * H * T * T); // (B, nh, T, T), the probabilities, kept for the backward
  const out = allocUninit(B * T * C);
  backend().attention(qkv.data, out, att, B, T, H, hs, scale);
  return Tensor.fromOp(out, [B, T, C], [qkv], (o) => {
    const t = qkv.gradTarget();
    backend().attentionBackward(qkv.data, att, o.grad!, t.grad, B, T, H, hs, scale, t.accumulate);
  });
}

/**
 * Causal scaled dot-product attention, fused: q (B, nh, T, hs), k, v (B, nkv, T, hs) → (B, nh, T, hs).
 *   att = softmax(mask(q·kᵀ / √hs));  y = att·v
 * Position t attends to positions ≤ t. With `kvOffset` > 0 (KV cache), q holds the last Tq positions of a
 * sequence whose keys/values k, v hold all Tk = kvOffset + Tq positions.
 * Grouped-query attention (nkv < nh, nh = nkv·nRep): query head h reads kv head ⌊h / nRep⌋, as transformers'
 * repeat_kv, without repeating k and v — the nRep query heads of a group are consecutive in memory, so they
 * are one (nRep·Tq, hs) block against their kv head's (Tk, hs), and the products batch over (B, nkv).
 * `keyStart` (one entry per batch row) hides keys before it: left padding in a batch of prompts of different
 * lengths. A query with no visible key (a padding position) gets zeros. Throws when nh is not a multiple of nkv.
 */
export function causalAttention(q: Tensor, k: Tensor, v: Tensor, keyStart?: Int32Array): Tensor {
  const [B, H, Tq, hs] = q.shape;
  const [, K, Tk] = k.shape;
  if (!(K >= 1 && H % K === 0) || v.shape[1] !== K) throw new Error(`causalAttention: ${H} query heads cannot share ${K} key and ${v.shape[1]} value heads`);
  const BK = B * K, M = (H / K) * Tq; // (B, nkv) groups of nRep·Tq query rows
  const scale = 1 / Math.sqrt(hs);
  const att = allocUninit(B * H * Tq * Tk); // (B, nh, Tq, Tk) = (B, nkv, nRep·Tq, Tk)
  const be = backend();
  be.matmul(q.data, k.data, att, {
    batch: BK, M, N: Tk, K: hs, transA: false, transB: true, accumulate: false,
    strideA: M * hs, strideB: Tk * hs, strideC: M * Tk,
  });
  // scale, mask the future (and any padding), softmax row by row over the visible keys [lo, visible):
  // row r is query r % Tq, sees keys up to (r % Tq) + kvOffset and from keyStart[batch row] on
  be.causalSoftmax(att, B * H * Tq, Tq, Tk, scale, keyStart ?? null, H * Tq);
  const out = allocUninit(B * H * Tq * hs);
  be.matmul(att, v.data, out, {
    batch: BK, M, N: hs, K: Tk, transA: false, transB: false, accumulate: false,
    strideA: M * Tk, strideB: Tk * hs, strideC: M * hs,
  });
  // masked entries (future, padding) have att = 0, so they get no gradient
  return Tensor.fromOp(out, [B, H, Tq, hs], [q, k, v], (o) => attentionBackwardFromProbs(o.grad!, q, k, v, att, att, null, { BH: BK, Tq: M, Tk, hs, scale }));
}

export interface AttentionDims { BH: number; Tq: number; Tk: number; hs: number; scale: number }

/**
 * The backward of y = used·v with used = att⊙keep and att = softmax(scale·q·kᵀ), for causal and bidirectional
 * attention alike (keep: inverted-dropout multipliers, or null; without dropout used = att):
 *   dv = usedᵀ·dy   (Tk, Tq)·(Tq, hs);  dP = (dy·vᵀ)⊙keep   (Tq, hs)·(hs, Tk);  dS = softmax backward(att, dP)·scale;
 *   then dq and dk from dS (attentionScoresBackward). Accumulates into the inputs' gradients.
 */
export function attentionBackwardFromProbs(
  dy: Float32Array, q: Tensor, k: Tensor, v: Tensor, att: Float32Array, used: Float32Array, keep: Float32Array | null, d: AttentionDims,
): void {
  const { BH, Tq, Tk, hs, scale } = d;
  const be = backend();
  if (v.requiresGrad) {
    const tv = v.gradTarget();
    be.matmul(used, dy, tv.grad, {
      batch: BH, M: Tk, N: hs, K: Tq, transA: true, transB: false, accumulate: tv.accumulate,
      strideA: Tq * Tk, strideB: Tq * hs, strideC: Tk * hs,
    });
  }
  const datt = allocUninit(BH * Tq * Tk);
  be.matmul(dy, v.data, datt, {
    batch: BH, M: Tq, N: Tk, K: hs, transA: false, transB: true, accumulate: false,
    strideA: Tq * hs, strideB: Tk * hs, strideC: Tq * Tk,
  });
  if (keep) for (let i = 0; i < datt.length; i++) datt[i] *= keep[i];
  be.causalSoftmaxBackward(att, datt, BH * Tq, Tk, scale); // a generic row softmax backward, times scale
  attentionScoresBackward(datt, q, k, BH, Tq, Tk, hs);
}

/**
 * The gradients of attention scores S = q·kᵀ (before scaling) into q and k, from dS (BH, Tq, Tk):
 *   dq = dS · k   (Tq, Tk)·(Tk, hs)        dk = dSᵀ · q   (Tk, Tq)·(Tq, hs)
 * accumulated into their gradients (causal and bidirectional attention share it).
 */
export function attentionScoresBackward(datt: Float32Array, q: Tensor, k: Tensor, BH: number, Tq: number, Tk: number, hs: number): void {
  const be = backend();
  if (q.requiresGrad) {
    const tq = q.gradTarget();
    be.matmul(datt, k.data, tq.grad, {
      batch: BH, M: Tq, N: hs, K: Tk, transA: false, transB: false, accumulate: tq.accumulate,
      strideA: Tq * Tk, strideB: Tk * hs, strideC: Tq * hs,
    });
  }
  if (k.requiresGrad) {
    const tk = k.gradTarget();
    be.matmul(datt, q.data, tk.grad, {
      batch: BH, M: Tk, N: hs, K: Tq, transA: true, transB: false, accumulate: tk.accumulate,
      strideA: Tq * Tk, strideB: Tq * hs, strideC: Tk * hs,
    });
  }
}
