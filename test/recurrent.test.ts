// Recurrent layers against PyTorch and against themselves. scripts/fixtures/make_rnn_fixture.py (torch 2.13)
// wrote, per configuration of nn.RNN / LSTM / GRU, the weights, inputs, outputs, final states and the
// gradients of a scalar loss w.r.t. inputs, initial states and every parameter (test/fixtures/recurrent/).
// We load the state dict into our module and must agree: outputs and states |Δ| ≤ 1e-5, gradients
// |Δ| ≤ 1e-5 + 1e-3·|g| — with the fused layers (js and wasm backends) and with the composed reference cells.
// The fused layers are also checked against the composed cells and against finite differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { readSafetensors, toFloat32 } from '../src/formats/safetensors.js';
import { Tensor, noGrad, Rng, mul, sum, add, concat, reshape } from '../src/tensor/index.js';
import { gruLayer, lstmLayer, rnnLayer, type LayerOutput } from '../src/tensor/rnn-layers.js';
import { linear } from '../src/tensor/matmul.js';
import { gruCellRef, lstmCellRef, rnnCellRef } from '../src/nn/recurrent-ref.js';
import { GRU, LSTM, RNN } from '../src/nn/recurrent.js';
import { initBackend } from '../src/backend/index.node.js';
import { gradcheck } from './helpers/gradcheck.js';

const DIR = new URL('../../test/fixtures/recurrent/', import.meta.url);

interface Config {
  kind: 'RNN' | 'LSTM' | 'GRU'; input_size: number; hidden_size: number; num_layers: number; bias: boolean;
  batch_first: boolean; bidirectional: boolean; nonlinearity: 'tanh' | 'relu' | null; h0: boolean; c0: boolean;
}

interface Fixture {
  cfg: Config;
  t: Map<string, { shape: number[]; data: Float32Array }>;
  params: Map<string, { shape: number[]; data: Float32Array }>;
}

function load(file: string): Fixture {
  const f = readSafetensors(new Uint8Array(fs.readFileSync(new URL(file, DIR))), file);
  const t = new Map<string, { shape: number[]; data: Float32Array }>();
  const params = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, e] of f.tensors) {
    const v = { shape: e.shape, data: toFloat32(e) };
    if (k.startsWith('param.')) params.set(k.slice(6), v);
    else t.set(k, v);
  }
  return { cfg: JSON.parse(f.metadata.config) as Config, t, params };
}

function close(name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): number {
  assert.equal(got.length, want.length, `${name}: length`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    worst = Math.max(worst, d);
    if (!(d <= atol + rtol * Math.abs(want[i]))) assert.fail(`${name}[${i}]: got ${got[i]}, PyTorch ${want[i]} (|Δ| ${d.toExponential(2)})`);
  }
  return worst;
}

function build(c: Config, fused: boolean): RNN | LSTM | GRU {
  const opts = { numLayers: c.num_layers, bias: c.bias, batchFirst: c.batch_first, bidirectional: c.bidirectional, fused };
  if (c.kind === 'RNN') return new RNN(c.input_size, c.hidden_size, { ...opts, nonlinearity: c.nonlinearity ?? 'tanh' });
  return c.kind === 'LSTM' ? new LSTM(c.input_size, c.hidden_size, opts) : new GRU(c.input_size, c.hidden_size, opts);
}

const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.safetensors')).sort();
const runs = [['js', true], ['js', false], ['wasm', true]] as const;

for (const [backendName, fused] of runs) {
  test(`recurrent layers match PyTorch (${backendName}, ${fused ? 'fused' : 'composed'} cells)`, async () => {
    await initBackend({ backend: backendName, threads: 1 });
    let worstOut = 0, worstGrad = 0;
    for (const file of files) {
      const fx = load(file);
      const m = build(fx.cfg, fused);
      m.loadStateDict(fx.params, file);
      const get = (k: string): Tensor | undefined => {
        const v = fx.t.get(k);
        return v && new Tensor(v.data.slice(), v.shape.slice(), true);
      };
      const x = get('x')!, h0 = get('h0'), c0 = get('c0');
      const r: { output: Tensor; h: Tensor; c?: Tensor } = m instanceof LSTM ? m.forward(x, h0, c0) : m.forward(x, h0);
      const outs: [string, Tensor][] = [['output', r.output], ['h_n', r.h]];
      if (r.c) outs.push(['c_n', r.c]);
      let loss: Tensor | null = null;
      for (const [k, v] of outs) {
        const want = fx.t.get(k)!;
        assert.deepEqual(v.shape, want.shape, `${file}: ${k} shape`);
        worstOut = Math.max(worstOut, close(`${file}: ${k}`, v.data, want.data, 1e-5, 0));
        const term = sum(mul(v, get(`w_${k}`)!));
        loss = loss ? add(loss, term) : term;
      }
      loss!.backward();
      const grads: [string, Float32Array | null][] = [['x', x.grad], ['h0', h0?.grad ?? null], ['c0', c0?.grad ?? null]];
      for (const [k, g] of grads) {
        const want = fx.t.get(`grad_${k}`);
        if (want) worstGrad = Math.max(worstGrad, close(`${file}: grad ${k}`, g!, want.data, 1e-5, 1e-3));
      }
      for (const [name, p] of m.namedParameters()) {
        const want = fx.t.get(`grad.${name}`);
        assert.ok(want, `${file}: no gradient for ${name}`);
        worstGrad = Math.max(worstGrad, close(`${file}: grad ${name}`, p.grad!, want.data, 1e-5, 1e-3));
      }
    }
    console.log(`# ${backendName} ${fused ? 'fused' : 'composed'}: ${files.length} configurations, max |Δ| outputs/states ${worstOut.toExponential(2)}, gradients ${worstGrad.toExponential(2)}`);
  });
}

test('the notes: nn.RNN(32, 64) on an unbatched (4, 32) input gives a (4, 64) output and a (1, 64) state', async () => {
  await initBackend({ backend: 'js' });
  const rnn = new RNN(32, 64, { rng: new Rng(1) });
  const { output, h } = rnn.forward(Tensor.randn([4, 32], new Rng(2)));
  assert.deepEqual(output.shape, [4, 64]);
  assert.deepEqual(h.shape, [1, 64]);
  assert.deepEqual(Array.from(h.data), Array.from(output.data.subarray(3 * 64)));
});

test('parameter names, shapes, order and the U(−1/√H, 1/√H) initialisation are PyTorch\'s', () => {
  const lstm = new LSTM(3, 16, { numLayers: 2, bidirectional: true, rng: new Rng(5) });
  const got = lstm.namedParameters().map(([n, p]) => `${n}:${p.shape.join('x')}`);
  const names: string[] = [];
  for (const l of [0, 1])
    for (const s of ['', '_reverse']) {
      const I = l === 0 ? 3 : 32;
      names.push(`weight_ih_l${l}${s}:64x${I}`, `weight_hh_l${l}${s}:64x16`, `bias_ih_l${l}${s}:64`, `bias_hh_l${l}${s}:64`);
    }
  assert.deepEqual(got, names);
  const all = lstm.parameters().flatMap((p) => Array.from(p.data));
  assert.ok(all.every((v) => Math.abs(v) <= 0.25), 'within 1/√16');
  assert.ok(Math.max(...all) > 0.24 && Math.min(...all) < -0.24, 'spans the range');
  assert.deepEqual(new GRU(2, 3, { bias: false }).namedParameters().map(([n]) => n), ['weight_ih_l0', 'weight_hh_l0']);
});

test('bad input gets one line naming the field', () => {
  assert.throws(() => new RNN(0, 4), /inputSize must be a positive integer/);
  assert.throws(() => new LSTM(3, 4, { numLayers: 1.5 }), /numLayers must be a positive integer/);
  assert.throws(() => new GRU(3, 4, { dropout: 1 }), /dropout must be in \[0, 1\)/);
  assert.throws(() => new RNN(3, 4, { nonlinearity: 'gelu' as 'tanh' }), /nonlinearity must be/);
  const lstm = new LSTM(3, 4, { numLayers: 2 });
  assert.throws(() => lstm.forward(Tensor.zeros([5, 2, 2])), /input must be/);
  assert.throws(() => lstm.forward(Tensor.zeros([5, 2, 3]), Tensor.zeros([1, 2, 4]), Tensor.zeros([2, 2, 4])), /h0 must be \[2,2,4\]/);
  assert.throws(() => lstm.forward(Tensor.zeros([5, 3]), Tensor.zeros([2, 4]), Tensor.zeros([2, 2, 4])), /c0 must be \[2,4\]/);
  assert.throws(() => lstm.forward(Tensor.zeros([5, 3]), undefined, Tensor.zeros([2, 4])), /give h0 and c0 together, or neither \(got c0 alone\)/);
  assert.throws(() => lstm.forward(Tensor.zeros([5, 3]), Tensor.zeros([2, 4])), /got h0 alone/);
  // a c0 from plain JavaScript is refused, not dropped; an empty batch is refused
  const untyped = (m: unknown, ...a: unknown[]): unknown => (m as { forward: (...b: unknown[]) => unknown }).forward(...a);
  assert.throws(() => untyped(new GRU(3, 4), Tensor.zeros([5, 3]), Tensor.zeros([1, 4]), Tensor.zeros([1, 4])), /GRU\.forward takes \(x, h0\): c0 is only for an LSTM/);
  assert.throws(() => untyped(new RNN(3, 4), Tensor.zeros([5, 3]), undefined, Tensor.zeros([1, 4])), /RNN\.forward takes \(x, h0\)/);
  assert.throws(() => new GRU(3, 4).forward(Tensor.zeros([5, 0, 3])), /input must have a batch of at least one sequence/);
});

// ---- the fused layers ------------------------------------------------------------------------------------

const T = 3, B = 2, H = 3;
const rnd = (shape: number[], seed: number, scale = 1): Tensor => Tensor.randn(shape, new Rng(seed), scale, 0, true);
/** a layer's outputs side by side, so one gradient check covers out, h and c */
const flat = (ts: Tensor[]): Tensor => concat(ts.map((t) => reshape(t, [-1])), 0);

type Kind = 'rnn tanh' | 'rnn relu' | 'lstm' | 'gru';
const gatesOf = (k: Kind): number => (k === 'lstm' ? 4 : k === 'gru' ? 3 : 1);

/** the fused layer op of `kind` */
function fusedLayer(kind: Kind, xp: Tensor, wHh: Tensor, bHh: Tensor | null, h0: Tensor | null, c0: Tensor | null, reverse: boolean): LayerOutput {
  if (kind === 'lstm') return lstmLayer(xp, wHh, bHh, h0, c0, reverse);
  if (kind === 'gru') return gruLayer(xp, wHh, bHh, h0, reverse);
  return rnnLayer(xp, wHh, bHh, h0, kind === 'rnn relu' ? 'relu' : 'tanh', reverse);
}

/** the same recurrence stepped with the composed reference cells */
function composedLayer(kind: Kind, xp: Tensor, wHh: Tensor, bHh: Tensor | null, h0: Tensor | null, c0: Tensor | null, reverse: boolean): LayerOutput {
  const [Tn, Bn] = xp.shape, Hn = wHh.shape[1];
  let h = h0 ?? Tensor.zeros([Bn, Hn]), c = c0 ?? Tensor.zeros([Bn, Hn]);
  const hs = new Array<Tensor>(Tn);
  for (let s = 0; s < Tn; s++) {
    const t = reverse ? Tn - 1 - s : s;
    const hg = linear(h, wHh, bHh);
    if (kind === 'lstm') ({ h, c } = lstmCellRef(xp, t, hg, c) as { h: Tensor; c: Tensor });
    else h = kind === 'gru' ? gruCellRef(xp, t, hg, h) : rnnCellRef(xp, t, hg, kind === 'rnn relu' ? 'relu' : 'tanh');
    hs[t] = reshape(h, [1, Bn, Hn]);
  }
  return { out: concat(hs, 0), h, c: kind === 'lstm' ? c : undefined };
}

const outputsOf = (r: LayerOutput): Tensor[] => (r.c ? [r.out, r.h, r.c] : [r.out, r.h]);

for (const kind of ['rnn tanh', 'rnn relu', 'lstm', 'gru'] as Kind[]) {
  const G = gatesOf(kind);
  for (const [reverse, states, bias] of [[false, false, true], [true, true, true], [false, true, false]] as const) {
    const what = `${kind}${reverse ? ', reversed' : ''}${states ? ', given states' : ''}${bias ? '' : ', no bias'}`;
    const inputs = (seed: number): [Tensor, Tensor, Tensor | null, Tensor | null, Tensor | null] => [
      rnd([T, B, G * H], seed), rnd([G * H, H], seed + 1, 0.5), bias ? rnd([G * H], seed + 2) : null,
      states ? rnd([B, H], seed + 3) : null, states && kind === 'lstm' ? rnd([B, H], seed + 4) : null,
    ];

    test(`fused ${what} layer equals the composed cells, forward and backward`, () => {
      const runs = [fusedLayer, composedLayer].map((layer) => {
        const args = inputs(1);
        const out = flat(outputsOf(layer(kind, ...args, reverse)));
        sum(mul(out, rnd(out.shape, 9))).backward();
        return { out: out.data, grads: args.map((a) => a?.grad ?? new Float32Array(0)) };
      });
      close(`${what} outputs`, runs[0].out, runs[1].out, 1e-6, 1e-6);
      ['xp', 'wHh', 'bHh', 'h0', 'c0'].forEach((k, i) => close(`${what} grad ${k}`, runs[0].grads[i], runs[1].grads[i], 1e-6, 1e-5));
    });

    test(`fused ${what} layer passes the finite-difference check`, () => {
      const args = inputs(5);
      const given = args.filter((a): a is Tensor => a !== null);
      gradcheck(`fused ${what}`, (...ts: Tensor[]) => {
        let k = 0;
        const pick = (a: Tensor | null): Tensor | null => (a === null ? null : ts[k++]);
        const [xp, w, b, h0, c0] = args.map(pick);
        return flat(outputsOf(fusedLayer(kind, xp!, w!, b, h0, c0, reverse)));
      }, given);
    });
  }
}

test('fused RNN and LSTM layers take b_ih apart from xp: the same numbers, and b_ih gets b_hh\'s gradient', () => {
  for (const kind of ['rnn tanh', 'lstm'] as Kind[]) {
    const G = gatesOf(kind);
    const runs = [true, false].map((fold) => {
      const xp = rnd([T, B, G * H], 30), w = rnd([G * H, H], 31, 0.5), bHh = rnd([G * H], 32), bIh = rnd([G * H], 33);
      const r = fold
        ? (kind === 'lstm' ? lstmLayer(xp, w, bHh, null, null, false, bIh) : rnnLayer(xp, w, bHh, null, 'tanh', false, bIh))
        : composedLayer(kind, add(xp, bIh), w, bHh, null, null, false);
      const out = flat(outputsOf(r));
      sum(mul(out, rnd(out.shape, 34))).backward();
      return [out.data, xp.grad!, w.grad!, bHh.grad!, bIh.grad!];
    });
    runs[0].forEach((g, i) => close(`${kind} folded b_ih, array ${i}`, g, runs[1][i], 1e-6, 1e-5));
  }
});

test('fused LSTM: a loss on the last c alone reaches the whole sequence', () => {
  const xp = rnd([T, B, 4 * H], 20), w = rnd([4 * H, H], 21, 0.5);
  sum(lstmLayer(xp, w, null, null, null).c!).backward();
  assert.ok(xp.grad!.some((v) => v !== 0) && w.grad!.some((v) => v !== 0));
});

test('fused layers reject shapes that do not fit, naming the argument', () => {
  const xp = rnd([T, B, 4 * H], 22), w = rnd([4 * H, H], 23);
  assert.throws(() => lstmLayer(xp, rnd([3 * H, H], 24), null, null, null), /lstmLayer: wHh must be \(4·H, H\), got \[9,3\]/);
  assert.throws(() => lstmLayer(xp, w, rnd([5], 25), null, null), /bHh must be \(12\)/);
  assert.throws(() => lstmLayer(xp, w, null, rnd([B + 1, H], 26), null), /h0 must be \(2, 3\)/);
  assert.throws(() => gruLayer(xp, w, null, null), /gruLayer: wHh must be \(3·H, H\), got \[12,3\]/);
  assert.throws(() => rnnLayer(rnd([T, B, H], 27), rnd([H, H], 28), null, null, 'sigmoid' as 'tanh'), /nonlinearity/);
});

test('modules run without a graph under noGrad, and eval gives the same numbers as training without dropout', () => {
  const gru = new GRU(3, 4, { numLayers: 2, rng: new Rng(3) });
  const x = rnd([5, 2, 3], 13);
  const a = noGrad(() => gru.forward(x));
  assert.equal(a.output.requiresGrad, false);
  const b = gru.eval().forward(x);
  assert.deepEqual(Array.from(a.output.data), Array.from(b.output.data));
});

test('dropout between layers acts in training only', () => {
  const a = new LSTM(3, 4, { numLayers: 2, dropout: 0.5, rng: new Rng(7) });
  const b = new LSTM(3, 4, { numLayers: 2, rng: new Rng(8) });
  b.loadStateDict(a.stateDict());
  const x = rnd([4, 2, 3], 14);
  const train = a.forward(x).output.data, evalOut = a.eval().forward(x).output.data, plain = b.forward(x).output.data;
  assert.deepEqual(Array.from(evalOut), Array.from(plain));
  assert.notDeepEqual(Array.from(train), Array.from(plain));
});

test('a GRU learns to add up its input sequence (Adam, 40 steps)', async () => {
  await initBackend({ backend: 'js' });
  const { createOptimizer } = await import('../src/optim/registry.js');
  const { linear } = await import('../src/tensor/matmul.js');
  const { sub, slice: sliceOp } = await import('../src/tensor/index.js');
  const rng = new Rng(21);
  const gru = new GRU(1, 8, { batchFirst: true, rng });
  const head = Tensor.randn([1, 8], rng, 0.3, 0, true);
  const opt = createOptimizer('adam', [{ params: [...gru.parameters(), head], weightDecay: 0 }], { lr: 0.03 });
  const x = Tensor.rand([16, 5, 1], new Rng(22), -0.5, 0.5);
  const y = new Tensor(new Float32Array(16).map((_, b) => x.data.subarray(b * 5, b * 5 + 5).reduce((s, v) => s + v, 0)), [16, 1]);
  const lossAt = (): Tensor => {
    const last = reshape(sliceOp(gru.forward(x).output, 1, 4, 5), [16, 8]);
    const d = sub(linear(last, head), y);
    return mul(sum(mul(d, d)), 1 / 16);
  };
  const first = lossAt().item();
  for (let s = 0; s < 40; s++) {
    opt.zeroGrad();
    lossAt().backward();
    opt.update(0.03);
  }
  const last = noGrad(lossAt).item();
  console.log(`# GRU sum task: loss ${first.toFixed(4)} → ${last.toFixed(4)}`);
  assert.ok(last < first / 4, `loss ${first} → ${last}`);
});
