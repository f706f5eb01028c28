// Checkpoints are validated before anything is allocated, and every problem is blamed on the right file and
// field: a config that describes a huge model, wrong types, weights that are not finite, a tokenizer of
// another size, a corrupt trainer state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBackend } from '../src/backend/index.js';
import { createModel } from '../src/models/registry.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { splitTokens } from '../src/data/dataset.js';
import { Trainer } from '../src/train/trainer.js';
import { Pretraining } from '../src/train/pretraining.js';
import { checkpointFiles } from '../src/train/checkpoint.js';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint.node.js';
import { writeSafetensors } from '../src/formats/safetensors.js';

ensureBackend();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-ckval-'));
const tok = new CharTokenizer(['a', 'b', 'c']);
const cfg = { vocabSize: 3, blockSize: 8, nLayer: 1, nHead: 1, nEmbd: 8, dropout: 0, bias: false };

/** a resumable checkpoint, then one file of it changed by `edit` */
function withEdit(name: string, file: string, edit: (text: string) => string | Uint8Array): string {
  const model = createModel('gpt', cfg, 1);
  const data = Int32Array.from({ length: 200 }, (_, i) => i % 3);
  const trainer = new Trainer(model, new Pretraining(splitTokens(data, { train: 0.9, dev: 0.1, test: 0 })), { maxIters: 2, batchSize: 2, evalInterval: 1, evalIters: 1, sampleAt: [] });
  const dir = path.join(tmp, name);
  saveCheckpoint(dir, checkpointFiles(model, tok, { trainer }));
  const f = path.join(dir, file);
  fs.writeFileSync(f, edit(fs.readFileSync(f, 'utf8')));
  return dir;
}
const config = (change: (m: Record<string, unknown>) => void) => (t: string): string => {
  const c = JSON.parse(t);
  change(c.model);
  return JSON.stringify(c);
};

test('a config that describes a huge model is refused from the safetensors header, before any allocation', () => {
  const dir = withEdit('huge', 'config.json', config((m) => (m.nLayer = 100000)));
  assert.throws(() => loadCheckpoint(dir), /config\.json describes a gpt of [\d,]+ parameters but model\.safetensors holds [\d,]+/);
});

test('wrong types are blamed on their field', () => {
  assert.throws(() => loadCheckpoint(withEdit('bias', 'config.json', config((m) => (m.bias = 'false')))), /config\.json: model config: bias must be true or false, got "false"/);
  assert.throws(() => loadCheckpoint(withEdit('nlayer', 'config.json', config((m) => (m.nLayer = '4')))), /config\.json: model config: nLayer must be a positive integer, got "4"/);
});

test('weights that are not finite are refused, naming the tensor', () => {
  const dir = withEdit('nan', 'config.json', (t) => t);
  const model = createModel('gpt', cfg, 1);
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [n, p] of model.namedParameters()) tensors[n] = { dtype: 'F32', shape: p.shape.slice(), data: Float32Array.from(p.data) };
  tensors['transformer.ln_f.weight'].data[3] = NaN;
  fs.writeFileSync(path.join(dir, 'model.safetensors'), writeSafetensors(tensors));
  assert.throws(() => loadCheckpoint(dir), /model\.safetensors: tensor "transformer\.ln_f\.weight" holds NaN at index 3/);
});

test('a corrupt trainer state is refused, not resumed', () => {
  const state = (change: (s: Record<string, unknown>) => void) => (t: string): string => {
    const s = JSON.parse(t);
    change(s);
    return JSON.stringify(s);
  };
  assert.throws(() => loadCheckpoint(withEdit('step', 'trainer_state.json', state((s) => (s.step = -3))), true), /trainer_state\.json: field "step" must be a whole number in \[0, 9007199254740991\], got -3/);
  assert.throws(() => loadCheckpoint(withEdit('rng', 'trainer_state.json', state((s) => (s.rng = { s: [1, 2], spare: null }))), true), /trainer_state\.json: field "rng" must be a generator state/);
});

test('a tokenizer whose vocabulary differs from the model is refused on load', () => {
  const dir = withEdit('tok', 'tokenizer.json', () => JSON.stringify(new CharTokenizer(['a', 'b']).toJSON()));
  assert.throws(() => loadCheckpoint(dir), /the tokenizer has 2 tokens but the model's vocabulary is 3/);
});

test('a model_type that is not a known type name and an unsupported version are refused, naming the field', () => {
  const top = (change: (c: Record<string, unknown>) => void) => (t: string): string => {
    const c = JSON.parse(t);
    change(c);
    return JSON.stringify(c);
  };
  assert.throws(() => loadCheckpoint(withEdit('mtnull', 'config.json', top((c) => (c.model_type = null)))), /config\.json: field "model_type" must be a model type name \(string\), got null/);
  assert.throws(() => loadCheckpoint(withEdit('mtnum', 'config.json', top((c) => (c.model_type = 3)))), /config\.json: field "model_type" must be a model type name/);
  assert.throws(() => loadCheckpoint(withEdit('mtfoo', 'config.json', top((c) => (c.model_type = 'foo')))), /config\.json: field "model_type": unknown model type "foo"/);
  assert.throws(() => loadCheckpoint(withEdit('v99', 'config.json', top((c) => (c.version = 99)))), /config\.json: field "version" must be a checkpoint version from 1 to \d+, got 99/);
  assert.throws(() => loadCheckpoint(withEdit('vnone', 'config.json', top((c) => delete c.version))), /config\.json: field "version" must be a checkpoint version/);
});

test('a weight stored with an integer dtype is refused, naming the tensor and dtype', () => {
  const dir = withEdit('i32', 'config.json', (t) => t);
  const model = createModel('gpt', cfg, 1);
  const tensors: Record<string, { dtype: 'F32' | 'I32'; shape: number[]; data: Float32Array | Int32Array }> = {};
  for (const [n, p] of model.namedParameters()) tensors[n] = { dtype: 'F32', shape: p.shape.slice(), data: Float32Array.from(p.data) };
  const w = tensors['transformer.ln_f.weight'];
  tensors['transformer.ln_f.weight'] = { dtype: 'I32', shape: w.shape, data: new Int32Array(w.data.buffer) };
  fs.writeFileSync(path.join(dir, 'model.safetensors'), writeSafetensors(tensors));
  assert.throws(() => loadCheckpoint(dir), /model\.safetensors: tensor "transformer\.ln_f\.weight" has dtype I32: model weights must be a float type/);
});
