// Conv2d throughput (issue #13): one forward + backward (the input's, the weight's and the bias's gradients)
// of F.conv2d on a few representative shapes, ours (src/tensor/conv.ts: im2col + the backend's GEMM) on each
// fast backend beside PyTorch's (bench/torch_conv.py, its default CPU path: oneDNN) on the same shapes, with
// the same thread count, in the same run. Median ms of the runs; GFLOP/s counts 3 GEMMs of 2·N·O·Ho·Wo·K
// flops each (K = C/groups·kH·kW): forward, input gradient, weight gradient.
// Run: node dist/bench/conv.js [--runs 10] [--threads N]   (or gptlab bench --only conv)
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/backend/index.node.js';
import { stepScope, toPersistent } from '../src/backend/storage.js';
import { conv2d } from '../src/tensor/conv.js';
import { Rng } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';
import { medianMs } from './timing.js';

/** one Conv2d call: x (N, C, H, W), weight (O, C, k, k), bias (O); square stride and padding */
export interface ConvShape {
  label: string;
  N: number; C: number; H: number; W: number; O: number; k: number; stride: number; padding: number;
}

/**
 * The LeNet-style CNN of `gptlab vision` on 28×28 images (its default channels 8, 16, kernel 5, padding
 * 'same'), a ResNet basic block's 3×3 convolution, and the strided 3×3 that opens a ResNet stage.
 */
export const CONV_SHAPES: ConvShape[] = [
  { label: 'LeNet conv1 B64 1→8 5×5 28×28 p2', N: 64, C: 1, H: 28, W: 28, O: 8, k: 5, stride: 1, padding: 2 },
  { label: 'LeNet conv2 B64 8→16 5×5 14×14 p2', N: 64, C: 8, H: 14, W: 14, O: 16, k: 5, stride: 1, padding: 2 },
  { label: 'ResNet 3×3 B32 64→64 16×16 p1', N: 32, C: 64, H: 16, W: 16, O: 64, k: 3, stride: 1, padding: 1 },
  { label: 'ResNet 3×3/2 B32 64→128 16×16 p1', N: 32, C: 64, H: 16, W: 16, O: 128, k: 3, stride: 2, padding: 1 },
];

export interface ConvBenchRow {
  shape: ConvShape;
  /** e.g. "blas×2" */
  backend: string;
  ms: number;
  gflops: number;
  /** PyTorch's median ms on the same shape, and ours as a multiple of its speed (torchMs / ms) */
  torchMs: number | null;
  ratio: number | null;
}

export interface ConvBenchResult {
  rows: ConvBenchRow[];
  /** which PyTorch ran, or why none did */
  torchNote: string;
}

const outSide = (n: number, k: number, s: number, p: number): number => Math.floor((n + 2 * p - k) / s) + 1;

/** flops of forward + both backward GEMMs */
export function convFlops(s: ConvShape): number {
  return 3 * 2 * s.N * s.O * outSide(s.H, s.k, s.stride, s.padding) * outSide(s.W, s.k, s.stride, s.padding) * s.C * s.k * s.k;
}

/** our median forward + backward on the active backend; operands live in its storage, as parameters do */
function benchOurs(s: ConvShape, runs: number): number {
  const rng = new Rng(1);
  const make = (shape: number[], scale: number): Tensor => {
    const t = Tensor.randn(shape, rng, scale, 0, true);
    t.data = toPersistent(t.data);
    return t;
  };
  const x = make([s.N, s.C, s.H, s.W], 1), w = make([s.O, s.C, s.k, s.k], 0.1), b = make([s.O], 1);
  const Ho = outSide(s.H, s.k, s.stride, s.padding), Wo = outSide(s.W, s.k, s.stride, s.padding);
  const dy = toPersistent(Tensor.randn([s.N * s.O * Ho * Wo], rng).data);
  return medianMs(() => {
    stepScope(() => {
      conv2d(x, w, b, { stride: s.stride, padding: s.padding }).backward(dy);
      for (const t of [x, w, b]) t.zeroGrad();
    });
  }, runs);
}

/** the committed PyTorch script, beside this file's source (dist-…/bench/conv.js → bench/torch_conv.py) */
function torchScriptPath(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench/torch_conv.py');
}

/** candidate Pythons: $GPTLAB_TORCH_PYTHON alone when set, else the workplace venv, then the system's */
function pythons(): string[] {
  const env = process.env.GPTLAB_TORCH_PYTHON;
  return env ? [env] : ['/work/pyenv/bin/python', '/usr/bin/python3', 'python3'];
}

/** PyTorch's median ms per shape, or null with the reason */
function benchTorch(shapes: ConvShape[], runs: number, threads: number): { ms: number[] | null; note: string } {
  const script = torchScriptPath();
  if (!fs.existsSync(script)) return { ms: null, note: `skipped: ${script} not found` };
  const args = [script, JSON.stringify(shapes.map(({ label: _, ...s }) => s)), String(threads), String(runs)];
  let why = 'no Python found';
  for (const py of pythons()) {
    const r = spawnSync(py, args, { encoding: 'utf8', timeout: 600_000 });
    if (r.error || r.status !== 0) {
      why = r.error ? `${py} cannot be run` : `${py}: ${(r.stderr || '').trim().split('\n').pop()}`;
      continue;
    }
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const head = lines[0], ms = lines.slice(1).map((l) => Number(l.ms));
    if (ms.length !== shapes.length || ms.some((v) => !Number.isFinite(v))) return { ms: null, note: `skipped: unreadable output of ${py}` };
    return { ms, note: `PyTorch ${String(head.torch)} (${py}), ${threads} thread${threads > 1 ? 's' : ''}, oneDNN ${head.mkldnn ? 'on' : 'off'}` };
  }
  return { ms: null, note: `skipped: torch not importable (${why})` };
}

/** the fast backends that load here: wasm always, blas where koffi and OpenBLAS do */
async function backends(threads: number | undefined): Promise<('wasm' | 'blas')[]> {
  try {
    await initBackend({ backend: 'blas', threads });
    return ['wasm', 'blas'];
  } catch {
    return ['wasm'];
  }
}

/**
 * Times our Conv2d forward + backward on every fast backend and PyTorch's on the same shapes (default
 * CONV_SHAPES), shape by shape (ours, then PyTorch, so a change in the machine's load hits both alike), with
 * PyTorch on as many threads as ours; prints one line per shape and backend through `out`.
 */
export async function benchConv(opts: { runs?: number; threads?: number; shapes?: ConvShape[]; torch?: boolean; out?: (s: string) => void } = {}): Promise<ConvBenchResult> {
  const shapes = opts.shapes ?? CONV_SHAPES, runs = opts.runs ?? 10, out = opts.out ?? ((s: string) => console.log(s));
  const names = await backends(opts.threads);
  const rows: ConvBenchRow[] = [];
  let torchNote = '';
  for (const s of shapes) {
    const ours: [string, number][] = [];
    let threads = 1;
    for (const name of names) {
      const be = await initBackend({ backend: name, threads: opts.threads });
      threads = be.threads;
      ours.push([`${be.name}×${be.threads}`, benchOurs(s, runs)]);
    }
    const torch = opts.torch === false ? { ms: null, note: 'PyTorch: off (--torch off)' } : benchTorch([s], runs, threads);
    if (torch.note !== torchNote) out(`  ${(torchNote = torch.note)}`);
    const torchMs = torch.ms ? torch.ms[0] : null;
    for (const [backend, ms] of ours) {
      const row: ConvBenchRow = { shape: s, backend, ms, gflops: convFlops(s) / (ms * 1e6), torchMs, ratio: torchMs === null ? null : torchMs / ms };
      rows.push(row);
      let line = `  ${s.label.padEnd(36)} gptlab ${backend.padEnd(7)} ${ms.toFixed(2).padStart(8)} ms ${row.gflops.toFixed(1).padStart(6)} GFLOP/s`;
      if (torchMs !== null) line += ` | PyTorch ${torchMs.toFixed(2).padStart(8)} ms ${(convFlops(s) / (torchMs * 1e6)).toFixed(1).padStart(6)} GFLOP/s | ${row.ratio!.toFixed(2)}× PyTorch`;
      out(line);
    }
  }
  return { rows, torchNote };
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').slice(-2).join('/'));
if (isMain) {
  const arg = (k: string): string | undefined => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1] : undefined);
  console.log('Conv2d forward + backward (dx, dW, db), median ms');
  await benchConv({ runs: Number(arg('--runs') ?? 10), threads: arg('--threads') ? Number(arg('--threads')) : undefined });
  process.exit(0);
}
