// Fused dot products of one quantized weight row with float32 activations: Σ_k dequant(w)_k · x_k computed
// block by block straight from the packed bytes (each block's integer levels summed against x, then one
// multiply by the block's scale), with no dequantized copy of the row. This is QuantizedLinear's decoding
// path (one activation row at a time). Layouts as ggml-common.h's block_q8_0, block_q4_0, block_q4_1,
// block_q5_0, block_q5_1, block_q4_K, block_q5_K, block_q6_K (byte maps in q8_0.ts, q4_0.ts, q5_0.ts,
// q4_k.ts, q5_k.ts, q6_k.ts).
import { GGMLType, QK_K } from './types.js';
import { readF16 } from './f16.js';

function dotQ8_0(w: Int8Array, o: number, x: Float32Array, n: number): number {
  let sum = 0;
  const u = new Uint8Array(w.buffer, w.byteOffset, w.length);
  for (let k = 0; k < n; k += 32, o += 34) {
    let s = 0;
    for (let j = 0; j < 32; j++) s += w[o + 2 + j]! * x[k + j]!;
    sum += readF16(u, o) * s;
  }
  return sum;
}

function dotQ4_0(u: Uint8Array, o: number, x: Float32Array, n: number): number {
  let sum = 0;
  for (let k = 0; k < n; k += 32, o += 18) {
    let s = 0;
    for (let j = 0; j < 16; j++) {
      const q = u[o + 2 + j]!;
      s += ((q & 15) - 8) * x[k + j]! + ((q >> 4) - 8) * x[k + 16 + j]!;
    }
    sum += readF16(u, o) * s;
  }
  return sum;
}

function dotQ4_1(u: Uint8Array, o: number, x: Float32Array, n: number): number {
  let sum = 0;
  for (let k = 0; k < n; k += 32, o += 20) {
    let s = 0, sx = 0;
    for (let j = 0; j < 16; j++) {
      const q = u[o + 4 + j]!;
      const a = x[k + j]!, b = x[k + 16 + j]!;
      s += (q & 15) * a + (q >> 4) * b;
      sx += a + b;
    }
    sum += readF16(u, o) * s + readF16(u, o + 2) * sx;
  }
  return sum;
}

// Σ over the 32 elements of a Q5_0/Q5_1 block (qh at u[o], qs at u[o + 4]) of level·x, and Σ x.
function q5BlockSums(u: Uint8Array, o: number, x: Float32Array, k: number): [number, number] {
  const qh = u[o]! | (u[o + 1]! << 8) | (u[o + 2]! << 16) | (u[o + 3]! << 24);
  let s = 0, sx = 0;
  for (let j = 0; j < 16; j++) {
    const q = u[o + 4 + j]!;
    const a = x[k + j]!, b = x[k + 16 + j]!;
    s += ((q & 15) | (((qh >>> j) & 1) << 4)) * a + ((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) * b;
    sx += a + b;
  }
  return [s, sx];
}

function dotQ5_0(u: Uint8Array, o: number, x: Float32Array, n: number): number {
  let sum = 0;
  for (let k = 0; k < n; k += 32, o += 22) {
    const [s, sx] = q5BlockSums(u, o + 2, x, k);
    sum += readF16(u, o) * (s - 16 * sx);
  }
  return sum;
}

function dotQ5_1(u: Uint8Array, o: number, x: Float32Array, n: number): number {
  let sum = 0;
  for (let k = 0; k < n; k += 32, o += 24) {
    const [s, sx] = q5BlockSums(u, o + 4, x, k);
    sum += readF16(u, o) * s + readF16(u, o + 2) * sx;
  }
  return sum;
}

function dotQ4_K(u: Uint8Array, o: number, x: Float32Array, n: number): number {
  let sum = 0;
  for (let k = 0; k < n; k += QK_K, o += 144) {
    const d = readF16(u, o), dmin = readF16(u, o + 2);
    const sb = o + 4; // 12 bytes of 6-bit scales and mins (get_scale_min_k4), inlined: no array per sub-block
    for (let j = 0; j < 8; j++) {
      const sc = j < 4 ? u[sb + j]! & 63 : (u[sb + j + 4]! & 15) | ((u[sb + j - 4]! >> 6) << 4);
      const m = j < 4 ? u[sb + j + 4]! & 63 : (u[sb + j + 4]! >> 4) | ((u[sb + j]! >> 6) << 4);
      const q = o + 16 + 32 * (j >> 1), shift = (j & 1) * 4, xb = k + 32 * j;
      let s = 0, sx = 0;
      for (let l = 0; l < 32; l++) {
        const a = x[xb + l]!;
        s += ((u[q + l]! >> shift) & 15) * a;
        sx += a;
      }
      sum += d * sc * s - dmin * m * sx;
    }
  }
  return sum;
}

function dotQ5_K(u: Uint8Array, o: number, x: Float32Array, n: number): number {
  let sum = 0;
  for (let k = 0; k < n; k += QK_K, o += 176) {
    const d = readF16(u, o), dmin = readF16(u, o + 2);
    const sb = o + 4, qh = o + 16; // scales and mins packed as Q4_K's; bit plane of the 5th bits
    for (let j = 0; j < 8; j++) {
      const sc = j < 4 ? u[sb + j]! & 63 : (u[sb + j + 4]! & 15) | ((u[sb + j - 4]! >> 6) << 4);
      const m = j < 4 ? u[sb + j + 4]! & 63 : (u[sb + j + 4]! >> 4) | ((u[sb + j]! >> 6) << 4);
      const q = o + 48 + 32 * (j >> 1), shift = (j & 1) * 4, xb = k + 32 * j;
      let s = 0, sx = 0;
      for (let l = 0; l < 32; l++) {
        const a = x[xb + l]!;
        s += (((u[q + l]! >> shift) & 15) | (((u[qh + l]! >> j) & 1) << 4)) * a;
        sx += a;
      }
      sum += d * sc * s - dmin * m * sx;
    }
  }
  return sum;
}

function dotQ6_K(u: Uint8Array, o: number, x: Float32Array, n: number): number {
  let sum = 0;
  for (let k = 0; k < n; k += QK_K, o += 210) {
    const d = readF16(u, o + 208);
    for (let h = 0; h < 2; h++) {
      const ql = o + 64 * h, qh = o + 128 + 32 * h, xb = k + 128 * h;
      for (let lh = 0; lh < 2; lh++) {
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let l = 16 * lh; l < 16 * lh + 16; l++) {
          const a = u[ql + l]!, b = u[ql + l + 32]!, c = u[qh + l]!;
          s0 += (((a & 15) | ((c & 3) << 4)) - 32) * x[xb + l]!;
          s1 += (((b & 15) | (((c >> 2) & 3) << 4)) - 32) * x[xb + l + 32]!;
          s2 += (((a >> 4) | (((c >> 4) & 3) << 4)) - 32) * x[xb + l + 64]!;
          s3 += (((b >> 4) | (((c >> 6) & 3) << 4)) - 32) * x[xb + l + 96]!;
        }
        const sc = o + 192 + 8 * h + lh;
        const i8 = (v: number) => (v << 24) >> 24;
        sum += d * (i8(u[sc]!) * s0 + i8(u[sc + 2]!) * s1 + i8(u[sc + 4]!) * s2 + i8(u[sc + 6]!) * s3);
      }
    }
  }
  return sum;
}

/**
 * A row-dot function for weights of ggml type `type` (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K) over
 * the bytes `w`:
 * dot(o, x, n) = the row of n elements starting at byte o · x[0..n). Float64 accumulation; results equal
 * x · dequantize(row) to float rounding. Returns null for other types.
 */
export function rowDot(type: number, w: Uint8Array): ((o: number, x: Float32Array, n: number) => number) | null {
  switch (type) {
    case GGMLType.Q8_0: {
      const s = new Int8Array(w.buffer, w.byteOffset, w.length);
      return (o, x, n) => dotQ8_0(s, o, x, n);
    }
    case GGMLType.Q4_0: return (o, x, n) => dotQ4_0(w, o, x, n);
    case GGMLType.Q4_1: return (o, x, n) => dotQ4_1(w, o, x, n);
    case GGMLType.Q5_0: return (o, x, n) => dotQ5_0(w, o, x, n);
    case GGMLType.Q5_1: return (o, x, n) => dotQ5_1(w, o, x, n);
    case GGMLType.Q4_K: return (o, x, n) => dotQ4_K(w, o, x, n);
    case GGMLType.Q5_K: return (o, x, n) => dotQ5_K(w, o, x, n);
    case GGMLType.Q6_K: return (o, x, n) => dotQ6_K(w, o, x, n);
    default: return null;
  }
}
