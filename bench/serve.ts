// Server throughput: completion tokens/s and requests/s with 1, 4 and 16 concurrent streaming clients on
// loopback. With an engine that batches (ChatEngine with maxBatch, continuous batching) throughput should grow
// with the clients; with one that serialises, stay flat while latency grows (a drop would mean per-request
// overhead or contention). The time to first token is reported per level.
// The clients run in a child process (bench/serve-load.ts), as real load generators do (vLLM's
// benchmark_serving, wrk), so parsing their event streams does not take the server's event loop; the same for
// every level.
// Run with the fake engine: `node dist/bench/serve.js` (measures the HTTP/SSE layer alone).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TextEngine } from '../src/generate/text-engine.js';
import { startServer } from '../src/serve/server.js';
import { runLoad, type LoadJob, type LoadResult } from './serve-load.js';

export interface ServeBenchOptions {
  /** concurrency levels (default 1, 4, 16) */
  clients?: number[];
  /** requests per level (default 8 × clients, at least 128) */
  requests?: (clients: number) => number;
  maxTokens?: number;
  /** the user message each client sends */
  message?: string;
  /** OpenAI logit_bias sent with every request: the bench suppresses end-of-turn so every reply is maxTokens long (vLLM's ignore_eos) */
  logitBias?: Record<string, number>;
  log?: (line: string) => void;
  /** run the clients in this process instead of a child process (default false) */
  clientsInProcess?: boolean;
}

export interface ServeBenchRow {
  clients: number;
  requests: number;
  seconds: number;
  completionTokens: number;
  tokensPerSecond: number;
  requestsPerSecond: number;
  /** mean time to the first content chunk, ms */
  meanFirstTokenMs: number;
  /** mean time to the end of the stream, ms */
  meanLatencyMs: number;
}

export async function benchServe(engine: TextEngine, opts: ServeBenchOptions = {}): Promise<ServeBenchRow[]> {
  const levels = opts.clients ?? [1, 4, 16];
  const maxTokens = opts.maxTokens ?? 64;
  const message = opts.message ?? 'tell me a long story';
  const log = opts.log ?? ((l: string) => console.log(l));
  const server = await startServer({ engine, port: 0, chatPage: false, limits: { maxQueue: Math.max(...levels) + 1 } });
  const load = opts.clientsInProcess ? runLoad : await loadProcess();
  const job = (clients: number, requests: number): LoadJob => ({ url: server.url, clients, requests, message, maxTokens, logitBias: opts.logitBias });
  const rows: ServeBenchRow[] = [];
  try {
    // warm-up, so the first level does not pay for JIT compilation and connection setup
    await load(job(4, 32));
    log(`(the clients run in ${opts.clientsInProcess ? 'the server\'s process' : 'a child process, as wrk or vLLM\'s benchmark_serving'})`);
    log('clients  requests  seconds  tokens/s  requests/s  first-token ms  latency ms');
    for (const clients of levels) {
      const total = opts.requests?.(clients) ?? Math.max(128, 8 * clients);
      const r = await load(job(clients, total));
      const row: ServeBenchRow = {
        clients,
        requests: total,
        seconds: r.seconds,
        completionTokens: r.completionTokens,
        tokensPerSecond: r.completionTokens / r.seconds,
        requestsPerSecond: total / r.seconds,
        meanFirstTokenMs: r.firstTokenMsSum / total,
        meanLatencyMs: r.latencyMsSum / total,
      };
      rows.push(row);
      if (r.completionTokens < total * maxTokens) log(`(replies averaged ${(r.completionTokens / total).toFixed(1)} tokens, fewer than max_tokens ${maxTokens}: some ended at a stop)`);
      log(
        `${String(clients).padStart(7)}  ${String(total).padStart(8)}  ${row.seconds.toFixed(2).padStart(7)}  ${row.tokensPerSecond.toFixed(0).padStart(8)}  ${row.requestsPerSecond.toFixed(1).padStart(10)}  ${row.meanFirstTokenMs.toFixed(1).padStart(14)}  ${row.meanLatencyMs.toFixed(1).padStart(10)}`,
      );
    }
  } finally {
    (load as { close?: () => void }).close?.();
    await server.close();
  }
  return rows;
}

/** the load generator as a child process (bench/serve-load.ts): a function sending it one job at a time */
async function loadProcess(): Promise<((job: LoadJob) => Promise<LoadResult>) & { close: () => void }> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./serve-load.js', import.meta.url)), ['--load-child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const run = (job: LoadJob): Promise<LoadResult> => new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`bench: the load process exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (m: LoadResult | { error: string }) => {
      child.off('exit', onExit);
      if ('error' in m) reject(new Error(`bench: ${m.error}`));
      else resolve(m);
    });
    child.send(job);
  });
  return Object.assign(run, { close: () => child.disconnect() });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { FakeEngine } = await import('../test/helpers/fake-engine.js');
  console.log('server throughput with the fake engine (one token per event-loop turn; measures the HTTP/SSE layer)');
  await benchServe(new FakeEngine());
}
