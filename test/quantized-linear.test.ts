import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuantizedLinear } from '../src/quant/quantized-linear.js';
import { GGMLType, dequantize, matVec, quantize } from '../src/quant/index.js';
import { Rng } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';
import { linear } from '../src/tensor/matmul.js';

function randn(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => r.normal());
}

const TYPES: [string, number][] = [
  ['Q8_0', GGMLType.Q8_0], ['Q4_0', GGMLType.Q4_0], ['Q4_1', GGMLType.Q4_1], ['Q5_0', GGMLType.Q5_0], ['Q5_1', GGMLType.Q5_1],
  ['Q4_K', GGMLType.Q4_K], ['Q5_K', GGMLType.Q5_K], ['Q6_K', GGMLType.Q6_K],
];

test('reference mode is llama.cpp mul_mat: one matVec per input row, plus the bias', () => {
  const Out = 12, In = 256, rows = 3;
  const w = randn(Out * In, 1), x = randn(rows * In, 2), b = randn(Out, 3);
  for (const [name, type] of TYPES) {
    const q = quantize(type, w);
    const layer = new QuantizedLinear(type, q, Out, In, b, 'reference');
    const y = layer.forward(new Tensor(x, [rows, In]));
    assert.deepEqual(y.shape, [rows, Out]);
    for (let r = 0; r < rows; r++) {
      const want = matVec(type, q, Out, In, x.subarray(r * In, (r + 1) * In));
      for (let o = 0; o < Out; o++) assert.equal(y.data[r * Out + o], Math.fround(want[o]! + b[o]!), `${name} row ${r} out ${o}`);
    }
  }
});

test('tiled mode: ≤ 4 rows (decoding) is the reference arithmetic bit for bit; more rows equal x · dequantize(W)ᵀ, across tiles', () => {
  const Out = 300, In = 512; // 300 rows of 512 > one 65536-float tile: several tiles, a partial last one
  const w = randn(Out * In, 4);
  for (const rows of [1, 3, 5]) {
    const x = randn(rows * In, 5 + rows);
    for (const [name, type] of TYPES) {
      const q = quantize(type, w);
      const layer = new QuantizedLinear(type, q, Out, In, null);
      const y = layer.forward(new Tensor(x, [1, rows, In]));
      assert.deepEqual(y.shape, [1, rows, Out]);
      if (rows <= 4) {
        const want = new QuantizedLinear(type, q, Out, In, null, 'reference').forward(new Tensor(x, [rows, In]));
        assert.deepEqual(y.data, want.data, `${name} rows=${rows}`);
        continue;
      }
      const want = linear(new Tensor(x, [rows, In]), new Tensor(dequantize(type, q, Out * In), [Out, In]));
      for (let i = 0; i < want.data.length; i++) assert.ok(Math.abs(y.data[i]! - want.data[i]!) < 1e-3 * (1 + Math.abs(want.data[i]!)), `${name} rows=${rows} [${i}]`);
    }
  }
});

test('reference and tiled agree to the activation rounding; both near the float32 product', () => {
  const Out = 16, In = 512;
  const w = randn(Out * In, 6), x = randn(In, 7);
  const exact = linear(new Tensor(x, [1, In]), new Tensor(w, [Out, In]));
  for (const [name, type] of TYPES) {
    const q = quantize(type, w);
    const a = new QuantizedLinear(type, q, Out, In, null, 'reference').forward(new Tensor(x, [1, In]));
    const b = new QuantizedLinear(type, q, Out, In, null, 'tiled').forward(new Tensor(x, [1, In]));
    const bound = name.startsWith('Q4') ? 4 : name.startsWith('Q5') ? 2.5 : 1.5; // |x·w| ~ sqrt(512) ≈ 22.6
    for (let o = 0; o < Out; o++) {
      assert.ok(Math.abs(a.data[o]! - b.data[o]!) < 0.5, `${name}: reference ${a.data[o]} vs tiled ${b.data[o]}`);
      assert.ok(Math.abs(b.data[o]! - exact.data[o]!) < bound, `${name}: tiled ${b.data[o]} vs float ${exact.data[o]}`);
    }
  }
});

test('bad shapes and types are refused with one line', () => {
  assert.throws(() => new QuantizedLinear(GGMLType.F16, new Uint8Array(64), 1, 32), /F16 is not supported/);
  assert.throws(() => new QuantizedLinear(GGMLType.Q8_0, new Uint8Array(33), 1, 32), /needs 34 bytes, got 33/);
  assert.throws(() => new QuantizedLinear(GGMLType.Q4_K, new Uint8Array(144), 1, 100), /not a whole number/);
  const l = new QuantizedLinear(GGMLType.Q8_0, new Uint8Array(34), 1, 32, null);
  assert.throws(() => l.forward(new Tensor(new Float32Array(16), [1, 16])), /does not fit a weight of \[1, 32\]/);
});
