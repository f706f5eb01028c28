// im2col and its adjoint col2im (Chellapilla, Puri & Simard 2006, "High performance convolutional neural
// networks for document processing"; Caffe's im2col_cpu): the unrolling that turns a convolution into one GEMM.
// The geometry (ConvGeometry) is checked by convGeometry in conv.ts; nothing here allocates. This is the
// reference: backends may do the same work faster (Backend.im2col / col2im; assembly/conv.ts for wasm).
//
// Layout: a chunk of `n` images is unrolled into `col` as the matrix (K, n·L) per group, K = Cg·kH·kW,
// L = Ho·Wo, row (c·kH + i)·kW + j holding what tap (c, i, j) sees at every output position of every image of
// the chunk (image after image; 0 in the padding). Row order matches the weight's (Og, Cg, kH, kW) flattened to
// (Og, K), so W[g] · col[g] is the chunk's output (Og, n·L), and the chunk's images share one wide GEMM.

import type { ConvGeometry } from '../backend/backend.js';

export type { ConvGeometry };

/** the first output column whose input column ow·s + off is ≥ 0 (at most Wo) */
function spanLo(off: number, s: number, Wo: number): number {
  return Math.min(Wo, off >= 0 ? 0 : Math.ceil(-off / s));
}

/** one past the last output column whose input column ow·s + off is < W (at least lo) */
function spanHi(off: number, s: number, W: number, Wo: number, lo: number): number {
  return Math.max(lo, Math.min(Wo, Math.floor((W - 1 - off) / s) + 1));
}

/**
 * Unrolls one image's group of channels, x[off …] (Cg, H, W), into the rows of `col` that start at `colOff`,
 * `ld` elements apart: row r (tap (c, i, j), r = (c·kH + i)·kW + j) gets that tap's input at the Ho·Wo output
 * positions, 0 where it falls in the padding. Plain loops: rows are short (Wo), so per-row subarray/set/fill
 * calls would cost more than the copying.
 */
export function im2col(x: Float32Array, off: number, g: ConvGeometry, col: Float32Array, colOff: number, ld: number): void {
  const { Cg, H, W, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo } = g;
  let r = 0;
  for (let c = 0; c < Cg; c++) {
    const plane = off + c * H * W;
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++, r++) {
        const shift = j * dW - pW; // input column of output column 0
        const lo = spanLo(shift, sW, Wo), hi = spanHi(shift, sW, W, Wo, lo);
        for (let oh = 0, k = colOff + r * ld; oh < Ho; oh++, k += Wo) {
          const ih = oh * sH - pH + i * dH;
          if (ih < 0 || ih >= H) {
            for (let ow = 0; ow < Wo; ow++) col[k + ow] = 0;
            continue;
          }
          const src = plane + ih * W + shift;
          let ow = 0;
          for (; ow < lo; ow++) col[k + ow] = 0;
          if (sW === 1) for (; ow < hi; ow++) col[k + ow] = x[src + ow];
          else for (; ow < hi; ow++) col[k + ow] = x[src + ow * sW];
          for (; ow < Wo; ow++) col[k + ow] = 0;
        }
      }
    }
  }
}

/**
 * The adjoint of im2col: adds the rows of `col` that start at `colOff`, `ld` apart, back onto
 * dx[off …] (Cg, H, W); padding taps are dropped.
 */
export function col2im(col: Float32Array, colOff: number, ld: number, g: ConvGeometry, dx: Float32Array, off: number): void {
  const { Cg, H, W, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo } = g;
  let r = 0;
  for (let c = 0; c < Cg; c++) {
    const plane = off + c * H * W;
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++, r++) {
        const shift = j * dW - pW;
        const lo = spanLo(shift, sW, Wo), hi = spanHi(shift, sW, W, Wo, lo);
        for (let oh = 0, k = colOff + r * ld; oh < Ho; oh++, k += Wo) {
          const ih = oh * sH - pH + i * dH;
          if (ih < 0 || ih >= H) continue;
          const dst = plane + ih * W + shift;
          for (let ow = lo; ow < hi; ow++) dx[dst + ow * sW] += col[k + ow];
        }
      }
    }
  }
}

/**
 * Unrolls images [n0, n0 + n) of x (N, C, H, W) into col (G, K, n·L): group gi of image n0 + m fills columns
 * [m·L, (m + 1)·L) of the rows of col[gi].
 */
export function im2colChunk(x: Float32Array, g: ConvGeometry, n0: number, n: number, col: Float32Array): void {
  const K = g.Cg * g.kH * g.kW, L = g.Ho * g.Wo, ld = n * L;
  for (let m = 0; m < n; m++) {
    for (let gi = 0; gi < g.G; gi++) im2col(x, ((n0 + m) * g.C + gi * g.Cg) * g.H * g.W, g, col, gi * K * ld + m * L, ld);
  }
}

/** The adjoint of im2colChunk: adds col (G, K, n·L) onto images [n0, n0 + n) of dx (N, C, H, W). */
export function col2imChunk(col: Float32Array, g: ConvGeometry, n0: number, n: number, dx: Float32Array): void {
  const K = g.Cg * g.kH * g.kW, L = g.Ho * g.Wo, ld = n * L;
  for (let m = 0; m < n; m++) {
    for (let gi = 0; gi < g.G; gi++) col2im(col, gi * K * ld + m * L, ld, g, dx, ((n0 + m) * g.C + gi * g.Cg) * g.H * g.W);
  }
}
