// Quantized matrix × vector products, as llama.cpp's CPU backend computes them for batch-1 decoding: the
// activation row is quantized to the weight type's vec_dot_type (Q8_0, Q8_1 or Q8_K, by the caller, with
// ggml's reference quantizers) and every output is an integer block dot product scaled in float32.
// Integer products and sums are exact in i16/i32 lanes (bounds in each function), and the float32 steps
// follow src/quant/dot.ts (the plain TypeScript reference, itself ggml's *_generic C) operation for
// operation, so the results are bit for bit those of vecDot. Weight layouts: ggml-common.h's block_q8_0,
// block_q4_0, block_q4_1, block_q5_0, block_q5_1, block_q4_K, block_q5_K, block_q6_K (see src/quant/*.ts for the
// byte maps).
//
// Activations: `xq` holds the quantized row in its block layout (bytes as the reference quantizer writes
// them), `xs` its block scales as float32 (the caller converts the f16 ones once per row): Q8_0 one per
// block, Q8_1 two (d, s), Q8_K none (its d is a float32 inside the block), and `xw` its quants widened to
// int16 (element k at xw + 2k), which every weight row multiplies without widening them again.

import { f16, toF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K } from './ggml';

@inline function hsumI(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

// Σ a·y over 16 int8 lanes a and 16 int16 activations at py into the i32x4 acc (products and pairs fit i32)
@inline function dot16(acc: v128, a: v128, py: usize): v128 {
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(a), v128.load(py)));
  return i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(a), v128.load(py, 16)));
}

// the four halves at p, p + stride, p + 2·stride, p + 3·stride as float32 lanes (exact, as f16 above)
@inline function f16x4(p: usize, stride: usize): v128 {
  let h = v128.load16_lane(p, i16x8.splat(0), 0);
  h = v128.load16_lane(p + stride, h, 1);
  h = v128.load16_lane(p + 2 * stride, h, 2);
  h = v128.load16_lane(p + 3 * stride, h, 3);
  const u = i32x4.extend_low_i16x8_u(h);
  // (h & 0x7fff) << 13 read as float32, times 2^112: every finite half exactly (subnormals included)
  const mag = f32x4.mul(i32x4.shl(v128.and(u, i32x4.splat(0x7fff)), 13), f32x4.splat(5.192296858534828e33));
  const infNan = i32x4.eq(v128.and(u, i32x4.splat(0x7c00)), i32x4.splat(0x7c00));
  const special = v128.or(i32x4.shl(v128.and(u, i32x4.splat(0x3ff)), 13), i32x4.splat(0x7f800000));
  return v128.or(v128.bitselect(special, mag, infNan), i32x4.shl(v128.and(u, i32x4.splat(0x8000)), 16));
}

// [Σ a, Σ b, Σ c, Σ d] of four i32x4
@inline function reduce4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(v128.shuffle<i32>(a, b, 0, 4, 1, 5), v128.shuffle<i32>(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(v128.shuffle<i32>(c, d, 0, 4, 1, 5), v128.shuffle<i32>(c, d, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(ab, cd, 0, 1, 4, 5), v128.shuffle<i32>(ab, cd, 2, 3, 6, 7));
}

// the integer sum of one Q8_0 × Q8_0 block (weights at pw, widened activations at py)
@inline function sumQ8(pw: usize, py: usize): v128 {
  return dot16(dot16(i32x4.splat(0), v128.load(pw, 2), py), v128.load(pw, 18), py + 32);
}

// sumf += lane 0, then lane 1, … (the reference's order)
@inline function addInOrder(sumf: f32, v: v128): f32 {
  sumf += f32x4.extract_lane(v, 0); sumf += f32x4.extract_lane(v, 1);
  sumf += f32x4.extract_lane(v, 2); sumf += f32x4.extract_lane(v, 3);
  return sumf;
}

// dotQ8_0: sumf = sumf + sumi · (dw · dx) per block; four blocks' sums and scales at a time in lanes. The
// row's blocks lie bs bytes apart: 34 as stored, 136 in a row group interleaved block by block (qmatvec)
@inline function dotQ8_0(w: usize, bs: usize, xw: usize, xs: usize, nb: i32): f32 {
  let sumf: f32 = 0;
  let b = 0;
  for (; b + 4 <= nb; b += 4) {
    const pw = w + <usize>b * bs, py = xw + <usize>b * 64;
    const s = reduce4(sumQ8(pw, py), sumQ8(pw + bs, py + 64), sumQ8(pw + 2 * bs, py + 128), sumQ8(pw + 3 * bs, py + 192));
    const d = f32x4.mul(f16x4(pw, bs), v128.load(xs + (<usize>b << 2)));
    sumf = addInOrder(sumf, f32x4.mul(f32x4.convert_i32x4_s(s), d));
  }
  for (; b < nb; b++) {
    const pw = w + <usize>b * bs;
    sumf += <f32>hsumI(sumQ8(pw, xw + <usize>b * 64)) * (f16(pw) * load<f32>(xs + (<usize>b << 2)));
  }
  return sumf;
}

// The four rows of a row group interleaved block by block (block b of row i at w + (4b + i)·34) against one
// activation row: lane i of the result is row i's dotQ8_0, the same operations in the same order per lane
// (sumf += sumi · (dw · dx) block by block), while the activations are loaded once for all four rows, no
// scalar chain serialises the blocks, and the weights are read as one stream (four rows read side by side
// as stored ran at 2/3 of one row's speed from memory: the prefetcher sees four short streams)
function dotQ8_0x4(w: usize, xw: usize, xs: usize, nb: i32): v128 {
  let sumf = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const pw = w + <usize>b * 136, py = xw + <usize>b * 64;
    const y0 = v128.load(py), y1 = v128.load(py, 16), y2 = v128.load(py, 32), y3 = v128.load(py, 48);
    const s = reduce4(sumQ8y(pw, y0, y1, y2, y3), sumQ8y(pw + 34, y0, y1, y2, y3),
      sumQ8y(pw + 68, y0, y1, y2, y3), sumQ8y(pw + 102, y0, y1, y2, y3));
    const d = f32x4.mul(f16x4(pw, 34), f32x4.splat(load<f32>(xs + (<usize>b << 2))));
    sumf = f32x4.add(sumf, f32x4.mul(f32x4.convert_i32x4_s(s), d));
  }
  return sumf;
}

// sumQ8 with the block's 32 widened activations already in registers
@inline function sumQ8y(pw: usize, y0: v128, y1: v128, y2: v128, y3: v128): v128 {
  const a = v128.load(pw, 2), c = v128.load(pw, 18);
  let acc = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(a), y0);
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(a), y1));
  acc = i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(c), y2));
  return i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(c), y3));
}

// the integer sum of one Q4_0 × Q8_0 block: levels (q & 15) − 8 for elements 0..15, (q >> 4) − 8 for 16..31
@inline function sumQ4_0(pw: usize, py: usize): v128 {
  const q = v128.load(pw, 2), eight = i8x16.splat(8);
  const lo = i8x16.sub(v128.and(q, i8x16.splat(0x0f)), eight), hi = i8x16.sub(i8x16.shr_u(q, 4), eight);
  return dot16(dot16(i32x4.splat(0), lo, py), hi, py + 32);
}

// dotQ4_0: sumf += (sumi · dw) · dx per block, four blocks at a time in lanes
function dotQ4_0(w: usize, xw: usize, xs: usize, nb: i32): f32 {
  let sumf: f32 = 0;
  let b = 0;
  for (; b + 4 <= nb; b += 4) {
    const pw = w + <usize>b * 18, py = xw + <usize>b * 64;
    const s = reduce4(sumQ4_0(pw, py), sumQ4_0(pw + 18, py + 64), sumQ4_0(pw + 36, py + 128), sumQ4_0(pw + 54, py + 192));
    const p = f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(s), f16x4(pw, 18)), v128.load(xs + (<usize>b << 2)));
    sumf = addInOrder(sumf, p);
  }
  for (; b < nb; b++) {
    const pw = w + <usize>b * 18;
    sumf += (<f32>hsumI(sumQ4_0(pw, xw + <usize>b * 64)) * f16(pw)) * load<f32>(xs + (<usize>b << 2));
  }
  return sumf;
}

// dotQ4_1 with Q8_1: sumf += (dw·dx)·sumi + mw·sx, levels 0..15 unsigned
function dotQ4_1(w: usize, xw: usize, xs: usize, nb: i32): f32 {
  let sumf: f32 = 0;
  const mask = i8x16.splat(0x0f);
  for (let b = 0; b < nb; b++) {
    const pw = w + <usize>b * 20, py = xw + <usize>b * 64, ps = xs + (<usize>b << 3);
    const q = v128.load(pw, 4);
    const acc = dot16(dot16(i32x4.splat(0), v128.and(q, mask), py), i8x16.shr_u(q, 4), py + 32);
    const dd = f16(pw) * load<f32>(ps);
    sumf += dd * <f32>hsumI(acc) + f16(pw + 2) * load<f32>(ps, 4);
  }
  return sumf;
}

// The 16 fifth bits of Q5 elements 16h..16h+15 (bits of the two bytes at p) as 0 or 16 per byte lane
@inline function fifthBits(p: usize): v128 {
  const b = v128.load16_splat(p);
  const spread = v128.shuffle<u8>(b, b, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const bit = i8x16(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
  return v128.and(i8x16.eq(v128.and(spread, bit), bit), i8x16.splat(16));
}

// the integer sum of one Q5_0 × Q8_0 block: d | qh (4 bytes) | qs (16); levels (nibble | fifth bit) − 16
@inline function sumQ5_0(pw: usize, py: usize): v128 {
  const q = v128.load(pw, 6), sixteen = i8x16.splat(16);
  const lo = i8x16.sub(v128.or(v128.and(q, i8x16.splat(0x0f)), fifthBits(pw + 2)), sixteen);
  const hi = i8x16.sub(v128.or(i8x16.shr_u(q, 4), fifthBits(pw + 4)), sixteen);
  return dot16(dot16(i32x4.splat(0), lo, py), hi, py + 32);
}

// dotQ5_0: sumf += (dw · dx) · sumi per block, four blocks at a time in lanes
function dotQ5_0(w: usize, xw: usize, xs: usize, nb: i32): f32 {
  let sumf: f32 = 0;
  let b = 0;
  for (; b + 4 <= nb; b += 4) {
    const pw = w + <usize>b * 22, py = xw + <usize>b * 64;
    const s = reduce4(sumQ5_0(pw, py), sumQ5_0(pw + 22, py + 64), sumQ5_0(pw + 44, py + 128), sumQ5_0(pw + 66, py + 192));
    const p = f32x4.mul(f32x4.mul(f16x4(pw, 22), v128.load(xs + (<usize>b << 2))), f32x4.convert_i32x4_s(s));
    sumf = addInOrder(sumf, p);
  }
  for (; b < nb; b++) {
    const pw = w + <usize>b * 22;
    sumf += (f16(pw) * load<f32>(xs + (<usize>b << 2))) * <f32>hsumI(sumQ5_0(pw, xw + <usize>b * 64));
  }
  return sumf;
}

// dotQ5_1 with Q8_1: d | m | qh (4 bytes) | qs (16), levels 0..31; sumf += (dw·dx)·sumi + mw·sx
function dotQ5_1(w: usize, xw: usize, xs: usize, nb: i32): f32 {
  let sumf: f32 = 0;
  for (let b = 0; b < nb; b++) {
    const pw = w + <usize>b * 24, py = xw + <usize>b * 64, ps = xs + (<usize>b << 3);
    const q = v128.load(pw, 8);
    const lo = v128.or(v128.and(q, i8x16.splat(0x0f)), fifthBits(pw + 4)), hi = v128.or(i8x16.shr_u(q, 4), fifthBits(pw + 6));
    const acc = dot16(dot16(i32x4.splat(0), lo, py), hi, py + 32);
    const dd = f16(pw) * load<f32>(ps);
    sumf += dd * <f32>hsumI(acc) + f16(pw + 2) * load<f32>(ps, 4);
  }
  return sumf;
}

// 6-bit scale and min of sub-block j from the 12 packed bytes at q (get_scale_min_k4)
@inline function scaleK4(j: i32, q: usize): i32 {
  return j < 4 ? <i32>load<u8>(q + j) & 63 : (<i32>load<u8>(q + j + 4) & 0xf) | ((<i32>load<u8>(q + j - 4) >> 6) << 4);
}
@inline function minK4(j: i32, q: usize): i32 {
  return j < 4 ? <i32>load<u8>(q + j + 4) & 63 : (<i32>load<u8>(q + j + 4) >> 4) | ((<i32>load<u8>(q + j) >> 6) << 4);
}

// Σ over the 32 levels of a sub-block (bytes n0: elements 0..15, n1: 16..31, all < 16) times the widened
// activations at py, element k kept in i16 lane k mod 8: 4 products of |15·128| fit i16
@inline function levels32(n0: v128, n1: v128, py: usize): v128 {
  let p = i16x8.mul(i16x8.extend_low_i8x16_u(n0), v128.load(py));
  p = i16x8.add(p, i16x8.mul(i16x8.extend_high_i8x16_u(n0), v128.load(py, 16)));
  p = i16x8.add(p, i16x8.mul(i16x8.extend_low_i8x16_u(n1), v128.load(py, 32)));
  return i16x8.add(p, i16x8.mul(i16x8.extend_high_i8x16_u(n1), v128.load(py, 48)));
}

// dotQ4_K / dotQ5_K with Q8_K: the reference keeps 8 lanes, element k in lane k mod 8 (aux), scaled per block.
// Per sub-block of 32, lane sums fit i16 (Q5_K: 4 products of |31·128|); times the 6-bit scale, i32. Sub-blocks
// 2i and 2i+1 share bytes. Q5_K (five): the low nibble as Q4_K's at qs (offset 48 instead of 16), the 5th bit
// of element 32j + l is bit j of qh[l] (the 32 bytes at 16); blocks of 176 bytes instead of 144.
@inline function dotK45(w: usize, xq: usize, xw: usize, nb: i32, five: bool): f32 {
  const mask = i8x16.splat(0x0f);
  const blockBytes: usize = five ? 176 : 144, qs: usize = five ? 48 : 16;
  let sumsLo = f32x4.splat(0), sumsHi = f32x4.splat(0);
  let sumf: f32 = 0;
  for (let b = 0; b < nb; b++) {
    const pw = w + <usize>b * blockBytes, px = xq + <usize>b * 292, yw = xw + <usize>b * 512, sc = pw + 4;
    const h0 = five ? v128.load(pw + 16) : i8x16.splat(0), h1 = five ? v128.load(pw + 32) : i8x16.splat(0);
    let auxLo = i32x4.splat(0), auxHi = i32x4.splat(0);
    let sumi = 0;
    for (let j = 0; j < 8; j += 2) {
      const q = pw + qs + 16 * j;
      const q0 = v128.load(q), q1 = v128.load(q, 16);
      let la0 = v128.and(q0, mask), la1 = v128.and(q1, mask), lb0 = i8x16.shr_u(q0, 4), lb1 = i8x16.shr_u(q1, 4);
      if (five) {
        la0 = v128.or(la0, bit5(h0, j)); la1 = v128.or(la1, bit5(h1, j));
        lb0 = v128.or(lb0, bit5(h0, j + 1)); lb1 = v128.or(lb1, bit5(h1, j + 1));
      }
      const pa = levels32(la0, la1, yw + 64 * j);
      const pb = levels32(lb0, lb1, yw + 64 * j + 64);
      const sa = i16x8.splat(<i16>scaleK4(j, sc)), sb = i16x8.splat(<i16>scaleK4(j + 1, sc));
      auxLo = i32x4.add(auxLo, i32x4.add(i32x4.extmul_low_i16x8_s(pa, sa), i32x4.extmul_low_i16x8_s(pb, sb)));
      auxHi = i32x4.add(auxHi, i32x4.add(i32x4.extmul_high_i16x8_s(pa, sa), i32x4.extmul_high_i16x8_s(pb, sb)));
      sumi += (<i32>load<i16>(px + 260 + 4 * j) + <i32>load<i16>(px + 262 + 4 * j)) * minK4(j, sc);
      sumi += (<i32>load<i16>(px + 264 + 4 * j) + <i32>load<i16>(px + 266 + 4 * j)) * minK4(j + 1, sc);
    }
    const yd = load<f32>(px);
    const d = f32x4.splat(f16(pw) * yd);
    sumsLo = f32x4.add(sumsLo, f32x4.mul(d, f32x4.convert_i32x4_s(auxLo)));
    sumsHi = f32x4.add(sumsHi, f32x4.mul(d, f32x4.convert_i32x4_s(auxHi)));
    const dmin = f16(pw + 2) * yd;
    sumf -= dmin * <f32>sumi;
  }
  return addLanes(sumf, sumsLo, sumsHi);
}

// dotQ4_K of two weight rows (w and w + rowBytes) against one activation row, each row's arithmetic exactly
// as dotK45's (same lanes, same order), the activations and their group sums loaded once for both rows;
// row 0's result in out, row 1's in out + 4
function dotQ4_Kx2(w: usize, rowBytes: usize, xq: usize, xw: usize, nb: i32, out: usize): void {
  const mask = i8x16.splat(0x0f);
  let lo0 = f32x4.splat(0), hi0 = f32x4.splat(0), lo1 = f32x4.splat(0), hi1 = f32x4.splat(0);
  let sumf0: f32 = 0, sumf1: f32 = 0;
  for (let b = 0; b < nb; b++) {
    const pw = w + <usize>b * 144, pv = pw + rowBytes, px = xq + <usize>b * 292, yw = xw + <usize>b * 512;
    let aLo0 = i32x4.splat(0), aHi0 = i32x4.splat(0), aLo1 = i32x4.splat(0), aHi1 = i32x4.splat(0);
    let sumi0 = 0, sumi1 = 0;
    for (let j = 0; j < 8; j += 2) {
      const py = yw + 64 * j;
      const ya0 = v128.load(py), ya1 = v128.load(py, 16), ya2 = v128.load(py, 32), ya3 = v128.load(py, 48);
      const yb0 = v128.load(py, 64), yb1 = v128.load(py, 80), yb2 = v128.load(py, 96), yb3 = v128.load(py, 112);
      const bs0 = <i32>load<i16>(px + 260 + 4 * j) + <i32>load<i16>(px + 262 + 4 * j);
      const bs1 = <i32>load<i16>(px + 264 + 4 * j) + <i32>load<i16>(px + 266 + 4 * j);
      // row 0
      {
        const q0 = v128.load(pw + 16 + 16 * j), q1 = v128.load(pw + 16 + 16 * j, 16), sc = pw + 4;
        const pa = levels32y(v128.and(q0, mask), v128.and(q1, mask), ya0, ya1, ya2, ya3);
        const pb = levels32y(i8x16.shr_u(q0, 4), i8x16.shr_u(q1, 4), yb0, yb1, yb2, yb3);
        const sa = i16x8.splat(<i16>scaleK4(j, sc)), sb = i16x8.splat(<i16>scaleK4(j + 1, sc));
        aLo0 = i32x4.add(aLo0, i32x4.add(i32x4.extmul_low_i16x8_s(pa, sa), i32x4.extmul_low_i16x8_s(pb, sb)));
        aHi0 = i32x4.add(aHi0, i32x4.add(i32x4.extmul_high_i16x8_s(pa, sa), i32x4.extmul_high_i16x8_s(pb, sb)));
        sumi0 += bs0 * minK4(j, sc);
        sumi0 += bs1 * minK4(j + 1, sc);
      }
      // row 1
      {
        const q0 = v128.load(pv + 16 + 16 * j), q1 = v128.load(pv + 16 + 16 * j, 16), sc = pv + 4;
        const pa = levels32y(v128.and(q0, mask), v128.and(q1, mask), ya0, ya1, ya2, ya3);
        const pb = levels32y(i8x16.shr_u(q0, 4), i8x16.shr_u(q1, 4), yb0, yb1, yb2, yb3);
        const sa = i16x8.splat(<i16>scaleK4(j, sc)), sb = i16x8.splat(<i16>scaleK4(j + 1, sc));
        aLo1 = i32x4.add(aLo1, i32x4.add(i32x4.extmul_low_i16x8_s(pa, sa), i32x4.extmul_low_i16x8_s(pb, sb)));
        aHi1 = i32x4.add(aHi1, i32x4.add(i32x4.extmul_high_i16x8_s(pa, sa), i32x4.extmul_high_i16x8_s(pb, sb)));
        sumi1 += bs0 * minK4(j, sc);
        sumi1 += bs1 * minK4(j + 1, sc);
      }
    }
    const yd = load<f32>(px);
    const d0 = f32x4.splat(f16(pw) * yd), d1 = f32x4.splat(f16(pv) * yd);
    lo0 = f32x4.add(lo0, f32x4.mul(d0, f32x4.convert_i32x4_s(aLo0)));
    hi0 = f32x4.add(hi0, f32x4.mul(d0, f32x4.convert_i32x4_s(aHi0)));
    lo1 = f32x4.add(lo1, f32x4.mul(d1, f32x4.convert_i32x4_s(aLo1)));
    hi1 = f32x4.add(hi1, f32x4.mul(d1, f32x4.convert_i32x4_s(aHi1)));
    sumf0 -= (f16(pw + 2) * yd) * <f32>sumi0;
    sumf1 -= (f16(pv + 2) * yd) * <f32>sumi1;
  }
  store<f32>(out, addLanes(sumf0, lo0, hi0));
  store<f32>(out, addLanes(sumf1, lo1, hi1), 4);
}

// levels32 with the sub-block's 32 widened activations already in registers
@inline function levels32y(n0: v128, n1: v128, y0: v128, y1: v128, y2: v128, y3: v128): v128 {
  let p = i16x8.mul(i16x8.extend_low_i8x16_u(n0), y0);
  p = i16x8.add(p, i16x8.mul(i16x8.extend_high_i8x16_u(n0), y1));
  p = i16x8.add(p, i16x8.mul(i16x8.extend_low_i8x16_u(n1), y2));
  return i16x8.add(p, i16x8.mul(i16x8.extend_high_i8x16_u(n1), y3));
}

function dotQ4_K(w: usize, xq: usize, xw: usize, nb: i32): f32 {
  return dotK45(w, xq, xw, nb, false);
}

function dotQ5_K(w: usize, xq: usize, xw: usize, nb: i32): f32 {
  return dotK45(w, xq, xw, nb, true);
}

@inline function addLanes(sumf: f32, lo: v128, hi: v128): f32 {
  sumf += f32x4.extract_lane(lo, 0); sumf += f32x4.extract_lane(lo, 1);
  sumf += f32x4.extract_lane(lo, 2); sumf += f32x4.extract_lane(lo, 3);
  sumf += f32x4.extract_lane(hi, 0); sumf += f32x4.extract_lane(hi, 1);
  sumf += f32x4.extract_lane(hi, 2); sumf += f32x4.extract_lane(hi, 3);
  return sumf;
}

// bit j of each of the 16 qh bytes in h as 0 or 16: the 5th bit of Q5_K's sub-block j
@inline function bit5(h: v128, j: i32): v128 {
  return i8x16.shl(v128.and(i8x16.shr_u(h, j), i8x16.splat(1)), 4);
}

// one group of 16 Q6_K levels (already − 32) times the widened activations at py and the group's int8
// scale into aux (lanes k mod 8): 2 products of |32·128| fit i16; times |scale| ≤ 128, i32
@inline function groupQ6(q: v128, py: usize, s: i32, aux: v128, high: bool): v128 {
  const p = i16x8.add(i16x8.mul(i16x8.extend_low_i8x16_s(q), v128.load(py)), i16x8.mul(i16x8.extend_high_i8x16_s(q), v128.load(py, 16)));
  const sv = i16x8.splat(<i16>s);
  return i32x4.add(aux, high ? i32x4.extmul_high_i16x8_s(p, sv) : i32x4.extmul_low_i16x8_s(p, sv));
}

// dotQ6_K with Q8_K: element k = 128h + 32c + l (c = 0..3, l < 32) has level
// (ql[64h + l + 32(c & 1)] >> 4(c >> 1) & 15) | ((qh[32h + l] >> 2c) & 3) << 4, scale scales[k >> 4]
function dotQ6_K(w: usize, xq: usize, xw: usize, nb: i32): f32 {
  const mask = i8x16.splat(0x0f), three = i8x16.splat(3), bias = i8x16.splat(32);
  let sumsLo = f32x4.splat(0), sumsHi = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const pw = w + <usize>b * 210, yw = xw + <usize>b * 512, scales = pw + 192;
    let auxLo = i32x4.splat(0), auxHi = i32x4.splat(0);
    for (let h = 0; h < 2; h++) {
      for (let l0 = 0; l0 < 32; l0 += 16) {
        const ql0 = v128.load(pw + 64 * h + l0), ql1 = v128.load(pw + 64 * h + 32 + l0);
        const qh = v128.load(pw + 128 + 32 * h + l0);
        const q0 = i8x16.sub(v128.or(v128.and(ql0, mask), i8x16.shl(v128.and(qh, three), 4)), bias);
        const q1 = i8x16.sub(v128.or(v128.and(ql1, mask), i8x16.shl(v128.and(i8x16.shr_u(qh, 2), three), 4)), bias);
        const q2 = i8x16.sub(v128.or(i8x16.shr_u(ql0, 4), i8x16.shl(v128.and(i8x16.shr_u(qh, 4), three), 4)), bias);
        const q3 = i8x16.sub(v128.or(i8x16.shr_u(ql1, 4), i8x16.shl(i8x16.shr_u(qh, 6), 4)), bias);
        const k = 128 * h + l0; // first element of the group of 16 for c = 0
        for (let c = 0; c < 4; c++) {
          const qc = c == 0 ? q0 : c == 1 ? q1 : c == 2 ? q2 : q3;
          const kk = k + 32 * c;
          const s = <i32>load<i8>(scales + (kk >> 4));
          auxLo = groupQ6(qc, yw + 2 * kk, s, auxLo, false);
          auxHi = groupQ6(qc, yw + 2 * kk, s, auxHi, true);
        }
      }
    }
    const d = f32x4.splat(f16(pw + 208) * load<f32>(xq + <usize>b * 292));
    sumsLo = f32x4.add(sumsLo, f32x4.mul(d, f32x4.convert_i32x4_s(auxLo)));
    sumsHi = f32x4.add(sumsHi, f32x4.mul(d, f32x4.convert_i32x4_s(auxHi)));
  }
  return addLanes(0, sumsLo, sumsHi);
}

@inline function rowDot(type: i32, w: usize, xq: usize, xs: usize, xw: usize, nb: i32): f32 {
  if (type == Q8_0) return dotQ8_0(w, 34, xw, xs, nb);
  if (type == Q4_K) return dotQ4_K(w, xq, xw, nb);
  if (type == Q6_K) return dotQ6_K(w, xq, xw, nb);
  if (type == Q4_0) return dotQ4_0(w, xw, xs, nb);
  if (type == Q4_1) return dotQ4_1(w, xw, xs, nb);
  if (type == Q5_0) return dotQ5_0(w, xw, xs, nb);
  if (type == Q5_1) return dotQ5_1(w, xw, xs, nb);
  if (type == Q5_K) return dotQ5_K(w, xq, xw, nb);
  return NaN;
}

/** rows per group of a Q8_0 matrix laid out by interleaveQ8_0Rows (the `group` argument of qmatvec) */
export const Q8_0_ROW_GROUP = 4;

/**
 * y[i·ldy + r] = dot(weight row r, activation row i) (+ bias[r]) for weight rows r in [r0, r1) and
 * activation rows i < nx. type: the ggml id of the weights (Q4_0 2, Q4_1 3, Q5_0 6, Q5_1 7, Q8_0 8, Q4_K 12,
 * Q5_K 13, Q6_K 14);
 * w: rows of rowBytes bytes; activation row i: blocks at xq + i·xqStride, float scales at xs + i·xsStride,
 * int16 quants at xw + i·xwStride (strides in bytes); nb: blocks per row; bias: 0 or Out floats.
 * group: 1, or for Q8_0 Q8_0_ROW_GROUP when the rows are grouped and interleaved (interleaveQ8_0Rows; the
 * Out = ldy rows' layout): then whole groups go four rows at a time (dotQ8_0x4). Same results either way.
 */
export function qmatvec(
  type: i32, w: usize, rowBytes: i32, xq: usize, xs: usize, xw: usize, xqStride: i32, xsStride: i32, xwStride: i32,
  nx: i32, y: usize, ldy: i32, bias: usize, nb: i32, r0: i32, r1: i32, group: i32,
): void {
  let r = r0;
  if (type == Q8_0 && group == Q8_0_ROW_GROUP) {
    const grouped = ldy & ~3;
    for (; r < r1 && r < grouped; r++) {
      const g = w + <usize>(r & ~3) * <usize>rowBytes;
      if ((r & 3) == 0 && r + 4 <= r1) {
        for (let i = 0; i < nx; i++) {
          let v = dotQ8_0x4(g, xw + <usize>i * <usize>xwStride, xs + <usize>i * <usize>xsStride, nb);
          if (bias) v = f32x4.add(v, v128.load(bias + (<usize>r << 2)));
          v128.store(y + ((<usize>i * <usize>ldy + <usize>r) << 2), v);
        }
        r += 3;
        continue;
      }
      // a part of a group (a split that does not fall on a group's start): its blocks 136 bytes apart
      const bv: f32 = bias ? load<f32>(bias + (<usize>r << 2)) : 0;
      for (let i = 0; i < nx; i++) {
        let v = dotQ8_0(g + <usize>(r & 3) * 34, 136, xw + <usize>i * <usize>xwStride, xs + <usize>i * <usize>xsStride, nb);
        if (bias) v += bv;
        store<f32>(y + ((<usize>i * <usize>ldy + <usize>r) << 2), v);
      }
    }
  }
  if (type == Q4_K) {
    // two rows at a time (dotQ4_Kx2), into a scratch pair below the bias (none when bias is 0: then y itself)
    for (; r + 2 <= r1; r += 2) {
      const wr = w + <usize>r * <usize>rowBytes;
      for (let i = 0; i < nx; i++) {
        const at = y + ((<usize>i * <usize>ldy + <usize>r) << 2);
        dotQ4_Kx2(wr, <usize>rowBytes, xq + <usize>i * <usize>xqStride, xw + <usize>i * <usize>xwStride, nb, at);
        if (bias) {
          store<f32>(at, load<f32>(at) + load<f32>(bias + (<usize>r << 2)));
          store<f32>(at, load<f32>(at, 4) + load<f32>(bias + (<usize>r << 2), 4), 4);
        }
      }
    }
  }
  for (; r < r1; r++) {
    const wr = w + <usize>r * <usize>rowBytes;
    const bv: f32 = bias ? load<f32>(bias + (<usize>r << 2)) : 0;
    for (let i = 0; i < nx; i++) {
      let v = rowDot(type, wr, xq + <usize>i * <usize>xqStride, xs + <usize>i * <usize>xsStride, xw + <usize>i * <usize>xwStride, nb);
      if (bias) v += bv;
      store<f32>(y + ((<usize>i * <usize>ldy + <usize>r) << 2), v);
    }
  }
}

/**
 * Copies `rows` Q8_0 rows of nb blocks from src to dst with every group of Q8_0_ROW_GROUP rows interleaved
 * block by block (block b of the group's row i at (4b + i)·34 from the group's start, which stays at
 * r·rowBytes); the rows after the last whole group stay as they are. For qmatvec's group argument.
 */
export function interleaveQ8_0Rows(src: usize, dst: usize, rows: i32, nb: i32): void {
  const rowBytes = <usize>nb * 34, grouped = rows & ~3;
  for (let g = 0; g < grouped; g += 4) {
    const base = <usize>g * rowBytes;
    for (let i = 0; i < 4; i++) {
      for (let b = 0; b < nb; b++) memory.copy(dst + base + (<usize>(4 * b + i)) * 34, src + base + <usize>i * rowBytes + <usize>b * 34, 34);
    }
  }
  memory.copy(dst + <usize>grouped * rowBytes, src + <usize>grouped * rowBytes, <usize>(rows - grouped) * rowBytes);
}

// ---- activation rows quantized in place (ggml's reference quantizers, as src/quant/q8_0.ts and q8_k.ts) ----

/** C's roundf (half away from zero) of a float32, exactly (in float64, as the reference) */
@inline function roundf(v: f32): i32 {
  const d = <f64>v;
  return d < 0 ? -<i32>Math.floor(-d + 0.5) : <i32>Math.floor(d + 0.5);
}

// one row of n floats at x → Q8_0 (withSum = false: 34-byte blocks) or Q8_1 (36-byte blocks, s = d·Σq) at
// xq, the block scales as float32 (d, or d and s) at xs and the quants as int16 at xw
function quantizeQ8_0Row(x: usize, n: i32, xq: usize, xs: usize, xw: usize, withSum: bool): void {
  const bb: usize = withSum ? 36 : 34, off: usize = withSum ? 4 : 2;
  for (let b = 0; b < n / 32; b++) {
    const px = x + (<usize>b << 7), pq = xq + <usize>b * bb, pw = xw + (<usize>b << 6);
    let amax: f32 = 0;
    for (let j = 0; j < 32; j++) amax = max(amax, abs(load<f32>(px + (<usize>j << 2))));
    const d: f32 = amax / 127;
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    let sum = 0;
    for (let j = 0; j < 32; j++) {
      const q = roundf(load<f32>(px + (<usize>j << 2)) * id);
      store<i8>(pq + off + j, <i8>q);
      store<i16>(pw + (<usize>j << 1), <i16>q);
      sum += q;
    }
    const hd = toF16(d);
    store<u16>(pq, <u16>hd);
    if (withSum) {
      const hs = toF16(<f32>sum * d);
      store<u16>(pq, <u16>hs, 2);
      store<f32>(xs + (<usize>b << 3), f16(pq));
      store<f32>(xs + (<usize>b << 3), f16(pq + 2), 4);
    } else {
      store<f32>(xs + (<usize>b << 2), f16(pq));
    }
  }
}

// one row of n floats at x → Q8_K (292-byte blocks: d f32 | 256 quants | 16 int16 group sums) at xq, the
// quants as int16 at xw
function quantizeQ8_KRow(x: usize, n: i32, xq: usize, xw: usize): void {
  for (let b = 0; b < n / 256; b++) {
    const px = x + (<usize>b << 10), pq = xq + <usize>b * 292, pw = xw + (<usize>b << 9);
    let amax: f32 = 0, mx: f32 = 0;
    for (let j = 0; j < 256; j++) {
      const v = load<f32>(px + (<usize>j << 2));
      if (abs(v) > amax) { amax = abs(v); mx = v; }
    }
    if (amax == 0) {
      memory.fill(pq, 0, 292);
      memory.fill(pw, 0, 512);
      continue;
    }
    const iscale: f32 = <f32>-127 / mx;
    for (let j = 0; j < 256; j++) {
      const t: f32 = iscale * load<f32>(px + (<usize>j << 2)) + <f32>12582912;
      const q = min(127, <i32>(reinterpret<u32>(t) & 0x7fffff) - 0x400000);
      store<i8>(pq + 4 + j, <i8>q);
      store<i16>(pw + (<usize>j << 1), <i16>q);
    }
    for (let g = 0; g < 16; g++) {
      let s = 0;
      for (let i = 0; i < 16; i++) s += <i32>load<i8>(pq + 4 + 16 * g + i);
      store<i16>(pq + 260 + 2 * g, <i16>s);
    }
    store<f32>(pq, <f32>1 / iscale);
  }
}

/**
 * Quantizes nx activation rows of n floats (x, rows n apart) for weights of ggml type `type`: its
 * vec_dot_type blocks at xq (rows xqStride bytes apart), float32 scales at xs (xsStride bytes apart) and
 * int16 quants at xw (rows 2n bytes apart), bit for bit as src/quant/activations.ts (the reference quantizers).
 */
export function quantizeActivations(type: i32, x: usize, n: i32, nx: i32, xq: usize, xs: usize, xw: usize, xqStride: i32, xsStride: i32): void {
  for (let i = 0; i < nx; i++) {
    const px = x + <usize>i * <usize>n * 4, pq = xq + <usize>i * <usize>xqStride, pw = xw + <usize>i * <usize>n * 2;
    if (type == Q4_K || type == Q5_K || type == Q6_K) quantizeQ8_KRow(px, n, pq, pw);
    else quantizeQ8_0Row(px, n, pq, xs + <usize>i * <usize>xsStride, pw, type == Q4_1 || type == Q5_1);
  }
}
