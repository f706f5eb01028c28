// llama.cpp's block quantization formats in plain TypeScript, bit for bit with ggml's reference
// quantizers (ggml/src/ggml-quants.c *_ref functions): one dispatch over the ggml type ids.

import { backend } from '../backend/backend.js';
import { GGMLType, ggmlByteSize, ggmlTypeName } from './types.js';
import { dequantizeF16, quantizeF16 } from './f16.js';
import { dequantizeQ4_0, dequantizeQ4_1, quantizeQ4_0, quantizeQ4_1 } from './q4_0.js';
import { dequantizeQ8_0, dequantizeQ8_1, quantizeQ8_0, quantizeQ8_1 } from './q8_0.js';
import { dequantizeQ4_K, quantizeQ4_K } from './q4_k.js';
import { dequantizeQ5_0, dequantizeQ5_1, quantizeQ5_0, quantizeQ5_1 } from './q5_0.js';
import { dequantizeQ5_K, quantizeQ5_K } from './q5_k.js';
import { dequantizeQ6_K, quantizeQ6_K } from './q6_k.js';
import { dequantizeQ8_K, quantizeQ8_K } from './q8_k.js';

export * from './types.js';
export { fp16ToFp32, fp32ToFp16 } from './f16.js';
export { vecDot, vecDotType, quantizeActivations, matVec } from './dot.js';

function quantizeF32(x: Float32Array): Uint8Array {
  return new Uint8Array(x.slice().buffer);
}

function dequantizeF32(bytes: Uint8Array, n: number): Float32Array {
  return new Float32Array(bytes.slice(0, 4 * n).buffer);
}

interface Codec {
  quantize: (x: Float32Array) => Uint8Array;
  dequantize: (bytes: Uint8Array, n: number) => Float32Array;
}

const CODECS: Partial<Record<number, Codec>> = {
  [GGMLType.F32]: { quantize: quantizeF32, dequantize: dequantizeF32 },
  [GGMLType.F16]: { quantize: quantizeF16, dequantize: dequantizeF16 },
  [GGMLType.Q4_0]: { quantize: quantizeQ4_0, dequantize: dequantizeQ4_0 },
  [GGMLType.Q4_1]: { quantize: quantizeQ4_1, dequantize: dequantizeQ4_1 },
  [GGMLType.Q5_0]: { quantize: quantizeQ5_0, dequantize: dequantizeQ5_0 },
  [GGMLType.Q5_1]: { quantize: quantizeQ5_1, dequantize: dequantizeQ5_1 },
  [GGMLType.Q8_0]: { quantize: quantizeQ8_0, dequantize: dequantizeQ8_0 },
  [GGMLType.Q8_1]: { quantize: quantizeQ8_1, dequantize: dequantizeQ8_1 },
  [GGMLType.Q4_K]: { quantize: quantizeQ4_K, dequantize: dequantizeQ4_K },
  [GGMLType.Q5_K]: { quantize: quantizeQ5_K, dequantize: dequantizeQ5_K },
  [GGMLType.Q6_K]: { quantize: quantizeQ6_K, dequantize: dequantizeQ6_K },
  [GGMLType.Q8_K]: { quantize: quantizeQ8_K, dequantize: dequantizeQ8_K },
};

/** ggml type ids that quantize()/dequantize() support. */
export const SUPPORTED_QUANT_TYPES: readonly number[] = Object.keys(CODECS).map(Number);

function codec(type: number, what: string): Codec {
  const c = CODECS[type];
  if (!c) {
    const names = SUPPORTED_QUANT_TYPES.map(ggmlTypeName).join(', ');
    throw new Error(`${what}: ggml type ${ggmlTypeName(type)} is not supported (supported: ${names})`);
  }
  return c;
}

/**
 * Quantize float32 values to ggml type `type` (F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q4_K, Q5_K,
 * Q6_K, Q8_K), bytes identical to ggml's reference quantizer. x.length must be a multiple of the type's block size (32 or 256).
 * Throws for an unsupported type or a partial block. The active backend's quantizeFloats, when it has one (wasm:
 * assembly/quantize.ts and quantize-k.ts, all but F32, F16, Q8_1 and Q8_K), computes the same bytes faster.
 */
export function quantize(type: number, x: Float32Array): Uint8Array {
  const c = codec(type, 'quantize');
  return backend().quantizeFloats?.(type, x) ?? c.quantize(x);
}

/** quantize() in plain TypeScript alone (the reference the backends' fast paths are tested against). */
export function quantizeReference(type: number, x: Float32Array): Uint8Array {
  return codec(type, 'quantize').quantize(x);
}

/**
 * Decode n values of ggml type `type` from bytes (at least ggmlByteSize(type, n) long), as ggml's
 * dequantize_row_* (float32 arithmetic, no fused multiply-add). Throws for an unsupported type, a partial
 * block or too few bytes. The active backend's dequantizeBytes (wasm: assembly/quantize.ts), when it has one, gives
 * the same bits faster.
 */
export function dequantize(type: number, bytes: Uint8Array, n: number): Float32Array {
  const c = codec(type, 'dequantize');
  const need = ggmlByteSizeSafe(type, n);
  if (bytes.length < need) throw new Error(`dequantize: ${n} ${ggmlTypeName(type)} values need ${need} bytes, got ${bytes.length}`);
  return backend().dequantizeBytes?.(type, bytes, n) ?? c.dequantize(bytes, n);
}

/** dequantize() in plain TypeScript alone (the reference the backends' fast paths are tested against). */
export function dequantizeReference(type: number, bytes: Uint8Array, n: number): Float32Array {
  const c = codec(type, 'dequantize');
  const need = ggmlByteSizeSafe(type, n);
  if (bytes.length < need) throw new Error(`dequantize: ${n} ${ggmlTypeName(type)} values need ${need} bytes, got ${bytes.length}`);
  return c.dequantize(bytes, n);
}

function ggmlByteSizeSafe(type: number, n: number): number {
  try {
    return ggmlByteSize(type, n);
  } catch (e) {
    throw new Error(`dequantize: ${(e as Error).message}`);
  }
}
