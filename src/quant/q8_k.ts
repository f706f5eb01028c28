// Q8_K: the activation format the K-quant dot products use (never stored in files). Source:
// ggml/src/ggml-common.h (block_q8_K), ggml/src/ggml-quants.c (quantize_row_q8_K_ref).
//
// block_q8_K (292 bytes):  d: f32 | qs: i8[256] | bsums: i16[16] (sum of each group of 16 quants)
//   x ≈ d · qs;  d = max / −127 for the element of largest magnitude, qs = nearest_int(x · −127/max)

import { QK_K } from './types.js';
import { nearestInt } from './rounding.js';

export const Q8_K_BYTES = 292;

const fround = Math.fround;

/** Float32Array (length a multiple of 256) -> Q8_K bytes (292 per block, little-endian), as quantize_row_q8_K_ref. */
export function quantizeQ8_K(x: Float32Array): Uint8Array {
  if (x.length % QK_K !== 0) throw new Error(`Q8_K: ${x.length} values is not a multiple of the block size ${QK_K}`);
  const nb = x.length / QK_K;
  const out = new Uint8Array(nb * Q8_K_BYTES);
  const view = new DataView(out.buffer);
  for (let b = 0; b < nb; b++) {
    const o = b * Q8_K_BYTES;
    let max = 0;
    let amax = 0;
    for (let j = 0; j < QK_K; j++) {
      const ax = Math.abs(x[b * QK_K + j]!);
      if (ax > amax) {
        amax = ax;
        max = x[b * QK_K + j]!;
      }
    }
    if (!amax) continue; // all zero: d = 0, quants 0
    const iscale = fround(-127 / max);
    for (let j = 0; j < QK_K; j++) out[o + 4 + j] = Math.min(127, nearestInt(fround(iscale * x[b * QK_K + j]!))) & 0xff;
    for (let g = 0; g < QK_K / 16; g++) {
      let sum = 0;
      for (let i = 0; i < 16; i++) sum += (out[o + 4 + 16 * g + i]! << 24) >> 24;
      view.setInt16(o + 260 + 2 * g, sum, true);
    }
    view.setFloat32(o, fround(1 / iscale), true);
  }
  return out;
}

/** Q8_K bytes -> n float32 values: x = d · q. */
export function dequantizeQ8_K(bytes: Uint8Array, n: number): Float32Array {
  if (n % QK_K !== 0) throw new Error(`Q8_K: ${n} values is not a multiple of the block size ${QK_K}`);
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < n / QK_K; b++) {
    const o = b * Q8_K_BYTES;
    const d = view.getFloat32(o, true);
    for (let j = 0; j < QK_K; j++) out[b * QK_K + j] = d * ((bytes[o + 4 + j]! << 24) >> 24);
  }
  return out;
}
