// GGUF quality and speed (#11 §7): for a demo-size GPT (trained briefly on the demo corpus, character
// tokenizer) and a 124M-class GPT-2 (random weights, GPT-2's tokenizer):
//   file size per type; perplexity on held-out text per type beside f32 (demo model: random weights have no
//   meaningful perplexity); batch-1 greedy decode tokens/s, ours (QuantizedLinear, fast and reference) vs
//   llama.cpp (node-llama-cpp) on the same files, on as many threads and on 1, interleaved round by round
//   (medians), for every demo type and the 124M f32, q8_0 and q4_k files, ending with #11's ratio lines (demo
//   and 124M, f32 / q8_0 / q4_k, both thread counts) and the load average; load time, peak memory and parameter count
//   of a 124M GGUF (measured in a child process: its maxRSS covers the load alone), beside the same file read
//   with every matrix dequantized to float32 (--dequantize) as the reference.
// 124M files are only written for `types124m` (K-quant quantization in TypeScript takes minutes at this size);
// the sizes of the other types are computed exactly from the tensor plan, as the writer would lay them out.
// Run: node dist/bench/gguf.js [--quick]      (gptlab bench --only gguf calls benchGguf)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/backend/index.node.js';
import { GPT } from '../src/models/gpt.js';
import type { LanguageModel } from '../src/models/model.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import type { Tokenizer } from '../src/tokenizers/tokenizer.js';
import { loadEncoding } from '../src/tokenizers/tiktoken.node.js';
import { demoCorpus } from '../src/data/corpus.js';
import { splitTokens } from '../src/data/dataset.js';
import { Trainer } from '../src/train/trainer.js';
import { Pretraining } from '../src/train/pretraining.js';
import { modelToGGUF } from '../src/formats/gguf-model.js';
import { GGUF_EXPORT_TYPES, tensorTypeFor, type GGUFExportType } from '../src/formats/gguf-types.js';
import { readGGUF } from '../src/formats/gguf.js';
import { ggufToModel } from '../src/formats/gguf-model-read.js';
import { loadModelFile } from '../src/train/model-file.node.js';
import { QuantizedLinear } from '../src/quant/quantized-linear.js';
import { ggmlByteSize } from '../src/quant/types.js';
import { noGrad } from '../src/tensor/tensor.js';
import { stepScope } from '../src/backend/storage.js';
import { backend } from '../src/backend/backend.js';
import { median } from './timing.js';

export interface BenchGgufOptions {
  quick?: boolean;
  print?: boolean;
  threads?: number;
  /** 124M files actually written (default q8_0, q4_k) */
  types124m?: GGUFExportType[];
}

/** rounds of ours-then-llama.cpp decoding per file (medians reported): 124M files, demo files */
const ROUNDS = 3;
const ROUNDS_DEMO = 5;
/** a llama.cpp run stops timing after this long (ms), with the tokens it has made */
const LLAMA_MAX_MS = 10_000;
/** 124M files decoded beside llama.cpp (#11's target types) */
const DECODE_TYPES_124M: GGUFExportType[] = ['f32', 'q8_0', 'q4_k'];

const DEMO_TYPES: GGUFExportType[] = ['f32', 'f16', 'q8_0', 'q4_0', 'q5_0', 'q4_k', 'q5_k', 'q4_k_m', 'q5_k_m'];

/** batch-1 greedy decoding after the prompt's prefill (not timed), as DecodeBatch steps: each pass in a stepScope */
function greedyTokensPerSec(model: LanguageModel, prompt: number[], n: number): number {
  return noGrad(() => {
    const state = model.createState(1);
    const step = (input: number[]): number => {
      const pass = (): number => {
        const { logits } = model.forward(Int32Array.from(input), 1, input.length, { state, lastOnly: true });
        let b = 0;
        for (let v = 1; v < logits.data.length; v++) if (logits.data[v]! > logits.data[b]!) b = v;
        return b;
      };
      return state.ownsStorage ? stepScope(pass) : pass();
    };
    let next = step(prompt);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) next = step([next]);
    return (n / (performance.now() - t0)) * 1000;
  });
}


/** tokens/s on the backend's threads and on one, ours and llama.cpp's, with ours / llama.cpp per thread count */
interface DecodeBeside {
  threads: number;
  ours: number; llamaCpp: number | null; ratio: number | null;
  ours1: number; llamaCpp1: number | null; ratio1: number | null;
}

/** the backend's split thresholds, which decide whether a kernel call goes to its worker threads */
const SPLIT_KNOBS = ['minMacsPerThread', 'minElemsPerThread', 'minLightElemsPerThread', 'minAttnMacsPerThread', 'minResidentElemsPerThread', 'minQuantBytesPerThread', 'minMatVecFloatsPerThread'] as const;

/** runs fn with every kernel call kept on the calling thread (ours "on 1 thread", on the same backend and weights) */
function onOneThread<T>(fn: () => T): T {
  const be = backend() as unknown as Record<string, number>;
  const saved = SPLIT_KNOBS.map((k) => be[k]);
  for (const k of SPLIT_KNOBS) if (k in be) be[k] = Infinity;
  try {
    return fn();
  } finally {
    SPLIT_KNOBS.forEach((k, i) => { if (saved[i] !== undefined) be[k] = saved[i]!; });
  }
}

/**
 * Ours and llama.cpp's batch-1 greedy tokens/s on the same file, on as many threads as our backend uses and
 * on 1 thread (ours: the same backend with every kernel call kept on the calling thread), interleaved round
 * by round (ours, llama.cpp, ours on 1, llama.cpp on 1) so that the machine's load falls on all alike; medians
 * of `rounds`. Ours first decodes one untimed run of the same length (JIT compilation and the copy of the
 * weights into the wasm memory), as llama.cpp's model load is not timed either.
 */
async function decodeBeside(ours: LanguageModel, llama: Any, file: string, prompt: number[], n: number, rounds: number): Promise<DecodeBeside> {
  const threads = backend().threads;
  const a: number[] = [], b: number[] = [], a1: number[] = [], b1: number[] = [];
  greedyTokensPerSec(ours, prompt, n);
  onOneThread(() => greedyTokensPerSec(ours, prompt, n));
  for (let r = 0; r < rounds; r++) {
    a.push(greedyTokensPerSec(ours, prompt, n));
    if (llama) b.push(await llamaCppTokensPerSec(llama, file, prompt, n, threads));
    if (threads > 1) {
      a1.push(onOneThread(() => greedyTokensPerSec(ours, prompt, n)));
      if (llama) b1.push(await llamaCppTokensPerSec(llama, file, prompt, n, 1));
    }
  }
  const med = (x: number[]): number | null => (x.length ? median(x) : null);
  const ours1 = threads > 1 ? median(a1) : median(a), llamaCpp1 = threads > 1 ? med(b1) : med(b);
  const llamaCpp = med(b);
  return {
    threads, ours: median(a), llamaCpp, ratio: llamaCpp ? median(a) / llamaCpp : null,
    ours1, llamaCpp1, ratio1: llamaCpp1 ? ours1 / llamaCpp1 : null,
  };
}

/** the ratio lines of #11's decode target: ours / llama.cpp on the backend's threads and on 1 */
function ratioLines(label: string, d: DecodeBeside): string[] {
  const line = (t: number, o: number, l: number | null, r: number | null) =>
    `  decode ${label} on ${t} thread${t > 1 ? 's' : ''}: ours ${fmt(o, 1)} tok/s, llama.cpp ${fmt(l, 1)} tok/s, ours / llama.cpp ${fmt(r, 2)}`;
  const out = [line(d.threads, d.ours, d.llamaCpp, d.ratio)];
  if (d.threads > 1) out.push(line(1, d.ours1, d.llamaCpp1, d.ratio1));
  return out;
}

const fmt = (x: number | null, digits = 0): string => (x === null ? '—' : x.toFixed(digits));

/** perplexity over non-overlapping blockSize windows of `ids` */
function perplexity(model: LanguageModel, ids: Int32Array, maxTokens: number): number {
  const T = model.config.blockSize;
  let sum = 0, count = 0;
  noGrad(() => {
    for (let s = 0; s + T + 1 <= Math.min(ids.length, maxTokens + 1); s += T) {
      const x = ids.slice(s, s + T), y = ids.slice(s + 1, s + T + 1);
      const { loss } = model.forward(x, 1, T, { targets: y });
      sum += loss!.data[0]! * T;
      count += T;
    }
  });
  return Math.exp(sum / count);
}

function setMode(model: LanguageModel, mode: 'tiled' | 'reference'): void {
  const visit = (m: { namedChildren(): [string, unknown][] }) => {
    for (const [, c] of m.namedChildren()) {
      if (c instanceof QuantizedLinear) c.mode = mode;
      else visit(c as never);
    }
  };
  visit(model as never);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

async function llamaCppTokensPerSec(llama: Any, file: string, prompt: number[], n: number, threads: number): Promise<number> {
  const lm = await llama.loadModel({ modelPath: file });
  const ctx = await lm.createContext({ contextSize: Math.max(128, prompt.length + n + 1), threads, sequences: 1 });
  const seq = ctx.getSequence();
  let k = 0, t0 = 0;
  for await (const _t of seq.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
    if (k === 0) t0 = performance.now(); // the first token includes the prompt's prefill: time the rest
    if (++k >= n + 1) break;
    // on an oversubscribed machine llama.cpp's threads, which spin at a barrier every operation, can fall to ~1
    // token/s: a rate over fewer tokens then, rather than minutes per run
    if (k >= 3 && performance.now() - t0 > LLAMA_MAX_MS) break;
  }
  const rate = ((k - 1) / (performance.now() - t0)) * 1000;
  await ctx.dispose();
  await lm.dispose();
  return rate;
}

async function trainDemo(quick: boolean, log: (s: string) => void): Promise<{ model: LanguageModel; tok: Tokenizer; held: Int32Array }> {
  const text = demoCorpus();
  const tok = CharTokenizer.fromText(text);
  const splits = splitTokens(Int32Array.from(tok.encode(text)), { train: 0.9, dev: 0.05, test: 0.05 });
  const model = new GPT({ vocabSize: tok.vocabSize, blockSize: 128, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: false });
  const iters = quick ? 60 : 250;
  const t0 = performance.now();
  await new Trainer(model, new Pretraining(splits), { maxIters: iters, batchSize: 12, evalInterval: iters, evalIters: 2, sampleAt: [] } as never).run();
  log(`demo model: GPT 4L·4H·128·T128, char vocab ${tok.vocabSize}, trained ${iters} steps in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return { model: model.eval(), tok, held: splits.test };
}

/** exact file size of a model exported as `type`, without quantizing (tensor plan + header) */
function plannedBytes(model: LanguageModel, type: GGUFExportType, headerBytes: number): number {
  const f = readGGUF(modelToGGUFHeaderOnly(model), 'plan');
  let total = headerBytes;
  for (const t of f.tensors) {
    const g = tensorTypeFor(type, { name: t.name, shape: t.shape, nLayer: (model.config as unknown as { nLayer: number }).nLayer, tiedOutput: !f.tensor('output.weight') });
    total += Math.ceil(ggmlByteSize(g, t.nElements) / 32) * 32;
  }
  return total;
}

let planCache: { model: LanguageModel; bytes: Uint8Array } | null = null;
function modelToGGUFHeaderOnly(model: LanguageModel): Uint8Array {
  if (planCache?.model !== model) planCache = { model, bytes: modelToGGUF(model, new CharTokenizer(['a']), { type: 'f32' }).bytes };
  return planCache.bytes;
}

/** child-process entry: load a GGUF (quantized layers, or every matrix dequantized), report load ms and maxRSS */
function childLoad(file: string, dequantize: boolean): void {
  const t0 = performance.now();
  const { model } = loadModelFile(file, { dequantize });
  const ms = performance.now() - t0;
  process.stdout.write(JSON.stringify({ ms, maxRssMiB: ownPeakRssMiB(), params: model.numParameters() }) + '\n');
}

/**
 * This process's own peak resident memory: Linux's VmHWM (the high-water mark of its address space since
 * exec). getrusage's maxRSS is not used where VmHWM exists: Linux carries the forking parent's peak into the
 * child across exec, so a child of this (large) bench process would report the parent's memory.
 */
function ownPeakRssMiB(): number {
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (kb) return Number(kb[1]) / 1024;
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS / 1024;
}

export async function benchGguf(opts: BenchGgufOptions = {}): Promise<Record<string, unknown>> {
  const log = opts.print === false ? () => {} : (s: string) => process.stdout.write(s + '\n');
  await initBackend({ threads: opts.threads });
  const quick = !!opts.quick;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-bench-gguf-'));
  let llama: Any = null;
  try {
    const mod: Any = await import('node-llama-cpp');
    llama = await mod.getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  } catch (e) {
    log(`llama.cpp: not available (${(e as Error).message.split('\n')[0]})`);
  }
  const result: Record<string, unknown> = {};
  const ratios: string[] = [];
  try {
    result.demo = await benchDemo(dir, llama, quick, log, ratios);
    result.gpt2_124m = await bench124m(dir, llama, quick, opts.types124m ?? ['q8_0', 'q4_k'], log, ratios);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  log(`#11 decode target (ours / llama.cpp ≥ 1.0 for the demo model, goal ≥ 0.7 for 124M), load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}:`);
  for (const l of ratios) log(l);
  return result;
}

async function benchDemo(dir: string, llama: Any, quick: boolean, log: (s: string) => void, ratios: string[]): Promise<unknown[]> {
  const { model, tok, held } = await trainDemo(quick, log);
  const prompt = tok.encode('The ');
  const n = quick ? 24 : 120;
  const rows: unknown[] = [];
  const threads = backend().threads;
  log(`batch-1 greedy decode tokens/s, ${n} tokens, on ${threads} thread${threads > 1 ? 's' : ''} and on 1: ours and llama.cpp on the same file, interleaved, median of ${quick ? 1 : ROUNDS_DEMO} round(s) (ours reference = the plain TypeScript path, ${threads} threads)`);
  log(`type     size KiB   perplexity (f32 = ref)   ours tok/s   llama.cpp tok/s   ours / llama.cpp   ours 1 thread   llama.cpp 1 thread   ratio 1 thread   ours reference`);
  for (const type of DEMO_TYPES) {
    const { bytes } = modelToGGUF(model, tok, { type });
    const file = path.join(dir, `demo-${type}.gguf`);
    fs.writeFileSync(file, bytes);
    const ours = ggufToModel(readGGUF(bytes, file)).model;
    const ppl = perplexity(ours, held, quick ? 512 : 4096);
    const d = await decodeBeside(ours, llama, file, prompt, n, quick ? 1 : ROUNDS_DEMO);
    setMode(ours, 'reference');
    const reference = type.startsWith('q') ? greedyTokensPerSec(ours, prompt, n) : null;
    rows.push({ type, bytes: bytes.length, perplexity: ppl, ...d, oursTokensPerSec: d.ours, oursReference: reference });
    log(`${type.padEnd(7)} ${(bytes.length / 1024).toFixed(0).padStart(9)}   ${ppl.toFixed(4).padStart(10)}             ${fmt(d.ours).padStart(10)}   ${fmt(d.llamaCpp).padStart(15)}   ${fmt(d.ratio, 2).padStart(16)}   ${fmt(d.ours1).padStart(13)}   ${fmt(d.llamaCpp1).padStart(18)}   ${fmt(d.ratio1, 2).padStart(14)}   ${fmt(reference).padStart(14)}`);
    if (DECODE_TYPES_124M.includes(type)) ratios.push(...ratioLines(`demo ${type}`, d));
  }
  return rows;
}

async function bench124m(dir: string, llama: Any, quick: boolean, types: GGUFExportType[], log: (s: string) => void, ratios: string[]): Promise<unknown> {
  const tok = await loadEncoding('gpt2');
  const model = new GPT({ vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768, dropout: 0, bias: true }, 1).eval();
  const header = modelToGGUF(new GPT({ vocabSize: 50257, blockSize: 8, nLayer: 1, nHead: 1, nEmbd: 32, dropout: 0, bias: true }), tok, { type: 'f32' });
  const headerBytes = readGGUF(header.bytes).dataOffset;
  const sizes: Record<string, number> = {};
  for (const t of GGUF_EXPORT_TYPES) sizes[t] = plannedBytes(model, t, headerBytes);
  log(`124M GPT-2 (random weights, GPT-2 tokenizer): planned file sizes ${Object.entries(sizes).map(([t, b]) => `${t} ${(b / 2 ** 20).toFixed(1)} MiB`).join(', ')}`);
  const runs: unknown[] = [];
  const prompt = tok.encode('The quick brown fox');
  const n = quick ? 8 : 32;
  for (const type of types) {
    const t0 = performance.now();
    const { bytes } = modelToGGUF(model, tok, { type });
    const exportMs = performance.now() - t0;
    const file = path.join(dir, `gpt2-${type}.gguf`);
    fs.writeFileSync(file, bytes);
    const self = fileURLToPath(import.meta.url);
    const childLoadRun = (deq: boolean) => JSON.parse(execFileSync(process.execPath, ['--max-old-space-size=4096', self, deq ? '--load-dequantized' : '--load', file], { encoding: 'utf8' }).trim().split('\n').pop()!);
    const load = childLoadRun(false), loadF32 = childLoadRun(true); // reference: the same file read into float32 layers
    runs.push({ type, bytes: bytes.length, exportMs, loadMs: load.ms, loadMaxRssMiB: load.maxRssMiB, loadParams: load.params, loadDequantizedMs: loadF32.ms, loadDequantizedMaxRssMiB: loadF32.maxRssMiB });
    log(`124M ${type}: ${(bytes.length / 2 ** 20).toFixed(1)} MiB (export ${(exportMs / 1000).toFixed(1)} s); load ${(load.ms / 1000).toFixed(2)} s, peak RSS ${load.maxRssMiB.toFixed(0)} MiB, ${(load.params / 1e6).toFixed(1)}M parameters (dequantized to float32: ${(loadF32.ms / 1000).toFixed(2)} s, ${loadF32.maxRssMiB.toFixed(0)} MiB)`);
  }
  return { plannedBytes: sizes, runs, decode: await decode124m(dir, llama, model, tok, prompt, n, quick ? 1 : ROUNDS, log, ratios) };
}

/** decoding the 124M files (written here unless the load section did) beside llama.cpp */
async function decode124m(
  dir: string, llama: Any, model: LanguageModel, tok: Tokenizer, prompt: number[], n: number, rounds: number, log: (s: string) => void, ratios: string[],
): Promise<unknown[]> {
  const threads = backend().threads;
  log(`124M batch-1 greedy decode tokens/s on ${threads} thread${threads > 1 ? 's' : ''} and on 1, ${n} tokens after a ${prompt.length}-token prompt, interleaved with llama.cpp, median of ${rounds} round(s):`);
  const rows: unknown[] = [];
  for (const type of DECODE_TYPES_124M) {
    const file = path.join(dir, `gpt2-${type}.gguf`);
    if (!fs.existsSync(file)) fs.writeFileSync(file, modelToGGUF(model, tok, { type }).bytes);
    const d = await decodeBeside(loadModelFile(file).model, llama, file, prompt, n, rounds);
    rows.push({ type, ...d, oursTokensPerSec: d.ours });
    log(`  ${type.padEnd(5)} ours ${fmt(d.ours, 1).padStart(6)}   llama.cpp ${fmt(d.llamaCpp, 1).padStart(6)}   ours / llama.cpp ${fmt(d.ratio, 2)}   on 1 thread: ours ${fmt(d.ours1, 1)}, llama.cpp ${fmt(d.llamaCpp1, 1)}, ratio ${fmt(d.ratio1, 2)}`);
    ratios.push(...ratioLines(`124M ${type}`, d));
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  if (process.argv[2] === '--load' || process.argv[2] === '--load-dequantized') childLoad(process.argv[3]!, process.argv[2] === '--load-dequantized');
  else await benchGguf({ quick: process.argv.includes('--quick') });
}
