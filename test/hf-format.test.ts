// The Hugging Face layout (src/formats/hf.ts) against transformers, both ways, through fixtures written by
// scripts/fixtures/make_hf_fixture.py: folders transformers saved (gpt2-tiny, llama-tiny) load into our
// models with the same logits (|Δ| ≤ 1e-4), and folders our exportHf wrote (ours-gpt, ours-llama; rewritten
// by this test with GPTLAB_WRITE_HF_FIXTURES=1) load in transformers with no missing or unexpected keys and
// the logits it recorded equal ours. Python is not needed to run this.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { initBackend } from '../src/backend/index.node.js';
import { readSafetensors, toFloat32, writeSafetensors, type SafetensorsEntry } from '../src/formats/safetensors.js';
import {
  exportHf, generationConfig, gptFromHfConfig, gptFromHfState, gptToHfConfig, gptToHfState, importHf, llamaFromHfConfig,
  llamaToHfConfig, type HfConfigJson,
} from '../src/formats/hf.js';
import { GPT, type GPTConfig } from '../src/models/gpt.js';
import { Llama, type LlamaConfig } from '../src/models/llama.js';
import { Rng, noGrad } from '../src/tensor/index.js';

await initBackend({ backend: 'js' });
const dir = new URL('../../test/fixtures/hf/', import.meta.url);
const read = (name: string): Uint8Array => new Uint8Array(fs.readFileSync(new URL(name, dir)));
const readJson = (name: string): HfConfigJson => JSON.parse(fs.readFileSync(new URL(name, dir), 'utf8'));

function reference(name: string): { idx: Int32Array; logits: Float32Array; exact?: Float32Array } {
  const f = readSafetensors(read(`${name}.reference.safetensors`), name);
  const exact = f.tensors.get('logits_exact_gelu');
  return { idx: f.tensors.get('idx')!.data as Int32Array, logits: toFloat32(f.tensors.get('logits')!), exact: exact && toFloat32(exact) };
}

function logitsOf(model: GPT | Llama, idx: Int32Array): Float32Array {
  model.eval();
  return noGrad(() => model.forward(idx, 2, idx.length / 2).logits.data);
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

test("transformers' GPT2LMHeadModel folder → our GPT: logits within 1e-4 of the exact-GELU run", () => {
  const { model, notes } = importHf(readJson('gpt2-tiny/config.json'), read('gpt2-tiny/model.safetensors'));
  assert.ok(model instanceof GPT && model.config.bias, 'a GPT with biases');
  assert.match(notes.join('\n'), /"gelu_new" \(tanh approximation\) runs as the exact GELU/);
  const ref = reference('gpt2-tiny');
  const got = logitsOf(model, ref.idx);
  const exact = maxDiff(got, ref.exact!), approx = maxDiff(got, ref.logits);
  console.log(`# gpt2-tiny: max |Δ| vs transformers (activation gelu) ${exact.toExponential(2)}, vs gelu_new ${approx.toExponential(2)}`);
  assert.ok(exact <= 1e-4, `vs exact GELU: ${exact}`);
  assert.ok(approx <= 2e-3, `vs gelu_new: ${approx}`);
  // GPT-2 always has biases: these are nonzero, so a bias-less config refuses them
  assert.throws(() => importHf(readJson('gpt2-tiny/config.json'), read('gpt2-tiny/model.safetensors'), { bias: false }),
    /"transformer\.h\.0\.ln_1\.bias" is nonzero but the config has no biases/);
  // the hub's original gpt2 files: GPT2Model names (no `transformer.`) and the causal-mask buffers, ignored
  const old: Record<string, SafetensorsEntry> = {};
  for (const [n, e] of readSafetensors(read('gpt2-tiny/model.safetensors')).tensors) old[n.replace(/^transformer\./, '')] = e;
  for (const i of [0, 1]) {
    old[`h.${i}.attn.bias`] = { dtype: 'F32', shape: [1, 1, 16, 16], data: new Float32Array(256).fill(1) };
    old[`h.${i}.attn.masked_bias`] = { dtype: 'F32', shape: [], data: new Float32Array([-1e4]) };
  }
  const legacy = importHf(readJson('gpt2-tiny/config.json'), writeSafetensors(old)).model;
  assert.deepEqual(logitsOf(legacy, ref.idx), got);
});

test("transformers' LlamaForCausalLM folder (tied, GQA, rope_parameters) → our Llama: logits within 1e-4", () => {
  const { model } = importHf(readJson('llama-tiny/config.json'), read('llama-tiny/model.safetensors'));
  assert.ok(model instanceof Llama);
  assert.deepEqual([model.config.nKvHead, model.config.ropeTheta, model.config.tieWordEmbeddings], [2, 500000, true]);
  const ref = reference('llama-tiny');
  const d = maxDiff(logitsOf(model, ref.idx), ref.logits);
  console.log(`# llama-tiny: max |Δ| vs transformers ${d.toExponential(2)}`);
  assert.ok(d <= 1e-4, `${d}`);
});

/** every parameter N(0, 0.2), norm gains 1 + N(0, 0.1): far from the init's near-uniform logits */
function randomize<M extends GPT | Llama>(m: M, seed: number): M {
  const rng = new Rng(seed);
  for (const [n, p] of m.namedParameters()) {
    const norm = /ln_|norm/.test(n);
    for (let i = 0; i < p.size; i++) p.data[i] = norm ? 1 + 0.1 * rng.normal() : 0.2 * rng.normal();
  }
  return m;
}
const OURS_GPT: GPTConfig = { vocabSize: 23, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: false };
const OURS_LLAMA: LlamaConfig = {
  vocabSize: 23, blockSize: 16, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 16, intermediateSize: 24, ropeTheta: 20000,
  rmsNormEps: 1e-6, tieWordEmbeddings: false, dropout: 0,
};
const ours = { 'ours-gpt': () => randomize(new GPT(OURS_GPT), 31), 'ours-llama': () => randomize(new Llama(OURS_LLAMA), 32) };

for (const [name, make] of Object.entries(ours)) {
  test(`our export ${name} → transformers (from_pretrained): its logits equal ours within 1e-4; the files are reproducible`, () => {
    const files = exportHf(make(), { bosTokenId: null, eosTokenId: 0 });
    if (process.env.GPTLAB_WRITE_HF_FIXTURES) {
      fs.mkdirSync(new URL(`${name}/`, dir), { recursive: true });
      for (const [f, data] of Object.entries(files)) fs.writeFileSync(new URL(`${name}/${f}`, dir), data);
    }
    for (const [f, data] of Object.entries(files)) {
      const committed = read(`${name}/${f}`);
      assert.ok(Buffer.from(committed).equals(Buffer.from(data)), `${name}/${f} is what exportHf writes`);
    }
    const ref = reference(name);
    const d = maxDiff(logitsOf(make(), ref.idx), ref.logits);
    console.log(`# ${name}: max |Δ| vs transformers ${d.toExponential(2)}`);
    assert.ok(d <= 1e-4, `${d}`);
    // and back: importing our own export gives the same parameters
    const back = importHf(JSON.parse(files['config.json']), files['model.safetensors']).model;
    const orig = make().stateDict();
    for (const [n, p] of back.stateDict()) assert.deepEqual(p.data, orig.get(n)!.data, n);
    assert.equal(back.stateDict().size, orig.size);
  });
}

test('GPT mapping: Conv1D transposes, zero biases for a bias-less GPT, BF16 export, config fields', () => {
  const m = randomize(new GPT(OURS_GPT), 5);
  const hf = gptToHfState(m.config, m.stateDict());
  const w = m.stateDict().get('transformer.h.1.attn.c_attn.weight')!; // [3C, C]
  const t = hf.get('transformer.h.1.attn.c_attn.weight')!; // [C, 3C]
  assert.deepEqual(t.shape, [16, 48]);
  assert.equal(t.data[5 * 48 + 40], w.data[40 * 16 + 5]);
  assert.deepEqual(Array.from(hf.get('transformer.h.0.mlp.c_fc.bias')!.data), new Array(64).fill(0));
  assert.ok(!hf.has('lm_head.weight'));
  assert.equal(hf.size, m.stateDict().size + 2 * 6 + 1);
  const back = gptFromHfState(m.config, hf);
  for (const [n, p] of m.stateDict()) assert.deepEqual(back.get(n)!.data, p.data, n);
  const cfg = gptToHfConfig(m.config, { eosTokenId: 0 }, 'BF16');
  assert.deepEqual([cfg.n_embd, cfg.n_layer, cfg.n_head, cfg.n_positions, cfg.vocab_size, cfg.activation_function, cfg.torch_dtype, cfg.eos_token_id],
    [16, 2, 2, 16, 23, 'gelu', 'bfloat16', 0]);
  const bf = importHf(cfg, exportHf(m, {}, 'BF16')['model.safetensors']).model;
  const a = m.stateDict().get('transformer.wte.weight')!.data, b = bf.stateDict().get('transformer.wte.weight')!.data;
  assert.ok(maxDiff(a, b) <= 0.01 * 0.8, 'BF16 keeps 8 bits of mantissa');
  const bad: [HfConfigJson, RegExp][] = [
    [{ ...cfg, model_type: 'bert' }, /hf config: model_type must be "gpt2"/],
    [{ ...cfg, n_inner: 10 }, /hf config: n_inner must be null or 4·n_embd \(64\)/],
    [{ ...cfg, activation_function: 'relu' }, /hf config: activation_function must be "gelu" or "gelu_new"/],
    [{ ...cfg, layer_norm_epsilon: 1e-6 }, /hf config: layer_norm_epsilon must be 1e-5/],
    [{ ...cfg, scale_attn_by_inverse_layer_idx: true }, /scale_attn_by_inverse_layer_idx must be false/],
    [{ ...cfg, n_head: 'two' }, /hf config: n_head must be a positive integer, got "two"/],
  ];
  for (const [json, re] of bad) assert.throws(() => gptFromHfConfig(json, false), re);
  const wrong = new Map(hf);
  wrong.set('lm_head.weight', { shape: [23, 16], data: new Float32Array(23 * 16) });
  assert.throws(() => gptFromHfState(m.config, wrong), /"lm_head.weight" differs from "transformer.wte.weight"/);
  wrong.delete('lm_head.weight');
  wrong.set('transformer.h.0.attn.c_proj.weight', { shape: [16, 17], data: new Float32Array(16 * 17) });
  assert.throws(() => gptFromHfState(m.config, wrong), /tensor "transformer.h.0.attn.c_proj.weight" has shape \[16,17\], expected \[16,16\]/);
});

test('LLaMA mapping: config fields both ways, transformers 4 and 5 RoPE keys, unsupported fields refused', () => {
  const cfg = llamaToHfConfig(OURS_LLAMA, { bosTokenId: 1, eosTokenId: 2 });
  assert.deepEqual(
    [cfg.hidden_size, cfg.intermediate_size, cfg.num_attention_heads, cfg.num_key_value_heads, cfg.num_hidden_layers, cfg.rope_theta,
      cfg.rms_norm_eps, cfg.max_position_embeddings, cfg.tie_word_embeddings, cfg.vocab_size, cfg.torch_dtype, cfg.architectures],
    [16, 24, 4, 2, 2, 20000, 1e-6, 16, false, 23, 'float32', ['LlamaForCausalLM']]);
  assert.deepEqual(llamaFromHfConfig(cfg), OURS_LLAMA);
  const v5 = { ...cfg, rope_theta: undefined, rope_parameters: { rope_type: 'default', rope_theta: 500000 } };
  assert.equal(llamaFromHfConfig(v5).ropeTheta, 500000);
  assert.equal(llamaFromHfConfig({ ...cfg, num_key_value_heads: undefined }).nKvHead, 4);
  const bad: [HfConfigJson, RegExp][] = [
    [{ ...cfg, rope_scaling: { rope_type: 'llama3', factor: 8 } }, /rope type "llama3" is not supported/],
    [{ ...cfg, hidden_act: 'gelu' }, /hidden_act must be "silu"/],
    [{ ...cfg, attention_bias: true }, /attention_bias must be false/],
    [{ ...cfg, head_dim: 8 }, /head_dim must be hidden_size\/num_attention_heads \(4\), got 8/],
    [{ ...cfg, hidden_size: 0 }, /hidden_size must be a positive integer/],
    [{ ...cfg, model_type: 'mistral' }, /model_type must be "llama"/],
  ];
  for (const [json, re] of bad) assert.throws(() => llamaFromHfConfig(json), re);
  assert.throws(() => importHf({ model_type: 't5' }, new Uint8Array(16)), /model_type must be "gpt2" or "llama", got "t5"/);
  assert.deepEqual(generationConfig({ bosTokenId: 1, eosTokenId: 2 }, { temperature: 0.7, topP: 0.9 }),
    { _from_model_config: true, bos_token_id: 1, eos_token_id: 2, pad_token_id: null, do_sample: true, temperature: 0.7, top_p: 0.9 });
});

test('bad HF folders: NaN / Inf weights, a config the tensors disagree with (before any allocation), errors name config.json', () => {
  const src = { source: 'hf/model.safetensors', configSource: 'hf/config.json' };
  const one = (fn: () => unknown, re: RegExp): void => {
    assert.throws(fn, (e: Error) => {
      assert.ok(!e.message.includes('\n') && !e.message.includes('--n-'), e.message);
      assert.match(e.message, re);
      return true;
    });
  };
  const gpt = randomize(new GPT(OURS_GPT), 7);
  const g = exportHf(gpt);
  const gcfg = JSON.parse(g['config.json']) as HfConfigJson;
  gpt.stateDict().get('transformer.h.0.ln_1.weight')!.data[3] = NaN;
  one(() => importHf(gcfg, exportHf(gpt)['model.safetensors'], src), /^hf\/model\.safetensors: tensor "transformer\.h\.0\.ln_1\.weight" holds NaN at index 3: refusing to load it$/);
  const llama = randomize(new Llama(OURS_LLAMA), 8);
  const l = exportHf(llama);
  const lcfg = JSON.parse(l['config.json']) as HfConfigJson;
  llama.stateDict().get('model.layers.1.mlp.up_proj.weight')!.data[5] = -Infinity;
  one(() => importHf(lcfg, exportHf(llama)['model.safetensors'], src), /^hf\/model\.safetensors: tensor "model\.layers\.1\.mlp\.up_proj\.weight" holds -Infinity at index 5: refusing to load it$/);
  const t0 = performance.now();
  one(() => importHf({ ...gcfg, n_layer: 1000000000 }, g['model.safetensors'], src), /^hf\/config\.json: n_layer 1000000000 but hf\/model\.safetensors holds 2 layers$/);
  assert.ok(performance.now() - t0 < 5000, 'refused before allocating');
  one(() => importHf({ ...lcfg, num_hidden_layers: 1000000000 }, l['model.safetensors'], src), /^hf\/config\.json: num_hidden_layers 1000000000 but hf\/model\.safetensors holds 2 layers$/);
  one(() => importHf({ ...gcfg, n_embd: 1 << 20 }, g['model.safetensors'], src), /^hf\/config\.json: n_embd 1048576 but hf\/model\.safetensors has tensor "transformer\.wte\.weight" of shape \[23, 16\]$/);
  one(() => importHf({ ...gcfg, n_positions: 1 << 30 }, g['model.safetensors'], src), /^hf\/config\.json: n_positions 1073741824 but .* "transformer\.wpe\.weight" of shape \[16, 16\]$/);
  one(() => importHf({ ...lcfg, vocab_size: 1 << 30 }, l['model.safetensors'], src), /^hf\/config\.json: vocab_size 1073741824 but .* "model\.embed_tokens\.weight" of shape \[23, 16\]$/);
  one(() => importHf({ ...lcfg, intermediate_size: 1 << 30 }, l['model.safetensors'], src), /^hf\/config\.json: intermediate_size 1073741824 but .*gate_proj/);
  one(() => importHf({ ...lcfg, num_key_value_heads: 4 }, l['model.safetensors'], src), /^hf\/config\.json: num_key_value_heads 4 but .*k_proj\.weight" of shape \[8, 16\]$/);
  one(() => importHf({ ...gcfg, n_head: 3 }, g['model.safetensors'], src), /^hf\/config\.json: n_head 3 does not divide n_embd 16$/);
  one(() => importHf({ ...gcfg, n_layer: 0 }, g['model.safetensors'], src), /^hf\/config\.json: n_layer must be a positive integer, got 0$/);
  one(() => importHf({ ...lcfg, rope_scaling: { type: 'linear', factor: 2 } }, l['model.safetensors'], src), /^hf\/config\.json: rope type "linear" is not supported/);
});

test('loadModelFile on an HF folder: config errors name <dir>/config.json, NaN weights name <dir>/model.safetensors', async () => {
  const os = await import('node:os');
  const path = await import('node:path');
  const { loadModelFile } = await import('../src/train/model-file.node.js');
  const hf = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-hf-'));
  try {
    const m = randomize(new GPT(OURS_GPT), 9);
    const files = exportHf(m);
    const cfg = JSON.parse(files['config.json']) as HfConfigJson;
    fs.writeFileSync(path.join(hf, 'model.safetensors'), files['model.safetensors']);
    const write = (c: HfConfigJson) => fs.writeFileSync(path.join(hf, 'config.json'), JSON.stringify(c));
    const cfgFile = path.join(hf, 'config.json').replace(/[.\\/]/g, '\\$&');
    write({ ...cfg, n_layer: 1000000000 });
    assert.throws(() => loadModelFile(hf), new RegExp(`${cfgFile}: n_layer 1000000000 but .*model\\.safetensors holds 2 layers$`));
    write({ ...cfg, n_head: 0 });
    assert.throws(() => loadModelFile(hf), new RegExp(`${cfgFile}: n_head must be a positive integer, got 0$`));
    write(cfg);
    m.stateDict().get('transformer.wpe.weight')!.data[2] = Infinity;
    fs.writeFileSync(path.join(hf, 'model.safetensors'), exportHf(m)['model.safetensors']);
    assert.throws(() => loadModelFile(hf), /model\.safetensors: tensor "transformer\.wpe\.weight" holds Infinity at index 2: refusing to load it$/);
  } finally {
    fs.rmSync(hf, { recursive: true, force: true });
  }
});
