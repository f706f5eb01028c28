// RMSNorm (Zhang & Sennrich 2019, "Root Mean Square Layer Normalization"), LLaMA's normalisation: no mean
// subtraction and no bias, only a rescaling by the root mean square of the last axis and a learned gain.
//   y = x / √(mean(x²) + eps) · w
// As transformers' LlamaRMSNorm (modeling_llama.py): the statistic is computed in float32, eps sits inside
// the square root. The arithmetic is the active backend's (rmsNorm/rmsNormBackward; src/backend/js.ts is the
// reference).
import { backend } from '../backend/backend.js';
import { allocUninit } from '../backend/storage.js';
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
  const rows = C === 0 ? 0 : x.size / C;
  const out = allocUninit(x.size);
  const rstd = allocUninit(rows); // 1/√(mean(x²)+eps) per row, kept for the backward
  backend().rmsNorm(x.data, w.data, out, rstd, rows, C, eps);
  return Tensor.fromOp(out, x.shape.slice(), [x, w], (o) => {
    const gx = x.requiresGrad ? x.gradBuf() : null;
    const gw = w.requiresGrad ? w.gradBuf() : null;
    backend().rmsNormBackward(x.data, w.data, rstd, o.grad!, gx, gw, rows, C);
  });
}
