// LoRA (src/nn/lora.ts), freezing (src/nn/freeze.ts) and PEFT's adapter files (src/formats/peft.ts) against
// PEFT 0.21: scripts/fixtures/make_align_fixture.py built a small torch model (fc1 → relu → block.c_attn →
// tanh → block.c_proj) with get_peft_model(LoraConfig(r=2, lora_alpha=6, target_modules=[c_attn, c_proj]))
// and recorded its weights, output, gradients w.r.t. x, lora_A and lora_B, the merged weights, the adapter as
// PEFT saves it (test/fixtures/align/peft_adapter/), and the output PEFT gets from the adapter our writer made
// (test/fixtures/align/gptlab_adapter/). Values within 1e-5, gradients within 1e-5 + 1e-3·|g|.
// To rewrite our adapter: GPTLAB_WRITE_ALIGN_FIXTURES=1 node --test dist/test/lora.test.js, then rerun the script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { setBackend } from '../src/backend/backend.js';
import { JsBackend } from '../src/backend/js.js';
import { Tensor, Rng, relu, tanh, mul, sum, noGrad } from '../src/tensor/index.js';
import { Module } from '../src/nn/module.js';
import { Linear } from '../src/nn/layers.js';
import { GPT } from '../src/models/gpt.js';
import { LoRALinear, applyLora, loraLayers, mergeLora, replaceChild, unmergeLora } from '../src/nn/lora.js';
import { countParameters, freezeParameters, globToRegExp, trainableParameters, unfreezeParameters } from '../src/nn/freeze.js';
import { loadPeftAdapter, parsePeftConfig, writePeftAdapter } from '../src/formats/peft.js';
import { writeSafetensors, type SafetensorsEntry } from '../src/formats/safetensors.js';
import { gradcheck } from './helpers/gradcheck.js';

setBackend(new JsBackend());
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = any;
const dir = new URL('../../test/fixtures/align/', import.meta.url);
const fx: J = JSON.parse(fs.readFileSync(new URL('lora.json', dir), 'utf8'));
let worst = { value: 0, grad: 0 };

function close(name: string, got: ArrayLike<number>, want: number[], grad = false): void {
  assert.equal(got.length, want.length, `${name}: length`);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (grad) worst.grad = Math.max(worst.grad, d);
    else worst.value = Math.max(worst.value, d);
    if (!(d <= (grad ? 1e-5 + 1e-3 * Math.abs(want[i]) : 1e-5))) assert.fail(`${name}[${i}]: got ${got[i]}, PEFT ${want[i]} (|Δ| ${d.toExponential(2)})`);
  }
}

class Block extends Module {
  readonly c_attn: Linear;
  readonly c_proj: Linear;
  constructor(rng: Rng) {
    super();
    this.c_attn = this.child('c_attn', new Linear(6, 4, false, rng));
    this.c_proj = this.child('c_proj', new Linear(4, 3, true, rng));
  }
}

/** the fixture's torch model: fc1 (5→6) → relu → block.c_attn (6→4) → tanh → block.c_proj (4→3) */
class Toy extends Module {
  readonly fc1: Linear;
  readonly block: Block;
  constructor() {
    super();
    const rng = new Rng(1);
    this.fc1 = this.child('fc1', new Linear(5, 6, true, rng));
    this.block = this.child('block', new Block(rng));
    const state = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, v] of Object.entries(fx.base as Record<string, { shape: number[]; data: number[] }>)) state.set(k, { shape: v.shape, data: Float32Array.from(v.data) });
    this.loadStateDict(state, 'lora.json');
  }
  forward(x: Tensor): Tensor {
    return this.block.c_proj.forward(tanh(this.block.c_attn.forward(relu(this.fc1.forward(x)))));
  }
}

const input = (): Tensor => new Tensor(Float32Array.from(fx.x), fx.x_shape, true);
const setLora = (m: Module, lora: Record<string, { A: number[]; B: number[] }>): void => {
  for (const [path, l] of loraLayers(m)) {
    l.lora_A.weight.data.set(lora[path].A);
    l.lora_B.weight.data.set(lora[path].B);
  }
};

test('LoRA on Linear layers: output and gradients w.r.t. x, lora_A, lora_B match PEFT', () => {
  const toy = new Toy();
  const adapted = applyLora(toy, { r: fx.r, loraAlpha: fx.lora_alpha, loraDropout: 0, targets: fx.targets });
  assert.deepEqual(adapted, ['block.c_attn', 'block.c_proj']);
  assert.ok(toy.block.c_attn instanceof LoRALinear, 'the field now holds the LoRA layer');
  setLora(toy, fx.lora);
  const x = input();
  const y = toy.forward(x);
  close('y', y.data, fx.y);
  sum(mul(y, Tensor.from(fx.R, [2, 3, 3]))).backward();
  close('dL/dx', x.grad!, fx.grad_x, true);
  for (const [path, l] of loraLayers(toy)) {
    close(`${path} dL/dA`, l.lora_A.weight.grad!, fx.lora[path].grad_A, true);
    close(`${path} dL/dB`, l.lora_B.weight.grad!, fx.lora[path].grad_B, true);
  }
  for (const [name, p] of toy.namedParameters()) {
    const lora = name.includes('.lora_');
    assert.equal(p.requiresGrad, lora, `${name} trainable iff LoRA`);
    if (!lora) assert.equal(p.grad, null, `${name} has no gradient`);
  }
  assert.deepEqual(trainableParameters(toy).map(([n]) => n), [
    'block.c_attn.lora_A.weight', 'block.c_attn.lora_B.weight', 'block.c_proj.lora_A.weight', 'block.c_proj.lora_B.weight',
  ]);
  const c = countParameters(toy);
  assert.equal(c.trainable, 2 * (6 + 4) + 2 * (4 + 3));
  assert.equal(c.total, 5 * 6 + 6 + 6 * 4 + 4 * 3 + 3 + c.trainable);
});

test('LoRA init as PEFT: A ~ U(±1/√in), B = 0, so the output is unchanged; eval dropout is the identity', () => {
  assert.ok(fx.peft_init_A_within_bound && fx.peft_init_B_zero, 'PEFT init, as recorded');
  const base = new Toy();
  const want = noGrad(() => base.forward(input())).data;
  const toy = new Toy();
  applyLora(toy, { r: 3, loraAlpha: 8, loraDropout: 0.5, targets: ['c_attn', 'c_proj'], rng: new Rng(2) });
  for (const [, l] of loraLayers(toy)) {
    const bound = 1 / Math.sqrt(l.inFeatures);
    assert.ok(l.lora_A.weight.data.every((v) => Math.abs(v) <= bound) && l.lora_A.weight.data.some((v) => v !== 0));
    assert.ok(l.lora_B.weight.data.every((v) => v === 0));
    assert.equal(l.scaling, 8 / 3);
  }
  assert.deepEqual(Array.from(noGrad(() => toy.forward(input())).data), Array.from(want));
  const weights = Object.fromEntries(loraLayers(toy).map(([p, l]) => [p, { A: Array.from(l.lora_A.weight.data), B: Array.from(l.lora_B.weight.data, (_, i) => Math.sin(i)) }]));
  setLora(toy, weights);
  const noDrop = new Toy();
  applyLora(noDrop, { r: 3, loraAlpha: 8, loraDropout: 0, targets: ['c_attn', 'c_proj'] });
  setLora(noDrop, weights);
  const evalOut = noGrad(() => toy.eval().forward(input())).data;
  assert.deepEqual(Array.from(evalOut), Array.from(noGrad(() => noDrop.forward(input())).data), 'no dropout in eval');
  const trainOut = noGrad(() => toy.train().forward(input())).data;
  assert.notDeepEqual(Array.from(trainOut), Array.from(evalOut), 'dropout acts in training');
});

test('merge() / unmerge(): merged weights and output match PEFT merge_and_unload, unmerge restores the base', () => {
  const toy = new Toy();
  applyLora(toy, { r: fx.r, loraAlpha: fx.lora_alpha, targets: fx.targets });
  setLora(toy, fx.lora);
  const base = new Map(toy.namedParameters().map(([n, p]) => [n, p.data.slice()]));
  mergeLora(toy);
  for (const [name, want] of Object.entries(fx.merged as Record<string, number[]>)) close(`merged ${name}`, toy.stateDict().get(name)!.data, want);
  close('y merged', noGrad(() => toy.forward(input())).data, fx.y_merged);
  assert.throws(() => mergeLora(toy), /already merged/);
  unmergeLora(toy);
  for (const [name, p] of toy.namedParameters()) close(`unmerged ${name}`, p.data, Array.from(base.get(name)!));
  close('y unmerged', noGrad(() => toy.forward(input())).data, fx.y);
});

test('finite differences: LoRALinear w.r.t. x, A and B (with bias, dropout off)', () => {
  const rng = new Rng(4);
  const layer = new LoRALinear(new Linear(5, 3, true, rng), { r: 2, loraAlpha: 4, rng });
  layer.lora_B.weight.data.set(Tensor.randn([3, 2], rng).data);
  // the layer's own A and B are the inputs gradcheck perturbs, so forward(x) is a function of all three
  gradcheck('LoRALinear', (x) => layer.forward(x), [Tensor.randn([2, 4, 5], rng), layer.lora_A.weight, layer.lora_B.weight]);
});

test('PEFT\'s saved adapter loads into our model and gives PEFT\'s output', () => {
  const toy = new Toy();
  const cfg = loadPeftAdapter(toy, fs.readFileSync(new URL('peft_adapter/adapter_config.json', dir), 'utf8'), new Uint8Array(fs.readFileSync(new URL('peft_adapter/adapter_model.safetensors', dir))));
  assert.equal(cfg.r, fx.r);
  close('y from PEFT adapter', noGrad(() => toy.forward(input())).data, fx.y);
});

/** the adapter our writer commits: base weights from the fixture, A from Rng(5), B = 0.3·sin(i + 1) */
function ourAdapterModel(): Toy {
  const toy = new Toy();
  applyLora(toy, { r: 2, loraAlpha: 6, targets: ['c_attn', 'c_proj'], rng: new Rng(5) });
  for (const [, l] of loraLayers(toy)) l.lora_B.weight.data.set(l.lora_B.weight.data.map((_, i) => 0.3 * Math.sin(i + 1)));
  return toy;
}

test('our adapter files load in PEFT (PeftModel.from_pretrained) with the same output and merge', () => {
  const { configJson, weights } = writePeftAdapter(ourAdapterModel(), { baseModelNameOrPath: 'gptlab-toy', taskType: null });
  const out = new URL('gptlab_adapter/', dir);
  if (process.env.GPTLAB_WRITE_ALIGN_FIXTURES === '1') {
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(new URL('adapter_config.json', out), configJson);
    fs.writeFileSync(new URL('adapter_model.safetensors', out), weights);
  }
  assert.equal(fs.readFileSync(new URL('adapter_config.json', out), 'utf8'), configJson, 'the writer reproduces the committed config');
  assert.deepEqual(new Uint8Array(fs.readFileSync(new URL('adapter_model.safetensors', out))), weights, 'and the committed weights');
  assert.ok(fx.gptlab_adapter, 'lora.json records what PEFT made of our adapter (rerun the fixture script)');
  assert.equal(fx.gptlab_adapter.scaling, 3);
  const model = ourAdapterModel();
  close('y (PEFT on our adapter)', noGrad(() => model.forward(input())).data, fx.gptlab_adapter.y);
  const fresh = new Toy();
  loadPeftAdapter(fresh, configJson, weights);
  close('y (our adapter read back)', noGrad(() => fresh.forward(input())).data, fx.gptlab_adapter.y);
  mergeLora(fresh);
  for (const [name, want] of Object.entries(fx.gptlab_adapter.merged as Record<string, number[]>)) close(`PEFT-merged ${name}`, fresh.stateDict().get(name)!.data, want);
});

test('adapter validation: one-line errors naming the file and field', () => {
  const { configJson, weights } = writePeftAdapter(ourAdapterModel());
  const cfg = JSON.parse(configJson);
  const bad = (patch: object): string => JSON.stringify({ ...cfg, ...patch });
  assert.throws(() => parsePeftConfig(bad({ peft_type: 'IA3' })), /adapter_config.json: peft_type must be "LORA"/);
  assert.throws(() => parsePeftConfig(bad({ r: 0 })), /adapter_config.json: r must be a positive integer/);
  assert.throws(() => parsePeftConfig(bad({ use_dora: true })), /use_dora/);
  assert.throws(() => parsePeftConfig(bad({ bias: 'all' })), /bias must be "none"/);
  assert.throws(() => parsePeftConfig('{'), /adapter_config.json: not valid JSON/);
  // a base model with other shapes: c_attn 6 → 5
  const other = new Toy();
  replaceChild(other.block, 'c_attn', new Linear(6, 5, false, new Rng(1)));
  assert.equal(other.block.c_attn.weight.shape[0], 5);
  assert.throws(() => loadPeftAdapter(other, configJson, weights), /module "block.c_attn" has A \[2,6\] and B \[4,2\], the base layer is \(5, 6\)/);
  assert.throws(() => loadPeftAdapter(new Toy(), bad({ target_modules: ['c_attn', 'c_proj', 'fc1'] }), weights), /no lora_A\/lora_B for target module "fc1"/);
  assert.throws(() => loadPeftAdapter(new Toy(), bad({ target_modules: ['c_attn'] }), weights), /module "block.c_proj" is not a \["c_attn"\] Linear layer/);
  assert.throws(() => loadPeftAdapter(new Toy(), bad({ r: 3 }), weights), /has shape \[2,6\], expected rank 3/);
  const untouched = new Toy();
  assert.throws(() => loadPeftAdapter(untouched, bad({ r: 3 }), weights));
  assert.equal(loraLayers(untouched).length, 0, 'a failed load leaves the model as it was');
  assert.throws(() => applyLora(new Toy(), { r: 2, loraAlpha: 4, targets: ['nope'] }), /match no Linear module/);
  assert.throws(() => applyLora(new Toy(), { r: 2, loraAlpha: 4, targets: ['block'] }), /"block" is a Block, not a Linear/);
  assert.throws(() => applyLora(new Toy(), { r: 0, loraAlpha: 4, targets: ['c_attn'] }), /r must be a positive integer/);
  assert.throws(() => writePeftAdapter(new Toy()), /no LoRA layers/);
  assert.throws(() => applyLora(ourAdapterModel(), { r: 2, loraAlpha: 4, targets: ['c_attn'] }), /module "block.c_attn" already has LoRA/);
});

test('GPT: LoRA on c_attn, c_proj, c_fc keeps names and logits, trains only A and B, merges, and round-trips through PEFT files', () => {
  const cfg = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, dropout: 0, bias: true };
  const gpt = new GPT(cfg, 3);
  const idx = Int32Array.from({ length: 2 * 6 }, (_, i) => (i * 7) % 11);
  const targets = Int32Array.from(idx, (v) => (v + 1) % 11);
  const before = noGrad(() => gpt.forward(idx, 2, 6).logits).data;
  const baseNames = gpt.namedParameters().map(([n]) => n);
  const paths = applyLora(gpt, { r: 4, loraAlpha: 8, targets: ['c_attn', 'c_proj', 'c_fc'], rng: new Rng(9) });
  assert.deepEqual(paths, ['transformer.h.0.attn.c_attn', 'transformer.h.0.attn.c_proj', 'transformer.h.0.mlp.c_fc', 'transformer.h.0.mlp.c_proj',
    'transformer.h.1.attn.c_attn', 'transformer.h.1.attn.c_proj', 'transformer.h.1.mlp.c_fc', 'transformer.h.1.mlp.c_proj']);
  const names = gpt.namedParameters().map(([n]) => n);
  for (const n of baseNames) assert.ok(names.includes(n), `base name ${n} kept`);
  assert.ok(names.includes('transformer.h.1.mlp.c_fc.lora_B.weight'));
  assert.deepEqual(Array.from(noGrad(() => gpt.forward(idx, 2, 6).logits).data), Array.from(before), 'B = 0: logits unchanged');
  const perLayer = 4 * (8 + 24) + 4 * (8 + 8) + 4 * (8 + 32) + 4 * (32 + 8);
  assert.equal(countParameters(gpt).trainable, 2 * perLayer);
  for (const [, l] of loraLayers(gpt)) l.lora_B.weight.data.set(Tensor.randn(l.lora_B.weight.shape, new Rng(l.outFeatures)).data.map((v) => 0.1 * v));
  const { loss } = gpt.forward(idx, 2, 6, { targets });
  loss!.backward();
  for (const [n, p] of gpt.namedParameters()) assert.equal(p.grad !== null, n.includes('.lora_'), `${n}: gradient iff LoRA`);
  const adapted = noGrad(() => gpt.forward(idx, 2, 6).logits).data;
  const { configJson, weights } = writePeftAdapter(gpt, { baseModelNameOrPath: 'gpt2', fanInFanOut: true });
  assert.deepEqual(JSON.parse(configJson).target_modules, ['c_attn', 'c_fc', 'c_proj']);
  assert.equal(JSON.parse(configJson).fan_in_fan_out, true);
  mergeLora(gpt);
  close('merged logits', noGrad(() => gpt.forward(idx, 2, 6).logits).data, Array.from(adapted));
  const fresh = new GPT(cfg, 3);
  loadPeftAdapter(fresh, configJson, weights);
  assert.deepEqual(Array.from(noGrad(() => fresh.forward(idx, 2, 6).logits).data), Array.from(adapted), 'adapter read back');
});

test('freezeParameters: globs over dotted names', () => {
  assert.ok(globToRegExp('transformer.h.*.attn.*').test('transformer.h.0.attn.c_attn'));
  assert.ok(!globToRegExp('transformer.h.*.attn.*').test('transformer.h.0.attn.c_attn.weight'));
  assert.ok(globToRegExp('**.ln_?.weight').test('transformer.h.1.ln_2.weight'));
  const gpt = new GPT({ vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, dropout: 0, bias: false }, 3);
  const frozen = freezeParameters(gpt, ['transformer.wte.*', 'transformer.h.0.**']);
  assert.ok(frozen.includes('transformer.wte.weight') && frozen.includes('transformer.h.0.mlp.c_fc.weight'));
  assert.ok(!frozen.includes('transformer.h.1.mlp.c_fc.weight'));
  assert.ok(trainableParameters(gpt).every(([n]) => !frozen.includes(n)));
  assert.throws(() => freezeParameters(gpt, ['transformer.nothing.*']), /freezeParameters: pattern "transformer.nothing.\*" matches no parameter/);
  unfreezeParameters(gpt, ['**']);
  assert.equal(countParameters(gpt).trainable, countParameters(gpt).total);
});


// A GPT-2-shaped model (biases, exact GELU) with LoRA on c_attn, c_proj, c_fc: we write its base weights and
// an adapter with fan_in_fan_out true; the fixture script loads the weights into Hugging Face's
// GPT2LMHeadModel (Conv1D, weights transposed), applies our adapter with PeftModel.from_pretrained and
// records the logits, before and after merge_and_unload. Our module paths are HF GPT-2's.
const GPT2_CFG = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, dropout: 0, bias: true };
const GPT2_IDX = Int32Array.from({ length: 2 * 7 }, (_, i) => (i * 5 + 3) % 11);

function gpt2WithAdapter(): { base: Uint8Array; model: GPT } {
  const model = new GPT(GPT2_CFG, 21);
  const tensors: Record<string, SafetensorsEntry> = {};
  for (const [n, p] of model.namedParameters()) tensors[n] = { dtype: 'F32', shape: p.shape.slice(), data: p.data.slice() };
  applyLora(model, { r: 2, loraAlpha: 4, targets: ['c_attn', 'c_proj', 'c_fc'], rng: new Rng(6) });
  for (const [, l] of loraLayers(model)) l.lora_B.weight.data.set(l.lora_B.weight.data.map((_, i) => 0.2 * Math.cos(i + l.inFeatures)));
  return { base: writeSafetensors(tensors, { format: 'pt' }), model };
}

test('HF GPT-2 with PEFT loads the adapter we wrote for our GPT and gives our logits', () => {
  const { base, model } = gpt2WithAdapter();
  const { configJson, weights } = writePeftAdapter(model, { fanInFanOut: true });
  const out = new URL('gpt2_adapter/', dir);
  if (process.env.GPTLAB_WRITE_ALIGN_FIXTURES === '1') {
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(new URL('base_model.safetensors', out), base);
    fs.writeFileSync(new URL('adapter_config.json', out), configJson);
    fs.writeFileSync(new URL('adapter_model.safetensors', out), weights);
  }
  assert.deepEqual(new Uint8Array(fs.readFileSync(new URL('adapter_model.safetensors', out))), weights, 'the committed adapter is ours');
  assert.deepEqual(new Uint8Array(fs.readFileSync(new URL('base_model.safetensors', out))), base, 'and so are the base weights');
  const hf = fx.gpt2_adapter;
  assert.ok(hf, 'lora.json records what HF GPT-2 + PEFT made of it (rerun the fixture script)');
  assert.deepEqual(hf.idx, Array.from(GPT2_IDX));
  close('GPT-2 + PEFT logits', noGrad(() => model.forward(GPT2_IDX, 2, 7).logits).data, hf.logits);
  mergeLora(model);
  close('GPT-2 + PEFT merged logits', noGrad(() => model.forward(GPT2_IDX, 2, 7).logits).data, hf.logits_merged);
});

test('worst differences (for the report)', () => {
  console.log(`LoRA vs PEFT: max |Δ| values ${worst.value.toExponential(2)}, gradients ${worst.grad.toExponential(2)}`);
});
