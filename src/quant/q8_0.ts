// Q8_0 and Q8_1: blocks of 32 values as int8 quants with one half-precision scale.
// Source: ggml/src/ggml-common.h (block_q8_0, block_q8_1), ggml/src/ggml-quants.c
// (quantize_row_q8_0_ref, quantize_row_q8_1_ref, dequantize_row_q8_0).
//
// block_q8_0 (34 bytes):  d: f16 | qs: int8[32]            x[j] ≈ d · qs[j]
// block_q8_1 (36 bytes):  d: f16 | s: f16 | qs: int8[32]   s = d · Σ qs (used by the Q4_1 dot product)
//
// d = amax / 127 with amax = max |x|; qs = roundf(x / d) (half away from zero); float32 throughout.

import { readF16, writeF16 } from './f16.js';
import { roundf } from './rounding.js';

export const QK8_0 = 32;
export const Q8_0_BYTES = 34;
export const Q8_1_BYTES = 36;

const fround = Math.fround;

function checkLength(what: string, n: number, qk: number): void {
  if (n % qk !== 0) throw new Error(`${what}: ${n} values is not a multiple of the block size ${qk}`);
}

// Quantizes block b of x into out at byte offset o + qsOff, returning (d, Σ qs).
function quantizeBlock8(x: Float32Array, b: number, out: Uint8Array, o: number): { d: number; sum: number } {
  let amax = 0;
  for (let j = 0; j < QK8_0; j++) amax = Math.max(amax, Math.abs(x[b * QK8_0 + j]!));
  const d = fround(amax / 127);
  const id = d ? fround(1 / d) : 0;
  let sum = 0;
  for (let j = 0; j < QK8_0; j++) {
    const q = roundf(fround(x[b * QK8_0 + j]! * id));
    out[o + j] = q & 0xff;
    sum += q;
  }
  return { d, sum };
}

/** Float32Array (length a multiple of 32) -> Q8_0 bytes (34 per block), as quantize_row_q8_0_ref. */
export function quantizeQ8_0(x: Float32Array): Uint8Array {
  checkLength('Q8_0', x.length, QK8_0);
  const nb = x.length / QK8_0;
  const out = new Uint8Array(nb * Q8_0_BYTES);
  for (let b = 0; b < nb; b++) {
    const { d } = quantizeBlock8(x, b, out, b * Q8_0_BYTES + 2);
    writeF16(out, b * Q8_0_BYTES, d);
  }
  return out;
}

/** Q8_0 bytes -> n float32 values (n a multiple of 32): x = d · q, as dequantize_row_q8_0. */
export function dequantizeQ8_0(bytes: Uint8Array, n: number): Float32Array {
  checkLength('Q8_0', n, QK8_0);
  const out = new Float32Array(n);
  for (let b = 0; b < n / QK8_0; b++) {
    const o = b * Q8_0_BYTES;
    const d = readF16(bytes, o);
    for (let j = 0; j < QK8_0; j++) out[b * QK8_0 + j] = d * ((bytes[o + 2 + j]! << 24) >> 24);
  }
  return out;
}

/** Float32Array (length a multiple of 32) -> Q8_1 bytes (36 per block), as quantize_row_q8_1_ref. */
export function quantizeQ8_1(x: Float32Array): Uint8Array {
  checkLength('Q8_1', x.length, QK8_0);
  const nb = x.length / QK8_0;
  const out = new Uint8Array(nb * Q8_1_BYTES);
  for (let b = 0; b < nb; b++) {
    const { d, sum } = quantizeBlock8(x, b, out, b * Q8_1_BYTES + 4);
    writeF16(out, b * Q8_1_BYTES, d);
    writeF16(out, b * Q8_1_BYTES + 2, fround(sum * d));
  }
  return out;
}

/** Q8_1 bytes -> n float32 values: x = d · q (s is ignored). */
export function dequantizeQ8_1(bytes: Uint8Array, n: number): Float32Array {
  checkLength('Q8_1', n, QK8_0);
  const out = new Float32Array(n);
  for (let b = 0; b < n / QK8_0; b++) {
    const o = b * Q8_1_BYTES;
    const d = readF16(bytes, o);
    for (let j = 0; j < QK8_0; j++) out[b * QK8_0 + j] = d * ((bytes[o + 4 + j]! << 24) >> 24);
  }
  return out;
}
