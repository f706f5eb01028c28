// Q4_0 and Q4_1: blocks of 32 values as 4-bit quants. Source: ggml/src/ggml-common.h (block_q4_0,
// block_q4_1), ggml/src/ggml-quants.c (quantize_row_q4_0_ref, quantize_row_q4_1_ref, dequantize_row_q4_*).
//
// block_q4_0 (18 bytes):  d: f16 | qs: u8[16]             x[j] ≈ d · (q[j] − 8)
// block_q4_1 (20 bytes):  d: f16 | m: f16 | qs: u8[16]    x[j] ≈ d · q[j] + m
// Nibble order: qs[j] holds element j in its low nibble and element j + 16 in its high nibble.
//
// Q4_0: d = max / −8 where max is the element of largest magnitude (first one on ties), so that element
// maps to q = 0 exactly; q = min(15, trunc(x/d + 8.5)). Q4_1: d = (max − min)/15, m = min,
// q = min(15, trunc((x − min)/d + 0.5)). All arithmetic in float32, as the C code does.

import { readF16, writeF16 } from './f16.js';

export const QK4 = 32;
export const Q4_0_BYTES = 18;
export const Q4_1_BYTES = 20;

const fround = Math.fround;

function checkLength(what: string, n: number): void {
  if (n % QK4 !== 0) throw new Error(`${what}: ${n} values is not a multiple of the block size ${QK4}`);
}

/** Float32Array (length a multiple of 32) -> Q4_0 bytes (18 per block), as quantize_row_q4_0_ref. */
export function quantizeQ4_0(x: Float32Array): Uint8Array {
  checkLength('Q4_0', x.length);
  const nb = x.length / QK4;
  const out = new Uint8Array(nb * Q4_0_BYTES);
  for (let b = 0; b < nb; b++) {
    const base = b * QK4;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK4; j++) {
      const v = x[base + j]!;
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = fround(max / -8);
    const id = d ? fround(1 / d) : 0;
    const o = b * Q4_0_BYTES;
    writeF16(out, o, d);
    for (let j = 0; j < QK4 / 2; j++) {
      const q0 = Math.min(15, Math.trunc(fround(fround(x[base + j]! * id) + 8.5)));
      const q1 = Math.min(15, Math.trunc(fround(fround(x[base + QK4 / 2 + j]! * id) + 8.5)));
      out[o + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

/** Q4_0 bytes -> n float32 values (n a multiple of 32), as dequantize_row_q4_0. */
export function dequantizeQ4_0(bytes: Uint8Array, n: number): Float32Array {
  checkLength('Q4_0', n);
  const out = new Float32Array(n);
  for (let b = 0; b < n / QK4; b++) {
    const o = b * Q4_0_BYTES;
    const d = readF16(bytes, o);
    for (let j = 0; j < QK4 / 2; j++) {
      const q = bytes[o + 2 + j]!;
      out[b * QK4 + j] = d * ((q & 0xf) - 8);
      out[b * QK4 + QK4 / 2 + j] = d * ((q >> 4) - 8);
    }
  }
  return out;
}

/** Float32Array (length a multiple of 32) -> Q4_1 bytes (20 per block), as quantize_row_q4_1_ref. */
export function quantizeQ4_1(x: Float32Array): Uint8Array {
  checkLength('Q4_1', x.length);
  const nb = x.length / QK4;
  const out = new Uint8Array(nb * Q4_1_BYTES);
  for (let b = 0; b < nb; b++) {
    const base = b * QK4;
    let min = Infinity;
    let max = -Infinity;
    for (let j = 0; j < QK4; j++) {
      const v = x[base + j]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = fround(fround(max - min) / 15);
    const id = d ? fround(1 / d) : 0;
    const o = b * Q4_1_BYTES;
    writeF16(out, o, d);
    writeF16(out, o + 2, min);
    for (let j = 0; j < QK4 / 2; j++) {
      const q0 = Math.min(15, Math.trunc(fround(fround(fround(x[base + j]! - min) * id) + 0.5)));
      const q1 = Math.min(15, Math.trunc(fround(fround(fround(x[base + QK4 / 2 + j]! - min) * id) + 0.5)));
      out[o + 4 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

/** Q4_1 bytes -> n float32 values (n a multiple of 32): x = d·q + m in float32, as dequantize_row_q4_1. */
export function dequantizeQ4_1(bytes: Uint8Array, n: number): Float32Array {
  checkLength('Q4_1', n);
  const out = new Float32Array(n);
  for (let b = 0; b < n / QK4; b++) {
    const o = b * Q4_1_BYTES;
    const d = readF16(bytes, o);
    const m = readF16(bytes, o + 2);
    for (let j = 0; j < QK4 / 2; j++) {
      const q = bytes[o + 4 + j]!;
      out[b * QK4 + j] = fround(d * (q & 0xf)) + m;
      out[b * QK4 + QK4 / 2 + j] = fround(d * (q >> 4)) + m;
    }
  }
  return out;
}
