// One kernel worker of the thread team (threads.node.ts). It instantiates the same kernels module on the same
// shared memory as the main thread, then loops: sleep until its sequence word changes, run the job in its
// slot, count itself done. The whole protocol is a few Atomics on words of that shared memory; no messages
// flow after the initial 'ready', so a job costs one futex wake instead of an event-loop round trip.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import {
  CLAIM_POSTED, CLAIM_TAKEN, CTRL_BYTE, CTRL_CLAIM, CTRL_DONE, CTRL_ERROR, CTRL_INTS, CTRL_SEQ, CTRL_SPIN, JOBS_BYTE, JOB_SLOT, MAX_THREADS, OP_QUIT, OP_RECURRENT, OP_SGEMM, runJob, type Kernels,
} from './wasm.js';
import { SPIN_ITERS, SPIN_ITERS_WOKEN } from './threads.node.js';
import { runRecurrentJob, runSgemmJob } from './blas-worker.node.js';

interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  index: number;
  /** where job errors go; the main thread reads it synchronously (receiveMessageOnPort) */
  errors: MessagePort;
}

const { module, memory, index, errors } = workerData as WorkerInit;
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Kernels;
// the control words and job slots sit in the first page, so these views stay valid when the memory grows
const ctrl = new Int32Array(memory.buffer, CTRL_BYTE, CTRL_INTS);
const jobs = new Float64Array(memory.buffer, JOBS_BYTE, JOB_SLOT * MAX_THREADS);
const seqAt = CTRL_SEQ + index;
const claimAt = CTRL_CLAIM + index;
const slot = index * JOB_SLOT;

let seen = Atomics.load(ctrl, seqAt);
parentPort!.postMessage('ready');
for (;;) {
  // spin a little first: in a training step jobs come back-to-back, and a futex sleep/wake costs ~10–50 µs
  // (woken by the main thread's wake() with no job yet, it spins longer: the job follows within microseconds)
  const idle = Atomics.load(ctrl, CTRL_SPIN) || SPIN_ITERS;
  let spins = 0, budget = idle;
  let seq: number;
  while ((seq = Atomics.load(ctrl, seqAt)) === seen) {
    if (++spins > budget) {
      budget = Atomics.wait(ctrl, seqAt, seen) === 'ok' ? SPIN_ITERS_WOKEN : idle;
      spins = 0;
    }
  }
  seen = seq;
  if (jobs[slot] === OP_QUIT) break;
  // withdrawn by the main thread, which did the job's share itself (threads.node.ts): nothing to run or count
  if (Atomics.compareExchange(ctrl, claimAt, CLAIM_POSTED, CLAIM_TAKEN) !== CLAIM_POSTED) continue;
  try {
    if (jobs[slot] === OP_RECURRENT) runRecurrentJob(kernels, memory, ctrl, jobs, slot);
    else if (jobs[slot] === OP_SGEMM) runSgemmJob(memory, jobs, slot);
    else runJob(kernels, jobs, slot, ctrl);
  } catch (e) {
    // keep serving: the main thread sees the flag, reports the message, and the team stays usable
    Atomics.store(ctrl, CTRL_ERROR, index);
    errors.postMessage(e instanceof Error ? e.message : String(e));
  }
  Atomics.add(ctrl, CTRL_DONE, 1);
  Atomics.notify(ctrl, CTRL_DONE);
}
