import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  GGMLType,
  QK_K,
  dequantize,
  fp16ToFp32,
  fp32ToFp16,
  ggmlByteSize,
  ggmlTypeFromName,
  ggmlTypeInfo,
  ggmlTypeName,
  matVec,
  quantize,
  quantizeActivations,
  vecDot,
  vecDotType,
} from '../src/quant/index.js';
import { nearestInt, roundf } from '../src/quant/rounding.js';

// dist-*/test/x.js -> repo/test/fixtures/quant
const DIR = fileURLToPath(new URL('../../test/fixtures/quant/', import.meta.url));

type Span = [number, number];
interface FormatEntry { bytes: Span; dequant: Span; act_type?: string; act_bytes?: Span; dot?: number }
interface Case { name: string; n: number; input: Span; act: Span; formats: Record<string, FormatEntry> }
const index = JSON.parse(readFileSync(DIR + 'cases.json', 'utf8')) as { gguf_version: string; ggml_commit: string; cases: Case[] };
const blob = new Uint8Array(readFileSync(DIR + 'data.bin'));
const bytesAt = ([o, n]: Span): Uint8Array => blob.slice(o, o + n);
const floatsAt = (s: Span): Float32Array => new Float32Array(bytesAt(s).buffer);

function firstDiff(a: Uint8Array, b: Uint8Array): string {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return `byte ${i}: ours ${a[i]}, reference ${b[i]}`;
  return 'equal';
}

test('fixture was written by the gguf package 0.19.0 and ggml C reference quantizers', () => {
  assert.equal(index.gguf_version, '0.19.0');
  assert.match(index.ggml_commit, /^[0-9a-f]{40}$/);
  assert.equal(index.cases.length, 8);
});

for (const fmt of ['F16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q4_K', 'Q5_K', 'Q6_K']) {
  test(`${fmt}: bytes equal the reference byte for byte, dequantization bit for bit, on every case`, () => {
    const type = ggmlTypeFromName(fmt);
    let blocks = 0;
    for (const c of index.cases) {
      const x = floatsAt(c.input);
      const want = c.formats[fmt]!;
      const ours = quantize(type, x);
      const ref = bytesAt(want.bytes);
      assert.equal(ours.length, ggmlByteSize(type, c.n), `${c.name}: size`);
      assert.ok(ours.length === ref.length && ours.every((v, i) => v === ref[i]), `${c.name}: ${firstDiff(ours, ref)}`);
      const deq = dequantize(type, ref, c.n);
      const refDeq = floatsAt(want.dequant);
      const a = new Uint32Array(deq.buffer);
      const b = new Uint32Array(refDeq.buffer);
      for (let i = 0; i < c.n; i++) assert.equal(a[i], b[i], `${c.name}[${i}]: ours ${deq[i]}, reference ${refDeq[i]}`);
      blocks += c.n / ggmlTypeInfo(type)!.blockSize;
    }
    assert.ok(blocks > 0);
  });
}

for (const fmt of ['Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q4_K', 'Q5_K', 'Q6_K']) {
  test(`${fmt}: activations quantize like ggml and vec_dot equals ggml_vec_dot_*_generic exactly`, () => {
    const type = ggmlTypeFromName(fmt);
    for (const c of index.cases) {
      const want = c.formats[fmt]!;
      assert.equal(ggmlTypeName(vecDotType(type)), want.act_type);
      const act = quantizeActivations(type, floatsAt(c.act));
      const refAct = bytesAt(want.act_bytes!);
      assert.ok(act.every((v, i) => v === refAct[i]) && act.length === refAct.length, `${c.name}: ${firstDiff(act, refAct)}`);
      const dot = vecDot(type, c.n, bytesAt(want.bytes), 0, act, 0);
      assert.equal(dot, want.dot, `${c.name}: dot`);
    }
  });
}

test('matVec: rows of quantized weights times a vector, close to the float product', () => {
  const n = 2 * QK_K;
  const rows = 3;
  const w = new Float32Array(rows * n);
  const x = new Float32Array(n);
  for (let i = 0; i < w.length; i++) w[i] = Math.sin(i * 0.37) * 0.1;
  for (let i = 0; i < n; i++) x[i] = Math.cos(i * 0.11);
  for (const type of [GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K]) {
    const y = matVec(type, quantize(type, w), rows, n, x);
    for (let r = 0; r < rows; r++) {
      let exact = 0;
      for (let i = 0; i < n; i++) exact += w[r * n + i]! * x[i]!;
      const tol = type === GGMLType.Q8_0 || type === GGMLType.Q6_K ? 0.02 : 0.15;
      assert.ok(Math.abs(y[r]! - exact) < tol * Math.max(1, Math.abs(exact)), `${ggmlTypeName(type)} row ${r}: ${y[r]} vs ${exact}`);
    }
  }
});

test('fp16: round to nearest even, subnormals, overflow, NaN', () => {
  assert.equal(fp32ToFp16(1), 0x3c00);
  assert.equal(fp32ToFp16(-2), 0xc000);
  assert.equal(fp32ToFp16(65504), 0x7bff);
  assert.equal(fp32ToFp16(65520), 0x7c00); // halfway to the next binade rounds to Infinity
  assert.equal(fp32ToFp16(2 ** -24), 0x0001);
  assert.equal(fp32ToFp16(2 ** -25), 0x0000); // tie to even (0)
  assert.equal(fp32ToFp16(3 * 2 ** -25), 0x0002); // tie to even (2)
  assert.equal(fp32ToFp16(1 + 2 ** -11), 0x3c00); // tie to even
  assert.equal(fp32ToFp16(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(fp32ToFp16(-0), 0x8000);
  assert.equal(fp32ToFp16(NaN) & 0x7e00, 0x7e00);
  assert.equal(fp16ToFp32(0x7c00), Infinity);
  assert.ok(Number.isNaN(fp16ToFp32(0x7e00)));
  for (let h = 0; h < 0x7c00; h += 7) assert.equal(fp32ToFp16(fp16ToFp32(h)), h);
});

test('ggml rounding helpers: nearest_int ties to even, roundf away from zero', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999998].map(nearestInt), [0, 2, 2, 0, -2, 2]);
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -2.5, 0.49999997].map(roundf), [1, 2, 3, -1, -3, 0]);
});

test('type table: ids, block sizes and bytes per block match ggml', () => {
  const expect: [string, number, number, number][] = [
    ['F32', 0, 1, 4], ['F16', 1, 1, 2], ['Q4_0', 2, 32, 18], ['Q4_1', 3, 32, 20], ['Q8_0', 8, 32, 34],
    ['Q5_0', 6, 32, 22], ['Q5_1', 7, 32, 24], ['Q8_1', 9, 32, 36], ['Q4_K', 12, 256, 144], ['Q5_K', 13, 256, 176], ['Q6_K', 14, 256, 210], ['Q8_K', 15, 256, 292],
    ['BF16', 30, 1, 2],
  ];
  for (const [name, id, bs, ts] of expect) {
    const info = ggmlTypeInfo(id)!;
    assert.deepEqual([info.name, info.blockSize, info.typeSize], [name, bs, ts]);
  }
  assert.equal(ggmlTypeInfo(4), undefined);
  assert.equal(ggmlTypeName(99), 'unknown(99)');
  assert.equal(ggmlByteSize(GGMLType.Q4_K, 512), 288);
});

test('bad input: partial blocks, unsupported types, short buffers', () => {
  assert.throws(() => quantize(GGMLType.Q4_0, new Float32Array(33)), /Q4_0: 33 values is not a multiple of the block size 32/);
  assert.throws(() => quantize(GGMLType.Q4_K, new Float32Array(32)), /Q4_K: 32 values/);
  assert.throws(() => quantize(GGMLType.Q3_K, new Float32Array(256)), /quantize: ggml type Q3_K is not supported/);
  assert.throws(() => quantize(GGMLType.Q5_K, new Float32Array(32)), /Q5_K: 32 values/);
  assert.throws(() => quantize(GGMLType.Q5_0, new Float32Array(48)), /Q5_0: 48 values is not a multiple of the block size 32/);
  assert.throws(() => dequantize(GGMLType.Q8_0, new Uint8Array(33), 32), /dequantize: 32 Q8_0 values need 34 bytes, got 33/);
  assert.throws(() => dequantize(GGMLType.Q8_0, new Uint8Array(34), 31), /dequantize: Q8_0: 31 elements is not a whole number/);
  assert.throws(() => vecDot(GGMLType.F16, 32, new Uint8Array(64), 0, new Uint8Array(64)), /no quantized dot product for ggml type F16/);
  assert.throws(() => vecDot(GGMLType.Q4_0, 64, new Uint8Array(18), 0, new Uint8Array(68)), /weight row \[0, 36\) is past the end/);
  assert.throws(() => ggmlTypeFromName('Q9_9'), /unknown ggml type "Q9_9"/);
});

test('F32 passes through; quantize then dequantize is close for every format', () => {
  const x = new Float32Array(QK_K);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i) * 3;
  assert.deepEqual(dequantize(GGMLType.F32, quantize(GGMLType.F32, x), x.length), x);
  for (const [type, tol] of [[GGMLType.Q8_0, 0.02], [GGMLType.Q4_0, 0.4], [GGMLType.Q4_1, 0.25], [GGMLType.Q4_K, 0.25], [GGMLType.Q6_K, 0.06], [GGMLType.Q5_0, 0.2], [GGMLType.Q5_1, 0.12], [GGMLType.Q5_K, 0.12], [GGMLType.Q8_1, 0.02], [GGMLType.Q8_K, 0.02]] as const) {
    const y = dequantize(type, quantize(type, x), x.length);
    let err = 0;
    for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs(y[i]! - x[i]!));
    assert.ok(err < tol, `${ggmlTypeName(type)}: max error ${err}`);
  }
});
