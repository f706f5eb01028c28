// Choosing and installing the kernel backend in Node: like index.ts, but the wasm backend runs on a team of
// worker threads (threads.node.ts), by default one per core up to 4, and there is a native 'blas' backend
// (blas.node.ts: OpenBLAS matmul through koffi), which 'auto' (the default) takes where it loads: on the
// nanoGPT CPU config a training step takes 21–25 ms there against 45–48 ms on wasm (`gptlab bench`).
import type { Backend } from './backend.js';
import { JsBackend } from './js.js';
import { checkBackendOptions, ensureBackend, install, type BackendName, type BackendOptions } from './index.js';
import { createThreadedWasmBackend, defaultThreads } from './threads.node.js';

export { ensureBackend, type BackendName, type BackendOptions };

/**
 * Creates, installs and returns a backend: 'auto' (default: blas if it loads, else wasm, else js), wasm on
 * `threads` threads (default: defaultThreads()), 'js', or 'blas' (which throws one BlasUnavailableError,
 * saying what to install, when koffi or OpenBLAS is missing).
 */
export async function initBackend(opts: BackendOptions = {}): Promise<Backend> {
  const name = checkBackendOptions(opts);
  if (name === 'js') return install(new JsBackend());
  if (name === 'blas' || name === 'auto') {
    // loaded lazily so that koffi is never touched unless blas may be used
    const { createBlasBackend, BlasUnavailableError } = await import('./blas.node.js');
    try {
      return install(await createBlasBackend(opts.threads ?? defaultThreads()));
    } catch (e) {
      if (name === 'blas' || !(e instanceof BlasUnavailableError)) throw e;
    }
  }
  try {
    return install(await createThreadedWasmBackend(opts.threads ?? defaultThreads()));
  } catch (e) {
    if (opts.backend === 'wasm') throw e;
    return install(new JsBackend());
  }
}
