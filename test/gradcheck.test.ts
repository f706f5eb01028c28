// Every differentiable op against central finite differences (float32, so tolerances are loose-ish:
// eps 1e-2, |Δ| ≤ 2e-3 + 2e-2·|g|). Runs on the JS reference backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setBackend } from '../src/backend/backend.js';
import { JsBackend } from '../src/backend/js.js';
import * as T from '../src/tensor/index.js';
import { Tensor, Rng } from '../src/tensor/index.js';
import { gradcheck } from './helpers/gradcheck.js';

setBackend(new JsBackend());
const rng = new Rng(7);
const r = (...shape: number[]): Tensor => Tensor.randn(shape, rng);
// inputs kept away from kinks (relu at 0, max ties) so finite differences are valid
const away = (...shape: number[]): Tensor => {
  const t = r(...shape);
  for (let i = 0; i < t.size; i++) t.data[i] = (t.data[i] >= 0 ? 0.1 : -0.1) + t.data[i];
  return t;
};

test('broadcast binary ops', () => {
  gradcheck('add', T.add, [r(2, 3, 4), r(4)]);
  gradcheck('sub', T.sub, [r(2, 1, 4), r(3, 1)]);
  gradcheck('mul', T.mul, [r(3, 4), r(2, 3, 4)]);
  const pos = T.add(T.mul(T.exp(r(3, 4)), 1), 0.5).detach();
  gradcheck('div', T.div, [r(3, 4), pos]);
  gradcheck('maximum', T.maximum, [away(3, 4), away(3, 4)]);
});

test('unary ops and activations', () => {
  const pos = T.add(T.exp(r(3, 5)), 0.5).detach();
  gradcheck('neg', T.neg, [r(3, 5)]);
  gradcheck('exp', T.exp, [r(3, 5)]);
  gradcheck('log', T.log, [pos]);
  gradcheck('sqrt', T.sqrt, [pos]);
  gradcheck('pow', (x) => T.pow(x, 3), [r(3, 5)]);
  gradcheck('tanh', T.tanh, [r(3, 5)]);
  gradcheck('sigmoid', T.sigmoid, [r(3, 5)]);
  gradcheck('relu', T.relu, [away(3, 5)]);
  gradcheck('leakyRelu', (x) => T.leakyRelu(x, 0.1), [away(3, 5)]);
  gradcheck('elu', (x) => T.elu(x, 1.0), [away(3, 5)]);
  gradcheck('gelu', T.gelu, [r(4, 7)]);
  gradcheck('maxout', (x) => T.maxout(x, 3), [away(2, 9)]);
  gradcheck('dropout', (x) => T.dropout(x, 0.3, true, new Rng(3)), [r(4, 6)]);
});

test('reductions and shape ops', () => {
  gradcheck('sum all', (x) => T.sum(x), [r(3, 4)]);
  gradcheck('sum axis', (x) => T.sum(x, 1, true), [r(2, 3, 4)]);
  gradcheck('mean axis', (x) => T.mean(x, -1), [r(2, 3, 4)]);
  gradcheck('max axis', (x) => T.max(x, 1), [r(2, 5, 3)]);
  gradcheck('reshape', (x) => T.reshape(x, [4, -1]), [r(2, 3, 4)]);
  gradcheck('permute', (x) => T.permute(x, [2, 0, 1]), [r(2, 3, 4)]);
  gradcheck('transpose', (x) => T.transpose(x, 0, 2), [r(2, 3, 4)]);
  gradcheck('slice', (x) => T.slice(x, 1, 1, 3), [r(2, 4, 3)]);
  gradcheck('concat', (a, b) => T.concat([a, b], 1), [r(2, 3, 2), r(2, 1, 2)]);
  gradcheck('gather', (w) => T.gather(w, [3, 0, 3, 2], [2, 2]), [r(5, 3)]);
});

test('matmul: plain, batched, broadcast, transposed', () => {
  gradcheck('matmul 2d', (a, b) => T.matmul(a, b), [r(3, 5), r(5, 4)]);
  gradcheck('matmul batched', (a, b) => T.matmul(a, b), [r(2, 3, 5), r(2, 5, 4)]);
  gradcheck('matmul shared b', (a, b) => T.matmul(a, b), [r(2, 3, 5), r(5, 4)]);
  gradcheck('matmul shared a', (a, b) => T.matmul(a, b), [r(3, 5), r(2, 5, 4)]);
  gradcheck('matmul transB', (a, b) => T.matmul(a, b, true), [r(2, 3, 5), r(2, 4, 5)]);
  gradcheck('matmul shared transB', (a, b) => T.matmul(a, b, true), [r(2, 3, 5), r(4, 5)]);
  gradcheck('linear', (x, w, b) => T.linear(x, w, b), [r(2, 3, 5), r(4, 5), r(4)]);
  gradcheck('linear no bias', (x, w) => T.linear(x, w), [r(3, 5), r(4, 5)]);
});

test('softmax, log-softmax, cross-entropy, layer norm, attention', () => {
  gradcheck('softmax', T.softmax, [r(3, 6)]);
  gradcheck('logSoftmax', T.logSoftmax, [r(3, 6)]);
  gradcheck('crossEntropy', (x) => T.crossEntropy(x, [2, -1, 0, 5], -1), [r(4, 6)]);
  gradcheck('crossEntropy weighted', (x) => T.crossEntropy(x, [2, 1, 0, 5], -1, new Float32Array([1, 0, 1, 1])), [r(4, 6)]);
  gradcheck('layerNorm', (x, w, b) => T.layerNorm(x, w, b), [r(3, 8), r(8), r(8)]);
  gradcheck('layerNorm no affine', (x) => T.layerNorm(x, null, null), [r(3, 8)]);
  gradcheck('causalAttention', (q, k, v) => T.causalAttention(q, k, v), [r(2, 2, 5, 4), r(2, 2, 5, 4), r(2, 2, 5, 4)]);
  gradcheck('causalAttention with cache offset', (q, k, v) => T.causalAttention(q, k, v), [r(1, 2, 2, 4), r(1, 2, 5, 4), r(1, 2, 5, 4)]);
  gradcheck('causalSelfAttention (fused from qkv)', (qkv) => T.causalSelfAttention(qkv, 2), [r(2, 5, 12)]);
});

test('causalSelfAttention equals split heads → causalAttention → merge heads, forward and backward', () => {
  const qkv = r(2, 6, 18);
  qkv.requiresGrad = true;
  const fused = T.causalSelfAttention(qkv, 3);
  const g = Float32Array.from({ length: fused.size }, (_, i) => Math.sin(i));
  fused.backward(g);
  const gFused = qkv.grad!.slice();
  qkv.zeroGrad();
  const parts = [0, 1, 2].map((p) => T.splitHeads(qkv, p, 3, 3));
  const unfused = T.mergeHeads(T.causalAttention(parts[0], parts[1], parts[2]));
  unfused.backward(g);
  for (let i = 0; i < fused.size; i++) assert.ok(Math.abs(fused.data[i] - unfused.data[i]) < 1e-6, `y[${i}]`);
  for (let i = 0; i < gFused.length; i++) assert.ok(Math.abs(gFused[i] - qkv.grad![i]) < 1e-5, `dqkv[${i}]`);
});

test('fused head split/merge', () => {
  gradcheck('splitHeads', (x) => T.splitHeads(x, 1, 3, 2), [r(2, 3, 12)]);
  gradcheck('mergeHeads', (y) => T.mergeHeads(y), [r(2, 2, 3, 4)]);
  gradcheck('add suffix broadcast (b first)', (a, b) => T.add(a, b), [r(3, 4), r(2, 3, 4)]);
});

test('attention with left padding (keyStart)', () => {
  gradcheck('causalAttention keyStart', (q, k, v) => T.causalAttention(q, k, v, Int32Array.from([0, 2])), [r(2, 2, 4, 3), r(2, 2, 4, 3), r(2, 2, 4, 3)]);
});

test('gradient hand-over: a tensor added to itself, reshaped and reused', () => {
  gradcheck('x + x', (x) => T.add(x, x), [r(3, 4)]);
  gradcheck('reshape then add to the original', (x) => T.add(T.reshape(T.reshape(x, [12]), [3, 4]), x), [r(3, 4)]);
  gradcheck('residual chain', (x, w) => {
    const h = T.add(x, T.linear(x, w));
    return T.add(h, T.linear(h, w));
  }, [r(2, 4), r(4, 4)]);
});
