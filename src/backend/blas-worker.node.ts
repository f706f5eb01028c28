// The worker side of the blas backend's shared work. A worker thread of the wasm team that finds OP_SGEMM in
// its job slot runs its part of a product (BlasBackend.matmul), and one that finds OP_RECURRENT its share of a
// recurrent pass (BlasBackend.runRecurrent; recurrent-pass.ts splitShare) with the same wasm gate kernels as the
// main thread. Both call sgemm through this thread's own binding of the CBLAS library (loaded on first use;
// OpenBLAS is already in the process, and the main thread has set it to one thread).
import { ROW_MAJOR, loadBlas, viewSgemm, type BlasLibrary } from './blas.node.js';
import {
  PartnerFailedError, backwardPass, decodePass, directOps, forwardPass, spinBarrier, splitShare, type ViewSgemm,
} from './recurrent-pass.js';
import { CTRL_ABORT, CTRL_BARRIER, CTRL_ERROR, type Kernels } from './wasm.js';

let lib: BlasLibrary | null = null;
let sgemm: ViewSgemm | null = null;

/**
 * Runs the product encoded after the op code at jobs[o] (see BlasBackend.matmul): M, N, K, the byte offsets of
 * A, B and C with their leading dimensions, transA, transB, beta, then batch items and their strides.
 */
export function runSgemmJob(memory: WebAssembly.Memory, jobs: Float64Array, o: number): void {
  lib ??= loadBlas();
  const [M, N, K, pa, lda, pb, ldb, pc, ldc, ta, tb, beta, batch, sa, sb, sc] = jobs.subarray(o + 1, o + 17);
  const f32 = new Float32Array(memory.buffer);
  for (let i = 0; i < batch; i++) {
    const view = (p: number, stride: number): Float32Array => f32.subarray((p >>> 2) + i * stride);
    lib.sgemm(ROW_MAJOR, ta, tb, M, N, K, 1, view(pa, sa), lda, view(pb, sb), ldb, beta, view(pc, sc), ldc);
  }
}

/** Runs the pass encoded after the op code at jobs[o]. */
export function runRecurrentJob(kernels: Kernels, memory: WebAssembly.Memory, ctrl: Int32Array, jobs: Float64Array, o: number): void {
  try {
    lib ??= loadBlas();
    sgemm ??= viewSgemm(lib.sgemm);
    const { pass, backward, w, n } = decodePass(jobs, o + 1, memory.buffer);
    const share = splitShare(pass, w, n, spinBarrier(ctrl, CTRL_BARRIER, [CTRL_ABORT], n));
    (backward ? backwardPass : forwardPass)(directOps(kernels, sgemm), pass, share);
  } catch (e) {
    if (e instanceof PartnerFailedError) return; // the main thread failed and throws its own error
    Atomics.store(ctrl, CTRL_ERROR, 1); // the main thread must not wait for us at a barrier (worker.node.ts sets the real index)
    throw e;
  }
}
