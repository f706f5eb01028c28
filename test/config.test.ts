// --config files: our flag names in any case, and nanoGPT's config names (learning_rate, out_dir, n_layer, …)
// as its train.py globals spell them; flags on the command line win.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from '../src/cli/args.js';
import { TRAIN_OPTS } from '../src/cli/train.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-config-'));
const file = (name: string, json: unknown): string => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, JSON.stringify(json));
  return f;
};

test("a nanoGPT config (config/train_shakespeare_char.py's values) is accepted under nanoGPT's names", () => {
  const f = file('shakespeare_char.json', {
    out_dir: 'out-shakespeare-char', eval_interval: 250, eval_iters: 200, log_interval: 10, always_save_checkpoint: false,
    wandb_log: false, dataset: 'shakespeare_char', gradient_accumulation_steps: 1, batch_size: 64, block_size: 256,
    n_layer: 6, n_head: 6, n_embd: 384, dropout: 0.2, learning_rate: 1e-3, max_iters: 5000, lr_decay_iters: 5000,
    min_lr: 1e-4, beta2: 0.99, warmup_iters: 100, device: 'cpu', compile: false,
  });
  const o = parseArgs(['--config', f, '--max-iters', '100'], TRAIN_OPTS, 'train');
  assert.equal(o.lr, 1e-3);
  assert.equal(o.out, 'out-shakespeare-char');
  assert.equal(o.nLayer, 6);
  assert.equal(o.batchSize, 64);
  assert.equal(o.lrDecayIters, 5000);
  assert.equal(o.maxIters, 100, 'the flag wins over the file');
  assert.ok(o._given.has('nLayer') && o._given.has('maxIters'), '_given: set by the file or a flag');
  assert.deepEqual([...o._flags], ['maxIters'], '_flags: set on the command line only');
});

test('decay_lr false gives a constant learning rate; settings gptlab cannot honour are refused by name', () => {
  const o = parseArgs(['--config', file('c.json', { learning_rate: 3e-4, decay_lr: false })], TRAIN_OPTS, 'train');
  assert.equal(o.minLr, 3e-4);
  assert.equal(o.warmupIters, 0);
  assert.throws(() => parseArgs(['--config', file('g.json', { gradient_accumulation_steps: 8 })], TRAIN_OPTS, 'train'), /gradient_accumulation_steps.*no gradient accumulation/);
  assert.throws(() => parseArgs(['--config', file('u.json', { learning_rat: 1 })], TRAIN_OPTS, 'train'), /unknown option "learning_rat"/);
  assert.throws(() => parseArgs(['--config', file('t.json', { learning_rate: 'fast' })], TRAIN_OPTS, 'train'), /t\.json: --lr must be a number/);
  assert.throws(() => parseArgs(['--config', tmp], TRAIN_OPTS, 'train'), /is a folder, not a config file/);
});

test('a flag and its --no- form together are refused; either one repeated is fine', () => {
  assert.throws(() => parseArgs(['--nesterov', '--no-nesterov'], TRAIN_OPTS, 'train'), /train: --nesterov and --no-nesterov contradict each other; give one$/);
  assert.equal(parseArgs(['--no-nesterov', '--no-nesterov'], TRAIN_OPTS, 'train').nesterov, false);
});
