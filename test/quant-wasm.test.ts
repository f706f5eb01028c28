// The whole-tensor quantization kernels (assembly/quantize.ts, reached through src/quant's quantize/dequantize
// on the wasm backend) against the plain TypeScript reference (quantizeReference/dequantizeReference): bytes
// equal for quantize, bits equal for dequantize (any NaN matches any NaN), on a plain memory, a shared one and
// a 2-thread team, across the staging chunk boundary, on random blocks and on edge cases (the K-quants' quantizers
// in assembly/quantize-k.ts on 256-value super-blocks of their own).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backend, setBackend } from '../src/backend/backend.js';
import { useWasmBackends } from './helpers/wasm-backends.js';
import { GGMLType, dequantize, dequantizeReference, ggmlByteSize, quantize, quantizeReference } from '../src/quant/index.js';
import { Rng } from '../src/tensor/rng.js';

const DEQUANT_TYPES: [string, number][] = [
  ['Q8_0', GGMLType.Q8_0], ['Q4_0', GGMLType.Q4_0], ['Q4_1', GGMLType.Q4_1], ['Q5_0', GGMLType.Q5_0], ['Q5_1', GGMLType.Q5_1],
  ['Q4_K', GGMLType.Q4_K], ['Q5_K', GGMLType.Q5_K], ['Q6_K', GGMLType.Q6_K],
];
const QUANT_TYPES = DEQUANT_TYPES.slice(0, 5);
const K_TYPES = DEQUANT_TYPES.slice(5);

const saved = backend();
const backends = useWasmBackends();

function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) assert.fail(`${what}: element ${i}: ${a[i]} vs ${b[i]}`);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) assert.fail(`${what}: byte ${i}: ${a[i]} vs ${b[i]}`);
}

// 32-value blocks of edge cases, then random normals at several scales
function inputs(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  const x = Float32Array.from({ length: n }, (_, i) => r.normal() * 10 ** ((i >> 8) % 7 - 3));
  const edge: ((j: number) => number)[] = [
    () => 0, (j) => (j === 5 ? -3 : j / 100), (j) => (j === 7 ? -1e-30 : 1e-31 * j), (j) => 1e-42 * (j - 16),
    (j) => 3e38 * (j % 2 ? 1 : -1), (j) => (j === 3 ? NaN : j - 10), (j) => (j === 9 ? Infinity : j), (j) => (j === 0 ? -Infinity : 1),
    (j) => (j % 4) - 2 + 0.5, (j) => -7 + 0.5 * (j % 29), (j) => 65504 * 2 * (j - 31), () => -0,
    (j) => (j === 1 ? 5.4e-43 : 3e-43 * ((j % 5) - 2)), (j) => 2.2e-43 * (j - 16) / 16, (j) => 3e-38 * (j % 7 - 3),
  ];
  edge.forEach((f, b) => { for (let j = 0; j < 32; j++) x[32 * b + j] = f(j); });
  return x;
}

test('dequantize: wasm bit for bit with the TypeScript reference on random blocks (NaN/Inf/subnormal scales), across chunks', () => {
  const r = new Rng(5);
  for (const [name, type] of DEQUANT_TYPES) {
    const n = (1 << 18) + 3 * 256; // the chunk boundary of WasmBackend.dequantizeBytes
    const bytes = Uint8Array.from({ length: ggmlByteSize(type, n) }, () => r.nextU32() & 0xff);
    const want = dequantizeReference(type, bytes, n);
    for (const [label, be] of backends) {
      setBackend(be);
      sameBits(dequantize(type, bytes, n), want, `${name} on ${label}`);
    }
    setBackend(saved);
  }
});

test('dequantize: wasm on quantized real-looking data, and a too-short buffer still throws', () => {
  const x = inputs(4096, 7);
  for (const [name, type] of DEQUANT_TYPES) {
    const q = quantizeReference(type, x);
    const want = dequantizeReference(type, q, x.length);
    for (const [label, be] of backends) {
      setBackend(be);
      sameBits(dequantize(type, q, x.length), want, `${name} on ${label}`);
      assert.throws(() => dequantize(type, q.subarray(1), x.length), /need/);
    }
    setBackend(saved);
  }
});

test('quantize: wasm byte for byte with the TypeScript reference (zeros, tiny, huge, NaN, Inf, ties, negative max)', () => {
  for (const n of [32 * 12, 4096, (1 << 18) + 96]) {
    const x = inputs(n, n);
    for (const [name, type] of QUANT_TYPES) {
      const want = quantizeReference(type, x);
      for (const [label, be] of backends) {
        setBackend(be);
        sameBytes(quantize(type, x), want, `${name} n=${n} on ${label}`);
      }
      setBackend(saved);
    }
  }
});

// 256-value super-blocks of edge cases for the K-quants (after inputs()'s 32-value ones, which become
// sub-blocks): zeros, constants, NaN/±Inf among normals, subnormals, tiny and huge magnitudes (d overflowing
// half), rounding ties, positive-only rows, zero or dwarfed sub-blocks beside normal ones (scales rounding to
// 0 under an infinite d: the reference's `if (!d)` on NaN), NaN first in a sub-block
function kInputs(n: number, seed: number): Float32Array {
  const x = inputs(n, seed), r = new Rng(seed + 1);
  const edge: ((j: number) => number)[] = [
    () => 0, () => -0, () => 1.5, () => -3, (j) => (j === 77 ? NaN : r.normal()), (j) => (j === 3 ? Infinity : j === 200 ? -Infinity : r.normal()),
    (j) => 1e-42 * (j - 128), (j) => 1e-30 * r.normal(), (j) => 3e38 * (j % 2 ? 1 : -1), (j) => 1e30 * r.normal(),
    (j) => (j % 16) - 8 + 0.5, (j) => j % 32, (j) => 0.5 * (j % 7) - 1.5, (j) => Math.abs(r.normal()) + 1,
    (j) => (j >> 5) % 2 ? 0 : r.normal(), (j) => (j >> 5 === 3 ? 1e6 * r.normal() : r.normal()), (j) => (j >> 4) % 3 ? r.normal() : 1e-20,
    (j) => (j >> 4 === 5 ? 7 : 0), (j) => 65504 * ((j % 9) - 4), (j) => (j === 0 ? 5.9e-8 : 0), (j) => (j % 2 ? NaN : 1),
    (j) => 2 ** -14 * ((j % 17) - 8), (j) => (j < 128 ? -1e-7 : 1e-7) * (j % 5), (j) => Math.fround(r.normal()) * 2 ** ((j % 40) - 20),
    (j) => (j >> 4 === 2 ? 1e12 * r.normal() : r.normal()), (j) => (j >> 5 === 6 ? -1e12 * (1 + (j % 3)) : 1e-3 * r.normal()),
    (j) => (j % 32 === 0 ? NaN : r.normal()), (j) => (j % 16 === 0 ? -Infinity : j % 16 === 1 ? Infinity : 0.25 * (j % 5)),
  ];
  const start = 512; // after inputs()'s 32-value edge blocks
  edge.forEach((f, b) => { for (let j = 0; j < 256; j++) if (start + 256 * b + j < n) x[start + 256 * b + j] = f(j); });
  return x;
}

test('quantize K-quants: wasm byte for byte with the TypeScript reference (zeros, constants, NaN, Inf, subnormals, huge, tiny, ties), across chunks', () => {
  for (const n of [256 * 32, (1 << 18) + 512]) {
    const x = kInputs(n, n);
    for (const [name, type] of K_TYPES) {
      const want = quantizeReference(type, x);
      for (const [label, be] of backends) {
        setBackend(be);
        sameBytes(quantize(type, x), want, `${name} n=${n} on ${label}`);
      }
      setBackend(saved);
    }
  }
});

test('quantize K-quants: wasm byte for byte with the reference on random rows at many scales', () => {
  const r = new Rng(11);
  for (let trial = 0; trial < 4; trial++) {
    const n = 256 * 64;
    const x = Float32Array.from({ length: n }, (_, i) => {
      const v = trial === 3 ? Math.round(r.normal() * 8) / 2 : r.normal() + (trial === 1 ? 0.3 : 0);
      return v * 2 ** (((i >> 8) % 60) - 30);
    });
    for (const [name, type] of K_TYPES) {
      const want = quantizeReference(type, x);
      setBackend(backends[0]![1]);
      try {
        sameBytes(quantize(type, x), want, `${name} trial ${trial}`);
      } finally {
        setBackend(saved);
      }
    }
  }
});

test('quantize: a partial block throws on the wasm backend', () => {
  const x = inputs(512, 3);
  setBackend(backends[0]![1]);
  try {
    assert.throws(() => quantize(GGMLType.Q8_0, x.subarray(0, 40)), /multiple of the block size/);
    assert.throws(() => quantize(GGMLType.Q4_K, x.subarray(0, 320)), /multiple of the block size/);
  } finally {
    setBackend(saved);
  }
});
