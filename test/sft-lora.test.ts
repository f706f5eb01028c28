// SFT with LoRA (src/train/sft-job.node.ts, src/train/adapt.ts, src/nn/trainable-tokens.ts): only the adapters
// and the rows of the chat tokens SFT adds train; a stopped run resumes to the same weights as an unbroken one;
// the adapter (PEFT layout, with the token rows) and the merged model give the run's own logits; `gptlab sft
// --lora-r` and `gptlab lora merge` on the result.
import { test } from 'node:test';
import { infoCommand } from '../src/cli/info.js';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setBackend } from '../src/backend/backend.js';
import { JsBackend } from '../src/backend/js.js';
import { noGrad, Tensor } from '../src/tensor/index.js';
import { GPT } from '../src/models/gpt.js';
import type { LanguageModel } from '../src/models/model.js';
import { Embedding } from '../src/nn/layers.js';
import { applyTrainableTokens, trainableTokenLayers, TrainableTokens } from '../src/nn/trainable-tokens.js';
import { countParameters } from '../src/nn/freeze.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { withChatVocabulary } from '../src/train/chat-vocabulary.js';
import { checkpointFiles } from '../src/train/checkpoint.js';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint.node.js';
import { loadAnyCheckpoint } from '../src/train/lora-checkpoint.node.js';
import { runSftJob, type SftJob } from '../src/train/sft-job.node.js';
import { readSafetensors, toFloat32, writeSafetensors, type SafetensorsEntry } from '../src/formats/safetensors.js';
import { loadPeftAdapter, writePeftAdapter } from '../src/formats/peft.js';
import { applyLora, loraLayers } from '../src/nn/lora.js';
import { adaptModel, mergedCopy } from '../src/train/adapt.js';
import { Llama } from '../src/models/llama.js';
import { LLAMA_PRESETS, type LlamaConfig } from '../src/models/llama-config.js';
import { sftCommand } from '../src/cli/sft.js';
import { loraCommand } from '../src/cli/lora.js';
import { gradcheck } from './helpers/gradcheck.js';
import { Rng } from '../src/tensor/rng.js';
import { capturingStdout } from './helpers/cli-result.js';

setBackend(new JsBackend());
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-sft-lora-'));
const chars = 'abcdefghijklmnopqrstuvwxyz .?'.split('');
const base = path.join(dir, 'base');
saveCheckpoint(base, checkpointFiles(new GPT({ vocabSize: chars.length, blockSize: 64, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: true }, 1), new CharTokenizer(chars)));
const data = path.join(dir, 'chat.jsonl');
const convs = Array.from({ length: 16 }, (_, i) => ({ messages: [{ role: 'user', content: `Q${i % 5}?` }, { role: 'assistant', content: `A ${i % 3}!` }] }));
fs.writeFileSync(data, convs.map((c) => JSON.stringify(c)).join('\n') + '\n');
/** the text whose characters SFT adds to the vocabulary, as the job gathers it */
const chatText = convs.flatMap((c) => c.messages.map((m) => m.content)).join('') + '\n';
const grownBase = (): GPT => withChatVocabulary(loadCheckpoint(base).model, new CharTokenizer(chars), chatText).model as GPT;
const quiet = (): void => {};
const job = (out: string, more: Partial<SftJob> = {}): SftJob => ({
  base, data, out, resume: false, devFraction: 0.25, evalExamples: 0, quiet: true,
  adapt: { lora: { r: 2, alpha: 4, dropout: 0, targets: ['all-linear'] } },
  train: { maxIters: 6, batchSize: 3, evalInterval: 3, warmupIters: 0, lr: 1e-2, minLr: 1e-2, seed: 3 }, ...more,
});
const tensors = (file: string): Map<string, Float32Array> => new Map([...readSafetensors(new Uint8Array(fs.readFileSync(file)), file).tensors].map(([n, e]) => [n, toFloat32(e)]));
const ids = Int32Array.from({ length: 2 * 9 }, (_, i) => (i * 7) % 35);
const logits = (m: LanguageModel): Float32Array => noGrad(() => m.forward(ids, 2, 9).logits).data.slice();

function close(what: string, a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= tol)) assert.fail(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

test('trainable tokens: only the chosen rows get gradients, in the embedding and the tied head; merge writes them in', () => {
  const gpt = new GPT({ vocabSize: 7, blockSize: 8, nLayer: 1, nHead: 1, nEmbd: 4, dropout: 0, bias: false }, 2);
  const before = logits2(gpt);
  applyTrainableTokens(gpt, ['transformer.wte'], [5, 2]);
  const wte = gpt.transformer.wte as unknown as TrainableTokens;
  assert.ok(wte instanceof TrainableTokens);
  assert.deepEqual(Array.from(logits2(gpt)), Array.from(before), 'starts as a copy of the rows: output unchanged');
  for (const [, p] of gpt.namedParameters()) p.requiresGrad = p === wte.delta;
  assert.deepEqual(gpt.namedParameters().filter(([, p]) => p.requiresGrad).map(([n]) => n), ['transformer.wte.token_adapter.trainable_tokens_delta']);
  wte.delta.data.set(Tensor.randn([2, 4], new Rng(4)).data);
  const x = Int32Array.from([5, 1, 2, 2, 0, 6]);
  gradcheck('trainable token rows', () => gpt.forward(x, 1, 6, { targets: Int32Array.from([1, 2, 2, 0, 5, 3]) }).loss!, [wte.delta]);
  const adapted = logits2(gpt);
  wte.merge();
  close('merged', logits2(gpt), adapted);
  assert.deepEqual(Array.from(wte.baseWeight.data.subarray(5 * 4, 6 * 4)), Array.from(wte.delta.data.subarray(0, 4)), 'row 5 written in');
  wte.unmerge();
  assert.throws(() => applyTrainableTokens(gpt, ['transformer.wte'], [1]), /already has trainable tokens/);
  assert.throws(() => new TrainableTokens(new Embedding(3, 2, new Rng(1)), [3]), /token index 3 is outside the table's 3 rows/);
});

function logits2(m: GPT): Float32Array {
  return noGrad(() => m.forward(Int32Array.from([0, 5, 2, 6, 1, 3]), 1, 6).logits).data.slice();
}

test('sft with LoRA trains only the adapters and the new tokens\' rows; the adapter and the merged model give its logits', async () => {
  const out = path.join(dir, 'lora');
  const lines: string[] = [];
  const res = await runSftJob(job(out), (l) => lines.push(l));
  assert.equal(res.steps, 6);
  const grown = withChatVocabulary(loadCheckpoint(base).model, new CharTokenizer(chars), chatText);
  const newIds = grown.addedIds;
  assert.ok(newIds.length >= 5, 'chat specials and new characters were added');
  const summary = lines.find((l) => l.includes('trainable params'))!;
  assert.match(summary, new RegExp(`LoRA r=2 α=4 on 4 layers \\(c_attn, c_proj, c_fc\\); rows of ${newIds.length} new tokens in transformer\\.wte: trainable params: [\\d,]+`));
  // the saved run: base tensors exactly as the grown base, adapters moved
  const saved = tensors(path.join(out, 'checkpoint', 'model.safetensors'));
  const start = new Map(grown.model.stateDict());
  for (const [n, t] of start) assert.deepEqual(Array.from(saved.get(n)!), Array.from(t.data), `${n} is frozen`);
  const adapterNames = [...saved.keys()].filter((n) => !start.has(n)).sort();
  assert.deepEqual(adapterNames.filter((n) => !n.includes('.lora_')), ['transformer.wte.token_adapter.trainable_tokens_delta']);
  const delta = saved.get('transformer.wte.token_adapter.trainable_tokens_delta')!;
  const C = 16, wte = start.get('transformer.wte.weight')!.data;
  const initRows = newIds.flatMap((id) => Array.from(wte.subarray(id * C, (id + 1) * C)));
  assert.notDeepEqual(Array.from(delta), initRows, 'the new rows trained');
  const ck = loadAnyCheckpoint(out);
  const c = countParameters(ck.model as GPT);
  const loraCount = 2 * (16 + 48) + 2 * (16 + 16) + 2 * (16 + 64) + 2 * (64 + 16);
  assert.equal(c.trainable, loraCount + newIds.length * C, 'LoRA params plus the new rows');
  assert.match(summary, new RegExp(`trainable params: ${c.trainable.toLocaleString('en')} \\|\\| all params: ${c.total.toLocaleString('en')}`));
  const want = logits(ck.model);
  close('merged/ logits', logits(loadCheckpoint(path.join(out, 'merged')).model), want);
  // PEFT layout: the token rows travel with the adapter and load onto the grown base
  const cfg = JSON.parse(fs.readFileSync(path.join(out, 'adapter', 'adapter_config.json'), 'utf8'));
  assert.deepEqual(cfg.trainable_token_indices, newIds);
  assert.deepEqual(cfg.target_modules, ['c_attn', 'c_fc', 'c_proj']);
  const fresh = grownBase();
  loadPeftAdapter(fresh, JSON.stringify(cfg), new Uint8Array(fs.readFileSync(path.join(out, 'adapter', 'adapter_model.safetensors'))));
  close('adapter on the base', logits(fresh), want);
  const noTokens = { ...cfg, trainable_token_indices: null };
  const other = grownBase();
  assert.throws(() => loadPeftAdapter(other, JSON.stringify(noTokens), new Uint8Array(fs.readFileSync(path.join(out, 'adapter', 'adapter_model.safetensors')))), /has trained token rows .* no trainable_token_indices/);
});

test('a LoRA SFT run stopped and resumed ends with the weights of an unbroken run', async () => {
  const whole = path.join(dir, 'whole'), parts = path.join(dir, 'parts');
  await runSftJob(job(whole), quiet);
  await runSftJob(job(parts, { train: { ...job(parts).train, maxIters: 3 } }), quiet);
  const again: string[] = [];
  await runSftJob({ out: parts, resume: true, devFraction: 0.25, evalExamples: 0, quiet: true, train: { maxIters: 6 } }, (l) => again.push(l));
  assert.ok(again.some((l) => /resuming .* at step 3/.test(l)));
  const a = tensors(path.join(whole, 'checkpoint', 'model.safetensors')), b = tensors(path.join(parts, 'checkpoint', 'model.safetensors'));
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [n, t] of a) assert.deepEqual(Array.from(b.get(n)!), Array.from(t), `${n} after resuming`);
  const meta = JSON.parse(fs.readFileSync(path.join(parts, 'checkpoint', 'config.json'), 'utf8')).meta;
  assert.equal(meta.base, base, 'the resumed run keeps its base');
  assert.ok(meta.lora.trainableTokens.length > 0);
  assert.ok(fs.existsSync(path.join(parts, 'adapter', 'adapter_model.safetensors')));
});

/** runs a command with its text output captured */
async function run(fn: (a: string[]) => Promise<number>, args: string[]): Promise<{ code: number; out: string }> {
  const r = await capturingStdout(() => fn(args));
  return { code: r.result, out: r.out };
}

test('gptlab sft --lora-r, --no-lora-new-tokens, --freeze, and lora merge on the result', async () => {
  const common = ['--base', base, '--data', data, '--max-iters', '2', '--eval-interval', '2', '--batch-size', '2', '--eval-examples', '0', '--backend', 'js'];
  const out = path.join(dir, 'cli');
  const r = await run(sftCommand, [...common, '--out', out, '--lora-r', '2', '--lora-targets', 'c_attn']);
  assert.equal(r.code, 0);
  assert.match(r.out, /LoRA r=2 α=16 on 1 layers \(c_attn\); rows of \d+ new tokens in transformer\.wte: trainable params/);
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'checkpoint', 'config.json'), 'utf8')).train.lr, 1e-2, 'LoRA\'s default learning rate');
  const m = await run(loraCommand, ['merge', out, '--out', path.join(dir, 'cli-merged')]);
  assert.match(m.out, /merged LoRA \(r=2/);
  close('lora merge', logits(loadCheckpoint(path.join(dir, 'cli-merged')).model), logits(loadAnyCheckpoint(out).model));
  const frozen = await run(sftCommand, [...common, '--out', path.join(dir, 'cli-frozen'), '--lora-r', '2', '--no-lora-new-tokens', '--lr', '0.003']);
  assert.match(frozen.out, /LoRA r=2 α=16 on 4 layers \(c_attn, c_proj, c_fc\): trainable params/);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'cli-frozen', 'checkpoint', 'config.json'), 'utf8')).train.lr, 0.003);
  const fr = await run(sftCommand, [...common, '--out', path.join(dir, 'cli-freeze'), '--freeze', 'transformer.h.0.**']);
  assert.match(fr.out, /froze \d+ tensors: trainable params/);
  const frozenBlock = (): Float32Array => tensors(path.join(dir, 'cli-freeze', 'checkpoint', 'model.safetensors')).get('transformer.h.0.mlp.c_fc.weight')!;
  const block0 = frozenBlock();
  const resumed = await run(sftCommand, ['--out', path.join(dir, 'cli-freeze'), '--resume', '--max-iters', '4', '--backend', 'js']);
  assert.match(resumed.out, /resuming .* at step 2/);
  assert.deepEqual(Array.from(frozenBlock()), Array.from(block0), 'a resumed --freeze run keeps its frozen tensors frozen');
  assert.notDeepEqual(Array.from(tensors(path.join(dir, 'cli-freeze', 'checkpoint', 'model.safetensors')).get('transformer.ln_f.weight')!), Array.from(loadCheckpoint(base).model.stateDict().get('transformer.ln_f.weight')!.data), 'the rest trains');
  await assert.rejects(sftCommand([...common, '--out', path.join(dir, 'x'), '--lora-r', '0']), /--lora-r must be at least 1/);
  await assert.rejects(sftCommand([...common, '--out', path.join(dir, 'y'), '--lora-r', '2', '--lora-targets', 'nope']), /matches no Linear module/);
  await assert.rejects(sftCommand([...common, '--out', path.join(dir, 'z'), '--lora-targets', 'foo']), /--lora-targets needs --lora-r/);
  await assert.rejects(sftCommand([...common, '--out', path.join(dir, 'z'), '--loraplus-lr-ratio', '4']), /--loraplus-lr-ratio needs --lora-r/);
  await assert.rejects(sftCommand([...common, '--out', path.join(dir, 'z'), '--lora-r', '2', '--loraplus-lr-ratio', '0']), /--loraplus-lr-ratio/);
  const plus = await run(sftCommand, [...common, '--out', path.join(dir, 'cli-plus'), '--lora-r', '2', '--loraplus-lr-ratio', '4']);
  assert.equal(plus.code, 0);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'cli-plus', 'checkpoint', 'config.json'), 'utf8')).train.loraplusLrRatio, 4, 'LoRA+ is a training setting: saved, so --resume keeps it');
  const again = await run(sftCommand, ['--out', path.join(dir, 'cli-plus'), '--resume', '--max-iters', '3', '--loraplus-lr-ratio', '2', '--backend', 'js']);
  assert.equal(again.code, 0, 'a resumed LoRA run takes a new ratio without --lora-r');
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'cli-plus', 'checkpoint', 'config.json'), 'utf8')).train.loraplusLrRatio, 2);
  await assert.rejects(sftCommand(['--out', path.join(dir, 'cli-plus'), '--resume', '--lora-r', '4']), /sft --resume: the run has --lora-r 2; --lora-r 4 cannot change it/);
  assert.match((await run(infoCommand, [path.join(dir, 'cli-plus', 'checkpoint')])).out, /lora +r 2, alpha 16, LoRA\+ ratio 2, targets/, 'info shows the LoRA+ ratio');
  await assert.rejects(sftCommand(['--out', path.join(dir, 'cli-freeze'), '--resume', '--max-iters', '6', '--loraplus-lr-ratio', '4', '--backend', 'js']), /--loraplus-lr-ratio\) 4 needs LoRA adapters/);
});

// PEFT parity (scripts/fixtures/make_lora_tokens_fixture.py): a GPT-2-shaped GPT with LoRA on c_attn, c_proj,
// c_fc and the rows of tokens 3 and 9 trained. Transformers' GPT2LMHeadModel + PeftModel.from_pretrained on our
// adapter (fan_in_fan_out true) gives our logits, merged too; PEFT's own saved adapter gives PEFT's logits here.
// To rewrite our adapter: GPTLAB_WRITE_ALIGN_FIXTURES=1 node --test dist/test/sft-lora.test.js, then rerun the script.
const fixtures = new URL('../../test/fixtures/align/', import.meta.url);
const GPT2_CFG = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, dropout: 0, bias: true };
const GPT2_IDX = Int32Array.from({ length: 2 * 7 }, (_, i) => (i * 5 + 3) % 11);
const gpt2Logits = (m: GPT): Float32Array => noGrad(() => m.forward(GPT2_IDX, 2, 7).logits).data.slice();

function gpt2WithTokens(): { base: Uint8Array; model: GPT } {
  const model = new GPT(GPT2_CFG, 23);
  const entries: Record<string, SafetensorsEntry> = {};
  for (const [n, p] of model.namedParameters()) entries[n] = { dtype: 'F32', shape: p.shape.slice(), data: p.data.slice() };
  applyLora(model, { r: 2, loraAlpha: 4, targets: ['c_attn', 'c_proj', 'c_fc'], rng: new Rng(7) });
  for (const [, l] of loraLayers(model)) l.lora_B.weight.data.set(l.lora_B.weight.data.map((_, i) => 0.2 * Math.cos(i + l.outFeatures)));
  applyTrainableTokens(model, ['transformer.wte'], [3, 9]);
  const t = model.transformer.wte as unknown as TrainableTokens;
  t.delta.data.set(t.delta.data.map((_, i) => 0.5 * Math.sin(3 * i + 1)));
  return { base: writeSafetensors(entries, { format: 'pt' }), model };
}

test('PEFT (trainable_token_indices) loads our adapter with token rows and gives our logits; ours loads PEFT\'s', () => {
  const { base: baseBytes, model } = gpt2WithTokens();
  const { configJson, weights } = writePeftAdapter(model, { fanInFanOut: true });
  assert.deepEqual(JSON.parse(configJson).trainable_token_indices, [3, 9]);
  const ours = new URL('gpt2_tokens_adapter/', fixtures);
  if (process.env.GPTLAB_WRITE_ALIGN_FIXTURES === '1') {
    fs.mkdirSync(ours, { recursive: true });
    fs.writeFileSync(new URL('base_model.safetensors', ours), baseBytes);
    fs.writeFileSync(new URL('adapter_config.json', ours), configJson);
    fs.writeFileSync(new URL('adapter_model.safetensors', ours), weights);
  }
  assert.deepEqual(new Uint8Array(fs.readFileSync(new URL('base_model.safetensors', ours))), baseBytes, 'the committed base weights are ours');
  assert.deepEqual(new Uint8Array(fs.readFileSync(new URL('adapter_model.safetensors', ours))), weights, 'and so is the adapter');
  const fx = JSON.parse(fs.readFileSync(new URL('lora_tokens.json', fixtures), 'utf8'));
  assert.deepEqual(fx.idx, Array.from(GPT2_IDX));
  close('GPT-2 + PEFT on our adapter', gpt2Logits(model), fx.ours.logits);
  const merged = mergedCopy(model) as GPT;
  close('GPT-2 + PEFT merged', gpt2Logits(merged), fx.ours.logits_merged);
  // PEFT's own adapter onto our GPT with the same base weights
  const fresh = new GPT(GPT2_CFG, 23);
  const peftDir = new URL('gpt2_tokens_peft/', fixtures);
  const cfg = loadPeftAdapter(fresh, fs.readFileSync(new URL('adapter_config.json', peftDir), 'utf8'), new Uint8Array(fs.readFileSync(new URL('adapter_model.safetensors', peftDir))));
  assert.deepEqual(cfg.trainable_token_indices, [9, 4]);
  assert.deepEqual((fresh.transformer.wte as unknown as TrainableTokens).tokenIndices, [9, 4]);
  close('our GPT on PEFT\'s adapter', gpt2Logits(fresh), fx.peft.logits);
  close('merged', gpt2Logits(mergedCopy(fresh) as GPT), fx.peft.logits_merged);
});

test('LLaMA with an untied head: all-linear skips lm_head, both token tables train the new rows, the adapter round-trips', () => {
  const cfg: LlamaConfig = { ...LLAMA_PRESETS.tiny, vocabSize: 19, blockSize: 12, nEmbd: 16, nHead: 4, nKvHead: 2, intermediateSize: 24, ropeTheta: 1000, tieWordEmbeddings: false };
  const m = new Llama(cfg, 5);
  const x = Int32Array.from([1, 17, 4, 18, 2, 9]);
  const summary = adaptModel(m, { lora: { r: 2, alpha: 4, dropout: 0, targets: ['all-linear'], trainableTokens: [17, 18] } });
  assert.match(summary, /on \d+ layers \(q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj\); rows of 2 new tokens in model\.embed_tokens, lm_head/);
  for (const [, l] of loraLayers(m)) l.lora_B.weight.data.set(l.lora_B.weight.data.map((_, i) => 0.1 * Math.sin(i)));
  for (const [, t] of trainableTokenLayers(m)) t.delta.data.set(t.delta.data.map((_, i) => 0.3 * Math.cos(i)));
  const want = noGrad(() => m.forward(x, 1, 6).logits).data.slice();
  const { configJson, weights } = writePeftAdapter(m);
  assert.deepEqual(JSON.parse(configJson).trainable_token_indices, { 'model.embed_tokens': [17, 18], lm_head: [17, 18] });
  const fresh = new Llama(cfg, 5);
  loadPeftAdapter(fresh, configJson, weights);
  close('LLaMA adapter read back', noGrad(() => fresh.forward(x, 1, 6).logits).data, want);
  close('LLaMA merged', noGrad(() => mergedCopy(m).forward(x, 1, 6).logits).data, want);
});
