import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Embedding, Linear } from '../src/nn/layers.js';
import { withoutWeights, weightsSkipped } from '../src/nn/skip-init.js';
import { GPT } from '../src/models/gpt.js';
import { Rng } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';

test('withoutWeights: Linear layers are placeholders with no parameters, embeddings zeros', () => {
  assert.equal(weightsSkipped(), false);
  const [lin, emb] = withoutWeights(() => {
    assert.equal(weightsSkipped(), true);
    return [new Linear(8, 4, true, new Rng(1)), new Embedding(5, 3, new Rng(1))] as const;
  });
  assert.equal(weightsSkipped(), false);
  assert.ok(lin.isPlaceholder);
  assert.deepEqual(lin.namedParameters(), []);
  assert.equal(lin.weight.size, 0);
  assert.ok(emb.weight.data.every((v) => v === 0));
  assert.throws(() => lin.forward(new Tensor(new Float32Array(8), [1, 8])), /Linear \[4, 8\]: its weights were never loaded/);
  assert.throws(() => withoutWeights(() => { throw new Error('inner'); }), /inner/);
  assert.equal(weightsSkipped(), false, 'the scope ends when fn throws');
});

test('Linear.materialize registers weight and bias as a normal construction does, once', () => {
  const normal = new Linear(3, 2, true, new Rng(1));
  const lin = withoutWeights(() => new Linear(3, 2, true, new Rng(1)));
  const w = Float32Array.from([1, 2, 3, 4, 5, 6]);
  lin.materialize(w, null);
  assert.deepEqual(lin.namedParameters().map(([n, p]) => [n, p.shape]), normal.namedParameters().map(([n, p]) => [n, p.shape]));
  assert.deepEqual(Array.from(lin.forward(new Tensor(Float32Array.from([1, 0, 1]), [1, 3])).data), [4, 10]); // zero bias
  assert.throws(() => lin.materialize(w, null), /already has its weights/);
  const noBias = withoutWeights(() => new Linear(3, 2, false, new Rng(1)));
  assert.throws(() => noBias.materialize(new Float32Array(5), null), /5 weights for \[2, 3\]/);
  assert.throws(() => noBias.materialize(w, new Float32Array(2)), /declared without bias/);
});

test('a GPT built withoutWeights allocates only embeddings and norms, and draws no random numbers', () => {
  const cfg = { vocabSize: 50, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32, dropout: 0, bias: true };
  const m = withoutWeights(() => new GPT(cfg, 7));
  const sizes = m.namedParameters().map(([n, p]) => [n, p.size] as const);
  assert.ok(sizes.every(([n]) => !/c_attn|c_proj|c_fc/.test(n)), sizes.map(([n]) => n).join(' '));
  assert.equal(m.numParameters(), 50 * 32 + 16 * 32 + 2 * 2 * 2 * 32 + 2 * 32);
  assert.equal(m.rng.random(), new Rng(7).random(), 'nothing was drawn from the model\'s generator');
});
