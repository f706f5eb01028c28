// The reference dot products llama.cpp's CPU backend uses for quantized matrix × vector products: a row of
// weights in a quantized type · activations quantized to that type's "vec_dot_type" (Q4_0, Q5_0 and Q8_0
// pair with Q8_0, Q4_1 and Q5_1 with Q8_1, Q4_K, Q5_K and Q6_K with Q8_K). Integer products accumulate
// exactly; the float32 scalings and sums follow the C expressions' order. Source: ggml/src/ggml-cpu/quants.c
// (ggml_vec_dot_q4_0_q8_0_generic, _q4_1_q8_1_, _q5_0_q8_0_, _q5_1_q8_1_, _q8_0_q8_0_, _q4_K_q8_K_,
// _q5_K_q8_K_, _q6_K_q8_K_generic) and ggml-cpu.c's type traits (vec_dot_type). SIMD versions in ggml sum in other orders: results agree to
// float32 rounding, not bit for bit.

import { GGMLType, QK_K, ggmlTypeName } from './types.js';
import { readF16 } from './f16.js';
import { Q4_0_BYTES, Q4_1_BYTES } from './q4_0.js';
import { Q8_0_BYTES, Q8_1_BYTES, quantizeQ8_0, quantizeQ8_1 } from './q8_0.js';
import { Q4_K_BYTES, getScaleMinK4 } from './q4_k.js';
import { Q5_0_BYTES, Q5_1_BYTES, q5Level } from './q5_0.js';
import { Q5_K_BYTES, q5kLevel } from './q5_k.js';
import { Q6_K_BYTES, q6Level } from './q6_k.js';
import { Q8_K_BYTES, quantizeQ8_K } from './q8_k.js';

const fround = Math.fround;

/** Weight types with a quantized dot product here. */
export type DotType = typeof GGMLType.Q4_0 | typeof GGMLType.Q4_1 | typeof GGMLType.Q5_0 | typeof GGMLType.Q5_1 | typeof GGMLType.Q8_0
  | typeof GGMLType.Q4_K | typeof GGMLType.Q5_K | typeof GGMLType.Q6_K;

const ACT: Record<DotType, { act: number; quantize: (x: Float32Array) => Uint8Array; wBytes: number; block: number }> = {
  [GGMLType.Q4_0]: { act: GGMLType.Q8_0, quantize: quantizeQ8_0, wBytes: Q4_0_BYTES, block: 32 },
  [GGMLType.Q4_1]: { act: GGMLType.Q8_1, quantize: quantizeQ8_1, wBytes: Q4_1_BYTES, block: 32 },
  [GGMLType.Q5_0]: { act: GGMLType.Q8_0, quantize: quantizeQ8_0, wBytes: Q5_0_BYTES, block: 32 },
  [GGMLType.Q5_1]: { act: GGMLType.Q8_1, quantize: quantizeQ8_1, wBytes: Q5_1_BYTES, block: 32 },
  [GGMLType.Q8_0]: { act: GGMLType.Q8_0, quantize: quantizeQ8_0, wBytes: Q8_0_BYTES, block: 32 },
  [GGMLType.Q4_K]: { act: GGMLType.Q8_K, quantize: quantizeQ8_K, wBytes: Q4_K_BYTES, block: QK_K },
  [GGMLType.Q5_K]: { act: GGMLType.Q8_K, quantize: quantizeQ8_K, wBytes: Q5_K_BYTES, block: QK_K },
  [GGMLType.Q6_K]: { act: GGMLType.Q8_K, quantize: quantizeQ8_K, wBytes: Q6_K_BYTES, block: QK_K },
};

function dotInfo(type: number) {
  const info = (ACT as Record<number, (typeof ACT)[DotType] | undefined>)[type];
  if (!info) throw new Error(`vecDot: no quantized dot product for ggml type ${ggmlTypeName(type)}`);
  return info;
}

/** The activation type (GGML type id) that weights of `type` are multiplied with, e.g. Q4_K -> Q8_K. */
export function vecDotType(type: number): number {
  return dotInfo(type).act;
}

/** Activations x (length a multiple of the block size) quantized to the vec_dot_type of weight `type`. */
export function quantizeActivations(type: number, x: Float32Array): Uint8Array {
  return dotInfo(type).quantize(x);
}

function dotQ4_0(nb: number, x: Uint8Array, xo: number, y: Uint8Array, yo: number): number {
  let sumf = 0;
  for (let b = 0; b < nb; b++, xo += Q4_0_BYTES, yo += Q8_0_BYTES) {
    let sumi = 0;
    for (let j = 0; j < 16; j++) {
      const q = x[xo + 2 + j]!;
      sumi += ((q & 0xf) - 8) * ((y[yo + 2 + j]! << 24) >> 24) + ((q >> 4) - 8) * ((y[yo + 18 + j]! << 24) >> 24);
    }
    sumf = fround(sumf + fround(fround(sumi * readF16(x, xo)) * readF16(y, yo)));
  }
  return sumf;
}

function dotQ4_1(nb: number, x: Uint8Array, xo: number, y: Uint8Array, yo: number): number {
  let sumf = 0;
  for (let b = 0; b < nb; b++, xo += Q4_1_BYTES, yo += Q8_1_BYTES) {
    let sumi = 0;
    for (let j = 0; j < 16; j++) {
      const q = x[xo + 4 + j]!;
      sumi += (q & 0xf) * ((y[yo + 4 + j]! << 24) >> 24) + (q >> 4) * ((y[yo + 20 + j]! << 24) >> 24);
    }
    const dd = fround(readF16(x, xo) * readF16(y, yo));
    sumf = fround(sumf + fround(fround(dd * sumi) + fround(readF16(x, xo + 2) * readF16(y, yo + 2))));
  }
  return sumf;
}

function dotQ5_0(nb: number, x: Uint8Array, xo: number, y: Uint8Array, yo: number): number {
  let sumf = 0;
  for (let b = 0; b < nb; b++, xo += Q5_0_BYTES, yo += Q8_0_BYTES) {
    let sumi = 0;
    for (let j = 0; j < 32; j++) sumi += (q5Level(x, xo + 2, j) - 16) * ((y[yo + 2 + j]! << 24) >> 24);
    sumf = fround(sumf + fround(fround(readF16(x, xo) * readF16(y, yo)) * sumi));
  }
  return sumf;
}

function dotQ5_1(nb: number, x: Uint8Array, xo: number, y: Uint8Array, yo: number): number {
  let sumf = 0;
  for (let b = 0; b < nb; b++, xo += Q5_1_BYTES, yo += Q8_1_BYTES) {
    let sumi = 0;
    for (let j = 0; j < 32; j++) sumi += q5Level(x, xo + 4, j) * ((y[yo + 4 + j]! << 24) >> 24);
    const dd = fround(readF16(x, xo) * readF16(y, yo));
    sumf = fround(sumf + fround(fround(dd * sumi) + fround(readF16(x, xo + 2) * readF16(y, yo + 2))));
  }
  return sumf;
}

function dotQ8_0(nb: number, x: Uint8Array, xo: number, y: Uint8Array, yo: number): number {
  let sumf = 0;
  for (let b = 0; b < nb; b++, xo += Q8_0_BYTES, yo += Q8_0_BYTES) {
    let sumi = 0;
    for (let j = 0; j < 32; j++) sumi += ((x[xo + 2 + j]! << 24) >> 24) * ((y[yo + 2 + j]! << 24) >> 24);
    sumf = fround(sumf + fround(sumi * fround(readF16(x, xo) * readF16(y, yo))));
  }
  return sumf;
}

// The K-quant dots keep 8 float lanes (element k goes to lane k mod 8) and add them up at the end.
// Q4_K and Q5_K share the arithmetic; only the level of element k of a block (4 or 5 bits) and the block size differ.
function dotK45(nb: number, x: Uint8Array, xo: number, y: Uint8Array, yo: number, blockBytes: number, level: (x: Uint8Array, o: number, k: number) => number): number {
  const yv = new DataView(y.buffer, y.byteOffset, y.byteLength);
  const sums = new Float32Array(8);
  const aux = new Int32Array(8);
  let sumf = 0;
  for (let b = 0; b < nb; b++, xo += blockBytes, yo += Q8_K_BYTES) {
    aux.fill(0);
    let sumi = 0;
    for (let j = 0; j < 8; j++) {
      const [sc, m] = getScaleMinK4(j, x, xo + 4);
      sumi += (yv.getInt16(yo + 260 + 4 * j, true) + yv.getInt16(yo + 262 + 4 * j, true)) * m;
      for (let l = 0; l < 32; l++) aux[l & 7]! += sc * (level(x, xo, 32 * j + l) * ((y[yo + 4 + 32 * j + l]! << 24) >> 24));
    }
    const yd = yv.getFloat32(yo, true);
    const d = fround(readF16(x, xo) * yd);
    for (let l = 0; l < 8; l++) sums[l] = fround(sums[l]! + fround(d * fround(aux[l]!)));
    const dmin = fround(readF16(x, xo + 2) * yd);
    sumf = fround(sumf - fround(dmin * fround(sumi)));
  }
  for (let l = 0; l < 8; l++) sumf = fround(sumf + sums[l]!);
  return sumf;
}

/** the 4-bit level of element k (0…255) of the Q4_K block at o: sub-blocks 2i and 2i+1 share 32 bytes at 16 */
function q4kLevel(x: Uint8Array, o: number, k: number): number {
  const j = k >> 5;
  return (x[o + 16 + 32 * (j >> 1) + (k & 31)]! >> ((j & 1) * 4)) & 0xf;
}

function dotQ4_K(nb: number, x: Uint8Array, xo: number, y: Uint8Array, yo: number): number {
  return dotK45(nb, x, xo, y, yo, Q4_K_BYTES, q4kLevel);
}

function dotQ5_K(nb: number, x: Uint8Array, xo: number, y: Uint8Array, yo: number): number {
  return dotK45(nb, x, xo, y, yo, Q5_K_BYTES, q5kLevel);
}

function dotQ6_K(nb: number, x: Uint8Array, xo: number, y: Uint8Array, yo: number): number {
  const yv = new DataView(y.buffer, y.byteOffset, y.byteLength);
  const sums = new Float32Array(8);
  const aux = new Int32Array(8);
  for (let b = 0; b < nb; b++, xo += Q6_K_BYTES, yo += Q8_K_BYTES) {
    aux.fill(0);
    for (let k = 0; k < QK_K; k++) {
      const sc = (x[xo + 192 + (k >> 4)]! << 24) >> 24;
      aux[k & 7]! += sc * ((q6Level(x, xo, k) - 32) * ((y[yo + 4 + k]! << 24) >> 24));
    }
    const d = fround(readF16(x, xo + 208) * yv.getFloat32(yo, true));
    for (let l = 0; l < 8; l++) sums[l] = fround(sums[l]! + fround(d * fround(aux[l]!)));
  }
  let sumf = 0;
  for (let l = 0; l < 8; l++) sumf = fround(sumf + sums[l]!);
  return sumf;
}

const KERNELS: Record<DotType, typeof dotQ4_0> = {
  [GGMLType.Q4_0]: dotQ4_0,
  [GGMLType.Q4_1]: dotQ4_1,
  [GGMLType.Q5_0]: dotQ5_0,
  [GGMLType.Q5_1]: dotQ5_1,
  [GGMLType.Q8_0]: dotQ8_0,
  [GGMLType.Q4_K]: dotQ4_K,
  [GGMLType.Q5_K]: dotQ5_K,
  [GGMLType.Q6_K]: dotQ6_K,
};

/**
 * Dot product of n elements: a weight row of ggml type `type` starting at byte xOff of x, with activations
 * in its vec_dot_type (see quantizeActivations) starting at byte yOff of y. Returns a float32 value.
 * Throws for a type without a dot product, n not a multiple of the block size, or rows past the buffers.
 */
export function vecDot(type: number, n: number, x: Uint8Array, xOff: number, y: Uint8Array, yOff = 0): number {
  const info = dotInfo(type);
  if (n % info.block !== 0) throw new Error(`vecDot: ${n} elements is not a multiple of the ${ggmlTypeName(type)} block size ${info.block}`);
  const nb = n / info.block;
  const yBytes = info.act === GGMLType.Q8_K ? Q8_K_BYTES : info.act === GGMLType.Q8_1 ? Q8_1_BYTES : Q8_0_BYTES;
  if (xOff + nb * info.wBytes > x.length) throw new Error(`vecDot: weight row [${xOff}, ${xOff + nb * info.wBytes}) is past the end of its ${x.length} bytes`);
  if (yOff + nb * yBytes > y.length) throw new Error(`vecDot: activation row [${yOff}, ${yOff + nb * yBytes}) is past the end of its ${y.length} bytes`);
  return KERNELS[type as DotType](nb, x, xOff, y, yOff);
}

/**
 * Quantized matrix × vector as llama.cpp's CPU mul_mat: weights w of ggml type `type`, shape [rows, n]
 * (row-major, each row n/blockSize blocks), times x (float32, length n): quantizes x once to the
 * vec_dot_type, then one vecDot per row. Returns Float32Array(rows).
 */
export function matVec(type: number, w: Uint8Array, rows: number, n: number, x: Float32Array): Float32Array {
  const info = dotInfo(type);
  if (x.length !== n) throw new Error(`matVec: x has ${x.length} elements, expected ${n}`);
  const q = info.quantize(x);
  const rowBytes = (n / info.block) * info.wBytes;
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) out[r] = vecDot(type, n, w, r * rowBytes, q, 0);
  return out;
}
