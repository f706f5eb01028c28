// Quantization of llama.cpp's K-quant super-blocks (256 values): Q4_K, Q5_K (make_qkx2_quants per 32-value
// sub-block, 6-bit scales and mins) and Q6_K (make_qx_quants per 16-value sub-block, int8 scales), byte for byte
// with the TypeScript reference src/quant/q4_k.ts, q5_k.ts, q6_k.ts (itself ggml/src/ggml-quants.c's
// quantize_row_q{4,5,6}_K_ref). Layouts: ggml-common.h's block_q4_K, block_q5_K, block_q6_K.
//
// Every float operation is the reference's float32 operation, in its order. The scale searches
// (make_qkx2_quants, make_qx_quants) run on 4 sub-blocks at once, one per SIMD lane (the sub-blocks transposed
// into scratch), so each lane accumulates its sums in the reference's index order (float32 addition is not
// associative) and the reference's per-sub-block branches become lane masks (bitselect); the second pass and
// the packing are element-wise. nearest_int is ggml's 1.5·2^23 trick, lane-wise the same bits. JS truthiness
// of a float (`d ? … : …`, `if (!d)`) is `d != 0 && d == d` here. Nothing is allocated: the caller passes
// KQUANT_SCRATCH bytes of scratch (16-byte aligned) besides the input and output.

import { f16, toF16 } from './ggml';

/** scratch bytes quantizeK needs */
export const KQUANT_SCRATCH: i32 = 4096;

// scratch layout (byte offsets); the x, w, best and aux arrays hold one element of 4 sub-blocks per v128
const S_L: usize = 0; //         u8[256]: the super-block's levels
const S_X: usize = 256; //       v128[32]: 4 sub-blocks' values, transposed
const S_W: usize = 768; //       v128[32]: their weights (Q4_K/Q5_K); v128[16] x², v128[16] x³ (Q6_K)
const S_BEST: usize = 1280; //   v128[32]: the best levels so far (float32)
const S_AUX: usize = 1792; //    v128[32]: a candidate's levels (float32)
const S_SCALES: usize = 2304; // f32[16]: sub-block scales
const S_MINS: usize = 2368; //   f32[8]: sub-block mins

const MAGIC: f32 = 12582912; // 1.5·2^23
const GROUP_MAX_EPS: f32 = 1e-15;
const RDELTA: f32 = 0.1;

/** ggml's nearest_int: (bits of x + 1.5·2^23) & 0x7fffff − 0x400000 */
@inline function nearestInt(x: f32): i32 {
  return (reinterpret<i32>(x + MAGIC) & 0x7fffff) - 0x400000;
}

@inline function nearestInt4(v: v128): v128 {
  return i32x4.sub(v128.and(f32x4.add(v, f32x4.splat(MAGIC)), i32x4.splat(0x7fffff)), i32x4.splat(0x400000));
}

/** clamp(nearest_int(v), lo, hi) as float32 lanes */
@inline function level4(v: v128, lo: v128, hi: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.max_s(lo, i32x4.min_s(hi, nearestInt4(v))));
}

/** dst[i] = (element i of the 4 rows at px, px + stride, px + 2·stride, px + 3·stride), i < count (a multiple of 4) */
function transpose4(px: usize, stride: usize, count: usize, dst: usize): void {
  for (let i: usize = 0; i < count; i += 4) {
    const a0 = v128.load(px + (i << 2)), a1 = v128.load(px + stride + (i << 2));
    const a2 = v128.load(px + 2 * stride + (i << 2)), a3 = v128.load(px + 3 * stride + (i << 2));
    const t0 = v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(a0, a1, 2, 6, 3, 7);
    const t2 = v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(a2, a3, 2, 6, 3, 7);
    const d = dst + (i << 4);
    v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
    v128.store(d, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 16);
    v128.store(d, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 32);
    v128.store(d, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 48);
  }
}

/** bytes q[k·qStride + i] = lane k of the float32 levels at pl[i], i < count: transpose4 undone */
function untransposeLevels(pl: usize, count: usize, q: usize, qStride: usize): void {
  for (let i: usize = 0; i < count; i++) {
    const l = i32x4.trunc_sat_f32x4_s(v128.load(pl + (i << 4)));
    store<u8>(q + i, <u8>i32x4.extract_lane(l, 0));
    store<u8>(q + qStride + i, <u8>i32x4.extract_lane(l, 1));
    store<u8>(q + 2 * qStride + i, <u8>i32x4.extract_lane(l, 2));
    store<u8>(q + 3 * qStride + i, <u8>i32x4.extract_lane(l, 3));
  }
}

// 32 float32 levels at p (0..63) → 32 bytes at q
@inline function levelBytes32(p: usize, q: usize): void {
  for (let k: usize = 0; k < 2; k++) {
    const a = i32x4.trunc_sat_f32x4_s(v128.load(p + (k << 6))), b = i32x4.trunc_sat_f32x4_s(v128.load(p + (k << 6), 16));
    const c = i32x4.trunc_sat_f32x4_s(v128.load(p + (k << 6), 32)), d = i32x4.trunc_sat_f32x4_s(v128.load(p + (k << 6), 48));
    v128.store(q + (k << 4), i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(c, d)));
  }
}

// ---- Q4_K, Q5_K: make_qkx2_quants (src/quant/q4_k.ts), 4 sub-blocks at once, one per lane ----

/** Σ w·(scale·L + min − x)² over the 32 transposed elements, in index order per lane */
function weightedError4(s: usize, pl: usize, scale: v128, min: v128): v128 {
  let err = f32x4.splat(0);
  for (let i: usize = 0; i < 512; i += 16) {
    const diff = f32x4.sub(f32x4.add(f32x4.mul(scale, v128.load(pl + i)), min), v128.load(s + S_X + i));
    err = f32x4.add(err, f32x4.mul(v128.load(s + S_W + i), f32x4.mul(diff, diff)));
  }
  return err;
}

/** levels clamp(nearest_int(iscale·(x − min)), 0, nmax) of the 32 transposed elements, as float32 at pl */
function levels4(s: usize, iscale: v128, min: v128, nmax: i32, pl: usize): void {
  const lo = i32x4.splat(0), hi = i32x4.splat(nmax);
  for (let i: usize = 0; i < 512; i += 16) v128.store(pl + i, level4(f32x4.mul(iscale, f32x4.sub(v128.load(s + S_X + i), min)), lo, hi));
}

/**
 * make_qkx2_quants for the 4 transposed sub-blocks at s + S_X (weights at s + S_W): levels (float32) at
 * s + S_BEST, scales into scale lanes at sc[0..4), theMin at mn[0..4).
 */
function makeQkx2x4(s: usize, nmax: i32, rmin: f32, nstep: i32, sc: usize, mn: usize): void {
  const px = s + S_X, pw = s + S_W, pl = s + S_BEST, paux = s + S_AUX, zero = f32x4.splat(0);
  let min = v128.load(px), max = min, sumW = v128.load(pw);
  let sumX = f32x4.mul(sumW, min);
  for (let i: usize = 16; i < 512; i += 16) {
    const v = v128.load(px + i), w = v128.load(pw + i);
    min = v128.bitselect(v, min, f32x4.lt(v, min));
    max = v128.bitselect(v, max, f32x4.gt(v, max));
    sumW = f32x4.add(sumW, w);
    sumX = f32x4.add(sumX, f32x4.mul(w, v));
  }
  min = v128.bitselect(zero, min, f32x4.gt(min, zero));
  const flat = f32x4.eq(max, min); // the reference returns (0, −min) with levels 0 here
  const iscale = f32x4.div(f32x4.splat(<f32>nmax), f32x4.sub(max, min));
  let scale = f32x4.div(f32x4.splat(1), iscale);
  levels4(s, iscale, min, nmax, pl);
  let best = weightedError4(s, pl, scale, min);
  const lo = i32x4.splat(0), hi = i32x4.splat(nmax);
  for (let is = 0; nstep >= 1 && is <= nstep; is++) {
    // a winning candidate's min moves max − min for the candidates after it, as in ggml
    const isc = f32x4.div(f32x4.splat(rmin + RDELTA * <f32>is + <f32>nmax), f32x4.sub(max, min));
    let sumL = zero, sumL2 = zero, sumXL = zero;
    for (let i: usize = 0; i < 512; i += 16) {
      const v = v128.load(px + i), l = level4(f32x4.mul(isc, f32x4.sub(v, min)), lo, hi);
      v128.store(paux + i, l);
      const wl = f32x4.mul(v128.load(pw + i), l);
      sumL = f32x4.add(sumL, wl);
      sumL2 = f32x4.add(sumL2, f32x4.mul(wl, l));
      sumXL = f32x4.add(sumXL, f32x4.mul(wl, v));
    }
    const D = f32x4.sub(f32x4.mul(sumW, sumL2), f32x4.mul(sumL, sumL));
    let fitScale = f32x4.div(f32x4.sub(f32x4.mul(sumW, sumXL), f32x4.mul(sumX, sumL)), D);
    let fitMin = f32x4.div(f32x4.sub(f32x4.mul(sumL2, sumX), f32x4.mul(sumL, sumXL)), D);
    const pos = f32x4.gt(fitMin, zero);
    fitScale = v128.bitselect(f32x4.div(sumXL, sumL2), fitScale, pos);
    fitMin = v128.bitselect(zero, fitMin, pos);
    const cur = weightedError4(s, paux, fitScale, fitMin);
    const better = v128.andnot(v128.and(f32x4.gt(D, zero), f32x4.lt(cur, best)), flat);
    if (!v128.any_true(better)) continue;
    for (let i: usize = 0; i < 512; i += 16) v128.store(pl + i, v128.bitselect(v128.load(paux + i), v128.load(pl + i), better));
    best = v128.bitselect(cur, best, better);
    scale = v128.bitselect(fitScale, scale, better);
    min = v128.bitselect(fitMin, min, better);
  }
  if (v128.any_true(flat)) {
    for (let i: usize = 0; i < 512; i += 16) v128.store(pl + i, v128.bitselect(zero, v128.load(pl + i), flat));
    scale = v128.bitselect(zero, scale, flat);
  }
  v128.store(sc, scale);
  v128.store(mn, f32x4.neg(min));
}

/** 6-bit scale (which = 0) or min (which = 1) of sub-block j from the 12 bytes at p: get_scale_min_k4 */
@inline function scaleMinK4(j: i32, p: usize, which: i32): i32 {
  if (j < 4) return <i32>load<u8>(p + j + 4 * which) & 63;
  const a = <i32>load<u8>(p + j + 4);
  return which ? (a >> 4) | ((<i32>load<u8>(p + j) >> 6) << 4) : (a & 0xf) | ((<i32>load<u8>(p + j - 4) >> 6) << 4);
}

// First pass, 6-bit packing and second pass of Q4_K/Q5_K over the super-block at px into the block at o (its
// scales at o + 4 zero on entry): levels 0..nmax at s + S_L. subBlockScalesK, packScaleMinK4, requantizeK.
function superBlockK45(px: usize, o: usize, s: usize, nmax: i32, rmin: f32, nstep: i32): void {
  const sc = s + S_SCALES, mn = s + S_MINS;
  for (let g: usize = 0; g < 2; g++) {
    transpose4(px + (g << 9), 128, 32, s + S_X);
    let sumX2 = f32x4.splat(0);
    for (let i: usize = 0; i < 512; i += 16) {
      const v = v128.load(s + S_X + i);
      sumX2 = f32x4.add(sumX2, f32x4.mul(v, v));
    }
    const avX = f32x4.sqrt(f32x4.div(sumX2, f32x4.splat(32)));
    for (let i: usize = 0; i < 512; i += 16) v128.store(s + S_W + i, f32x4.add(avX, f32x4.abs(v128.load(s + S_X + i))));
    makeQkx2x4(s, nmax, rmin, nstep, sc + (g << 4), mn + (g << 4));
    untransposeLevels(s + S_BEST, 32, s + S_L + (g << 7), 32);
  }
  let maxScale: f32 = 0, maxMin: f32 = 0;
  for (let j: usize = 0; j < 8; j++) {
    const a = load<f32>(sc + (j << 2)), b = load<f32>(mn + (j << 2));
    if (a > maxScale) maxScale = a;
    if (b > maxMin) maxMin = b;
  }
  const invScale: f32 = maxScale > 0 ? <f32>63 / maxScale : 0;
  const invMin: f32 = maxMin > 0 ? <f32>63 / maxMin : 0;
  const q = o + 4;
  for (let j: usize = 0; j < 8; j++) {
    const ls = min(63, nearestInt(invScale * load<f32>(sc + (j << 2))) & 0xff);
    const lm = min(63, nearestInt(invMin * load<f32>(mn + (j << 2))) & 0xff);
    if (j < 4) {
      store<u8>(q + j, <u8>ls);
      store<u8>(q + j + 4, <u8>lm);
    } else {
      store<u8>(q + j + 4, <u8>((ls & 0xf) | ((lm & 0xf) << 4)));
      store<u8>(q + j - 4, load<u8>(q + j - 4) | <u8>((ls >> 4) << 6));
      store<u8>(q + j, load<u8>(q + j) | <u8>((lm >> 4) << 6));
    }
  }
  store<u16>(o, <u16>toF16(maxScale / 63));
  store<u16>(o + 2, <u16>toF16(maxMin / 63));
  const dAll = f16(o), dminAll = f16(o + 2), top = i32x4.splat(nmax), zero = i32x4.splat(0);
  for (let j = 0; j < 8; j++) {
    const d: f32 = dAll * <f32>scaleMinK4(j, q, 0);
    if (d == 0 || d != d) continue; // the reference's `if (!d)`: keeps make_qkx2_quants' levels
    const dm = f32x4.splat(dminAll * <f32>scaleMinK4(j, q, 1)), dv = f32x4.splat(d);
    const pj = px + (<usize>j << 7), pa = s + S_AUX;
    for (let k: usize = 0; k < 128; k += 16) {
      const l = i32x4.max_s(zero, i32x4.min_s(top, nearestInt4(f32x4.div(f32x4.add(v128.load(pj + k), dm), dv))));
      v128.store(pa + k, f32x4.convert_i32x4_s(l));
    }
    levelBytes32(pa, s + S_L + (<usize>j << 5));
  }
}

function quantizeQ4_K(x: usize, nb: i32, out: usize, s: usize): void {
  const L = s + S_L;
  for (let b = 0; b < nb; b++) {
    const px = x + (<usize>b << 10), o = out + <usize>b * 144;
    memory.fill(o, 0, 16);
    superBlockK45(px, o, s, 15, -1, 20);
    for (let c: usize = 0; c < 4; c++) {
      for (let h: usize = 0; h < 2; h++) {
        const lo = v128.load(L + (c << 6) + (h << 4)), hi = v128.load(L + (c << 6) + 32 + (h << 4));
        v128.store(o + 16 + (c << 5) + (h << 4), v128.or(lo, i8x16.shl(hi, 4)));
      }
    }
  }
}

function quantizeQ5_K(x: usize, nb: i32, out: usize, s: usize): void {
  const L = s + S_L, low = i8x16.splat(0xf);
  for (let b = 0; b < nb; b++) {
    const px = x + (<usize>b << 10), o = out + <usize>b * 176;
    memory.fill(o, 0, 16);
    superBlockK45(px, o, s, 31, -0.5, 15);
    for (let h: usize = 0; h < 2; h++) {
      let qh = i8x16.splat(0);
      for (let j: usize = 0; j < 8; j++) {
        qh = v128.or(qh, i8x16.shl(i8x16.shr_u(v128.load(L + (j << 5) + (h << 4)), 4), <i32>j));
      }
      v128.store(o + 16 + (h << 4), qh);
      for (let c: usize = 0; c < 4; c++) {
        const lo = v128.and(v128.load(L + (c << 6) + (h << 4)), low), hi = v128.and(v128.load(L + (c << 6) + 32 + (h << 4)), low);
        v128.store(o + 48 + (c << 5) + (h << 4), v128.or(lo, i8x16.shl(hi, 4)));
      }
    }
  }
}

// ---- Q6_K: make_qx_quants (src/quant/q6_k.ts), 4 sub-blocks at once, one per lane ----

/**
 * make_qx_quants (nmax 32, rmse_type 1, weights x²) for the 4 transposed 16-value sub-blocks at s + S_X:
 * levels 32 + clamp(nearest_int(iscale·x), −32, 31) as float32 at s + S_BEST, the scales returned as lanes.
 */
function makeQx4(s: usize): v128 {
  const px = s + S_X, pw = s + S_W, pwv = s + S_W + 256, pl = s + S_BEST, paux = s + S_AUX;
  const zero = f32x4.splat(0), lo = i32x4.splat(-32), hi = i32x4.splat(31), off = f32x4.splat(32);
  let max = zero, amax = zero;
  for (let i: usize = 0; i < 256; i += 16) {
    const v = v128.load(px + i), ax = f32x4.abs(v), gt = f32x4.gt(ax, amax);
    amax = v128.bitselect(ax, amax, gt);
    max = v128.bitselect(v, max, gt);
    const w = f32x4.mul(v, v);
    v128.store(pw + i, w);
    v128.store(pwv + i, f32x4.mul(w, v));
  }
  const tiny = f32x4.lt(amax, f32x4.splat(GROUP_MAX_EPS)); // the reference returns 0 with levels 0 here
  let scale = zero, best = zero;
  for (let is = 0; is <= 19; is++) {
    // is = 0: the first guess −32/max, taken in every lane; is = 1..19: −(32 + 0.1·k)/max, k = is − 10 ≠ 0
    const k = is - 10;
    if (k == 0) continue;
    const iscale = is == 0 ? f32x4.div(f32x4.splat(-32), max) : f32x4.div(f32x4.neg(f32x4.splat(<f32>32 + RDELTA * <f32>k)), max);
    let sumlx = zero, suml2 = zero;
    for (let i: usize = 0; i < 256; i += 16) {
      const l = level4(f32x4.mul(iscale, v128.load(px + i)), lo, hi);
      v128.store(paux + i, l);
      sumlx = f32x4.add(sumlx, f32x4.mul(v128.load(pwv + i), l));
      suml2 = f32x4.add(suml2, f32x4.mul(f32x4.mul(v128.load(pw + i), l), l));
    }
    let take: v128;
    if (is == 0) {
      take = i32x4.splat(-1);
      scale = v128.and(f32x4.div(sumlx, suml2), v128.and(f32x4.ne(suml2, zero), f32x4.eq(suml2, suml2)));
      best = f32x4.mul(scale, sumlx);
    } else {
      take = v128.and(f32x4.gt(suml2, zero), f32x4.gt(f32x4.mul(sumlx, sumlx), f32x4.mul(best, suml2)));
      if (!v128.any_true(take)) continue;
      scale = v128.bitselect(f32x4.div(sumlx, suml2), scale, take);
      best = v128.bitselect(f32x4.mul(scale, sumlx), best, take);
    }
    for (let i: usize = 0; i < 256; i += 16) v128.store(pl + i, v128.bitselect(f32x4.add(v128.load(paux + i), off), v128.load(pl + i), take));
  }
  if (v128.any_true(tiny)) {
    for (let i: usize = 0; i < 256; i += 16) v128.store(pl + i, v128.bitselect(zero, v128.load(pl + i), tiny));
    scale = v128.bitselect(zero, scale, tiny);
  }
  return scale;
}

function quantizeQ6_K(x: usize, nb: i32, out: usize, s: usize): void {
  const L = s + S_L, sc = s + S_SCALES, low = i8x16.splat(0xf), three = i8x16.splat(3);
  for (let b = 0; b < nb; b++) {
    const px = x + (<usize>b << 10), o = out + <usize>b * 210;
    memory.fill(o, 0, 210);
    let maxScale: f32 = 0, maxAbsScale: f32 = 0;
    for (let g: usize = 0; g < 4; g++) {
      transpose4(px + (g << 8), 64, 16, s + S_X);
      v128.store(sc + (g << 4), makeQx4(s));
      untransposeLevels(s + S_BEST, 16, L + (g << 6), 16);
    }
    for (let ib: usize = 0; ib < 16; ib++) {
      const scale = load<f32>(sc + (ib << 2));
      if (abs(scale) > maxAbsScale) {
        maxAbsScale = abs(scale);
        maxScale = scale;
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) continue; // all-zero block, d = 0
    const iscale: f32 = <f32>-128 / maxScale;
    store<u16>(o + 208, <u16>toF16(<f32>1 / iscale));
    const dAll = f16(o + 208);
    for (let ib: usize = 0; ib < 16; ib++) store<u8>(o + 192 + ib, <u8>min(127, nearestInt(iscale * load<f32>(sc + (ib << 2)))));
    const lo = i32x4.splat(-32), hi = i32x4.splat(31), off = i32x4.splat(32);
    for (let j: usize = 0; j < 16; j++) {
      const d: f32 = dAll * <f32>load<i8>(o + 192 + j);
      if (d == 0 || d != d) continue; // the reference's `if (!d)`: keeps make_qx_quants' levels
      const dv = f32x4.splat(d), pj = px + (j << 6);
      const l0 = i32x4.add(off, i32x4.max_s(lo, i32x4.min_s(hi, nearestInt4(f32x4.div(v128.load(pj), dv)))));
      const l1 = i32x4.add(off, i32x4.max_s(lo, i32x4.min_s(hi, nearestInt4(f32x4.div(v128.load(pj, 16), dv)))));
      const l2 = i32x4.add(off, i32x4.max_s(lo, i32x4.min_s(hi, nearestInt4(f32x4.div(v128.load(pj, 32), dv)))));
      const l3 = i32x4.add(off, i32x4.max_s(lo, i32x4.min_s(hi, nearestInt4(f32x4.div(v128.load(pj, 48), dv)))));
      v128.store(L + (j << 4), i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(l0, l1), i16x8.narrow_i32x4_s(l2, l3)));
    }
    for (let h: usize = 0; h < 2; h++) {
      const ql = o + (h << 6), qh = o + 128 + (h << 5), q = L + (h << 7);
      for (let c: usize = 0; c < 32; c += 16) {
        const a = v128.load(q + c), a2 = v128.load(q + c + 32), a4 = v128.load(q + c + 64), a6 = v128.load(q + c + 96);
        v128.store(ql + c, v128.or(v128.and(a, low), i8x16.shl(v128.and(a4, low), 4)));
        v128.store(ql + c + 32, v128.or(v128.and(a2, low), i8x16.shl(v128.and(a6, low), 4)));
        const h01 = v128.or(i8x16.shr_u(a, 4), i8x16.shl(v128.and(i8x16.shr_u(a2, 4), three), 2));
        const h23 = v128.or(i8x16.shl(v128.and(i8x16.shr_u(a4, 4), three), 4), i8x16.shl(i8x16.shr_u(a6, 4), 6));
        v128.store(qh + c, v128.or(h01, h23));
      }
    }
  }
}

/**
 * Quantizes nb super-blocks (256 float32 each) at x to ggml type Q4_K (k = 4), Q5_K (5) or Q6_K (6) at out,
 * byte for byte as src/quant/q4_k.ts, q5_k.ts, q6_k.ts; s: KQUANT_SCRATCH bytes of scratch, 16-byte aligned.
 */
export function quantizeK(k: i32, x: usize, nb: i32, out: usize, s: usize): void {
  if (k == 4) quantizeQ4_K(x, nb, out, s);
  else if (k == 5) quantizeQ5_K(x, nb, out, s);
  else quantizeQ6_K(x, nb, out, s);
}
