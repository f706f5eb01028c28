// A linear layer whose weight stays in its GGUF blocks (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K):
// y = x·Wᵀ (+ b) for x (..., in) and W [out, in] as `rows` of quantized blocks. Two ways to compute it:
//   'reference' — llama.cpp's CPU mul_mat: each row of x is quantized to the weight type's vec_dot_type
//                 (Q8_0, Q8_1 or Q8_K, ggml's reference quantizers) and every output is one integer block
//                 dot product (src/quant/dot.ts vecDot). Matches llama.cpp's arithmetic up to summation order.
//   'tiled'     — the fast path (default). Up to 4 rows of x (decoding): llama.cpp's arithmetic as in
//                 'reference', bit for bit, computed by the backend's quantized matrix × vector kernel where
//                 it has one (the wasm backend: assembly/qmatvec.ts, integer SIMD dots, output rows split
//                 across its threads, the weights copied once into its memory), else by the reference.
//                 More rows (prefill, evaluation): a tile of weight rows is dequantized into a small float
//                 buffer (≈ 256 KiB, never the whole matrix) and multiplied by the active backend's matmul,
//                 amortised over the rows of x; activations stay float32 there, so those results differ from
//                 'reference' by the activation rounding.
// Inference only: the output carries no gradient. Source: ggml/src/ggml-cpu/ggml-cpu.c (ggml_compute_forward_mul_mat).
import { Module } from '../nn/module.js';
import { Tensor } from '../tensor/tensor.js';
import { backend, type Backend } from '../backend/backend.js';
import { allocUninit } from '../backend/storage.js';
import { dequantize } from './index.js';
import { quantizeActivations, vecDot } from './dot.js';
import { GGMLType, ggmlByteSize, ggmlTypeInfo, ggmlTypeName } from './types.js';

export type QuantizedLinearMode = 'reference' | 'tiled';

/** weight types this layer computes with */
export const QUANTIZED_LINEAR_TYPES: readonly number[] = [
  GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K,
];

/** floats per dequantized tile (256 KiB) */
const TILE_FLOATS = 65536;

export class QuantizedLinear extends Module {
  /** bytes per weight row */
  readonly rowBytes: number;
  mode: QuantizedLinearMode;
  private readonly tileRows: number;
  private tile: Float32Array | null = null;
  /** the weights where `backend`'s kernels read them (null: that backend has no kernel for this type) */
  private fast: { backend: Backend; w: Uint8Array | null; rowGroup: number } | null = null;

  /**
   * type: ggml type of the weight; data: outFeatures rows of inFeatures elements each, as stored in GGUF;
   * bias: outFeatures floats or null. Throws for an unsupported type, a row length that is not a whole
   * number of blocks, or data / bias of the wrong length.
   */
  constructor(
    readonly type: number, readonly data: Uint8Array, readonly outFeatures: number, readonly inFeatures: number,
    readonly bias: Float32Array | null = null, mode: QuantizedLinearMode = 'tiled',
  ) {
    super();
    if (!QUANTIZED_LINEAR_TYPES.includes(type)) throw new Error(`QuantizedLinear: ggml type ${ggmlTypeName(type)} is not supported (${QUANTIZED_LINEAR_TYPES.map(ggmlTypeName).join(', ')})`);
    this.rowBytes = ggmlByteSize(type, inFeatures);
    if (data.length !== this.rowBytes * outFeatures) throw new Error(`QuantizedLinear: ${outFeatures}×${inFeatures} ${ggmlTypeName(type)} needs ${this.rowBytes * outFeatures} bytes, got ${data.length}`);
    if (bias && bias.length !== outFeatures) throw new Error(`QuantizedLinear: bias has ${bias.length} values for ${outFeatures} outputs`);
    this.mode = mode;
    this.tileRows = Math.max(1, Math.min(outFeatures, Math.floor(TILE_FLOATS / inFeatures)));
  }

  /** x (..., in) → (..., out), no gradient */
  forward(x: Tensor): Tensor {
    const In = this.inFeatures, Out = this.outFeatures;
    if (x.shape[x.ndim - 1] !== In) throw new Error(`QuantizedLinear: input [${x.shape}] does not fit a weight of [${Out}, ${In}]`);
    const rows = x.size / In;
    const out = allocUninit(rows * Out);
    if (this.mode !== 'reference' && rows <= 4 && this.forwardKernel(x.data, rows, out)) {
      return new Tensor(out, [...x.shape.slice(0, -1), Out]); // the kernel added the bias
    }
    if (this.mode === 'reference' || rows <= 4) this.forwardReference(x.data, rows, out);
    else this.forwardTiled(x.data, rows, out);
    if (this.bias) for (let r = 0; r < rows; r++) for (let o = 0; o < Out; o++) out[r * Out + o]! += this.bias[o]!;
    return new Tensor(out, [...x.shape.slice(0, -1), Out]);
  }

  private forwardReference(x: Float32Array, rows: number, out: Float32Array): void {
    const In = this.inFeatures, Out = this.outFeatures;
    for (let r = 0; r < rows; r++) {
      const q = quantizeActivations(this.type, x.subarray(r * In, (r + 1) * In));
      for (let o = 0; o < Out; o++) out[r * Out + o] = vecDot(this.type, In, this.data, o * this.rowBytes, q, 0);
    }
  }

  /** the reference's arithmetic on the backend's kernel; false when the backend has none for this type */
  private forwardKernel(x: Float32Array, rows: number, out: Float32Array): boolean {
    const be = backend();
    if (!be.quantMatVec || !be.residentBytes) return false;
    if (this.fast?.backend !== be) {
      const r = be.residentQuantWeights?.(this.type, this.data, this.outFeatures, this.rowBytes) ?? { w: be.residentBytes(this.data), rowGroup: 1 };
      this.fast = { backend: be, ...r };
    }
    const w = this.fast.w;
    if (!w) return false;
    const ok = be.quantMatVec({
      type: this.type, w, rowGroup: this.fast.rowGroup, rows: this.outFeatures, rowBytes: this.rowBytes,
      blocks: this.rowBytes / ggmlTypeInfo(this.type)!.typeSize, x, nx: rows, y: out, bias: this.bias,
    });
    if (!ok) this.fast.w = null; // no kernel for this type here: stop keeping a copy
    return ok;
  }

  private forwardTiled(x: Float32Array, rows: number, out: Float32Array): void {
    const In = this.inFeatures, Out = this.outFeatures;
    for (let o0 = 0; o0 < Out; o0 += this.tileRows) {
      const n = Math.min(this.tileRows, Out - o0);
      const w = dequantize(this.type, this.data.subarray(o0 * this.rowBytes, (o0 + n) * this.rowBytes), n * In); // (n, In)
      const c = this.tile && this.tile.length >= rows * n ? this.tile : (this.tile = new Float32Array(rows * this.tileRows));
      backend().matmul(x, w, c, { batch: 1, M: rows, N: n, K: In, transA: false, transB: true, accumulate: false, strideA: 0, strideB: 0, strideC: 0 });
      for (let r = 0; r < rows; r++) out.set(c.subarray(r * n, (r + 1) * n), r * Out + o0);
    }
  }

  /** the weight as float32 [out, in] (a new array) */
  dequantizeWeight(): Float32Array {
    return dequantize(this.type, this.data, this.outFeatures * this.inFeatures);
  }

  /** quantized weight bytes */
  get nBytes(): number {
    return this.data.length;
  }

  /** the weight's out·in values and the bias, which numParameters counts though they are not tensors */
  protected override packedValues(): number {
    return this.outFeatures * this.inFeatures + (this.bias?.length ?? 0);
  }
}
