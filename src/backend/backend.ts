// The kernel interface. Models and training code never touch raw loops for hot work: they call the active
// backend, so that a WebAssembly SIMD backend, a native BLAS backend (koffi + OpenBLAS) or a WebGPU backend
// can be swapped in without touching them. Every backend must give the same numbers as `JsBackend`
// (src/backend/js.ts), the plain reference; test/kernels.test.ts holds them together.
//
// All arrays are row-major float32. Kernels write into caller-provided outputs and never allocate results.
import { JsBackend } from './js.js';
import type { RecurrentPass } from './recurrent-pass.js';

export interface MatmulArgs {
  /** number of independent products; each operand advances by its stride per batch item */
  batch: number;
  M: number;
  N: number;
  K: number;
  /** A is stored [K, M] instead of [M, K] */
  transA: boolean;
  /** B is stored [N, K] instead of [K, N] */
  transB: boolean;
  /** C += A·B instead of C = A·B */
  accumulate: boolean;
  /** element strides between batch items; 0 broadcasts one matrix over the batch */
  strideA: number;
  strideB: number;
  strideC: number;
}

/**
 * A quantized matrix × vector product (src/quant/quantized-linear.ts's decoding path): for weight rows
 * r < rows and activation rows i < nx, y[i·rows + r] = vecDot(weight row r, q(x row i)) (+ bias[r]), with
 * q = quantizeActivations and vecDot as src/quant/dot.ts (the reference, bit for bit): llama.cpp's arithmetic.
 */
export interface QuantMatVecArgs {
  /** ggml type id of the weights: Q4_0 2, Q4_1 3, Q5_0 6, Q5_1 7, Q8_0 8, Q4_K 12, Q5_K 13 or Q6_K 14 (others: false) */
  type: number;
  /** rows · rowBytes bytes, as returned by residentBytes or residentQuantWeights */
  w: Uint8Array;
  /** the rowGroup residentQuantWeights returned with w (default 1: rows as stored in GGUF) */
  rowGroup?: number;
  rows: number;
  rowBytes: number;
  /** blocks per row (32 values each, 256 for the K types) */
  blocks: number;
  /** nx activation rows of blocks · block size floats, end to end */
  x: Float32Array;
  nx: number;
  /** (nx, rows) output */
  y: Float32Array;
  bias: Float32Array | null;
}

/**
 * The shapes of a 2-D convolution, as src/tensor/conv.ts's convGeometry checks them: input (N, C, H, W), weight
 * (O, Cg, kH, kW) in G groups (C = G·Cg, O = G·Og), stride sH×sW, zero padding pH×pW before each side's
 * start, dilation dH×dW, output Ho×Wo.
 */
export interface ConvGeometry {
  N: number; C: number; H: number; W: number;
  O: number; G: number; Cg: number; Og: number;
  kH: number; kW: number; sH: number; sW: number; pH: number; pW: number; dH: number; dW: number;
  Ho: number; Wo: number;
}

export interface Backend {
  readonly name: string;
  /** threads the backend computes on (1 for single-threaded backends) */
  readonly threads: number;

  /** C[b] (+)= op(A[b]) · op(B[b]) for b in [0, batch) */
  matmul(a: Float32Array, b: Float32Array, c: Float32Array, args: MatmulArgs): void;

  /** y = softmax(x) over the last axis, x viewed as [rows, cols]. y may alias x. */
  softmax(x: Float32Array, y: Float32Array, rows: number, cols: number): void;
  /** dx (+)= y ⊙ (dy − Σ dy⊙y) row-wise; the softmax backward from its output y */
  softmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void;

  /**
   * Causal attention's masked, scaled softmax, in place over `att` viewed as [rows, Tk]. Row r is query
   * r % Tq of its (batch·head) item and sees keys lo ≤ j < (r % Tq) + (Tk − Tq) + 1, where
   * lo = keyStart ? keyStart[floor(r / rowsPerKeyStart)] : 0 (left padding). The visible entries become
   * softmax(att·scale) over the visible range, every other entry 0; a row with no visible key becomes zeros.
   */
  causalSoftmax(
    att: Float32Array, rows: number, Tq: number, Tk: number, scale: number,
    keyStart: Int32Array | null, rowsPerKeyStart: number,
  ): void;
  /**
   * Its backward, in place over `datt` ([rows, Tk]) from the softmax output `att`:
   * datt = att ⊙ (datt − Σ_j datt⊙att) · scale row-wise (masked entries have att = 0, so they become 0).
   */
  causalSoftmaxBackward(att: Float32Array, datt: Float32Array, rows: number, Tk: number, scale: number): void;

  /**
   * y = (x − mean)/sqrt(var + eps) · w + b over rows of length C; stores mean and rstd (1/std) per row.
   * w and b may be null (no affine / no bias).
   */
  layerNorm(
    x: Float32Array, w: Float32Array | null, b: Float32Array | null, y: Float32Array,
    mean: Float32Array, rstd: Float32Array, rows: number, C: number, eps: number,
  ): void;
  /** accumulates into dx, dw, db (any of dw/db may be null) */
  layerNormBackward(
    x: Float32Array, w: Float32Array | null, mean: Float32Array, rstd: Float32Array, dy: Float32Array,
    dx: Float32Array, dw: Float32Array | null, db: Float32Array | null, rows: number, C: number,
  ): void;

  /**
   * exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)), as nanoGPT's nn.GELU() and PyTorch's default compute it.
   * `erf` in src/backend/js.ts is the reference approximation (|error| < 1.2e-7).
   */
  gelu(x: Float32Array, y: Float32Array, n: number): void;
  /**
   * dx += gelu'(x) · dy, gelu'(x) = Φ(x) + x·φ(x). y = gelu(x), the forward's output, is given so that a fast
   * kernel may take Φ(x) = y/x from it instead of recomputing erf; the reference ignores it.
   */
  geluBackward(x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, n: number): void;

  /**
   * LLaMA's SwiGLU product y = silu(gate)·up element-wise (Shazeer 2020), silu(x) = x·σ(x); with `up` null,
   * y = silu(gate) alone. σ is computed stably for large |x| (σ(x) = e^x/(1 + e^x) for x < 0). y may alias gate.
   */
  swiglu(gate: Float32Array, up: Float32Array | null, y: Float32Array, n: number): void;
  /**
   * Its backward: dgate += dy·up·silu'(gate) and dup += dy·silu(gate), with silu'(x) = σ(x)·(1 + x·(1 − σ(x)));
   * `up` null means y = silu(gate) (dgate += dy·silu'(gate)). dgate and dup may each be null (no gradient
   * wanted). With `accumulate` false both are overwritten (=) instead, so fresh buffers need no zeroing.
   */
  swigluBackward(
    gate: Float32Array, up: Float32Array | null, dy: Float32Array,
    dgate: Float32Array | null, dup: Float32Array | null, n: number, accumulate: boolean,
  ): void;

  /**
   * RMSNorm (Zhang & Sennrich 2019) over rows of length C, as transformers' LlamaRMSNorm:
   * y = x·r·w with r = 1/√(mean(x²) + eps) stored per row in rstd. w may be null (no gain). y may alias x.
   */
  rmsNorm(
    x: Float32Array, w: Float32Array | null, y: Float32Array, rstd: Float32Array, rows: number, C: number, eps: number,
  ): void;
  /**
   * Its backward from rstd, accumulating: with x̂ = x·r and g = dy·w,
   * dx += r·(g − x̂·mean(g·x̂)) and dw += Σ_rows dy·x̂. dx and dw may each be null.
   */
  rmsNormBackward(
    x: Float32Array, w: Float32Array | null, rstd: Float32Array, dy: Float32Array,
    dx: Float32Array | null, dw: Float32Array | null, rows: number, C: number,
  ): void;

  /**
   * One AdamW step on a flat parameter (decoupled weight decay, PyTorch semantics):
   *   p −= lr·wd·p;  m = b1·m + (1−b1)·g;  v = b2·v + (1−b2)·g²;
   *   p −= lr · (m / (1 − b1^t)) / (sqrt(v / (1 − b2^t)) + eps)
   */
  adamw(
    p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number,
  ): void;

  /**
   * Fused causal self-attention of a whole sequence, straight out of the fused projection (no KV cache, no
   * padding): qkv (B, T, 3C) → y (B, T, C), C = H·hs, where head h of position t attends to positions ≤ t:
   * y = softmax(scale·q·kᵀ, causal)·v. att (B·H, T, T) receives the probabilities (zeros above the diagonal)
   * for the backward. The spec is src/backend/attention-ref.ts.
   */
  attention(
    qkv: Float32Array, y: Float32Array, att: Float32Array, B: number, T: number, H: number, hs: number, scale: number,
  ): void;
  /** Its backward from dy (B, T, C) and att: dq, dk, dv into dqkv (B, T, 3C), added when `accumulate`, else overwriting it. */
  attentionBackward(
    qkv: Float32Array, att: Float32Array, dy: Float32Array, dqkv: Float32Array,
    B: number, T: number, H: number, hs: number, scale: number, accumulate: boolean,
  ): void;

  /** y = a + b element-wise over n elements (residual connections); y may alias a or b */
  add(a: Float32Array, b: Float32Array, y: Float32Array, n: number): void;
  /** Σ x² over n elements, accumulated in at least float32 blocks summed in float64 (gradient norms) */
  sumSquares(x: Float32Array, n: number): number;
  /** x *= s over n elements (gradient clipping) */
  scale(x: Float32Array, s: number, n: number): void;

  /**
   * The timestep loop of one direction of one recurrent layer, forward or backward (src/backend/recurrent-pass.ts):
   * the reference runs forwardPass / backwardPass on one thread with this backend's kernels; a backend may
   * share every step between its threads (BlasBackend: gate kernels by batch rows, products by columns).
   */
  runRecurrent(pass: RecurrentPass, backward: boolean): void;
  /**
   * Recurrent gates of one timestep over B rows, with PyTorch's equations and gate order; the GEMMs around a
   * step are the caller's (src/tensor/rnn-layers.ts) and the reference is src/backend/rnn-gates-ref.ts.
   * Elman RNN: h = tanh(pre) (relu with `relu`) over n elements.
   */
  rnnAct(pre: Float32Array, h: Float32Array, n: number, relu: boolean): void;
  /** dpre = dh ⊙ act'(h) over n elements (overwritten), act' read from the output h */
  rnnActBackward(dh: Float32Array, h: Float32Array, dpre: Float32Array, n: number, relu: boolean): void;
  /**
   * LSTM (Hochreiter & Schmidhuber 1997): gates (B, 4H), rows [i, f, g, o] of pre-activations, become
   * σ(i), σ(f), tanh(g), σ(o) in place; c = f⊙cPrev + i⊙g, tc = tanh(c), h = o⊙tc (each (B, H)).
   */
  lstmGates(gates: Float32Array, cPrev: Float32Array, c: Float32Array, tc: Float32Array, h: Float32Array, B: number, H: number): void;
  /**
   * Its backward from the activations: dh (B, H) reaches h, dc (B, H) reaches c from later steps; writes the
   * pre-activation gradients dGates (B, 4H) (overwritten) and replaces dc by the gradient reaching cPrev.
   */
  lstmGatesBackward(
    dh: Float32Array, dc: Float32Array, gates: Float32Array, cPrev: Float32Array, tc: Float32Array, dGates: Float32Array,
    B: number, H: number,
  ): void;
  /**
   * GRU (Cho et al. 2014): xg (B, 3H) = x·W_ihᵀ + b_ih, hg (B, 3H) = h·W_hhᵀ + b_hh, rows [r, z, n];
   * acts (B, 3H) receives r, z, n = tanh(x_n + r⊙h_n), h (B, H) = (1 − z)⊙n + z⊙hPrev.
   */
  gruGates(xg: Float32Array, hg: Float32Array, hPrev: Float32Array, acts: Float32Array, h: Float32Array, B: number, H: number): void;
  /** Its backward from dh (B, H): dxg and dhg (B, 3H) overwritten (dhg_n = dxg_n⊙r), dhPrev (B, H) += dh⊙z. */
  gruGatesBackward(
    dh: Float32Array, acts: Float32Array, hg: Float32Array, hPrev: Float32Array,
    dxg: Float32Array, dhg: Float32Array, dhPrev: Float32Array, B: number, H: number,
  ): void;

  /**
   * Optional fast path of convolutions: unrolls images [n0, n0 + n) of x (N, C, H, W) into col (G, K, n·Ho·Wo),
   * K = Cg·kH·kW, exactly as src/tensor/im2col.ts's im2colChunk (the reference) does. false: left to it.
   */
  im2col?(x: Float32Array, col: Float32Array, g: ConvGeometry, n0: number, n: number): boolean;
  /** Optional: the adjoint, adding col (G, K, n·Ho·Wo) onto images [n0, n0 + n) of dx as col2imChunk does. */
  col2im?(col: Float32Array, dx: Float32Array, g: ConvGeometry, n0: number, n: number): boolean;

  /**
   * Optional fast path of quantized layers: a copy of `bytes` that the backend's kernels read in place
   * (weights, copied once), or null when it keeps none. Backends with it also have quantMatVec.
   */
  residentBytes?(bytes: Uint8Array): Uint8Array | null;
  /**
   * Optional: like residentBytes, for the rows · rowBytes bytes of a quantized weight of ggml type `type`, in
   * the layout this backend's quantMatVec reads fastest: `rowGroup` rows interleaved block by block (1: as
   * stored). Pass both on to quantMatVec. null when it keeps none.
   */
  residentQuantWeights?(type: number, bytes: Uint8Array, rows: number, rowBytes: number): { w: Uint8Array; rowGroup: number } | null;
  /** Optional: see QuantMatVecArgs; false when this backend does not compute `type` (the caller falls back). */
  quantMatVec?(args: QuantMatVecArgs): boolean;
  /**
   * Optional fast path of src/quant's dequantize: n float32 values decoded from ggml blocks of type `type`
   * (bytes holds at least the n values' blocks), bit for bit with the TypeScript reference; null when this
   * backend does not decode `type` (the caller falls back to the reference).
   */
  dequantizeBytes?(type: number, bytes: Uint8Array, n: number): Float32Array | null;
  /** Optional fast path of src/quant's quantize: x as ggml blocks of `type`, byte for byte the reference's; null when not provided. */
  quantizeFloats?(type: number, x: Float32Array): Uint8Array | null;
  /**
   * Optional fast path of src/embeddings/word2vec.ts's training loop (the reference): trains `job.syn0` and
   * `job.syn1` in place over `job.epochs` passes of `job.ids`. On one thread it draws the reference's random
   * numbers in the reference's order, so the vectors agree with it to float rounding; on more, each thread trains
   * on its own part of the text, all updating the same vectors without locks (Hogwild), as the original tool's
   * threads. Returns false, having changed nothing, when it cannot run (the caller then runs the reference).
   */
  word2vecTrain?(job: Word2VecKernelJob): boolean;
}

/** One word2vec training run for Backend.word2vecTrain (src/embeddings/word2vec.ts describes the method). */
export interface Word2VecKernelJob {
  /** 0 = skip-gram with negative sampling, 1 = CBOW */
  method: 0 | 1;
  /** input vectors W and output vectors C, [V, dim] each, trained in place */
  syn0: Float32Array;
  syn1: Float32Array;
  /** the unigram^0.75 noise table (word ids) */
  table: Int32Array;
  /** each word's probability of being kept by subsampling */
  keep: Float64Array;
  /** the text as word ids, 0 ending a sentence */
  ids: Int32Array;
  /** σ at 1000 points over [−6, 6] */
  sigmoid: Float32Array;
  dim: number;
  window: number;
  negative: number;
  /** starting learning rate; it decays linearly with the tokens read, as the reference's */
  alpha: number;
  epochs: number;
  /**
   * Thread t's generator state (xoshiro128**, 4 words): for thread 0 the reference's after initialisation, so
   * that one thread continues its stream; the others' own streams
   */
  rngState: (thread: number) => Uint32Array;
  /** threads to train on (at most the backend's; 1 = reproducible) */
  threads: number;
  /** tokens between two onProgress calls */
  progressEvery: number;
  /** tokens read so far (all threads, all epochs) and the epoch */
  onProgress?: (done: number, epoch: number) => void;
}

let active: Backend | null = null;

/** The backend every op uses: the JS reference until a faster one is installed (initBackend() in index.ts). */
export function backend(): Backend {
  if (active === null) active = new JsBackend();
  return active;
}

export function setBackend(b: Backend): void {
  active = b;
}

export function hasBackend(): boolean {
  return active !== null;
}
