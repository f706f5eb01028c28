// GEMM throughput of the backends: the JS reference (small shapes only: it is ~100× slower), wasm SIMD on
// 1 thread and on a worker team, the native BLAS where it loads, at 1024³ and at the shapes a tiny GPT (n_embd 128, 4×MLP, T 64, 4 heads, batch 12)
// actually runs, forward and backward (training's attention is the fused kernel now; the batched attention
// products remain for generation); benchRowKernels does the same for the row/elementwise kernels.
// Run: node dist/bench/matmul.js [--threads 2] [--seconds 0.3] [--all]
import type { Backend, MatmulArgs } from '../src/backend/backend.js';
import { JsBackend } from '../src/backend/js.js';
import { WasmBackend } from '../src/backend/wasm.js';
import { createThreadedWasmBackend, defaultThreads } from '../src/backend/threads.node.js';

export interface MatmulShape {
  label: string;
  args: MatmulArgs;
}

export interface MatmulResult {
  backend: string;
  shape: string;
  gflops: number;
  msPerCall: number;
}

export interface BenchMatmulOptions {
  /** worker-team size for the threaded run (default: defaultThreads()) */
  threads?: number;
  /** minimum measuring time per (backend, shape) in seconds (default 0.3) */
  seconds?: number;
  /** print a table to stdout (default true) */
  print?: boolean;
  shapes?: MatmulShape[];
}

function mm(label: string, M: number, N: number, K: number, p: Partial<MatmulArgs> = {}): MatmulShape {
  return {
    label,
    args: { batch: 1, M, N, K, transA: false, transB: false, accumulate: false, strideA: 0, strideB: 0, strideC: 0, ...p },
  };
}

/** 1024³ plus a tiny GPT's forward and backward products (B·T = 768 tokens, C = 128, 4 heads of 32 at T = 64). */
export const GPT_SHAPES: MatmulShape[] = [
  mm('1024³', 1024, 1024, 1024),
  mm('qkv  (768×128)·(128×384)', 768, 384, 128),
  mm('fc   (768×128)·(128×512)', 768, 512, 128),
  mm('proj (768×512)·(512×128)', 768, 128, 512),
  mm('dW   (128×768)ᵀ·(768×384) transA', 128, 384, 768, { transA: true }),
  mm('dX   (768×384)·(128×384)ᵀ transB', 768, 128, 384, { transB: true }),
  mm('att  48×(64×32)·(32×64)ᵀ', 64, 64, 32, { batch: 48, transB: true, strideA: 64 * 32, strideB: 64 * 32, strideC: 64 * 64 }),
  mm('att·v 48×(64×64)·(64×32)', 64, 32, 64, { batch: 48, strideA: 64 * 64, strideB: 64 * 32, strideC: 64 * 32 }),
  mm('small (64×64)·(64×64)', 64, 64, 64),
  // as a training step runs them: weight gradients and the attention backward accumulate into C
  mm('dX+= (768×384)·(384×128)', 768, 128, 384, { accumulate: true }),
  mm('dW+= (768×128)ᵀ·(768×512) transA', 128, 512, 768, { transA: true, accumulate: true }),
  mm('dv+= 48×(64×64)ᵀ·(64×32) transA', 64, 32, 64,
    { batch: 48, transA: true, accumulate: true, strideA: 64 * 64, strideB: 64 * 32, strideC: 64 * 32 }),
  mm('dq+= 48×(64×64)·(64×32)', 64, 32, 64,
    { batch: 48, accumulate: true, strideA: 64 * 64, strideB: 64 * 32, strideC: 64 * 32 }),
];

function filled(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i * 0.37) * 0.5;
  return a;
}

function label(be: Backend): string {
  return be.threads > 1 ? `${be.name}×${be.threads}` : be.name;
}

function measure(be: Backend, s: MatmulShape, seconds: number): MatmulResult {
  const { batch, M, N, K, strideA, strideB, strideC } = s.args;
  const ext = (st: number, size: number) => (batch - 1) * st + size;
  const a = filled(ext(strideA, M * K)), b = filled(ext(strideB, K * N)), c = new Float32Array(ext(strideC, M * N));
  const flops = 2 * batch * M * N * K;
  // warm up until the engine's optimising tier has compiled the kernels
  const warm = performance.now();
  while (performance.now() - warm < seconds * 300) be.matmul(a, b, c, s.args);
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  do {
    be.matmul(a, b, c, s.args);
    calls++;
    t = performance.now();
  } while (t - t0 < seconds * 1000);
  const ms = (t - t0) / calls;
  return { backend: label(be), shape: s.label, gflops: flops / ms / 1e6, msPerCall: ms };
}

export async function benchMatmul(opts: BenchMatmulOptions = {}): Promise<MatmulResult[]> {
  const seconds = opts.seconds ?? 0.3;
  const threads = opts.threads ?? defaultThreads();
  const shapes = opts.shapes ?? GPT_SHAPES;
  const print = opts.print ?? true;
  const backends: Backend[] = [new JsBackend(), await WasmBackend.create()];
  const team = threads > 1 ? await createThreadedWasmBackend(threads) : null;
  if (team) backends.push(team);
  // the native BLAS beside them, where koffi and the library load (every product sent to it)
  let blas: Backend & { dispose(): void } | null = null;
  try {
    const { createBlasBackend } = await import('../src/backend/blas.node.js');
    const b = await createBlasBackend(threads);
    b.minBlasMacs = b.minBlasRows = 0;
    backends.push((blas = b));
  } catch {
    /* not available: the table has no blas column */
  }
  const results: MatmulResult[] = [];
  try {
    if (print) console.log(`matmul GFLOP/s (${seconds}s per cell)\n${'shape'.padEnd(38)}${backends.map((b) => label(b).padStart(10)).join('')}`);
    for (const s of shapes) {
      const row: string[] = [];
      for (const be of backends) {
        const macs = s.args.batch * s.args.M * s.args.N * s.args.K;
        if (be.name === 'js' && macs > 1 << 26) { row.push('-'.padStart(10)); continue; }
        const r = measure(be, s, be.name === 'js' ? Math.min(seconds, 0.2) : seconds);
        results.push(r);
        row.push(r.gflops.toFixed(1).padStart(10));
      }
      if (print) console.log(s.label.padEnd(38) + row.join(''));
    }
  } finally {
    team?.dispose();
    blas?.dispose();
  }
  return results;
}

export interface KernelResult {
  backend: string;
  kernel: string;
  usPerCall: number;
}

/**
 * Microseconds per call of the row/elementwise kernels at a tiny GPT's sizes (B·T = 768, C = 128, 4·C MLP,
 * 2 heads × T 64 attention rows), js vs wasm vs the wasm team; copies in and out of wasm memory included.
 */
export async function benchRowKernels(opts: Omit<BenchMatmulOptions, 'shapes'> = {}): Promise<KernelResult[]> {
  const seconds = opts.seconds ?? 0.3;
  const threads = opts.threads ?? defaultThreads();
  const print = opts.print ?? true;
  const backends: Backend[] = [new JsBackend(), await WasmBackend.create()];
  const team = threads > 1 ? await createThreadedWasmBackend(threads) : null;
  if (team) backends.push(team);
  const R = 768, C = 128, H = 4 * C, att = 8 * 2 * 64, T = 64, n = R * H, P = 400_000;
  const x = filled(n), y = new Float32Array(n), dy = filled(n), dx = new Float32Array(n);
  const w = filled(C), b = filled(C), mean = new Float32Array(R), rstd = new Float32Array(R);
  const dw = new Float32Array(C), db = new Float32Array(C);
  const p = filled(P), g = filled(P), m = new Float32Array(P), v = new Float32Array(P);
  const qkv = filled(3 * R * C), attP = new Float32Array(48 * T * T);
  new JsBackend().attention(qkv, new Float32Array(R * C), attP, 12, T, 4, 32, 0.17); // real probabilities for the backward
  const kernels: Array<[string, (be: Backend) => void]> = [
    [`softmax ${att}×${T}`, (be) => be.softmax(x, y, att, T)],
    [`softmaxBackward ${att}×${T}`, (be) => be.softmaxBackward(y, dy, dx, att, T)],
    [`causalSoftmax 48×${T}×${T}`, (be) => be.causalSoftmax(y.subarray(0, 48 * T * T), 48 * T, T, T, 0.17, null, 1)],
    [`causalSoftmaxBackward 48×${T}×${T}`, (be) => be.causalSoftmaxBackward(x, dx.subarray(0, 48 * T * T), 48 * T, T, 0.17)],
    [`layerNorm ${R}×${C}`, (be) => be.layerNorm(x, w, b, y, mean, rstd, R, C, 1e-5)],
    [`layerNormBackward ${R}×${C}`, (be) => be.layerNormBackward(x, w, mean, rstd, dy, dx, dw, db, R, C)],
    [`gelu ${R}×${H}`, (be) => be.gelu(x, y, n)],
    [`geluBackward ${R}×${H}`, (be) => be.geluBackward(x, y, dy, dx, n)],
    [`adamw ${P}`, (be) => be.adamw(p, g, m, v, P, 1e-3, 0.9, 0.95, 1e-8, 0.1, 1)],
    // fused attention from qkv (B 12, T 64, 4 heads of 32): what training runs instead of the batched products
    [`attention 12×${T}×3·${C}, 4 heads`, (be) => be.attention(qkv, y.subarray(0, R * C), y.subarray(R * C, R * C + 48 * T * T), 12, T, 4, 32, 0.17)],
    [`attentionBackward 12×${T}×3·${C}, 4 heads`, (be) => be.attentionBackward(qkv, attP, dy.subarray(0, R * C), dx.subarray(0, 3 * R * C), 12, T, 4, 32, 0.17, false)],
  ];
  const results: KernelResult[] = [];
  try {
    if (print) console.log(`\nrow/elementwise kernels, µs per call\n${'kernel'.padEnd(38)}${backends.map((be) => label(be).padStart(10)).join('')}`);
    for (const [name, run] of kernels) {
      const row: string[] = [];
      for (const be of backends) {
        const warm = performance.now();
        while (performance.now() - warm < seconds * 300) run(be);
        let calls = 0;
        const t0 = performance.now();
        let t = t0;
        do {
          run(be);
          calls++;
          t = performance.now();
        } while (t - t0 < seconds * 1000);
        const us = ((t - t0) / calls) * 1000;
        results.push({ backend: label(be), kernel: name, usPerCall: us });
        row.push(us.toFixed(0).padStart(10));
      }
      if (print) console.log(name.padEnd(38) + row.join(''));
    }
  } finally {
    team?.dispose();
  }
  return results;
}

// run directly: node dist/bench/matmul.js [--threads N] [--seconds S] [--all]   (--all adds the row kernels)
if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const opts = { threads: arg('--threads'), seconds: arg('--seconds') };
  await benchMatmul(opts);
  if (process.argv.includes('--all')) await benchRowKernels(opts);
}
