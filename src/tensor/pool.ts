// Pooling with PyTorch's semantics (torch.nn.functional.max_pool2d / avg_pool2d / adaptive_avg_pool2d and their
// 1-D forms; ceil_mode false, dilation 1), differentiable, NCHW / NCL layouts. Every pooling here reduces a
// rectangular window of each (n, c) plane to one number. Average pooling is LeNet's subsampling (LeCun et al.
// 1998) and spreads the gradient evenly over the window; max pooling remembers where each maximum came from
// (its argmax) and sends the gradient there.
import { alloc } from '../backend/storage.js';
import { Tensor } from './tensor.js';
import { reshape } from './shape.js';
import { pair } from './conv.js';

/** Options of a 2-D pooling; stride defaults to the kernel size, padding to 0 (PyTorch's defaults). */
export interface Pool2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
}

/** avg_pool2d's options: count_include_pad (default true, PyTorch's) divides by the whole window, padding included. */
export interface AvgPool2dOptions extends Pool2dOptions {
  countIncludePad?: boolean;
}

/** the window of output (oh, ow) on the unpadded plane, [h0, h1) × [w0, w1), and the divisor for averages */
type Window = (oh: number, ow: number) => [number, number, number, number, number];

interface PoolShape { N: number; C: number; H: number; W: number; Ho: number; Wo: number }

/**
 * Checks x (N, C, H, W) and the window, and returns the output size Ho = floor((H + 2·pH − kH)/sH) + 1
 * (likewise Wo) and the window function. PyTorch's rule: padding at most half the kernel.
 */
function slidingWindows(op: string, x: Tensor, kernel: number | [number, number], opts: AvgPool2dOptions): [PoolShape, Window] {
  if (x.ndim !== 4) throw new Error(`${op}: input must be (N, C, H, W), got shape [${x.shape}]`);
  const [N, C, H, W] = x.shape;
  const [kH, kW] = pair(kernel, 1), [pH, pW] = pair(opts.padding, 0);
  const stride = opts.stride === undefined ? [kH, kW] : pair(opts.stride, 0);
  for (const [f, vs, min] of [['kernel', [kH, kW], 1], ['stride', stride, 1], ['padding', [pH, pW], 0]] as const) {
    for (const v of vs) if (!Number.isInteger(v) || v < min) throw new Error(`${op}: ${f} must be an integer ≥ ${min}, got ${v}`);
  }
  if (2 * pH > kH || 2 * pW > kW) throw new Error(`${op}: padding ${pH}×${pW} is more than half the kernel ${kH}×${kW}`);
  const Ho = Math.floor((H + 2 * pH - kH) / stride[0]) + 1, Wo = Math.floor((W + 2 * pW - kW) / stride[1]) + 1;
  if (Ho < 1 || Wo < 1) throw new Error(`${op}: input of ${H}×${W} (padded ${H + 2 * pH}×${W + 2 * pW}) is smaller than the kernel ${kH}×${kW}`);
  const includePad = opts.countIncludePad ?? true;
  const win: Window = (oh, ow) => {
    const hs = oh * stride[0] - pH, ws = ow * stride[1] - pW;
    const he = Math.min(hs + kH, H + pH), we = Math.min(ws + kW, W + pW);
    const padded = (he - hs) * (we - ws);
    const h0 = Math.max(hs, 0), w0 = Math.max(ws, 0), h1 = Math.min(he, H), w1 = Math.min(we, W);
    return [h0, h1, w0, w1, includePad ? padded : (h1 - h0) * (w1 - w0)];
  };
  return [{ N, C, H, W, Ho, Wo }, win];
}

/** the windows of all Ho·Wo outputs, computed once for every plane: bounds (h0, h1, w0, w1) and divisors */
interface WindowTable { bounds: Int32Array; div: Float64Array }

function tabulate(Ho: number, Wo: number, win: Window): WindowTable {
  const bounds = new Int32Array(Ho * Wo * 4), div = new Float64Array(Ho * Wo);
  for (let oh = 0, j = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++, j++) {
    const [h0, h1, w0, w1, d] = win(oh, ow);
    bounds.set([h0, h1, w0, w1], 4 * j);
    div[j] = d;
  }
  return { bounds, div };
}

/** Averages every window: y[n, c, oh, ow] = Σ_window x / divisor; the backward spreads dy/divisor over it. */
function averageWindows(x: Tensor, s: PoolShape, win: Window): Tensor {
  const { N, C, H, W, Ho, Wo } = s;
  const { bounds: t, div } = tabulate(Ho, Wo, win), L = Ho * Wo;
  const out = alloc(N * C * L);
  const X = x.data;
  for (let p = 0, k = 0; p < N * C; p++) {
    const base = p * H * W;
    for (let j = 0; j < L; j++, k++) {
      let acc = 0;
      for (let h = t[4 * j]; h < t[4 * j + 1]; h++) for (let w = t[4 * j + 2]; w < t[4 * j + 3]; w++) acc += X[base + h * W + w];
      out[k] = acc / div[j];
    }
  }
  return Tensor.fromOp(out, [N, C, Ho, Wo], [x], (res) => {
    const gy = res.grad!, gx = x.gradBuf();
    for (let p = 0, k = 0; p < N * C; p++) {
      const base = p * H * W;
      for (let j = 0; j < L; j++, k++) {
        const g = gy[k] / div[j];
        for (let h = t[4 * j]; h < t[4 * j + 1]; h++) for (let w = t[4 * j + 2]; w < t[4 * j + 3]; w++) gx[base + h * W + w] += g;
      }
    }
  });
}

/**
 * torch.nn.functional.max_pool2d: x (N, C, H, W) → (N, C, Ho, Wo), Ho = floor((H + 2p − k)/s) + 1, padding
 * counting as −∞. The gradient goes to the first maximal element of each window (PyTorch's CPU choice).
 * Throws on a non-4-D input, non-positive sizes, or padding over half the kernel.
 */
export function maxPool2d(x: Tensor, kernel: number | [number, number], opts: Pool2dOptions = {}): Tensor {
  return maxPool('max_pool2d', x, kernel, opts);
}

function maxPool(op: string, x: Tensor, kernel: number | [number, number], opts: Pool2dOptions): Tensor {
  const [s, win] = slidingWindows(op, x, kernel, opts);
  const { N, C, H, W, Ho, Wo } = s;
  const t = tabulate(Ho, Wo, win).bounds, L = Ho * Wo;
  const out = alloc(N * C * L);
  const arg = new Int32Array(out.length); // flat index into x of each maximum
  const X = x.data;
  for (let p = 0, k = 0; p < N * C; p++) {
    const base = p * H * W;
    for (let j = 0; j < L; j++, k++) {
      const h0 = t[4 * j], h1 = t[4 * j + 1], w0 = t[4 * j + 2], w1 = t[4 * j + 3];
      let best = -Infinity, at = base + h0 * W + w0;
      for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) {
        const v = X[base + h * W + w];
        if (v > best || Number.isNaN(v)) (best = v), (at = base + h * W + w);
        if (Number.isNaN(v)) break;
      }
      out[k] = best;
      arg[k] = at;
    }
  }
  return Tensor.fromOp(out, [N, C, Ho, Wo], [x], (res) => {
    const gy = res.grad!, gx = x.gradBuf();
    for (let k = 0; k < gy.length; k++) gx[arg[k]] += gy[k];
  });
}

/**
 * torch.nn.functional.avg_pool2d: x (N, C, H, W) → (N, C, Ho, Wo), sizes as max_pool2d. Zero padding; with
 * countIncludePad (the default) every window divides by kH·kW, else by the number of real pixels in it.
 */
export function avgPool2d(x: Tensor, kernel: number | [number, number], opts: AvgPool2dOptions = {}): Tensor {
  return averageWindows(x, ...slidingWindows('avg_pool2d', x, kernel, opts));
}

/**
 * torch.nn.functional.adaptive_avg_pool2d: x (N, C, H, W) → (N, C, oh, ow); output cell i along an axis of
 * length H averages rows floor(i·H/oh) … ceil((i+1)·H/oh) − 1. outputSize 1 is global average pooling
 * (He et al. 2016's ResNet head).
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | [number, number]): Tensor {
  if (x.ndim !== 4) throw new Error(`adaptive_avg_pool2d: input must be (N, C, H, W), got shape [${x.shape}]`);
  const [N, C, H, W] = x.shape;
  const [Ho, Wo] = pair(outputSize, 1);
  if (!Number.isInteger(Ho) || !Number.isInteger(Wo) || Ho < 1 || Wo < 1) {
    throw new Error(`adaptive_avg_pool2d: output size must be positive integers, got ${Ho}×${Wo}`);
  }
  const win: Window = (oh, ow) => {
    const h0 = Math.floor((oh * H) / Ho), h1 = Math.ceil(((oh + 1) * H) / Ho);
    const w0 = Math.floor((ow * W) / Wo), w1 = Math.ceil(((ow + 1) * W) / Wo);
    return [h0, h1, w0, w1, (h1 - h0) * (w1 - w0)];
  };
  return averageWindows(x, { N, C, H, W, Ho, Wo }, win);
}

/** a 1-D pooling as the 2-D one over a height-1 plane: x (N, C, L) → (N, C, Lo) */
function pool1d(op: string, x: Tensor, f: (x4: Tensor) => Tensor): Tensor {
  if (x.ndim !== 3) throw new Error(`${op}: input must be (N, C, L), got shape [${x.shape}]`);
  const [N, C, L] = x.shape;
  const y = f(reshape(x, [N, C, 1, L]));
  return reshape(y, [N, C, y.shape[3]]);
}

/** torch.nn.functional.max_pool1d: x (N, C, L) → (N, C, floor((L + 2p − k)/s) + 1); stride defaults to k. */
export function maxPool1d(x: Tensor, kernel: number, opts: { stride?: number; padding?: number } = {}): Tensor {
  const o = { stride: [1, opts.stride ?? kernel] as [number, number], padding: [0, opts.padding ?? 0] as [number, number] };
  return pool1d('max_pool1d', x, (x4) => maxPool('max_pool1d', x4, [1, kernel], o));
}

/** torch.nn.functional.avg_pool1d: x (N, C, L) → (N, C, Lo), count_include_pad by default. */
export function avgPool1d(x: Tensor, kernel: number, opts: { stride?: number; padding?: number; countIncludePad?: boolean } = {}): Tensor {
  const o = { stride: [1, opts.stride ?? kernel] as [number, number], padding: [0, opts.padding ?? 0] as [number, number], countIncludePad: opts.countIncludePad };
  return pool1d('avg_pool1d', x, (x4) => averageWindows(x4, ...slidingWindows('avg_pool1d', x4, [1, kernel], o)));
}

/**
 * torch.flatten: merges dims startDim … endDim (negative counts from the end) into one; shares data.
 * (N, C, H, W) → (N, C·H·W) with the defaults, as nn.Flatten.
 */
export function flatten(x: Tensor, startDim = 1, endDim = -1): Tensor {
  const nd = x.ndim;
  const s = startDim < 0 ? startDim + nd : startDim, e = endDim < 0 ? endDim + nd : endDim;
  if (s < 0 || e >= nd || s > e) throw new Error(`flatten: dims ${startDim}…${endDim} are out of range for shape [${x.shape}]`);
  const merged = x.shape.slice(s, e + 1).reduce((a, d) => a * d, 1);
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}
