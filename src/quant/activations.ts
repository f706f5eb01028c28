// Activation rows quantized for a backend's quantized matrix × vector kernel (QuantMatVecArgs in
// src/backend/backend.ts): each row quantized to the weight type's vec_dot_type by ggml's reference
// quantizer (dot.ts quantizeActivations, so the kernel sees exactly the reference's bytes), the rows laid end
// to end, and their half-precision block scales decoded once to float32 beside them (Q8_0: d per block;
// Q8_1: d and s per block; Q8_K keeps its float32 d inside the block, so none), and the quants once more
// widened to int16, so that the kernel multiplies them with every weight row without widening them again.
import { GGMLType, ggmlByteSize, ggmlTypeInfo } from './types.js';
import { quantizeActivations, vecDotType } from './dot.js';
import { readF16 } from './f16.js';

export interface QuantizedActivations {
  /** rows · rowBytes bytes in the vec_dot_type's block layout */
  bytes: Uint8Array;
  rowBytes: number;
  /** rows · scalesPerRow float32 block scales */
  scales: Float32Array;
  scalesPerRow: number;
  /** blocks per row */
  blocks: number;
  /** rows · n quants as int16 */
  wide: Int16Array;
}

/**
 * `rows` rows of n floats in x, quantized for weights of ggml type `type` (one with a vecDot). Throws as
 * quantizeActivations does (no dot product for the type, n not a whole number of blocks).
 */
export function quantizedActivationRows(type: number, x: Float32Array, rows: number, n: number): QuantizedActivations {
  const act = vecDotType(type);
  const blocks = n / ggmlTypeInfo(act)!.blockSize;
  const rowBytes = ggmlByteSize(act, n);
  const perBlock = act === GGMLType.Q8_0 ? 1 : act === GGMLType.Q8_1 ? 2 : 0;
  const bytes = new Uint8Array(rows * rowBytes);
  const scales = new Float32Array(rows * blocks * perBlock);
  const blockBytes = rowBytes / blocks, blockSize = n / blocks, qOff = blockBytes - blockSize - (act === GGMLType.Q8_K ? 32 : 0);
  const wide = new Int16Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const q = quantizeActivations(type, x.subarray(r * n, (r + 1) * n));
    bytes.set(q, r * rowBytes);
    for (let b = 0, s = r * blocks * perBlock; b < blocks && perBlock > 0; b++, s += perBlock) {
      scales[s] = readF16(q, b * blockBytes);
      if (perBlock === 2) scales[s + 1] = readF16(q, b * blockBytes + 2);
    }
    for (let b = 0; b < blocks; b++) {
      for (let k = 0, o = b * blockBytes + qOff, e = r * n + b * blockSize; k < blockSize; k++) wide[e + k] = (q[o + k]! << 24) >> 24;
    }
  }
  return { bytes, rowBytes, scales, scalesPerRow: blocks * perBlock, blocks, wide };
}
