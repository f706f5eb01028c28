// Choosing and installing the kernel backend in Node: like index.ts, but the wasm backend runs on a team of
// worker threads (threads.node.ts), by default one per core up to 4, and there is a native 'blas' backend
// (blas.node.ts: OpenBLAS matmul through koffi), only when asked for by name.
import type { Backend } from './backend.js';
import { JsBackend } from './js.js';
import { checkBackendOptions, ensureBackend, install, type BackendName, type BackendOptions } from './index.js';
import { createThreadedWasmBackend, defaultThreads } from './threads.node.js';

export { ensureBackend, type BackendName, type BackendOptions };

/**
 * Creates, installs and returns a backend: wasm on `threads` threads (default: defaultThreads()), 'js', or
 * 'blas' (which throws one BlasUnavailableError, saying what to install, when koffi or OpenBLAS is missing).
 */
export async function initBackend(opts: BackendOptions = {}): Promise<Backend> {
  const name = checkBackendOptions(opts);
  if (name === 'js') return install(new JsBackend());
  if (name === 'blas') {
    // loaded lazily so that koffi is never touched unless asked for
    const { createBlasBackend } = await import('./blas.node.js');
    return install(await createBlasBackend(opts.threads ?? defaultThreads()));
  }
  try {
    return install(await createThreadedWasmBackend(opts.threads ?? defaultThreads()));
  } catch (e) {
    if (opts.backend === 'wasm') throw e;
    return install(new JsBackend());
  }
}
