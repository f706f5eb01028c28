// Vision: the built-in glyphs are deterministic and well-formed, pixel CSVs are read and refused with
// file:line errors, and a tiny LeNet-style CNN learns a tiny glyph set on the one Trainer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { glyphDataset, glyphImages } from '../src/data/glyphs.js';
import { checkClassesPresent, parsePixelsCSV } from '../src/data/pixels-csv.js';
import { splitImages, classCounts } from '../src/data/image-set.js';
import { ImageClassifier, imageClassifierConfig } from '../src/models/image-classifier.js';
import { ImageClassification, accuracyOf, predictImages } from '../src/train/image-classification.js';
import { Trainer } from '../src/train/trainer.js';
import { Rng } from '../src/tensor/rng.js';
import { noGrad } from '../src/tensor/tensor.js';
import { moduleToSafetensors, loadModuleSafetensors } from '../src/train/module-files.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('glyphs: same seed same images, values in [0, 1], balanced classes, train ≠ test', () => {
  const a = glyphImages(3, 5), b = glyphImages(3, 5), c = glyphImages(3, 6);
  assert.deepEqual(a.images, b.images);
  assert.notDeepEqual(a.images, c.images);
  assert.equal(a.images.length, 30 * 16 * 16);
  assert.ok(a.images.every((v) => v >= 0 && v <= 1));
  assert.deepEqual(classCounts(a), new Array(10).fill(3));
  const big = glyphImages(1, 1, { size: 28 });
  assert.equal(big.height, 28);
  // each image has ink: a noiseless glyph covers a real share of the canvas
  const clean = glyphImages(1, 2, { noise: 0 });
  for (let i = 0; i < 10; i++) {
    const ink = clean.images.subarray(i * 256, (i + 1) * 256).reduce((s, v) => s + v, 0);
    assert.ok(ink > 15 && ink < 150, `digit ${i} ink ${ink}`);
  }
  const d = glyphDataset({ trainPerClass: 2, testPerClass: 1 });
  assert.notDeepEqual(d.train.images.subarray(0, 256), d.test.images.subarray(0, 256));
  assert.throws(() => glyphImages(1, 1, { size: 4 }), /size must be/);
});

test('pixel CSV: label first or last, header skipped, size inferred or given, values scaled', () => {
  const s = parsePixelsCSV('label,p1,p2,p3,p4\n1,0,255,0,0\n0,255,255,255,255\n', 'x.csv');
  assert.equal(s.height, 2);
  assert.deepEqual([...s.labels], [1, 0]);
  assert.deepEqual([...s.images.subarray(0, 4)], [0, 1, 0, 0]);
  assert.deepEqual(s.classes, ['0', '1']);
  const last = parsePixelsCSV('0,16,8,4,1\n8,8,8,8,0\n', 'y.csv', { labelColumn: 'last', imageSize: 2 });
  assert.deepEqual([...last.labels], [1, 0]);
  assert.equal(last.images[0], 0);
  assert.equal(last.images[1], 1);
  assert.equal(last.classes.length, 2);
});

test('pixel CSV errors name file:line', () => {
  assert.throws(() => parsePixelsCSV('1,0,0,0,0\n0,1,1,1\n', 'a.csv'), /^Error: a\.csv:2: 4 values, expected 5/);
  assert.throws(() => parsePixelsCSV('1,0,0,0\n', 'b.csv'), /b\.csv:1: 3 pixel values is not a square image/);
  assert.throws(() => parsePixelsCSV('1,0,0,0,0\n', 'c.csv', { imageSize: 3 }), /c\.csv:1: 4 pixel values, but --image-size 3 needs 9/);
  assert.throws(() => parsePixelsCSV('1,0,0,0,0\n2.5,0,0,0,0\n', 'd.csv'), /d\.csv:2: label "2\.5" is not a whole number/);
  assert.throws(() => parsePixelsCSV('1,0,0,0,0\n0,0,x,0,0\n', 'e.csv'), /e\.csv:2: pixel 2 is "x"/);
  assert.throws(() => parsePixelsCSV('1,0,0,0,0\n7,0,0,0,0\n', 'f.csv', { classes: ['0', '1'] }), /f\.csv:2: label 7 is outside the model's label set 0–1/);
  assert.throws(() => parsePixelsCSV('\n\n', 'g.csv'), /g\.csv: no data rows/);
  assert.throws(() => checkClassesPresent(parsePixelsCSV('0,0,0,0,0\n2,0,0,0,0\n', 'h.csv'), 'h.csv'), /h\.csv: class "1" has no examples/);
});

test('a tiny CNN learns a tiny glyph set to high train accuracy; weights round-trip through safetensors', async () => {
  const data = glyphImages(6, 3, { size: 12, noise: 0.03 });
  const { train } = splitImages(data, 0, new Rng(1));
  const model = new ImageClassifier(imageClassifierConfig({ arch: 'cnn', height: 12, width: 12, classes: train.classes, channels: [4, 8], fc: 32, kernel: 3 }), 3);
  const empty = { ...train, images: new Float32Array(0), labels: new Int32Array(0) };
  const trainer = new Trainer(model, new ImageClassification(train, empty), {
    maxIters: 150, batchSize: 20, lr: 0.01, minLr: 1e-3, warmupIters: 10, evalInterval: 150, sampleAt: [], weightDecay: 0, beta2: 0.999,
  });
  await trainer.run();
  model.eval();
  const acc = accuracyOf(noGrad(() => predictImages(model, train)).pred, train.labels);
  assert.ok(acc >= 0.9, `train accuracy ${acc}`);
  const copy = new ImageClassifier(model.config, 99);
  loadModuleSafetensors(copy, moduleToSafetensors(model), 'mem');
  copy.eval();
  assert.deepEqual(noGrad(() => predictImages(copy, train)).pred, noGrad(() => predictImages(model, train)).pred);
  const mlp = new ImageClassifier(imageClassifierConfig({ arch: 'mlp', height: 12, width: 12, classes: train.classes, hidden: [16] }));
  assert.equal(noGrad(() => predictImages(mlp, train)).pred.length, 60);
});

test('vision CLI: train on a pixel CSV writes the run folder, confusion.svg and misclassified.png; predict writes into predict/ or --out, checks sizes', async () => {
  const fs = await import('node:fs'), os = await import('node:os'), path = await import('node:path');
  const { visionCommand } = await import('../src/cli/vision.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-vision-'));
  const g = glyphImages(4, 9, { size: 8 });
  const rows = [...g.labels].map((l, i) => [l, ...Array.from(g.images.subarray(i * 64, (i + 1) * 64), (v) => Math.round(v * 255))].join(','));
  fs.writeFileSync(path.join(dir, 'px.csv'), rows.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'bad.csv'), '1,' + new Array(48).fill(0).join(',') + '\n');
  const out = path.join(dir, 'run'), lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => (lines.push(String(s)), true)) as typeof process.stdout.write;
  try {
    assert.equal(await visionCommand(['train', '--data', path.join(dir, 'px.csv'), '--model', 'mlp', '--hidden', '16', '--max-iters', '20', '--eval-interval', '10', '--test-fraction', '0.5', '--out', out, '--backend', 'js']), 0);
    const trained = fs.readFileSync(path.join(out, 'confusion.svg'), 'utf8');
    fs.writeFileSync(path.join(out, 'confusion.svg'), trained + '<!-- training -->');
    assert.equal(await visionCommand(['predict', out, '--data', path.join(dir, 'px.csv'), '--backend', 'js']), 0);
    assert.ok(fs.readFileSync(path.join(out, 'confusion.svg'), 'utf8').endsWith('<!-- training -->'), 'predict leaves the run\'s confusion.svg alone');
    assert.ok(fs.existsSync(path.join(out, 'predict', 'confusion.svg')), 'predict writes into predict/ by default');
    assert.ok(lines.join('').includes(path.join(out, 'predict', 'confusion.svg')), 'and says where');
    assert.equal(await visionCommand(['predict', out, '--data', path.join(dir, 'px.csv'), '--out', path.join(dir, 'scores'), '--backend', 'js']), 0);
    assert.ok(fs.existsSync(path.join(dir, 'scores', 'confusion.svg')), '--out DIR');
  } finally {
    process.stdout.write = write;
  }
  for (const f of ['best/config.json', 'best/model.safetensors', 'checkpoint/trainer_state.json', 'loss.svg', 'confusion.svg']) assert.ok(fs.existsSync(path.join(out, f)), f);
  assert.ok(lines.join('').includes('accuracy'));
  assert.equal(fs.existsSync(path.join(out, 'misclassified.png')), lines.join('').includes('wrong:'), 'misclassified.png exactly when some test image was wrong');
  await assert.rejects(visionCommand(['predict', out, '--data', path.join(dir, 'bad.csv'), '--backend', 'js']), /bad\.csv:1: 48 pixel values, but --image-size 8 needs 64/);
  await assert.rejects(visionCommand(['train', '--data', path.join(dir, 'px.csv'), '--out', out, '--backend', 'js']), /already holds a run/);
  await assert.rejects(visionCommand(['predict', out, '--data', path.join(dir, 'px.csv'), '--out', out]), /^Error: vision predict: --out .*run holds a training run; give another folder/);
  await assert.rejects(visionCommand(['predict', out, '--data', path.join(dir, 'px.csv'), '--out', path.join(dir, 'px.csv')]), /vision predict: --out .*px\.csv: exists and is not a folder/);
  await assert.rejects(visionCommand(['predict', out, '--data', path.join(dir, 'px.csv'), '--out', path.join(dir, 'no', 'dir')]), /vision predict: --out .*: folder .*no does not exist/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('vision train: malformed --hidden, --kernel larger than the glyphs, --resume without a run and --resume --force are refused before work', () => {
  const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-vision-flags-'));
  const run = (...args: string[]) => spawnSync(process.execPath, [main, 'vision', 'train', '--out', path.join(dir, 'v'), ...args], { encoding: 'utf8', cwd: dir });
  const cases: [string[], RegExp][] = [
    [['--model', 'mlp', '--hidden', '16,,8'], /--hidden has an empty item/],
    [['--kernel', '20', '--glyph-size', '8'], /--kernel 20 is larger than the 8×8 glyphs/],
    [['--resume'], /nothing to resume in .*v/],
    [['--resume', '--force'], /--resume .* --force .*give one of them/],
  ];
  for (const [flags, re] of cases) {
    const r = spawnSyncResult(run(...flags));
    assert.equal(r.code, 2, flags.join(' '));
    assert.match(r.err, re);
    assert.equal(r.out, '', 'nothing printed before the refusal');
  }
  assert.equal(fs.existsSync(path.join(dir, 'v')), false);
  fs.rmSync(dir, { recursive: true, force: true });
});

function spawnSyncResult(r: { status: number | null; stdout: string; stderr: string }): { code: number | null; out: string; err: string } {
  return { code: r.status, out: r.stdout, err: r.stderr };
}
