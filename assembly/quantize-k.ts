// Quantization of llama.cpp's K-quant super-blocks (256 values): Q4_K, Q5_K (make_qkx2_quants per 32-value
// sub-block, 6-bit scales and mins) and Q6_K (make_qx_quants per 16-value sub-block, int8 scales), byte for byte
// with the TypeScript reference src/quant/q4_k.ts, q5_k.ts, q6_k.ts (itself ggml/src/ggml-quants.c's
// quantize_row_q{4,5,6}_K_ref). Layouts: ggml-common.h's block_q4_K, block_q5_K, block_q6_K.
//
// Every float operation is the reference's float32 operation, in its order: element-wise steps (levels,
// products, errors) run four lanes at a time, and every sum is still accumulated lane by lane in index order
// (float32 addition is not associative). nearest_int is ggml's 1.5·2^23 trick, lane-wise the same bits.
// JS truthiness of a float (`d ? … : …`, `if (!d)`) is `d != 0 && d == d` here. Nothing is allocated: the
// caller passes KQUANT_SCRATCH bytes of scratch (16-byte aligned) besides the input and output.

import { f16, toF16 } from './ggml';

/** scratch bytes quantizeQ45_K and quantizeQ6_K need */
export const KQUANT_SCRATCH: i32 = 1024;

// scratch layout (byte offsets)
const S_L: usize = 0; //       u8[256]: the super-block's levels
const S_W: usize = 256; //     f32[32]: a sub-block's weights (Q4_K/Q5_K) or x² (Q6_K)
const S_AUX: usize = 384; //   f32[32]: a candidate's levels (Q4_K/Q5_K) or x³ (Q6_K)
const S_BEST: usize = 512; //  f32[32]: the best levels so far
const S_SCALES: usize = 640; // f32[16]: sub-block scales
const S_MINS: usize = 704; //  f32[8]: sub-block mins

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

/** acc + v[0] + v[1] + v[2] + v[3], in that order, each sum rounded to float32 */
@inline function addLanes(acc: f32, v: v128): f32 {
  acc += f32x4.extract_lane(v, 0);
  acc += f32x4.extract_lane(v, 1);
  acc += f32x4.extract_lane(v, 2);
  return acc + f32x4.extract_lane(v, 3);
}

// 32 int32 lanes at p (float32 levels 0..63) → 32 bytes at q
@inline function levelBytes32(p: usize, q: usize): void {
  for (let k: usize = 0; k < 2; k++) {
    const a = i32x4.trunc_sat_f32x4_s(v128.load(p + (k << 6))), b = i32x4.trunc_sat_f32x4_s(v128.load(p + (k << 6), 16));
    const c = i32x4.trunc_sat_f32x4_s(v128.load(p + (k << 6), 32)), d = i32x4.trunc_sat_f32x4_s(v128.load(p + (k << 6), 48));
    v128.store(q + (k << 4), i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(c, d)));
  }
}

// ---- Q4_K, Q5_K: make_qkx2_quants (src/quant/q4_k.ts) ----

// results of fitScaleMin and makeQkx2
let fitScale: f32 = 0, fitMin: f32 = 0;

/** levels clamp(nearest_int(iscale·(x − min)), 0, nmax) of the 32 values at px, as float32 at pl */
function levels32(px: usize, iscale: f32, min: f32, nmax: i32, pl: usize): void {
  const is = f32x4.splat(iscale), mn = f32x4.splat(min), top = i32x4.splat(nmax), zero = i32x4.splat(0);
  for (let k: usize = 0; k < 128; k += 16) {
    const l = i32x4.max_s(zero, i32x4.min_s(top, nearestInt4(f32x4.mul(is, f32x4.sub(v128.load(px + k), mn)))));
    v128.store(pl + k, f32x4.convert_i32x4_s(l));
  }
}

/** Σ w·(scale·L + min − x)², summed in index order */
function weightedError(px: usize, pw: usize, scale: f32, min: f32, pl: usize): f32 {
  const sc = f32x4.splat(scale), mn = f32x4.splat(min);
  let err: f32 = 0;
  for (let k: usize = 0; k < 128; k += 16) {
    const diff = f32x4.sub(f32x4.add(f32x4.mul(sc, v128.load(pl + k)), mn), v128.load(px + k));
    err = addLanes(err, f32x4.mul(v128.load(pw + k), f32x4.mul(diff, diff)));
  }
  return err;
}

/** weighted least-squares (scale, min) for the levels at pl into fitScale, fitMin; false when D <= 0 */
function fitScaleMin(px: usize, pw: usize, pl: usize, sumW: f32, sumX: f32): bool {
  let sumL: f32 = 0, sumL2: f32 = 0, sumXL: f32 = 0;
  for (let k: usize = 0; k < 128; k += 16) {
    const l = v128.load(pl + k), wl = f32x4.mul(v128.load(pw + k), l);
    const wl2 = f32x4.mul(wl, l), wx = f32x4.mul(wl, v128.load(px + k));
    sumL += f32x4.extract_lane(wl, 0);
    sumL2 += f32x4.extract_lane(wl2, 0);
    sumXL += f32x4.extract_lane(wx, 0);
    sumL += f32x4.extract_lane(wl, 1);
    sumL2 += f32x4.extract_lane(wl2, 1);
    sumXL += f32x4.extract_lane(wx, 1);
    sumL += f32x4.extract_lane(wl, 2);
    sumL2 += f32x4.extract_lane(wl2, 2);
    sumXL += f32x4.extract_lane(wx, 2);
    sumL += f32x4.extract_lane(wl, 3);
    sumL2 += f32x4.extract_lane(wl2, 3);
    sumXL += f32x4.extract_lane(wx, 3);
  }
  const D: f32 = sumW * sumL2 - sumL * sumL;
  if (!(D > 0)) return false;
  const scale: f32 = (sumW * sumXL - sumX * sumL) / D;
  const min: f32 = (sumL2 * sumX - sumL * sumXL) / D;
  if (min > 0) {
    fitScale = sumXL / sumL2;
    fitMin = 0;
  } else {
    fitScale = scale;
    fitMin = min;
  }
  return true;
}

/**
 * make_qkx2_quants for the 32 values at px with weights at s + S_W: levels (float32) at s + S_BEST, scale
 * into fitScale and theMin into fitMin (x ≈ scale·L − theMin).
 */
function makeQkx2(px: usize, s: usize, nmax: i32, rmin: f32, nstep: i32): void {
  const pw = s + S_W, pl = s + S_BEST, paux = s + S_AUX;
  let min = load<f32>(px), max = min, sumW = load<f32>(pw);
  let sumX: f32 = sumW * min;
  for (let i: usize = 1; i < 32; i++) {
    const v = load<f32>(px + (i << 2)), w = load<f32>(pw + (i << 2));
    if (v < min) min = v;
    if (v > max) max = v;
    sumW += w;
    sumX += w * v;
  }
  if (min > 0) min = 0;
  if (max == min) {
    memory.fill(pl, 0, 128);
    fitScale = 0;
    fitMin = -min;
    return;
  }
  const iscale: f32 = <f32>nmax / (max - min);
  let scale: f32 = <f32>1 / iscale;
  levels32(px, iscale, min, nmax, pl);
  let best = weightedError(px, pw, scale, min, pl);
  if (nstep >= 1) {
    for (let is = 0; is <= nstep; is++) {
      // a winning candidate's min moves max − min for the candidates after it, as in ggml
      levels32(px, (rmin + RDELTA * <f32>is + <f32>nmax) / (max - min), min, nmax, paux);
      if (!fitScaleMin(px, pw, paux, sumW, sumX)) continue;
      const cur = weightedError(px, pw, fitScale, fitMin, paux);
      if (cur < best) {
        memory.copy(pl, paux, 128);
        best = cur;
        scale = fitScale;
        min = fitMin;
      }
    }
  }
  fitScale = scale;
  fitMin = -min;
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
  const sc = s + S_SCALES, mn = s + S_MINS, pw = s + S_W;
  for (let j: usize = 0; j < 8; j++) {
    const pj = px + (j << 7);
    let sumX2: f32 = 0;
    for (let l: usize = 0; l < 32; l++) {
      const v = load<f32>(pj + (l << 2));
      sumX2 += v * v;
    }
    const avX = f32x4.splat(Mathf.sqrt(sumX2 / 32));
    for (let k: usize = 0; k < 128; k += 16) v128.store(pw + k, f32x4.add(avX, f32x4.abs(v128.load(pj + k))));
    makeQkx2(pj, s, nmax, rmin, nstep);
    store<f32>(sc + (j << 2), fitScale);
    store<f32>(mn + (j << 2), fitMin);
    levelBytes32(s + S_BEST, s + S_L + (j << 5));
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

// ---- Q6_K: make_qx_quants (src/quant/q6_k.ts) ----

/** Σ (x²·x)·l and Σ (x²·l)·l for l = clamp(nearest_int(iscale·x), −32, 31) over the 16 values at px, into fitScale, fitMin */
function qxSums(px: usize, s: usize, iscale: f32): void {
  const is = f32x4.splat(iscale), lo = i32x4.splat(-32), hi = i32x4.splat(31);
  let sumlx: f32 = 0, suml2: f32 = 0;
  for (let k: usize = 0; k < 64; k += 16) {
    const l = f32x4.convert_i32x4_s(i32x4.max_s(lo, i32x4.min_s(hi, nearestInt4(f32x4.mul(is, v128.load(px + k))))));
    const a = f32x4.mul(v128.load(s + S_AUX + k), l), b = f32x4.mul(f32x4.mul(v128.load(s + S_W + k), l), l);
    sumlx += f32x4.extract_lane(a, 0);
    suml2 += f32x4.extract_lane(b, 0);
    sumlx += f32x4.extract_lane(a, 1);
    suml2 += f32x4.extract_lane(b, 1);
    sumlx += f32x4.extract_lane(a, 2);
    suml2 += f32x4.extract_lane(b, 2);
    sumlx += f32x4.extract_lane(a, 3);
    suml2 += f32x4.extract_lane(b, 3);
  }
  fitScale = sumlx;
  fitMin = suml2;
}

/** levels 32 + clamp(nearest_int(iscale·x), −32, 31) of the 16 values at px as bytes at pl */
function qxLevels(px: usize, iscale: f32, pl: usize): void {
  const is = f32x4.splat(iscale), lo = i32x4.splat(-32), hi = i32x4.splat(31), off = i32x4.splat(32);
  const l0 = i32x4.add(off, i32x4.max_s(lo, i32x4.min_s(hi, nearestInt4(f32x4.mul(is, v128.load(px))))));
  const l1 = i32x4.add(off, i32x4.max_s(lo, i32x4.min_s(hi, nearestInt4(f32x4.mul(is, v128.load(px, 16))))));
  const l2 = i32x4.add(off, i32x4.max_s(lo, i32x4.min_s(hi, nearestInt4(f32x4.mul(is, v128.load(px, 32))))));
  const l3 = i32x4.add(off, i32x4.max_s(lo, i32x4.min_s(hi, nearestInt4(f32x4.mul(is, v128.load(px, 48))))));
  v128.store(pl, i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(l0, l1), i16x8.narrow_i32x4_s(l2, l3)));
}

/** make_qx_quants (nmax 32, rmse_type 1, weights x²) for the 16 values at px: levels at pl, returns the scale */
function makeQx(px: usize, pl: usize, s: usize): f32 {
  let max: f32 = 0, amax: f32 = 0;
  for (let i: usize = 0; i < 16; i++) {
    const v = load<f32>(px + (i << 2));
    if (abs(v) > amax) {
      amax = abs(v);
      max = v;
    }
  }
  if (amax < GROUP_MAX_EPS) {
    v128.store(pl, i8x16.splat(0));
    return 0;
  }
  for (let k: usize = 0; k < 64; k += 16) {
    const v = v128.load(px + k), w = f32x4.mul(v, v);
    v128.store(s + S_W + k, w);
    v128.store(s + S_AUX + k, f32x4.mul(w, v));
  }
  let iscale: f32 = <f32>-32 / max;
  qxLevels(px, iscale, pl);
  qxSums(px, s, iscale);
  let scale: f32 = fitMin != 0 && fitMin == fitMin ? fitScale / fitMin : 0;
  let best: f32 = scale * fitScale;
  for (let is = -9; is <= 9; is++) {
    if (is == 0) continue;
    iscale = -(<f32>32 + RDELTA * <f32>is) / max;
    qxSums(px, s, iscale);
    const sumlx = fitScale, suml2 = fitMin;
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      qxLevels(px, iscale, pl);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

function quantizeQ6_K(x: usize, nb: i32, out: usize, s: usize): void {
  const L = s + S_L, sc = s + S_SCALES, low = i8x16.splat(0xf), three = i8x16.splat(3);
  for (let b = 0; b < nb; b++) {
    const px = x + (<usize>b << 10), o = out + <usize>b * 210;
    memory.fill(o, 0, 210);
    let maxScale: f32 = 0, maxAbsScale: f32 = 0;
    for (let ib: usize = 0; ib < 16; ib++) {
      const scale = makeQx(px + (ib << 6), L + (ib << 4), s);
      store<f32>(sc + (ib << 2), scale);
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
