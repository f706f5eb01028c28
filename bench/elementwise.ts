// The element-wise and row kernels of a transformer block: the wasm SIMD kernels (assembly/ops.ts) beside the
// plain TypeScript reference (src/backend/js.ts) in the same run, at the sizes of a 2-layer, 128-wide model's
// training step (B 32 × T 64 = 2048 rows): GPT's GELU (hidden 512) and LayerNorm, LLaMA's SwiGLU (hidden 352)
// and RMSNorm, forward and backward. The wasm backend runs on one thread with its operands resident in its
// memory, as in training. Rounds interleave the two, medians are reported; times are CPU time of this
// (single-threaded) process (process.cpuUsage), which a machine shared with other work distorts far less than
// wall time. Then one training step of each model (forward + backward + AdamW) on the installed backend, in CPU
// ms the same way.
// Run: node dist/bench/elementwise.js      (gptlab bench --only elementwise calls benchElementwise)
import type { Backend } from '../src/backend/backend.js';
import { JsBackend } from '../src/backend/js.js';
import type { WasmBackend } from '../src/backend/wasm.js';
import { createThreadedWasmBackend } from '../src/backend/threads.node.js';
import { createModel, presetConfig } from '../src/models/registry.js';
import { Pretraining } from '../src/train/pretraining.js';
import { Trainer } from '../src/train/trainer.js';
import { Rng } from '../src/tensor/rng.js';
import { median } from './timing.js';

export interface ElementwiseRow {
  kernel: string;
  /** elements (or rows × C) per call */
  size: string;
  jsUs: number;
  wasmUs: number;
}

export interface TrainStepRow {
  model: string;
  cpuMs: number;
}

const ROWS = 2048;
const C = 128;
const GELU_HIDDEN = 512;
const SWIGLU_HIDDEN = 352;

/** n floats in [−4, 4), deterministic; in wasm's memory when `be` stores tensors */
function data(n: number, seed: number, be: WasmBackend | null): Float32Array {
  const a = be?.storage ? be.storage.persistent(n) : new Float32Array(n);
  const rng = new Rng(seed);
  for (let i = 0; i < n; i++) a[i] = rng.random() * 8 - 4;
  return a;
}

type Case = [name: string, size: string, make: (b: Backend, own: WasmBackend | null) => () => void];

const CASES: Case[] = [
  ['gelu', `${ROWS}×${GELU_HIDDEN}`, (b, o) => {
    const n = ROWS * GELU_HIDDEN, x = data(n, 1, o), y = data(n, 2, o);
    return () => b.gelu(x, y, n);
  }],
  ['geluBackward', `${ROWS}×${GELU_HIDDEN}`, (b, o) => {
    const n = ROWS * GELU_HIDDEN, x = data(n, 1, o), y = data(n, 2, o), dy = data(n, 3, o), dx = data(n, 4, o);
    b.gelu(x, y, n);
    return () => b.geluBackward(x, y, dy, dx, n);
  }],
  ['swiglu', `${ROWS}×${SWIGLU_HIDDEN}`, (b, o) => {
    const n = ROWS * SWIGLU_HIDDEN, g = data(n, 1, o), u = data(n, 2, o), y = data(n, 3, o);
    return () => b.swiglu(g, u, y, n);
  }],
  ['swigluBackward', `${ROWS}×${SWIGLU_HIDDEN}`, (b, o) => {
    const n = ROWS * SWIGLU_HIDDEN, g = data(n, 1, o), u = data(n, 2, o), dy = data(n, 3, o), dg = data(n, 4, o), du = data(n, 5, o);
    return () => b.swigluBackward(g, u, dy, dg, du, n, false);
  }],
  ['layerNorm', `${ROWS}×${C}`, (b, o) => {
    const x = data(ROWS * C, 1, o), w = data(C, 2, o), bias = data(C, 3, o), y = data(ROWS * C, 4, o);
    const mean = data(ROWS, 5, o), rstd = data(ROWS, 6, o);
    return () => b.layerNorm(x, w, bias, y, mean, rstd, ROWS, C, 1e-5);
  }],
  ['layerNormBackward', `${ROWS}×${C}`, (b, o) => {
    const x = data(ROWS * C, 1, o), w = data(C, 2, o), y = data(ROWS * C, 4, o), mean = data(ROWS, 5, o), rstd = data(ROWS, 6, o);
    const dy = data(ROWS * C, 7, o), dx = data(ROWS * C, 8, o), dw = data(C, 9, o), db = data(C, 10, o);
    b.layerNorm(x, w, null, y, mean, rstd, ROWS, C, 1e-5);
    return () => b.layerNormBackward(x, w, mean, rstd, dy, dx, dw, db, ROWS, C);
  }],
  ['rmsNorm', `${ROWS}×${C}`, (b, o) => {
    const x = data(ROWS * C, 1, o), w = data(C, 2, o), y = data(ROWS * C, 4, o), rstd = data(ROWS, 6, o);
    return () => b.rmsNorm(x, w, y, rstd, ROWS, C, 1e-5);
  }],
  ['rmsNormBackward', `${ROWS}×${C}`, (b, o) => {
    const x = data(ROWS * C, 1, o), w = data(C, 2, o), y = data(ROWS * C, 4, o), rstd = data(ROWS, 6, o);
    const dy = data(ROWS * C, 7, o), dx = data(ROWS * C, 8, o), dw = data(C, 9, o);
    b.rmsNorm(x, w, y, rstd, ROWS, C, 1e-5);
    return () => b.rmsNormBackward(x, w, rstd, dy, dx, dw, ROWS, C);
  }],
];

/** CPU µs of one call of f (user + system, this process) */
function cpuUs(f: () => void): number {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return c.user + c.system;
}

/** JS reference vs one-thread wasm (resident operands), median CPU µs per call over `rounds` interleaved rounds */
export async function benchElementwiseKernels(rounds = 15, out: (s: string) => void = console.log): Promise<ElementwiseRow[]> {
  const js = new JsBackend();
  const wasm = await createThreadedWasmBackend(1);
  const rows: ElementwiseRow[] = [];
  try {
    out(`  ${'kernel'.padEnd(18)} ${'size'.padEnd(9)} ${'js CPU µs'.padStart(10)} ${'wasm CPU µs'.padStart(12)}  wasm speed-up`);
    for (const [kernel, size, make] of CASES) {
      const fj = make(js, null), fw = make(wasm, wasm);
      for (let i = 0; i < 2; i++) { fj(); fw(); }
      const tj: number[] = [], tw: number[] = [];
      for (let r = 0; r < rounds; r++) {
        tj.push(cpuUs(fj));
        tw.push(cpuUs(fw));
      }
      const row = { kernel, size, jsUs: median(tj), wasmUs: median(tw) };
      rows.push(row);
      out(`  ${kernel.padEnd(18)} ${size.padEnd(9)} ${row.jsUs.toFixed(0).padStart(10)} ${row.wasmUs.toFixed(0).padStart(12)}  ${(row.jsUs / row.wasmUs).toFixed(1)}×`);
    }
  } finally {
    wasm.dispose();
  }
  return rows;
}

/** median CPU ms of a training step of `type`'s cpu preset at 2 layers, B 32, on the installed backend */
export function trainStepCpuMs(type: 'gpt' | 'llama', iters: number): number {
  const model = createModel(type, presetConfig(type, 'cpu', 65, { nLayer: 2, dropout: 0 }));
  const tokens = new Int32Array(200_000);
  for (let i = 0; i < tokens.length; i++) tokens[i] = (i * 2654435761) % 65;
  const tr = new Trainer(model, new Pretraining({ train: tokens, dev: tokens, test: tokens }), { batchSize: 32, lr: 1e-3, beta2: 0.99, weightDecay: 0.1 });
  for (let i = 0; i < 3; i++) tr.trainStep();
  const ms: number[] = [];
  for (let i = 0; i < iters; i++) {
    const c0 = process.cpuUsage();
    tr.trainStep();
    const c = process.cpuUsage(c0);
    ms.push((c.user + c.system) / 1000);
  }
  return median(ms);
}

/** both models' training steps, interleaved in `rounds` rounds of `iters` steps (medians of the round medians) */
export function benchTrainSteps(iters = 10, rounds = 3, out: (s: string) => void = console.log): TrainStepRow[] {
  const got: Record<'gpt' | 'llama', number[]> = { gpt: [], llama: [] };
  for (let r = 0; r < rounds; r++) for (const t of ['gpt', 'llama'] as const) got[t].push(trainStepCpuMs(t, iters));
  const rows = (['gpt', 'llama'] as const).map((model) => ({ model, cpuMs: median(got[model]) }));
  out(`  2 layers, 128 wide, B 32 × T 64: GPT ${rows[0].cpuMs.toFixed(1)} CPU ms/step, LLaMA ${rows[1].cpuMs.toFixed(1)} (${(rows[1].cpuMs / rows[0].cpuMs).toFixed(2)}× GPT's)`);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { initBackend } = await import('../src/backend/index.node.js');
  await benchElementwiseKernels();
  const be = await initBackend({ backend: 'auto', threads: 1 });
  console.log(`  training step on ${be.name}×${be.threads}:`);
  benchTrainSteps();
}
