// What the quantized kernels (qmatvec.ts, quantize.ts) share about llama.cpp's block formats: the type ids of
// ggml's `enum ggml_type` (src/quant/types.ts GGMLType), and the IEEE half-precision conversions of their scales,
// bit for bit with src/quant/f16.ts: half → float32 exactly, float32 → half rounding to nearest even
// (NaN → quiet 0x7e00).

export const Q4_0: i32 = 2;
export const Q4_1: i32 = 3;
export const Q5_0: i32 = 6;
export const Q5_1: i32 = 7;
export const Q8_0: i32 = 8;
export const Q4_K: i32 = 12;
export const Q5_K: i32 = 13;
export const Q6_K: i32 = 14;

/** IEEE half at p → float32 (exact) */
@inline export function f16(p: usize): f32 {
  const h = <u32>load<u16>(p);
  const e = (h >> 10) & 0x1f, m = h & 0x3ff, s = (h & 0x8000) << 16;
  if (e == 0) {
    const v = <f32>m * 5.9604644775390625e-8; // m · 2^-24
    return s ? -v : v;
  }
  if (e == 31) return reinterpret<f32>(s | 0x7f800000 | (m << 13));
  return reinterpret<f32>(s | ((e + 112) << 23) | (m << 13));
}

/** float32 → IEEE half bits, round to nearest even, NaN → quiet 0x7e00: src/quant/f16.ts fp32ToFp16 */
export function toF16(x: f32): u32 {
  const bits = reinterpret<u32>(x);
  const sign = (bits >> 16) & 0x8000;
  const exp = <i32>((bits >> 23) & 0xff);
  let mant = bits & 0x7fffff;
  if (exp == 0xff) return mant ? sign | 0x7e00 : sign | 0x7c00;
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = <u32>(14 - e);
    const half = <u32>1 << (shift - 1);
    const rest = mant & ((<u32>1 << shift) - 1);
    let m = mant >> shift;
    if (rest > half || (rest == half && (m & 1))) m++;
    return sign | m;
  }
  let out = (<u32>e << 10) | (mant >> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (out & 1))) out++;
  return sign | out;
}
