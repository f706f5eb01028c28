// Decoding speed on the wasm backend, for nanoGPT's CPU config and its shakespeare_char shape (random weights:
// speed does not depend on them): tokens/s at batch 1 with and without the KV cache, time to first token,
// the aggregate throughput of batched decoding (generateBatch) at B = 1, 4, 16, and of the continuous batcher
// (continuous-batcher.ts) with 1, 4 and 16 concurrent clients, each sending requests one after another so
// that requests keep joining and leaving the running batch, with the mean time to first token at 16 clients.
// Run: node dist/bench/decode.js [--threads N] [--quick]
// Past blockSize generateIds slides its window by half a block (window.ts): one prefill of blockSize/2
// tokens every blockSize/2 tokens (the cpu shape at 200 tokens shows the cost).
import { initBackend } from '../src/backend/index.node.js';
import { GPT, type GPTConfig } from '../src/models/gpt.js';
import { generateIds } from '../src/generate/generate.js';
import { generateBatch } from '../src/generate/batch.js';
import { ContinuousBatcher } from '../src/generate/continuous-batcher.js';

export interface DecodeShape {
  name: string;
  config: GPTConfig;
  /** also measure the continuous batcher on this shape */
  batcher?: boolean;
}

export const DECODE_SHAPES: DecodeShape[] = [
  { name: 'cpu 4L·4H·128·T64', config: { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, vocabSize: 65, dropout: 0, bias: false }, batcher: true },
  { name: 'char 6L·6H·384·T256', config: { nLayer: 6, nHead: 6, nEmbd: 384, blockSize: 256, vocabSize: 65, dropout: 0, bias: false } },
];

export interface DecodeResult {
  shape: string;
  /** batch-1 decode tokens/s, keyed `cache:60`, `nocache:200`, ... (prefill of an 8-token prompt included) */
  tokensPerSec: Record<string, number>;
  /** time to first token in ms, for a 32-token prompt ('32') and a blockSize one ('block') */
  ttftMs: Record<string, number>;
  /** generateBatch aggregate tokens/s (all rows, greedy, prefill included), keyed by B */
  batchTokensPerSec: Record<string, number>;
  /** ContinuousBatcher aggregate tokens/s, keyed by concurrent clients (1, 4, 16); shapes with `batcher` only */
  batcherTokensPerSec?: Record<string, number>;
  /** ContinuousBatcher mean time to first token in ms, keyed by clients */
  batcherTtftMs?: Record<string, number>;
}

export interface BenchDecodeOptions {
  threads?: number;
  /** fewer tokens and repetitions: a smoke run */
  quick?: boolean;
  print?: boolean;
  shapes?: DecodeShape[];
}

function prompt(n: number, vocab: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 7 + 3) % vocab);
}

/** seconds of the fastest of `reps` runs (after one warm-up run) */
function best(reps: number, fn: () => void): number {
  fn();
  let min = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min / 1000;
}

function drain(model: GPT, p: number[], n: number, useCache: boolean): void {
  for (const _ of generateIds(model, p, { maxNewTokens: n, temperature: 0, useCache }));
}

export async function benchDecode(opts: BenchDecodeOptions = {}): Promise<DecodeResult[]> {
  const be = await initBackend({ backend: 'wasm', threads: opts.threads });
  const print = opts.print ?? true;
  const quick = opts.quick ?? false;
  const results: DecodeResult[] = [];
  if (print) console.log(`backend ${be.name}×${be.threads}${quick ? ' (quick)' : ''}`);
  for (const shape of opts.shapes ?? DECODE_SHAPES) {
    const { name, config } = shape;
    const model = new GPT(config, 1);
    model.eval();
    const V = config.vocabSize;
    const short = prompt(8, V);
    const res: DecodeResult = { shape: name, tokensPerSec: {}, ttftMs: {}, batchTokensPerSec: {} };
    for (const n of quick ? [20] : [60, 200]) {
      for (const useCache of [true, false]) {
        const s = best(quick ? 1 : 2, () => drain(model, short, n, useCache));
        res.tokensPerSec[`${useCache ? 'cache' : 'nocache'}:${n}`] = n / s;
      }
    }
    for (const [key, len] of [['32', 32], ['block', config.blockSize]] as const) {
      res.ttftMs[key] = best(quick ? 2 : 5, () => drain(model, prompt(len, V), 1, true)) * 1000;
    }
    const n = Math.min(quick ? 20 : 60, config.blockSize - short.length);
    for (const B of [1, 4, 16]) {
      // prompts of 5..8 tokens, so the batch is left-padded as in real use
      const ps = Array.from({ length: B }, (_, i) => short.slice(i % 4));
      const s = best(quick ? 1 : 2, () => generateBatch(model, ps, { maxNewTokens: n, temperature: 0 }));
      res.batchTokensPerSec[String(B)] = (B * n) / s;
    }
    if (shape.batcher) Object.assign(res, await benchBatcher(model, quick));
    results.push(res);
  }
  if (print) printTable(results);
  return results;
}

/**
 * The continuous batcher under c concurrent clients (c = 1, 4, 16), each sending `perClient` requests one after
 * another (8-token prompts, 48 new tokens, temperature 0.8, its own seed): aggregate tokens/s over the wall time
 * and the mean time from submit to first token. maxBatch 16, so 16 clients all decode together.
 */
async function benchBatcher(model: GPT, quick: boolean): Promise<Pick<DecodeResult, 'batcherTokensPerSec' | 'batcherTtftMs'>> {
  const V = model.config.vocabSize, n = quick ? 16 : 48, perClient = quick ? 1 : 3;
  const tps: Record<string, number> = {}, ttft: Record<string, number> = {};
  const batcher = new ContinuousBatcher(model, { maxBatch: 16 });
  await batcher.submit({ promptIds: prompt(8, V), maxNewTokens: 8 }); // warm-up
  for (const clients of [1, 4, 16]) {
    let tokens = 0, firstSum = 0, requests = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: clients }, async (_, c) => {
      for (let r = 0; r < perClient; r++) {
        const sent = performance.now();
        let first = -1;
        const res = await batcher.submit({
          promptIds: prompt(8, V).slice(c % 4), maxNewTokens: n, seed: c * 100 + r, sampling: { temperature: 0.8 },
          onToken: () => { if (first < 0) first = performance.now() - sent; },
        });
        tokens += res.ids.length;
        firstSum += first;
        requests++;
      }
    }));
    tps[String(clients)] = tokens / ((performance.now() - t0) / 1000);
    ttft[String(clients)] = firstSum / requests;
  }
  return { batcherTokensPerSec: tps, batcherTtftMs: ttft };
}

function printTable(results: DecodeResult[]): void {
  const cols: [string, (r: DecodeResult) => number | undefined][] = [];
  const add = (label: string, keys: string[], get: (r: DecodeResult, k: string) => number | undefined): void => {
    for (const k of keys) if (!cols.some(([l]) => l === label + k)) cols.push([label + k, (r) => get(r, k)]);
  };
  for (const r of results) {
    add('tok/s ', Object.keys(r.tokensPerSec), (x, k) => x.tokensPerSec[k]);
    add('ttft ms ', Object.keys(r.ttftMs), (x, k) => x.ttftMs[k]);
    add('batch tok/s B', Object.keys(r.batchTokensPerSec), (x, k) => x.batchTokensPerSec[k]);
    add('cb tok/s c', Object.keys(r.batcherTokensPerSec ?? {}), (x, k) => x.batcherTokensPerSec?.[k]);
    add('cb ttft ms c', Object.keys(r.batcherTtftMs ?? {}).filter((k) => k === '16'), (x, k) => x.batcherTtftMs?.[k]);
  }
  const w = Math.max(...results.map((r) => r.shape.length), 5) + 2;
  const cw = Math.max(...cols.map(([l]) => l.length)) + 2;
  console.log('shape'.padEnd(w) + cols.map(([l]) => l.padStart(cw)).join(''));
  for (const r of results) {
    const cells = cols.map(([, get]) => {
      const v = get(r);
      return (v === undefined ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1)).padStart(cw);
    });
    console.log(r.shape.padEnd(w) + cells.join(''));
  }
}

// run directly: node dist/bench/decode.js [--threads N] [--quick]
if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--threads');
  await benchDecode({ threads: i > 0 ? Number(process.argv[i + 1]) : undefined, quick: process.argv.includes('--quick') });
}
