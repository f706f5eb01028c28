// BlasBackend: the wasm backend (on its worker threads) with matmul computed by the platform's native BLAS,
// `cblas_sgemm` from OpenBLAS (or macOS Accelerate), called through koffi. Node only; the default ('auto') where
// it loads, else by name (`initBackend({ backend: 'blas' })`). koffi is an optional dependency and the library a
// system package, so both are looked up when the backend is created, never at import time, and a missing one
// gives one clear error (or, under 'auto', the wasm backend).
//
// Every other kernel is the wasm one (BlasBackend extends WasmBackend and shares its memory and thread team),
// and products too small to repay a native call go to the wasm matmul as well (see BLAS_MIN_MACS).
//
// Operands are passed in place: koffi hands a Float32Array (or a subarray view of it, byteOffset honoured) to C
// as a pointer to its own storage, without copying, so a batch is one cblas_sgemm per item on subarray views.
//
// Library: $GPTLAB_BLAS_LIBRARY when set (and then only that one), else the first of libopenblas.so.0,
// libopenblas.so, libcblas.so.3 (Linux), libopenblas.dylib and Accelerate (macOS), libopenblas.dll (Windows).
import { createRequire } from 'node:module';
import type { MatmulArgs } from './backend.js';
import { ThreadPool, defaultThreads } from './threads.node.js';
import {
  CTRL_ABORT, CTRL_BARRIER, CTRL_ERROR, OP_RECURRENT, OP_SGEMM, WasmBackend, compileKernels, createMemory, instantiateKernels,
  type Kernels, type ThreadTeam,
} from './wasm.js';
import {
  PartnerFailedError, backwardPass, directOps, encodePass, forwardPass, passArrays, spinBarrier, splitShare,
  type RecurrentPass, type ViewSgemm,
} from './recurrent-pass.js';

// CBLAS enums
export const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

/**
 * Products with fewer multiply-adds than this (batch·M·N·K) stay on the wasm matmul. Measured on 2 shared
 * cores (OpenBLAS 0.3.21, Haswell kernels): a koffi call costs ~0.25 µs and a small sgemm ~1 µs, so sgemm already
 * wins at 16³ (1.1 vs 1.7 µs) and 32³ (1.5 vs 3.2 µs), but a batch of tiny items loses (12 × 8³: 3.5 vs 2.4 µs).
 * Below 32k multiply-adds either way costs at most a few µs.
 */
export const BLAS_MIN_MACS = 1 << 15;

/**
 * Products with fewer rows (M) than this stay on the wasm matmul, whose kernel for M < 4 reads B in place:
 * 1×384×128 took 5.2 µs there against 11 µs in sgemm, 1×1536×384 82 against 142 µs; at M = 4 sgemm wins.
 */
export const BLAS_MIN_ROWS = 4;

/** products (multiply-adds) from which the blas backend shares one between two threads of its own */
export const BLAS_MIN_SPLIT_MACS = 1 << 18;

/** Thrown when koffi or a CBLAS library is missing; its message says what to install. */
export class BlasUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlasUnavailableError';
  }
}

type Sgemm = (
  order: number, transA: number, transB: number, M: number, N: number, K: number, alpha: number,
  a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number,
) => void;

/** the loaded library (one per process: OpenBLAS keeps one thread pool) */
export interface BlasLibrary {
  /** the path or name it was loaded from */
  readonly path: string;
  readonly sgemm: Sgemm;
  /** openblas_set_num_threads when the library has it (OpenBLAS), else null */
  readonly setThreads: ((n: number) => void) | null;
  /** the count last passed to setThreads (0: never set) */
  threads: number;
}

// the little of koffi's API used here, typed locally so that the build does not need koffi installed
interface KoffiLib {
  func(definition: string): (...args: unknown[]) => unknown;
}
interface Koffi {
  load(path: string): KoffiLib;
}

let cached: BlasLibrary | null = null;
let failure: BlasUnavailableError | null = null;

function candidates(): string[] {
  const env = process.env.GPTLAB_BLAS_LIBRARY;
  if (env) return [env];
  const list: string[] = [];
  if (process.platform === 'darwin') {
    list.push('libopenblas.dylib', '/opt/homebrew/opt/openblas/lib/libopenblas.dylib',
      '/usr/local/opt/openblas/lib/libopenblas.dylib', '/System/Library/Frameworks/Accelerate.framework/Accelerate');
  } else if (process.platform === 'win32') {
    list.push('libopenblas.dll', 'openblas.dll');
  } else {
    list.push('libopenblas.so.0', 'libopenblas.so', 'libcblas.so.3');
  }
  return list;
}

function installHint(): string {
  if (process.platform === 'darwin') return 'brew install openblas (or set GPTLAB_BLAS_LIBRARY)';
  if (process.platform === 'win32') return 'put libopenblas.dll on PATH (or set GPTLAB_BLAS_LIBRARY)';
  return 'apt-get install libopenblas0-pthread (or set GPTLAB_BLAS_LIBRARY)';
}

function requireKoffi(): Koffi {
  try {
    const mod = createRequire(import.meta.url)('koffi') as Koffi | { default: Koffi };
    return 'load' in mod ? mod : mod.default;
  } catch (e) {
    const why = (e as { code?: string }).code === 'MODULE_NOT_FOUND'
      ? 'the optional dependency koffi is not installed (npm install koffi)'
      : `koffi failed to load (${(e as Error).message.split('\n')[0]})`;
    throw new BlasUnavailableError(`blas backend: ${why}`);
  }
}

/**
 * How long (2^n cycles) an idle OpenBLAS thread spins before it sleeps; OpenBLAS's default is 2^28, ~0.1 s.
 * Between two products of a training step the wasm kernels run on the worker-thread team, and a spinning
 * OpenBLAS thread takes a core from them: on 2 cores GELU and its backward took 2–3× longer. At 2^4 the
 * thread sleeps at once, and waking it for the next product costs microseconds.
 */
export const OPENBLAS_THREAD_TIMEOUT = 4;

/**
 * Loads koffi and the first library of `names` that has cblas_sgemm (uncached: see loadBlas). `threads` sizes
 * OpenBLAS's thread pool, which it reads from OPENBLAS_NUM_THREADS when loaded; OPENBLAS_THREAD_TIMEOUT is set
 * as above. Either one already in the environment is left as it is.
 */
export function openBlasLibrary(names: readonly string[], threads = 1): BlasLibrary {
  const koffi = requireKoffi();
  const errors: string[] = [];
  const defaults: Record<string, string> = {
    OPENBLAS_NUM_THREADS: String(threads), OPENBLAS_THREAD_TIMEOUT: String(OPENBLAS_THREAD_TIMEOUT),
  };
  const unset = Object.keys(defaults).filter((k) => process.env[k] === undefined);
  for (const k of unset) process.env[k] = defaults[k];
  try {
    for (const path of names) {
      let lib: KoffiLib;
      try {
        lib = koffi.load(path);
      } catch (e) {
        errors.push(`${path}: ${(e as Error).message.split('\n')[0]}`);
        continue;
      }
      let sgemm: Sgemm;
      try {
        sgemm = lib.func('void cblas_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, ' +
          'const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)') as unknown as Sgemm;
      } catch (e) {
        errors.push(`${path}: no cblas_sgemm (${(e as Error).message.split('\n')[0]})`);
        continue;
      }
      let setThreads: ((n: number) => void) | null = null;
      try {
        setThreads = lib.func('void openblas_set_num_threads(int n)') as (n: number) => void;
      } catch {
        // not OpenBLAS (Accelerate, reference CBLAS): its threading is its own business
      }
      return { path, sgemm, setThreads, threads: 0 };
    }
  } finally {
    // the child processes this one starts should not inherit them
    for (const k of unset) delete process.env[k];
  }
  throw new BlasUnavailableError(
    `blas backend: ${names[0] ?? 'a CBLAS library'} not found; ${installHint()}\n  tried: ${errors.join('\n         ')}`);
}

/**
 * Loads koffi and the first CBLAS library found (once per process; later calls return the same library or
 * throw the same BlasUnavailableError). `threads` sizes OpenBLAS's pool when this call is the one that loads it.
 */
export function loadBlas(threads = 1): BlasLibrary {
  if (cached) return cached;
  if (failure) throw failure;
  try {
    cached = openBlasLibrary(candidates(), threads);
    return cached;
  } catch (e) {
    if (e instanceof BlasUnavailableError) failure = e;
    throw e;
  }
}

/** null when the blas backend can be created here, else why not (for tests that skip) */
export function blasUnavailableReason(): string | null {
  try {
    loadBlas();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

function checkDims(dims: Record<string, number>): void {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`BlasBackend.matmul: ${k} must be a non-negative integer, got ${v}`);
  }
}

function checkLength(name: string, arr: Float32Array, batch: number, stride: number, size: number, detail: string): void {
  const need = size === 0 ? 0 : (batch - 1) * stride + size;
  if (arr.length < need) throw new Error(`BlasBackend.matmul: ${name} has ${arr.length} elements but ${detail} needs ${need}`);
}

export class BlasBackend extends WasmBackend {
  override readonly name: string = 'blas';
  /** products below this many multiply-adds go to the wasm matmul; tests set 0 to send everything to BLAS */
  minBlasMacs = BLAS_MIN_MACS;
  /** products with fewer rows than this go to the wasm matmul (its small-M kernel); tests set 0 */
  minBlasRows = BLAS_MIN_ROWS;
  /** whether the most recent matmul went to BLAS (for tests and benchmarks) */
  lastUsedBlas = false;
  /** batch rows below which a recurrent pass runs on this thread alone (tests lower it) */
  minRecurrentRows = 8;
  /** recurrent passes split over two threads so far (for tests) */
  splitPasses = 0;
  /** products (batch·M·N·K multiply-adds) from which matmul shares the work with worker 1 (tests lower it) */
  minSplitMacs = BLAS_MIN_SPLIT_MACS;
  /** products shared with worker 1 so far (for tests) */
  splitMatmuls = 0;
  private readonly blas: BlasLibrary;

  constructor(
    blas: BlasLibrary, kernels: Kernels, memory: WebAssembly.Memory, team: ThreadTeam | null,
    solo: WasmBackend | null = null,
  ) {
    super(kernels, memory, team, solo);
    this.blas = blas;
    // workers that stay awake between kernels would take a core from OpenBLAS's threads (a step went 21 → 34 ms)
    this.workerSpin = 0;
  }

  /** the library with OpenBLAS's own thread count at n (one where our threads share the work), set only on a change */
  private useBlasThreads(n: number): BlasLibrary {
    const lib = this.blas;
    if (lib.setThreads && lib.threads !== n) {
      lib.setThreads(n);
      lib.threads = n;
    }
    return lib;
  }

  /**
   * A recurrent pass on this thread and worker 1 together (blas-worker.node.ts), each with single-threaded
   * sgemm and the wasm gate kernels: the element-wise work splits by batch rows, each step's product by
   * columns (every thread multiplies all rows by its half of W_hh), with a barrier between the two. At B 32,
   * H 256 a half-width product on one thread costs less than half of what the whole one costs on OpenBLAS's two
   * threads (which wakes its helper for every call), and the gate kernels run on both cores. Small batches,
   * arrays outside the memory or a single thread take the reference loop.
   */
  override runRecurrent(pass: RecurrentPass, backward: boolean): void {
    const ctrl = this.control;
    const inMemory = passArrays(pass).every((a) => this.resident(a));
    if (ctrl === null || this.threads < 2 || pass.B < this.minRecurrentRows || !inMemory) {
      super.runRecurrent(pass, backward);
      return;
    }
    const lib = this.useBlasThreads(1);
    Atomics.store(ctrl, CTRL_BARRIER, 0);
    Atomics.store(ctrl, CTRL_ABORT, 0);
    this.splitPasses++;
    const share = splitShare(pass, 0, 2, spinBarrier(ctrl, CTRL_BARRIER, [CTRL_ERROR], 2));
    const ops = directOps(this.kernels, viewSgemm(lib.sgemm));
    this.runTeamJobs(2, (jobs, o) => {
      jobs[o] = OP_RECURRENT;
      encodePass(pass, backward, 1, 2, jobs, o + 1);
    }, () => {
      try {
        (backward ? backwardPass : forwardPass)(ops, pass, share);
      } catch (e) {
        if (e instanceof PartnerFailedError) return; // the team reports the worker's own error
        Atomics.store(ctrl, CTRL_ABORT, 1); // the worker must not wait for us at a barrier
        throw e;
      }
    });
  }

  /**
   * A product on this thread and worker 1 at once, each calling single-threaded sgemm on its half: batch items
   * when there are several, else rows of C (columns when there are few rows). OpenBLAS's own threads wake for
   * every call and sleep after it (so as not to take a core from the wasm kernels); a worker of ours is awake
   * already. false when the operands are not all in the memory, there is no second thread, or the product is
   * too small to share.
   */
  private splitMatmul(a: Float32Array, b: Float32Array, c: Float32Array, args: MatmulArgs): boolean {
    const { batch, M, N, K, transA, transB, strideA, strideB, strideC } = args;
    const ctrl = this.control;
    if (ctrl === null || this.threads < 2 || batch * M * N * K < this.minSplitMacs) return false;
    if (!this.resident(a) || !this.resident(b) || !this.resident(c)) return false;
    if (batch > 1 && strideC < M * N) return false; // items that share C must stay in order on one thread
    const lda = transA ? M : K, ldb = transB ? K : N;
    const whole: SgemmPart = { M, N, K, a: 0, lda, b: 0, ldb, c: 0, ldc: N, batch };
    let parts: [SgemmPart, SgemmPart];
    if (batch > 1) {
      const h = batch >> 1;
      parts = [{ ...whole, batch: h }, { ...whole, a: h * strideA, b: h * strideB, c: h * strideC, batch: batch - h }];
    } else if (M >= 16) {
      const h = Math.ceil(M / 2 / 4) * 4; // A's rows are its columns when transposed
      parts = [{ ...whole, M: h }, { ...whole, M: M - h, a: transA ? h : h * K, c: h * N }];
    } else if (N >= 32) {
      const h = Math.ceil(N / 2 / 16) * 16; // B's columns are its rows when transposed
      parts = [{ ...whole, N: h }, { ...whole, N: N - h, b: transB ? h * K : h, c: h }];
    } else return false;
    const lib = this.useBlasThreads(1);
    const ta = transA ? TRANS : NO_TRANS, tb = transB ? TRANS : NO_TRANS, beta = args.accumulate ? 1 : 0;
    const run = (p: SgemmPart): void => {
      for (let i = 0; i < p.batch; i++) {
        lib.sgemm(ROW_MAJOR, ta, tb, p.M, p.N, p.K, 1, a.subarray(p.a + i * strideA), p.lda, b.subarray(p.b + i * strideB), p.ldb,
          beta, c.subarray(p.c + i * strideC), p.ldc);
      }
    };
    const [own, theirs] = parts;
    const byte = (arr: Float32Array, off: number): number => arr.byteOffset + off * 4;
    this.splitMatmuls++;
    return this.runTeamJobs(2, (jobs, o) => {
      jobs.set([OP_SGEMM, theirs.M, theirs.N, theirs.K, byte(a, theirs.a), theirs.lda, byte(b, theirs.b), theirs.ldb,
        byte(c, theirs.c), theirs.ldc, ta, tb, beta, theirs.batch, strideA, strideB, strideC], o);
    }, () => run(own));
  }

  override matmul(a: Float32Array, b: Float32Array, c: Float32Array, args: MatmulArgs): void {
    const { batch, M, N, K, transA, transB, accumulate, strideA, strideB, strideC } = args;
    // M < 4: a row or three (sampling a token) goes to wasm's gemmSmallM, 2× faster than sgemm there
    if (batch * M * N * K < this.minBlasMacs || M < this.minBlasRows || K === 0) {
      this.lastUsedBlas = false;
      super.matmul(a, b, c, args);
      return;
    }
    checkDims({ batch, M, N, K, strideA, strideB, strideC });
    // native code does no bounds checks: every item must lie inside its array
    const shape = `batch=${batch}, M=${M}, N=${N}, K=${K}`;
    checkLength('A', a, batch, strideA, M * K, `${shape}, strideA=${strideA}`);
    checkLength('B', b, batch, strideB, K * N, `${shape}, strideB=${strideB}`);
    checkLength('C', c, batch, strideC, M * N, `${shape}, strideC=${strideC}`);
    this.lastUsedBlas = true;
    if (this.splitMatmul(a, b, c, args)) return;
    const lib = this.useBlasThreads(this.threads);
    const ta = transA ? TRANS : NO_TRANS, tb = transB ? TRANS : NO_TRANS;
    // row-major leading dimensions: A is [M, K] (or [K, M]), B [K, N] (or [N, K]), C [M, N]
    const lda = transA ? M : K, ldb = transB ? K : N;
    const beta = accumulate ? 1 : 0;
    const sgemm = lib.sgemm;
    if (batch === 1) {
      sgemm(ROW_MAJOR, ta, tb, M, N, K, 1, a, lda, b, ldb, beta, c, N);
      return;
    }
    for (let i = 0; i < batch; i++) {
      // views share the arrays' storage: koffi passes their data pointers (plus byteOffset), nothing is copied
      const ai = strideA === 0 ? a : a.subarray(i * strideA);
      const bi = strideB === 0 ? b : b.subarray(i * strideB);
      const ci = strideC === 0 ? c : c.subarray(i * strideC);
      sgemm(ROW_MAJOR, ta, tb, M, N, K, 1, ai, lda, bi, ldb, beta, ci, N);
    }
  }
}

/** one thread's part of a product: sgemm's arguments with the operands as element offsets into a, b, c */
interface SgemmPart {
  M: number; N: number; K: number;
  a: number; lda: number; b: number; ldb: number; c: number; ldc: number;
  batch: number;
}

/** `sgemm` as a product of row-major views, C (+)= op(A)·op(B) with C (M, N) in rows of ldc */
export function viewSgemm(sgemm: Sgemm): ViewSgemm {
  return (M, N, K, a, transA, b, transB, c, accumulate, ldb, ldc) =>
    sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, M, N, K, 1, a, transA ? M : K, b, ldb, accumulate ? 1 : 0, c, ldc);
}

/**
 * The blas backend: OpenBLAS (or Accelerate) matmul on `threads` threads, every other kernel from the wasm
 * backend on the same number of threads. Throws BlasUnavailableError, before starting any thread, when koffi
 * or the library is missing.
 */
export async function createBlasBackend(threads = defaultThreads()): Promise<BlasBackend> {
  const blas = loadBlas(threads);
  if (threads === 1) {
    // shared, though single-threaded: tensors can then live in it (wasm-heap.ts)
    const memory = createMemory(true);
    return new BlasBackend(blas, await instantiateKernels(await compileKernels(true), memory), memory, null);
  }
  const module = await compileKernels(true);
  const memory = createMemory(true, threads);
  const kernels = await instantiateKernels(module, memory);
  const pool = await ThreadPool.start(module, memory, threads);
  return new BlasBackend(blas, kernels, memory, pool, await WasmBackend.create());
}
