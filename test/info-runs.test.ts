// `gptlab info` summarises every kind of run folder the CLI writes: image classifiers, GANs and seq2seq models
// as well as language-model checkpoints (format, model config, parameters per module, step, scores, files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-info-runs-'));
function run(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', cwd: tmp, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('info reads vision, GAN and seq2seq run folders', () => {
  const made = [
    ['v', 'gptlab-vision', ['vision', 'train', '--max-iters', '2', '--eval-interval', '2', '--threads', '1', '--out', 'v'], /parameters [\d,]+ \(conv1 [\d,]+, .*fc2 [\d,]+\)/],
    ['g', 'gptlab-gan', ['gan', 'train', '--data', 'ring8', '--epochs', '1', '--threads', '1', '--out', 'g'], /parameters [\d,]+ \(discriminator [\d,]+, generator [\d,]+\)/],
    ['s', 'gptlab-seq2seq', ['seq2seq', 'train', '--max-iters', '2', '--eval-interval', '2', '--threads', '1', '--out', 's'], /parameters [\d,]+ \(attention [\d,]+, .*encoder/],
  ] as const;
  for (const [dir, format, args, params] of made) {
    const t = run(...args);
    assert.equal(t.code, 0, t.err);
    const i = run('info', dir);
    assert.equal(i.code, 0, i.err);
    assert.match(i.out, new RegExp(`^checkpoint ${dir}/\\w+ \\(${format}, made by gptlab \\w+ train\\)`));
    assert.match(i.out, params);
    assert.match(i.out, /training +step \d+/);
    const j = JSON.parse(run('info', dir, '--json').out);
    assert.equal(j.format, format);
    assert.equal(j.parameters.total, Object.entries(j.parameters).filter(([k]) => k !== 'total').reduce((a, [, v]) => a + (v as number), 0));
  }
  assert.match(run('info', 'v/checkpoint').out, /resumable/);
  fs.writeFileSync(path.join(tmp, 'v/best/config.json'), '{ broken');
  const bad = run('info', 'v/best');
  assert.notEqual(bad.code, 0);
  assert.match(bad.err.trim(), /^gptlab: error: v\/best\/config\.json: not valid JSON/);
});

test('info: BatchNorm running statistics are buffers, not parameters; model fields that apply, as key value pairs', () => {
  const t = run('gan', 'train', '--data', 'glyphs', '--per-class', '2', '--glyph-size', '8', '--epochs', '1', '--judge-steps', '0', '--base', '4', '--threads', '1', '--out', 'gbn');
  assert.equal(t.code, 0, t.err);
  const [, g, d] = /G ([\d,]+) \/ D ([\d,]+) parameters/.exec(t.out)!;
  const n = (s: string): number => Number(s.replace(/,/g, ''));
  const i = run('info', 'gbn');
  assert.match(i.out, new RegExp(`parameters ${(n(g) + n(d)).toLocaleString('en')} `), 'the count training printed');
  assert.match(i.out, /buffers +\d+ \(BatchNorm running statistics/);
  assert.match(i.out, /model +latent 32, base 4, arch dcgan, sampleShape 1,8,8/);
  assert.doesNotMatch(i.out, /hidden|vocabSize|blockSize|\{/);
  const j = JSON.parse(run('info', 'gbn', '--json').out);
  assert.equal(j.parameters.total, n(g) + n(d));
  assert.ok(j.buffers > 0);
  const v = run('vision', 'train', '--max-iters', '1', '--eval-interval', '1', '--train-per-class', '2', '--test-per-class', '1', '--threads', '1', '--out', 'vcnn');
  assert.equal(v.code, 0, v.err);
  const vi = run('info', 'vcnn').out;
  assert.match(vi, /model +channels 8,16, fc 64, arch cnn/);
  assert.doesNotMatch(vi, /hidden|vocabSize|blockSize/);
});
