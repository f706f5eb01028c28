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
