// The DCGAN recipe and the measures of generated glyphs. scripts/fixtures/make_gan_fixture.py (torch 2.13)
// wrote a small DCGAN's weights, one discriminator step's and one generator step's losses and gradients, the
// BatchNorm running statistics after them, the eval-mode output, and a Fréchet distance by pytorch-fid's
// formula into test/fixtures/gan/dcgan.safetensors; we recompute them. Also: the recipe's details (tanh output,
// N(0, 0.02) weights, no bias before BatchNorm, data scaled to [−1, 1]), the class-coverage measure on
// constructed probabilities, the Fréchet distance on cases with a closed form, and the judge CNN telling real
// glyphs from noise, re-estimated BatchNorm statistics, and the judge's numbers in gan train's report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSafetensors, toFloat32 } from '../src/formats/safetensors.js';
import { Tensor, noGrad } from '../src/tensor/tensor.js';
import { initBackend } from '../src/backend/index.node.js';
import { Rng } from '../src/tensor/rng.js';
import { Discriminator, Generator, discriminatorLoss, ganConfig, generatorLoss } from '../src/models/gan.js';
import type { Module } from '../src/nn/module.js';
import { Linear } from '../src/nn/layers.js';
import { classCoverage } from '../src/eval/class-coverage.js';
import { frechetDistance, symmetricEigen } from '../src/eval/frechet-distance.js';
import { ganData, runGanTrain, type GanReport } from '../src/train/gan-job.node.js';
import { scoreGlyphs, trainGlyphJudge } from '../src/train/glyph-judge.js';
import { updateBatchNorm } from '../src/train/update-bn.js';
import { BatchNorm2d } from '../src/nn/batchnorm.js';
import { glyphImages } from '../src/data/glyphs.js';
import { assertAllClose } from './helpers/allclose.js';

const fx = readSafetensors(new Uint8Array(fs.readFileSync(new URL('../../test/fixtures/gan/dcgan.safetensors', import.meta.url))), 'dcgan.safetensors');
const data = (name: string): Float32Array => {
  const e = fx.tensors.get(name);
  if (!e) throw new Error(`fixture has no tensor ${name}`);
  return Float32Array.from(toFloat32(e));
};
const tensor = (name: string, shape: number[]): Tensor => new Tensor(data(name), shape);

/** copies the fixture's `<prefix>.<name>` into every parameter and buffer of m */
function loadInto(m: Module, prefix: string): void {
  for (const [name, t] of m.stateDict()) t.data.set(data(`${prefix}.${name}`));
}

test('one DCGAN step equals PyTorch: losses, gradients, running statistics, eval-mode output', () => {
  const cfg = ganConfig({ arch: 'dcgan', sampleShape: [1, 8, 8], base: 4, latent: 8 });
  const G = new Generator(cfg, new Rng(1)), D = new Discriminator(cfg, new Rng(2));
  loadInto(G, 'generator');
  loadInto(D, 'discriminator');
  const tol = { atol: 1e-6, rtol: 1e-4 };
  const fake = noGrad(() => G.forward(tensor('z1', [6, 8])));
  assertAllClose(fake.data, data('fake'), 'G(z1)', tol);
  const lossD = discriminatorLoss(D.forward(tensor('real', [6, 1, 8, 8])), D.forward(fake));
  assertAllClose([lossD.item()], data('lossD'), 'loss D', tol);
  lossD.backward();
  for (const [n, p] of D.namedParameters()) assertAllClose(p.grad!, data(`gradD.${n}`), `dL_D/d ${n}`, { atol: 1e-6, rtol: 1e-3 });
  for (const p of D.parameters()) p.zeroGrad();
  const lossG = generatorLoss(D.forward(G.forward(tensor('z2', [6, 8]))));
  assertAllClose([lossG.item()], data('lossG'), 'loss G', tol);
  lossG.backward();
  for (const [n, p] of G.namedParameters()) assertAllClose(p.grad!, data(`gradG.${n}`), `dL_G/d ${n}`, { atol: 1e-6, rtol: 1e-3 });
  for (const [prefix, m] of [['generator', G], ['discriminator', D]] as const) {
    for (const [n, b] of m.namedBuffers()) if (n.includes('running')) assertAllClose(b.data, data(`after.${prefix}.${n}`), `${prefix}.${n}`, tol);
  }
  G.eval();
  assertAllClose(noGrad(() => G.forward(tensor('z1', [6, 8]))).data, data('evalOut'), 'G(z1) in eval mode', tol);
});

test("the DCGAN recipe: tanh images, N(0, 0.02) weights, BN scales near 1, no bias before BatchNorm, data in [−1, 1]", () => {
  const cfg = ganConfig({ arch: 'dcgan', sampleShape: [1, 16, 16] });
  const G = new Generator(cfg, new Rng(3)), D = new Discriminator(cfg, new Rng(4));
  const names = [...G.namedParameters().map(([n]) => `G.${n}`), ...D.namedParameters().map(([n]) => `D.${n}`)];
  for (const n of ['G.fc.bias', 'G.conv1.bias', 'G.conv2.bias', 'D.conv2.bias']) assert.ok(!names.includes(n), `${n}: a layer before BatchNorm has a bias`);
  const std = (a: Float32Array): number => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
  for (const [n, p] of [...G.namedParameters(), ...D.namedParameters()]) {
    if (n.endsWith('bias')) assert.ok(p.data.every((v) => v === 0), `${n} starts at 0`);
    else if (n.startsWith('bn')) assert.ok(p.data.every((v) => Math.abs(v - 1) < 0.1), `${n} starts near 1`);
    else if (p.size >= 256) assert.ok(Math.abs(std(p.data) - 0.02) < 0.003, `${n}: std ${std(p.data)}, DCGAN's 0.02`);
  }
  const x = noGrad(() => G.forward(new Tensor(Float32Array.from({ length: 8 * cfg.latent }, (_, i) => 30 * Math.sin(i)), [8, cfg.latent])));
  assert.ok(x.data.every((v) => v >= -1 && v <= 1) && x.data.some((v) => v < 0), 'images come out of a tanh, in [−1, 1]');
  const d = ganData({ data: 'glyphs', glyphPerClass: 2, glyphSize: 16, ringPoints: 8 }, 1), raw = glyphImages(2, 1, { size: 16 }).images;
  assertAllClose(d.values, raw.map((v) => 2 * v - 1), 'glyphs scaled to [−1, 1]');
});

test('class coverage: confident share, classes covered, inception-style score', () => {
  const K = 4, sure = (k: number): number[] => Array.from({ length: K }, (_, j) => (j === k ? 0.97 : 0.01));
  const even = Array.from({ length: 40 }, (_, i) => sure(i % K)).flat();
  const c = classCoverage(even, K);
  assert.equal(c.confident, 1);
  assert.equal(c.covered, 4);
  assert.deepEqual(c.counts, [10, 10, 10, 10]);
  const entropy = -(0.97 * Math.log(0.97) + 3 * 0.01 * Math.log(0.01)); // balanced: score = exp(log K − H(p(y|x)))
  assert.ok(Math.abs(c.score - Math.exp(Math.log(K) - entropy)) < 1e-6, `sure and balanced: score ${c.score}`);
  const one = classCoverage(Array.from({ length: 40 }, () => sure(2)).flat(), K);
  assert.deepEqual([one.covered, one.counts[2]], [1, 40]);
  assert.ok(Math.abs(one.score - 1) < 1e-9, 'one class: score 1');
  const blur = classCoverage(new Array(40 * K).fill(1 / K), K);
  assert.deepEqual([blur.confident, blur.covered], [0, 0]);
  // a class needs a quarter of its fair share (1/16 of 40 samples = 2.5) of confident samples
  const few = classCoverage([...Array.from({ length: 38 }, () => sure(0)).flat(), ...sure(1), ...sure(1)], K);
  assert.equal(few.covered, 1);
  assert.throws(() => classCoverage([0.5, 0.5, 1], 2), /rows of 2/);
});

test('Fréchet distance: PyTorch-fid formula, closed forms, symmetric eigen decomposition', () => {
  const got = frechetDistance(data('fd.x'), data('fd.y'), 5);
  assertAllClose([got], data('fd.value'), 'FD vs the pytorch-fid formula', { rtol: 1e-4 });
  // diagonal covariances: d² = ‖μ₁ − μ₂‖² + Σ (σ₁ − σ₂)²; built from ±1 patterns so the sample moments are exact
  const x: number[] = [], y: number[] = [];
  for (let i = 0; i < 8; i++) {
    const s = [(i & 1 ? 1 : -1), (i & 2 ? 1 : -1), (i & 4 ? 1 : -1)];
    x.push(2 * s[0], 1 * s[1], 3 * s[2]);
    y.push(1 + 1 * s[0], 1 * s[1], -2 + 1 * s[2]);
  }
  const v = 8 / 7; // sample variance of ±1 with N − 1
  const want = 1 + 4 + v * ((2 - 1) ** 2 + 0 + (3 - 1) ** 2);
  assert.ok(Math.abs(frechetDistance(x, y, 3) - want) < 1e-9, `${frechetDistance(x, y, 3)} vs ${want}`);
  assert.ok(frechetDistance(x, x, 3) < 1e-9, 'a set is at distance 0 from itself');
  const m = Float64Array.from([4, 1, 2, 1, 3, 0, 2, 0, 5]), { values, vectors: V } = symmetricEigen(m, 3);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    let s = 0;
    for (let k = 0; k < 3; k++) s += V[i * 3 + k] * values[k] * V[j * 3 + k];
    assert.ok(Math.abs(s - m[i * 3 + j]) < 1e-12, 'V·Λ·Vᵀ = M');
  }
});

test('the judge CNN tells real glyphs from noise', async () => {
  await initBackend({ backend: 'wasm', threads: 1 }); // the js reference would take half a minute
  const j = trainGlyphJudge({ size: 16, steps: 120, perClass: 30 });
  assert.ok(j.accuracy > 0.8, `judge accuracy ${j.accuracy}`);
  const real = scoreGlyphs(j, glyphImages(20, 5).images);
  const rng = new Rng(1), noise = scoreGlyphs(j, Float32Array.from({ length: 200 * 256 }, () => rng.random()));
  assert.ok(real.confident > noise.confident, `confident: real ${real.confident}, noise ${noise.confident}`);
  assert.ok(real.covered >= 8, `real glyphs cover ${real.covered} digits`);
  assert.ok(real.frechet * 5 < noise.frechet, `Fréchet: real ${real.frechet}, noise ${noise.frechet}`);
});

test('updateBatchNorm: running statistics become the average over the passes; momentum and mode restored', () => {
  const bn = new BatchNorm2d(2);
  bn.eval();
  const batches = [[1, 3, 10, 10, 5, 7, 10, 10], [2, 2, 20, 20, 6, 6, 20, 20]]; // (2, 2, 1, 2) each: channel 0 = [1,3,5,7], [2,2,6,6]
  const var1 = (a: number[]): number => { const m = a.reduce((x, y) => x + y) / a.length; return a.reduce((x, y) => x + (y - m) ** 2, 0) / (a.length - 1); };
  assert.equal(updateBatchNorm(bn, 2, (i) => bn.forward(new Tensor(Float32Array.from(batches[i]), [2, 2, 1, 2]))), 1);
  assertAllClose(bn.runningMean!.data, [(4 + 4) / 2, (10 + 20) / 2], 'running mean');
  assertAllClose(bn.runningVar!.data, [(var1([1, 3, 5, 7]) + var1([2, 2, 6, 6])) / 2, 0], 'running var', { atol: 1e-5 });
  assert.equal(bn.momentum, 0.1);
  assert.equal(bn.training, false);
  assert.equal(updateBatchNorm(new Linear(2, 2, true, new Rng(1)), 3, () => assert.fail('no BatchNorm: no passes')), 0);
});

test('gan train on glyphs reports the judge per sample epoch in stdout and report.json', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-report-'));
  try {
    const lines: string[] = [];
    const r = runGanTrain({
      data: 'glyphs', arch: 'dcgan', epochs: 1, sampleAt: [0, 1], glyphPerClass: 2, glyphSize: 8, ringPoints: 8, base: 4, latent: 8,
      judgeSteps: 30, train: { batchSize: 10 }, out,
    }, (l) => lines.push(l));
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as GanReport;
    assert.deepEqual(report.samples.map((s) => s.epoch), [0, 1]);
    assert.equal(report.steps, 2);
    for (const s of [...report.samples.map((e) => e.glyphs!), report.judge!.real]) {
      assert.ok(s.confident >= 0 && s.confident <= 1 && s.covered <= 10 && s.frechet >= 0, JSON.stringify(s));
      assert.equal(s.counts.length, 10);
    }
    assert.deepEqual(r.samples, report.samples);
    assert.ok(lines.some((l) => /^epoch 1: wrote samples-epoch-1\.png; [\d.]+% classified with confidence > 0\.9, \d+\/10 digits covered .*Fréchet distance/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('judge: LeNet-style CNN')));
    assert.ok(fs.existsSync(path.join(out, 'samples-epoch-1.png')));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('gan train refuses before any work: dcgan on ring8, a glyph size not a multiple of 4, an --out that holds another kind of run', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-refuse-'));
  try {
    const job = { data: 'glyphs' as const, arch: 'dcgan' as const, epochs: 1, sampleAt: [1], glyphPerClass: 2, glyphSize: 8, ringPoints: 8, judgeSteps: 0, train: { batchSize: 10 }, out: path.join(dir, 'new') };
    assert.throws(() => runGanTrain({ ...job, data: 'ring8' }), /^Error: --model dcgan needs image data \(--data glyphs\); ring8 is 2-D points \(use --model mlp\)$/);
    assert.throws(() => runGanTrain({ ...job, glyphSize: 10 }), /^Error: --model dcgan needs --glyph-size a multiple of 4, got 10$/);
    assert.ok(!fs.existsSync(job.out));
    const vision = path.join(dir, 'v1');
    fs.mkdirSync(path.join(vision, 'checkpoint'), { recursive: true });
    fs.writeFileSync(path.join(vision, 'checkpoint', 'config.json'), JSON.stringify({ format: 'gptlab-vision' }));
    assert.throws(() => runGanTrain({ ...job, out: vision }), /v1 already holds a vision run \(image classifier\): choose another --out, or overwrite it with --force/);
    const lm = path.join(dir, 'lm');
    fs.mkdirSync(path.join(lm, 'best'), { recursive: true });
    fs.writeFileSync(path.join(lm, 'best', 'config.json'), JSON.stringify({ format: 'gptlab-checkpoint', model_type: 'bert-mlm' }));
    assert.throws(() => runGanTrain({ ...job, out: lm }), /lm already holds a bert-mlm run/);
    fs.mkdirSync(path.join(dir, 'g', 'checkpoint'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'g', 'checkpoint', 'config.json'), JSON.stringify({ format: 'gptlab-gan' }));
    assert.throws(() => runGanTrain({ ...job, out: path.join(dir, 'g') }), /g already holds a GAN run/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
