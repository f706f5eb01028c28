// Q5_0 and Q5_1: blocks of 32 values as 5-bit quants (a nibble plus one high bit each). Source:
// ggml/src/ggml-common.h (block_q5_0, block_q5_1), ggml/src/ggml-quants.c (quantize_row_q5_0_ref,
// quantize_row_q5_1_ref, dequantize_row_q5_0, dequantize_row_q5_1).
//
// block_q5_0 (22 bytes):  d: f16 | qh: u8[4] | qs: u8[16]             x[j] ≈ d · (q[j] − 16)
// block_q5_1 (24 bytes):  d: f16 | m: f16 | qh: u8[4] | qs: u8[16]    x[j] ≈ d · q[j] + m
// Bit order: qs[j] holds the low 4 bits of element j (low nibble) and of element j + 16 (high nibble);
// qh, read as a little-endian uint32, holds the 5th bit of element j at bit j (j = 0..31).
//
// Q5_0: d = max / −16 where max is the element of largest magnitude (first one on ties), q =
// min(31, trunc(x/d + 16.5)). Q5_1: d = (max − min)/31, m = min, q = trunc((x − min)/d + 0.5) kept to its
// low 8 bits as the C uint8_t cast does (no clamp in ggml). All arithmetic in float32, as the C code does.

import { readF16, writeF16 } from './f16.js';

export const QK5 = 32;
export const Q5_0_BYTES = 22;
export const Q5_1_BYTES = 24;

const fround = Math.fround;

function checkLength(what: string, n: number): void {
  if (n % QK5 !== 0) throw new Error(`${what}: ${n} values is not a multiple of the block size ${QK5}`);
}

/** The 32-bit high-bit mask of block levels q[0..32) (bit j = bit 4 of q[j]), stored little-endian at out[o..o+4). */
function packBlock(q: Uint8Array, out: Uint8Array, o: number): void {
  let qh = 0;
  for (let j = 0; j < QK5; j++) qh |= ((q[j]! >> 4) & 1) << j;
  out[o] = qh & 0xff;
  out[o + 1] = (qh >>> 8) & 0xff;
  out[o + 2] = (qh >>> 16) & 0xff;
  out[o + 3] = (qh >>> 24) & 0xff;
  for (let j = 0; j < QK5 / 2; j++) out[o + 4 + j] = (q[j]! & 0xf) | ((q[j + QK5 / 2]! & 0xf) << 4);
}

/** The 5-bit level (0..31) of element j (0..31) of a block whose qh starts at bytes[o] (qs at o + 4). */
export function q5Level(bytes: Uint8Array, o: number, j: number): number {
  const low = j < 16 ? bytes[o + 4 + j]! & 0xf : bytes[o + 4 + j - 16]! >> 4;
  return low | (((bytes[o + (j >> 3)]! >> (j & 7)) & 1) << 4);
}

/** Float32Array (length a multiple of 32) -> Q5_0 bytes (22 per block), as quantize_row_q5_0_ref. */
export function quantizeQ5_0(x: Float32Array): Uint8Array {
  checkLength('Q5_0', x.length);
  const nb = x.length / QK5;
  const out = new Uint8Array(nb * Q5_0_BYTES);
  const q = new Uint8Array(QK5);
  for (let b = 0; b < nb; b++) {
    const base = b * QK5;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK5; j++) {
      const v = x[base + j]!;
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = fround(max / -16);
    const id = d ? fround(1 / d) : 0;
    writeF16(out, b * Q5_0_BYTES, d);
    for (let j = 0; j < QK5; j++) q[j] = Math.min(31, Math.trunc(fround(fround(x[base + j]! * id) + 16.5)));
    packBlock(q, out, b * Q5_0_BYTES + 2);
  }
  return out;
}

/** Q5_0 bytes -> n float32 values (n a multiple of 32): x = d·(q − 16), as dequantize_row_q5_0. */
export function dequantizeQ5_0(bytes: Uint8Array, n: number): Float32Array {
  checkLength('Q5_0', n);
  const out = new Float32Array(n);
  for (let b = 0; b < n / QK5; b++) {
    const o = b * Q5_0_BYTES;
    const d = readF16(bytes, o);
    for (let j = 0; j < QK5; j++) out[b * QK5 + j] = (q5Level(bytes, o + 2, j) - 16) * d;
  }
  return out;
}

/** Float32Array (length a multiple of 32) -> Q5_1 bytes (24 per block), as quantize_row_q5_1_ref. */
export function quantizeQ5_1(x: Float32Array): Uint8Array {
  checkLength('Q5_1', x.length);
  const nb = x.length / QK5;
  const out = new Uint8Array(nb * Q5_1_BYTES);
  const q = new Uint8Array(QK5);
  for (let b = 0; b < nb; b++) {
    const base = b * QK5;
    let min = Infinity;
    let max = -Infinity;
    for (let j = 0; j < QK5; j++) {
      const v = x[base + j]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = fround(fround(max - min) / 31);
    const id = d ? fround(1 / d) : 0;
    const o = b * Q5_1_BYTES;
    writeF16(out, o, d);
    writeF16(out, o + 2, min);
    for (let j = 0; j < QK5; j++) q[j] = Math.trunc(fround(fround(fround(x[base + j]! - min) * id) + 0.5)) & 0xff;
    packBlock(q, out, o + 4);
  }
  return out;
}

/** Q5_1 bytes -> n float32 values (n a multiple of 32): x = d·q + m in float32, as dequantize_row_q5_1. */
export function dequantizeQ5_1(bytes: Uint8Array, n: number): Float32Array {
  checkLength('Q5_1', n);
  const out = new Float32Array(n);
  for (let b = 0; b < n / QK5; b++) {
    const o = b * Q5_1_BYTES;
    const d = readF16(bytes, o);
    const m = readF16(bytes, o + 2);
    for (let j = 0; j < QK5; j++) out[b * QK5 + j] = fround(q5Level(bytes, o + 4, j) * d) + m;
  }
  return out;
}
