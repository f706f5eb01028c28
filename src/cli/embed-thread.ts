// embed train's work on a worker thread (embed-worker.ts), driven from the main thread (embed.ts), which stays
// free to answer Ctrl-C with one line at any moment.
import { Worker } from 'node:worker_threads';
import { UsageError, type ParsedArgs } from './args.js';
import { EMBED_JOB, type EmbedCommand, type EmbedJob, type EmbedWorkerMessage } from './embed-worker.js';

/** the worker thread's job: where the text comes from and the settings */
export function embedJob(o: ParsedArgs, method: 'sgns' | 'cbow' | 'ppmi-svd'): EmbedJob {
  return {
    method, ...(o.data !== undefined ? { data: o.data as string } : {}), sentences: o.sentences as number, minCount: o.minCount as number,
    window: o.window as number, seed: o.seed as number, negative: o.negative as number, epochs: o.epochs as number, sample: o.sample as number,
    ...(o.alpha !== undefined ? { alpha: o.alpha as number } : {}), threads: o.threads as number, backend: o.backend as string,
    weighting: o.weighting as 'uniform' | 'harmonic' | 'linear', cds: o.cds as number, eigenPower: o.eigenPower as number,
  };
}

export type Reply<T extends EmbedWorkerMessage['type']> = Extract<EmbedWorkerMessage, { type: T }>;

/**
 * embed train's work on a worker thread (embed-worker.ts), step by step: `prepared` once the text is read (its
 * vocabulary and shape), setup(dim) once the kernels are ready (what they are, and whether word2vec has a fast
 * path there), run() with the vectors; stop() ends the thread. A failure there rejects the step waited on with
 * an error of the same kind and message (a UsageError, an allocation failure: see isAllocationFailure); the
 * thread running out of its heap with a RangeError "Array buffer allocation failed", which the caller names.
 */
export class EmbedThread {
  readonly prepared: Promise<Reply<'prepared'>>;
  private readonly worker: Worker;
  private waiting: { type: string; resolve: (m: EmbedWorkerMessage) => void; reject: (e: Error) => void } | null = null;
  private onProgress: (p: Reply<'progress'>['progress']) => void = () => {};
  private failed: Error | null = null;
  private stopped = false;

  constructor(job: EmbedJob) {
    this.worker = new Worker(new URL('./embed-worker.js', import.meta.url), { workerData: { [EMBED_JOB]: job }, execArgv: [] });
    this.prepared = this.reply('prepared');
    this.worker.on('message', (m: EmbedWorkerMessage) => {
      if (m.type === 'progress') return this.onProgress(m.progress);
      if (m.type === 'error') return this.fail(Object.assign(m.usage ? new UsageError(m.message) : m.name === 'RangeError' ? new RangeError(m.message) : new Error(m.message), { stack: m.stack }));
      if (this.waiting?.type === m.type) this.waiting.resolve(m);
    });
    this.worker.on('error', (e: Error & { code?: string }) => {
      this.fail(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new RangeError('Array buffer allocation failed (the JavaScript heap of embed train\'s worker thread ran out)') : e);
    });
    this.worker.on('exit', (code) => this.fail(new Error(`embed train: its worker thread stopped (exit code ${code}) before it finished`)));
  }

  setup(dim: number): Promise<Reply<'ready'>> {
    return this.send({ type: 'setup', dim }, 'ready');
  }

  run(onProgress: EmbedThread['onProgress']): Promise<Reply<'done'>> {
    this.onProgress = onProgress;
    return this.send({ type: 'go' }, 'done');
  }

  stop(): void {
    this.stopped = true;
    void this.worker.terminate();
  }

  private send<T extends EmbedWorkerMessage['type']>(command: EmbedCommand, type: T): Promise<Reply<T>> {
    const answer = this.reply(type);
    this.worker.postMessage(command);
    return answer;
  }

  private reply<T extends EmbedWorkerMessage['type']>(type: T): Promise<Reply<T>> {
    return new Promise((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.waiting = { type, resolve: resolve as (m: EmbedWorkerMessage) => void, reject };
    });
  }

  private fail(e: Error): void {
    if (this.stopped || this.failed) return;
    this.failed = e;
    this.waiting?.reject(e);
  }
}
