// Optimizers against PyTorch. scripts/fixtures/make_optim_fixture.py (torch 2.13) ran 20 steps of
// torch.optim.SGD / RMSprop / Adam / Adagrad / AdamW in several option combinations on two parameters in two
// groups (weight decay on one), recording the gradient used at each step and the parameters after it
// (test/fixtures/optim/). We replay the same gradients and learning rates and must agree after every step
// within |Δ| ≤ 1e-6·max(|p|, 0.1) (relative, with a floor
// for entries passing near zero; the parameters are of order 0.5). Then: saving the state mid-run and restoring it into a fresh optimizer
// continues identically, and createOptimizer refuses bad options with one line naming them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { readSafetensors, toFloat32 } from '../src/formats/safetensors.js';
import { Tensor } from '../src/tensor/tensor.js';
import { createOptimizer, OPTIMIZER_NAMES } from '../src/optim/registry.js';
import { loraPlusGroups, type Optimizer, type ParamGroup } from '../src/optim/optimizer.js';
import { initBackend } from '../src/backend/index.node.js';

const DIR = new URL('../../test/fixtures/optim/', import.meta.url);
const STEPS = 20;

interface Fixture {
  name: string;
  optimizer: string;
  opts: Record<string, unknown>;
  wd: number;
  lrs: number[];
  t: Map<string, { shape: number[]; data: Float32Array }>;
}

/** torch.optim's class and keyword arguments → our name and options (snake_case is accepted as it is) */
function load(file: string): Fixture {
  const f = readSafetensors(new Uint8Array(fs.readFileSync(new URL(file, DIR))), file);
  const t = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, e] of f.tensors) t.set(k, { shape: e.shape, data: toFloat32(e) });
  const cfg = JSON.parse(f.metadata.config) as { optimizer: string; kwargs: Record<string, unknown>; weight_decay: number; lrs: number[] };
  const { betas, ...rest } = cfg.kwargs;
  const opts: Record<string, unknown> = { ...rest };
  if (Array.isArray(betas)) [opts.beta1, opts.beta2] = betas as number[];
  if (cfg.optimizer === 'AdamW' && opts.eps === undefined) opts.eps = 1e-8;
  if (cfg.optimizer === 'AdamW' && opts.beta2 === undefined) opts.beta2 = 0.999;
  return { name: file.replace('.safetensors', ''), optimizer: cfg.optimizer.toLowerCase(), opts, wd: cfg.weight_decay, lrs: cfg.lrs, t };
}

function setup(fx: Fixture): { W: Tensor; b: Tensor; opt: Optimizer } {
  const W = new Tensor(fx.t.get('W0')!.data.slice(), [4, 5], true);
  const b = new Tensor(fx.t.get('b0')!.data.slice(), [5], true);
  const groups: ParamGroup[] = [{ params: [W], weightDecay: fx.wd }, { params: [b], weightDecay: 0 }];
  return { W, b, opt: createOptimizer(fx.optimizer, groups, fx.opts) };
}

/** step k (0-based): the recorded gradients, then one update at that step's learning rate */
function stepAt(fx: Fixture, W: Tensor, b: Tensor, opt: Optimizer, k: number): void {
  opt.zeroGrad();
  W.grad = fx.t.get('grad.W')!.data.slice(k * 20, (k + 1) * 20);
  b.grad = fx.t.get('grad.b')!.data.slice(k * 5, (k + 1) * 5);
  opt.update(fx.lrs[k]);
}

const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.safetensors')).sort();
const nameOf = (W: Tensor) => (p: Tensor): string => (p === W ? 'W' : 'b');

test('optimizers match PyTorch over 20 steps', async () => {
  await initBackend({ backend: 'js' });
  const seen = new Set<string>();
  let worst = 0;
  for (const file of files) {
    const fx = load(file);
    seen.add(fx.optimizer);
    const { W, b, opt } = setup(fx);
    for (let k = 0; k < STEPS; k++) {
      stepAt(fx, W, b, opt, k);
      for (const [key, p, n] of [['W', W, 20], ['b', b, 5]] as const) {
        const want = fx.t.get(key)!.data.subarray(k * n, (k + 1) * n);
        for (let i = 0; i < n; i++) {
          const d = Math.abs(p.data[i] - want[i]);
          worst = Math.max(worst, d / Math.max(Math.abs(want[i]), 0.1));
          if (!(d <= 1e-6 * Math.max(Math.abs(want[i]), 0.1))) {
            assert.fail(`${fx.name} step ${k + 1}: ${key}[${i}] = ${p.data[i]}, PyTorch ${want[i]} (|Δ| ${d.toExponential(2)})`);
          }
        }
      }
    }
    assert.equal(opt.step, STEPS);
  }
  // muon's fixtures (two matrices and a bias) are test/fixtures/optim-muon/, replayed by test/muon.test.ts
  assert.deepEqual([...seen, 'muon'].sort(), [...OPTIMIZER_NAMES].sort(), 'every optimizer has a fixture');
  console.log(`# ${files.length} configurations × ${STEPS} steps: max relative |Δ| ${worst.toExponential(2)}`);
});

test('state saved mid-run and restored into a fresh optimizer continues identically', async () => {
  await initBackend({ backend: 'js' });
  for (const file of files) {
    const fx = load(file);
    const a = setup(fx);
    for (let k = 0; k < STEPS; k++) stepAt(fx, a.W, a.b, a.opt, k);
    const first = setup(fx);
    for (let k = 0; k < 10; k++) stepAt(fx, first.W, first.b, first.opt, k);
    // what a checkpoint holds: copies of the state, the parameters and the step
    const saved = new Map(Object.entries(first.opt.stateTensors(nameOf(first.W))).map(([k, v]) => [k, v.slice()]));
    const resumed = setup(fx);
    resumed.W.data.set(first.W.data);
    resumed.b.data.set(first.b.data);
    resumed.opt.loadStateTensors(saved, nameOf(resumed.W), first.opt.step);
    for (let k = 10; k < STEPS; k++) stepAt(fx, resumed.W, resumed.b, resumed.opt, k);
    assert.deepEqual(Array.from(resumed.W.data), Array.from(a.W.data), `${fx.name}: W after resuming`);
    assert.deepEqual(Array.from(resumed.b.data), Array.from(a.b.data), `${fx.name}: b after resuming`);
    if (saved.size) assert.throws(() => resumed.opt.loadStateTensors(new Map(), nameOf(resumed.W), 3), /is missing or has the wrong size/);
  }
});

test('state tensors are named <slot>.<parameter> with PyTorch\'s slot names', () => {
  const W = new Tensor(new Float32Array(4), [4], true);
  const slots = (name: string, opts: Record<string, unknown> = {}): string[] =>
    Object.keys(createOptimizer(name, [{ params: [W], weightDecay: 0 }], opts).stateTensors(() => 'w')).sort();
  assert.deepEqual(slots('sgd'), []);
  assert.deepEqual(slots('sgd', { momentum: 0.9 }), ['momentum_buffer.w']);
  assert.deepEqual(slots('rmsprop', { centered: true, momentum: 0.5 }), ['grad_avg.w', 'momentum_buffer.w', 'square_avg.w']);
  assert.deepEqual(slots('adam', { amsgrad: true }), ['exp_avg.w', 'exp_avg_sq.w', 'max_exp_avg_sq.w']);
  assert.deepEqual(slots('adagrad'), ['sum.w']);
  assert.deepEqual(slots('adamw'), ['m.w', 'v.w']);
});

test('parameters without a gradient are left alone', () => {
  for (const name of OPTIMIZER_NAMES) {
    const p = new Tensor(Float32Array.from([1, 2]), [2], true);
    const q = new Tensor(Float32Array.from([3, 4]), [2], true);
    const opt = createOptimizer(name, [{ params: [p, q], weightDecay: 0.1 }], { lr: 0.1 });
    p.grad = Float32Array.from([0.5, -0.5]);
    opt.update(0.1);
    assert.deepEqual(Array.from(q.data), [3, 4], name);
    assert.notDeepEqual(Array.from(p.data), [1, 2], name);
  }
});

test('createOptimizer refuses bad names and options with one line naming them', () => {
  const g: ParamGroup[] = [{ params: [], weightDecay: 0 }];
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['lion', {}, /optimizer must be one of adamw, sgd, rmsprop, adam, adagrad, muon; got "lion"/],
    ['sgd', { beta1: 0.9 }, /sgd: unknown option "beta1"/],
    ['sgd', { momentum: '0.9' }, /sgd: momentum must be a finite number/],
    ['sgd', { nesterov: 1 }, /sgd: nesterov must be true or false/],
    ['sgd', { nesterov: true }, /sgd: nesterov needs momentum > 0 and dampening 0/],
    ['sgd', { lr: -1 }, /sgd: lr must be ≥ 0/],
    ['adam', { beta2: 1 }, /adam: beta2 must be in \[0, 1\)/],
    ['adam', { weight_decay: 0.1 }, /adam: weightDecay is set per parameter group/],
    ['rmsprop', { alpha: 1.5 }, /rmsprop: alpha must be in \[0, 1\]/],
    ['adagrad', { 'lr-decay': -0.1 }, /adagrad: lrDecay must be ≥ 0/],
    ['adamw', { beta1: -0.1 }, /adamw: beta1 must be in \[0, 1\)/],
    ['adamw', { eps: NaN }, /adamw: eps must be a finite number/],
  ];
  for (const [name, opts, re] of bad) {
    assert.throws(() => createOptimizer(name, g, opts), (e: Error) => re.test(e.message) && !e.message.includes('\n'), `${name} ${JSON.stringify(opts)}`);
  }
  assert.equal(createOptimizer('adagrad', g, { initial_accumulator_value: 0.1, lr: undefined }).name, 'adagrad');
});

test('a group\'s lrScale multiplies the learning rate it is updated at (every optimizer), and LoRA+ groups the B factors', () => {
  const run = (name: string, lr: number, lrScale?: number): number[] => {
    const p = new Tensor(Float32Array.from([0.5, -1, 2]), [3], true);
    const opt = createOptimizer(name, [{ params: [p], weightDecay: 0.01, ...(lrScale !== undefined ? { lrScale } : {}) }], { lr });
    for (let k = 0; k < 3; k++) {
      p.grad = Float32Array.from([0.3 - k, 0.1 * k, -0.7]);
      opt.update(lr);
    }
    return Array.from(p.data);
  };
  for (const name of OPTIMIZER_NAMES) assert.deepEqual(run(name, 0.01, 4), run(name, 0.04), name);
  const t = (): Tensor => new Tensor(new Float32Array(2), [2], true);
  const [a, b, w, bias] = [t(), t(), t(), t()];
  const named: [string, Tensor][] = [['h.0.c_fc.lora_A.weight', a], ['h.0.c_fc.lora_B.weight', b], ['wte.weight', w], ['h.0.ln.bias', bias]];
  const groups: ParamGroup[] = [{ params: [a, b, w], weightDecay: 0.1 }, { params: [bias], weightDecay: 0 }];
  assert.equal(loraPlusGroups(groups, named, 1), groups, 'ratio 1: plain LoRA');
  assert.throws(() => loraPlusGroups(groups, named.filter(([n]) => !n.includes('lora_B')), 4), /--loraplus-lr-ratio\) 4 needs LoRA adapters/);
  assert.deepEqual(loraPlusGroups(groups, named, 16), [
    { params: [a, w], weightDecay: 0.1 }, { params: [b], weightDecay: 0.1, lrScale: 16 }, { params: [bias], weightDecay: 0 },
  ]);
});
