// im2col and col2im in f32x4: the fast path of src/tensor/im2col.ts (the reference, whose layout comments
// apply here), for a chunk of n images. Work is split by unit u ∈ [0, n·C): one input channel of one image,
// m = u / C, ch = u % C. A unit writes its own rows' stretch of col (im2col) or its own plane of dx (col2im),
// so threads taking different units never touch the same memory.
//
// x / dx point at the chunk's first image (N, C, H, W); col at the chunk's unrolled matrix (G, K, n·L),
// K = Cg·kH·kW, L = Ho·Wo. Pointers are byte offsets; sizes in elements. Rows are short (Wo floats), so copies
// go 4 lanes at a time with a scalar tail rather than through memory.copy, whose call costs more.
import { loadN, storeN } from './ops';

/** first output column whose input column ow·s + off is ≥ 0 (at most Wo) */
@inline function spanLo(off: i32, s: i32, Wo: i32): i32 {
  return off >= 0 ? 0 : min(Wo, (-off + s - 1) / s);
}

/** one past the last output column whose input column ow·s + off is < W (at least lo) */
@inline function spanHi(off: i32, s: i32, W: i32, Wo: i32, lo: i32): i32 {
  const last = W - 1 - off; // input column limit relative to output column 0
  return max(lo, last < 0 ? 0 : min(Wo, last / s + 1));
}

@inline function zeros(p: usize, n: i32): void {
  const z = f32x4.splat(0);
  for (let i = 0; i < n; i += 4) storeN(p + (<usize>i << 2), z, min(4, n - i));
}

export function im2colUnits(
  x: usize, col: usize, n: i32, C: i32, H: i32, W: i32, Cg: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32, Ho: i32, Wo: i32, u0: i32, u1: i32,
): void {
  const L = Ho * Wo, ld = <usize>n * <usize>L, K = Cg * kH * kW;
  for (let u = u0; u < u1; u++) {
    const m = u / C, ch = u % C, gi = ch / Cg, c = ch % Cg;
    const plane = x + <usize>(m * C + ch) * <usize>(H * W) * 4;
    let r = c * kH * kW;
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++, r++) {
        const shift = j * dW - pW;
        const lo = spanLo(shift, sW, Wo), hi = spanHi(shift, sW, W, Wo, lo);
        let k = col + ((<usize>(gi * K + r)) * ld + <usize>(m * L)) * 4;
        for (let oh = 0; oh < Ho; oh++, k += <usize>Wo * 4) {
          const ih = oh * sH - pH + i * dH;
          if (ih < 0 || ih >= H) {
            zeros(k, Wo);
            continue;
          }
          const src = plane + <usize>(ih * W + shift) * 4; // may point before the plane: only [lo, hi) is read
          if (lo > 0) zeros(k, lo);
          if (sW == 1) {
            for (let ow = lo; ow < hi; ow += 4) {
              const q = <usize>ow << 2, cnt = min(4, hi - ow);
              storeN(k + q, loadN(src + q, cnt), cnt);
            }
          } else {
            for (let ow = lo; ow < hi; ow++) store<f32>(k + (<usize>ow << 2), load<f32>(src + (<usize>(ow * sW) << 2)));
          }
          if (hi < Wo) zeros(k + (<usize>hi << 2), Wo - hi);
        }
      }
    }
  }
}

export function col2imUnits(
  col: usize, dx: usize, n: i32, C: i32, H: i32, W: i32, Cg: i32, kH: i32, kW: i32,
  sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32, Ho: i32, Wo: i32, u0: i32, u1: i32,
): void {
  const L = Ho * Wo, ld = <usize>n * <usize>L, K = Cg * kH * kW;
  for (let u = u0; u < u1; u++) {
    const m = u / C, ch = u % C, gi = ch / Cg, c = ch % Cg;
    const plane = dx + <usize>(m * C + ch) * <usize>(H * W) * 4;
    let r = c * kH * kW;
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++, r++) {
        const shift = j * dW - pW;
        const lo = spanLo(shift, sW, Wo), hi = spanHi(shift, sW, W, Wo, lo);
        let k = col + ((<usize>(gi * K + r)) * ld + <usize>(m * L)) * 4;
        for (let oh = 0; oh < Ho; oh++, k += <usize>Wo * 4) {
          const ih = oh * sH - pH + i * dH;
          if (ih < 0 || ih >= H) continue;
          const dst = plane + <usize>(ih * W + shift) * 4;
          if (sW == 1) {
            for (let ow = lo; ow < hi; ow += 4) {
              const q = <usize>ow << 2, cnt = min(4, hi - ow);
              storeN(dst + q, f32x4.add(loadN(dst + q, cnt), loadN(k + q, cnt)), cnt);
            }
          } else {
            for (let ow = lo; ow < hi; ow++) {
              const p = dst + (<usize>(ow * sW) << 2);
              store<f32>(p, load<f32>(p) + load<f32>(k + (<usize>ow << 2)));
            }
          }
        }
      }
    }
  }
}
