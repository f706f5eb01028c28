// WasmBackend: the JsBackend interface computed by the WebAssembly SIMD kernels in assembly/ (built by
// scripts/build-wasm.mjs into wasm/kernels.generated.ts). Browser-safe: no Node imports here; the worker-thread
// pool that makes it multi-threaded lives in threads.node.ts and plugs in through the `ThreadTeam` interface.
//
// On a shared memory the backend also provides tensor storage (wasm-heap.ts): arrays that live inside the
// memory are used in place. Any other operand (an ordinary Float32Array) is copied into a staging area inside
// the memory, and results are copied back out. Those copies are O(inputs) against O(M·N·K) compute for a
// matmul, but for the element-wise and row kernels they are most of the cost, hence the storage.
//
// Memory layout (byte offsets; the same in every thread because all threads share one memory):
//   [0, 16 KiB)        unused by JS (the module's own statics/stack would live here; it has none)
//   CTRL_BYTE          Int32Array(CTRL_INTS): thread-team control words (see threads.node.ts)
//   JOBS_BYTE          Float64Array: one JOB_SLOT-double job description per thread (op code + arguments)
//   CONST_BYTE         the kernels' constant table, written once by initConstants()
//   SCRATCH_BYTE       per-thread GEMM packing scratch, `threads × gemmScratchBytes()`
//   then               on a shared memory, the WasmHeap (tensor storage and the staging area); on a plain
//                      memory, the staging area alone, grown on demand
import type { MatmulArgs, QuantMatVecArgs, Word2VecKernelJob } from './backend.js';
import { JsBackend } from './js.js';
import type { ConvGeometry } from './backend.js';
import { WasmHeap } from './wasm-heap.js';
import { OP_WORD2VEC, WORD2VEC_RESULT, trainWord2VecKernel } from './word2vec-kernel.js';
import type { StorageProvider } from './storage.js';
import { KERNELS_PLAIN, KERNELS_SHARED } from './wasm/kernels.generated.js';

/** the exports of assembly/index.ts; pointers are byte offsets into the memory */
export interface Kernels {
  gemm(
    a: number, bp: number, c: number, b0: number, b1: number, strideA: number, packedStrideB: number, strideC: number,
    M: number, N: number, K: number, transA: number, accumulate: number,
    m0: number, m1: number, n0: number, n1: number, scratch: number,
  ): void;
  gemmPackB(
    a: number, bp: number, c: number, b0: number, b1: number, strideA: number, packedStrideB: number, strideC: number,
    M: number, N: number, K: number, transA: number, accumulate: number,
    m0: number, m1: number, n0: number, n1: number, scratch: number, b: number, strideB: number, transB: number,
  ): void;
  packBAll(b: number, b0: number, b1: number, strideB: number, N: number, K: number, transB: number, dst: number): void;
  packedBSize(N: number, K: number): number;
  gemmSmallM(
    a: number, b: number, c: number, b0: number, b1: number, strideA: number, strideB: number, strideC: number,
    M: number, N: number, K: number, transA: number, transB: number, accumulate: number,
  ): void;
  gemmSmallMCols(a: number, b: number, c: number, M: number, N: number, K: number, transA: number, transB: number, accumulate: number, n0: number, n1: number): void;
  gemmScratchBytes(): number;
  im2colUnits(
    x: number, col: number, n: number, C: number, H: number, W: number, Cg: number, kH: number, kW: number,
    sH: number, sW: number, pH: number, pW: number, dH: number, dW: number, Ho: number, Wo: number, u0: number, u1: number,
  ): void;
  col2imUnits(
    col: number, dx: number, n: number, C: number, H: number, W: number, Cg: number, kH: number, kW: number,
    sH: number, sW: number, pH: number, pW: number, dH: number, dW: number, Ho: number, Wo: number, u0: number, u1: number,
  ): void;
  quantizeActivations(type: number, x: number, n: number, nx: number, xq: number, xs: number, xw: number, xqStride: number, xsStride: number): void;
  qmatvec(
    type: number, w: number, rowBytes: number, xq: number, xs: number, xw: number, xqStride: number, xsStride: number,
    xwStride: number, nx: number, y: number, ldy: number, bias: number, nb: number, r0: number, r1: number, group: number,
  ): void;
  interleaveQ8_0Rows(src: number, dst: number, rows: number, nb: number): void;
  dequantizeBlocks(type: number, src: number, n: number, dst: number): number;
  quantizeBlocks(type: number, x: number, n: number, out: number, scratch: number): number;
  word2vecTrain(...args: number[]): number;
  word2vecScratchBytes(dim: number): number;
  initConstants(): void;
  constantsBytes(): number;
  softmax(x: number, y: number, cols: number, r0: number, r1: number): void;
  softmaxBackward(y: number, dy: number, dx: number, cols: number, r0: number, r1: number): void;
  causalSoftmax(att: number, Tq: number, Tk: number, scale: number, keyStart: number, rowsPerKeyStart: number, r0: number, r1: number): void;
  causalSoftmaxBackward(att: number, datt: number, Tk: number, scale: number, r0: number, r1: number): void;
  layerNorm(x: number, w: number, b: number, y: number, mean: number, rstd: number, C: number, eps: number, r0: number, r1: number): void;
  layerNormBackward(
    x: number, w: number, mean: number, rstd: number, dy: number, dx: number, dw: number, db: number,
    C: number, r0: number, r1: number,
  ): void;
  rmsNorm(x: number, w: number, y: number, rstd: number, C: number, eps: number, r0: number, r1: number): void;
  rmsNormBackward(x: number, w: number, rstd: number, dy: number, dx: number, dw: number, C: number, r0: number, r1: number): void;
  gelu(x: number, y: number, i0: number, i1: number): void;
  swiglu(g: number, u: number, y: number, i0: number, i1: number): void;
  swigluBackward(g: number, u: number, dy: number, dg: number, du: number, accumulate: number, i0: number, i1: number): void;
  geluBackward(x: number, y: number, dy: number, dx: number, i0: number, i1: number): void;
  adamw(
    p: number, g: number, m: number, v: number, i0: number, i1: number,
    beta1: number, a1: number, beta2: number, a2: number, decay: number, lrc: number, ibc2: number, eps: number,
  ): void;
  zeroBytes(p: number, bytes: number): void;
  attnForward(qkv: number, y: number, att: number, T: number, H: number, hs: number, scale: number, i0: number, i1: number, scratch: number): void;
  attnBackward(
    qkv: number, att: number, dy: number, dqkv: number, T: number, H: number, hs: number, scale: number,
    accumulate: number, i0: number, i1: number, scratch: number,
  ): void;
  attnScratchBytes(T: number, hs: number): number;
  addVec(a: number, b: number, y: number, i0: number, i1: number): void;
  sumSquares(x: number, i0: number, i1: number): number;
  scaleVec(x: number, s: number, i0: number, i1: number): void;
  rnnAct(pre: number, h: number, relu: number, i0: number, i1: number): void;
  rnnActBackward(dh: number, h: number, dpre: number, relu: number, i0: number, i1: number): void;
  lstmGates(gates: number, cPrev: number, c: number, tc: number, h: number, H: number, r0: number, r1: number): void;
  lstmGatesBackward(dh: number, dc: number, gates: number, cPrev: number, tc: number, dGates: number, H: number, r0: number, r1: number): void;
  gruGates(xg: number, hg: number, hPrev: number, acts: number, h: number, H: number, r0: number, r1: number): void;
  gruGatesBackward(
    dh: number, acts: number, hg: number, hPrev: number, dxg: number, dhg: number, dhPrev: number, H: number, r0: number, r1: number,
  ): void;
}

export const PAGE_BYTES = 65536;
export const CTRL_BYTE = 16384;
export const CTRL_INTS = 1024;
/** control words (Int32 indices at CTRL_BYTE): see threads.node.ts for the protocol */
export const CTRL_DONE = 0;
/** nonzero: the index of a worker whose last job threw */
export const CTRL_ERROR = 1;
/** the next chunk of a dynamically split job to hand out */
export const CTRL_NEXT = 2;
/** polls an idle worker makes before it sleeps (0: SPIN_ITERS); see WasmBackend.workerSpin */
export const CTRL_SPIN = 3;
/** a split recurrent pass's barrier count and abort flag (recurrent-pass.ts spinBarrier) */
export const CTRL_BARRIER = 4;
export const CTRL_ABORT = 5;
export const CTRL_SEQ = 16;
/**
 * Worker w's claim word (CTRL_CLAIM + w): CLAIM_POSTED when its slot holds a job nobody took yet, CLAIM_TAKEN
 * while the worker runs it; the caller withdraws a job still posted when its own share is done (threads.node.ts)
 */
export const CTRL_CLAIM = 32;
export const CLAIM_IDLE = 0;
export const CLAIM_POSTED = 1;
export const CLAIM_TAKEN = 2;
export const JOBS_BYTE = 20480;
/** the kernels' constant table (assembly/vmath.ts CONST_BYTE) */
export const CONST_BYTE = 24576;
export const JOB_SLOT = 32;
export const MAX_THREADS = 16;
export const SCRATCH_BYTE = 65536;
/** 4 GiB: the most a wasm32 memory can address; shared memories must declare a maximum up front */
export const MAX_PAGES = 65536;

// GEMM register tile, mirrored from assembly/gemm.ts: row splits are multiples of MR, column splits of NR
const MR = 4;
const NR = 8;
// positions of the range arguments in an OP_GEMM job (see runKernel)
const GEMM_B0 = 4;
const GEMM_M0 = 14;
const GEMM_N0 = 16;
/**
 * Idle polls of the wasm backend's workers (~0.5 ms): a training step's kernels come every few hundred µs, and
 * staying awake across them took the CPU-config step from 49.4 to 47.7 ms (the default ~10 µs lets them sleep).
 */
const WASM_WORKER_SPIN = 100_000;
/** chunks per thread in a dynamically split job: enough to even out a slow thread, few enough to stay cheap */
const CHUNKS_PER_THREAD = 4;

export const OP_QUIT = -1;
export const OP_GEMM = 1;
export const OP_SOFTMAX = 2;
export const OP_SOFTMAX_BACKWARD = 3;
export const OP_LAYERNORM = 4;
export const OP_LAYERNORM_BACKWARD = 5;
export const OP_GELU = 6;
export const OP_GELU_BACKWARD = 7;
export const OP_ADAMW = 8;
export const OP_CAUSAL_SOFTMAX = 9;
export const OP_CAUSAL_SOFTMAX_BACKWARD = 10;
export const OP_GEMM_PACK = 11;
export const OP_ATTENTION = 12;
export const OP_ATTENTION_BACKWARD = 13;
/** convolution unrolling (assembly/conv.ts); numbered apart from the others' */
export const OP_IM2COL = 20;
export const OP_COL2IM = 21;
export const OP_QMATVEC = 14;
export const OP_GEMM_SMALLM_COLS = 15;
export const OP_RMSNORM = 16;
export const OP_RMSNORM_BACKWARD = 17;
export const OP_SWIGLU = 18;
export const OP_SWIGLU_BACKWARD = 19;
/** recurrent gates (assembly/rnn.ts) */
export const OP_RNN_ACT = 22;
export const OP_RNN_ACT_BACKWARD = 23;
export const OP_LSTM_GATES = 24;
export const OP_LSTM_GATES_BACKWARD = 25;
export const OP_GRU_GATES = 26;
export const OP_GRU_GATES_BACKWARD = 27;
/**
 * A worker's share of a recurrent pass (src/backend/recurrent-pass.ts), encoded by encodePass after the op
 * code. Not a wasm kernel: the Node worker runs it itself with its own CBLAS (blas-worker.node.ts).
 */
export const OP_RECURRENT = 28;
/** A worker's part of a BLAS product (BlasBackend.matmul), run by the Node worker like OP_RECURRENT. */
export const OP_SGEMM = 29;

/**
 * Weight types assembly/qmatvec.ts computes, by ggml id (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K): block size
 * and the activations' vec_dot_type block (bytes, float scales kept beside it): Q8_0, Q8_1 or Q8_K.
 */
const QMATVEC_TYPES: Partial<Record<number, { block: number; actBytes: number; actScales: number }>> = {
  2: { block: 32, actBytes: 34, actScales: 1 }, 3: { block: 32, actBytes: 36, actScales: 2 },
  6: { block: 32, actBytes: 34, actScales: 1 }, 7: { block: 32, actBytes: 36, actScales: 2 },
  8: { block: 32, actBytes: 34, actScales: 1 }, 12: { block: 256, actBytes: 292, actScales: 0 },
  13: { block: 256, actBytes: 292, actScales: 0 }, 14: { block: 256, actBytes: 292, actScales: 0 },
};
/** ggml's id of Q8_0, whose rows the backend keeps interleaved in groups of 4 (residentQuantWeights) */
const Q8_0_TYPE = 8;
/** [block size, block bytes] of the types assembly/quantize.ts decodes and encodes, by ggml id */
const QUANT_BLOCKS: Partial<Record<number, [number, number]>> = {
  2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34], 12: [256, 144], 13: [256, 176], 14: [256, 210],
};
/** values per staged chunk of dequantizeBytes/quantizeFloats (1 MiB of float32): bounds the staging area */
const QUANT_CHUNK = 1 << 18;
/** scratch bytes assembly/quantize-k.ts needs (its KQUANT_SCRATCH) */
const KQUANT_SCRATCH = 4096;
/**
 * Weight bytes per thread below which a quantized matrix × vector product stays on the calling thread. A
 * hand-off to a spinning worker costs a few µs, to a sleeping one tens (a futex wake), and on a busy machine
 * far more: the demo model's products (≤ 70 KiB of Q8_0) decode faster unsplit; a 124M model's (≥ 600 KiB)
 * gain from the split.
 */
const PAR_MIN_QMATVEC_BYTES = 1 << 17;
/** the same for a float32 matrix × vector product (gemmSmallMCols), in weight floats per thread (512 KiB) */
const PAR_MIN_MATVEC_FLOATS = 1 << 17;

// Tail of a job slot that makes it dynamic: the argument pair at j[o + pos], j[o + pos + 1] (a [lo, hi) range)
// is replaced chunk by chunk, each thread taking the next chunk from ctrl[CTRL_NEXT], until [start, end) is done.
// Threads that are descheduled (a busy machine) then simply take fewer chunks instead of stalling everyone.
export const DYN_POS = 28;
const DYN_START = 29;
const DYN_END = 30;
const DYN_CHUNK = 31;

/**
 * Runs the job at `j[o]`: op code, then the kernel's arguments in order, and optionally a dynamic range
 * (DYN_POS ≠ 0) shared through `ctrl` with the other threads running the same job. Workers and the main
 * thread share this function.
 */
export function runJob(k: Kernels, j: Float64Array, o: number, ctrl: Int32Array | null): void {
  const pos = j[o + DYN_POS];
  if (!pos || !ctrl) {
    runKernel(k, j, o);
    return;
  }
  const start = j[o + DYN_START], end = j[o + DYN_END], chunk = j[o + DYN_CHUNK];
  for (;;) {
    const lo = start + Atomics.add(ctrl, CTRL_NEXT, 1) * chunk;
    if (lo >= end) break;
    j[o + pos] = lo;
    j[o + pos + 1] = Math.min(end, lo + chunk);
    runKernel(k, j, o);
  }
}

function runKernel(k: Kernels, j: Float64Array, o: number): void {
  switch (j[o]) {
    case OP_GEMM:
      k.gemm(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7], j[o + 8], j[o + 9], j[o + 10],
        j[o + 11], j[o + 12], j[o + 13], j[o + 14], j[o + 15], j[o + 16], j[o + 17], j[o + 18]);
      break;
    case OP_GEMM_PACK:
      k.gemmPackB(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7], j[o + 8], j[o + 9], j[o + 10],
        j[o + 11], j[o + 12], j[o + 13], j[o + 14], j[o + 15], j[o + 16], j[o + 17], j[o + 18], j[o + 19], j[o + 20],
        j[o + 21]);
      break;
    case OP_SOFTMAX: k.softmax(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5]); break;
    case OP_SOFTMAX_BACKWARD: k.softmaxBackward(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6]); break;
    case OP_LAYERNORM:
      k.layerNorm(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7], j[o + 8], j[o + 9], j[o + 10]);
      break;
    case OP_LAYERNORM_BACKWARD:
      k.layerNormBackward(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7], j[o + 8], j[o + 9],
        j[o + 10], j[o + 11]);
      break;
    case OP_CAUSAL_SOFTMAX:
      k.causalSoftmax(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7], j[o + 8]);
      break;
    case OP_CAUSAL_SOFTMAX_BACKWARD:
      k.causalSoftmaxBackward(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6]);
      break;
    case OP_RMSNORM: k.rmsNorm(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7], j[o + 8]); break;
    case OP_RMSNORM_BACKWARD:
      k.rmsNormBackward(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7], j[o + 8], j[o + 9]);
      break;
    case OP_SWIGLU: k.swiglu(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5]); break;
    case OP_SWIGLU_BACKWARD: k.swigluBackward(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7], j[o + 8]); break;
    case OP_GELU: k.gelu(j[o + 1], j[o + 2], j[o + 3], j[o + 4]); break;
    case OP_RNN_ACT: k.rnnAct(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5]); break;
    case OP_RNN_ACT_BACKWARD: k.rnnActBackward(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6]); break;
    case OP_LSTM_GATES: k.lstmGates(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7], j[o + 8]); break;
    case OP_LSTM_GATES_BACKWARD:
      k.lstmGatesBackward(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7], j[o + 8], j[o + 9]);
      break;
    case OP_GRU_GATES: k.gruGates(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7], j[o + 8]); break;
    case OP_GRU_GATES_BACKWARD:
      k.gruGatesBackward(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7], j[o + 8], j[o + 9], j[o + 10]);
      break;
    case OP_GELU_BACKWARD: k.geluBackward(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6]); break;
    case OP_ATTENTION:
      k.attnForward(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7], j[o + 8], j[o + 9], j[o + 10]);
      break;
    case OP_ATTENTION_BACKWARD:
      k.attnBackward(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7], j[o + 8], j[o + 9], j[o + 10],
        j[o + 11], j[o + 12]);
      break;
    case OP_QMATVEC:
      k.qmatvec(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7], j[o + 8], j[o + 9], j[o + 10],
        j[o + 11], j[o + 12], j[o + 13], j[o + 14], j[o + 15], j[o + 16], j[o + 17]);
      break;
    case OP_GEMM_SMALLM_COLS:
      k.gemmSmallMCols(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7], j[o + 8], j[o + 9], j[o + 10], j[o + 11]);
      break;
    case OP_IM2COL:
    case OP_COL2IM:
      (j[o] === OP_IM2COL ? k.im2colUnits : k.col2imUnits)(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7],
        j[o + 8], j[o + 9], j[o + 10], j[o + 11], j[o + 12], j[o + 13], j[o + 14], j[o + 15], j[o + 16], j[o + 17], j[o + 18], j[o + 19]);
      break;
    case OP_WORD2VEC:
      j[o + WORD2VEC_RESULT] = k.word2vecTrain(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7], j[o + 8], j[o + 9],
        j[o + 10], j[o + 11], j[o + 12], j[o + 13], j[o + 14], j[o + 15], j[o + 16], j[o + 17], j[o + 18], j[o + 19]);
      break;
    case OP_ADAMW:
      k.adamw(j[o + 1], j[o + 2], j[o + 3], j[o + 4], j[o + 5], j[o + 6], j[o + 7], j[o + 8], j[o + 9], j[o + 10],
        j[o + 11], j[o + 12], j[o + 13], j[o + 14]);
      break;
    default:
      throw new Error(`wasm backend: unknown job op ${j[o]} at slot offset ${o}`);
  }
}

/** Several threads running kernels on the same memory (threads.node.ts provides one for Node). */
export interface ThreadTeam {
  readonly threads: number;
  /**
   * Runs job slots 1..n−1 on other threads while the caller runs `own` (slot 0), and returns when all are done.
   * Synchronous, because the tensor engine is. With `withdraw`, slots no thread has started by the time `own`
   * returns are dropped instead of waited for: only for dynamically split jobs (runJob with DYN_POS), where the
   * caller's own loop takes every chunk left, so a worker the OS has not scheduled yet (a busy machine) costs
   * nothing instead of a time slice.
   */
  run(n: number, own: () => void, withdraw?: boolean): void;
  /**
   * Optional: starts waking the threads a run(n) is about to use, so that their wake-up (a futex wake and a
   * reschedule, ~10–50 µs) overlaps the caller's copying of operands in.
   */
  wake?(n: number): void;
  dispose(): void;
}

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Compiles the embedded kernels; `shared` selects the build that imports a shared memory (for threads). */
export function compileKernels(shared: boolean): Promise<WebAssembly.Module> {
  if (typeof WebAssembly === 'undefined') return Promise.reject(new Error('wasm backend: WebAssembly is not available here'));
  const bytes = decodeBase64(shared ? KERNELS_SHARED : KERNELS_PLAIN);
  if (!WebAssembly.validate(bytes)) {
    return Promise.reject(new Error('wasm backend: this engine cannot run the kernels (WebAssembly SIMD unsupported?)'));
  }
  return WebAssembly.compile(bytes);
}

/** A memory for the kernels: shared (for a thread team) or plain. Starts just big enough for the fixed layout. */
export function createMemory(shared: boolean, threads = 1): WebAssembly.Memory {
  const initial = Math.ceil((SCRATCH_BYTE + threads * scratchBytesEstimate() + PAGE_BYTES) / PAGE_BYTES);
  return shared
    ? new WebAssembly.Memory({ initial, maximum: MAX_PAGES, shared: true })
    : new WebAssembly.Memory({ initial, maximum: MAX_PAGES });
}

// the exact figure comes from the module (gemmScratchBytes); this only sizes the first allocation
function scratchBytesEstimate(): number {
  return (120 * 256 * 4 + 32) * 4;
}

export async function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<Kernels> {
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  return instance.exports as unknown as Kernels;
}

// Each thread gets at least this many multiply-adds (~80 µs of work), or the matmul stays on the calling
// thread: handing work to a sleeping worker costs ~5–20 µs, and the calling thread copies every operand in and
// out on its own. Measured on 2 Zen 5 cores: a 64³ product in isolation already gains from 2 threads, but in a
// whole training step (nanoGPT CPU config) a cutoff of 2^20 gave 86–98 ms/step, 2^21–2^23 gave 79–84 and no
// splitting at all 108: attention's batched 48×(64×64×32) products (3M per thread) are faster on one thread
// once the step's other work is counted.
const PAR_MIN_MACS = 1 << 22;
// The same for the row/elementwise kernels, in elements per thread. Their inputs and outputs are copied by
// the calling thread alone, so only kernels with real arithmetic per element (exp, erf) gain from threads:
// gelu at 768×512 went 1001 → 619 µs on 2 threads, while adamw (7 arrays copied, 10 flops per element) got
// slower (401 → 517 µs at 400k) and is split only when huge.
const PAR_MIN_ELEMS = 1 << 16;
const PAR_MIN_ELEMS_LIGHT = 1 << 21;
// ... unless every operand lives in the memory (training): then nothing is copied and layer norm, AdamW and the
// light backward kernels gain from threads too. On the CPU config a training step went 47–49 → 45–47 ms on
// wasm and 21 → 20–21 ms on blas with this at 2^14 instead of the thresholds above.
const PAR_MIN_ELEMS_RESIDENT = 1 << 14;
// smallest chunk of a dynamically split row/elementwise job, in elements
const MIN_CHUNK_ELEMS = 4096;
// Fused attention (T²·hs multiply-adds per item, roughly): its operands are resident during training, so
// splitting costs only the hand-off. The CPU config's calls (48 items of T 64, hs 32: 6M) split in two took a
// training step from 49.3 to 47.0 ms on wasm (no clear change on blas).
const PAR_MIN_ATTN_MACS = 1 << 20;

/** elements an operand spans: `batch` items of `size` elements, `stride` apart (0 = one shared item) */
function extent(batch: number, stride: number, size: number): number {
  return size === 0 ? 0 : (batch - 1) * stride + size;
}

function checkLength(op: string, name: string, arr: Float32Array, need: number, detail: string): void {
  if (arr.length < need) {
    throw new Error(`WasmBackend.${op}: ${name} has ${arr.length} elements but ${detail} needs ${need}`);
  }
}

function checkDims(op: string, dims: Record<string, number>): void {
  // for…in, not Object.entries: no arrays per call (a decoding step makes dozens of kernel calls)
  for (const k in dims) {
    const v = dims[k];
    if (!Number.isInteger(v) || v < 0) throw new Error(`WasmBackend.${op}: ${k} must be a non-negative integer, got ${v}`);
  }
}

/** the attention kernels' checks: qkv and dqkv are (B, T, 3C), y and dy (B, T, C), att (B·H, T, T) */
function checkAttention(op: string, B: number, T: number, H: number, hs: number, arrays: Record<string, Float32Array>): void {
  checkDims(op, { B, T, H, hs });
  const C = H * hs;
  const sizes: Record<string, number> = { qkv: B * T * 3 * C, dqkv: B * T * 3 * C, y: B * T * C, dy: B * T * C, att: B * H * T * T };
  for (const [name, arr] of Object.entries(arrays)) checkLength(op, name, arr, sizes[name], `B=${B}, T=${T}, H=${H}, hs=${hs}`);
}

export class WasmBackend extends JsBackend {
  override readonly name: string = 'wasm';
  override readonly threads: number;
  protected readonly kernels: Kernels;
  private readonly memory: WebAssembly.Memory;
  private readonly team: ThreadTeam | null;
  /**
   * With a team: a plain single-threaded backend that takes the calls not worth splitting. Copies into a
   * shared memory run at half the speed of ordinary ones (V8 copies element by element with relaxed-atomic
   * semantics: 33 vs 18 µs per MiB), which made unsplit calls 10–25% slower on the shared memory.
   */
  private readonly solo: WasmBackend | null;
  /** the team's control words (shared memory, so this view never goes stale) */
  private readonly ctrl: Int32Array | null;
  private jobs!: Float64Array;
  private readonly scratchBytes: number;
  private readonly arenaBase: number;
  /** tensor storage inside the memory (shared memories only) */
  private readonly heap: WasmHeap | null = null;
  private staging = 0;
  private stagingBytes = 0;
  private f32!: Float32Array;
  private i32!: Int32Array;
  /** threads the most recent kernel call was split over (for tests and benchmarks) */
  lastParts = 0;
  /** work per thread below which a call is not split; tests lower these to exercise the split paths */
  minMacsPerThread = PAR_MIN_MACS;
  minElemsPerThread = PAR_MIN_ELEMS;
  minLightElemsPerThread = PAR_MIN_ELEMS_LIGHT;
  minAttnMacsPerThread = PAR_MIN_ATTN_MACS;
  minResidentElemsPerThread = PAR_MIN_ELEMS_RESIDENT;
  minQuantBytesPerThread = PAR_MIN_QMATVEC_BYTES;
  minMatVecFloatsPerThread = PAR_MIN_MATVEC_FLOATS;

  /**
   * Single-threaded backend on a private memory: a plain one by default (works in every browser with wasm
   * SIMD), or with `shared` a shared one, where it can also store tensors (`storage`): for Node, and for
   * cross-origin-isolated pages. On the CPU config a one-thread training step took 93 → 78 ms that way.
   */
  static async create(opts: { shared?: boolean } = {}): Promise<WasmBackend> {
    const shared = !!opts.shared;
    const module = await compileKernels(shared);
    const memory = createMemory(shared);
    return new WasmBackend(await instantiateKernels(module, memory), memory, null);
  }

  /**
   * `team`, when given, must run the same module on this same memory (see threads.node.ts); `solo` then takes
   * the calls that stay on one thread.
   */
  constructor(kernels: Kernels, memory: WebAssembly.Memory, team: ThreadTeam | null, solo: WasmBackend | null = null) {
    super();
    this.solo = team ? solo : null;
    this.kernels = kernels;
    this.memory = memory;
    this.team = team;
    this.ctrl = team ? new Int32Array(memory.buffer, CTRL_BYTE, CTRL_INTS) : null;
    this.threads = team ? team.threads : 1;
    if (this.threads > MAX_THREADS) throw new Error(`WasmBackend: at most ${MAX_THREADS} threads, got ${this.threads}`);
    this.scratchBytes = kernels.gemmScratchBytes();
    this.arenaBase = SCRATCH_BYTE + this.threads * this.scratchBytes;
    const buf = memory.buffer as ArrayBufferLike;
    if (typeof SharedArrayBuffer !== 'undefined' && buf instanceof SharedArrayBuffer) {
      if (buf.byteLength < this.arenaBase) memory.grow(Math.ceil((this.arenaBase - buf.byteLength) / PAGE_BYTES));
      this.heap = new WasmHeap(memory, this.arenaBase, MAX_PAGES, (off, bytes) => kernels.zeroBytes(off, bytes));
    }
    this.ensure(0);
    this.workerSpin = WASM_WORKER_SPIN;
    if (CONST_BYTE + kernels.constantsBytes() > SCRATCH_BYTE) throw new Error('WasmBackend: constant table overlaps scratch');
    kernels.initConstants();
  }

  dispose(): void {
    this.team?.dispose();
  }

  /**
   * How long (in polls of its job word) an idle worker thread stays awake for the next job before it sleeps;
   * 0 means the team's default (SPIN_ITERS, ~10 µs). Waking a sleeping worker costs tens of µs, so the wasm
   * backend keeps its workers awake across the JavaScript between two kernels; the blas backend does not,
   * as an awake worker would take a core from OpenBLAS's threads.
   */
  set workerSpin(polls: number) {
    if (this.ctrl) Atomics.store(this.ctrl, CTRL_SPIN, polls);
  }

  /** tensor storage inside this backend's memory, when it has one (a shared memory); see backend/storage.ts */
  get storage(): StorageProvider | null {
    return this.heap;
  }

  /** Makes room for `bytes` of staged operands; returns the staging area's first byte. */
  private ensure(bytes: number): number {
    if (this.heap) {
      if (bytes > this.stagingBytes) {
        if (this.stagingBytes > 0) this.heap.release(this.staging, this.stagingBytes);
        this.stagingBytes = Math.max(bytes, Math.ceil(this.stagingBytes * 1.5));
        this.staging = this.heap.malloc(this.stagingBytes);
      }
      this.refreshViews();
      return this.staging;
    }
    const need = this.arenaBase + bytes;
    const have = this.memory.buffer.byteLength;
    if (need > have) {
      const pages = Math.ceil((need - have) / PAGE_BYTES);
      if (have / PAGE_BYTES + pages > MAX_PAGES) {
        throw new Error(`WasmBackend: operands need ${need} bytes, more than the 4 GiB a wasm32 memory can hold`);
      }
      this.memory.grow(pages);
    }
    this.refreshViews();
    return this.arenaBase;
  }

  private refreshViews(): void {
    // growing a plain memory detaches its old buffer (a shared one just stops seeing the new part): re-view it
    if (this.f32 === undefined || this.f32.length * 4 !== this.memory.buffer.byteLength) {
      this.f32 = new Float32Array(this.memory.buffer);
      this.i32 = new Int32Array(this.memory.buffer);
      this.jobs = new Float64Array(this.memory.buffer, JOBS_BYTE, JOB_SLOT * MAX_THREADS);
    }
  }

  /** whether `a` lives in this backend's memory, so that kernels use it in place */
  resident(a: Float32Array | null): boolean {
    return a !== null && this.heap !== null && this.heap.owns(a);
  }

  /**
   * Work per thread below which a row/element-wise call stays on one thread: `min` when an operand must be
   * copied (the calling thread copies alone, so splitting gains little), much less when all are resident.
   */
  private elemsPerThread(min: number, ...arrs: (Float32Array | null)[]): number {
    for (const a of arrs) if (a !== null && !this.resident(a)) return min;
    return Math.min(min, this.minResidentElemsPerThread);
  }

  /** true when no operand lives in this memory (only then may a call go to `solo`, which has its own memory) */
  private foreign(...arrs: (Float32Array | null)[]): boolean {
    if (this.heap === null) return true;
    for (const a of arrs) if (a !== null && this.heap.owns(a)) return false;
    return true;
  }

  /**
   * Byte offsets of a kernel's operands, each given as [array, elements, copy in]: a resident array is used
   * where it lives; any other gets a staging slot, filled from the array when `copy in`. A null array gets a
   * bare slot (kernel scratch).
   */
  private operands(list: [Float32Array | null, number, boolean][]): number[] {
    const here = list.map(([a]) => this.resident(a));
    const offs = this.place(list.map(([, n], i) => (here[i] ? 0 : n)));
    return list.map(([a, n, load], i) => {
      if (here[i]) return a!.byteOffset;
      if (a !== null && load) this.put(offs[i], a, n);
      return offs[i];
    });
  }

  /** copies the first n elements of a staged result at `off` back into `a` (nothing to do when resident) */
  private result(a: Float32Array, off: number, n: number): void {
    if (!this.resident(a)) this.get(off, a, n);
  }

  /** Lays out arrays of the given element counts in the arena (16-byte aligned); returns their byte offsets. */
  private place(sizes: number[]): number[] {
    let total = 0;
    const offs: number[] = [];
    for (const s of sizes) {
      offs.push(total);
      total += (s * 4 + 15) & ~15;
    }
    const base = this.ensure(total);
    return offs.map((o) => base + o);
  }

  private put(off: number, src: Float32Array, n: number): void {
    // byte offsets reach past 2 GiB in a big memory: unsigned shifts (>>>) throughout
    this.f32.set(n === src.length ? src : src.subarray(0, n), off >>> 2);
  }

  private get(off: number, dst: Float32Array, n: number): void {
    dst.set(this.f32.subarray(off >>> 2, (off >>> 2) + n));
  }

  /** how many threads `work` units deserve when each should get at least `minPerThread` */
  private partsFor(work: number, minPerThread: number): number {
    return this.team ? Math.max(1, Math.min(this.threads, Math.floor(work / minPerThread))) : 1;
  }

  /**
   * Runs one kernel over [0, total) on `parts` threads: `write(slot, lo, hi)` writes a job for [lo, hi), whose
   * lo/hi arguments sit at `pos`; with a team the range is then handed out dynamically in chunks (multiples
   * of `align`, at least `minChunk`, about CHUNKS_PER_THREAD per thread).
   */
  private parallel(
    total: number, align: number, minChunk: number, parts: number, pos: number,
    write: (slot: number, lo: number, hi: number) => void,
  ): void {
    if (parts <= 1 || !this.team) {
      write(0, 0, total);
      this.runJobs(1);
      return;
    }
    const want = Math.max(minChunk, Math.ceil(total / (parts * CHUNKS_PER_THREAD)));
    const chunk = Math.ceil(want / align) * align;
    const n = Math.min(parts, Math.ceil(total / chunk));
    for (let slot = 0; slot < n; slot++) {
      write(slot, 0, total);
      this.jobs.set([pos, 0, total, chunk], slot * JOB_SLOT + DYN_POS);
    }
    this.runJobs(n);
  }

  /** with a team, starts waking the threads a split call will use while this thread copies its operands in */
  private wake(parts: number): void {
    if (parts > 1) this.team?.wake?.(parts);
  }

  private runJobs(n: number): void {
    this.lastParts = n;
    if (n <= 1 || !this.team) {
      for (let s = 0; s < n; s++) runJob(this.kernels, this.jobs, s * JOB_SLOT, null);
      return;
    }
    this.team.run(n, () => runJob(this.kernels, this.jobs, 0, this.ctrl), this.jobs[DYN_POS] !== 0);
  }

  /** the team's control words (null without a team) */
  protected get control(): Int32Array | null {
    return this.ctrl;
  }

  /**
   * Runs `own` on this thread while workers 1..n − 1 each run the job `write(jobs, offset, worker)` puts in
   * their slot, and returns when all are done; false (nothing run) without a team of n threads.
   */
  protected runTeamJobs(n: number, write: (jobs: Float64Array, o: number, worker: number) => void, own: () => void): boolean {
    if (!this.team || n > this.threads) return false;
    this.team.wake?.(n);
    this.refreshViews();
    for (let w = 1; w < n; w++) {
      this.jobs.fill(0, w * JOB_SLOT, (w + 1) * JOB_SLOT);
      write(this.jobs, w * JOB_SLOT, w);
    }
    this.lastParts = n;
    this.team.run(n, own);
    return true;
  }

  private job(slot: number, ...args: number[]): void {
    this.jobs.set(args, slot * JOB_SLOT);
    this.jobs[slot * JOB_SLOT + DYN_POS] = 0;
  }

  override matmul(a: Float32Array, b: Float32Array, c: Float32Array, args: MatmulArgs): void {
    const { batch, M, N, K, transA, transB, accumulate, strideA, strideB, strideC } = args;
    checkDims('matmul', { batch, M, N, K, strideA, strideB, strideC });
    if (batch === 0 || M === 0 || N === 0) return;
    const la = extent(batch, strideA, M * K), lb = extent(batch, strideB, K * N), lc = extent(batch, strideC, M * N);
    const shape = `batch=${batch}, M=${M}, N=${N}, K=${K}`;
    checkLength('matmul', 'A', a, la, `${shape}, strideA=${strideA}`);
    checkLength('matmul', 'B', b, lb, `${shape}, strideB=${strideB}`);
    checkLength('matmul', 'C', c, lc, `${shape}, strideC=${strideC}`);
    const dense = batch === 1 || strideC === M * N;
    // How to split, decided first so unsplit calls can go to `solo`: whole batch items per chunk when there
    // are enough (and C items do not overlap); otherwise row blocks of every item, or column blocks when there
    // are too few rows to go round. Column chunks are at least 64 wide because each one packs its own copy of
    // A (B is shared, so row chunks cost nothing extra).
    const parts = M < MR ? 1 : this.partsFor(batch * M * N * K, this.minMacsPerThread);
    const split = parts <= 1 ? 'none'
      : strideC >= M * N && batch >= 2 * parts ? 'batch'
      : Math.ceil(M / MR) >= 2 * parts ? 'rows'
      : Math.ceil(N / NR) >= 2 * parts ? 'cols' : 'none';
    if (split === 'none' && this.solo && this.foreign(a, b, c)) {
      this.solo.matmul(a, b, c, args);
      this.lastParts = 1;
      return;
    }
    if (split !== 'none') this.wake(parts);
    if (M < MR && batch === 1 && this.team) {
      // a row or three times a large matrix (decoding): the columns of C are split across the threads
      const cols = this.partsFor(N * K, this.minMatVecFloatsPerThread);
      if (cols > 1 && N >= 32 * cols) {
        this.wake(cols);
        const [pa, pb, pc] = this.operands([[a, la, true], [b, lb, true], [c, lc, accumulate]]);
        this.parallel(N, 16, 16, cols, 10, (s, lo, hi) =>
          this.job(s, OP_GEMM_SMALLM_COLS, pa, pb, pc, M, N, K, transA ? 1 : 0, transB ? 1 : 0, accumulate ? 1 : 0, lo, hi));
        this.result(c, pc, lc);
        return;
      }
    }
    if (M < MR) {
      // a row or three (sampling one token): B is read in place, see gemmSmallM
      const [pa, pb, pc] = this.operands([[a, la, true], [b, lb, true], [c, lc, accumulate || !dense]]);
      this.kernels.gemmSmallM(pa, pb, pc, 0, batch, strideA, strideB, strideC, M, N, K, transA ? 1 : 0,
        transB ? 1 : 0, accumulate ? 1 : 0);
      this.lastParts = 1;
      this.result(c, pc, lc);
      return;
    }
    // B is packed into panels (assembly/gemm.ts packBAll): once, here, when every thread reads all of it; item
    // by item inside the jobs (gemmPackB) when each thread computes whole batch items of their own, so that
    // the packing is split too (and each item's panels are still in cache when its product runs)
    const itemsB = strideB === 0 ? 1 : batch;
    const packedB = this.kernels.packedBSize(N, K);
    const packInJobs = strideB !== 0 && batch > 1 && (split === 'batch' || split === 'none');
    // gaps between strided C items must survive the copy back, so C goes in whenever it is not fully overwritten
    const [pa, pb, pc, pp] = this.operands([[a, la, true], [b, lb, true], [c, lc, accumulate || !dense], [null, itemsB * packedB, false]]);
    if (!packInJobs) this.kernels.packBAll(pb, 0, itemsB, strideB, N, K, transB ? 1 : 0, pp);

    const common = (slot: number, b0: number, b1: number, m0: number, m1: number, n0: number, n1: number) =>
      this.job(slot, packInJobs ? OP_GEMM_PACK : OP_GEMM, pa, pp, pc, b0, b1, strideA, strideB === 0 ? 0 : packedB,
        strideC, M, N, K, transA ? 1 : 0, accumulate ? 1 : 0, m0, m1, n0, n1, SCRATCH_BYTE + slot * this.scratchBytes,
        pb, strideB, transB ? 1 : 0);
    if (split === 'batch') {
      this.parallel(batch, 1, 1, parts, GEMM_B0, (s, lo, hi) => common(s, lo, hi, 0, M, 0, N));
    } else if (split === 'rows') {
      this.parallel(M, MR, 4 * MR, parts, GEMM_M0, (s, lo, hi) => common(s, 0, batch, lo, hi, 0, N));
    } else if (split === 'cols') {
      this.parallel(N, NR, 64, parts, GEMM_N0, (s, lo, hi) => common(s, 0, batch, 0, M, lo, hi));
    } else {
      common(0, 0, batch, 0, M, 0, N);
      this.runJobs(1);
    }
    this.result(c, pc, lc);
  }

  override softmax(x: Float32Array, y: Float32Array, rows: number, cols: number): void {
    checkDims('softmax', { rows, cols });
    const n = rows * cols;
    if (n === 0) return;
    checkLength('softmax', 'x', x, n, `rows=${rows}, cols=${cols}`);
    checkLength('softmax', 'y', y, n, `rows=${rows}, cols=${cols}`);
    const parts = this.partsFor(n, this.elemsPerThread(this.minElemsPerThread, x, y));
    if (parts <= 1 && this.solo && this.foreign(x, y)) {
      this.lastParts = 1;
      return this.solo.softmax(x, y, rows, cols);
    }
    this.wake(parts);
    const [px, py] = this.operands([[x, n, true], [y, n, false]]);
    this.parallel(rows, 1, Math.ceil(MIN_CHUNK_ELEMS / cols), parts, 4, (s, lo, hi) =>
      this.job(s, OP_SOFTMAX, px, py, cols, lo, hi));
    this.result(y, py, n);
  }

  override softmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void {
    checkDims('softmaxBackward', { rows, cols });
    const n = rows * cols;
    if (n === 0) return;
    const d = `rows=${rows}, cols=${cols}`;
    checkLength('softmaxBackward', 'y', y, n, d);
    checkLength('softmaxBackward', 'dy', dy, n, d);
    checkLength('softmaxBackward', 'dx', dx, n, d);
    const parts = this.partsFor(n, this.elemsPerThread(this.minLightElemsPerThread, y, dy, dx));
    if (parts <= 1 && this.solo && this.foreign(y, dy, dx)) {
      this.lastParts = 1;
      return this.solo.softmaxBackward(y, dy, dx, rows, cols);
    }
    this.wake(parts);
    const [py, pdy, pdx] = this.operands([[y, n, true], [dy, n, true], [dx, n, true]]);
    this.parallel(rows, 1, Math.ceil(MIN_CHUNK_ELEMS / cols), parts, 5, (s, lo, hi) =>
      this.job(s, OP_SOFTMAX_BACKWARD, py, pdy, pdx, cols, lo, hi));
    this.result(dx, pdx, n);
  }

  override causalSoftmax(
    att: Float32Array, rows: number, Tq: number, Tk: number, scale: number,
    keyStart: Int32Array | null, rowsPerKeyStart: number,
  ): void {
    checkDims('causalSoftmax', { rows, Tq, Tk });
    const n = rows * Tk;
    if (n === 0) return;
    const d = `rows=${rows}, Tq=${Tq}, Tk=${Tk}`;
    if (Tq === 0) throw new Error(`WasmBackend.causalSoftmax: Tq must be positive when ${d}`);
    checkLength('causalSoftmax', 'att', att, n, d);
    let nks = 0;
    if (keyStart) {
      if (!Number.isInteger(rowsPerKeyStart) || rowsPerKeyStart < 1) {
        throw new Error(`WasmBackend.causalSoftmax: rowsPerKeyStart must be a positive integer, got ${rowsPerKeyStart}`);
      }
      nks = Math.ceil(rows / rowsPerKeyStart);
      if (keyStart.length < nks) {
        throw new Error(`WasmBackend.causalSoftmax: keyStart has ${keyStart.length} entries but ${d}, rowsPerKeyStart=${rowsPerKeyStart} needs ${nks}`);
      }
    }
    const parts = this.partsFor(n, this.elemsPerThread(this.minElemsPerThread, att));
    if (parts <= 1 && this.solo && this.foreign(att)) {
      this.lastParts = 1;
      return this.solo.causalSoftmax(att, rows, Tq, Tk, scale, keyStart, rowsPerKeyStart);
    }
    this.wake(parts);
    const [pa, pk] = this.operands([[att, n, true], [null, nks, false]]);
    if (keyStart) this.i32.set(nks === keyStart.length ? keyStart : keyStart.subarray(0, nks), pk >>> 2);
    this.parallel(rows, 1, Math.ceil(MIN_CHUNK_ELEMS / Tk), parts, 7, (s, lo, hi) =>
      this.job(s, OP_CAUSAL_SOFTMAX, pa, Tq, Tk, scale, keyStart ? pk : 0, keyStart ? rowsPerKeyStart : 1, lo, hi));
    this.result(att, pa, n);
  }

  override causalSoftmaxBackward(att: Float32Array, datt: Float32Array, rows: number, Tk: number, scale: number): void {
    checkDims('causalSoftmaxBackward', { rows, Tk });
    const n = rows * Tk;
    if (n === 0) return;
    const d = `rows=${rows}, Tk=${Tk}`;
    checkLength('causalSoftmaxBackward', 'att', att, n, d);
    checkLength('causalSoftmaxBackward', 'datt', datt, n, d);
    const parts = this.partsFor(n, this.elemsPerThread(this.minLightElemsPerThread, att, datt));
    if (parts <= 1 && this.solo && this.foreign(att, datt)) {
      this.lastParts = 1;
      return this.solo.causalSoftmaxBackward(att, datt, rows, Tk, scale);
    }
    this.wake(parts);
    const [pa, pd] = this.operands([[att, n, true], [datt, n, true]]);
    this.parallel(rows, 1, Math.ceil(MIN_CHUNK_ELEMS / Tk), parts, 5, (s, lo, hi) =>
      this.job(s, OP_CAUSAL_SOFTMAX_BACKWARD, pa, pd, Tk, scale, lo, hi));
    this.result(datt, pd, n);
  }

  override layerNorm(
    x: Float32Array, w: Float32Array | null, b: Float32Array | null, y: Float32Array,
    mean: Float32Array, rstd: Float32Array, rows: number, C: number, eps: number,
  ): void {
    checkDims('layerNorm', { rows, C });
    const n = rows * C;
    if (n === 0) return;
    const d = `rows=${rows}, C=${C}`;
    checkLength('layerNorm', 'x', x, n, d);
    checkLength('layerNorm', 'y', y, n, d);
    checkLength('layerNorm', 'mean', mean, rows, d);
    checkLength('layerNorm', 'rstd', rstd, rows, d);
    if (w) checkLength('layerNorm', 'w', w, C, d);
    if (b) checkLength('layerNorm', 'b', b, C, d);
    const parts = this.partsFor(n, this.elemsPerThread(this.minLightElemsPerThread, x, w, b, y, mean, rstd));
    if (parts <= 1 && this.solo && this.foreign(x, w, b, y, mean, rstd)) {
      this.lastParts = 1;
      return this.solo.layerNorm(x, w, b, y, mean, rstd, rows, C, eps);
    }
    this.wake(parts);
    const [px, pw, pb, py, pm, pr] = this.operands([
      [x, n, true], [w, w ? C : 0, true], [b, b ? C : 0, true], [y, n, false], [mean, rows, false], [rstd, rows, false],
    ]);
    this.parallel(rows, 1, Math.ceil(MIN_CHUNK_ELEMS / C), parts, 9, (s, lo, hi) =>
      this.job(s, OP_LAYERNORM, px, w ? pw : 0, b ? pb : 0, py, pm, pr, C, eps, lo, hi));
    this.result(y, py, n);
    this.result(mean, pm, rows);
    this.result(rstd, pr, rows);
  }

  override layerNormBackward(
    x: Float32Array, w: Float32Array | null, mean: Float32Array, rstd: Float32Array, dy: Float32Array,
    dx: Float32Array, dw: Float32Array | null, db: Float32Array | null, rows: number, C: number,
  ): void {
    checkDims('layerNormBackward', { rows, C });
    const n = rows * C;
    if (n === 0) return;
    const d = `rows=${rows}, C=${C}`;
    for (const [name, arr, len] of [['x', x, n], ['dy', dy, n], ['dx', dx, n], ['mean', mean, rows], ['rstd', rstd, rows],
      ['w', w, C], ['dw', dw, C], ['db', db, C]] as const) {
      if (arr) checkLength('layerNormBackward', name, arr, len, d);
    }
    // dw and db sum over rows, so each thread accumulates its rows into a private copy and we add them up after
    const T = this.partsFor(n, this.elemsPerThread(this.minLightElemsPerThread, x, w, mean, rstd, dy, dx, dw, db));
    if (T <= 1 && this.solo && this.foreign(x, w, mean, rstd, dy, dx, dw, db)) {
      this.lastParts = 1;
      return this.solo.layerNormBackward(x, w, mean, rstd, dy, dx, dw, db, rows, C);
    }
    this.wake(T);
    // thread 0 accumulates into dw/db themselves, the others into zeroed private copies
    const list: [Float32Array | null, number, boolean][] = [
      [x, n, true], [w, w ? C : 0, true], [mean, rows, true], [rstd, rows, true], [dy, n, true], [dx, n, true],
      [dw, dw ? C : 0, true], [db, db ? C : 0, true],
    ];
    for (let t = 1; t < T; t++) list.push([null, dw ? C : 0, false], [null, db ? C : 0, false]);
    const [px, pw, pm, pr, pdy, pdx, ...pg] = this.operands(list);
    for (let t = 1; t < T; t++) {
      if (dw) this.f32.fill(0, pg[2 * t] >>> 2, (pg[2 * t] >>> 2) + C);
      if (db) this.f32.fill(0, pg[2 * t + 1] >>> 2, (pg[2 * t + 1] >>> 2) + C);
    }
    let jobs = 0;
    this.parallel(rows, 1, Math.ceil(MIN_CHUNK_ELEMS / C), T, 10, (s, lo, hi) => {
      jobs = Math.max(jobs, s + 1);
      this.job(s, OP_LAYERNORM_BACKWARD, px, w ? pw : 0, pm, pr, pdy, pdx, dw ? pg[2 * s] : 0, db ? pg[2 * s + 1] : 0, C, lo, hi);
    });
    this.result(dx, pdx, n);
    for (const [k, out] of [[0, dw], [1, db]] as const) {
      if (out) this.sumRowCopies(out, pg[k], Array.from({ length: Math.max(0, jobs - 1) }, (_, t) => pg[2 * (t + 1) + k]), C);
    }
  }

  override gelu(x: Float32Array, y: Float32Array, n: number): void {
    checkDims('gelu', { n });
    if (n === 0) return;
    checkLength('gelu', 'x', x, n, `n=${n}`);
    checkLength('gelu', 'y', y, n, `n=${n}`);
    const parts = this.partsFor(n, this.elemsPerThread(this.minElemsPerThread, x, y));
    if (parts <= 1 && this.solo && this.foreign(x, y)) {
      this.lastParts = 1;
      return this.solo.gelu(x, y, n);
    }
    this.wake(parts);
    const [px, py] = this.operands([[x, n, true], [y, n, false]]);
    this.parallel(n, 16, MIN_CHUNK_ELEMS, parts, 3, (s, lo, hi) =>
      this.job(s, OP_GELU, px, py, lo, hi));
    this.result(y, py, n);
  }

  override geluBackward(x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, n: number): void {
    checkDims('geluBackward', { n });
    if (n === 0) return;
    for (const [name, arr] of [['x', x], ['y', y], ['dy', dy], ['dx', dx]] as const) checkLength('geluBackward', name, arr, n, `n=${n}`);
    const parts = this.partsFor(n, this.elemsPerThread(this.minElemsPerThread, x, y, dy, dx));
    if (parts <= 1 && this.solo && this.foreign(x, y, dy, dx)) {
      this.lastParts = 1;
      return this.solo.geluBackward(x, y, dy, dx, n);
    }
    this.wake(parts);
    const [px, py, pdy, pdx] = this.operands([[x, n, true], [y, n, true], [dy, n, true], [dx, n, true]]);
    this.parallel(n, 16, MIN_CHUNK_ELEMS, parts, 5, (s, lo, hi) =>
      this.job(s, OP_GELU_BACKWARD, px, py, pdy, pdx, lo, hi));
    this.result(dx, pdx, n);
  }

  override swiglu(gate: Float32Array, up: Float32Array | null, y: Float32Array, n: number): void {
    checkDims('swiglu', { n });
    if (n === 0) return;
    for (const [name, arr] of [['gate', gate], ['up', up], ['y', y]] as const) if (arr) checkLength('swiglu', name, arr, n, `n=${n}`);
    const parts = this.partsFor(n, this.elemsPerThread(this.minElemsPerThread, gate, up, y));
    if (parts <= 1 && this.solo && this.foreign(gate, up, y)) {
      this.lastParts = 1;
      return this.solo.swiglu(gate, up, y, n);
    }
    this.wake(parts);
    const [pg, pu, py] = this.operands([[gate, n, true], [up, up ? n : 0, true], [y, n, false]]);
    this.parallel(n, 16, MIN_CHUNK_ELEMS, parts, 4, (s, lo, hi) =>
      this.job(s, OP_SWIGLU, pg, up ? pu : 0, py, lo, hi));
    this.result(y, py, n);
  }

  override swigluBackward(
    gate: Float32Array, up: Float32Array | null, dy: Float32Array,
    dgate: Float32Array | null, dup: Float32Array | null, n: number, accumulate: boolean,
  ): void {
    checkDims('swigluBackward', { n });
    if (n === 0 || (!dgate && !dup)) return;
    for (const [name, arr] of [['gate', gate], ['up', up], ['dy', dy], ['dgate', dgate], ['dup', dup]] as const) {
      if (arr) checkLength('swigluBackward', name, arr, n, `n=${n}`);
    }
    const parts = this.partsFor(n, this.elemsPerThread(this.minElemsPerThread, gate, up, dy, dgate, dup));
    if (parts <= 1 && this.solo && this.foreign(gate, up, dy, dgate, dup)) {
      this.lastParts = 1;
      return this.solo.swigluBackward(gate, up, dy, dgate, dup, n, accumulate);
    }
    this.wake(parts);
    const [pg, pu, pdy, pdg, pdu] = this.operands([
      [gate, n, true], [up, up ? n : 0, true], [dy, n, true], [dgate, dgate ? n : 0, accumulate], [dup, dup ? n : 0, accumulate],
    ]);
    this.parallel(n, 16, MIN_CHUNK_ELEMS, parts, 7, (s, lo, hi) =>
      this.job(s, OP_SWIGLU_BACKWARD, pg, up ? pu : 0, pdy, dgate ? pdg : 0, dup ? pdu : 0, accumulate ? 1 : 0, lo, hi));
    if (dgate) this.result(dgate, pdg, n);
    if (dup) this.result(dup, pdu, n);
  }

  /**
   * Runs one of the recurrent gate kernels (assembly/rnn.ts) over `rows` rows of `rowElems` elements of work:
   * `list` names each array with the elements it spans, whether the kernel reads it and whether it writes it;
   * the job is `op`, the arrays' pointers, `extra`, then the row range. `solo` runs the call unsplit on the
   * private memory when every operand would be copied anyway.
   */
  private gateKernel(
    op: number, name: string, rows: number, rowElems: number, list: [string, Float32Array, number, boolean, boolean][],
    extra: number[], solo: (b: WasmBackend) => void,
  ): void {
    if (rows === 0 || rowElems === 0) return;
    for (const [field, arr, n] of list) checkLength(name, field, arr, n, `rows=${rows}`);
    const arrays = list.map(([, a]) => a);
    const parts = this.partsFor(rows * rowElems, this.elemsPerThread(this.minElemsPerThread, ...arrays));
    if (parts <= 1 && this.solo && this.foreign(...arrays)) {
      this.lastParts = 1;
      return solo(this.solo);
    }
    this.wake(parts);
    const ptrs = this.operands(list.map(([, a, n, load]) => [a, n, load]));
    const pos = 1 + ptrs.length + extra.length;
    this.parallel(rows, 1, Math.ceil(MIN_CHUNK_ELEMS / rowElems), parts, pos, (slot, lo, hi) =>
      this.job(slot, op, ...ptrs, ...extra, lo, hi));
    list.forEach(([, a, n, , out], i) => { if (out) this.result(a, ptrs[i], n); });
  }

  override rnnAct(pre: Float32Array, h: Float32Array, n: number, relu: boolean): void {
    checkDims('rnnAct', { n });
    this.gateKernel(OP_RNN_ACT, 'rnnAct', n, 1, [['pre', pre, n, true, false], ['h', h, n, false, true]], [relu ? 1 : 0],
      (b) => b.rnnAct(pre, h, n, relu));
  }

  override rnnActBackward(dh: Float32Array, h: Float32Array, dpre: Float32Array, n: number, relu: boolean): void {
    checkDims('rnnActBackward', { n });
    this.gateKernel(OP_RNN_ACT_BACKWARD, 'rnnActBackward', n, 1,
      [['dh', dh, n, true, false], ['h', h, n, true, false], ['dpre', dpre, n, false, true]], [relu ? 1 : 0],
      (b) => b.rnnActBackward(dh, h, dpre, n, relu));
  }

  override lstmGates(gates: Float32Array, cPrev: Float32Array, c: Float32Array, tc: Float32Array, h: Float32Array, B: number, H: number): void {
    checkDims('lstmGates', { B, H });
    const s = B * H;
    this.gateKernel(OP_LSTM_GATES, 'lstmGates', B, 4 * H, [
      ['gates', gates, 4 * s, true, true], ['cPrev', cPrev, s, true, false], ['c', c, s, false, true],
      ['tc', tc, s, false, true], ['h', h, s, false, true],
    ], [H], (b) => b.lstmGates(gates, cPrev, c, tc, h, B, H));
  }

  override lstmGatesBackward(
    dh: Float32Array, dc: Float32Array, gates: Float32Array, cPrev: Float32Array, tc: Float32Array, dGates: Float32Array,
    B: number, H: number,
  ): void {
    checkDims('lstmGatesBackward', { B, H });
    const s = B * H;
    this.gateKernel(OP_LSTM_GATES_BACKWARD, 'lstmGatesBackward', B, 4 * H, [
      ['dh', dh, s, true, false], ['dc', dc, s, true, true], ['gates', gates, 4 * s, true, false],
      ['cPrev', cPrev, s, true, false], ['tc', tc, s, true, false], ['dGates', dGates, 4 * s, false, true],
    ], [H], (b) => b.lstmGatesBackward(dh, dc, gates, cPrev, tc, dGates, B, H));
  }

  override gruGates(xg: Float32Array, hg: Float32Array, hPrev: Float32Array, acts: Float32Array, h: Float32Array, B: number, H: number): void {
    checkDims('gruGates', { B, H });
    const s = B * H;
    this.gateKernel(OP_GRU_GATES, 'gruGates', B, 3 * H, [
      ['xg', xg, 3 * s, true, false], ['hg', hg, 3 * s, true, false], ['hPrev', hPrev, s, true, false],
      ['acts', acts, 3 * s, false, true], ['h', h, s, false, true],
    ], [H], (b) => b.gruGates(xg, hg, hPrev, acts, h, B, H));
  }

  override gruGatesBackward(
    dh: Float32Array, acts: Float32Array, hg: Float32Array, hPrev: Float32Array,
    dxg: Float32Array, dhg: Float32Array, dhPrev: Float32Array, B: number, H: number,
  ): void {
    checkDims('gruGatesBackward', { B, H });
    const s = B * H;
    this.gateKernel(OP_GRU_GATES_BACKWARD, 'gruGatesBackward', B, 3 * H, [
      ['dh', dh, s, true, false], ['acts', acts, 3 * s, true, false], ['hg', hg, 3 * s, true, false],
      ['hPrev', hPrev, s, true, false], ['dxg', dxg, 3 * s, false, true], ['dhg', dhg, 3 * s, false, true],
      ['dhPrev', dhPrev, s, true, true],
    ], [H], (b) => b.gruGatesBackward(dh, acts, hg, hPrev, dxg, dhg, dhPrev, B, H));
  }

  override rmsNorm(
    x: Float32Array, w: Float32Array | null, y: Float32Array, rstd: Float32Array, rows: number, C: number, eps: number,
  ): void {
    checkDims('rmsNorm', { rows, C });
    const n = rows * C;
    if (n === 0) return;
    const d = `rows=${rows}, C=${C}`;
    for (const [name, arr, len] of [['x', x, n], ['y', y, n], ['rstd', rstd, rows], ['w', w, C]] as const) {
      if (arr) checkLength('rmsNorm', name, arr, len, d);
    }
    const parts = this.partsFor(n, this.elemsPerThread(this.minLightElemsPerThread, x, w, y, rstd));
    if (parts <= 1 && this.solo && this.foreign(x, w, y, rstd)) {
      this.lastParts = 1;
      return this.solo.rmsNorm(x, w, y, rstd, rows, C, eps);
    }
    this.wake(parts);
    const [px, pw, py, pr] = this.operands([[x, n, true], [w, w ? C : 0, true], [y, n, false], [rstd, rows, false]]);
    this.parallel(rows, 1, Math.ceil(MIN_CHUNK_ELEMS / C), parts, 7, (s, lo, hi) =>
      this.job(s, OP_RMSNORM, px, w ? pw : 0, py, pr, C, eps, lo, hi));
    this.result(y, py, n);
    this.result(rstd, pr, rows);
  }

  override rmsNormBackward(
    x: Float32Array, w: Float32Array | null, rstd: Float32Array, dy: Float32Array,
    dx: Float32Array | null, dw: Float32Array | null, rows: number, C: number,
  ): void {
    checkDims('rmsNormBackward', { rows, C });
    const n = rows * C;
    if (n === 0 || (!dx && !dw)) return;
    const d = `rows=${rows}, C=${C}`;
    for (const [name, arr, len] of [['x', x, n], ['dy', dy, n], ['dx', dx, n], ['rstd', rstd, rows], ['w', w, C], ['dw', dw, C]] as const) {
      if (arr) checkLength('rmsNormBackward', name, arr, len, d);
    }
    const T = this.partsFor(n, this.elemsPerThread(this.minLightElemsPerThread, x, w, rstd, dy, dx, dw));
    if (T <= 1 && this.solo && this.foreign(x, w, rstd, dy, dx, dw)) {
      this.lastParts = 1;
      return this.solo.rmsNormBackward(x, w, rstd, dy, dx, dw, rows, C);
    }
    this.wake(T);
    // dw sums over rows: thread 0 accumulates into dw itself, the others into zeroed private copies
    const list: [Float32Array | null, number, boolean][] = [
      [x, n, true], [w, w ? C : 0, true], [rstd, rows, true], [dy, n, true], [dx, dx ? n : 0, true], [dw, dw ? C : 0, true],
    ];
    for (let t = 1; t < T; t++) list.push([null, dw ? C : 0, false]);
    const [px, pw, pr, pdy, pdx, ...pdw] = this.operands(list);
    if (dw) for (let t = 1; t < T; t++) this.f32.fill(0, pdw[t] >>> 2, (pdw[t] >>> 2) + C);
    let jobs = 0;
    this.parallel(rows, 1, Math.ceil(MIN_CHUNK_ELEMS / C), T, 8, (s, lo, hi) => {
      jobs = Math.max(jobs, s + 1);
      this.job(s, OP_RMSNORM_BACKWARD, px, w ? pw : 0, pr, pdy, dx ? pdx : 0, dw ? pdw[s] : 0, C, lo, hi);
    });
    if (dx) this.result(dx, pdx, n);
    if (dw) this.sumRowCopies(dw, pdw[0], pdw.slice(1, jobs), C);
  }

  /**
   * The end of a backward whose weight gradient sums over rows: the C floats the other threads accumulated at
   * `copies` are added into thread 0's at `own` (which started from `out`), and the total is copied to `out`.
   */
  private sumRowCopies(out: Float32Array, own: number, copies: readonly number[], C: number): void {
    const f = this.f32, o0 = own >>> 2;
    for (const p of copies) {
      const ot = p >>> 2;
      for (let j = 0; j < C; j++) f[o0 + j] += f[ot + j];
    }
    this.result(out, own, C);
  }

  override adamw(
    p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number,
  ): void {
    checkDims('adamw', { n });
    if (n === 0) return;
    for (const [name, arr] of [['p', p], ['g', g], ['m', m], ['v', v]] as const) checkLength('adamw', name, arr, n, `n=${n}`);
    const parts = this.partsFor(n, this.elemsPerThread(this.minLightElemsPerThread, p, g, m, v));
    if (parts <= 1 && this.solo && this.foreign(p, g, m, v)) {
      this.lastParts = 1;
      return this.solo.adamw(p, g, m, v, n, lr, beta1, beta2, eps, weightDecay, step);
    }
    this.wake(parts);
    const [pp, pg, pm, pv] = this.operands([[p, n, true], [g, n, true], [m, n, true], [v, n, true]]);
    const bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
    this.parallel(n, 16, MIN_CHUNK_ELEMS, parts, 5, (s, lo, hi) =>
      this.job(s, OP_ADAMW, pp, pg, pm, pv, lo, hi, beta1, 1 - beta1, beta2, 1 - beta2, 1 - lr * weightDecay, lr / bc1, 1 / bc2, eps));
    this.result(p, pp, n);
    this.result(m, pm, n);
    this.result(v, pv, n);
  }

  override attention(
    qkv: Float32Array, y: Float32Array, att: Float32Array, B: number, T: number, H: number, hs: number, scale: number,
  ): void {
    const items = B * H, C = H * hs;
    checkAttention('attention', B, T, H, hs, { qkv, y, att });
    if (items === 0 || T === 0 || hs === 0) return;
    // about T²·hs multiply-adds per item (half of QKᵀ and PV each, causal)
    const parts = Math.min(this.partsFor(items * T * T * hs, this.minAttnMacsPerThread), items);
    if (parts <= 1 && this.solo && this.foreign(qkv, y, att)) {
      this.lastParts = 1;
      return this.solo.attention(qkv, y, att, B, T, H, hs, scale);
    }
    this.wake(parts);
    const sb = this.kernels.attnScratchBytes(T, hs) / 4;
    // every item writes its head's columns of y and its whole T×T block of att: nothing needs copying in
    const [pq, py, pa, ps] = this.operands([[qkv, B * T * 3 * C, true], [y, B * T * C, false], [att, items * T * T, false], [null, parts * sb, false]]);
    this.parallel(items, 1, 1, parts, 8, (s, lo, hi) =>
      this.job(s, OP_ATTENTION, pq, py, pa, T, H, hs, scale, lo, hi, ps + s * sb * 4));
    this.result(y, py, B * T * C);
    this.result(att, pa, items * T * T);
  }

  override attentionBackward(
    qkv: Float32Array, att: Float32Array, dy: Float32Array, dqkv: Float32Array,
    B: number, T: number, H: number, hs: number, scale: number, accumulate: boolean,
  ): void {
    const items = B * H, C = H * hs;
    checkAttention('attentionBackward', B, T, H, hs, { qkv, att, dy, dqkv });
    if (items === 0 || T === 0 || hs === 0) return;
    // twice the forward's products
    const parts = Math.min(this.partsFor(2 * items * T * T * hs, this.minAttnMacsPerThread), items);
    if (parts <= 1 && this.solo && this.foreign(qkv, att, dy, dqkv)) {
      this.lastParts = 1;
      return this.solo.attentionBackward(qkv, att, dy, dqkv, B, T, H, hs, scale, accumulate);
    }
    this.wake(parts);
    const sb = this.kernels.attnScratchBytes(T, hs) / 4;
    const n3 = B * T * 3 * C;
    const [pq, pa, pdy, pdq, ps] = this.operands([
      [qkv, n3, true], [att, items * T * T, true], [dy, B * T * C, true], [dqkv, n3, accumulate], [null, parts * sb, false],
    ]);
    this.parallel(items, 1, 1, parts, 10, (s, lo, hi) =>
      this.job(s, OP_ATTENTION_BACKWARD, pq, pa, pdy, pdq, T, H, hs, scale, accumulate ? 1 : 0, lo, hi, ps + s * sb * 4));
    this.result(dqkv, pdq, n3);
  }

  /** a copy of `bytes` inside this memory (kept while the returned view is referenced); null without a heap */
  residentBytes(bytes: Uint8Array): Uint8Array | null {
    if (!this.heap) return null;
    const v = this.heap.persistentBytes(bytes.length);
    v.set(bytes);
    return v;
  }

  /**
   * see Backend.residentQuantWeights: Q8_0 rows in groups of 4 interleaved block by block
   * (assembly/qmatvec.ts interleaveQ8_0Rows), which qmatvec reads as one stream four rows at a time
   * (124M-size matrices from memory: 1.5× the rate of one row at a time); other types as stored
   */
  residentQuantWeights(type: number, bytes: Uint8Array, rows: number, rowBytes: number): { w: Uint8Array; rowGroup: number } | null {
    if (type !== Q8_0_TYPE || rows < 4 || rowBytes % 34 !== 0 || bytes.length < rows * rowBytes) {
      const w = this.residentBytes(bytes);
      return w && { w, rowGroup: 1 };
    }
    if (!this.heap) return null;
    const w = this.heap.persistentBytes(rows * rowBytes);
    // through the staging area a slice of whole groups at a time (≤ 1 MiB, at least one group)
    const groupBytes = 4 * rowBytes, per = Math.max(1, Math.floor(QUANT_CHUNK * 4 / groupBytes)) * groupBytes;
    for (let at = 0; at < rows * rowBytes; at += per) {
      const n = Math.min(per, rows * rowBytes - at), base = this.ensure(n);
      new Uint8Array(this.memory.buffer, base, n).set(bytes.subarray(at, at + n));
      this.kernels.interleaveQ8_0Rows(base, w.byteOffset + at, n / rowBytes, rowBytes / 34);
    }
    return { w, rowGroup: 4 };
  }

  /** see QuantMatVecArgs: assembly/qmatvec.ts, output rows split across the threads */
  quantMatVec(q: QuantMatVecArgs): boolean {
    const t = QMATVEC_TYPES[q.type];
    if (!t || !this.heap || !this.heap.ownsBytes(q.w)) return false;
    const group = q.rowGroup ?? 1;
    if (group !== 1 && !(group === 4 && q.type === Q8_0_TYPE)) throw new Error(`WasmBackend.quantMatVec: rows grouped by ${group} are not a layout of ggml type ${q.type}`);
    const { rows, rowBytes, nx, blocks } = q, n = blocks * t.block;
    if (q.w.length < rows * rowBytes) throw new Error(`WasmBackend.quantMatVec: ${rows} rows of ${rowBytes} bytes need ${rows * rowBytes}, got ${q.w.length}`);
    if (q.y.length < nx * rows) throw new Error(`WasmBackend.quantMatVec: y has ${q.y.length} floats for ${nx}×${rows}`);
    if (q.x.length < nx * n) throw new Error(`WasmBackend.quantMatVec: x has ${q.x.length} floats for ${nx}×${n}`);
    const parts = this.partsFor(rows * rowBytes * nx, this.minQuantBytesPerThread);
    this.wake(parts);
    const xqStride = blocks * t.actBytes, xsStride = blocks * t.actScales;
    const [px, py, pb, pxq, pxs, pxw] = this.operands([
      [q.x, nx * n, true], [q.y, nx * rows, false], [q.bias, q.bias ? rows : 0, true],
      [null, Math.ceil((nx * xqStride) / 4), false], [null, nx * xsStride, false], [null, Math.ceil(nx * n / 2), false],
    ]);
    this.kernels.quantizeActivations(q.type, px, n, nx, pxq, pxs, pxw, xqStride, xsStride * 4);
    this.parallel(rows, 8, 8, parts, 15, (s, lo, hi) =>
      this.job(s, OP_QMATVEC, q.type, q.w.byteOffset, rowBytes, pxq, pxs, pxw, xqStride, xsStride * 4, n * 2, nx,
        py, rows, q.bias ? pb : 0, blocks, lo, hi, group));
    this.result(q.y, py, nx * rows);
    return true;
  }

  /** see Backend.dequantizeBytes: assembly/quantize.ts on this thread, QUANT_CHUNK values at a time */
  dequantizeBytes(type: number, bytes: Uint8Array, n: number): Float32Array | null {
    const t = QUANT_BLOCKS[type];
    if (!t || n % t[0] !== 0 || bytes.length < (n / t[0]) * t[1]) return null;
    if (this.solo) return this.solo.dequantizeBytes(type, bytes, n);
    const out = new Float32Array(n), step = QUANT_CHUNK - (QUANT_CHUNK % t[0]);
    for (let i = 0; i < n; i += step) {
      const m = Math.min(step, n - i), inBytes = (m / t[0]) * t[1], at = (inBytes + 15) & ~15;
      const base = this.ensure(at + 4 * m), src = ((i / t[0]) * t[1]);
      new Uint8Array(this.memory.buffer, base, inBytes).set(bytes.subarray(src, src + inBytes));
      this.kernels.dequantizeBlocks(type, base, m, base + at);
      out.set(new Float32Array(this.memory.buffer, base + at, m), i);
    }
    return out;
  }

  /** see Backend.quantizeFloats: assembly/quantize.ts (and quantize-k.ts) on this thread, QUANT_CHUNK values at a time */
  quantizeFloats(type: number, x: Float32Array): Uint8Array | null {
    const t = QUANT_BLOCKS[type];
    if (!t || x.length % t[0] !== 0) return null;
    if (this.solo) return this.solo.quantizeFloats(type, x);
    const n = x.length, [block, bytes] = t, out = new Uint8Array((n / block) * bytes);
    for (let i = 0; i < n; i += QUANT_CHUNK) {
      const m = Math.min(QUANT_CHUNK, n - i), outBytes = (m / block) * bytes, scratch = (4 * m + outBytes + 15) & ~15;
      const base = this.ensure(scratch + KQUANT_SCRATCH);
      new Float32Array(this.memory.buffer, base, m).set(x.subarray(i, i + m));
      this.kernels.quantizeBlocks(type, base, m, base + 4 * m, base + scratch);
      out.set(new Uint8Array(this.memory.buffer, base + 4 * m, outBytes), (i / block) * bytes);
    }
    return out;
  }

  /** see Backend.word2vecTrain: assembly/word2vec.ts, laid out and run by word2vec-kernel.ts */
  word2vecTrain(job: Word2VecKernelJob): boolean {
    return trainWord2VecKernel(job, {
      kernels: this.kernels, threads: this.threads, buffer: () => this.memory.buffer,
      ensure: (bytes) => this.ensure(bytes), runTeamJobs: (n, write, own) => this.runTeamJobs(n, write, own),
    });
  }

  /** see Backend.im2col: assembly/conv.ts, the chunk's (image, channel) units split across the threads */
  im2col(x: Float32Array, col: Float32Array, g: ConvGeometry, n0: number, n: number): boolean {
    return this.convUnits(OP_IM2COL, x, col, g, n0, n);
  }

  /** see Backend.col2im */
  col2im(col: Float32Array, dx: Float32Array, g: ConvGeometry, n0: number, n: number): boolean {
    return this.convUnits(OP_COL2IM, dx, col, g, n0, n);
  }

  /** im2col (images → col) or col2im (col added onto the images) over units (image, input channel) */
  private convUnits(op: number, img: Float32Array, col: Float32Array, g: ConvGeometry, n0: number, n: number): boolean {
    const name = op === OP_IM2COL ? 'im2col' : 'col2im', unroll = op === OP_IM2COL;
    checkDims(name, { n0, n });
    const size = g.C * g.H * g.W, ni = n * size, nc = g.G * g.Cg * g.kH * g.kW * n * g.Ho * g.Wo;
    checkLength(name, 'image', img, (n0 + n) * size, `n0=${n0}, n=${n}, C=${g.C}, H=${g.H}, W=${g.W}`);
    checkLength(name, 'col', col, nc, `n=${n}, K=${g.G * g.Cg * g.kH * g.kW}, Ho=${g.Ho}, Wo=${g.Wo}`);
    if (nc === 0) return true;
    const part = img.subarray(n0 * size, (n0 + n) * size);
    const parts = this.partsFor(nc, this.elemsPerThread(this.minLightElemsPerThread, part, col));
    if (parts <= 1 && this.solo && this.foreign(part, col)) {
      this.lastParts = 1;
      return this.solo.convUnits(op, part, col, g, 0, n);
    }
    this.wake(parts);
    const [pi, pc] = this.operands([[part, ni, true], [col, nc, !unroll]]);
    this.parallel(n * g.C, 1, 1, parts, 18, (s, lo, hi) => this.job(s, op, unroll ? pi : pc, unroll ? pc : pi, n, g.C, g.H, g.W,
      g.Cg, g.kH, g.kW, g.sH, g.sW, g.pH, g.pW, g.dH, g.dW, g.Ho, g.Wo, lo, hi));
    if (unroll) this.result(col, pc, nc);
    else this.result(part, pi, ni);
    return true;
  }

  // Light element-wise kernels: one pass at memory speed, so they run on this thread, and only on arrays that
  // live in the memory; copying operands in would cost more than the JS loop of the reference.

  override add(a: Float32Array, b: Float32Array, y: Float32Array, n: number): void {
    checkDims('add', { n });
    for (const [name, arr] of [['a', a], ['b', b], ['y', y]] as const) checkLength('add', name, arr, n, `n=${n}`);
    if (!(this.resident(a) && this.resident(b) && this.resident(y))) return super.add(a, b, y, n);
    this.kernels.addVec(a.byteOffset, b.byteOffset, y.byteOffset, 0, n);
  }

  override sumSquares(x: Float32Array, n: number): number {
    checkDims('sumSquares', { n });
    checkLength('sumSquares', 'x', x, n, `n=${n}`);
    if (!this.resident(x)) return super.sumSquares(x, n);
    return this.kernels.sumSquares(x.byteOffset, 0, n);
  }

  override scale(x: Float32Array, s: number, n: number): void {
    checkDims('scale', { n });
    checkLength('scale', 'x', x, n, `n=${n}`);
    if (!this.resident(x)) return super.scale(x, s, n);
    this.kernels.scaleVec(x.byteOffset, s, 0, n);
  }
}
