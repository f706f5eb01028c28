// Muon against PyTorch. scripts/fixtures/make_muon_fixture.py (torch 2.13) ran 20 steps of torch.optim.Muon on
// a wide (4, 5) and a tall (5, 3) matrix with torch.optim.AdamW on a bias, recording the gradients used and the
// parameters after each step (test/fixtures/optim-muon/). torch runs Newton–Schulz in bfloat16 and gptlab in
// float32, so the compared parameters come from torch's Muon with that one function in float32; the bfloat16
// run is reported beside. We replay the gradients and learning rates on every backend (the iteration's
// products go through the backend's matmul) and must agree within 5e-6·max(|p|, 0.1) after every step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { readSafetensors, toFloat32 } from '../src/formats/safetensors.js';
import { Tensor } from '../src/tensor/tensor.js';
import { createOptimizer } from '../src/optim/registry.js';
import { muonGroups, newtonSchulz, type MuonOptions } from '../src/optim/muon.js';
import type { Optimizer, ParamGroup } from '../src/optim/optimizer.js';
import { initBackend } from '../src/backend/index.node.js';
import { hiddenMatrixNames } from '../src/train/trainer.js';
import { createModel, presetConfig } from '../src/models/registry.js';

const DIR = new URL('../../test/fixtures/optim-muon/', import.meta.url);
const STEPS = 20;
const SHAPES = { W1: [4, 5], W2: [5, 3], b: [3] } as const;
type Key = keyof typeof SHAPES;

interface Fixture {
  name: string;
  opts: Partial<MuonOptions>;
  wd: number;
  lrs: number[];
  t: Map<string, Float32Array>;
}

function load(file: string): Fixture {
  const f = readSafetensors(new Uint8Array(fs.readFileSync(new URL(file, DIR))), file);
  const t = new Map<string, Float32Array>();
  for (const [k, e] of f.tensors) t.set(k, toFloat32(e));
  const cfg = JSON.parse(f.metadata.config) as {
    muon: { lr: number; momentum?: number; nesterov?: boolean; ns_steps?: number; adjust_lr_fn?: string };
    adamw: { betas: [number, number]; eps: number }; weight_decay: number; lrs: number[];
  };
  const m = cfg.muon;
  const opts: Partial<MuonOptions> = {
    lr: m.lr, momentum: m.momentum ?? 0.95, nesterov: m.nesterov ?? true, nsSteps: m.ns_steps ?? 5,
    adjustLrFn: (m.adjust_lr_fn ?? 'original') as MuonOptions['adjustLrFn'], // torch's default is Keller's
    beta1: cfg.adamw.betas[0], beta2: cfg.adamw.betas[1], adamEps: cfg.adamw.eps,
  };
  return { name: file.replace('.safetensors', ''), opts, wd: cfg.weight_decay, lrs: cfg.lrs, t };
}

function setup(fx: Fixture): { p: Record<Key, Tensor>; opt: Optimizer } {
  const mk = (k: Key, init: string): Tensor => new Tensor(fx.t.get(init)!.slice(), [...SHAPES[k]], true);
  const p = { W1: mk('W1', 'W1_0'), W2: mk('W2', 'W2_0'), b: mk('b', 'b0') };
  const groups: ParamGroup[] = [{ params: [p.W1, p.W2], weightDecay: fx.wd, muon: true }, { params: [p.b], weightDecay: 0 }];
  return { p, opt: createOptimizer('muon', groups, fx.opts) };
}

const size = (k: Key): number => SHAPES[k].reduce((a: number, b: number) => a * b, 1);

function stepAt(fx: Fixture, p: Record<Key, Tensor>, opt: Optimizer, k: number): void {
  opt.zeroGrad();
  for (const key of Object.keys(SHAPES) as Key[]) p[key].grad = fx.t.get(`grad.${key}`)!.slice(k * size(key), (k + 1) * size(key));
  opt.update(fx.lrs[k]);
}

const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.safetensors')).sort();

for (const backend of ['js', 'wasm', 'blas'] as const) {
  test(`muon matches torch.optim.Muon (+ AdamW) over 20 steps (${backend})`, async () => {
    await initBackend({ backend, threads: 2 });
    let worst = 0, bf16 = 0;
    for (const file of files) {
      const fx = load(file);
      const { p, opt } = setup(fx);
      for (let k = 0; k < STEPS; k++) {
        stepAt(fx, p, opt, k);
        for (const key of Object.keys(SHAPES) as Key[]) {
          const n = size(key), want = fx.t.get(key)!.subarray(k * n, (k + 1) * n);
          const half = fx.t.get(`bf16.${key}`)?.subarray(k * n, (k + 1) * n);
          for (let i = 0; i < n; i++) {
            const d = Math.abs(p[key].data[i] - want[i]), scale = Math.max(Math.abs(want[i]), 0.1);
            worst = Math.max(worst, d / scale);
            if (half) bf16 = Math.max(bf16, Math.abs(p[key].data[i] - half[i]) / scale);
            if (!(d <= 5e-6 * scale)) assert.fail(`${fx.name} step ${k + 1}: ${key}[${i}] = ${p[key].data[i]}, PyTorch ${want[i]} (|Δ| ${d.toExponential(2)})`);
          }
        }
      }
    }
    console.log(`# ${backend}: ${files.length} configurations × ${STEPS} steps: max relative |Δ| ${worst.toExponential(2)} (torch's bfloat16 iteration: ${bf16.toExponential(2)})`);
  });
}

test('muon state (momentum buffers, AdamW moments) saved mid-run continues identically', async () => {
  await initBackend({ backend: 'js' });
  const fx = load(files[0]);
  const nameOf = (p: Record<Key, Tensor>) => (t: Tensor): string => (Object.keys(p) as Key[]).find((k) => p[k] === t)!;
  const a = setup(fx);
  for (let k = 0; k < STEPS; k++) stepAt(fx, a.p, a.opt, k);
  const first = setup(fx);
  for (let k = 0; k < 10; k++) stepAt(fx, first.p, first.opt, k);
  const saved = new Map(Object.entries(first.opt.stateTensors(nameOf(first.p))).map(([k, v]) => [k, v.slice()]));
  assert.deepEqual([...saved.keys()].sort(), ['m.b', 'momentum_buffer.W1', 'momentum_buffer.W2', 'v.b']);
  const resumed = setup(fx);
  for (const k of Object.keys(SHAPES) as Key[]) resumed.p[k].data.set(first.p[k].data);
  resumed.opt.loadStateTensors(saved, nameOf(resumed.p), first.opt.step);
  for (let k = 10; k < STEPS; k++) stepAt(fx, resumed.p, resumed.opt, k);
  for (const k of Object.keys(SHAPES) as Key[]) assert.deepEqual(Array.from(resumed.p[k].data), Array.from(a.p[k].data), k);
});

test('Newton–Schulz makes a matrix nearly orthogonal (singular values within 0.5–1.5)', async () => {
  await initBackend({ backend: 'js' });
  for (const [r, c] of [[6, 9], [9, 6]]) {
    const g = Float32Array.from({ length: r * c }, (_, i) => Math.sin(i * 1.7) + 0.3 * Math.cos(i * i));
    const out = new Float32Array(r * c), m = Math.min(r, c);
    newtonSchulz(g, r, c, out, 5, 1e-7, new Float32Array(2 * m * m + 2 * m * Math.max(r, c)));
    // the Gram matrix over the short side ≈ identity: its diagonal within (0.5², 1.5²)
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < Math.max(r, c); j++) s += r <= c ? out[i * c + j] ** 2 : out[j * c + i] ** 2;
      assert.ok(s > 0.2 && s < 2.3, `${r}×${c}: row ${i} has squared norm ${s}`);
    }
  }
});

test('muonGroups takes the hidden matrices, not embeddings or heads; bad settings get one line', () => {
  const model = createModel('llama', presetConfig('llama', 'cpu', 65, { nLayer: 1, nEmbd: 32, nHead: 2, nKvHead: 1, intermediateSize: 64 }), 1);
  const named = model.namedParameters();
  const hidden = hiddenMatrixNames(model);
  const groups = muonGroups([{ params: named.map(([, p]) => p), weightDecay: 0.1 }], named, hidden);
  const muonNames = named.filter(([, p]) => groups.some((g) => g.muon && g.params.includes(p))).map(([n]) => n);
  assert.ok(muonNames.length >= 7 && muonNames.every((n) => n.startsWith('model.layers.0.') && !n.includes('norm')), muonNames.join(', '));
  assert.ok(!muonNames.some((n) => /embed|lm_head/.test(n)));
  assert.throws(() => muonGroups([{ params: [], weightDecay: 0 }], named, new Set()), /muon: this model has no trainable hidden-layer weight matrix/);
  const g: ParamGroup[] = [{ params: [new Tensor(new Float32Array(3), [3], true)], weightDecay: 0, muon: true }];
  for (const [opts, re] of [
    [{}, /muon: only 2-D parameters can be orthogonalised, got shape \[3\]/],
  ] as const) assert.throws(() => createOptimizer('muon', g, opts), re);
  for (const [opts, re] of [
    [{ momentum: 1 }, /muon: momentum must be in \[0, 1\)/],
    [{ nsSteps: 0 }, /muon: nsSteps must be an integer in 1–99/],
    [{ adjustLrFn: 'fast' }, /muon: adjustLrFn must be original or match_rms_adamw/],
    [{ adjustLrFn: 3 }, /muon: adjustLrFn must be a word/],
  ] as const) assert.throws(() => createOptimizer('muon', [], opts), (e: Error) => re.test(e.message) && !e.message.includes('\n'));
});

test('matrices of one oriented shape are orthogonalised in one batch, as each would be alone (js, wasm, blas)', async () => {
  for (const backend of ['js', 'wasm', 'blas'] as const) {
    await initBackend({ backend, threads: 2 });
    const mat = (r: number, c: number, seed: number): Tensor => new Tensor(Float32Array.from({ length: r * c }, (_, i) => Math.sin(seed + i * 0.37)), [r, c], true);
    const grads = (ps: Tensor[], k: number): void => ps.forEach((p, j) => (p.grad = Float32Array.from({ length: p.size }, (_, i) => Math.cos(k + j + i * 0.11))));
    const together = [mat(6, 10, 1), mat(10, 6, 2), mat(6, 10, 3)];
    const alone = together.map((p) => new Tensor(p.data.slice(), [...p.shape], true));
    const opt = createOptimizer('muon', [{ params: together, weightDecay: 0.1, muon: true }], { lr: 0.02 });
    const single = alone.map((p) => createOptimizer('muon', [{ params: [p], weightDecay: 0.1, muon: true }], { lr: 0.02 }));
    for (let k = 0; k < 3; k++) {
      grads(together, k);
      grads(alone, k);
      opt.update(0.02);
      single.forEach((o) => o.update(0.02));
    }
    together.forEach((p, j) => {
      for (let i = 0; i < p.size; i++) assert.ok(Math.abs(p.data[i] - alone[j].data[i]) <= 1e-6, `${backend}: matrix ${j}[${i}] ${p.data[i]} vs ${alone[j].data[i]}`);
    });
  }
});
