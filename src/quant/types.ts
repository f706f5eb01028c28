// ggml's tensor element types: the numeric ids stored in GGUF files, and how each packs elements into
// fixed-size blocks. Source: ggml/include/ggml.h (enum ggml_type) and the block structs of
// ggml/src/ggml-common.h (block_q4_0, block_q4_K, ...), checked against the gguf Python package's
// GGML_QUANT_SIZES (which still lists Q8_1 at 40 bytes; ggml's block_q8_1 is 36: two halves + 32 quants).
//
// A tensor of n elements (n a multiple of blockSize along each row) takes n / blockSize * typeSize bytes.

/** ggml type ids (GGML_TYPE_*), as written in a GGUF tensor info. Ids 4, 5, 31–33 and 36–38 were removed. */
export const GGMLType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  MXFP4: 39,
  NVFP4: 40,
  Q1_0: 41,
  Q2_0: 42,
} as const;

export type GGMLTypeName = keyof typeof GGMLType;
export type GGMLTypeId = (typeof GGMLType)[GGMLTypeName];

/** Super-block size of the K-quants (QK_K in ggml-common.h). */
export const QK_K = 256;

export interface GGMLTypeInfo {
  id: GGMLTypeId;
  name: GGMLTypeName;
  /** Elements per block (1 for plain element types). */
  blockSize: number;
  /** Bytes per block. */
  typeSize: number;
}

// [blockSize, typeSize] per type, from the block structs in ggml-common.h.
const SIZES: Record<GGMLTypeName, [number, number]> = {
  F32: [1, 4],
  F16: [1, 2],
  Q4_0: [32, 2 + 16],
  Q4_1: [32, 2 + 2 + 16],
  Q5_0: [32, 2 + 4 + 16],
  Q5_1: [32, 2 + 2 + 4 + 16],
  Q8_0: [32, 2 + 32],
  Q8_1: [32, 2 + 2 + 32],
  Q2_K: [QK_K, 2 + 2 + QK_K / 16 + QK_K / 4],
  Q3_K: [QK_K, 2 + QK_K / 4 + QK_K / 8 + 12],
  Q4_K: [QK_K, 2 + 2 + 12 + QK_K / 2],
  Q5_K: [QK_K, 2 + 2 + 12 + QK_K / 8 + QK_K / 2],
  Q6_K: [QK_K, QK_K / 2 + QK_K / 4 + QK_K / 16 + 2],
  Q8_K: [QK_K, 4 + QK_K + 2 * (QK_K / 16)],
  IQ2_XXS: [QK_K, 2 + QK_K / 4],
  IQ2_XS: [QK_K, 2 + QK_K / 4 + QK_K / 32],
  IQ3_XXS: [QK_K, 2 + QK_K / 4 + QK_K / 8],
  IQ1_S: [QK_K, 2 + QK_K / 8 + QK_K / 16],
  IQ4_NL: [32, 2 + 16],
  IQ3_S: [QK_K, 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4],
  IQ2_S: [QK_K, 2 + QK_K / 4 + QK_K / 16],
  IQ4_XS: [QK_K, 2 + 2 + QK_K / 2 + QK_K / 64],
  I8: [1, 1],
  I16: [1, 2],
  I32: [1, 4],
  I64: [1, 8],
  F64: [1, 8],
  IQ1_M: [QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32],
  BF16: [1, 2],
  TQ1_0: [QK_K, 2 + 4 * 13],
  TQ2_0: [QK_K, 2 + 64],
  MXFP4: [32, 1 + 16],
  NVFP4: [64, 4 + 32],
  Q1_0: [128, 2 + 16],
  Q2_0: [64, 2 + 16],
};

const BY_ID = new Map<number, GGMLTypeInfo>();
for (const name of Object.keys(GGMLType) as GGMLTypeName[]) {
  const [blockSize, typeSize] = SIZES[name];
  BY_ID.set(GGMLType[name], { id: GGMLType[name], name, blockSize, typeSize });
}

/** Layout of a ggml type id, or undefined for an id ggml does not define (or has removed). */
export function ggmlTypeInfo(id: number): GGMLTypeInfo | undefined {
  return BY_ID.get(id);
}

/** The type's name (e.g. 'Q4_K') or `unknown(id)`. */
export function ggmlTypeName(id: number): string {
  return BY_ID.get(id)?.name ?? `unknown(${id})`;
}

/** Id of a type name such as 'Q8_0' (case-insensitive); throws for an unknown name. */
export function ggmlTypeFromName(name: string): GGMLTypeId {
  const key = name.toUpperCase();
  if (!Object.prototype.hasOwnProperty.call(GGMLType, key)) {
    throw new Error(`unknown ggml type "${name}" (known: ${Object.keys(GGMLType).join(', ')})`);
  }
  return GGMLType[key as GGMLTypeName];
}

/**
 * Bytes taken by `n` elements of type `id`, or an Error naming the problem when n is not a whole number
 * of blocks or the type is unknown. Uses plain numbers: exact below 2^53.
 */
export function ggmlByteSize(id: number, n: number): number {
  const info = BY_ID.get(id);
  if (!info) throw new Error(`unknown ggml type id ${id}`);
  if (n % info.blockSize !== 0) {
    throw new Error(`${info.name}: ${n} elements is not a whole number of ${info.blockSize}-element blocks`);
  }
  return (n / info.blockSize) * info.typeSize;
}
