// The wasm backend's word2vec training (Backend.word2vecTrain): lays the vectors, the noise table, the text and
// each thread's scratch out in the kernels' memory, and runs assembly/word2vec.ts over the text in slices of
// `progressEvery` tokens. One thread reads the whole text in order, as the reference (src/embeddings/word2vec.ts);
// T threads each read their own T-th of it, updating the shared vectors without locks (Hogwild; Recht et al.
// 2011), as the original tool's threads do with their own parts of the file (word2vec.c, TrainModelThread).
// Between two slices the learning rate's clock (tokens read) is shared; inside one each thread estimates it
// as the clock plus T times its own progress.
import type { Word2VecKernelJob } from './backend.js';

/** the job code of a word2vec slice in a thread's job slot (wasm.ts runKernel) */
export const OP_WORD2VEC = 30;
/** where runKernel leaves the slice's return value (the position reached) in the job slot */
export const WORD2VEC_RESULT = 20;

/** what the backend lends the driver */
export interface Word2VecKernelHost {
  kernels: {
    word2vecTrain(...args: number[]): number;
    word2vecScratchBytes(dim: number): number;
  };
  threads: number;
  /** the memory's current buffer (it may grow) */
  buffer(): ArrayBufferLike;
  /** room for `bytes` in the memory; its first byte. Throws when the memory cannot hold them. */
  ensure(bytes: number): number;
  /** runs `own` here and job slots 1..n−1 on the team; false without a team of n threads */
  runTeamJobs(n: number, write: (jobs: Float64Array, o: number, worker: number) => void, own: () => void): boolean;
}

/** Backend.word2vecTrain on `host`; false (nothing changed) when the memory cannot hold the job. */
export function trainWord2VecKernel(job: Word2VecKernelJob, host: Word2VecKernelHost): boolean {
  const T = Math.max(1, Math.min(job.threads, host.threads));
  // each thread's scratch on cache lines of its own, with a line between: the generator state at its end is
  // written at every draw, and sharing a line with the next thread's sentence buffer cost more than a second thread gave
  const need = host.kernels.word2vecScratchBytes(job.dim), scratch = Math.ceil((need + CACHE_LINE) / CACHE_LINE) * CACHE_LINE;
  const arrays = [job.syn0, job.syn1, job.table, job.keep, job.ids, job.sigmoid];
  const offs: number[] = [];
  let total = 0;
  for (const a of arrays) {
    offs.push(total);
    total += align16(a.byteLength);
  }
  offs.push(total); // the threads' scratch, from the next cache line
  total += scratch * T + CACHE_LINE;
  let base: number;
  try {
    base = host.ensure(total);
  } catch {
    return false;
  }
  const buf = host.buffer();
  arrays.forEach((a, i) => new Uint8Array(buf, base + offs[i], a.byteLength).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)));
  const at = offs.map((o) => base + o);
  at[6] = Math.ceil(at[6] / CACHE_LINE) * CACHE_LINE; // byte offsets pass 2 GiB in a big memory: no bit operations
  for (let t = 0; t < T; t++) {
    new Uint32Array(buf, at[6] + t * scratch + need - 16, 4).set(job.rngState(t)); // the kernel's generator state ends its scratch
  }
  runSlices(job, host, T, at, scratch);
  const out = host.buffer();
  job.syn0.set(new Float32Array(out, at[0], job.syn0.length));
  job.syn1.set(new Float32Array(out, at[1], job.syn1.length));
  return true;
}

/** every epoch: each thread's part in slices of progressEvery tokens, all threads at once */
function runSlices(job: Word2VecKernelJob, host: Word2VecKernelHost, T: number, at: number[], scratch: number): void {
  const N = job.ids.length, totalTokens = job.epochs * N;
  const bounds = Array.from({ length: T + 1 }, (_, t) => Math.floor((t * N) / T));
  const args = (t: number, start: number, done: number): number[] => [
    job.method, at[0], at[1], at[2], job.table.length, at[3], at[4], start, bounds[t + 1], job.dim, job.window, job.negative,
    job.alpha, done, T, totalTokens, at[5], at[6] + t * scratch, job.progressEvery,
  ];
  let done = 0;
  for (let epoch = 0; epoch < job.epochs; epoch++) {
    const pos = bounds.slice(0, T);
    for (;;) {
      const active = pos.map((p, t) => (p < bounds[t + 1] ? t : -1)).filter((t) => t >= 0);
      if (active.length === 0) break;
      const reached = new Array<number>(active.length);
      const own = (): void => void (reached[0] = host.kernels.word2vecTrain(...args(active[0], pos[active[0]], done)));
      if (active.length === 1) own();
      else {
        const slots: [Float64Array, number][] = [];
        const ran = host.runTeamJobs(active.length, (jobs, o, w) => {
          slots[w] = [jobs, o];
          jobs.set([OP_WORD2VEC, ...args(active[w], pos[active[w]], done)], o);
        }, own);
        if (!ran) throw new Error('word2vec: the thread team is smaller than the threads asked for');
        for (let w = 1; w < active.length; w++) reached[w] = slots[w][0][slots[w][1] + WORD2VEC_RESULT];
      }
      active.forEach((t, k) => {
        done += reached[k] - pos[t];
        pos[t] = reached[k];
      });
      job.onProgress?.(done, epoch);
    }
  }
}

/** bytes of a cache line (x86-64, ARM64) */
const CACHE_LINE = 64;

function align16(n: number): number {
  return (n + 15) & ~15;
}
