import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeDirAtomic, writeDirAtomicSync, writeFileAtomic, writeFileAtomicSync } from '../src/formats/atomic.node.js';

type Data = Uint8Array | string;

// The sync and async writers are separate code paths; every test runs against both.
const impls: [string, (f: string, d: Data) => Promise<void>, (d: string, fs: Record<string, Data>) => Promise<void>][] = [
  ['sync', async (f, d) => writeFileAtomicSync(f, d), async (d, files) => writeDirAtomicSync(d, files)],
  ['async', writeFileAtomic, writeDirAtomic],
];

function scratch(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-atomic-'));
}

// Anything our writers leave behind by mistake is named <target>.tmp-* or <target>.old-*.
function leftovers(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => /\.(tmp|old)-\d+-[0-9a-f]+$/.test(f));
}

async function inScratch(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = scratch();
  try {
    await body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

for (const [kind, writeFile, writeDir] of impls) {
  test(`${kind} writeFileAtomic creates and then replaces a file, leaving no temp files`, () =>
    inScratch(async (dir) => {
      const file = path.join(dir, 'ckpt.bin');
      await writeFile(file, new Uint8Array([1, 2, 3]));
      assert.deepEqual([...fs.readFileSync(file)], [1, 2, 3]);
      await writeFile(file, 'héllo');
      assert.equal(fs.readFileSync(file, 'utf8'), 'héllo');
      // a view into a larger buffer writes only the viewed bytes
      await writeFile(file, new Uint8Array([9, 8, 7, 6]).subarray(1, 3));
      assert.deepEqual([...fs.readFileSync(file)], [8, 7]);
      assert.deepEqual(fs.readdirSync(dir), ['ckpt.bin']);
    }));

  test(`${kind} writeFileAtomic failure names the file, keeps the old content and removes the temp`, () =>
    inScratch(async (dir) => {
      await assert.rejects(writeFile(path.join(dir, 'missing', 'x.bin'), 'data'), /cannot write .*missing.x\.bin: ENOENT/);
      // renaming a file over a non-empty directory fails after the temp file was fully written
      const target = path.join(dir, 'occupied');
      fs.mkdirSync(target);
      fs.writeFileSync(path.join(target, 'keep'), 'k');
      await assert.rejects(writeFile(target, 'data'), /cannot write .*occupied: E(ISDIR|NOTEMPTY|EXIST|PERM)/);
      assert.equal(fs.readFileSync(path.join(target, 'keep'), 'utf8'), 'k');
      assert.deepEqual(leftovers(dir), []);
    }));

  test(`${kind} writeDirAtomic creates a folder with nested files`, () =>
    inScratch(async (dir) => {
      const out = path.join(dir, 'model');
      await writeDir(out, { 'config.json': '{"a":1}', 'weights.safetensors': new Uint8Array([5]), 'tok/vocab.json': '[]' });
      assert.equal(fs.readFileSync(path.join(out, 'config.json'), 'utf8'), '{"a":1}');
      assert.deepEqual([...fs.readFileSync(path.join(out, 'weights.safetensors'))], [5]);
      assert.equal(fs.readFileSync(path.join(out, 'tok', 'vocab.json'), 'utf8'), '[]');
      assert.deepEqual(fs.readdirSync(dir), ['model']);
    }));

  test(`${kind} writeDirAtomic replaces an existing folder as a whole (old files not in the new set are gone)`, () =>
    inScratch(async (dir) => {
      const out = path.join(dir, 'model');
      await writeDir(out, { 'a.txt': 'old a', 'stale.txt': 'old only', 'sub/x': 'old x' });
      await writeDir(out, { 'a.txt': 'new a', 'b.txt': 'new b' });
      assert.deepEqual(fs.readdirSync(out).sort(), ['a.txt', 'b.txt']);
      assert.equal(fs.readFileSync(path.join(out, 'a.txt'), 'utf8'), 'new a');
      assert.deepEqual(fs.readdirSync(dir), ['model'], 'no .tmp-* or .old-* left');
    }));

  test(`${kind} writeDirAtomic failure leaves the previous folder untouched and no temp folder`, () =>
    inScratch(async (dir) => {
      const out = path.join(dir, 'model');
      await writeDir(out, { 'a.txt': 'v1' });
      // a file and a folder of the same name cannot both exist: fails midway through writing the new set
      await assert.rejects(writeDir(out, { x: 'file', 'x/y': 'nested' }), /cannot write .*model: /);
      assert.deepEqual(fs.readdirSync(out), ['a.txt']);
      assert.equal(fs.readFileSync(path.join(out, 'a.txt'), 'utf8'), 'v1');
      assert.deepEqual(fs.readdirSync(dir), ['model']);
    }));

  test(`${kind} writeDirAtomic rejects paths that escape the folder, and a target that is a file`, () =>
    inScratch(async (dir) => {
      const out = path.join(dir, 'model');
      for (const bad of ['../evil', '/abs', '', '.', 'a/../../b']) {
        await assert.rejects(writeDir(out, { [bad]: 'x' }), /must be a relative path inside the folder/, bad);
      }
      const file = path.join(dir, 'plain');
      fs.writeFileSync(file, 'keep me');
      await assert.rejects(writeDir(file, { a: 'x' }), /plain: it exists and is not a folder/);
      assert.equal(fs.readFileSync(file, 'utf8'), 'keep me');
      assert.deepEqual(fs.readdirSync(dir), ['plain']);
    }));
}

test('concurrent async writers to the same file: the result is one complete version, never a mix', () =>
  inScratch(async (dir) => {
    const file = path.join(dir, 'race.bin');
    const versions = [1, 2, 3, 4, 5].map((v) => new Uint8Array(1 << 16).fill(v));
    await Promise.all(versions.map((d) => writeFileAtomic(file, d)));
    const got = fs.readFileSync(file);
    assert.equal(got.length, 1 << 16);
    assert.ok(got.every((b) => b === got[0]), 'all bytes from one writer');
    assert.deepEqual(fs.readdirSync(dir), ['race.bin']);
  }));
