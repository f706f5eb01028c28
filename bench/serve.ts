// Server throughput: completion tokens/s and requests/s with 1, 4 and 16 concurrent streaming clients on
// loopback. With an engine that batches (ChatEngine with maxBatch, continuous batching) throughput should grow
// with the clients; with one that serialises, stay flat while latency grows (a drop would mean per-request
// overhead or contention). The time to first token is reported per level.
// Run with the fake engine: `node dist/bench/serve.js` (measures the HTTP/SSE layer alone).
import { pathToFileURL } from 'node:url';
import type { TextEngine } from '../src/generate/text-engine.js';
import { startServer } from '../src/serve/server.js';

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
  const rows: ServeBenchRow[] = [];
  try {
    // warm-up, so the first level does not pay for JIT compilation and connection setup
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 8; i++) await oneRequest(server.url, message, maxTokens, opts.logitBias);
    }));
    log('clients  requests  seconds  tokens/s  requests/s  first-token ms  latency ms');
    for (const clients of levels) {
      const total = opts.requests?.(clients) ?? Math.max(128, 8 * clients);
      let next = 0;
      let tokens = 0;
      let firstSum = 0;
      let latSum = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (next < total) {
            next++;
            const r = await oneRequest(server.url, message, maxTokens, opts.logitBias);
            tokens += r.completionTokens;
            firstSum += r.firstMs;
            latSum += r.totalMs;
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      const row: ServeBenchRow = {
        clients,
        requests: total,
        seconds,
        completionTokens: tokens,
        tokensPerSecond: tokens / seconds,
        requestsPerSecond: total / seconds,
        meanFirstTokenMs: firstSum / total,
        meanLatencyMs: latSum / total,
      };
      rows.push(row);
      log(
        `${String(clients).padStart(7)}  ${String(total).padStart(8)}  ${seconds.toFixed(2).padStart(7)}  ${row.tokensPerSecond.toFixed(0).padStart(8)}  ${row.requestsPerSecond.toFixed(1).padStart(10)}  ${row.meanFirstTokenMs.toFixed(1).padStart(14)}  ${row.meanLatencyMs.toFixed(1).padStart(10)}`,
      );
    }
  } finally {
    await server.close();
  }
  return rows;
}

async function oneRequest(url: string, message: string, maxTokens: number, logitBias?: Record<string, number>): Promise<{ completionTokens: number; firstMs: number; totalMs: number }> {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: message }], max_tokens: maxTokens, stream: true, stream_options: { include_usage: true }, ...(logitBias ? { logit_bias: logitBias } : {}) }),
  });
  if (!res.ok || !res.body) throw new Error(`bench request failed: ${res.status} ${await res.text()}`);
  let firstMs = -1;
  let completionTokens = 0;
  let buf = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let cut;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const data = buf.slice(6, cut);
      buf = buf.slice(cut + 2);
      if (data === '[DONE]') continue;
      const ev = JSON.parse(data) as { choices: { delta: { content?: string } }[]; usage?: { completion_tokens: number } | null };
      if (firstMs < 0 && ev.choices[0]?.delta.content) firstMs = performance.now() - t0;
      if (ev.usage) completionTokens = ev.usage.completion_tokens;
    }
  }
  return { completionTokens, firstMs: Math.max(0, firstMs), totalMs: performance.now() - t0 };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { FakeEngine } = await import('../test/helpers/fake-engine.js');
  console.log('server throughput with the fake engine (one token per event-loop turn; measures the HTTP/SSE layer)');
  await benchServe(new FakeEngine());
}
