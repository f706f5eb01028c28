// Where tensor data lives. By default every array is an ordinary Float32Array on the JS heap. A backend whose
// kernels run inside a WebAssembly memory can install a StorageProvider that hands out arrays *inside* that
// memory (src/backend/wasm-heap.ts), so its kernels work on tensors in place instead of copying every operand
// in and every result out, and the garbage collector never sees the step's megabytes of activations.
//
// Two lifetimes:
//   allocPersistent(n)  parameters and optimizer moments: live as long as the returned array is referenced.
//   alloc(n)            op results and gradients: inside stepScope(fn) they come from a bump arena that is
//                       released, all at once, when fn returns; outside any scope they are ordinary arrays.
// A scoped array must not be used after its scope ends: stepScope is for code that knows what it keeps (the
// trainer keeps only numbers, and drops parameter gradients before the scope closes).
// Browser-safe: no Node imports.

export interface StorageProvider {
  /** whether `a` already lives in this storage */
  owns(a: Float32Array): boolean;
  /** a zero-filled array that lives as long as the returned view is referenced */
  persistent(n: number): Float32Array;
  /** gives back an array from `persistent` now, before the garbage collector would; other arrays are ignored */
  free?(a: Float32Array): void;
  /**
   * An array from the arena, valid until the arena is released past it; zero-filled unless `zero` is false.
   * null when the arena is full: the caller then takes an ordinary array.
   */
  scoped(n: number, zero: boolean): Float32Array | null;
  /** the arena's current position, for releaseTo */
  mark(): number;
  /** frees every scoped array handed out since `mark` */
  releaseTo(mark: number): void;
}

let provider: StorageProvider | null = null;
let scopeDepth = 0;

/** Installs (or, with null, removes) the provider; done by the backend that owns it (initBackend). */
export function setStorageProvider(p: StorageProvider | null): void {
  if (scopeDepth > 0) throw new Error('setStorageProvider: cannot change storage inside a stepScope');
  provider = p;
}

export function storageProvider(): StorageProvider | null {
  return provider;
}

/** A zero-filled array for an op's result or a gradient: from the step arena inside stepScope, else the JS heap. */
export function alloc(n: number): Float32Array {
  return (scopeDepth > 0 && provider !== null && provider.scoped(n, true)) || new Float32Array(n);
}

/**
 * Like alloc, for a result the caller overwrites entirely before reading (a matmul's output): inside stepScope
 * its contents are left as they were (skipping the zero fill), elsewhere it is zero-filled as usual.
 */
export function allocUninit(n: number): Float32Array {
  return (scopeDepth > 0 && provider !== null && provider.scoped(n, false)) || new Float32Array(n);
}

/** A zero-filled array that outlives steps (parameters, optimizer state): the provider's heap when there is one. */
export function allocPersistent(n: number): Float32Array {
  return provider !== null ? provider.persistent(n) : new Float32Array(n);
}

/**
 * Gives back a persistent array at once (the provider would otherwise wait for the garbage collector, which
 * a memory outside the JS heap does not hurry). The caller must hold no view on it afterwards. Arrays that
 * are not the provider's own persistent arrays are left alone.
 */
export function freePersistent(a: Float32Array): void {
  provider?.free?.(a);
}

/** `src` copied into persistent storage (or `src` itself when there is no provider or it already lives there). */
export function toPersistent(src: Float32Array): Float32Array {
  if (provider === null || provider.owns(src)) return src;
  const d = provider.persistent(src.length);
  d.set(src);
  return d;
}

/**
 * Runs fn with op results and gradients allocated from the provider's arena, and frees them all when fn
 * returns (or throws). Whatever fn returns must not hold scoped arrays. Without a provider it just runs fn.
 */
export function stepScope<T>(fn: () => T): T {
  const p = provider;
  if (p === null) return fn();
  const mark = p.mark();
  scopeDepth++;
  try {
    return fn();
  } finally {
    scopeDepth--;
    p.releaseTo(mark);
  }
}
