// Training: the loss goes down, a resumed run continues the exact same trajectory, early stopping stops,
// a NaN loss stops with the step named, checkpoints round-trip and corrupt ones are refused clearly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBackend } from '../src/backend/index.js';
import { GPT } from '../src/models/gpt.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { Trainer, NonFiniteLossError, resumeChangeNotes, trainConfigNotes } from '../src/train/trainer.js';
import { Pretraining } from '../src/train/pretraining.js';
import { splitTokens } from '../src/data/dataset.js';
import { checkpointFiles } from '../src/train/checkpoint.js';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint.node.js';
import { arithmeticCorpus } from '../src/data/corpus.js';
import { generateIds } from '../src/generate/generate.js';

ensureBackend();
const text = arithmeticCorpus({ lines: 3000, maxOperand: 50, ops: ['+'], seed: 3 });
const tok = CharTokenizer.fromText(text);
const splits = splitTokens(Int32Array.from(tok.encode(text)), { train: 0.9, dev: 0.05, test: 0.05 });
const cfg = { vocabSize: tok.vocabSize, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0.1, bias: true };
const trainCfg = { maxIters: 40, batchSize: 4, evalInterval: 10, evalIters: 2, sampleAt: [], warmupIters: 5, lr: 3e-3 };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-train-'));

test('loss decreases on a learnable corpus', async () => {
  const t = new Trainer(new GPT(cfg, 1), new Pretraining(splits), { ...trainCfg, maxIters: 300, lr: 1e-2, batchSize: 8, evalInterval: 100 }, { tokenizer: tok });
  const first = t.evaluate().dev!;
  await t.run();
  assert.ok(t.state.bestDevLoss < first - 0.5, `dev loss ${first} → ${t.state.bestDevLoss}`);
});

test('resume from a checkpoint continues the same trajectory (dropout and batches included)', async () => {
  const straight = new Trainer(new GPT(cfg, 2), new Pretraining(splits), trainCfg, { tokenizer: tok });
  const lossesA: number[] = [];
  await straight.run({ onStep: (s) => lossesA.push(s.loss) });

  const first = new Trainer(new GPT(cfg, 2), new Pretraining(splits), trainCfg, { tokenizer: tok });
  const lossesB: number[] = [];
  let stopAt = 20;
  await first.run({ onStep: (s) => lossesB.push(s.loss), shouldStop: () => first.state.step >= stopAt });
  const dir = path.join(tmp, 'ck');
  saveCheckpoint(dir, checkpointFiles(first.model, tok, { trainer: first }));
  const ck = loadCheckpoint(dir, true);
  const resumed = new Trainer(ck.model, new Pretraining(splits), trainCfg, { tokenizer: ck.tokenizer });
  resumed.restore(ck.trainerState!, ck.moments!);
  stopAt = Infinity;
  await resumed.run({ onStep: (s) => lossesB.push(s.loss) });
  assert.equal(lossesB.length, lossesA.length);
  assert.deepEqual(lossesB, lossesA);
  assert.deepEqual(Array.from(resumed.model.stateDict().get('transformer.wte.weight')!.data), Array.from(straight.model.stateDict().get('transformer.wte.weight')!.data));
});

test('early stopping after `patience` evaluations without improvement', async () => {
  // lr 0 never improves after the first evaluation
  const t = new Trainer(new GPT(cfg, 3), new Pretraining(splits), { ...trainCfg, lr: 1e-12, minLr: 1e-12, maxIters: 200, patience: 2, dropout: 0 } as never, { tokenizer: tok });
  const outcome = await t.run();
  assert.equal(outcome, 'early-stopped');
  assert.ok(t.state.step < 200);
});

test('a NaN loss stops training and names the step', async () => {
  const m = new GPT(cfg, 4);
  const t = new Trainer(m, new Pretraining(splits), trainCfg, { tokenizer: tok });
  await t.run({ shouldStop: () => t.state.step >= 3 });
  m.transformer.ln_f.weight.data[0] = NaN;
  await assert.rejects(t.run(), (e: unknown) => e instanceof NonFiniteLossError && /step 3/.test((e as Error).message));
});

test('checkpoint folder: round trip, nanoGPT names, and clear errors for damage', () => {
  const m = new GPT(cfg, 5);
  const dir = path.join(tmp, 'rt');
  saveCheckpoint(dir, checkpointFiles(m, tok));
  const names = fs.readdirSync(dir).sort();
  assert.deepEqual(names, ['config.json', 'model.safetensors', 'tokenizer.json']);
  const back = loadCheckpoint(dir);
  const w = back.model.stateDict().get('transformer.h.0.attn.c_attn.weight')!;
  assert.deepEqual(Array.from(w.data), Array.from(m.transformer.h[0].attn.c_attn.weight.data));
  assert.deepEqual(w.shape, [48, 16]); // [out, in]
  assert.equal(back.tokenizer.decode(back.tokenizer.encode('12+3=15')), '12+3=15');

  const st = path.join(dir, 'model.safetensors');
  const bytes = fs.readFileSync(st);
  fs.writeFileSync(st, bytes.subarray(0, bytes.length - 100));
  assert.throws(() => loadCheckpoint(dir), /model\.safetensors/);
  fs.writeFileSync(st, bytes);
  fs.writeFileSync(path.join(dir, 'config.json'), '{"format": "gptlab-checkpoint", ');
  assert.throws(() => loadCheckpoint(dir), /config\.json: not valid JSON/);
  assert.throws(() => loadCheckpoint(path.join(tmp, 'nope')), /no such checkpoint folder/);
});

test('greedy generation is identical with and without the KV cache, past the block size too', () => {
  const m = new GPT({ ...cfg, dropout: 0 }, 6);
  const prompt = tok.encode('12+3');
  const run = (useCache: boolean): number[] => [...generateIds(m, prompt, { maxNewTokens: 40, temperature: 0, useCache })];
  assert.deepEqual(run(true), run(false));
});

test('a warmup as long as the run gets a note; ordinary settings none', () => {
  assert.deepEqual(trainConfigNotes({ maxIters: 2000, warmupIters: 100 }), []);
  const [note] = trainConfigNotes({ maxIters: 30, warmupIters: 100, lr: 0.002 });
  assert.match(note, /^note: the warmup \(--warmup-iters 100\) is not shorter than the run \(--max-iters 30\): the learning rate never reaches --lr 0\.002/);
  assert.deepEqual(trainConfigNotes({ loraplusLrRatio: 16 }), []);
  assert.deepEqual(resumeChangeNotes({ maxIters: 800, lr: 1e-3 }, { maxIters: 800 }), [], 'nothing changed: no note');
  assert.deepEqual(resumeChangeNotes({ maxIters: 800, lr: 1e-3 }, { maxIters: 1200, lr: 0.5, seed: 1337 }), ['note: resuming with --max-iters 800 → 1200, --lr 0.001 → 0.5 (given now)'], 'a setting never saved counts as its default');
  assert.match(trainConfigNotes({ loraplusLrRatio: 1e9 })[0], /^note: --loraplus-lr-ratio 1000000000 is outside 1–64/);
  assert.deepEqual(trainConfigNotes({ maxIters: 5, warmupIters: 0 }), []);
});
