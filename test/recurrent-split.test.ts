// The blas backend's split recurrent pass (BlasBackend.runRecurrent: batch rows and product columns shared by
// the main thread and a worker, with barriers) against the reference loop on the js backend: outputs, final
// states and every gradient of RNN (tanh, relu), LSTM and GRU layers, forward and reversed (bidirectional),
// with and without initial states, at an odd batch and a hidden size that is not a multiple of 16.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../src/backend/index.node.js';
import { blasUnavailableReason, type BlasBackend } from '../src/backend/blas.node.js';
import { stepScope } from '../src/backend/storage.js';
import { spinBarrier } from '../src/backend/recurrent-pass.js';
import { GRU, LSTM, RNN } from '../src/nn/recurrent.js';
import { Rng, Tensor, add, mul, sum } from '../src/tensor/index.js';

const reason = blasUnavailableReason();
const skip = reason === null ? false : `blas backend unavailable: ${reason.split('\n')[0]}`;

type Kind = 'rnn-tanh' | 'rnn-relu' | 'lstm' | 'gru';
const T = 5, B = 9, I = 6, H = 20;

/** forward + backward of a 2-layer bidirectional module; returns outputs, states and all gradients, flat */
function run(kind: Kind, withStates: boolean): Float32Array[] {
  const opts = { numLayers: 2, bidirectional: true, rng: new Rng(3) };
  const m = kind === 'lstm' ? new LSTM(I, H, opts) : kind === 'gru' ? new GRU(I, H, opts)
    : new RNN(I, H, { ...opts, nonlinearity: kind === 'rnn-relu' ? 'relu' : 'tanh' });
  m.toStorage();
  const rng = new Rng(4);
  const x = Tensor.randn([T, B, I], rng, 1, 0, true);
  const h0 = withStates ? Tensor.randn([4, B, H], rng, 0.5, 0, true) : undefined;
  const c0 = withStates && kind === 'lstm' ? Tensor.randn([4, B, H], rng, 0.5, 0, true) : undefined;
  return stepScope(() => {
    const r = m instanceof LSTM ? m.forward(x, h0, c0) : m.forward(x, h0);
    const outs = [r.output, r.h, ...('c' in r && r.c ? [r.c as Tensor] : [])];
    const w = outs.map((o, k) => Tensor.randn(o.shape, new Rng(10 + k)));
    outs.map((o, k) => sum(mul(o, w[k]))).reduce((a, b) => add(a, b)).backward();
    const grads = [x, h0, c0, ...m.parameters()].filter((t): t is Tensor => t !== undefined).map((t) => Float32Array.from(t.grad!));
    return [...outs.map((o) => Float32Array.from(o.data)), ...grads];
  });
}

for (const kind of ['rnn-tanh', 'rnn-relu', 'lstm', 'gru'] as Kind[]) {
  for (const withStates of [false, true]) {
    test(`split ${kind} pass${withStates ? ' from given states' : ''} equals the reference loop`, { skip }, async () => {
      await initBackend({ backend: 'js' });
      const want = run(kind, withStates);
      const be = (await initBackend({ backend: 'blas', threads: 2 })) as BlasBackend;
      be.minRecurrentRows = 2;
      const before = be.splitPasses;
      const got = run(kind, withStates);
      assert.equal(be.splitPasses - before, 8, 'every pass (2 layers × 2 directions, forward and back) ran split');
      assert.equal(got.length, want.length);
      got.forEach((g, i) => {
        for (let k = 0; k < g.length; k++) {
          const d = Math.abs(g[k] - want[i][k]);
          if (!(d <= 1e-5 + 1e-4 * Math.abs(want[i][k]))) assert.fail(`array ${i}[${k}]: split ${g[k]}, reference ${want[i][k]}`);
        }
      });
    });
  }
}

test('a split pass whose partner thread failed throws at the next barrier instead of waiting forever', () => {
  const ctrl = new Int32Array(new SharedArrayBuffer(64));
  const sync = spinBarrier(ctrl, 0, [1], 2);
  Atomics.store(ctrl, 0, 1); // the partner arrived once: the first barrier passes
  sync();
  Atomics.store(ctrl, 1, 1); // then it failed: the second barrier must not wait for it
  assert.throws(() => sync(), /recurrent pass: another thread failed/);
});
