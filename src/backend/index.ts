// Choosing and installing the kernel backend (browser-safe; Node code uses index.node.ts, which adds threads).
//
//   await initBackend();                   // 'auto': wasm SIMD, single thread (falls back to js without wasm SIMD)
//   await initBackend({ backend: 'js' });  // the plain reference
//   ensureBackend();                       // library code: make sure *something* is installed
import { backend, hasBackend, setBackend, type Backend } from './backend.js';
import { JsBackend } from './js.js';
import { WasmBackend } from './wasm.js';
import { setStorageProvider } from './storage.js';

/**
 * 'blas' (native OpenBLAS matmul through koffi) exists only in Node: index.node.ts; here it is refused.
 * 'auto' is the fastest available: blas in Node where koffi and a BLAS library load, else wasm, else js.
 */
export type BackendName = 'auto' | 'js' | 'wasm' | 'blas';

export interface BackendOptions {
  /**
   * default 'auto' (falls back quietly); an explicit 'wasm' fails loudly where WebAssembly SIMD is missing, an
   * explicit 'blas' (Node only) when koffi or the BLAS library is missing.
   */
  backend?: BackendName;
  /** threads for the wasm (and blas) backend; browsers run one (workers would need a cross-origin-isolated page) */
  threads?: number;
}

export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'js', 'wasm', 'blas'];

/** Validates options shared by the browser and Node entry points; returns the backend name. */
export function checkBackendOptions(opts: BackendOptions): BackendName {
  const name = opts.backend ?? 'auto';
  if (!BACKEND_NAMES.includes(name)) {
    throw new Error(`unknown backend '${String(name)}': expected one of ${BACKEND_NAMES.join(', ')}`);
  }
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1)) {
    throw new Error(`threads must be a positive integer, got ${opts.threads}`);
  }
  return name;
}

let owned: { dispose(): void } | null = null;

/** Installs `b` as the active backend, releasing the previous one if this module created it. */
export function install(b: Backend): Backend {
  const prev = owned;
  owned = b instanceof WasmBackend ? b : null;
  setBackend(b);
  // tensors go where the backend's kernels can use them in place (inside its wasm memory) when it offers that
  setStorageProvider(b instanceof WasmBackend ? b.storage : null);
  if (prev && (prev as unknown) !== b) prev.dispose();
  return b;
}

/** Creates, installs and returns a backend. Single-threaded here; see index.node.ts for threads. */
export async function initBackend(opts: BackendOptions = {}): Promise<Backend> {
  const name = checkBackendOptions(opts);
  if (name === 'js') return install(new JsBackend());
  if (name === 'blas') throw new Error('blas backend: only available in Node (import initBackend from backend/index.node.js)');
  try {
    // a shared memory lets the backend keep tensors inside it (only cross-origin-isolated pages have one, and
    // an engine may still refuse its 4 GiB reservation: then a plain one)
    const shared = typeof SharedArrayBuffer !== 'undefined' && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
    return install(await WasmBackend.create({ shared }).catch(() => WasmBackend.create()));
  } catch (e) {
    if (opts.backend === 'wasm') throw e;
    return install(new JsBackend());
  }
}

/** The active backend, installing the JS reference first if none is (so library code works without init). */
export function ensureBackend(): Backend {
  if (!hasBackend()) setBackend(new JsBackend());
  return backend();
}
