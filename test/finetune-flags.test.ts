// classify train / tag train flag checks: an unknown --preset and a --n-head that does not divide the width are
// refused before any data is read; with --base the size flags are named in a note; a base whose vocabulary
// turns most of the data into [UNK] gets a note with the share; info shows a tagger's tag set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-finetune-flags-'));
const run = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', cwd: tmp, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('classify/tag train: --preset and --n-head checked before the data is read', () => {
  const missing = path.join(tmp, 'missing.csv');
  for (const cmd of ['classify', 'tag']) {
    const p = run(cmd, 'train', '--data', missing, '--preset', 'huge');
    assert.equal(p.code, 2);
    assert.match(p.err, new RegExp(`${cmd} train: --preset must be one of tiny, mini, base, got "huge"`));
    assert.equal(p.out, '');
    const h = run(cmd, 'train', '--data', missing, '--n-head', '3');
    assert.equal(h.code, 2);
    assert.match(h.err, /--n-head 3 must divide --n-embd 64 \(preset tiny\)/);
  }
  assert.equal(run('bench', '--threads', '0').code, 2);
  assert.equal(run('bench', '--threads', '99').out, '');
});

test('tag train --base: size flags noted as ignored; an English base on Chinese data notes its [UNK] share; info shows the tags', () => {
  const b = run('train', '--arch', 'bert', '--demo', '--max-iters', '1', '--n-layer', '1', '--n-embd', '16', '--n-head', '2', '--vocab-size', '200', '--eval-interval', '1', '--eval-iters', '1', '--threads', '1', '--out', 'b');
  assert.equal(b.code, 0, b.err);
  const t = run('tag', 'train', '--base', 'b', '--preset', 'mini', '--n-layer', '5', '--max-iters', '1', '--eval-interval', '1', '--threads', '1', '--out', 't');
  assert.equal(t.code, 0, t.err);
  assert.match(t.out, /note: --preset, --n-layer are ignored: --base b fixes the model's size/);
  assert.match(t.out, /note: the base's vocabulary covers the data poorly: \d+\.\d% of its tokens become \[UNK\]/);
  assert.match(t.out, /1 layers, 2 heads, 16 wide/, 'the base shape, not --n-layer 5');
  assert.match(run('info', 't').out, /tags +4: O B E I/);
  const c = run('classify', 'train', '--max-iters', '1', '--eval-interval', '1', '--threads', '1', '--out', 'c');
  assert.equal(c.code, 0, c.err);
  assert.match(run('info', 'c').out, /labels +\d+: \w+/);
});
