// Q5_K: super-blocks of 256 values = 8 sub-blocks of 32, each with a 6-bit scale and a 6-bit min (packed as
// in Q4_K), levels of 5 bits: the low 4 in nibbles as Q4_K's, the 5th in a 32-byte bit plane. Source:
// ggml/src/ggml-common.h (block_q5_K), ggml/src/ggml-quants.c (quantize_row_q5_K_ref, make_qkx2_quants,
// get_scale_min_k4, dequantize_row_q5_K).
//
// block_q5_K (176 bytes):  d: f16 | dmin: f16 | scales: u8[12] | qh: u8[32] | qs: u8[128]
//   sub-block j (elements 32j .. 32j+31): x ≈ (d·sc[j])·q − (dmin·m[j]),  q in 0..31
//   scales: 6-bit sc and m packed as Q4_K's (see q4_k.ts)
//   element 32j + l: low 4 bits in qs[32·(j>>1) + l] (low nibble for even j, high for odd), bit 4 in
//   bit j of qh[l].
//
// Quantization: as Q4_K's with 31 levels: per sub-block make_qkx2_quants (weights av|x| + |x|, rmin −0.5,
// rdelta 0.1, 16 candidates), the 8 scales and mins quantized to 6 bits against their maxima, and the values
// re-quantized with the rounded scales. All float32, as the C reference.

import { QK_K } from './types.js';
import { readF16 } from './f16.js';
import { getScaleMinK4, packScaleMinK4, requantizeK, subBlockScalesK } from './q4_k.js';

export const Q5_K_BYTES = 176;

const fround = Math.fround;

// Quantizes one super-block x[base..base+256) into out[o..o+176) (zero there on entry).
function quantizeSuperBlock(x: Float32Array, base: number, out: Uint8Array, o: number): void {
  const L = new Uint8Array(QK_K);
  const scales = new Float32Array(8);
  const mins = new Float32Array(8);
  subBlockScalesK(x, base, L, scales, mins, 31, -0.5, 15);
  const [maxScale, maxMin] = packScaleMinK4(scales, mins, out, o + 4);
  requantizeK(x, base, L, out, o, maxScale, maxMin, 31);
  const qh = o + 16, qs = o + 48;
  for (let j = 0; j < 8; j++) {
    const shift = (j & 1) * 4;
    for (let l = 0; l < 32; l++) {
      const q = L[32 * j + l]!;
      out[qs + 32 * (j >> 1) + l]! |= (q & 0xf) << shift;
      out[qh + l]! |= (q >> 4) << j;
    }
  }
}

/** Float32Array (length a multiple of 256) -> Q5_K bytes (176 per super-block), as quantize_row_q5_K_ref. */
export function quantizeQ5_K(x: Float32Array): Uint8Array {
  if (x.length % QK_K !== 0) throw new Error(`Q5_K: ${x.length} values is not a multiple of the block size ${QK_K}`);
  const nb = x.length / QK_K;
  const out = new Uint8Array(nb * Q5_K_BYTES);
  for (let b = 0; b < nb; b++) quantizeSuperBlock(x, b * QK_K, out, b * Q5_K_BYTES);
  return out;
}

/** The 5-bit level (0..31) of element k (0..255) of the Q5_K super-block at bytes[o..]. */
export function q5kLevel(bytes: Uint8Array, o: number, k: number): number {
  const j = k >> 5, l = k & 31;
  return ((bytes[o + 48 + 32 * (j >> 1) + l]! >> ((j & 1) * 4)) & 0xf) | (((bytes[o + 16 + l]! >> j) & 1) << 4);
}

/** Q5_K bytes -> n float32 values (n a multiple of 256), as dequantize_row_q5_K (no fused multiply-add). */
export function dequantizeQ5_K(bytes: Uint8Array, n: number): Float32Array {
  if (n % QK_K !== 0) throw new Error(`Q5_K: ${n} values is not a multiple of the block size ${QK_K}`);
  const out = new Float32Array(n);
  for (let b = 0; b < n / QK_K; b++) {
    const o = b * Q5_K_BYTES;
    const d = readF16(bytes, o);
    const dmin = readF16(bytes, o + 2);
    for (let j = 0; j < 8; j++) {
      const [s, m] = getScaleMinK4(j, bytes, o + 4);
      const d1 = fround(d * s);
      const m1 = fround(dmin * m);
      for (let l = 0; l < 32; l++) out[b * QK_K + 32 * j + l] = fround(d1 * q5kLevel(bytes, o, 32 * j + l)) - m1;
    }
  }
  return out;
}
