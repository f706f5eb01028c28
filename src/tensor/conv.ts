// Convolutions with PyTorch's semantics (torch.nn.functional.conv1d / conv2d: cross-correlation, zero padding,
// stride, dilation, groups; NCHW / NCL layouts; weight (out, in/groups, kH, kW)), differentiable, in two ways
// that the tests hold together:
//   conv2d / conv1d             im2col (im2col.ts): the receptive fields of a chunk of images (the whole batch
//                               unless it is huge) are unrolled into a (K, n·Ho·Wo) matrix, K = in/groups·kH·kW,
//                               so the convolution is one wide GEMM per group on the active backend (WebAssembly
//                               SIMD on its threads, or OpenBLAS); the backward is two more GEMMs and col2im,
//                               which adds the unrolled gradient back onto the images.
//   conv2dDirect / conv1dDirect the plain six-deep loop of the definition, forward and backward: the reference.
// The definition (LeCun et al. 1998, "Gradient-based learning applied to document recognition"):
//   y[n, o, oh, ow] = b[o] + Σ_{c, i, j} w[o, c, i, j] · x[n, g·Cg + c, oh·sH − pH + i·dH, ow·sW − pW + j·dW]
// with g = floor(o / Og) the group of output channel o and x = 0 outside the image.
import { allocUninit } from '../backend/storage.js';
import { backend } from '../backend/backend.js';
import { Tensor } from './tensor.js';
import { reshape } from './shape.js';
import { col2imChunk, im2colChunk, type ConvGeometry } from './im2col.js';

export type { ConvGeometry };

/**
 * Options of a 2-D convolution; a number applies to both axes. PyTorch's defaults: 1, 0, 1, 1. Padding
 * 'valid' is 0; 'same' (stride 1 only) keeps the size, padding d·(k − 1)/2 before and the rest after.
 */
export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number] | 'same' | 'valid';
  dilation?: number | [number, number];
  groups?: number;
}

/** Options of a 1-D convolution (PyTorch's defaults: 1, 0, 1, 1; padding as Conv2dOptions). */
export interface Conv1dOptions {
  stride?: number;
  padding?: number | 'same' | 'valid';
  dilation?: number;
  groups?: number;
}

export const pair = (v: number | [number, number] | undefined, dflt: number): [number, number] =>
  v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : v;

function checkInt(op: string, field: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`${op}: ${field} must be an integer ≥ ${min}, got ${v}`);
}

/**
 * Checks x (N, C, H, W), w (O, C/groups, kH, kW), b (O) and the options, and computes the output size
 * Ho = floor((H + 2·pH − dH·(kH − 1) − 1) / sH) + 1 (likewise Wo), as PyTorch's Conv2d documents; with
 * padding 'same', pH = floor(dH·(kH − 1)/2) before and Ho = H (the rest of the padding falls after).
 * Throws one line naming the field that does not fit.
 */
export function convGeometry(op: string, x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions): ConvGeometry {
  if (x.ndim !== 4) throw new Error(`${op}: input must be (N, C, H, W), got shape [${x.shape}]`);
  if (w.ndim !== 4) throw new Error(`${op}: weight must be (out, in/groups, kH, kW), got shape [${w.shape}]`);
  const [N, C, H, W] = x.shape;
  const [O, Cg, kH, kW] = w.shape;
  const G = opts.groups ?? 1;
  const [sH, sW] = pair(opts.stride, 1), [dH, dW] = pair(opts.dilation, 1);
  const padding = opts.padding === 'valid' ? 0 : opts.padding, same = padding === 'same';
  if (same && (sH !== 1 || sW !== 1)) throw new Error(`${op}: padding 'same' needs stride 1, got stride ${sH}×${sW}`);
  const [pH, pW] = same ? [Math.floor((dH * (kH - 1)) / 2), Math.floor((dW * (kW - 1)) / 2)] : pair(padding, 0);
  checkInt(op, 'groups', G, 1);
  for (const [f, v, min] of [['stride', sH, 1], ['stride', sW, 1], ['padding', pH, 0], ['padding', pW, 0], ['dilation', dH, 1], ['dilation', dW, 1]] as const) {
    checkInt(op, f, v, min);
  }
  if (C !== Cg * G) throw new Error(`${op}: input has ${C} channels, weight expects ${Cg * G} (${Cg} per group × ${G} groups)`);
  if (O % G !== 0) throw new Error(`${op}: weight has ${O} output channels, not divisible by groups = ${G}`);
  if (b && (b.ndim !== 1 || b.shape[0] !== O)) throw new Error(`${op}: bias has shape [${b.shape}], expected [${O}]`);
  const Ho = same ? H : Math.floor((H + 2 * pH - dH * (kH - 1) - 1) / sH) + 1;
  const Wo = same ? W : Math.floor((W + 2 * pW - dW * (kW - 1) - 1) / sW) + 1;
  if (Ho < 1 || Wo < 1) {
    throw new Error(`${op}: input of ${H}×${W} (padded ${H + 2 * pH}×${W + 2 * pW}) is smaller than the dilated kernel ${dH * (kH - 1) + 1}×${dW * (kW - 1) + 1}`);
  }
  return { N, C, H, W, O, G, Cg, Og: O / G, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo };
}

/**
 * 2-D convolution through im2col and the backend's GEMM (the fast path).
 * x (N, C, H, W), w (O, C/groups, kH, kW), b (O) or null → (N, O, Ho, Wo); PyTorch's F.conv2d semantics.
 * Throws when shapes or options do not fit (see convGeometry).
 */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  return conv2dGemm('conv2d', x, w, b, opts);
}

/** im2colChunk on the backend's fast path when it has one, else the reference */
function unroll(x: Float32Array, g: ConvGeometry, n0: number, n: number, cols: Float32Array): void {
  if (!backend().im2col?.(x, cols, g, n0, n)) im2colChunk(x, g, n0, n, cols);
}

/** col2imChunk likewise */
function fold(cols: Float32Array, g: ConvGeometry, n0: number, n: number, dx: Float32Array): void {
  if (!backend().col2im?.(cols, dx, g, n0, n)) col2imChunk(cols, g, n0, n, dx);
}

/**
 * Images per im2col chunk: the unrolled chunk, G·K·n·L floats, stays within convLimits.colElems (at least one
 * image), so a large batch never unrolls into gigabytes; tests lower the limit to exercise the chunking.
 */
export const convLimits = { colElems: 1 << 24 };

function chunkImages(g: ConvGeometry): number {
  const perImage = g.G * g.Cg * g.kH * g.kW * g.Ho * g.Wo;
  return Math.max(1, Math.min(g.N, Math.floor(convLimits.colElems / perImage)));
}

/** out[n0 + m, o, l] = yt[o, m·L + l] + b[o] for a chunk of n images: (O, n·L) → its slice of (N, O, L) */
function scatterOutput(yt: Float32Array, b: Float32Array | null, out: Float32Array, n0: number, n: number, O: number, L: number): void {
  for (let o = 0; o < O; o++) {
    const bias = b ? b[o] : 0;
    for (let m = 0; m < n; m++) {
      const src = (o * n + m) * L, dst = ((n0 + m) * O + o) * L;
      if (bias === 0) out.set(yt.subarray(src, src + L), dst);
      else for (let l = 0; l < L; l++) out[dst + l] = yt[src + l] + bias;
    }
  }
}

/** gyt[o, m·L + l] = gy[n0 + m, o, l]: a chunk's output gradient in the wide layout (O, n·L) */
function gatherGrad(gy: Float32Array, gyt: Float32Array, n0: number, n: number, O: number, L: number): void {
  for (let m = 0; m < n; m++) {
    for (let o = 0; o < O; o++) {
      const src = ((n0 + m) * O + o) * L;
      gyt.set(gy.subarray(src, src + L), (o * n + m) * L);
    }
  }
}

/**
 * The fast path: the batch is unrolled chunk by chunk into (G, K, n·L) and each group's output is one wide
 * GEMM, (Og, K)·(K, n·L), so the backend's threads (or OpenBLAS's) share one large product instead of n small
 * ones. When the whole batch is one chunk, its unrolled input is kept for the weight gradient.
 */
function conv2dGemm(op: string, x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions): Tensor {
  const g = convGeometry(op, x, w, b, opts);
  const { N, O, G, Og, Ho, Wo } = g;
  const K = g.Cg * g.kH * g.kW, L = Ho * Wo, per = chunkImages(g);
  const out = allocUninit(N * O * L); // (N, O, Ho, Wo); every element is written
  const cols = allocUninit(G * K * per * L);
  const yt = allocUninit(O * per * L);
  for (let n0 = 0; n0 < N; n0 += per) {
    const n = Math.min(per, N - n0), NL = n * L;
    unroll(x.data, g, n0, n, cols);
    backend().matmul(w.data, cols, yt, { // yt[g] = W[g] · cols[g]   (Og, K)·(K, n·L)
      batch: G, M: Og, N: NL, K, transA: false, transB: false, accumulate: false, strideA: Og * K, strideB: K * NL, strideC: Og * NL,
    });
    scatterOutput(yt, b ? b.data : null, out, n0, n, O, L);
  }
  const parents = b ? [x, w, b] : [x, w];
  return Tensor.fromOp(out, [N, O, Ho, Wo], parents, (res) => conv2dGemmBackward(g, x, w, b, res.grad!, per === N ? cols : null));
}

/** dW and dx chunk by chunk (dW accumulating over chunks), from `kept` (the forward's unrolled batch) if given */
function conv2dGemmBackward(g: ConvGeometry, x: Tensor, w: Tensor, b: Tensor | null, gy: Float32Array, kept: Float32Array | null): void {
  const { N, O, G, Og } = g;
  const K = g.Cg * g.kH * g.kW, L = g.Ho * g.Wo, per = chunkImages(g);
  const wt = w.requiresGrad ? w.gradTarget() : null;
  const gx = x.requiresGrad ? x.gradBuf() : null;
  if (wt || gx) {
    const cols = kept ?? allocUninit(G * K * per * L);
    const gyt = allocUninit(O * per * L);
    for (let n0 = 0; n0 < N; n0 += per) {
      const n = Math.min(per, N - n0), NL = n * L;
      gatherGrad(gy, gyt, n0, n, O, L);
      if (wt) {
        if (!kept) unroll(x.data, g, n0, n, cols);
        backend().matmul(gyt, cols, wt.grad, { // dW[g] (+)= dY[g] · cols[g]ᵀ   (Og, n·L)·(n·L, K)
          batch: G, M: Og, N: K, K: NL, transA: false, transB: true, accumulate: wt.accumulate || n0 > 0, strideA: Og * NL, strideB: K * NL, strideC: Og * K,
        });
      }
      if (gx) {
        backend().matmul(w.data, gyt, cols, { // dcols[g] = W[g]ᵀ · dY[g]   (K, Og)·(Og, n·L), folded back onto dx
          batch: G, M: K, N: NL, K: Og, transA: true, transB: false, accumulate: false, strideA: Og * K, strideB: Og * NL, strideC: K * NL,
        });
        fold(cols, g, n0, n, gx);
      }
    }
  }
  if (b && b.requiresGrad) addBiasGrad(gy, b.gradBuf(), N, O, L);
}

/** db[o] += Σ_{n, l} dy[n, o, l] */
function addBiasGrad(gy: Float32Array, gb: Float32Array, N: number, O: number, L: number): void {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      let s = 0;
      const base = (n * O + o) * L;
      for (let l = 0; l < L; l++) s += gy[base + l];
      gb[o] += s;
    }
  }
}

/**
 * Calls tap(yi, xi, wi) for every product of the convolution's definition that touches the image (padding
 * taps contribute 0 and are skipped): y[yi] += x[xi] · w[wi]. The reference's single loop nest.
 */
function forEachTap(g: ConvGeometry, tap: (yi: number, xi: number, wi: number) => void): void {
  const { N, C, H, W, O, Cg, Og, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo } = g;
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) {
    const c0 = Math.floor(o / Og) * Cg;
    for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) {
      const yi = ((n * O + o) * Ho + oh) * Wo + ow;
      for (let c = 0; c < Cg; c++) for (let i = 0; i < kH; i++) {
        const ih = oh * sH - pH + i * dH;
        if (ih < 0 || ih >= H) continue;
        for (let j = 0; j < kW; j++) {
          const iw = ow * sW - pW + j * dW;
          if (iw < 0 || iw >= W) continue;
          tap(yi, ((n * C + c0 + c) * H + ih) * W + iw, ((o * Cg + c) * kH + i) * kW + j);
        }
      }
    }
  }
}

/**
 * 2-D convolution by the direct loop of its definition, forward and backward, summed in float64: the
 * reference that conv2d's im2col path is tested against. Same shapes, options and errors as conv2d.
 */
export function conv2dDirect(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  return directConv('conv2d', x, w, b, opts);
}

function directConv(op: string, x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions): Tensor {
  const g = convGeometry(op, x, w, b, opts);
  const L = g.Ho * g.Wo;
  const acc = new Float64Array(g.N * g.O * L);
  if (b) for (let k = 0; k < acc.length; k++) acc[k] = b.data[Math.floor(k / L) % g.O];
  const X = x.data, Wd = w.data;
  forEachTap(g, (yi, xi, wi) => (acc[yi] += X[xi] * Wd[wi]));
  const parents = b ? [x, w, b] : [x, w];
  return Tensor.fromOp(Float32Array.from(acc), [g.N, g.O, g.Ho, g.Wo], parents, (res) => {
    const gy = res.grad!;
    const gx = x.requiresGrad ? new Float64Array(x.size) : null;
    const gw = w.requiresGrad ? new Float64Array(w.size) : null;
    forEachTap(g, (yi, xi, wi) => {
      if (gx) gx[xi] += gy[yi] * Wd[wi];
      if (gw) gw[wi] += gy[yi] * X[xi];
    });
    if (gx) addInto(x.gradBuf(), gx);
    if (gw) addInto(w.gradBuf(), gw);
    if (b && b.requiresGrad) addBiasGrad(gy, b.gradBuf(), g.N, g.O, L);
  });
}

function addInto(dst: Float32Array, src: Float64Array): void {
  for (let i = 0; i < dst.length; i++) dst[i] += src[i];
}

/** a conv1d call as the conv2d over a height-1 image that it is */
function conv1dVia(
  f: (x: Tensor, w: Tensor, b: Tensor | null, o: Conv2dOptions) => Tensor, x: Tensor, w: Tensor, b: Tensor | null, opts: Conv1dOptions,
): Tensor {
  if (x.ndim !== 3) throw new Error(`conv1d: input must be (N, C, L), got shape [${x.shape}]`);
  if (w.ndim !== 3) throw new Error(`conv1d: weight must be (out, in/groups, k), got shape [${w.shape}]`);
  const [N, C, L] = x.shape, [O, Cg, k] = w.shape;
  const p = opts.padding ?? 0;
  const o2: Conv2dOptions = { stride: [1, opts.stride ?? 1], padding: typeof p === 'number' ? [0, p] : p, dilation: [1, opts.dilation ?? 1], groups: opts.groups };
  const y = f(reshape(x, [N, C, 1, L]), reshape(w, [O, Cg, 1, k]), b, o2); // (N, O, 1, Lo)
  return reshape(y, [N, O, y.shape[3]]);
}

/**
 * 1-D convolution (PyTorch's F.conv1d) through im2col and the backend's GEMM.
 * x (N, C, L), w (O, C/groups, k), b (O) or null → (N, O, Lo), Lo = floor((L + 2p − d·(k − 1) − 1)/s) + 1.
 */
export function conv1d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv1dOptions = {}): Tensor {
  return conv1dVia((a, ww, bb, o) => conv2dGemm('conv1d', a, ww, bb, o), x, w, b, opts);
}

/** 1-D convolution by the direct loop (the reference for conv1d). */
export function conv1dDirect(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv1dOptions = {}): Tensor {
  return conv1dVia((a, ww, bb, o) => directConv('conv1d', a, ww, bb, o), x, w, b, opts);
}
