// Q6_K: super-blocks of 256 values = 16 sub-blocks of 16, each with a signed 8-bit scale, all scaled by
// the super-block's half-precision d. Source: ggml/src/ggml-common.h (block_q6_K), ggml/src/ggml-quants.c
// (quantize_row_q6_K_ref, make_qx_quants, dequantize_row_q6_K).
//
// block_q6_K (210 bytes):  ql: u8[128] | qh: u8[64] | scales: i8[16] | d: f16
//   element k: x ≈ d · scales[k/16] · (q − 32),  q = 6 bits (low 4 in ql, high 2 in qh)
//   per half h (128 elements, ql[64h..], qh[32h..]) and l < 32:
//     ql[l]    = q(l) & 15      | (q(l+64) & 15) << 4
//     ql[l+32] = q(l+32) & 15   | (q(l+96) & 15) << 4
//     qh[l]    = q(l) >> 4 | (q(l+32) >> 4) << 2 | (q(l+64) >> 4) << 4 | (q(l+96) >> 4) << 6
//
// Quantization: per sub-block, make_qx_quants (weights x², 18 candidate scales around −32/max) picks a
// scale; the 16 scales are quantized to int8 against the largest one and the values re-quantized.

import { QK_K } from './types.js';
import { readF16, writeF16 } from './f16.js';
import { nearestInt } from './rounding.js';

export const Q6_K_BYTES = 210;

/** GROUP_MAX_EPS in ggml-quants.c: groups with max |x| below it quantize to zero. */
export const GROUP_MAX_EPS = Math.fround(1e-15);

const fround = Math.fround;

// Σ w·x·l and Σ w·l² over the group for the scale iscale (weights w = x², rmse_type 1, no importance).
function qxSums(n: number, nmax: number, x: Float32Array, off: number, iscale: number): [number, number] {
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const v = x[off + i]!;
    const l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(fround(iscale * v))));
    const w = fround(v * v);
    sumlx = fround(sumlx + fround(fround(w * v) * l));
    suml2 = fround(suml2 + fround(fround(w * l) * l));
  }
  return [sumlx, suml2];
}

function qxLevels(n: number, nmax: number, x: Float32Array, off: number, iscale: number, L: Uint8Array, lOff: number): void {
  for (let i = 0; i < n; i++) L[lOff + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, nearestInt(fround(iscale * x[off + i]!))));
}

/**
 * make_qx_quants from ggml-quants.c with rmse_type 1 and no importance weights, for n values at x[off..]:
 * writes levels 0..2·nmax−1 (offset by nmax) into L[lOff..], returns the scale (x ≈ scale·(L − nmax)).
 */
export function makeQxQuants(n: number, nmax: number, x: Float32Array, off: number, L: Uint8Array, lOff: number): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[off + i]!);
    if (ax > amax) {
      amax = ax;
      max = x[off + i]!;
    }
  }
  if (amax < GROUP_MAX_EPS) {
    L.fill(0, lOff, lOff + n);
    return 0;
  }
  let iscale = fround(-nmax / max);
  qxLevels(n, nmax, x, off, iscale, L, lOff);
  let [sumlx, suml2] = qxSums(n, nmax, x, off, iscale);
  let scale = suml2 ? fround(sumlx / suml2) : 0;
  let best = fround(scale * sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = fround(-fround(nmax + fround(fround(0.1) * is)) / max);
    [sumlx, suml2] = qxSums(n, nmax, x, off, iscale);
    if (suml2 > 0 && fround(sumlx * sumlx) > fround(best * suml2)) {
      qxLevels(n, nmax, x, off, iscale, L, lOff);
      scale = fround(sumlx / suml2);
      best = fround(scale * sumlx);
    }
  }
  return scale;
}

// Quantizes one super-block x[base..base+256) into out[o..o+210) (out is zero there on entry).
function quantizeSuperBlock(x: Float32Array, base: number, out: Uint8Array, o: number): void {
  const L = new Uint8Array(QK_K);
  const scales = new Float32Array(QK_K / 16);
  let maxScale = 0;
  let maxAbsScale = 0;
  for (let ib = 0; ib < QK_K / 16; ib++) {
    const scale = makeQxQuants(16, 32, x, base + 16 * ib, L, 16 * ib);
    scales[ib] = scale;
    if (Math.abs(scale) > maxAbsScale) {
      maxAbsScale = Math.abs(scale);
      maxScale = scale;
    }
  }
  if (maxAbsScale < GROUP_MAX_EPS) return; // all-zero block, d = 0
  const iscale = fround(-128 / maxScale);
  writeF16(out, o + 208, fround(1 / iscale));
  const dAll = readF16(out, o + 208);
  for (let ib = 0; ib < QK_K / 16; ib++) {
    out[o + 192 + ib] = Math.min(127, nearestInt(fround(iscale * scales[ib]!))) & 0xff;
  }
  for (let j = 0; j < QK_K / 16; j++) {
    const d = fround(dAll * ((out[o + 192 + j]! << 24) >> 24));
    if (!d) continue; // keeps make_qx_quants' levels, as the reference does
    for (let i = 0; i < 16; i++) {
      const l = nearestInt(fround(x[base + 16 * j + i]! / d));
      L[16 * j + i] = Math.max(-32, Math.min(31, l)) + 32;
    }
  }
  for (let h = 0; h < 2; h++) {
    const ql = o + 64 * h;
    const qh = o + 128 + 32 * h;
    const q = 128 * h;
    for (let l = 0; l < 32; l++) {
      out[ql + l] = (L[q + l]! & 0xf) | ((L[q + l + 64]! & 0xf) << 4);
      out[ql + l + 32] = (L[q + l + 32]! & 0xf) | ((L[q + l + 96]! & 0xf) << 4);
      out[qh + l] = (L[q + l]! >> 4) | ((L[q + l + 32]! >> 4) << 2) | ((L[q + l + 64]! >> 4) << 4) | ((L[q + l + 96]! >> 4) << 6);
    }
  }
}

/** Float32Array (length a multiple of 256) -> Q6_K bytes (210 per super-block), as quantize_row_q6_K_ref. */
export function quantizeQ6_K(x: Float32Array): Uint8Array {
  if (x.length % QK_K !== 0) throw new Error(`Q6_K: ${x.length} values is not a multiple of the block size ${QK_K}`);
  const nb = x.length / QK_K;
  const out = new Uint8Array(nb * Q6_K_BYTES);
  for (let b = 0; b < nb; b++) quantizeSuperBlock(x, b * QK_K, out, b * Q6_K_BYTES);
  return out;
}

/** The 6-bit level (0..63) of element k (0..255) of the Q6_K block at bytes[o..]. */
export function q6Level(bytes: Uint8Array, o: number, k: number): number {
  const h = k >> 7;
  const r = k & 127;
  const l = r & 31;
  const part = r >> 5; // 0..3: which of q(l), q(l+32), q(l+64), q(l+96)
  const lowByte = bytes[o + 64 * h + l + (part & 1) * 32]!;
  const low = part < 2 ? lowByte & 0xf : lowByte >> 4;
  return low | (((bytes[o + 128 + 32 * h + l]! >> (2 * part)) & 3) << 4);
}

/** Q6_K bytes -> n float32 values (n a multiple of 256): x = (d·scale)·(q − 32), as dequantize_row_q6_K. */
export function dequantizeQ6_K(bytes: Uint8Array, n: number): Float32Array {
  if (n % QK_K !== 0) throw new Error(`Q6_K: ${n} values is not a multiple of the block size ${QK_K}`);
  const out = new Float32Array(n);
  for (let b = 0; b < n / QK_K; b++) {
    const o = b * Q6_K_BYTES;
    const d = readF16(bytes, o + 208);
    for (let k = 0; k < QK_K; k++) {
      const sc = (bytes[o + 192 + (k >> 4)]! << 24) >> 24;
      out[b * QK_K + k] = fround(d * sc) * (q6Level(bytes, o, k) - 32);
    }
  }
  return out;
}
