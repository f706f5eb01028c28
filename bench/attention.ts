// Fused causal attention (assembly/attention.ts) on one thread vs the TypeScript reference
// (src/backend/attention-ref.ts), forward and backward over all items, at nanoGPT's CPU config
// (B 12, H 4, T 64, hs 32) and a larger one (H 6, T 256, hs 64). Median of the runs, in ms.
// Run: node dist/bench/attention.js [--runs 20]
import { compileKernels, createMemory, instantiateKernels } from '../src/backend/wasm.js';
import { attentionBackwardRef, attentionForwardRef } from '../src/backend/attention-ref.js';
import { medianMs } from './timing.js';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20;
const module = await compileKernels(false);
const memory = createMemory(false);
const k = await instantiateKernels(module, memory);
k.initConstants();

console.log(`fused causal attention, 1 thread, median of ${runs} runs (ms)`);
console.log(`${'shape'.padEnd(28)}${'fwd wasm'.padStart(10)}${'fwd ref'.padStart(10)}${'×'.padStart(7)}${'bwd wasm'.padStart(10)}${'bwd ref'.padStart(10)}${'×'.padStart(7)}`);
for (const [B, H, T, hs] of [[12, 4, 64, 32], [8, 6, 256, 64]]) {
  const C = H * hs, items = B * H, scale = 1 / Math.sqrt(hs);
  const sizes = { qkv: B * T * 3 * C, y: B * T * C, att: items * T * T, dy: B * T * C, dqkv: B * T * 3 * C, scratch: k.attnScratchBytes(T, hs) / 4 };
  const off: Record<string, number> = {};
  let p = 1 << 20;
  for (const [name, n] of Object.entries(sizes)) {
    off[name] = p;
    p += Math.ceil((n * 4) / 64) * 64;
  }
  if (p > memory.buffer.byteLength) memory.grow(Math.ceil((p - memory.buffer.byteLength) / 65536));
  const qkv = new Float32Array(sizes.qkv), dy = new Float32Array(sizes.dy);
  for (let i = 0; i < qkv.length; i++) qkv[i] = Math.sin(i * 0.37);
  for (let i = 0; i < dy.length; i++) dy[i] = Math.cos(i * 0.11);
  new Float32Array(memory.buffer, off.qkv, sizes.qkv).set(qkv);
  new Float32Array(memory.buffer, off.dy, sizes.dy).set(dy);
  const y = new Float32Array(sizes.y), att = new Float32Array(sizes.att), dqkv = new Float32Array(sizes.dqkv);

  const fw = medianMs(() => k.attnForward(off.qkv, off.y, off.att, T, H, hs, scale, 0, items, off.scratch), runs);
  const bw = medianMs(() => k.attnBackward(off.qkv, off.att, off.dy, off.dqkv, T, H, hs, scale, 1, 0, items, off.scratch), runs);
  const refRuns = T > 64 ? Math.min(runs, 5) : runs;
  const fr = medianMs(() => attentionForwardRef(qkv, y, att, B, T, H, hs, scale), refRuns);
  const br = medianMs(() => attentionBackwardRef(qkv, att, dy, dqkv, B, T, H, hs, scale, true), refRuns);
  const f = (x: number) => x.toFixed(3).padStart(10);
  const s = (x: number) => `${x.toFixed(1)}×`.padStart(7);
  console.log(`${`B${B} H${H} T${T} hs${hs}`.padEnd(28)}${f(fw)}${f(fr)}${s(fr / fw)}${f(bw)}${f(br)}${s(br / bw)}`);
}
