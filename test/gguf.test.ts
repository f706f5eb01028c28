import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  GGUFValues as V,
  ggufTensorFloat32,
  readGGUF,
  writeGGUF,
  type GGUFArray,
  type GGUFTensorInput,
  type GGUFValue,
} from '../src/formats/gguf.js';
import { metaBool, metaNumber, metaNumberArray, metaString, metaStringArray, requireNumber, requireString } from '../src/formats/gguf-meta.js';
import { GENERAL, TOKENIZER, archKeys, tensorName, TENSOR } from '../src/formats/gguf-names.js';
import { ggufInfo } from '../src/formats/gguf-info.js';
import { GGMLType, quantize } from '../src/quant/index.js';

// dist-*/test/x.js -> repo/test/fixtures/gguf
const DIR = fileURLToPath(new URL('../../test/fixtures/gguf/', import.meta.url));
const load = (f: string): Uint8Array => new Uint8Array(readFileSync(DIR + f));
const json = (f: string): any => JSON.parse(readFileSync(DIR + f, 'utf8'));

// Our typed values in the fixture JSON's form: 64-bit integers as decimal strings, arrays as { itemType, items }.
function plain(v: GGUFValue): unknown {
  return { type: v.type, value: plainBody(v.type, v.value) };
}
function plainBody(type: string, v: unknown): unknown {
  if (type === 'uint64' || type === 'int64') return String(v);
  if (type === 'array') {
    const a = v as GGUFArray;
    return { itemType: a.itemType, items: (a.items as unknown[]).map((x) => plainBody(a.itemType, x)) };
  }
  return v;
}

function checkAgainstReference(file: string, expectFile: string): void {
  const bytes = load(file);
  const want = json(expectFile);
  assert.equal(want.gguf_version, '0.19.0');
  const f = readGGUF(bytes, file);
  assert.equal(f.version, 3);
  assert.equal(f.alignment, want.alignment);
  assert.equal(bytes.length, want.size);
  assert.deepEqual([...f.metadata.entries()].map(([k, v]) => [k, plain(v)]), want.metadata);
  assert.equal(f.tensors.length, want.tensors.length);
  for (const [i, t] of f.tensors.entries()) {
    const w = want.tensors[i];
    assert.deepEqual(
      [t.name, t.type, t.typeName, t.dims, t.nElements, t.nBytes, t.fileOffset],
      [w.name, w.type, w.type_name, w.dims, w.n_elements, w.n_bytes, w.file_offset],
    );
    assert.equal(t.fileOffset % f.alignment, 0);
    assert.deepEqual(Array.from(ggufTensorFloat32(t)), w.values, `${t.name} values`);
  }
}

test('reads a file written by gguf.GGUFWriter: every metadata type, F32/F16/Q8_0/Q4_0/Q4_K tensors', () => {
  checkAgainstReference('reference.gguf', 'reference.json');
});

test('reads general.alignment = 64 and its padding', () => {
  checkAgainstReference('align64.gguf', 'align64.json');
});

test('our writer reproduces the gguf package file byte for byte from what our reader read', () => {
  for (const file of ['reference.gguf', 'align64.gguf']) {
    const bytes = load(file);
    const f = readGGUF(bytes, file);
    const tensors: GGUFTensorInput[] = f.tensors.map((t) => ({ name: t.name, type: t.type, dims: t.dims, data: t.data() }));
    const ours = writeGGUF(f.metadata, tensors);
    assert.equal(ours.length, bytes.length, file);
    assert.ok(ours.every((b, i) => b === bytes[i]), `${file}: bytes differ`);
  }
});

test('tensor data are views into the input, not copies', () => {
  const bytes = load('reference.gguf');
  const t = readGGUF(bytes).tensor('blk.0.q8_0.weight')!;
  assert.equal(t.data().buffer, bytes.buffer);
  assert.deepEqual(t.shape, [2, 64]);
  // a view at an odd byteOffset of a larger buffer reads the same
  const shifted = new Uint8Array(bytes.length + 3);
  shifted.set(bytes, 3);
  const g = readGGUF(shifted.subarray(3));
  assert.deepEqual(Array.from(ggufTensorFloat32(g.tensor('f32.weight')!)), Array.from(ggufTensorFloat32(readGGUF(bytes).tensor('f32.weight')!)));
  assert.equal(g.metadata.get('test.uint64')!.value, 18446744073709551615n);
});

// The file committed as ours.gguf: every value type, four tensors. GGUF_WRITE_FIXTURE=1 (re)writes it.
function oursInputs(): { metadata: Map<string, GGUFValue>; tensors: GGUFTensorInput[] } {
  const m = new Map<string, GGUFValue>([
    [GENERAL.architecture, V.string('gpt2')],
    [GENERAL.name, V.string('gptlab writer ✓')],
    [GENERAL.quantizationVersion, V.uint32(2)],
    [archKeys('gpt2').contextLength, V.uint32(64)],
    [archKeys('gpt2').layerNormEpsilon, V.float32(1e-5)],
    ['test.u8', V.uint8(200)], ['test.i8', V.int8(-5)], ['test.u16', V.uint16(60000)], ['test.i16', V.int16(-300)],
    ['test.i32', V.int32(-70000)], ['test.f64', V.float64(Math.PI)], ['test.bool', V.bool(true)],
    ['test.u64', V.uint64(18446744073709551615n)], ['test.i64', V.int64(-1234567890123n)],
    [TOKENIZER.model, V.string('gpt2')],
    [TOKENIZER.tokens, V.array('string', ['a', 'b', 'ab', '😀'])],
    [TOKENIZER.tokenType, V.array('int32', [1, 1, 1, 4])],
    [TOKENIZER.merges, V.array('string', ['a b'])],
    ['test.scores', V.array('float32', [0.5, -1.5])],
    ['test.nested', V.array('array', [{ itemType: 'string', items: ['p', 'q'] }, { itemType: 'string', items: [] }])],
    [TOKENIZER.chatTemplate, V.string('{{ messages }}\n')],
  ]);
  const x = new Float32Array(512);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.7) * 0.3;
  const tensors: GGUFTensorInput[] = [
    { name: 'token_embd.weight', type: GGMLType.F32, shape: [2, 4], data: quantize(GGMLType.F32, x.subarray(0, 8)) },
    { name: 'blk.0.attn_qkv.weight', type: GGMLType.Q8_0, shape: [2, 64], data: quantize(GGMLType.Q8_0, x.subarray(0, 128)) },
    { name: 'blk.0.ffn_up.weight', type: GGMLType.Q4_K, shape: [2, 256], data: quantize(GGMLType.Q4_K, x) },
    { name: 'blk.0.ffn_down.weight', type: GGMLType.F16, shape: [3, 32], data: quantize(GGMLType.F16, x.subarray(0, 96)) },
  ];
  return { metadata: m, tensors };
}

test('our writer round-trips through our reader, and the gguf package reads our file (ours-check.json)', () => {
  const { metadata, tensors } = oursInputs();
  const bytes = writeGGUF(metadata, tensors);
  if (process.env.GGUF_WRITE_FIXTURE === '1') writeFileSync(DIR + 'ours.gguf', bytes);
  const committed = load('ours.gguf');
  assert.ok(bytes.length === committed.length && bytes.every((b, i) => b === committed[i]), 'ours.gguf is what the writer writes');
  const f = readGGUF(bytes, 'ours.gguf');
  assert.deepEqual([...f.metadata.entries()], [...metadata.entries()].map(([k, v]) => [k, v.type === 'float32' ? V.float32(Math.fround(v.value as number)) : v]));
  const check = json('ours-check.json');
  assert.equal(check.read_ok, true);
  assert.equal(check.gguf_version, '0.19.0');
  const fields = new Map<string, { type: string; value: any }>(check.fields);
  for (const [k, v] of metadata) {
    const seen = fields.get(k)!;
    assert.ok(seen, `gguf package saw ${k}`);
    assert.equal(seen.type, v.type, k);
    // GGUFReader flattens nested arrays to their leaves.
    if (k === 'test.nested') assert.deepEqual([seen.value.itemType, seen.value.flat_items], ['array', ['p', 'q']]);
    else assert.deepEqual(seen, plain(v.type === 'float32' ? V.float32(Math.fround(v.value as number)) : v), k);
  }
  assert.equal(check.tensors.length, tensors.length);
  for (const [i, t] of f.tensors.entries()) {
    const w = check.tensors[i];
    assert.deepEqual([w.name, w.type_name, w.dims, w.file_offset, w.n_bytes], [t.name, t.typeName, t.dims, t.fileOffset, t.nBytes]);
    assert.deepEqual(Array.from(ggufTensorFloat32(t)), w.values, `${t.name}: gguf.quants dequantizes our bytes to our values`);
  }
});

test('typed metadata access and llama.cpp names', () => {
  const f = readGGUF(load('reference.gguf'), 'reference.gguf');
  assert.equal(metaString(f, GENERAL.architecture), 'llama');
  assert.equal(requireNumber(f, archKeys('llama').contextLength), 128);
  assert.equal(metaNumber(f, archKeys('llama').layerNormRmsEpsilon), Math.fround(1e-5));
  assert.equal(metaNumber(f, 'test.int8'), -128);
  assert.throws(() => metaNumber(f, 'test.int64'), /-9223372036854775808 is too large for a number/);
  assert.equal(metaBool(f, 'test.bool_true'), true);
  assert.deepEqual(metaStringArray(f, TOKENIZER.tokens), ['<s>', '</s>', 'a', 'b', 'ab']);
  assert.deepEqual(metaNumberArray(f, TOKENIZER.tokenType), [3, 3, 1, 1, 1]);
  assert.equal(metaString(f, 'missing.key'), undefined);
  assert.throws(() => requireString(f, 'missing.key'), /^Error: reference\.gguf: metadata "missing\.key": missing$/);
  assert.throws(() => metaString(f, 'test.uint8'), /reference\.gguf: metadata "test\.uint8": expected a string, got uint8/);
  assert.throws(() => metaNumber(f, 'test.uint64'), /18446744073709551615 is too large for a number/);
  assert.equal(tensorName(TENSOR.attnQ, 3), 'blk.3.attn_q');
});

test('gguf info: header, metadata listing and tensor table', () => {
  const text = ggufInfo(readGGUF(load('reference.gguf'), 'reference.gguf'), { maxArrayItems: 3 });
  const lines = text.split('\n');
  assert.match(lines[0]!, /^reference\.gguf: GGUF v3, 2528 bytes .*alignment 32, tensor data at byte \d+$/);
  assert.ok(lines.some((l) => /^\s+general\.architecture\s+string\s+"llama"$/.test(l)));
  assert.ok(lines.some((l) => /^\s+tokenizer\.ggml\.tokens\s+string\[5\]\s+\["<s>", "<\/s>", "a", … 2 more\]$/.test(l)));
  assert.ok(lines.some((l) => /^\s+test\.uint64\s+uint64\s+18446744073709551615$/.test(l)));
  assert.ok(lines.some((l) => /^\s+llama\.attention\.layer_norm_rms_epsilon\s+float32\s+0\.00001$/.test(l)));
  assert.ok(lines.some((l) => /^\s+test\.arr_nested\s+array\[3\]\s+\[\["x", "y"\], \["z"\], \["", "long one"\]\]$/.test(l)));
  assert.ok(lines.some((l) => /^\s+blk\.0\.q4_k\.weight\s+Q4_K\s+\[2, 256\]\s+512\s+288\s+\d+$/.test(l)));
  assert.match(text, /tensors: 6, 711 elements/);
  assert.match(text, /by type: F32 × 2 .*Q4_K × 1 \(512 elements, 288 B, 4\.50 bits\/element\)/);
});

// A small file with known offsets for corruption tests:
//   0 magic | 4 version | 8 tensor_count | 16 kv_count | 24 key len | 32 "general.architecture" | 52 value type
//   56 string len | 64 "llama" | 69 name len | 77 "w" | 78 n_dims | 82 dim0 | 90 type | 94 offset | 102 pad
//   128 data (16 bytes) | 144 pad | 160 end
function base(): Uint8Array {
  return writeGGUF({ 'general.architecture': V.string('llama') }, [{ name: 'w', type: GGMLType.F32, dims: [4], data: new Uint8Array(16) }]);
}
function patched(edit: (v: DataView, b: Uint8Array) => void, bytes = base()): Uint8Array {
  edit(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), bytes);
  return bytes;
}
function rejects(bytes: Uint8Array, re: RegExp): void {
  assert.throws(() => readGGUF(bytes, 'model.gguf'), (e: Error) => {
    assert.match(e.message, /^model\.gguf: /);
    assert.ok(!e.message.includes('\n'), 'one line');
    assert.match(e.message, re);
    return true;
  });
}

test('the corruption-test file has the layout the tests assume', () => {
  const b = base();
  assert.equal(b.length, 160);
  const f = readGGUF(b);
  assert.equal(f.dataOffset, 128);
  assert.equal(new DataView(b.buffer).getUint32(90, true), GGMLType.F32);
});

test('malformed files: truncation, magic, version, counts, strings', () => {
  rejects(base().subarray(0, 10), /truncated: 10 bytes, a GGUF header needs 24/);
  rejects(base().subarray(0, 60), /truncated: metadata "general\.architecture" \(length\) needs 8 bytes at offset 56, but the file ends at 60/);
  rejects(base().subarray(0, 85), /truncated: tensor "w": dimension 0 needs 8 bytes at offset 82/);
  rejects(patched((v) => v.setUint32(0, 0x46554748, true)), /not a GGUF file: magic is 48 47 55 46, expected 47 47 55 46/);
  rejects(patched((v) => v.setUint32(4, 1, true)), /unsupported GGUF version 1 \(supported: 2, 3\)/);
  rejects(patched((v) => v.setUint32(4, 4, true)), /unsupported GGUF version 4/);
  rejects(patched((v) => v.setBigUint64(8, 1n << 40n, true)), /tensor_count is 1099511627776, more than the \d+ bytes left in the file can hold/);
  rejects(patched((v) => v.setBigUint64(16, 0xffffffffffffffffn, true)), /metadata_kv_count is 18446744073709551615, more than/);
  rejects(patched((v) => v.setBigUint64(24, 1n << 50n, true)), /metadata key #0 \(length\)|metadata key #0: string length 1125899906842624 is larger than the \d+ bytes left/);
  rejects(patched((v) => v.setBigUint64(56, 1n << 62n, true)), /metadata "general\.architecture": string length 4611686018427387904 is larger than/);
  rejects(patched((_, b) => { b[64] = 0xff; }), /metadata "general\.architecture": string is not valid UTF-8/);
});

test('malformed files: value types, bools, arrays, duplicates, alignment', () => {
  rejects(patched((v) => v.setUint32(52, 13, true)), /metadata "general\.architecture": unknown value type 13/);
  const withBool = writeGGUF({ 'a.b': V.bool(true) });
  // header 24 | key len 24..32 | "a.b" 32..35 | value type 35..39 | value 39
  rejects(patched((_, b) => { b[39] = 2; }, withBool), /metadata "a\.b": bool must be 0 or 1, got 2/);
  const arr = writeGGUF({ 'a.arr': V.array('uint32', [1, 2]) });
  // "a.arr" 32..37 | value type 37..41 | item type 41..45 | length 45..53
  rejects(patched((v) => v.setBigUint64(45, 1n << 40n, true), arr.slice()), /metadata "a\.arr": array length is 1099511627776, more than the \d+ bytes left/);
  rejects(patched((v) => v.setUint32(41, 99, true), arr.slice()), /metadata "a\.arr": unknown array item type 99/);
  let nested: GGUFArray = { itemType: 'string', items: ['x'] };
  for (let i = 0; i < 20; i++) nested = { itemType: 'array', items: [nested] };
  assert.throws(() => writeGGUF({ deep: { type: 'array', value: nested } }), /arrays nested deeper than 16 levels/);
  const dup = writeGGUF(new Map([['k.a', V.uint8(1)], ['k.b', V.uint8(2)]]));
  // "k.a" 32..35 | type 35..39 | value 39 | key len 40..48 | "k.b" 48..51
  rejects(patched((_, b) => { b[50] = 'a'.charCodeAt(0); }, dup), /metadata key "k\.a" appears twice/);
  // "general.alignment" 32..49 | type 49..53 | value 53..57
  rejects(patched((v) => v.setUint32(53, 48, true), writeGGUF({ 'general.alignment': V.uint32(32) })), /"general\.alignment" must be a non-zero power of two, got 48/);
  assert.throws(() => writeGGUF({ 'general.alignment': V.uint64(32) }), /writeGGUF: metadata "general\.alignment" must be a uint32, got uint64/);
  // the same key retyped as uint64 (the padding after it supplies the upper bytes, zeros)
  rejects(patched((v) => v.setUint32(49, 10, true), writeGGUF({ 'general.alignment': V.uint32(32) })), /"general\.alignment" must be a uint32, got uint64/);
});

test('malformed files: tensor infos and data', () => {
  rejects(patched((v) => v.setUint32(90, 4, true)), /tensor "w": unknown ggml type 4/);
  rejects(patched((v) => v.setUint32(90, 99, true)), /tensor "w": unknown ggml type 99/);
  rejects(patched((v) => v.setBigUint64(94, 8n, true)), /tensor "w": offset 8 is not a multiple of the alignment 32/);
  rejects(patched((v) => v.setBigUint64(94, 32n, true)), /tensor "w": data ends at byte 176, past the end of the file \(160 bytes\)/);
  rejects(base().subarray(0, 140), /tensor "w": data ends at byte 144, past the end of the file \(140 bytes\)/);
  rejects(patched((v) => v.setBigUint64(82, 1n << 40n, true)), /tensor "w": data ends at byte \d+, past the end of the file \(160 bytes\)/);
  rejects(patched((v) => v.setUint32(78, 5, true)), /tensor "w": 5 dimensions, at most 4 are allowed/);
  rejects(patched((v) => { v.setUint32(90, GGMLType.Q8_0, true); }), /tensor "w": first dimension 4 is not a multiple of the Q8_0 block size 32/);
  const two = writeGGUF({}, [
    { name: 'a', type: GGMLType.F32, dims: [4], data: new Uint8Array(16) },
    { name: 'b', type: GGMLType.F32, dims: [12], data: new Uint8Array(48) },
  ]);
  // header 24 | a: 8+1+4+8+4+8 = 33 -> 57 | b: 33 -> 90 (b's name at 65, b's offset at 82) | data at 96
  rejects(patched((_, b) => { b[65] = 'a'.charCodeAt(0); }, two.slice()), /tensor "a" appears twice/);
  rejects(patched((v) => v.setBigUint64(82, 0n, true), two.slice()), /tensor "a" \(offset 0\) overlaps tensor "b"|tensor "b" \(offset 0\) overlaps tensor "a"/);
});

test('writer refuses bad input with one-line errors', () => {
  assert.throws(() => writeGGUF({ x: V.uint8(256) }), /writeGGUF: metadata "x": uint8 value must be an integer in \[0, 255\], got 256/);
  assert.throws(() => writeGGUF({ x: V.int32(1.5) }), /int32 value must be an integer/);
  assert.throws(() => writeGGUF({ x: V.array('string', ['a', 3 as unknown as string]) }), /metadata "x"\[1\]: string value must be a string, got number/);
  assert.throws(() => writeGGUF({ x: { type: 'nope', value: 1 } as unknown as GGUFValue }), /writeGGUF: metadata "x": value must be \{ type, value \}/);
  assert.throws(() => writeGGUF({ 'general.alignment': V.uint32(24) }), /must be a non-zero power of two, got 24/);
  assert.throws(() => writeGGUF({}, [{ name: 't', type: GGMLType.Q4_0, dims: [32], data: new Uint8Array(17) }]), /writeGGUF: tensor "t": Q4_0 dims \[32\] need 18 bytes, data has 17/);
  assert.throws(() => writeGGUF({}, [{ name: 't', type: GGMLType.Q4_0, dims: [16], data: new Uint8Array(9) }]), /first dimension 16 is not a multiple of the Q4_0 block size 32/);
  assert.throws(() => writeGGUF({}, [{ name: 't', type: 77, dims: [1], data: new Uint8Array(1) }]), /unknown ggml type 77/);
  const t = { name: 't', type: GGMLType.F32, dims: [1], data: new Uint8Array(4) };
  assert.throws(() => writeGGUF({}, [t, t]), /writeGGUF: tensor "t" appears twice/);
});

test('empty file (no metadata, no tensors) and the worked example in the header comment', () => {
  const empty = writeGGUF({});
  assert.equal(empty.length, 32); // 24-byte header padded to 32
  assert.equal(readGGUF(empty).tensors.length, 0);
  const ex = writeGGUF({}, [{ name: 'w', type: GGMLType.F32, shape: [2], data: new Uint8Array(new Float32Array([1, 2]).buffer) }]);
  assert.equal(ex.length, 96);
  const f = readGGUF(ex);
  assert.equal(f.dataOffset, 64);
  assert.deepEqual(Array.from(ggufTensorFloat32(f.tensors[0]!)), [1, 2]);
});
