// Whole-tensor quantization and dequantization of llama.cpp's block formats, bit for bit with the plain
// TypeScript reference in src/quant/ (itself ggml/src/ggml-quants.c's *_ref quantizers and dequantize_row_*).
// Layouts: ggml-common.h's block_q8_0, block_q4_0, block_q4_1, block_q5_0, block_q5_1, block_q4_K,
// block_q5_K, block_q6_K (byte maps in src/quant/*.ts).
//
// Dequantization is exact float32 arithmetic (half scale → float32, times a small integer, plus or minus a
// float32 offset: each a single correctly rounded float32 operation, as the reference's Math.fround steps), so
// the SIMD lanes give the reference's bits. Quantization (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 here; Q4_K, Q5_K, Q6_K in
// quantize-k.ts) repeats the reference's float32 operations in order; its JS integer conversions (ToInt32:
// NaN → 0) are `toInt`.
// Pointers are byte offsets into the memory the JS side owns; nothing is allocated here.

import { f16, toF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K } from './ggml';
import { quantizeK } from './quantize-k';

/** JS ToInt32 of an integral float: NaN and ±Infinity → 0, otherwise the value modulo 2^32 */
@inline function toInt(v: f64): i32 {
  return v - v == 0 ? <i32><i64>v : 0;
}

/** the reference's `d ? 1 / d : 0` (NaN is falsy in JS) */
@inline function inverse(d: f32): f32 {
  return d != 0 && d == d ? <f32>1 / d : 0;
}

// ---- dequantization: 16 levels (i8x16) × scale (+ offset) → 16 float32 at out ----

/** out[i] = d · q[i] */
@inline function put16(out: usize, q: v128, d: v128): void {
  const lo = i16x8.extend_low_i8x16_s(q), hi = i16x8.extend_high_i8x16_s(q);
  v128.store(out, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), d));
  v128.store(out, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), d), 16);
  v128.store(out, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), d), 32);
  v128.store(out, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), d), 48);
}

/** out[i] = fround(d · q[i]) + m */
@inline function put16m(out: usize, q: v128, d: v128, m: v128): void {
  const lo = i16x8.extend_low_i8x16_s(q), hi = i16x8.extend_high_i8x16_s(q);
  v128.store(out, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), d), m));
  v128.store(out, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), d), m), 16);
  v128.store(out, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), d), m), 32);
  v128.store(out, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), d), m), 48);
}

// bit 4 (0x10) of the 16 levels whose 5th bits are bits 0..15 (half 0) or 16..31 (half 1) of the u32 at p
@inline function highBits(p: usize, half: i32): v128 {
  const all = v128.splat<u32>(load<u32>(p));
  const idx = half ? i8x16(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3) : i8x16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const bits = v128.and(i8x16.swizzle(all, idx), i8x16(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128));
  return v128.and(v128.not(i8x16.eq(bits, i8x16.splat(0))), i8x16.splat(0x10));
}

function dequantizeQ8_0(src: usize, nb: i32, dst: usize): void {
  for (let b = 0; b < nb; b++) {
    const p = src + <usize>b * 34, o = dst + (<usize>b << 7), d = f32x4.splat(f16(p));
    put16(o, v128.load(p + 2), d);
    put16(o + 64, v128.load(p + 18), d);
  }
}

function dequantizeQ4_0(src: usize, nb: i32, dst: usize): void {
  const low = i8x16.splat(0xf), eight = i8x16.splat(8);
  for (let b = 0; b < nb; b++) {
    const p = src + <usize>b * 18, o = dst + (<usize>b << 7), d = f32x4.splat(f16(p)), qs = v128.load(p + 2);
    put16(o, i8x16.sub(v128.and(qs, low), eight), d);
    put16(o + 64, i8x16.sub(i8x16.shr_u(qs, 4), eight), d);
  }
}

function dequantizeQ4_1(src: usize, nb: i32, dst: usize): void {
  const low = i8x16.splat(0xf);
  for (let b = 0; b < nb; b++) {
    const p = src + <usize>b * 20, o = dst + (<usize>b << 7), qs = v128.load(p + 4);
    const d = f32x4.splat(f16(p)), m = f32x4.splat(f16(p + 2));
    put16m(o, v128.and(qs, low), d, m);
    put16m(o + 64, i8x16.shr_u(qs, 4), d, m);
  }
}

function dequantizeQ5_0(src: usize, nb: i32, dst: usize): void {
  const low = i8x16.splat(0xf), sixteen = i8x16.splat(16);
  for (let b = 0; b < nb; b++) {
    const p = src + <usize>b * 22, o = dst + (<usize>b << 7), d = f32x4.splat(f16(p)), qs = v128.load(p + 6);
    put16(o, i8x16.sub(v128.or(v128.and(qs, low), highBits(p + 2, 0)), sixteen), d);
    put16(o + 64, i8x16.sub(v128.or(i8x16.shr_u(qs, 4), highBits(p + 2, 1)), sixteen), d);
  }
}

function dequantizeQ5_1(src: usize, nb: i32, dst: usize): void {
  const low = i8x16.splat(0xf);
  for (let b = 0; b < nb; b++) {
    const p = src + <usize>b * 24, o = dst + (<usize>b << 7), qs = v128.load(p + 8);
    const d = f32x4.splat(f16(p)), m = f32x4.splat(f16(p + 2));
    put16m(o, v128.or(v128.and(qs, low), highBits(p + 4, 0)), d, m);
    put16m(o + 64, v128.or(i8x16.shr_u(qs, 4), highBits(p + 4, 1)), d, m);
  }
}

/** 6-bit scale (which = 0) or min (which = 1) of sub-block j from the 12 bytes at p: get_scale_min_k4 */
@inline function scaleMinK4(j: i32, p: usize, which: i32): i32 {
  if (j < 4) return <i32>load<u8>(p + j + 4 * which) & 63;
  const a = <i32>load<u8>(p + j + 4);
  return which ? (a >> 4) | ((<i32>load<u8>(p + j) >> 6) << 4) : (a & 0xf) | ((<i32>load<u8>(p + j - 4) >> 6) << 4);
}

// Q4_K (qh = 0) and Q5_K (qh = offset of the 32-byte bit plane): x = fround(d·sc·q) − dmin·m per sub-block
function dequantizeK45(src: usize, nb: i32, dst: usize, bytes: usize, qh: usize, qs: usize): void {
  const low = i8x16.splat(0xf), bit = i8x16.splat(1);
  for (let b = 0; b < nb; b++) {
    const p = src + <usize>b * bytes, o = dst + (<usize>b << 10), d = f16(p), dmin = f16(p + 2);
    for (let j = 0; j < 8; j++) {
      const d1 = f32x4.splat(d * <f32>scaleMinK4(j, p + 4, 0)), m1 = f32x4.splat(-(dmin * <f32>scaleMinK4(j, p + 4, 1)));
      const q = p + qs + <usize>(32 * (j >> 1));
      for (let h = 0; h < 2; h++) {
        const v = v128.load(q + 16 * h);
        let lv = j & 1 ? i8x16.shr_u(v, 4) : v128.and(v, low);
        if (qh) lv = v128.or(lv, i8x16.shl(v128.and(i8x16.shr_u(v128.load(p + qh + 16 * h), j), bit), 4));
        put16m(o + <usize>(128 * j + 64 * h), lv, d1, m1);
      }
    }
  }
}

function dequantizeQ6_K(src: usize, nb: i32, dst: usize): void {
  const low = i8x16.splat(0xf), three = i8x16.splat(3), off = i8x16.splat(32);
  for (let b = 0; b < nb; b++) {
    const p = src + <usize>b * 210, o = dst + (<usize>b << 10), d = f16(p + 208);
    for (let h = 0; h < 2; h++) {
      const ql = p + 64 * h, qh = p + 128 + 32 * h, sc = p + 192 + 8 * h;
      for (let c = 0; c < 2; c++) {
        const a = v128.load(ql + 16 * c), a2 = v128.load(ql + 32 + 16 * c), hb = v128.load(qh + 16 * c);
        const q0 = v128.or(v128.and(a, low), i8x16.shl(v128.and(hb, three), 4));
        const q1 = v128.or(v128.and(a2, low), i8x16.shl(v128.and(i8x16.shr_u(hb, 2), three), 4));
        const q2 = v128.or(i8x16.shr_u(a, 4), i8x16.shl(v128.and(i8x16.shr_u(hb, 4), three), 4));
        const q3 = v128.or(i8x16.shr_u(a2, 4), i8x16.shl(i8x16.shr_u(hb, 6), 4));
        const e = o + <usize>(512 * h + 64 * c);
        put16(e, i8x16.sub(q0, off), f32x4.splat(d * <f32>load<i8>(sc + c)));
        put16(e + 128, i8x16.sub(q1, off), f32x4.splat(d * <f32>load<i8>(sc + 2 + c)));
        put16(e + 256, i8x16.sub(q2, off), f32x4.splat(d * <f32>load<i8>(sc + 4 + c)));
        put16(e + 384, i8x16.sub(q3, off), f32x4.splat(d * <f32>load<i8>(sc + 6 + c)));
      }
    }
  }
}

/**
 * Decodes n values of ggml type `type` (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K; n a whole number of
 * blocks) from the blocks at src into n float32 at dst (16-byte aligned). Returns 0, or -1 for another type.
 */
export function dequantizeBlocks(type: i32, src: usize, n: i32, dst: usize): i32 {
  if (type == Q8_0) dequantizeQ8_0(src, n >> 5, dst);
  else if (type == Q4_0) dequantizeQ4_0(src, n >> 5, dst);
  else if (type == Q4_1) dequantizeQ4_1(src, n >> 5, dst);
  else if (type == Q5_0) dequantizeQ5_0(src, n >> 5, dst);
  else if (type == Q5_1) dequantizeQ5_1(src, n >> 5, dst);
  else if (type == Q4_K) dequantizeK45(src, n >> 8, dst, 144, 0, 16);
  else if (type == Q5_K) dequantizeK45(src, n >> 8, dst, 176, 16, 48);
  else if (type == Q6_K) dequantizeQ6_K(src, n >> 8, dst);
  else return -1;
  return 0;
}

// ---- quantization of the 32-value formats (src/quant/q8_0.ts, q4_0.ts, q5_0.ts) ----

// 4 float32 at p times id, rounded half away from zero (C's roundf), to int8 bits as the reference's
// `q & 0xff`: non-finite products → 0 (JS ToInt32), and the low byte of the integer (no saturation)
@inline function roundBytes4(p: usize, id: v128): v128 {
  const half = f32x4.splat(0.5), one = f32x4.splat(1), sign = i32x4.splat(0x80000000), low = i32x4.splat(0xff);
  const v = f32x4.mul(v128.load(p), id), t = f32x4.trunc(v), fr = f32x4.sub(v, t);
  const adj = v128.and(f32x4.ge(f32x4.abs(fr), half), v128.or(v128.and(v, sign), one));
  return v128.and(v128.and(i32x4.trunc_sat_f32x4_s(f32x4.add(t, adj)), f32x4.eq(fr, fr)), low);
}

function quantizeQ8_0(x: usize, nb: i32, out: usize): void {
  for (let b = 0; b < nb; b++) {
    const px = x + (<usize>b << 7), o = out + <usize>b * 34;
    let m = f32x4.splat(0);
    for (let k = 0; k < 8; k++) m = f32x4.max(m, f32x4.abs(v128.load(px + (<usize>k << 4))));
    const amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    const d: f32 = amax / 127;
    const id = f32x4.splat(inverse(d));
    for (let k = 0; k < 2; k++) {
      const p = px + (<usize>k << 6);
      const lo = i16x8.narrow_i32x4_u(roundBytes4(p, id), roundBytes4(p + 16, id));
      const hi = i16x8.narrow_i32x4_u(roundBytes4(p + 32, id), roundBytes4(p + 48, id));
      v128.store(o + 2 + (<usize>k << 4), i8x16.narrow_i16x8_u(lo, hi));
    }
    store<u16>(o, <u16>toF16(d));
  }
}

// the element of largest magnitude (the first on ties; 0 when all are NaN or zero)
@inline function absMax(px: usize): f32 {
  let amax: f32 = 0, mx: f32 = 0;
  for (let j = 0; j < 32; j++) {
    const v = load<f32>(px + (<usize>j << 2));
    if (amax < abs(v)) {
      amax = abs(v);
      mx = v;
    }
  }
  return mx;
}

// Q4_0 (bits 4, q = min(15, trunc(x·id + 8.5))) and Q5_0 (bits 5, min(31, trunc(x·id + 16.5)))
function quantizeSym(x: usize, nb: i32, out: usize, bits: i32): void {
  const bytes: usize = bits == 4 ? 18 : 22, qs: usize = bits == 4 ? 2 : 6;
  const half: f32 = bits == 4 ? 8 : 16, top: f32 = bits == 4 ? 15 : 31;
  for (let b = 0; b < nb; b++) {
    const px = x + (<usize>b << 7), o = out + <usize>b * bytes;
    const d: f32 = absMax(px) / -half;
    const id = inverse(d);
    store<u16>(o, <u16>toF16(d));
    let qh: u32 = 0;
    for (let j = 0; j < 16; j++) {
      const q0 = toInt(<f64>min(top, Mathf.trunc(load<f32>(px + (<usize>j << 2)) * id + (half + 0.5))));
      const q1 = toInt(<f64>min(top, Mathf.trunc(load<f32>(px + (<usize>(j + 16) << 2)) * id + (half + 0.5))));
      qh |= (<u32>((q0 >> 4) & 1) << j) | (<u32>((q1 >> 4) & 1) << (j + 16));
      store<u8>(o + qs + j, <u8>(bits == 4 ? q0 | (q1 << 4) : (q0 & 0xf) | ((q1 & 0xf) << 4)));
    }
    if (bits == 5) store<u32>(o + 2, qh);
  }
}

// Q4_1 (bits 4, q = min(15, trunc((x − min)·id + 0.5))) and Q5_1 (bits 5, the same kept to 8 bits, no clamp)
function quantizeAsym(x: usize, nb: i32, out: usize, bits: i32): void {
  const bytes: usize = bits == 4 ? 20 : 24, qs: usize = bits == 4 ? 4 : 8;
  for (let b = 0; b < nb; b++) {
    const px = x + (<usize>b << 7), o = out + <usize>b * bytes;
    let lo: f32 = <f32>Infinity, hi: f32 = <f32>-Infinity;
    for (let j = 0; j < 32; j++) {
      const v = load<f32>(px + (<usize>j << 2));
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const d: f32 = (hi - lo) / <f32>(bits == 4 ? 15 : 31);
    const id = inverse(d);
    store<u16>(o, <u16>toF16(d));
    store<u16>(o + 2, <u16>toF16(lo));
    let qh: u32 = 0;
    for (let j = 0; j < 16; j++) {
      let t0 = Mathf.trunc((load<f32>(px + (<usize>j << 2)) - lo) * id + <f32>0.5);
      let t1 = Mathf.trunc((load<f32>(px + (<usize>(j + 16) << 2)) - lo) * id + <f32>0.5);
      if (bits == 4) {
        t0 = min(<f32>15, t0);
        t1 = min(<f32>15, t1);
      }
      let q0 = toInt(<f64>t0), q1 = toInt(<f64>t1);
      if (bits == 5) {
        q0 &= 0xff;
        q1 &= 0xff;
      }
      qh |= (<u32>((q0 >> 4) & 1) << j) | (<u32>((q1 >> 4) & 1) << (j + 16));
      store<u8>(o + qs + j, <u8>(bits == 4 ? q0 | (q1 << 4) : (q0 & 0xf) | ((q1 & 0xf) << 4)));
    }
    if (bits == 5) store<u32>(o + 4, qh);
  }
}

/**
 * Quantizes n float32 at x to ggml type `type` at out, as the reference quantizers: Q8_0, Q4_0, Q4_1, Q5_0,
 * Q5_1 (n a multiple of 32) or Q4_K, Q5_K, Q6_K (n a multiple of 256; scratch: KQUANT_SCRATCH bytes, 16-byte
 * aligned). Returns 0, or -1 for another type.
 */
export function quantizeBlocks(type: i32, x: usize, n: i32, out: usize, scratch: usize): i32 {
  if (type == Q8_0) quantizeQ8_0(x, n >> 5, out);
  else if (type == Q4_0) quantizeSym(x, n >> 5, out, 4);
  else if (type == Q5_0) quantizeSym(x, n >> 5, out, 5);
  else if (type == Q4_1) quantizeAsym(x, n >> 5, out, 4);
  else if (type == Q5_1) quantizeAsym(x, n >> 5, out, 5);
  else if (type == Q4_K) quantizeK(4, x, n >> 8, out, scratch);
  else if (type == Q5_K) quantizeK(5, x, n >> 8, out, scratch);
  else if (type == Q6_K) quantizeK(6, x, n >> 8, out, scratch);
  else return -1;
  return 0;
}
