// IEEE 754 binary16 ("half", ggml_fp16_t) <-> float32, as ggml converts: round to nearest, ties to even;
// overflow to ±Infinity; NaN stays NaN (quiet, 0x7e00 with the sign, like ggml_compute_fp32_to_fp16 in
// ggml/src/ggml-impl.h). Works on the float32 bit pattern, so a JS number is first rounded to float32
// (the value C code would hold), then to half.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 value -> half bits (0..0xffff). e.g. 1 -> 0x3c00, 65520 -> 0x7c00, 2^-25 -> 0 (tie to even). */
export function fp32ToFp16(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return mant ? sign | 0x7e00 : sign | 0x7c00;
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    mant |= 0x800000; // explicit leading 1, then shift into subnormal position
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m; // a carry into the exponent field gives the smallest normal: correct
  }
  let out = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && out & 1)) out++; // a carry may reach Infinity: correct
  return sign | out;
}

// All 65536 halves decoded once (256 kB): dequantization reads scales from here.
const TABLE = new Float32Array(65536);
for (let h = 0; h < 65536; h++) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) TABLE[h] = sign * frac * 2 ** -24;
  else if (exp === 31) TABLE[h] = frac ? NaN : sign * Infinity;
  else TABLE[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Half bits -> value (exact: every half is a float32). e.g. 0x3c00 -> 1, 0x0001 -> 2^-24. */
export function fp16ToFp32(h: number): number {
  return TABLE[h & 0xffff]!;
}

/** Float32Array -> F16 tensor bytes (little-endian, 2 bytes per element). */
export function quantizeF16(x: Float32Array): Uint8Array {
  const out = new Uint8Array(x.length * 2);
  for (let i = 0; i < x.length; i++) {
    const h = fp32ToFp16(x[i]!);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  }
  return out;
}

/** F16 tensor bytes (2n bytes, little-endian) -> n float32 values. */
export function dequantizeF16(bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = TABLE[bytes[2 * i]! | (bytes[2 * i + 1]! << 8)]!;
  return out;
}

/** Reads the half at bytes[off], bytes[off+1] (little-endian) as a number. */
export function readF16(bytes: Uint8Array, off: number): number {
  return TABLE[bytes[off]! | (bytes[off + 1]! << 8)]!;
}

/** Writes value x (rounded to half) at bytes[off] little-endian. */
export function writeF16(bytes: Uint8Array, off: number, x: number): void {
  const h = fp32ToFp16(x);
  bytes[off] = h & 0xff;
  bytes[off + 1] = h >>> 8;
}
