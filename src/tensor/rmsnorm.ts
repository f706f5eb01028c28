// RMSNorm (Zhang & Sennrich 2019, "Root Mean Square Layer Normalization"), LLaMA's normalisation: no mean
// subtraction and no bias, only a rescaling by the root mean square of the last axis and a learned gain.
//   y = x / √(mean(x²) + eps) · w
// As transformers' LlamaRMSNorm (modeling_llama.py): the statistic is computed in float32, eps sits inside
// the square root. Plain TypeScript (no backend kernel): it is cheap next to the matmuls around it.
import { alloc, allocUninit } from '../backend/storage.js';
import { Tensor } from './tensor.js';

/**
 * RMSNorm over the last axis: x (..., C), w (C) → (..., C).
 * Backward, with r = 1/√(mean(x²)+eps), x̂ = x·r and g = dy·w:
 *   dw = Σ_rows dy·x̂,   dx = r·(g − x̂·mean(g·x̂))
 * Throws when w is not a (C) vector or eps is not a non-negative number.
 */
export function rmsNorm(x: Tensor, w: Tensor, eps = 1e-6): Tensor {
  const C = x.shape[x.ndim - 1];
  if (w.ndim !== 1 || w.shape[0] !== C) throw new Error(`rmsNorm: weight [${w.shape}] does not fit an input of [${x.shape}]`);
  if (!(eps >= 0)) throw new Error(`rmsNorm: eps must be a non-negative number, got ${eps}`);
  const rows = x.size / C;
  const X = x.data, W = w.data;
  const out = allocUninit(x.size);
  const rstd = allocUninit(rows); // 1/√(mean(x²)+eps) per row, kept for the backward
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    let ss = 0;
    for (let j = 0; j < C; j++) ss += X[o + j] * X[o + j];
    const s = 1 / Math.sqrt(ss / C + eps);
    rstd[r] = s;
    for (let j = 0; j < C; j++) out[o + j] = X[o + j] * s * W[j];
  }
  return Tensor.fromOp(out, x.shape.slice(), [x, w], (o) => {
    const dy = o.grad!;
    const gx = x.requiresGrad ? x.gradBuf() : null;
    const gw = w.requiresGrad ? w.gradBuf() : null;
    const g = alloc(C);
    for (let r = 0; r < rows; r++) {
      const off = r * C, s = rstd[r];
      let dot = 0; // Σ_j g_j·x̂_j
      for (let j = 0; j < C; j++) {
        const xh = X[off + j] * s;
        g[j] = dy[off + j] * W[j];
        dot += g[j] * xh;
        if (gw) gw[j] += dy[off + j] * xh;
      }
      if (!gx) continue;
      const m = dot / C;
      for (let j = 0; j < C; j++) gx[off + j] += s * (g[j] - X[off + j] * s * m);
    }
  });
}
