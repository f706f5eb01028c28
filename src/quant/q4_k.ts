// Q4_K: super-blocks of 256 values = 8 sub-blocks of 32, each with a 6-bit scale and a 6-bit min, both
// scaled by the super-block's half-precision d and dmin. Source: ggml/src/ggml-common.h (block_q4_K),
// ggml/src/ggml-quants.c (quantize_row_q4_K_ref, make_qkx2_quants, get_scale_min_k4, dequantize_row_q4_K).
//
// block_q4_K (144 bytes):  d: f16 | dmin: f16 | scales: u8[12] | qs: u8[128]
//   sub-block j (elements 32j .. 32j+31): x ≈ (d·sc[j])·q − (dmin·m[j]),  q in 0..15
//   scales packing (sc, m 6 bits each):  bytes 0–3: sc[0..3] low 6 bits, top 2 bits = sc[4..7] >> 4
//                                         bytes 4–7: m[0..3]  low 6 bits, top 2 bits = m[4..7] >> 4
//                                         bytes 8–11: low nibble sc[4..7] & 15, high nibble m[4..7] & 15
//   qs: 4 chunks of 32 bytes; chunk c holds sub-block 2c in low nibbles and 2c+1 in high nibbles.
//
// Quantization: per sub-block, make_qkx2_quants searches 21 candidate scales (weights av|x| + |x|) for
// the least weighted squared error; the 8 scales and mins are then quantized to 6 bits against their
// maxima, and the values re-quantized with the rounded scales. All float32, as the C reference.

import { QK_K } from './types.js';
import { readF16, writeF16 } from './f16.js';
import { nearestInt } from './rounding.js';

export const Q4_K_BYTES = 144;

const fround = Math.fround;

// Levels clamp(nearest_int(iscale·(x − min)), 0, nmax) of the group x[off..off+n) into L[lOff..].
function levels(n: number, nmax: number, x: Float32Array, off: number, iscale: number, min: number, L: Uint8Array, lOff: number): void {
  for (let i = 0; i < n; i++) L[lOff + i] = Math.max(0, Math.min(nmax, nearestInt(fround(iscale * fround(x[off + i]! - min)))));
}

// Σ w·(scale·L + min − x)² in float32, summed in index order.
function weightedError(n: number, x: Float32Array, off: number, w: Float32Array, scale: number, min: number, L: Uint8Array, lOff: number): number {
  let err = 0;
  for (let i = 0; i < n; i++) {
    const diff = fround(fround(fround(scale * L[lOff + i]!) + min) - x[off + i]!);
    err = fround(err + fround(w[i]! * fround(diff * diff)));
  }
  return err;
}

// The weighted least-squares (scale, min) for fixed levels L, as make_qkx2_quants solves it; null when
// the system is singular (D <= 0). min is clamped to <= 0, refitting the scale alone in that case.
function fitScaleMin(n: number, x: Float32Array, off: number, w: Float32Array, L: Uint8Array, sumW: number, sumX: number): [number, number] | null {
  let sumL = 0, sumL2 = 0, sumXL = 0;
  for (let i = 0; i < n; i++) {
    const wl = fround(w[i]! * L[i]!);
    sumL = fround(sumL + wl);
    sumL2 = fround(sumL2 + fround(wl * L[i]!));
    sumXL = fround(sumXL + fround(wl * x[off + i]!));
  }
  const D = fround(fround(sumW * sumL2) - fround(sumL * sumL));
  if (!(D > 0)) return null;
  const scale = fround(fround(fround(sumW * sumXL) - fround(sumX * sumL)) / D);
  const min = fround(fround(fround(sumL2 * sumX) - fround(sumL * sumXL)) / D);
  return min > 0 ? [fround(sumXL / sumL2), 0] : [scale, min];
}

/**
 * make_qkx2_quants from ggml-quants.c for one group of n values at x[off..off+n) with weights w: writes
 * levels 0..nmax into L[lOff..], returns [scale, theMin] with x ≈ scale·L − theMin. Tries nstep + 1
 * candidate inverse scales (rmin + rdelta·is + nmax)/(max − min) and keeps the least weighted squared
 * error; as in ggml, a winning candidate's min is used by the candidates after it. Laux: scratch of n bytes.
 */
export function makeQkx2Quants(
  n: number, nmax: number, x: Float32Array, off: number, w: Float32Array,
  L: Uint8Array, lOff: number, Laux: Uint8Array, rmin: number, rdelta: number, nstep: number,
): [number, number] {
  let min = x[off]!;
  let max = x[off]!;
  let sumW = w[0]!;
  let sumX = fround(sumW * x[off]!);
  for (let i = 1; i < n; i++) {
    const v = x[off + i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sumW = fround(sumW + w[i]!);
    sumX = fround(sumX + fround(w[i]! * v));
  }
  if (min > 0) min = 0;
  if (max === min) {
    L.fill(0, lOff, lOff + n);
    return [0, -min];
  }
  const iscale = fround(nmax / fround(max - min));
  let scale = fround(1 / iscale);
  levels(n, nmax, x, off, iscale, min, L, lOff);
  let bestError = weightedError(n, x, off, w, scale, min, L, lOff);
  if (nstep < 1) return [scale, -min];
  for (let is = 0; is <= nstep; is++) {
    levels(n, nmax, x, off, fround(fround(fround(rmin + fround(rdelta * is)) + nmax) / fround(max - min)), min, Laux, 0);
    const fit = fitScaleMin(n, x, off, w, Laux, sumW, sumX);
    if (!fit) continue;
    const curError = weightedError(n, x, off, w, fit[0], fit[1], Laux, 0);
    if (curError < bestError) {
      L.set(Laux.subarray(0, n), lOff);
      bestError = curError;
      [scale, min] = fit;
    }
  }
  return [scale, -min];
}

/** Scale and min (6 bits each) of sub-block j from the 12 packed bytes at q[o..], as get_scale_min_k4. */
export function getScaleMinK4(j: number, q: Uint8Array, o: number): [number, number] {
  if (j < 4) return [q[o + j]! & 63, q[o + j + 4]! & 63];
  return [(q[o + j + 4]! & 0xf) | ((q[o + j - 4]! >> 6) << 4), (q[o + j + 4]! >> 4) | ((q[o + j]! >> 6) << 4)];
}

/**
 * First pass of the Q4_K/Q5_K quantizers over the super-block x[base..base+256): per 32-value sub-block,
 * make_qkx2_quants with weights av|x| + |x| (av = RMS of the sub-block), levels 0..nmax into L and the
 * sub-block's scale and min into scales[j], mins[j]. Q4_K: nmax 15, rmin −1, 21 candidates; Q5_K: 31, −0.5, 16.
 */
export function subBlockScalesK(x: Float32Array, base: number, L: Uint8Array, scales: Float32Array, mins: Float32Array, nmax: number, rmin: number, nstep: number): void {
  const weights = new Float32Array(32);
  const Laux = new Uint8Array(32);
  for (let j = 0; j < QK_K / 32; j++) {
    let sumX2 = 0;
    for (let l = 0; l < 32; l++) sumX2 = fround(sumX2 + fround(x[base + 32 * j + l]! * x[base + 32 * j + l]!));
    const avX = fround(Math.sqrt(fround(sumX2 / 32)));
    for (let l = 0; l < 32; l++) weights[l] = avX + Math.abs(x[base + 32 * j + l]!);
    const [scale, min] = makeQkx2Quants(32, nmax, x, base + 32 * j, weights, L, 32 * j, Laux, rmin, fround(0.1), nstep);
    scales[j] = scale;
    mins[j] = min;
  }
}

/**
 * The 8 sub-block scales and mins quantized to 6 bits against their maxima and packed into out[sc..sc+12) as
 * get_scale_min_k4 reads them (out zero there on entry). Returns [max scale, max min], whose /63 are d, dmin.
 */
export function packScaleMinK4(scales: Float32Array, mins: Float32Array, out: Uint8Array, sc: number): [number, number] {
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    if (scales[j]! > maxScale) maxScale = scales[j]!;
    if (mins[j]! > maxMin) maxMin = mins[j]!;
  }
  const invScale = maxScale > 0 ? fround(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? fround(63 / maxMin) : 0;
  for (let j = 0; j < 8; j++) {
    const ls = Math.min(63, nearestInt(fround(invScale * scales[j]!)) & 0xff);
    const lm = Math.min(63, nearestInt(fround(invMin * mins[j]!)) & 0xff);
    if (j < 4) {
      out[sc + j] = ls;
      out[sc + j + 4] = lm;
    } else {
      out[sc + j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
      out[sc + j - 4]! |= (ls >> 4) << 6;
      out[sc + j]! |= (lm >> 4) << 6;
    }
  }
  return [maxScale, maxMin];
}

/**
 * Second pass: d and dmin written as f16 at out[o], out[o+2], and every sub-block's values re-quantized to
 * levels 0..nmax with the rounded scales (sub-blocks whose scale rounds to 0 keep the first pass's levels).
 */
export function requantizeK(x: Float32Array, base: number, L: Uint8Array, out: Uint8Array, o: number, maxScale: number, maxMin: number, nmax: number): void {
  writeF16(out, o, fround(maxScale / 63));
  writeF16(out, o + 2, fround(maxMin / 63));
  const dAll = readF16(out, o);
  const dminAll = readF16(out, o + 2);
  for (let j = 0; j < 8; j++) {
    const [s, m] = getScaleMinK4(j, out, o + 4);
    const d = fround(dAll * s);
    if (!d) continue; // keeps make_qkx2_quants' levels, as the reference does
    const dm = fround(dminAll * m);
    for (let i = 0; i < 32; i++) {
      const l = nearestInt(fround(fround(x[base + 32 * j + i]! + dm) / d));
      L[32 * j + i] = Math.max(0, Math.min(nmax, l));
    }
  }
}

// Quantizes one super-block x[base..base+256) into out[o..o+144) (zero there on entry).
function quantizeSuperBlock(x: Float32Array, base: number, out: Uint8Array, o: number): void {
  const L = new Uint8Array(QK_K);
  const scales = new Float32Array(8);
  const mins = new Float32Array(8);
  subBlockScalesK(x, base, L, scales, mins, 15, -1, 20);
  const [maxScale, maxMin] = packScaleMinK4(scales, mins, out, o + 4);
  requantizeK(x, base, L, out, o, maxScale, maxMin, 15);
  for (let c = 0; c < 4; c++) {
    for (let l = 0; l < 32; l++) out[o + 16 + 32 * c + l] = L[64 * c + l]! | (L[64 * c + l + 32]! << 4);
  }
}

/** Float32Array (length a multiple of 256) -> Q4_K bytes (144 per super-block), as quantize_row_q4_K_ref. */
export function quantizeQ4_K(x: Float32Array): Uint8Array {
  if (x.length % QK_K !== 0) throw new Error(`Q4_K: ${x.length} values is not a multiple of the block size ${QK_K}`);
  const nb = x.length / QK_K;
  const out = new Uint8Array(nb * Q4_K_BYTES);
  for (let b = 0; b < nb; b++) quantizeSuperBlock(x, b * QK_K, out, b * Q4_K_BYTES);
  return out;
}

/** Q4_K bytes -> n float32 values (n a multiple of 256), as dequantize_row_q4_K (no fused multiply-add). */
export function dequantizeQ4_K(bytes: Uint8Array, n: number): Float32Array {
  if (n % QK_K !== 0) throw new Error(`Q4_K: ${n} values is not a multiple of the block size ${QK_K}`);
  const out = new Float32Array(n);
  for (let b = 0; b < n / QK_K; b++) {
    const o = b * Q4_K_BYTES;
    const d = readF16(bytes, o);
    const dmin = readF16(bytes, o + 2);
    for (let j = 0; j < 8; j++) {
      const [s, m] = getScaleMinK4(j, bytes, o + 4);
      const d1 = fround(d * s);
      const m1 = fround(dmin * m);
      const q = o + 16 + 32 * (j >> 1);
      const shift = (j & 1) * 4;
      for (let l = 0; l < 32; l++) out[b * QK_K + 32 * j + l] = fround(d1 * ((bytes[q + l]! >> shift) & 0xf)) - m1;
    }
  }
  return out;
}
