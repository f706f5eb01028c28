// Decision boundaries: the toy sets are deterministic and well-formed, the boundary image decodes to the
// expected size with the regions coloured by the classifier, and the library function trains and renders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from 'fast-png';
import { toy2d, TOY2D_NAMES } from '../src/data/toy2d.js';
import { CLASS_COLOURS, decisionBoundaryPNG } from '../src/eval/decision-boundary.js';
import { trainBoundary } from '../src/train/boundary.js';

test('toy sets: seeded, balanced, finite, the requested size', () => {
  for (const name of TOY2D_NAMES) {
    const a = toy2d(name, { n: 60, seed: 3 }), b = toy2d(name, { n: 60, seed: 3 }), c = toy2d(name, { n: 60, seed: 4 });
    assert.deepEqual(a, b, name);
    assert.notDeepEqual(a.points, c.points, name);
    assert.equal(a.points.length, 120);
    assert.ok(a.points.every(Number.isFinite));
    for (let k = 0; k < a.classes; k++) assert.equal(a.labels.filter((l) => l === k).length, 60 / a.classes, `${name} class ${k}`);
  }
  assert.equal(toy2d('spirals', { classes: 3, n: 30 }).classes, 3);
  const x = toy2d('xor', { n: 200, noise: 0 });
  for (let i = 0; i < 200; i++) assert.equal(x.points[2 * i] * x.points[2 * i + 1] > 0 ? 0 : 1, x.labels[i]);
  assert.throws(() => toy2d('swirl'), /dataset must be one of/);
  assert.throws(() => toy2d('moons', { classes: 3 }), /only spirals and blobs/);
});

test('boundary PNG decodes to size × size RGB; a sure left/right classifier paints its halves', () => {
  const pts = new Float32Array([-1, 0, 1, 0]), labels = [0, 1];
  const png = decisionBoundaryPNG((p) => {
    const out = new Float32Array(p.length);
    for (let i = 0; i < p.length / 2; i++) (out[2 * i] = p[2 * i] < 0 ? 1 : 0), (out[2 * i + 1] = p[2 * i] < 0 ? 0 : 1);
    return out;
  }, 2, pts, labels, { size: 64, extent: [-2, 2, -2, 2], radius: 2 });
  const img = decode(png);
  assert.equal(img.width, 64);
  assert.equal(img.height, 64);
  assert.equal(img.channels, 3);
  const px = (x: number, y: number): number[] => [...img.data.subarray(3 * (y * 64 + x), 3 * (y * 64 + x) + 3)];
  const tint = (c: number[]): number[] => c.map((v) => Math.round(255 * 0.2 + v * 0.8));
  assert.deepEqual(px(2, 2), tint([...CLASS_COLOURS[0]]));
  assert.deepEqual(px(60, 60), tint([...CLASS_COLOURS[1]]));
  assert.deepEqual(px(16, 32), [...CLASS_COLOURS[0]], 'the point (−1, 0) drawn in its colour');
  assert.throws(() => decisionBoundaryPNG(() => new Float32Array(3), 2, pts, labels, { size: 16 }), /gave 3 probabilities/);
});

test('trainBoundary learns moons and renders snapshots at the chosen epochs', () => {
  const r = trainBoundary({ dataset: 'moons', n: 100, activation: 'relu', hidden: [8], epochs: 20, snapshots: [0, 20], lr: 0.03, size: 32 });
  assert.deepEqual(r.snapshots.map((s) => s.epoch), [0, 20]);
  assert.ok(r.snapshots[1].accuracy >= 0.85, `accuracy ${r.snapshots[1].accuracy}`);
  assert.ok(r.snapshots[1].loss < r.snapshots[0].loss);
  assert.equal(decode(r.snapshots[1].png).width, 32);
  for (const act of ['tanh', 'sigmoid', 'gelu']) trainBoundary({ dataset: 'xor', n: 20, activation: act, hidden: [4], epochs: 1, snapshots: [1], size: 8 });
  assert.throws(() => trainBoundary({ dataset: 'moons', activation: 'relu', hidden: [4], epochs: 5, snapshots: [9] }), /outside 0 … 5/);
  assert.throws(() => trainBoundary({ dataset: 'moons', activation: 'swish', hidden: [4], epochs: 5, snapshots: [] }), /activation must be one of/);
});

test('boundary CLI: names padded to the last epoch; refuses an earlier run in --out unless --force, which clears its PNGs', async () => {
  const fs = await import('node:fs'), os = await import('node:os'), path = await import('node:path');
  const { boundaryCommand, snapshotName } = await import('../src/cli/boundary.js');
  assert.equal(snapshotName(3, 5), 'boundary-epoch-3.png');
  assert.equal(snapshotName(0, 60), 'boundary-epoch-00.png');
  assert.equal(snapshotName(5, 100), 'boundary-epoch-005.png');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-boundary-')), out = path.join(dir, 'bd');
  const args = (epochs: number, ...more: string[]): string[] => ['--dataset', 'moons', '--n', '20', '--hidden', '4', '--size', '8', '--epochs', String(epochs), '--out', out, '--backend', 'js', ...more];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    assert.equal(await boundaryCommand(args(5)), 0);
    assert.deepEqual(fs.readdirSync(out).sort(), ['boundary-epoch-0.png', 'boundary-epoch-1.png', 'boundary-epoch-3.png', 'boundary-epoch-5.png']);
    await assert.rejects(boundaryCommand(args(12)), /^Error: boundary: .*bd already holds a boundary run \(4 boundary-epoch-\*\.png\); choose another --out, or replace it with --force$/);
    fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
    assert.equal(await boundaryCommand(args(12, '--force')), 0);
    assert.deepEqual(fs.readdirSync(out).sort(), ['boundary-epoch-00.png', 'boundary-epoch-03.png', 'boundary-epoch-06.png', 'boundary-epoch-12.png', 'notes.txt'], 'old PNGs gone, other files kept');
  } finally {
    process.stdout.write = write;
  }
  await assert.rejects(boundaryCommand(['--out', path.join(out, 'notes.txt')]), /--out .*notes\.txt: exists and is not a folder/);
  const run = path.join(dir, 'run');
  fs.mkdirSync(path.join(run, 'best'), { recursive: true });
  fs.writeFileSync(path.join(run, 'best', 'config.json'), JSON.stringify({ format: 'gptlab-checkpoint', model_type: 'gpt' }));
  const quick = ['--dataset', 'moons', '--n', '20', '--hidden', '4', '--size', '8', '--epochs', '1', '--backend', 'js'];
  await assert.rejects(boundaryCommand([...quick, '--out', path.join(run, 'bd')]), /^Error: boundary: --out .*bd: lies inside a gptlab run or checkpoint folder \(.*run\)/);
  await assert.rejects(boundaryCommand([...quick, '--out', run, '--force']), /^Error: boundary: --out .*run: is a gptlab run or checkpoint folder/);
  await assert.rejects(boundaryCommand([...quick, '--out', path.join(run, 'best'), '--force']), /^Error: boundary: --out .*best: lies inside a gptlab run or checkpoint folder/);
  assert.deepEqual(fs.readdirSync(run), ['best'], 'nothing written into the run');
  assert.deepEqual(fs.readdirSync(path.join(run, 'best')), ['config.json']);
  fs.rmSync(dir, { recursive: true, force: true });
});
