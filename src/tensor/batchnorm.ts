// Batch normalization (Ioffe & Szegedy 2015) with PyTorch's semantics (torch.nn.functional.batch_norm), for
// inputs (N, C), (N, C, L) or (N, C, H, W): every channel c is normalised over the batch and spatial positions,
//   y = (x − μ_c) / sqrt(σ²_c + eps) · weight[c] + bias[c].
// Training uses the batch's mean and biased variance, and (when running stats are given) updates them in place:
//   running_mean ← (1 − m)·running_mean + m·μ,   running_var ← (1 − m)·running_var + m·σ²·M/(M − 1)
// (the running variance is the unbiased one, M = N·spatial values per channel). Eval uses the running stats.
import { alloc } from '../backend/storage.js';
import { Tensor } from './tensor.js';

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** (C) each; updated in place when training, used instead of batch statistics when not */
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  /** batch statistics (true) or running ones (false) */
  training: boolean;
  /** the running stats' update factor m (PyTorch's default 0.1) */
  momentum?: number;
  eps?: number;
}

interface Stats { mean: Float64Array; rstd: Float64Array }

/** per-channel mean and 1/sqrt(var + eps) of x viewed as (N, C, S), with var biased; updates running stats */
function batchStats(x: Float32Array, N: number, C: number, S: number, o: BatchNormOptions): Stats {
  const M = N * S, eps = o.eps ?? 1e-5, m = o.momentum ?? 0.1;
  if (M < 2) throw new Error(`batch_norm: expected more than 1 value per channel when training, got input of ${N}×${C}×${S}`);
  const mean = new Float64Array(C), rstd = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) for (let i = 0, b = (n * C + c) * S; i < S; i++) s += x[b + i];
    const mu = s / M;
    let v = 0;
    for (let n = 0; n < N; n++) for (let i = 0, b = (n * C + c) * S; i < S; i++) v += (x[b + i] - mu) ** 2;
    v /= M;
    mean[c] = mu;
    rstd[c] = 1 / Math.sqrt(v + eps);
    if (o.runningMean) o.runningMean.data[c] = (1 - m) * o.runningMean.data[c] + m * mu;
    if (o.runningVar) o.runningVar.data[c] = (1 - m) * o.runningVar.data[c] + (m * v * M) / (M - 1);
  }
  return { mean, rstd };
}

function runningStats(C: number, o: BatchNormOptions): Stats {
  const rm = o.runningMean, rv = o.runningVar, eps = o.eps ?? 1e-5;
  if (!rm || !rv) throw new Error('batch_norm: eval mode needs runningMean and runningVar');
  const mean = new Float64Array(C), rstd = new Float64Array(C);
  for (let c = 0; c < C; c++) (mean[c] = rm.data[c]), (rstd[c] = 1 / Math.sqrt(rv.data[c] + eps));
  return { mean, rstd };
}

function checkShapes(x: Tensor, o: BatchNormOptions): void {
  if (x.ndim < 2) throw new Error(`batch_norm: input must be (N, C, …), got shape [${x.shape}]`);
  const C = x.shape[1];
  for (const [f, t] of [['weight', o.weight], ['bias', o.bias], ['runningMean', o.runningMean], ['runningVar', o.runningVar]] as const) {
    if (t && (t.ndim !== 1 || t.shape[0] !== C)) throw new Error(`batch_norm: ${f} has shape [${t.shape}], input has ${C} channels`);
  }
}

/**
 * Batch normalization: x (N, C, *) → same shape. Differentiable in x, weight and bias; the running stats are
 * state, not inputs of the graph. Throws on mismatched channel counts, on training with one value per channel,
 * and on eval without running stats.
 */
export function batchNorm(x: Tensor, o: BatchNormOptions): Tensor {
  checkShapes(x, o);
  const N = x.shape[0], C = x.shape[1], S = x.size / (N * C);
  const st = o.training ? batchStats(x.data, N, C, S, o) : runningStats(C, o);
  const w = o.weight ?? null, b = o.bias ?? null;
  const out = alloc(x.size);
  const xhat = alloc(x.size); // (x − μ)·rstd, for the backward
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
    const mu = st.mean[c], r = st.rstd[c], sc = w ? w.data[c] : 1, sh = b ? b.data[c] : 0;
    for (let i = 0, k = (n * C + c) * S; i < S; i++, k++) {
      const h = (x.data[k] - mu) * r;
      xhat[k] = h;
      out[k] = h * sc + sh;
    }
  }
  const parents = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
  return Tensor.fromOp(out, x.shape.slice(), parents, (res) => backward(res.grad!, xhat, st, x, w, b, o.training));
}

/**
 * dβ = Σ dy, dγ = Σ dy·x̂; with batch statistics dx = rstd/M · (M·dx̂ − Σ dx̂ − x̂·Σ dx̂·x̂), dx̂ = dy·γ
 * (Ioffe & Szegedy 2015, §3); with running statistics dx = dy·γ·rstd.
 */
function backward(gy: Float32Array, xhat: Float32Array, st: Stats, x: Tensor, w: Tensor | null, b: Tensor | null, training: boolean): void {
  const N = x.shape[0], C = x.shape[1], S = x.size / (N * C), M = N * S;
  const gx = x.requiresGrad ? x.gradBuf() : null;
  for (let c = 0; c < C; c++) {
    let sdy = 0, sdyh = 0;
    for (let n = 0; n < N; n++) for (let i = 0, k = (n * C + c) * S; i < S; i++, k++) (sdy += gy[k]), (sdyh += gy[k] * xhat[k]);
    if (w && w.requiresGrad) w.gradBuf()[c] += sdyh;
    if (b && b.requiresGrad) b.gradBuf()[c] += sdy;
    if (!gx) continue;
    const sc = (w ? w.data[c] : 1) * st.rstd[c];
    const m1 = training ? sdy / M : 0, m2 = training ? sdyh / M : 0;
    for (let n = 0; n < N; n++) for (let i = 0, k = (n * C + c) * S; i < S; i++, k++) gx[k] += sc * (gy[k] - m1 - xhat[k] * m2);
  }
}
