// One generation at a time, first come first served. The model computes on the main thread, so running two
// generations "concurrently" would only interleave their tokens and slow both; a FIFO keeps latency
// predictable and lets the HTTP layer keep answering /v1/models and /health while a job runs. Browser-safe.

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
  private running = false;

  /** @param maxWaiting how many jobs may wait behind the running one before `submit` refuses */
  constructor(readonly maxWaiting = 16) {}

  /** jobs waiting, not counting the running one */
  get pending(): number {
    return this.waiting.length;
  }

  /** true when `submit` would refuse a new job */
  get full(): boolean {
    return this.running && this.waiting.length >= this.maxWaiting;
  }

  get busy(): boolean {
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
    if (this.running) return;
    const job = this.waiting.shift();
    if (!job) return;
    this.running = true;
    job.signal.removeEventListener('abort', job.onAbort);
    let p: Promise<unknown>;
    try {
      p = job.run(job.signal);
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(job.resolve, job.reject).finally(() => {
      this.running = false;
      this.pump();
    });
  }
}
