// The integer roundings ggml's quantizers use, reproduced exactly in float32 semantics.
// Source: ggml/src/ggml-quants.c (nearest_int) and C's roundf.

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

/**
 * ggml's nearest_int: adds 1.5·2^23 in float32 and reads the low 23 mantissa bits, which rounds to the
 * nearest integer, ties to even, for |x| <= 4194303 (ggml asserts that range; outside it this returns the
 * same bits the C code would). x is a float32 value.
 */
export function nearestInt(x: number): number {
  // x is a float32, so x + 12582912 is exact in double whenever the result is near a rounding tie;
  // storing it into a Float32Array performs the one float32 rounding the C addition does.
  f32[0] = x + 12582912;
  return (i32[0]! & 0x007fffff) - 0x00400000;
}

/** C's roundf: round half away from zero. x is a float32 value. */
export function roundf(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}
