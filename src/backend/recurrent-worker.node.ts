// The worker side of a split recurrent pass (BlasBackend.runRecurrent): a worker thread of the wasm team that
// finds OP_RECURRENT in its job slot decodes the pass (views on the shared memory) and runs its share of the
// timestep loop (recurrent-pass.ts splitShare) with the same wasm gate kernels as the main thread and its own
// binding of the CBLAS library (loaded on first use; OpenBLAS is already in the process, and the main thread
// has set it to one thread).
import { loadBlas, viewSgemm } from './blas.node.js';
import {
  PartnerFailedError, backwardRows, decodePass, directOps, forwardRows, spinBarrier, splitShare, type ViewSgemm,
} from './recurrent-pass.js';
import { CTRL_ABORT, CTRL_BARRIER, CTRL_ERROR, type Kernels } from './wasm.js';

let sgemm: ViewSgemm | null = null;

/** Runs the pass encoded after the op code at jobs[o]. */
export function runRecurrentJob(kernels: Kernels, memory: WebAssembly.Memory, ctrl: Int32Array, jobs: Float64Array, o: number): void {
  try {
    sgemm ??= viewSgemm(loadBlas().sgemm);
    const { pass, backward, w, n } = decodePass(jobs, o + 1, memory.buffer);
    const share = splitShare(pass, w, n, spinBarrier(ctrl, CTRL_BARRIER, [CTRL_ABORT], n));
    (backward ? backwardRows : forwardRows)(directOps(kernels, sgemm), pass, share);
  } catch (e) {
    if (e instanceof PartnerFailedError) return; // the main thread failed and throws its own error
    Atomics.store(ctrl, CTRL_ERROR, 1); // the main thread must not wait for us at a barrier (worker.node.ts sets the real index)
    throw e;
  }
}
