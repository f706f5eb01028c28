// The server benchmark's load generator (bench/serve.ts): `clients` concurrent streaming clients, each sending
// chat completion requests one after another until `requests` have been sent, parsing the SSE stream for the
// time to the first content chunk and the usage. It runs in a child process of its own, as real load
// generators do (vLLM's benchmark_serving, wrk): parsing 16 event streams in the server's process would take
// the server's event loop away from it, and more so the more clients there are.
// Protocol (IPC): the parent sends a LoadJob, the child answers with a LoadResult (or { error }) per job.
import process from 'node:process';

export interface LoadJob {
  url: string;
  clients: number;
  requests: number;
  message: string;
  maxTokens: number;
  logitBias?: Record<string, number>;
}

export interface LoadResult {
  seconds: number;
  completionTokens: number;
  /** sums over requests, ms */
  firstTokenMsSum: number;
  latencyMsSum: number;
}

/** runs one level of load: `clients` loops sharing `requests` requests */
export async function runLoad(job: LoadJob): Promise<LoadResult> {
  let next = 0;
  const r: LoadResult = { seconds: 0, completionTokens: 0, firstTokenMsSum: 0, latencyMsSum: 0 };
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: job.clients }, async () => {
      while (next < job.requests) {
        next++;
        const one = await oneRequest(job);
        r.completionTokens += one.completionTokens;
        r.firstTokenMsSum += one.firstMs;
        r.latencyMsSum += one.totalMs;
      }
    }),
  );
  r.seconds = (performance.now() - t0) / 1000;
  return r;
}

async function oneRequest(job: LoadJob): Promise<{ completionTokens: number; firstMs: number; totalMs: number }> {
  const t0 = performance.now();
  const res = await fetch(`${job.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      messages: [{ role: 'user', content: job.message }], max_tokens: job.maxTokens, stream: true,
      stream_options: { include_usage: true }, ...(job.logitBias ? { logit_bias: job.logitBias } : {}),
    }),
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

// as a child process (forked by bench/serve.ts): one LoadResult per LoadJob message
if (process.send && process.argv.includes('--load-child')) {
  process.on('message', (job: LoadJob) => {
    runLoad(job).then(
      (r) => process.send!(r),
      (e: unknown) => process.send!({ error: (e as Error)?.message ?? String(e) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
