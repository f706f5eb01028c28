// Refusing weights that are not finite at load time (GGUF tensors, safetensors tensors), so that a NaN or an
// infinity is one line naming the file and the tensor instead of a failed softmax at sampling time. Float
// tensors are checked element by element; quantized tensors by their block scales only (d, and dmin or m
// where the block has one): the quants are small integers, so a block decodes to finite values exactly when
// its scales are finite (block layouts: ggml/src/ggml-common.h).
import { GGMLType, ggmlTypeInfo } from '../quant/types.js';
import { fp16ToFp32 } from '../quant/f16.js';

/** The index of the first NaN or ±Infinity in `data`, or -1 when every value is finite. */
export function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/**
 * Throws `${where} holds NaN at index i: refusing to load it` (or Infinity, -Infinity) at the first value
 * of `data` that is not finite; `where` names the file and tensor.
 */
export function checkFiniteValues(data: ArrayLike<number>, where: string): void {
  const i = firstNonFinite(data);
  if (i >= 0) throw new Error(`${where} holds ${data[i]} at index ${i}: refusing to load it`);
}

/** byte offsets of the f16 scales inside one block of each quantized type (ggml-common.h block_* structs) */
const F16_SCALES: Partial<Record<number, { at: number[]; names: string[] }>> = {
  [GGMLType.F16]: { at: [0], names: [] },
  [GGMLType.Q4_0]: { at: [0], names: ['d'] },
  [GGMLType.Q4_1]: { at: [0, 2], names: ['d', 'm'] },
  [GGMLType.Q5_0]: { at: [0], names: ['d'] },
  [GGMLType.Q5_1]: { at: [0, 2], names: ['d', 'm'] },
  [GGMLType.Q8_0]: { at: [0], names: ['d'] },
  [GGMLType.Q8_1]: { at: [0, 2], names: ['d', 's'] },
  [GGMLType.Q2_K]: { at: [80, 82], names: ['d', 'dmin'] }, // scales[16], qs[64], d, dmin
  [GGMLType.Q3_K]: { at: [108], names: ['d'] }, // hmask[32], qs[64], scales[12], d
  [GGMLType.Q4_K]: { at: [0, 2], names: ['d', 'dmin'] },
  [GGMLType.Q5_K]: { at: [0, 2], names: ['d', 'dmin'] },
  [GGMLType.Q6_K]: { at: [208], names: ['d'] }, // ql[128], qh[64], scales[16], d
};

/** an f16 with all exponent bits set (NaN or ±Inf), little-endian at bytes[off] */
const f16NonFinite = (b: Uint8Array, off: number): boolean => (b[off + 1]! & 0x7c) === 0x7c;
/** an f32 with all exponent bits set (NaN or ±Inf), little-endian at bytes[off] */
const f32NonFinite = (b: Uint8Array, off: number): boolean => (b[off + 3]! & 0x7f) === 0x7f && (b[off + 2]! & 0x80) !== 0;

function f32At(b: Uint8Array, off: number): number {
  return new DataView(b.buffer, b.byteOffset + off, 4).getFloat32(0, true);
}

/**
 * Throws one line naming `where` (file and tensor) when the raw ggml data of `type` holds a value that is not
 * finite: any F32 or F16 element (`holds NaN at index i`), or a block scale of a quantized type (`holds NaN
 * in the scale d of block b`; Q8_K's f32 d included). Reads the bytes in place, one scale per block for
 * quantized types; other types (BF16, IQ*, integers) are left to their decoders.
 */
export function checkFiniteGGML(type: number, bytes: Uint8Array, nElements: number, where: string): void {
  const refuse = (v: number, at: string): never => { throw new Error(`${where} holds ${v} ${at}: refusing to load it`); };
  if (type === GGMLType.F32) {
    for (let i = 0; i < nElements; i++) if (f32NonFinite(bytes, 4 * i)) refuse(f32At(bytes, 4 * i), `at index ${i}`);
    return;
  }
  if (type === GGMLType.Q8_K) {
    const { blockSize, typeSize: size } = ggmlTypeInfo(type)!, blocks = nElements / blockSize;
    for (let b = 0; b < blocks; b++) if (f32NonFinite(bytes, b * size)) refuse(f32At(bytes, b * size), `in the scale d of block ${b}`);
    return;
  }
  const scales = F16_SCALES[type];
  if (!scales) return;
  const { blockSize, typeSize } = ggmlTypeInfo(type)!;
  const blocks = nElements / blockSize;
  for (let b = 0; b < blocks; b++) {
    for (let s = 0; s < scales.at.length; s++) {
      const off = b * typeSize + scales.at[s]!;
      if (!f16NonFinite(bytes, off)) continue;
      const v = fp16ToFp32(bytes[off]! | (bytes[off + 1]! << 8));
      refuse(v, type === GGMLType.F16 ? `at index ${b}` : `in the scale ${scales.names[s]} of block ${b}`);
    }
  }
}
