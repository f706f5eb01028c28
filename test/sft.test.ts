// SFT is an objective on the one trainer: its loss covers assistant tokens only, and a run stopped and
// resumed from its checkpoint continues the exact same trajectory (batches, dropout, optimizer moments),
// through the library and through `gptlab sft --resume` after a kill.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureBackend } from '../src/backend/index.js';
import { GPT } from '../src/models/gpt.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { Trainer } from '../src/train/trainer.js';
import { encodeChats, SupervisedFineTuning } from '../src/train/sft.js';
import { withChatVocabulary } from '../src/train/chat-vocabulary.js';
import { checkpointFiles } from '../src/train/checkpoint.js';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint.node.js';
import { defaultSftData } from '../src/data/sft-default.js';

ensureBackend();
const data = defaultSftData({ seed: 1, trainSize: 200, heldOutSize: 20 });
const convs = (xs: typeof data.train) => xs.map((e) => ({ messages: e.messages }));
const text = [...data.train, ...data.heldOut].flatMap((e) => e.messages.map((m) => m.content)).join('') + '\n';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-sft-'));
const cfg = { maxIters: 12, batchSize: 4, evalInterval: 4, warmupIters: 2, lr: 3e-3, sampleAt: [] };

function fresh(seed: number) {
  const base = new GPT({ vocabSize: 3, blockSize: 96, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0.1, bias: false }, seed);
  const { model, tokenizer } = withChatVocabulary(base, new CharTokenizer(['a', 'b', 'c']), text);
  const tr = encodeChats(convs(data.train), tokenizer, 96).examples, dv = encodeChats(convs(data.heldOut), tokenizer, 96).examples;
  return { model, tokenizer, objective: new SupervisedFineTuning(tr, dv) };
}

test('SFT resumed from a checkpoint continues the same trajectory', async () => {
  const a = fresh(5);
  const straight = new Trainer(a.model, a.objective, cfg, { tokenizer: a.tokenizer });
  const lossesA: number[] = [];
  await straight.run({ onStep: (s) => lossesA.push(s.loss) });

  const b = fresh(5);
  const first = new Trainer(b.model, b.objective, cfg, { tokenizer: b.tokenizer });
  const lossesB: number[] = [];
  await first.run({ onStep: (s) => lossesB.push(s.loss), shouldStop: () => first.state.step >= 6 });
  const dir = path.join(tmp, 'ck');
  saveCheckpoint(dir, checkpointFiles(first.model, b.tokenizer, { trainer: first }));
  const ck = loadCheckpoint(dir, true);
  const resumed = new Trainer(ck.model, b.objective, cfg, { tokenizer: ck.tokenizer });
  resumed.restore(ck.trainerState!, ck.moments!);
  await resumed.run({ onStep: (s) => lossesB.push(s.loss) });
  assert.deepEqual(lossesB, lossesA);
  assert.equal(resumed.state.bestDevLoss, straight.state.bestDevLoss);
});

test('the SFT loss covers assistant tokens only', () => {
  const { model, objective } = fresh(6);
  const ex = objective.train[0];
  const assistant = ex.mask.reduce((s, m) => s + m, 0);
  assert.ok(assistant > 0 && assistant < ex.ids.length, `${assistant} of ${ex.ids.length} tokens are trained on`);
  const ev = new Trainer(model, objective, cfg).evaluate();
  assert.ok(ev.dev !== undefined && Number.isFinite(ev.dev) && ev.train === undefined);
});

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const node = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });

test('gptlab sft --resume after a kill continues to the same final weights as an uninterrupted run', async () => {
  const base = path.join(tmp, 'base');
  const tiny = ['--preset', 'tiny', '--block-size', '96', '--n-layer', '1', '--n-embd', '16', '--threads', '1'];
  const r = node(['train', '--demo', '--out', base, '--max-iters', '2', '--eval-interval', '2', '--sample-at', '', ...tiny]);
  assert.equal(r.status, 0, r.stderr);
  const sft = (out: string, more: string[]) => ['sft', '--base', base, '--out', out, '--eval-examples', '2', '--batch-size', '2', '--eval-interval', '3', '--threads', '1', ...more];
  const whole = node(sft(path.join(tmp, 'whole'), ['--max-iters', '45']));
  assert.equal(whole.status, 0, whole.stderr);
  // killed (SIGKILL, nothing saved on the way out) right after the evaluation at step 3 was reported
  const killed = path.join(tmp, 'killed');
  await new Promise<void>((resolve) => {
    const p = spawn(process.execPath, [cli, ...sft(killed, ['--max-iters', '45'])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    p.stderr.on('data', (d) => {
      log += d; // evaluation lines go to stderr with the progress bar
      if (/step 3: /.test(log) && !p.killed) p.kill('SIGKILL');
    });
    p.on('exit', () => resolve());
  });
  const state = JSON.parse(fs.readFileSync(path.join(killed, 'checkpoint', 'trainer_state.json'), 'utf8'));
  assert.ok(state.step % 3 === 0 && state.step >= 3 && state.step < 45, `killed after step ${state.step}`);
  const again = node(['sft', '--out', killed, '--resume', '--threads', '1']);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /resuming .* at step \d/);
  const w = (dir: string) => fs.readFileSync(path.join(dir, 'checkpoint', 'model.safetensors'));
  assert.ok(w(killed).equals(w(path.join(tmp, 'whole'))), 'the resumed run ends with the same weights');
  const refused = node(sft(path.join(tmp, 'whole'), ['--max-iters', '2']));
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /already holds a run: continue it with --resume/);
});

test('SIGTERM saves a checkpoint like Ctrl-C, and the run resumes from it', async () => {
  const out = path.join(tmp, 'term');
  const args = ['train', '--demo', '--out', out, '--max-iters', '100000', '--eval-interval', '50000', '--sample-at', '', '--preset', 'tiny', '--threads', '1'];
  const code = await new Promise<number | null>((resolve) => {
    const p = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (d) => {
      if (/^training /m.test(String(d))) setTimeout(() => p.kill('SIGTERM'), 1500);
    });
    p.on('exit', (c) => resolve(c));
  });
  assert.equal(code, 143); // 128 + SIGTERM, as shells report it
  const state = JSON.parse(fs.readFileSync(path.join(out, 'checkpoint', 'trainer_state.json'), 'utf8'));
  assert.ok(state.step > 0 && state.step < 100000, `saved at step ${state.step}`);
});

test('a signal during a long sample stops it and saves a checkpoint (trial 9)', async () => {
  const out = path.join(tmp, 'term-sample');
  const args = ['train', '--demo', '--out', out, '--max-iters', '5', '--sample-at', '0', '--sample-tokens', '1000000', '--preset', 'tiny', '--threads', '1'];
  const t0 = Date.now();
  const code = await new Promise<number | null>((resolve) => {
    const p = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (d) => {
      if (/^training /m.test(String(d))) setTimeout(() => p.kill('SIGTERM'), 1000);
    });
    p.on('exit', (c) => resolve(c));
  });
  assert.equal(code, 143);
  assert.ok(Date.now() - t0 < 60_000, 'the sample did not stop');
  const state = JSON.parse(fs.readFileSync(path.join(out, 'checkpoint', 'trainer_state.json'), 'utf8'));
  assert.equal(state.step, 0);
});
