// A team of worker threads that run the wasm kernels on the main thread's shared memory (Node only).
//
// All threads instantiate the same module on the same WebAssembly.Memory, so a job is just "run kernel X on
// these byte offsets, rows [lo, hi)". The main thread writes one job per thread into the job slots, bumps
// each worker's sequence word (Atomics.notify wakes it), runs slot 0 itself, then waits for the done counter:
//
//   ctrl[CTRL_DONE]        workers increment it when their slot is finished
//   ctrl[CTRL_ERROR]       the index of a worker whose job threw (its message waits on an error port)
//   ctrl[CTRL_NEXT]        next chunk of a dynamically split job (see runJob in wasm.ts)
//   ctrl[CTRL_SEQ + w]     worker w's sequence number; a change means "slot w has a new job"
//   ctrl[CTRL_CLAIM + w]   POSTED when slot w's job waits for worker w, TAKEN once it runs it: the worker
//                          claims it with a compare-exchange, and for a dynamically split job the main thread,
//                          its own share done, withdraws every job still POSTED (its chunks are all taken), so a
//                          worker that a busy machine has not scheduled yet is not waited for
//
// Everything is synchronous (Atomics.wait), as the tensor engine is. Workers are unref'd, so an idle team
// never keeps a CLI process alive; dispose() ends them explicitly.
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import {
  CLAIM_IDLE, CLAIM_POSTED, CTRL_BYTE, CTRL_CLAIM, CTRL_DONE, CTRL_ERROR, CTRL_INTS, CTRL_NEXT, CTRL_SEQ, JOBS_BYTE, JOB_SLOT, MAX_THREADS, OP_QUIT, WasmBackend, compileKernels, createMemory,
  instantiateKernels, type ThreadTeam,
} from './wasm.js';

/** polls of a control word before falling asleep on it (~10 µs) */
export const SPIN_ITERS = 2000;
/** polls after wake() woke a worker before its job arrived: long enough to cover copying operands in */
export const SPIN_ITERS_WOKEN = 100_000;

export class ThreadPool implements ThreadTeam {
  readonly threads: number;
  private readonly workers: Worker[];
  private readonly errorPorts: MessagePort[];
  private readonly ctrl: Int32Array;
  private readonly jobs: Float64Array;
  private disposed = false;

  /** Starts `threads − 1` workers (the caller is the remaining thread) and waits until they are ready. */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number): Promise<ThreadPool> {
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
      throw new Error(`threads must be an integer in [1, ${MAX_THREADS}], got ${threads}`);
    }
    const url = new URL('./worker.node.js', import.meta.url);
    const workers: Worker[] = [];
    const errorPorts: MessagePort[] = [];
    try {
      await Promise.all(
        Array.from({ length: threads - 1 }, (_, i) => new Promise<void>((resolve, reject) => {
          const { port1, port2 } = new MessageChannel();
          port1.unref();
          errorPorts.push(port1);
          // no inherited Node flags: `node --input-type=module -e …` has one a worker's file cannot take (V8's
          // flags, which are per process, still apply)
          const w = new Worker(url, { workerData: { module, memory, index: i + 1, errors: port2 }, transferList: [port2], execArgv: [] });
          workers.push(w);
          w.once('message', () => resolve());
          w.once('error', (e) => reject(new Error(`kernel worker ${i + 1} failed to start: ${e.message}`)));
          w.once('exit', (code) => reject(new Error(`kernel worker ${i + 1} exited during start (code ${code})`)));
        })),
      );
    } catch (e) {
      for (const w of workers) void w.terminate();
      throw e;
    }
    for (const w of workers) {
      w.removeAllListeners('exit');
      w.removeAllListeners('error');
      // a worker that dies later (it should not) must not crash the process from an unhandled 'error'
      w.on('error', () => {});
      w.unref();
    }
    return new ThreadPool(memory, workers, errorPorts, threads);
  }

  private constructor(memory: WebAssembly.Memory, workers: Worker[], errorPorts: MessagePort[], threads: number) {
    this.threads = threads;
    this.workers = workers;
    this.errorPorts = errorPorts;
    this.ctrl = new Int32Array(memory.buffer, CTRL_BYTE, CTRL_INTS);
    this.jobs = new Float64Array(memory.buffer, JOBS_BYTE, JOB_SLOT * MAX_THREADS);
  }

  run(n: number, own: () => void, withdraw = false): void {
    if (this.disposed) throw new Error('ThreadPool: used after dispose()');
    if (n > this.threads) throw new Error(`ThreadPool.run: ${n} jobs for ${this.threads} threads`);
    const ctrl = this.ctrl;
    const helpers = n - 1;
    Atomics.store(ctrl, CTRL_DONE, 0);
    Atomics.store(ctrl, CTRL_ERROR, 0);
    Atomics.store(ctrl, CTRL_NEXT, 0);
    for (let w = 1; w <= helpers; w++) {
      Atomics.store(ctrl, CTRL_CLAIM + w, CLAIM_POSTED);
      Atomics.add(ctrl, CTRL_SEQ + w, 1);
      Atomics.notify(ctrl, CTRL_SEQ + w);
    }
    let expected = helpers;
    try {
      own();
    } finally {
      // even when our own share threw, the workers are still writing: wait for them before anyone reuses memory
      // (a job no worker has claimed yet is withdrawn instead, when its work is shared out dynamically)
      if (withdraw) {
        for (let w = 1; w <= helpers; w++) {
          if (Atomics.compareExchange(ctrl, CTRL_CLAIM + w, CLAIM_POSTED, CLAIM_IDLE) === CLAIM_POSTED) expected--;
        }
      }
      let spins = 0;
      for (;;) {
        const done = Atomics.load(ctrl, CTRL_DONE);
        if (done >= expected) break;
        if (++spins > SPIN_ITERS) Atomics.wait(ctrl, CTRL_DONE, done, 1);
      }
    }
    const failed = Atomics.load(ctrl, CTRL_ERROR);
    if (failed) {
      const msg = receiveMessageOnPort(this.errorPorts[failed - 1])?.message;
      throw new Error(`wasm kernel failed on worker thread ${failed}: ${String(msg ?? 'unknown error')}`);
    }
  }

  wake(n: number): void {
    if (this.disposed) return;
    // a notify without a new sequence number: the worker wakes, sees no job yet and spins for it
    for (let w = 1; w < Math.min(n, this.threads); w++) Atomics.notify(this.ctrl, CTRL_SEQ + w);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (let w = 1; w < this.threads; w++) {
      this.jobs[w * JOB_SLOT] = OP_QUIT;
      Atomics.add(this.ctrl, CTRL_SEQ + w, 1);
      Atomics.notify(this.ctrl, CTRL_SEQ + w);
    }
    for (const w of this.workers) void w.terminate();
    for (const p of this.errorPorts) p.close();
  }
}

/**
 * Threads a Node process uses by default: one per core, at most 4, because a small GPT's products give each
 * thread too little work beyond that (measured only up to 2 cores so far: bench/matmul.ts).
 */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/**
 * The wasm backend on `threads` threads (the caller plus threads − 1 workers), all on one shared memory.
 * threads = 1 gives a single-threaded backend, on a shared memory so that it can store tensors.
 */
export async function createThreadedWasmBackend(threads = defaultThreads()): Promise<WasmBackend> {
  if (threads === 1) return WasmBackend.create({ shared: true });
  const module = await compileKernels(true);
  const memory = createMemory(true, threads);
  const kernels = await instantiateKernels(module, memory);
  const pool = await ThreadPool.start(module, memory, threads);
  return new WasmBackend(kernels, memory, pool, await WasmBackend.create());
}
