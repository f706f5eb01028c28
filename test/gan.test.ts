// GANs: the non-saturating losses and the upsampling op against hand computations, the alternating loop runs
// (MLP on the ring, DCGAN on glyphs) with finite losses and moving weights, the ring data is seeded and
// balanced, and the mode-coverage measure is right on constructed samples (all modes, one mode, none).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../src/tensor/tensor.js';
import { discriminatorLoss, generatorLoss, ganConfig, softplusMean } from '../src/models/gan.js';
import { upsample2x } from '../src/models/upsample.js';
import { gaussianRing, ringCentres } from '../src/data/toy2d.js';
import { glyphImages } from '../src/data/glyphs.js';
import { modeCoverage } from '../src/eval/mode-coverage.js';
import { scatterSVG } from '../src/eval/scatter.js';
import { GanTrainer } from '../src/train/gan-trainer.js';

const close = (a: number, b: number, tol = 1e-5): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('non-saturating losses and their gradients', () => {
  const x = new Tensor(new Float32Array([-2, 0, 3]), [3, 1], true);
  const l = softplusMean(x, -1); // mean log(1 + e^(−x))
  close(l.item(), (Math.log1p(Math.exp(2)) + Math.log(2) + Math.log1p(Math.exp(-3))) / 3);
  l.backward();
  [-2, 0, 3].forEach((v, i) => close(x.grad![i], -1 / (1 + Math.exp(v)) / 3)); // −σ(−x)/n
  const r = new Tensor(new Float32Array([5]), [1, 1]), f = new Tensor(new Float32Array([-5]), [1, 1]);
  assert.ok(discriminatorLoss(r, f).item() < 0.02, 'a sure, right discriminator has a small loss');
  close(generatorLoss(f).item(), Math.log1p(Math.exp(5)), 1e-4);
});

test('upsample2x copies each pixel into a 2×2 block and sums the gradient back', () => {
  const x = new Tensor(new Float32Array([1, 2, 3, 4]), [1, 1, 2, 2], true);
  const y = upsample2x(x);
  assert.deepEqual(y.shape, [1, 1, 4, 4]);
  assert.deepEqual([...y.data], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  y.backward(Float32Array.from({ length: 16 }, (_, i) => i));
  assert.deepEqual([...x.grad!], [0 + 1 + 4 + 5, 2 + 3 + 6 + 7, 8 + 9 + 12 + 13, 10 + 11 + 14 + 15]);
});

test('mode coverage: all modes, one mode, none', () => {
  const c = ringCentres(8, 2), all: number[] = [], one: number[] = [], off: number[] = [];
  for (let i = 0; i < 800; i++) {
    const k = i % 8, j = (i % 7) * 0.01; // within 3σ = 0.15 of its mode
    all.push(c[2 * k] + j, c[2 * k + 1] - j);
    one.push(c[0] + j, c[1]);
    off.push(0, 0);
  }
  const a = modeCoverage(all, c, 0.05);
  assert.equal(a.covered, 8);
  assert.deepEqual(a.counts, new Array(8).fill(100));
  assert.equal(a.highQuality, 1);
  const o = modeCoverage(one, c, 0.05);
  assert.equal(o.covered, 1);
  assert.equal(o.counts[0], 800);
  const z = modeCoverage(off, c, 0.05);
  assert.equal(z.covered, 0);
  assert.equal(z.highQuality, 0);
  // a mode with a sliver of the samples is not covered (default threshold 1/32)
  assert.equal(modeCoverage([...all.slice(0, 2), ...one.slice(0, 198)], c, 0.05).covered, 1);
});

test('ring data is seeded, balanced and near its centres; scatter SVG draws every point', () => {
  const a = gaussianRing(80, { seed: 2 }), b = gaussianRing(80, { seed: 2 });
  assert.deepEqual(a, b);
  assert.equal(modeCoverage(a.points, ringCentres(), 0.05).covered, 8);
  const svg = scatterSVG(a.points, { centres: ringCentres(), title: 'ring <8>' });
  assert.equal((svg.match(/<circle/g) ?? []).length, 88);
  assert.ok(svg.includes('ring &lt;8&gt;'));
});

test('the alternating loop runs: MLP GAN on the ring, DCGAN on glyphs', () => {
  const ring = gaussianRing(64, { seed: 1 });
  const t = new GanTrainer(ganConfig({ arch: 'mlp', sampleShape: [2], hidden: [16] }), { values: ring.points, n: 64, sampleShape: [2] }, { batchSize: 16, lr: 1e-3 });
  const g0 = Float32Array.from(t.G.parameters()[0].data), d0 = Float32Array.from(t.D.parameters()[0].data);
  const e = t.trainEpoch();
  assert.equal(t.step, 4);
  assert.ok(Number.isFinite(e.lossD) && Number.isFinite(e.lossG));
  assert.notDeepEqual(t.G.parameters()[0].data, g0);
  assert.notDeepEqual(t.D.parameters()[0].data, d0);
  assert.equal(t.sample(10, 1).length, 20);
  assert.deepEqual(t.sample(10, 1), t.sample(10, 1), 'same noise seed, same samples');

  const g = glyphImages(1, 1, { size: 8 });
  const d = new GanTrainer(ganConfig({ arch: 'dcgan', sampleShape: [1, 8, 8], base: 4, latent: 8 }), { values: g.images, n: 10, sampleShape: [1, 8, 8] }, { batchSize: 5 });
  const s = d.trainStep([0, 1, 2, 3, 4]);
  assert.ok(Number.isFinite(s.lossD) && Number.isFinite(s.lossG));
  const img = d.sample(3, 2);
  assert.equal(img.length, 3 * 64);
  assert.ok(img.every((v) => v >= -1 && v <= 1), 'images in the tanh range');
  assert.throws(() => ganConfig({ arch: 'dcgan', sampleShape: [1, 10, 10] }), /divisible by 4/);
});

test('gan: sample file names padded to the last epoch; gan sample checks --out before loading anything', async () => {
  const fs = await import('node:fs'), os = await import('node:os'), path = await import('node:path');
  const { sampleFileName } = await import('../src/train/gan-job.node.js');
  const { ganCommand } = await import('../src/cli/gan.js');
  assert.equal(sampleFileName(3, { data: 'ring8', epochs: 20 }), 'scatter-epoch-03.svg');
  assert.equal(sampleFileName(7, { data: 'glyphs', epochs: 100 }), 'samples-epoch-007.png');
  assert.equal(sampleFileName(2, { data: 'glyphs', epochs: 5 }), 'samples-epoch-2.png');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-gan-')), old = path.join(dir, 'old.png');
  fs.writeFileSync(old, 'keep');
  const nock = path.join(dir, 'no-such-run');
  await assert.rejects(ganCommand(['sample', nock, '--out', old]), /^Error: gan sample: --out .*old\.png: exists; choose another name, or overwrite it with --force$/);
  await assert.rejects(ganCommand(['sample', nock, '--out', dir]), /gan sample: --out .*: is a folder; give a file name/);
  await assert.rejects(ganCommand(['sample', nock, '--out', path.join(dir, 'no', 'dir', 'x.png')]), /gan sample: --out .*x\.png: folder .*dir does not exist/);
  await assert.rejects(ganCommand(['sample', nock, '--out', old, '--force', '--backend', 'js']), (e: Error) => !/--out/.test(e.message), 'with --force it gets as far as the checkpoint');
  assert.equal(fs.readFileSync(old, 'utf8'), 'keep');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('gan train: flags the data set or GAN family ignores get one note line', async () => {
  const { spawnSync } = await import('node:child_process');
  const fs = await import('node:fs'), os = await import('node:os'), path = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-gan-notes-'));
  const r = spawnSync(process.execPath, [main, 'gan', 'train', '--data', 'ring8', '--points', '64', '--epochs', '1', '--glyph-size', '8', '--base', '3', '--threads', '1', '--out', path.join(dir, 'g')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const notes = r.stdout.split('\n').filter((l) => l.startsWith('note:'));
  assert.equal(notes.length, 1);
  assert.match(notes[0], /--glyph-size \(--data glyphs only\), --base \(--model dcgan only\) ignored with --data ring8 --model mlp/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('gan train --out: refuses a checkpoint or a folder inside a run; --force over another command\'s run replaces it whole', async () => {
  const fs = await import('node:fs'), os = await import('node:os'), path = await import('node:path');
  const { runGanTrain } = await import('../src/train/gan-job.node.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-gan-out-')), dpo = path.join(dir, 'dpo');
  const config = JSON.stringify({ format: 'gptlab-checkpoint', model_type: 'gpt', meta: { kind: 'dpo', beta: 0.1 } });
  for (const d of ['checkpoint', 'best']) fs.mkdirSync(path.join(dpo, d), { recursive: true }), fs.writeFileSync(path.join(dpo, d, 'config.json'), config);
  fs.writeFileSync(path.join(dpo, 'log.jsonl'), '{"dpo":1}\n');
  fs.writeFileSync(path.join(dpo, 'loss.svg'), '<svg/>');
  fs.writeFileSync(path.join(dpo, 'notes.txt'), 'mine');
  const job = (out: string, force = false) => ({ data: 'ring8' as const, arch: 'mlp' as const, epochs: 1, sampleAt: [1], glyphPerClass: 1, glyphSize: 8, ringPoints: 64, train: { batchSize: 32, seed: 1 }, out, force });
  const quiet = (): void => {};
  const before = fs.readdirSync(dpo).sort();
  assert.throws(() => runGanTrain(job(path.join(dpo, 'best'), true), quiet), /^Error: --out .*best: is a model folder inside a run \(.*dpo\)/);
  assert.throws(() => runGanTrain(job(path.join(dpo, 'checkpoint'), true), quiet), /is a model folder inside a run/);
  assert.throws(() => runGanTrain(job(path.join(dpo, 'gan')), quiet), /^Error: --out .*gan: lies inside a run \(.*dpo\)/);
  assert.throws(() => runGanTrain(job(dpo), quiet), /already holds a gpt run: choose another --out, or overwrite it with --force/);
  assert.deepEqual(fs.readdirSync(dpo).sort(), before, 'refusals leave the run as it was');
  assert.equal(fs.readFileSync(path.join(dpo, 'best', 'config.json'), 'utf8'), config);
  runGanTrain(job(dpo, true), quiet);
  assert.deepEqual(fs.readdirSync(dpo).sort(), ['checkpoint', 'log.jsonl', 'notes.txt', 'report.json', 'scatter-epoch-1.svg'], 'no best/ or loss.svg of the DPO run left beside the GAN run');
  assert.match(fs.readFileSync(path.join(dpo, 'checkpoint', 'config.json'), 'utf8'), /gptlab-gan/);
  assert.doesNotMatch(fs.readFileSync(path.join(dpo, 'log.jsonl'), 'utf8'), /dpo/);
  runGanTrain({ ...job(dpo, true), sampleAt: [0] }, quiet);
  assert.deepEqual(fs.readdirSync(dpo).sort(), ['checkpoint', 'log.jsonl', 'notes.txt', 'report.json', 'scatter-epoch-0.svg'], 'an earlier GAN run\'s samples go too');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('ganSizes counts the parameters G and D are built with; gan train refuses a GAN past the memory bound before writing anything', async () => {
  const fs = await import('node:fs'), os = await import('node:os'), path = await import('node:path');
  const { ganSizes, Generator, Discriminator } = await import('../src/models/gan.js');
  const { Rng } = await import('../src/tensor/rng.js');
  const { runGanTrain } = await import('../src/train/gan-job.node.js');
  for (const cfg of [ganConfig({ arch: 'mlp', sampleShape: [2], hidden: [16, 8] }), ganConfig({ arch: 'mlp', sampleShape: [1, 8, 8], latent: 5 }), ganConfig({ arch: 'dcgan', sampleShape: [1, 12, 8], base: 5 })]) {
    const built = new Generator(cfg, new Rng(1)).numParameters() + new Discriminator(cfg, new Rng(1)).numParameters();
    assert.equal(ganSizes(cfg).parameters, built, `${cfg.arch} ${cfg.sampleShape}`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-gan-size-'));
  const job = (over: object) => ({ data: 'ring8' as const, arch: 'mlp' as const, epochs: 1, sampleAt: [1], glyphPerClass: 1, glyphSize: 16, ringPoints: 64, train: { batchSize: 32, seed: 1 }, out: path.join(dir, 'g'), ...over });
  assert.throws(() => runGanTrain(job({ hidden: [100_000, 100_000] }), () => {}), /^Error: out of memory: the parameters of G and D \(20,001,100,003\) with their gradients and 2 optimizer buffers would need 298\.0 GiB \(more than 8\.0 GiB\); lower --hidden or --latent$/);
  assert.throws(() => runGanTrain(job({ data: 'glyphs', arch: 'dcgan', base: 100_000 }), () => {}), /lower --base or --latent$/);
  assert.throws(() => runGanTrain(job({ train: { batchSize: 100_000_000, optimizer: 'sgd' } }), () => {}), /the layer outputs of a batch \(100000000 × 517 float32, forward and backward\) .*; lower --batch-size or --hidden$/);
  assert.ok(!fs.existsSync(path.join(dir, 'g')), 'nothing written');
  fs.rmSync(dir, { recursive: true, force: true });
});
