// Whole-matrix quantization and dequantization speed (#11 §4): a 768×3072 float32 matrix (GPT-2 small's MLP
// weight) through every block format, the TypeScript reference (src/quant/*.ts) beside the wasm SIMD kernels
// (assembly/quantize.ts and quantize-k.ts, one thread, as quantize()/dequantize() use them on the wasm and blas
// backends),
// interleaved round by round, medians. MB/s counts the float32 side (9.4 MB). Outputs are checked equal.
// Run: node dist/bench/quant.js [--quick]      (gptlab bench --only quant calls benchQuant)
import { WasmBackend } from '../src/backend/wasm.js';
import { GGMLType, dequantizeReference, quantizeReference } from '../src/quant/index.js';
import { Rng } from '../src/tensor/rng.js';
import { median } from './timing.js';

export interface QuantBenchRow {
  type: string;
  quantizeTsMBs: number;
  quantizeWasmMBs: number | null;
  dequantizeTsMBs: number;
  dequantizeWasmMBs: number;
}

const TYPES: [string, number][] = [
  ['Q8_0', GGMLType.Q8_0], ['Q4_0', GGMLType.Q4_0], ['Q4_1', GGMLType.Q4_1], ['Q5_0', GGMLType.Q5_0], ['Q5_1', GGMLType.Q5_1],
  ['Q4_K', GGMLType.Q4_K], ['Q5_K', GGMLType.Q5_K], ['Q6_K', GGMLType.Q6_K],
];

function timeMs(f: () => unknown): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** TS vs wasm quantize/dequantize MB/s per type; prints a table unless print is false. */
export async function benchQuant(opts: { quick?: boolean; print?: boolean; rows?: number; cols?: number; out?: (line: string) => void } = {}): Promise<QuantBenchRow[]> {
  const rows = opts.rows ?? 768, cols = opts.cols ?? 3072, n = rows * cols, mb = (4 * n) / 1e6;
  const rng = new Rng(1);
  const x = Float32Array.from({ length: n }, () => rng.normal() * 0.02);
  const wasm = await WasmBackend.create();
  const rounds = opts.quick ? 1 : 3;
  const out: QuantBenchRow[] = [];
  const log = (s: string): void => { if (opts.print !== false) (opts.out ?? console.log)(s); };
  log(`  ${rows}×${cols} float32 (${mb.toFixed(1)} MB), medians of ${rounds}; MB/s of float32, TypeScript reference vs wasm SIMD (1 thread)`);
  log('  type   quantize TS   wasm     ×     dequantize TS   wasm     ×');
  for (const [name, type] of TYPES) {
    const q = quantizeReference(type, x);
    const fastQ = wasm.quantizeFloats(type, x);
    if (fastQ && !sameBytes(fastQ, q)) throw new Error(`bench quant: ${name} wasm quantize differs from the reference`);
    const ref = dequantizeReference(type, q, n), fast = wasm.dequantizeBytes(type, q, n)!;
    if (!sameBytes(new Uint8Array(ref.buffer), new Uint8Array(fast.buffer))) throw new Error(`bench quant: ${name} wasm dequantize differs from the reference`);
    const t = { qTs: [] as number[], qW: [] as number[], dTs: [] as number[], dW: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      t.qTs.push(timeMs(() => quantizeReference(type, x)));
      if (fastQ) t.qW.push(timeMs(() => wasm.quantizeFloats(type, x)));
      t.dTs.push(timeMs(() => dequantizeReference(type, q, n)));
      t.dW.push(timeMs(() => wasm.dequantizeBytes(type, q, n)));
    }
    const rate = (ms: number[]): number => (ms.length ? mb / (median(ms) / 1000) : NaN);
    const row: QuantBenchRow = {
      type: name, quantizeTsMBs: rate(t.qTs), quantizeWasmMBs: fastQ ? rate(t.qW) : null, dequantizeTsMBs: rate(t.dTs), dequantizeWasmMBs: rate(t.dW),
    };
    out.push(row);
    const f = (v: number | null): string => (v === null || Number.isNaN(v) ? '—' : v.toFixed(0)).padStart(7);
    const ratio = (a: number | null, b: number): string => (a === null || Number.isNaN(b) ? '—' : (a / b).toFixed(1)).padStart(6);
    log(`  ${name.padEnd(5)} ${f(row.quantizeTsMBs)}   ${f(row.quantizeWasmMBs)} ${ratio(row.quantizeWasmMBs, row.quantizeTsMBs)}     ${f(row.dequantizeTsMBs)}   ${f(row.dequantizeWasmMBs)} ${ratio(row.dequantizeWasmMBs, row.dequantizeTsMBs)}`);
  }
  return out;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  await benchQuant({ quick: process.argv.includes('--quick') });
}
