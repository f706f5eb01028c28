// Issue #9: byte containers. A Node Buffer is often a view into a larger, pooled ArrayBuffer (Buffer.from,
// small readFileSync results sliced, Buffer.slice), so readers must honour byteOffset/byteLength and never
// use `.buffer` whole. Readers also accept an ArrayBuffer and a DataView.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readSafetensors, writeSafetensors } from '../src/formats/safetensors.js';
import { decodeUtf8Strict, asBytes, utf8Decode } from '../src/tokenizers/utf8.js';

const image = (): Uint8Array => writeSafetensors(
  { w: { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }, b: { dtype: 'U8', shape: [3], data: Uint8Array.from([7, 8, 9]) } },
  { format: 'pt' },
);

function check(f: ReturnType<typeof readSafetensors>, what: string): void {
  assert.deepEqual(Array.from(f.tensors.get('w')!.data as Float32Array), [1, 2, 3, 4, 5, 6], what);
  assert.deepEqual(Array.from(f.tensors.get('b')!.data as Uint8Array), [7, 8, 9], what);
  assert.equal(f.metadata.format, 'pt', what);
}

test('safetensors: Buffers at a non-zero byteOffset into a pooled ArrayBuffer, Buffer.slice, ArrayBuffer, DataView', () => {
  const bytes = image();
  const pooled = Buffer.from(bytes); // small: copied into Node's shared pool, at some byteOffset
  assert.ok(pooled.buffer.byteLength > pooled.length, 'Buffer.from of a small array lives in the pool');
  check(readSafetensors(pooled), 'pooled Buffer');
  // a Buffer sliced out of a larger one: byteOffset 5, and bytes before and after that are not the file
  const big = Buffer.concat([Buffer.from('junk!'), Buffer.from(bytes), Buffer.from('trailing junk')]);
  check(readSafetensors(big.subarray(5, 5 + bytes.length)), 'subarray view');
  check(readSafetensors(big.slice(5, 5 + bytes.length)), 'Buffer.slice view');
  check(readSafetensors(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), 'ArrayBuffer');
  check(readSafetensors(new DataView(big.buffer, big.byteOffset + 5, bytes.length)), 'DataView');
  assert.throws(() => readSafetensors('nope' as unknown as Uint8Array, 'x.safetensors'), /^Error: x\.safetensors: safetensors input must be bytes/);
});

test('safetensors: small files read with readFileSync', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'st-bytes-'));
  const file = path.join(dir, 'm.safetensors');
  writeFileSync(file, image());
  check(readSafetensors(readFileSync(file), file), 'readFileSync');
  // the file read, then cut out of a larger buffer: still only the covered bytes count
  const inner = Buffer.concat([Buffer.alloc(3), readFileSync(file)]).subarray(3);
  check(readSafetensors(inner, file), 'readFileSync, offset');
});

test('UTF-8 readers: views at any byteOffset, ArrayBuffer and DataView; error offsets relative to the view', () => {
  const big = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('ok\nline two é', 'utf8'), Buffer.from([0xff])]);
  const view = big.subarray(2, big.length - 1); // the bytes before/after are invalid UTF-8
  assert.equal(decodeUtf8Strict(view, 'v.txt'), 'ok\nline two é');
  assert.equal(decodeUtf8Strict(new DataView(big.buffer, big.byteOffset + 2, view.length), 'v.txt'), 'ok\nline two é');
  assert.equal(decodeUtf8Strict(Uint8Array.from(view).buffer, 'v.txt'), 'ok\nline two é');
  assert.equal(utf8Decode(new DataView(big.buffer, big.byteOffset + 2, 2)), 'ok');
  // an invalid byte inside a DataView: offset and line are those of the view, not of the ArrayBuffer
  const bad = Buffer.concat([Buffer.from('zz'), Buffer.from('a\nb'), Buffer.from([0xc3, 0x28])]);
  assert.throws(() => decodeUtf8Strict(new DataView(bad.buffer, bad.byteOffset + 2, 5), 'd.txt'), /^Error: d\.txt: invalid UTF-8 at byte 3 \(line 2\): 0xc3/);
  assert.throws(() => asBytes(42 as unknown as Uint8Array, 'n'), /^Error: n: expected bytes/);
});
