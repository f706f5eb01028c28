// The convolution unrolling's fast path (assembly/conv.ts through WasmBackend.im2col / col2im) against its
// TypeScript reference (src/tensor/im2col.ts), bit for bit (pure copies and the same order of additions), on
// random geometries with strides, padding, dilation and groups: one thread and split over two, with operands
// inside the wasm memory and outside it (staged). Then conv2d when a batch is unrolled in several chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../src/backend/index.node.js';
import { allocPersistent } from '../src/backend/storage.js';
import type { ConvGeometry } from '../src/backend/backend.js';
import { WasmBackend } from '../src/backend/wasm.js';
import { col2imChunk, im2colChunk } from '../src/tensor/im2col.js';
import { conv2d, conv2dDirect, convGeometry, convLimits, type Conv2dOptions } from '../src/tensor/conv.js';
import { Rng } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';

/** a random geometry: up to 3 groups of up to 3 channels, kernels up to 4, strides up to 3, dilation up to 2 */
function randomCase(rng: Rng): { x: Tensor; w: Tensor; o: Conv2dOptions } {
  const r = (lo: number, hi: number): number => lo + rng.int(hi - lo + 1);
  const G = r(1, 3), Cg = r(1, 3), kH = r(1, 4), kW = r(1, 4);
  const d: [number, number] = [r(1, 2), r(1, 2)], p: [number, number] = [r(0, 3), r(0, 3)], s: [number, number] = [r(1, 3), r(1, 3)];
  const H = Math.max(1, d[0] * (kH - 1) + 1 - 2 * p[0]) + r(0, 9), W = Math.max(1, d[1] * (kW - 1) + 1 - 2 * p[1]) + r(0, 9);
  const x = Tensor.randn([r(1, 4), G * Cg, H, W], rng), w = Tensor.randn([G * r(1, 2), Cg, kH, kW], rng);
  return { x, w, o: { stride: s, padding: p, dilation: d, groups: G } };
}

const colSize = (g: ConvGeometry, n: number): number => g.G * g.Cg * g.kH * g.kW * n * g.Ho * g.Wo;

/** a copy of src in the backend's storage (resident) or as a plain array */
function place(src: Float32Array, resident: boolean): Float32Array {
  const a = resident ? allocPersistent(src.length) : new Float32Array(src.length);
  a.set(src);
  return a;
}

/** checks 40 random cases; returns the most threads a call was split over */
function checkUnrolling(be: WasmBackend, resident: boolean, seed: number): number {
  const rng = new Rng(seed);
  let parts = 0;
  for (let trial = 0; trial < 40; trial++) {
    const { x, w, o } = randomCase(rng);
    const g = convGeometry('test', x, w, null, o);
    const n0 = rng.int(g.N), n = 1 + rng.int(g.N - n0), what = `trial ${trial}: x [${x.shape}] w [${w.shape}] ${JSON.stringify(o)} images ${n0}+${n}`;
    const want = new Float32Array(colSize(g, n)).fill(NaN); // the reference must write every element
    im2colChunk(x.data, g, n0, n, want);
    const got = place(new Float32Array(want.length).fill(NaN), resident);
    assert.ok(be.im2col(place(x.data, resident), got, g, n0, n), what);
    parts = Math.max(parts, be.lastParts);
    assert.deepEqual(Float32Array.from(got), want, `im2col ${what}`);
    const dxWant = Tensor.randn(x.shape, rng).data, dxGot = place(dxWant, resident);
    col2imChunk(want, g, n0, n, dxWant);
    assert.ok(be.col2im(place(want, resident), dxGot, g, n0, n), what);
    assert.deepEqual(Float32Array.from(dxGot), dxWant, `col2im ${what}`);
  }
  return parts;
}

for (const threads of [1, 2]) {
  test(`wasm im2col / col2im equal the reference (${threads} thread${threads > 1 ? 's' : ''})`, async () => {
    const be = await initBackend({ backend: 'wasm', threads }) as WasmBackend;
    be.minLightElemsPerThread = be.minResidentElemsPerThread = 1; // split even the small cases
    for (const resident of [true, false]) assert.equal(checkUnrolling(be, resident, 3 + threads), threads, 'calls split over every thread');
  });
}

test('conv2d unrolled in several chunks equals the direct loop, forward and backward', async () => {
  await initBackend({ backend: 'wasm', threads: 2 });
  const saved = convLimits.colElems;
  try {
    for (const [limit, opts] of [[1, { padding: 1 }], [200, { stride: 2, padding: [2, 1], groups: 2 }]] as [number, Conv2dOptions][]) {
      convLimits.colElems = limit; // 1: one image per chunk; 200: a few
      const run = (f: typeof conv2d): Float32Array[] => {
        const r2 = new Rng(1);
        const x = Tensor.randn([5, 4, 7, 6], r2, 1, 0, true), w = Tensor.randn([6, 4 / (opts.groups ?? 1), 3, 3], r2, 0.5, 0, true);
        const b = Tensor.randn([6], r2, 0.1, 0, true);
        const y = f(x, w, b, opts);
        y.backward(Tensor.randn(y.shape, r2).data);
        return [y.data, x.grad!, w.grad!, b.grad!];
      };
      const fast = run(conv2d), ref = run(conv2dDirect);
      ['y', 'dx', 'dw', 'db'].forEach((name, i) => {
        for (let k = 0; k < ref[i].length; k++) {
          assert.ok(Math.abs(fast[i][k] - ref[i][k]) <= 2e-5 + 1e-4 * Math.abs(ref[i][k]), `limit ${limit} ${name}[${k}]: ${fast[i][k]} vs ${ref[i][k]}`);
        }
      });
    }
  } finally {
    convLimits.colElems = saved;
  }
});
