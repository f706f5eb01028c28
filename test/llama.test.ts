// LLaMA: its new ops against finite differences, the model against transformers' LlamaForCausalLM
// (fixtures by scripts/fixtures/make_llama_fixture.py: logits |Δ| ≤ 2e-5, loss |Δ| ≤ 1e-5, gradients
// |Δ| ≤ 1e-5 + 1e-3·|g|, on the JS reference, WebAssembly and BLAS backends; a left-padded batch as
// transformers runs it with attention_mask and position_ids; greedy ids equal to its generate()), the KV
// cache (greedy output identical with and without it, past the block size), left-padded batches (each row as
// alone), the config's validation, presets and parameter count. Python is not needed to run this.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { setBackend } from '../src/backend/backend.js';
import { JsBackend } from '../src/backend/js.js';
import { initBackend } from '../src/backend/index.node.js';
import { readSafetensors, toFloat32 } from '../src/formats/safetensors.js';
import { Tensor, Rng, noGrad } from '../src/tensor/index.js';
import { rmsNorm } from '../src/tensor/rmsnorm.js';
import { rope, ropeHeads, ropeInvFreq, ropePositions } from '../src/tensor/rope.js';
import { splitHeads } from '../src/tensor/shape.js';
import { silu, swiglu } from '../src/tensor/silu.js';
import { repeatKv } from '../src/tensor/repeat-kv.js';
import { causalAttention } from '../src/tensor/nnops.js';
import { Llama, LLAMA_PRESETS, LLAMA_7B, llamaParamCount, swigluHidden, type LlamaConfig } from '../src/models/llama.js';
import { generateIds } from '../src/generate/generate.js';
import { generateBatch } from '../src/generate/batch.js';
import { AdamW } from '../src/optim/adamw.js';
import { gradcheck } from './helpers/gradcheck.js';

const rng = new Rng(5);
const r = (...shape: number[]): Tensor => Tensor.randn(shape, rng);

test('ops: RMSNorm, RoPE (shared and per-row positions), SiLU, SwiGLU, repeatKv against finite differences', () => {
  setBackend(new JsBackend());
  gradcheck('rmsNorm', (x, w) => rmsNorm(x, w, 1e-5), [r(2, 3, 6), r(6)]);
  gradcheck('rope shared', (x) => rope(x, Int32Array.from([0, 3, 7]), 100), [r(2, 2, 3, 8)]);
  gradcheck('rope per row', (x) => rope(x, ropePositions(2, 3, 1, Int32Array.from([1, 0])), 500000), [r(2, 2, 3, 4)]);
  gradcheck('ropeHeads shared', (x) => ropeHeads(x, 2, Int32Array.from([0, 3, 7]), 100), [r(2, 3, 16)]);
  gradcheck('ropeHeads per row', (x) => ropeHeads(x, 3, ropePositions(2, 3, 1, Int32Array.from([1, 0])), 500000), [r(2, 3, 12)]);
  gradcheck('silu', silu, [r(3, 5)]);
  gradcheck('swiglu', swiglu, [r(3, 5), r(3, 5)]);
  gradcheck('swiglu of one tensor', (x) => swiglu(x, x), [r(3, 5)]);
  gradcheck('repeatKv', (x) => repeatKv(x, 3), [r(2, 2, 3, 2)]);
});

test('ropeHeads equals rope(splitHeads(x)): values and gradients, shared and per-row positions; bad shapes throw', () => {
  setBackend(new JsBackend());
  for (const positions of [Int32Array.from([4, 5, 6, 7, 8]), ropePositions(2, 5, 3, Int32Array.from([2, 0]))]) {
    const x = Tensor.randn([2, 5, 24], new Rng(3), 1, 0, true), x2 = Tensor.from(Float32Array.from(x.data), [2, 5, 24], true);
    const w = Tensor.randn([2, 4, 5, 6], new Rng(4));
    const a = ropeHeads(x, 4, positions, 10000), b = rope(splitHeads(x2, 0, 1, 4), positions, 10000);
    assert.deepEqual(a.shape, [2, 4, 5, 6]);
    assert.deepEqual(Array.from(a.data), Array.from(b.data));
    a.backward(w.data);
    b.backward(w.data);
    Array.from(x.grad!).forEach((g, i) => assert.ok(Math.abs(g - x2.grad![i]) < 1e-6, `grad ${i}: ${g} vs ${x2.grad![i]}`));
  }
  assert.throws(() => ropeHeads(r(2, 5, 24), 5, Int32Array.from([0, 1, 2, 3, 4])), /ropeHeads: \[2,5,24\] does not split into 5 heads/);
  assert.throws(() => ropeHeads(r(2, 5, 24), 8, Int32Array.from([0, 1, 2, 3, 4])), /head size must be a positive even integer, got 3/);
  assert.throws(() => ropeHeads(r(2, 5, 24), 4, Int32Array.from([0, 1])), /ropeHeads: 2 positions for B=2 × T=5/);
  assert.throws(() => ropeHeads(r(2, 4, 5, 6), 4, Int32Array.from([0])), /ropeHeads: input must be \(B, T, H·hs\)/);
});

test('grouped-query attention reads each kv head in place: equal to repeatKv then attention (values and gradients, every backend)', async () => {
  for (const backend of ['js', 'wasm', 'blas'] as const) {
    await initBackend({ backend, threads: 2 });
    const g = new Rng(11);
    // B 2, 4 query heads on 2 kv heads, 3 queries after 2 cached positions (Tk 5), hs 4; row 1 left-padded by 1
    const q = Tensor.randn([2, 4, 3, 4], g, 1, 0, true), k = Tensor.randn([2, 2, 5, 4], g, 1, 0, true), v = Tensor.randn([2, 2, 5, 4], g, 1, 0, true);
    const keyStart = Int32Array.from([0, 1]);
    const w = Tensor.randn([2, 4, 3, 4], g);
    const run = (grouped: boolean): number[][] => {
      for (const t of [q, k, v]) t.grad = null;
      const y = grouped ? causalAttention(q, k, v, keyStart) : causalAttention(q, repeatKv(k, 2), repeatKv(v, 2), keyStart);
      y.backward(w.data.slice());
      return [y.data, q.grad!, k.grad!, v.grad!].map((a) => Array.from(a));
    };
    const [want, got] = [run(false), run(true)];
    want.forEach((a, j) => a.forEach((x, i) => assert.ok(Math.abs(x - got[j][i]) <= 1e-5, `${backend}: ${['y', 'dq', 'dk', 'dv'][j]}[${i}] ${got[j][i]} vs ${x}`)));
  }
  assert.throws(() => causalAttention(r(1, 3, 2, 4), r(1, 2, 2, 4), r(1, 2, 2, 4)), /3 query heads cannot share 2 key and 2 value heads/);
});

test('ops: values by hand', () => {
  setBackend(new JsBackend());
  // RMSNorm of [3, 4] with eps 0: rms = √12.5
  const y = rmsNorm(Tensor.from([[3, 4]]), Tensor.from([1, 2]), 0).data;
  assert.ok(Math.abs(y[0] - 3 / Math.sqrt(12.5)) < 1e-6 && Math.abs(y[1] - 8 / Math.sqrt(12.5)) < 1e-6);
  // RoPE: position 0 is the identity; hs 4 at position 1 rotates (x0, x2) by 1 rad and (x1, x3) by θ^(−1/2)
  const x = Tensor.from([1, 2, 3, 4], [1, 1, 1, 4]);
  assert.deepEqual(rope(x, Int32Array.from([0]), 100).toArray(), [1, 2, 3, 4]);
  const got = rope(x, Int32Array.from([1]), 100).data;
  const [a, b] = [1, 0.1];
  const want = [Math.cos(a) - 3 * Math.sin(a), 2 * Math.cos(b) - 4 * Math.sin(b), 3 * Math.cos(a) + Math.sin(a), 4 * Math.cos(b) + 2 * Math.sin(b)];
  want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) < 1e-6, `rope[${i}] ${got[i]} vs ${w}`));
  assert.deepEqual(Array.from(ropeInvFreq(4, 100)), [1, Math.fround(0.1)]);
  // relative positions: q at m and k at n score the same as at m + 5, n + 5
  const q = r(1, 1, 1, 8), k = r(1, 1, 1, 8);
  const score = (m: number, n: number): number => {
    const qa = rope(q, Int32Array.from([m]), 10000).data, ka = rope(k, Int32Array.from([n]), 10000).data;
    return qa.reduce((s, v, i) => s + v * ka[i], 0);
  };
  assert.ok(Math.abs(score(7, 2) - score(12, 7)) < 1e-5);
  assert.ok(Math.abs(silu(Tensor.from([1])).item() - 1 / (1 + Math.exp(-1))) < 1e-7);
  assert.deepEqual(repeatKv(Tensor.from([1, 2], [1, 2, 1, 1]), 2).toArray(), [1, 1, 2, 2]);
  assert.throws(() => swiglu(r(2, 3), r(3, 2)), /swiglu: gate \[2,3\] and up \[3,2\]/);
  assert.throws(() => rope(r(1, 1, 2, 3), Int32Array.from([0, 1])), /head size must be a positive even integer/);
});

interface Fixture {
  cfg: LlamaConfig;
  params: Map<string, { shape: number[]; data: Float32Array }>;
  grads: Map<string, Float32Array>;
  idx: Int32Array;
  targets: Int32Array;
  logits: Float32Array;
  loss: number;
  padIdx: Int32Array;
  padLeft: Int32Array;
  padLogits: Float32Array;
  greedy: { prompt: number[]; ids: number[] };
}

function load(name: string): Fixture {
  const f = readSafetensors(new Uint8Array(fs.readFileSync(new URL(`../../test/fixtures/llama/${name}`, import.meta.url))), name);
  const params = new Map<string, { shape: number[]; data: Float32Array }>();
  const grads = new Map<string, Float32Array>();
  for (const [k, e] of f.tensors) {
    if (k.startsWith('param.')) params.set(k.slice(6), { shape: e.shape, data: toFloat32(e) });
    if (k.startsWith('grad.')) grads.set(k.slice(5), toFloat32(e));
  }
  return {
    cfg: JSON.parse(f.metadata.config), params, grads, idx: f.tensors.get('idx')!.data as Int32Array,
    targets: f.tensors.get('targets')!.data as Int32Array, logits: toFloat32(f.tensors.get('logits')!), loss: Number(f.metadata.loss),
    padIdx: f.tensors.get('pad_idx')!.data as Int32Array, padLeft: f.tensors.get('pad_left')!.data as Int32Array,
    padLogits: toFloat32(f.tensors.get('pad_logits')!), greedy: JSON.parse(f.metadata.greedy),
  };
}

function build(fx: Fixture): Llama {
  const m = new Llama(fx.cfg);
  m.loadStateDict(fx.params, 'fixture');
  return m;
}

/** max |got − want|, failing past atol + rtol·|want| */
function close(name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): number {
  assert.equal(got.length, want.length, `${name}: length`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    worst = Math.max(worst, d);
    if (!(d <= atol + rtol * Math.abs(want[i]))) assert.fail(`${name}[${i}]: got ${got[i]}, transformers ${want[i]} (|Δ| ${d.toExponential(2)})`);
  }
  return worst;
}

// 'blas' (native OpenBLAS through koffi) runs where both are installed and is skipped, saying why, elsewhere
const blasMissing = (await import('../src/backend/blas.node.js')).blasUnavailableReason();

for (const backend of ['js', 'wasm', 'blas'] as const) {
  for (const file of ['gqa.safetensors', 'tied.safetensors']) {
    const skip = backend === 'blas' && blasMissing !== null ? blasMissing.split('\n')[0] : false;
    test(`LLaMA matches transformers' LlamaForCausalLM: ${file} on ${backend}`, { skip }, async () => {
      await initBackend({ backend, threads: 1 });
      const fx = load(file);
      const model = build(fx);
      const { logits, loss } = model.forward(fx.idx, 3, 8, { targets: fx.targets });
      const dl = close('logits', logits.data, fx.logits, 2e-5, 0);
      assert.ok(Math.abs(loss!.item() - fx.loss) <= 1e-5, `loss ${loss!.item()} vs transformers ${fx.loss}`);
      loss!.backward();
      let dg = 0;
      for (const [name, p] of model.namedParameters()) {
        const want = fx.grads.get(name);
        assert.ok(want, `fixture has no gradient for ${name}`);
        dg = Math.max(dg, close(`grad ${name}`, p.grad!, want, 1e-5, 1e-3));
      }
      assert.equal(model.namedParameters().length, fx.grads.size);
      console.log(`# ${file} ${backend}: max |Δ| logits ${dl.toExponential(2)}, gradients ${dg.toExponential(2)}`);
    });
  }
}

/** a random model with sharp logits, so greedy decoding is not decided by near-ties */
function sharp(cfg: LlamaConfig, seed = 5): Llama {
  const m = new Llama(cfg, seed);
  for (const [n, p] of m.namedParameters()) if (!n.endsWith('norm.weight')) for (let i = 0; i < p.size; i++) p.data[i] *= 8;
  return m;
}
const small: LlamaConfig = { ...LLAMA_PRESETS.tiny, vocabSize: 19, blockSize: 12, nEmbd: 16, nHead: 4, nKvHead: 2, intermediateSize: 24, ropeTheta: 1000, tieWordEmbeddings: false };

function greedy(m: Llama, prompt: number[], n: number, useCache: boolean): number[] {
  const out: number[] = [];
  for (const id of generateIds(m, prompt, { maxNewTokens: n, temperature: 0, useCache })) out.push(id);
  return out;
}

for (const file of ['gqa.safetensors', 'tied.safetensors']) {
  test(`transformers' left-padded batch and greedy generate(): ${file}`, async () => {
    await initBackend({ backend: 'js' });
    const fx = load(file);
    const m = build(fx).eval();
    const V = fx.cfg.vocabSize, T = 6;
    const got = noGrad(() => m.forward(fx.padIdx, 2, T, { padding: fx.padLeft }).logits.data);
    for (let b = 0; b < 2; b++) {
      const real = (b * T + fx.padLeft[b]) * V, end = (b + 1) * T * V;
      close(`padded row ${b}`, got.subarray(real, end), fx.padLogits.subarray(real, end), 2e-5, 0);
    }
    for (const useCache of [true, false]) assert.deepEqual(greedy(m, fx.greedy.prompt, 12, useCache), fx.greedy.ids, `useCache ${useCache}`);
  });
}

test('KV cache on and off give the same greedy tokens, past the block size (GQA and tied fixtures too)', async () => {
  await initBackend({ backend: 'js' });
  const models = [sharp(small), sharp({ ...small, nKvHead: 1, ropeTheta: 10000 }), build(load('gqa.safetensors')), build(load('tied.safetensors'))];
  for (const [i, m] of models.entries()) {
    const a = greedy(m, [1, 5, 2], 30, true), b = greedy(m, [1, 5, 2], 30, false);
    assert.equal(a.length, 30);
    assert.deepEqual(a, b, `model ${i}`);
    assert.ok(new Set(a).size > 1, `model ${i} generates more than one token: ${a}`);
  }
});

test('left-padded batches: logits of each row equal its solo run; generateBatch rows equal generateIds', async () => {
  await initBackend({ backend: 'js' });
  const m = sharp(small);
  m.eval();
  const prompts = [[3], [4, 7, 1, 9, 2], [8, 8, 5]];
  const V = small.vocabSize, T = 5;
  const padding = Int32Array.from(prompts, (p) => T - p.length);
  const idx = new Int32Array(prompts.length * T).fill(11);
  prompts.forEach((p, b) => idx.set(p, b * T + padding[b]));
  const batch = noGrad(() => m.forward(idx, prompts.length, T, { padding }).logits.data);
  prompts.forEach((p, b) => {
    const alone = noGrad(() => m.forward(Int32Array.from(p), 1, p.length).logits.data);
    const rows = batch.subarray((b * T + padding[b]) * V, (b + 1) * T * V);
    close(`row ${b}`, rows, alone, 1e-5, 0);
  });
  const out = generateBatch(m, prompts, { maxNewTokens: 6, temperature: 0, rows: [{}, { maxNewTokens: 2 }, {}] });
  prompts.forEach((p, i) => assert.deepEqual(out[i].ids, greedy(m, p, i === 1 ? 2 : 6, false), `row ${i}`));
});

test('config: validation errors name the field; presets build; the parameter count needs no weights', () => {
  const bad: [Partial<LlamaConfig>, RegExp][] = [
    [{ nKvHead: 3 }, /nKvHead \(3\) must divide nHead \(4\)/],
    [{ nEmbd: 18 }, /nEmbd \(18\) must be divisible by nHead/],
    [{ nEmbd: 12, nHead: 4 }, /head size nEmbd\/nHead \(3\) must be even/],
    [{ ropeTheta: 0 }, /ropeTheta must be a positive number/],
    [{ rmsNormEps: -1 }, /rmsNormEps must be in/],
    [{ intermediateSize: 0 }, /intermediateSize must be a positive integer/],
    [{ dropout: 1 }, /dropout must be in \[0, 1\)/],
  ];
  for (const [patch, re] of bad) assert.throws(() => new Llama({ ...small, ...patch }), re);
  assert.equal(llamaParamCount(LLAMA_7B), 6_738_415_616);
  assert.equal(swigluHidden(4096), 11008);
  assert.equal(llamaParamCount({ ...LLAMA_PRESETS['124m'], vocabSize: 50257 }), 123_551_232);
  for (const [name, p] of Object.entries(LLAMA_PRESETS)) {
    if (name === '124m') continue;
    const m = new Llama({ ...p, vocabSize: 65 });
    assert.equal(m.numParams(), llamaParamCount({ ...p, vocabSize: 65 }), name);
  }
  const untied = new Llama({ ...small, tieWordEmbeddings: false });
  assert.equal(untied.numParams(), llamaParamCount({ ...small, tieWordEmbeddings: false }));
  const names = [...untied.stateDict().keys()];
  for (const n of ['model.embed_tokens.weight', 'model.layers.0.self_attn.q_proj.weight', 'model.layers.1.self_attn.k_proj.weight',
    'model.layers.0.self_attn.v_proj.weight', 'model.layers.0.self_attn.o_proj.weight', 'model.layers.0.mlp.gate_proj.weight',
    'model.layers.0.mlp.up_proj.weight', 'model.layers.0.mlp.down_proj.weight', 'model.layers.0.input_layernorm.weight',
    'model.layers.0.post_attention_layernorm.weight', 'model.norm.weight', 'lm_head.weight']) assert.ok(names.includes(n), n);
  assert.equal(untied.stateDict().get('model.layers.0.self_attn.k_proj.weight')!.shape.join(), '8,16');
  const decayed = untied.decayedParameterNames();
  assert.equal(decayed.size, 2 * 7 + 1);
  assert.ok(decayed.has('lm_head.weight') && !decayed.has('model.embed_tokens.weight') && !decayed.has('model.norm.weight'));
  assert.match(untied.describe(), /LLaMA: 2 layers, 4 heads \(2 kv\), 16 wide/);
});

test('tied models accept an equal lm_head.weight and refuse a different one', () => {
  const tied = { ...small, tieWordEmbeddings: true };
  const m = new Llama(tied, 1), n = new Llama(tied, 2);
  const sd = new Map([...m.stateDict()].map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.data) }]));
  sd.set('lm_head.weight', sd.get('model.embed_tokens.weight')!);
  n.loadStateDict(sd, 'ckpt');
  assert.deepEqual(n.model.embed_tokens.weight.data, m.model.embed_tokens.weight.data);
  sd.set('lm_head.weight', { shape: sd.get('model.embed_tokens.weight')!.shape, data: new Float32Array(19 * 16) });
  assert.throws(() => n.loadStateDict(sd, 'ckpt'), /ckpt: "lm_head.weight" differs from "model.embed_tokens.weight"/);
});

test('training with dropout: AdamW on one batch brings the loss down; eval mode is deterministic', async () => {
  await initBackend({ backend: 'js' });
  const m = new Llama({ ...small, dropout: 0.1 }, 9);
  const decayed = m.decayedParameterNames();
  const named = m.namedParameters();
  const opt = new AdamW([
    { weightDecay: 0.1, params: named.filter(([n]) => decayed.has(n)).map(([, p]) => p) },
    { weightDecay: 0, params: named.filter(([n]) => !decayed.has(n)).map(([, p]) => p) },
  ], { lr: 1e-2 });
  const idx = Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]);
  const targets = Int32Array.from([...idx.subarray(1, 12), -1, ...idx.subarray(13), -1]);
  const losses: number[] = [];
  for (let s = 0; s < 25; s++) {
    const { loss } = m.forward(idx, 2, 12, { targets });
    losses.push(loss!.item());
    opt.zeroGrad();
    loss!.backward();
    opt.update();
  }
  assert.ok(losses[24] < 0.5 * losses[0], `loss ${losses[0]} → ${losses[24]}`);
  m.eval();
  const a = noGrad(() => m.forward(idx, 2, 12).logits.data), b = noGrad(() => m.forward(idx, 2, 12).logits.data);
  assert.deepEqual(a, b, 'eval is deterministic');
});
