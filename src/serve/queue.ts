// Generations first come, first served, `concurrency` at a time (default one). A model that computes on the
// main thread one request at a time would only interleave two "concurrent" generations and slow both; an
// engine that batches (ChatEngine with maxBatch: continuous batching) runs several in one decode step, so the
// server lets that many through. The FIFO keeps latency predictable and lets the HTTP layer keep answering
// /v1/models and /health while jobs run. Browser-safe.

export class QueueFullError extends Error {
  constructor(readonly limit: number) {
    super(`the server is busy: ${limit} requests are already waiting; retry later`);
    this.name = 'QueueFullError';
  }
}

interface Job<T> {
  run: (signal: AbortSignal) => Promise<T>;
  signal: AbortSignal;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
  onAbort: () => void;
}

export class GenerationQueue {
  private readonly waiting: Job<unknown>[] = [];
  private running = 0;

  /**
   * @param maxWaiting how many jobs may wait behind the running ones before `submit` refuses
   * @param concurrency how many jobs run at once (a positive integer)
   */
  constructor(readonly maxWaiting = 16, readonly concurrency = 1) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`GenerationQueue: concurrency must be a positive integer, got ${concurrency}`);
  }

  /** jobs waiting, not counting the running one */
  get pending(): number {
    return this.waiting.length;
  }

  /** true when `submit` would refuse a new job */
  get full(): boolean {
    return this.running >= this.concurrency && this.waiting.length >= this.maxWaiting;
  }

  /** true while any job runs */
  get busy(): boolean {
    return this.running > 0;
  }

  /** jobs running now */
  get active(): number {
    return this.running;
  }

  /**
   * Runs `run` when its turn comes. If `signal` aborts while waiting, the job leaves the queue and the
   * promise rejects with the abort reason; once running, `run` gets the signal and must honour it.
   * Throws QueueFullError synchronously when too many jobs are waiting.
   */
  submit<T>(run: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    if (this.full) throw new QueueFullError(this.maxWaiting);
    return new Promise<T>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const job: Job<T> = {
        run,
        signal,
        resolve,
        reject,
        onAbort: () => {
          const i = this.waiting.indexOf(job as Job<unknown>);
          if (i >= 0) {
            this.waiting.splice(i, 1);
            reject(signal.reason);
          }
        },
      };
      signal.addEventListener('abort', job.onAbort, { once: true });
      this.waiting.push(job as Job<unknown>);
      this.pump();
    });
  }

  private pump(): void {
    if (this.running >= this.concurrency) return;
    const job = this.waiting.shift();
    if (!job) return;
    this.running++;
    job.signal.removeEventListener('abort', job.onAbort);
    let p: Promise<unknown>;
    try {
      p = job.run(job.signal);
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(job.resolve, job.reject).finally(() => {
      this.running--;
      this.pump();
    });
    this.pump();
  }
}
