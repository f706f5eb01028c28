// Convolutions, pooling, batch norm and the CNN modules against PyTorch: scripts/fixtures/make_conv_fixture.py
// (torch 2.13, CPU float32) wrote inputs, parameters, outputs y, a random R and the gradients of L = Σ y·R
// for every case into test/fixtures/conv/conv.safetensors. We recompute them on the JS reference backend, the
// WebAssembly backend and (where it loads) OpenBLAS: outputs within 1e-5, gradients within 1e-5 + 1e-3·|g|.
// The im2col path is also held against the direct-loop reference on random geometries, and the course notes'
// worked example (a 6×6 binary image, a diagonal 3×3 filter, 2×2 max pooling) is checked by hand-computed
// numbers. PyTorch is not needed to run this.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { readSafetensors, toFloat32 } from '../src/formats/safetensors.js';
import { initBackend } from '../src/backend/index.node.js';
import { Tensor, noGrad } from '../src/tensor/tensor.js';
import { stepScope, storageProvider } from '../src/backend/storage.js';
import { Rng } from '../src/tensor/rng.js';
import { relu } from '../src/tensor/elementwise.js';
import { conv1d, conv1dDirect, conv2d, conv2dDirect, type Conv2dOptions } from '../src/tensor/conv.js';
import { adaptiveAvgPool2d, avgPool1d, avgPool2d, flatten, maxPool1d, maxPool2d } from '../src/tensor/pool.js';
import { batchNorm } from '../src/tensor/batchnorm.js';
import { crossEntropy } from '../src/tensor/nnops.js';
import { AdamW } from '../src/optim/adamw.js';
import { Conv1d, Conv2d } from '../src/nn/conv.js';
import { MaxPool2d, Flatten, AdaptiveAvgPool2d } from '../src/nn/pool.js';
import { BatchNorm1d, BatchNorm2d, BufferedModule } from '../src/nn/batchnorm.js';
import { BasicBlock } from '../src/nn/resnet.js';
import { Linear } from '../src/nn/layers.js';
import type { Module } from '../src/nn/module.js';
import { gradcheck } from './helpers/gradcheck.js';

const fx = readSafetensors(new Uint8Array(fs.readFileSync(new URL('../../test/fixtures/conv/conv.safetensors', import.meta.url))), 'conv.safetensors');
type Opts = Record<string, number | number[] | boolean | string | null>;
const cases = JSON.parse(fx.metadata.cases) as Record<string, { kind: string; opts: Opts; bias: boolean; momentum: number | null; modes: string[] }>;

function data(name: string): Float32Array {
  const e = fx.tensors.get(name);
  if (!e) throw new Error(`fixture has no tensor ${name}`);
  return toFloat32(e);
}
/** a fresh tensor (own copy of the data) from the fixture */
function tensor(name: string, requiresGrad = false): Tensor {
  return new Tensor(Float32Array.from(data(name)), fx.tensors.get(name)!.shape.slice(), requiresGrad);
}

function close(name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): number {
  assert.equal(got.length, want.length, `${name}: length ${got.length}, PyTorch ${want.length}`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    worst = Math.max(worst, d);
    if (!(d <= atol + rtol * Math.abs(want[i]))) assert.fail(`${name}[${i}]: got ${got[i]}, PyTorch ${want[i]} (|Δ| ${d.toExponential(2)})`);
  }
  return worst;
}
/** the largest |Δ| vs PyTorch seen since the last report, for outputs and gradients */
const worst = { y: 0, g: 0, checked: 0 };
const closeY = (name: string, got: ArrayLike<number>, want: ArrayLike<number>): void => {
  worst.y = Math.max(worst.y, close(name, got, want, 1e-5, 0));
  worst.checked++;
};
const closeG = (name: string, got: ArrayLike<number> | null, want: ArrayLike<number>): void => {
  worst.g = Math.max(worst.g, close(name, got ?? new Float32Array(want.length), want, 1e-5, 1e-3));
  worst.checked++;
};
function report(t: { diagnostic(msg: string): void }): void {
  assert.ok(worst.checked > 0, 'nothing was compared');
  t.diagnostic(`${worst.checked} tensors compared; max |Δ| outputs ${worst.y.toExponential(2)}, gradients ${worst.g.toExponential(2)}`);
  worst.y = worst.g = worst.checked = 0;
}

/** y against `<c>.y`, then backward with R = `<c>.R` (the gradient of Σ y·R) */
function checkOut(c: string, y: Tensor): void {
  closeY(`${c} y`, y.data, data(`${c}.y`));
  y.backward(data(`${c}.R`));
}

const pairOf = (v: number | number[] | boolean | string | null | undefined): number | [number, number] | undefined =>
  v === undefined || v === null ? undefined : Array.isArray(v) ? [v[0], v[1]] : (v as number);

function convOpts(o: Opts): Conv2dOptions {
  return { stride: pairOf(o.stride), padding: o.padding === 'same' ? 'same' : pairOf(o.padding), dilation: pairOf(o.dilation), groups: o.groups as number | undefined };
}

function runConvCase(c: string, direct: boolean): void {
  const { kind, opts, bias } = cases[c];
  const x = tensor(`${c}.x`, true), w = tensor(`${c}.w`, true), b = bias ? tensor(`${c}.b`, true) : null;
  const o = convOpts(opts);
  const y = kind === 'conv2d'
    ? (direct ? conv2dDirect : conv2d)(x, w, b, o)
    : (direct ? conv1dDirect : conv1d)(x, w, b, o as { stride?: number; padding?: number; dilation?: number; groups?: number });
  checkOut(c, y);
  closeG(`${c} dx`, x.grad, data(`${c}.gx`));
  closeG(`${c} dw`, w.grad, data(`${c}.gw`));
  if (b) closeG(`${c} db`, b.grad, data(`${c}.gb`));
}

function runPoolCase(c: string): void {
  const { kind, opts: o } = cases[c];
  const x = tensor(`${c}.x`, true);
  const k = pairOf(o.kernel_size)!;
  const po = { stride: pairOf(o.stride), padding: pairOf(o.padding), countIncludePad: o.count_include_pad as boolean | undefined };
  const po1 = { stride: o.stride as number | undefined, padding: o.padding as number | undefined, countIncludePad: po.countIncludePad };
  const y = kind === 'max_pool2d' ? maxPool2d(x, k, po)
    : kind === 'avg_pool2d' ? avgPool2d(x, k, po)
    : kind === 'max_pool1d' ? maxPool1d(x, k as number, po1)
    : kind === 'avg_pool1d' ? avgPool1d(x, k as number, po1)
    : adaptiveAvgPool2d(x, pairOf(o.output_size)!);
  checkOut(c, y);
  closeG(`${c} dx`, x.grad, data(`${c}.gx`));
}

/** loads `<c>.<stage>.param.*` and `.buffer.*` (PyTorch's state dict) into m */
function loadStage(m: Module, c: string, stage: string): void {
  const state = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const kind of ['param', 'buffer']) {
    const pre = `${c}.${stage}.${kind}.`;
    for (const [k, e] of fx.tensors) if (k.startsWith(pre)) state.set(k.slice(pre.length), { shape: e.shape, data: toFloat32(e) });
  }
  m.loadStateDict(state, `${c} ${stage}`);
}

/** compares every parameter gradient and every buffer of m with the fixture's after `stage` */
function checkModule(m: Module, c: string, stage: string): void {
  for (const [n, p] of m.namedParameters()) closeG(`${c} ${stage} grad ${n}`, p.grad, data(`${c}.${stage}.grad.${n}`));
  if (m instanceof BufferedModule) {
    for (const [n, t] of m.namedBuffers()) close(`${c} ${stage} buffer ${n}`, t.data, data(`${c}.${stage}.buffer.${n}`), 1e-5, 1e-5);
  }
}

/** one forward/backward per stage of a module case: y, dx, parameter gradients, buffers */
function runModuleCase(c: string, m: Module & { forward(x: Tensor): Tensor }, stages: string[]): void {
  loadStage(m, c, 'init');
  for (const stage of stages) {
    m.train(stage !== 'eval');
    m.zeroGrad();
    const x = tensor(`${c}.${stage}.x`, true);
    checkOut(`${c}.${stage}`, m.forward(x));
    closeG(`${c} ${stage} dx`, x.grad, data(`${c}.${stage}.gx`));
    checkModule(m, c, stage);
  }
}

/** LeNet-5 in miniature, as the fixture's: (N, 1, 16, 16) → (N, 10) */
class LeNet extends BufferedModule {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly pool = new MaxPool2d(2);
  readonly flat = new Flatten();
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(rng: Rng) {
    super();
    this.conv1 = this.child('conv1', new Conv2d(1, 4, 5, rng));
    this.conv2 = this.child('conv2', new Conv2d(4, 8, 3, rng));
    this.fc1 = this.child('fc1', new Linear(32, 16, true, rng));
    this.fc2 = this.child('fc2', new Linear(16, 10, true, rng));
  }
  forward(x: Tensor): Tensor {
    const h = this.pool.forward(relu(this.conv1.forward(x))); // (N, 4, 6, 6)
    const h2 = this.pool.forward(relu(this.conv2.forward(h))); // (N, 8, 2, 2)
    return this.fc2.forward(relu(this.fc1.forward(this.flat.forward(h2))));
  }
}

const blasMissing = (await import('../src/backend/blas.node.js')).blasUnavailableReason();
const byKind = (pred: (k: string) => boolean): string[] => Object.keys(cases).filter((c) => pred(cases[c].kind));

for (const be of ['js', 'wasm', 'blas'] as const) {
  const skip = be === 'blas' && blasMissing !== null ? blasMissing.split('\n')[0] : false;
  describe(`PyTorch parity on ${be}`, { skip }, () => {
    test('conv2d and conv1d (im2col + GEMM): stride, padding, dilation, groups', async (t) => {
      await initBackend({ backend: be, threads: 1 });
      for (const c of byKind((k) => k.startsWith('conv'))) runConvCase(c, false);
      report(t);
    });
    test('max / avg / adaptive pooling, 1-D and 2-D', async (t) => {
      await initBackend({ backend: be, threads: 1 });
      for (const c of byKind((k) => k.includes('pool'))) runPoolCase(c);
      report(t);
    });
    test('BatchNorm1d / BatchNorm2d: two training steps (running stats), then eval', async (t) => {
      await initBackend({ backend: be, threads: 1 });
      for (const c of byKind((k) => k.startsWith('batch_norm'))) {
        const n = fx.tensors.get(`${c}.init.param.weight`)!.shape[0];
        const cfg = { momentum: cases[c].momentum };
        runModuleCase(c, cases[c].kind === 'batch_norm2d' ? new BatchNorm2d(n, cfg) : new BatchNorm1d(n, cfg), ['s1', 's2', 'eval']);
      }
      report(t);
    });
    test('LeNet-style net and ResNet basic blocks (projection and identity shortcut)', async (t) => {
      await initBackend({ backend: be, threads: 1 });
      runModuleCase('lenet', new LeNet(new Rng(1)), ['train']);
      runModuleCase('resblock_proj', new BasicBlock(3, 4, new Rng(2), 2), ['train', 'eval']);
      runModuleCase('resblock_id', new BasicBlock(4, 4, new Rng(3)), ['train', 'eval']);
      report(t);
    });
  });
}

test('in a step arena (wasm storage, reused dirty memory) a ResNet block gives the same numbers', async () => {
  await initBackend({ backend: 'wasm', threads: 1 });
  assert.ok(storageProvider() !== null, 'the wasm backend stores tensors');
  const c = 'resblock_proj';
  const run = (): Float32Array[] => {
    const block = new BasicBlock(3, 4, new Rng(2), 2);
    loadStage(block, c, 'init');
    const x = tensor(`${c}.train.x`, true);
    const y = block.forward(x);
    y.backward(data(`${c}.train.R`));
    return [y.data, x.grad!, ...block.parameters().map((p) => p.grad!)].map((a) => Float32Array.from(a)); // copied out of the arena
  };
  const outside = run();
  for (let k = 0; k < 3; k++) assert.deepEqual(stepScope(run), outside, `run ${k} in the arena`);
});

test('direct-loop reference matches PyTorch too', async (t) => {
  await initBackend({ backend: 'js' });
  for (const c of byKind((k) => k.startsWith('conv'))) runConvCase(c, true);
  report(t);
});

/** a random convolution geometry with odd sizes; output at least 1×1 */
function randomGeometry(rng: Rng): { x: number[]; w: number[]; o: Conv2dOptions } {
  const r = (lo: number, hi: number): number => lo + rng.int(hi - lo + 1);
  const G = r(1, 3), Cg = r(1, 3), Og = r(1, 3), kH = r(1, 4), kW = r(1, 4);
  const s: [number, number] = [r(1, 3), r(1, 3)], d: [number, number] = [r(1, 2), r(1, 2)], p: [number, number] = [r(0, 3), r(0, 3)];
  const H = Math.max(1, d[0] * (kH - 1) + 1 - 2 * p[0]) + r(0, 6), W = Math.max(1, d[1] * (kW - 1) + 1 - 2 * p[1]) + r(0, 6);
  const same = rng.random() < 0.2; // PyTorch's padding='same' (stride 1), asymmetric for even dilated kernels
  const o: Conv2dOptions = same ? { padding: 'same', dilation: d, groups: G } : { stride: s, padding: p, dilation: d, groups: G };
  return { x: [r(1, 2), G * Cg, H, W], w: [G * Og, Cg, kH, kW], o };
}

for (const be of ['js', 'wasm'] as const) {
  test(`im2col path equals the direct loop on random shapes (${be})`, async () => {
    await initBackend({ backend: be, threads: 1 });
    const rng = new Rng(7);
    for (let trial = 0; trial < 60; trial++) {
      const { x: xs, w: ws, o } = randomGeometry(rng);
      const run = (f: typeof conv2d): Tensor[] => {
        const r2 = new Rng(100 + trial);
        const x = Tensor.randn(xs, r2, 1, 0, true), w = Tensor.randn(ws, r2, 0.5, 0, true), b = Tensor.randn([ws[0]], r2, 0.1, 0, true);
        const y = f(x, w, b, o);
        y.backward(Tensor.randn(y.shape, r2).data);
        return [y, new Tensor(x.grad!, xs), new Tensor(w.grad!, ws), new Tensor(b.grad!, [ws[0]])];
      };
      const fast = run(conv2d), ref = run(conv2dDirect);
      const what = `trial ${trial}: x [${xs}] w [${ws}] ${JSON.stringify(o)}`;
      assert.deepEqual(fast[0].shape, ref[0].shape, what);
      ['y', 'dx', 'dw', 'db'].forEach((n, i) => close(`${what} ${n}`, fast[i].data, ref[i].data, 2e-5, 1e-4));
    }
  });
}

test('finite differences: direct conv2d, conv1d, batch norm in training, pooling', async () => {
  await initBackend({ backend: 'js' });
  const rng = new Rng(11);
  const x = Tensor.randn([2, 4, 5, 4], rng), w = Tensor.randn([2, 2, 3, 2], rng), b = Tensor.randn([2], rng);
  gradcheck('conv2dDirect', (a, ww, bb) => conv2dDirect(a, ww, bb, { stride: [2, 1], padding: 1, dilation: [1, 2], groups: 2 }), [x, w, b]);
  const x1 = Tensor.randn([2, 2, 7], rng), w1 = Tensor.randn([3, 2, 3], rng);
  gradcheck('conv1d', (a, ww) => conv1d(a, ww, null, { stride: 2, padding: 1 }), [x1, w1]);
  const xb = Tensor.randn([3, 2, 2, 2], rng), g = Tensor.randn([2], rng), be = Tensor.randn([2], rng);
  gradcheck('batchNorm', (a, gg, bb) => batchNorm(a, { weight: gg, bias: bb, training: true }), [xb, g, be], { eps: 1e-2, atol: 5e-3 });
  const xp = Tensor.randn([1, 2, 5, 5], rng);
  gradcheck('avgPool2d', (a) => avgPool2d(a, 3, { stride: 2, padding: 1 }), [xp]);
  gradcheck('adaptiveAvgPool2d', (a) => adaptiveAvgPool2d(a, [2, 3]), [xp]);
});

test("course notes' worked example: 6×6 binary image, diagonal 3×3 filter, stride 1 and 2, 2×2 max pooling", () => {
  const image = Tensor.from([[[
    [1, 0, 0, 0, 0, 1],
    [0, 1, 0, 0, 1, 0],
    [0, 0, 1, 1, 0, 0],
    [1, 0, 0, 0, 1, 0],
    [0, 1, 0, 0, 1, 0],
    [0, 0, 1, 0, 1, 0],
  ]]]); // (1, 1, 6, 6)
  const filter = Tensor.from([[[
    [1, -1, -1],
    [-1, 1, -1],
    [-1, -1, 1],
  ]]]); // (1, 1, 3, 3)
  // stride 1: each entry is (#ones on the window's diagonal) − (#ones off it); the top-left window holds
  // the three diagonal ones of the image: 3; the one right of it sees 1 diagonal one and 2 others: −1; …
  const s1 = [
    3, -1, -3, -1,
    -3, 1, 0, -3,
    -3, -3, 0, 1,
    3, -2, -2, -1,
  ];
  const s2 = [3, -3, -3, 0]; // rows and columns 0 and 2 of the stride-1 map
  for (const f of [conv2d, conv2dDirect]) {
    const y1 = f(image, filter, null, { stride: 1 });
    assert.deepEqual(y1.shape, [1, 1, 4, 4]);
    assert.deepEqual(Array.from(y1.data), s1);
    const y2 = f(image, filter, null, { stride: 2 });
    assert.deepEqual(y2.shape, [1, 1, 2, 2]);
    assert.deepEqual(Array.from(y2.data), s2);
    // 2×2 max pooling of the 4×4 map: max(3,−1,−3,1) = 3, max(−3,−1,0,−3) = 0, max(−3,−3,3,−2) = 3, max(0,1,−2,−1) = 1
    const p = maxPool2d(y1, 2);
    assert.deepEqual(p.shape, [1, 1, 2, 2]);
    assert.deepEqual(Array.from(p.data), [3, 0, 3, 1]);
  }
});

test('modules: PyTorch state-dict names, buffers outside parameters(), init bounds, shapes', () => {
  const rng = new Rng(5);
  const block = new BasicBlock(3, 4, rng, 2);
  const names = [...block.stateDict().keys()].sort();
  const bn = (p: string): string[] => ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map((n) => `${p}.${n}`);
  assert.deepEqual(names, ['conv1.weight', 'conv2.weight', 'downsample.0.weight', ...bn('bn1'), ...bn('bn2'), ...bn('downsample.1')].sort());
  const params = block.namedParameters().map(([n]) => n);
  assert.ok(params.every((n) => !/running|num_batches/.test(n)), `buffers among parameters: ${params}`);
  assert.equal(params.length, 9);
  assert.equal(new BasicBlock(4, 4, rng).downsample, null);
  const y = noGrad(() => block.forward(Tensor.randn([2, 3, 9, 8], rng)));
  assert.deepEqual(y.shape, [2, 4, 5, 4]);

  const conv = new Conv2d(6, 4, [3, 2], rng, { groups: 2 });
  assert.deepEqual(conv.weight.shape, [4, 3, 3, 2]);
  const bound = 1 / Math.sqrt(3 * 3 * 2);
  assert.ok(conv.weight.data.every((v) => Math.abs(v) <= bound) && conv.bias!.data.every((v) => Math.abs(v) <= bound));
  assert.ok(Math.max(...conv.weight.data.map(Math.abs)) > bound * 0.7, 'weights spread over the bound');
  assert.deepEqual(new Conv1d(2, 3, 5, rng, { bias: false }).stateDict().size, 1);
  const same = new Conv2d(3, 2, [4, 3], rng, { padding: 'same', dilation: 2 });
  assert.deepEqual(noGrad(() => same.forward(Tensor.randn([1, 3, 7, 6], rng))).shape, [1, 2, 7, 6]);
  assert.deepEqual(noGrad(() => new Conv1d(2, 3, 4, rng, { padding: 'same' }).forward(Tensor.randn([2, 2, 9], rng))).shape, [2, 3, 9]);
  assert.deepEqual(new AdaptiveAvgPool2d(1).forward(Tensor.randn([2, 3, 5, 4], rng)).shape, [2, 3, 1, 1]);
  const free = new BatchNorm2d(3, { trackRunningStats: false, affine: false }).eval();
  assert.equal(free.stateDict().size, 0);
  const z = noGrad(() => free.forward(Tensor.randn([4, 3, 2, 2], rng, 3, 5))); // batch statistics even in eval mode
  assert.ok(Math.abs(z.data.reduce((a, v) => a + v, 0)) < 1e-4, 'normalised by its own batch');
  assert.deepEqual(flatten(Tensor.zeros([2, 3, 4, 5])).shape, [2, 60]);
  assert.deepEqual(flatten(Tensor.zeros([2, 3, 4, 5]), 0, 1).shape, [6, 4, 5]);
});

test("a PyTorch state_dict file (int64 num_batches_tracked) loads into BasicBlock; buffers go back out", () => {
  const sd = readSafetensors(new Uint8Array(fs.readFileSync(new URL('../../test/fixtures/conv/resblock_state_dict.safetensors', import.meta.url))));
  assert.equal(sd.tensors.get('bn1.num_batches_tracked')!.dtype, 'I64');
  const block = new BasicBlock(3, 4, new Rng(9), 2);
  block.loadStateDict(new Map([...sd.tensors].map(([k, e]) => [k, { shape: e.shape, data: toFloat32(e) }])), 'resblock_state_dict');
  const own = block.stateDict();
  assert.equal(own.size, sd.tensors.size);
  for (const [k, t] of own) close(k, t.data, data(`resblock_proj.train.${k.includes('running') || k.includes('num_batches') ? 'buffer' : 'param'}.${k}`), 0, 0);
  assert.equal(own.get('downsample.1.num_batches_tracked')!.item(), 1);
});

test('training: a conv–BN–ResNet–pool net learns bars vs. crosses with AdamW over parameters() only', async () => {
  await initBackend({ backend: 'js' });
  const rng = new Rng(3);
  // 8×8 images: class 0 a horizontal bar, class 1 a vertical bar, at random positions, with noise
  const N = 16, xs = new Float32Array(N * 64), ys: number[] = [];
  for (let n = 0; n < N; n++) {
    const cls = n % 2, at = 1 + rng.int(6);
    ys.push(cls);
    for (let i = 0; i < 64; i++) xs[n * 64 + i] = 0.1 * rng.normal() + ((cls === 0 ? Math.floor(i / 8) : i % 8) === at ? 1 : 0);
  }
  class Net extends BufferedModule {
    readonly stem = this.child('stem', new Conv2d(1, 4, 3, rng, { padding: 1, bias: false }));
    readonly bn = this.child('bn', new BatchNorm2d(4));
    readonly block = this.child('block', new BasicBlock(4, 8, rng, 2));
    readonly head = this.child('head', new Linear(8, 2, true, rng, 0.1));
    forward(x: Tensor): Tensor {
      const h = this.block.forward(relu(this.bn.forward(this.stem.forward(x)))); // (N, 8, 4, 4)
      return this.head.forward(flatten(adaptiveAvgPool2d(h, 1))); // (N, 2)
    }
  }
  const net = new Net();
  const opt = new AdamW([{ weightDecay: 0, params: net.parameters() }], { lr: 0.02 });
  const x = new Tensor(xs, [N, 1, 8, 8]);
  const losses: number[] = [];
  for (let step = 0; step < 25; step++) {
    opt.zeroGrad();
    const loss = crossEntropy(net.forward(x), ys);
    losses.push(loss.item());
    loss.backward();
    opt.update();
  }
  assert.ok(losses[24] < 0.5 * losses[0], `loss ${losses[0].toFixed(3)} → ${losses[24].toFixed(3)}`);
  assert.equal(net.block.bn1.numBatchesTracked!.item(), 25);
  net.eval();
  const logits = noGrad(() => net.forward(x)).data;
  const correct = ys.filter((y, n) => (logits[2 * n + 1] > logits[2 * n] ? 1 : 0) === y).length;
  assert.ok(correct >= 14, `eval mode (running stats) classifies ${correct}/16`);
});

test('bad input: one line naming the field', () => {
  const x = Tensor.zeros([1, 3, 5, 5]);
  assert.throws(() => conv2d(x, Tensor.zeros([2, 1, 3, 3])), /^Error: conv2d: input has 3 channels, weight expects 1/);
  assert.throws(() => conv2d(x, Tensor.zeros([2, 3, 7, 7])), /conv2d: input of 5×5 .* smaller than the dilated kernel 7×7/);
  assert.throws(() => conv2d(x, Tensor.zeros([2, 3, 3, 3]), Tensor.zeros([3])), /conv2d: bias has shape \[3\], expected \[2\]/);
  assert.throws(() => conv2d(x, Tensor.zeros([2, 3, 3, 3]), null, { stride: 0 }), /conv2d: stride must be an integer ≥ 1, got 0/);
  assert.throws(() => conv2d(Tensor.zeros([3, 5, 5]), Tensor.zeros([2, 3, 3, 3])), /conv2d: input must be \(N, C, H, W\)/);
  assert.throws(() => conv2d(Tensor.zeros([1, 4, 5, 5]), Tensor.zeros([3, 2, 3, 3]), null, { groups: 2 }), /not divisible by groups = 2/);
  assert.throws(() => conv1d(x, Tensor.zeros([2, 3, 3])), /conv1d: input must be \(N, C, L\)/);
  assert.throws(() => conv2d(x, Tensor.zeros([2, 3, 3, 3]), null, { padding: 'same', stride: 2 }), /conv2d: padding 'same' needs stride 1/);
  assert.throws(() => maxPool2d(x, 2, { padding: 2 }), /max_pool2d: padding 2×2 is more than half the kernel 2×2/);
  assert.throws(() => maxPool1d(Tensor.zeros([1, 2, 3]), 4), /max_pool1d: input of 1×3 \(padded 1×3\) is smaller than the kernel 1×4/);
  assert.throws(() => avgPool1d(Tensor.zeros([1, 2, 5]), 2, { stride: 0 }), /avg_pool1d: stride must be an integer ≥ 1, got 0/);
  assert.throws(() => new BatchNorm2d(4).forward(x), /BatchNorm2d: input has 3 channels, layer expects 4/);
  assert.throws(() => new BatchNorm1d(3).forward(x), /BatchNorm1d: input must have 2 or 3 dimensions/);
  assert.throws(() => batchNorm(Tensor.zeros([1, 3]), { training: true }), /more than 1 value per channel/);
  assert.throws(() => new Conv2d(3, 4, 3, new Rng(1), { groups: 2 }), /Conv2d: in_channels 3 is not divisible by groups 2/);
});
