// --optimizer on every command that trains by gradient steps (src/cli/optimizer-flags.ts): the same choices and
// option checks before any work, the optimizer saved with the run and kept by --resume (a change is refused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ok, refused } from './helpers/cli-result.js';
import { optimizerStateCount } from '../src/optim/registry.js';
import { checkMemoryBounds } from '../src/train/memory-bounds.js';

const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-optimizer-flags-'));
const run = (...args: string[]): { code: number; out: string; err: string } => {
  const r = spawnSync(process.execPath, [main, ...args, '--threads', '1'], { encoding: 'utf8', cwd: tmp, timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
};
/** `gptlab info DIR`'s output (info takes no --threads) */
const infoOf = (dir: string): string => {
  const r = spawnSync(process.execPath, [main, 'info', dir], { encoding: 'utf8', cwd: tmp });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

test('every gradient-training command takes --optimizer and refuses options the optimizer lacks, before any work', () => {
  fs.writeFileSync(path.join(tmp, 'text.txt'), 'the cat sat on the mat. '.repeat(40));
  const commands: [string, string[]][] = [
    ['train', ['train', '--data', 'text.txt']], ['sft', ['sft', '--base', 'nowhere']], ['dpo', ['dpo', '--base', 'nowhere']],
    ['rm train', ['rm', 'train', '--base', 'nowhere']], ['distill', ['distill', '--teacher', 'nowhere']], ['ppo', ['ppo', '--policy', 'nowhere']],
    ['grpo', ['grpo', '--policy', 'nowhere']], ['seq2seq train', ['seq2seq', 'train']], ['classify train', ['classify', 'train']],
    ['tag train', ['tag', 'train']], ['gan train', ['gan', 'train', '--data', 'ring8']], ['vision train', ['vision', 'train']], ['ladder', ['ladder']],
  ];
  commands.forEach(([name, args], i) => {
    const out = ['--out', `o${i}`];
    refused(run(...args, ...out, '--optimizer', 'adagrad', '--momentum', '0.9'), 2, new RegExp(`^gptlab: ${name}: --momentum does not apply to --optimizer adagrad \\(it takes lr-decay, initial-accumulator-value, eps\\)$`), name);
    refused(run(...args, ...out, '--optimizer', 'lion'), 2, new RegExp(`^gptlab: ${name}: --optimizer must be one of (adamw, sgd, rmsprop, adam, adagrad, muon|adamw, adam, sgd, rmsprop, adagrad), got "lion"$`), name);
    assert.ok(!fs.existsSync(path.join(tmp, `o${i}`)), `${name}: nothing written`);
  });
  refused(run('gan', 'train', '--data', 'ring8', '--optimizer', 'muon'), 2, /^gptlab: gan train: --optimizer must be one of adamw, adam, sgd, rmsprop, adagrad, got "muon"$/);
  refused(run('gan', 'train', '--data', 'ring8', '--optimizer', 'sgd', '--beta1', '0.9'), 2, /--beta1 does not apply to --optimizer sgd/);
});

test('seq2seq train with --optimizer sgd saves it; --resume keeps it and refuses another', () => {
  ok(run('seq2seq', 'train', '--optimizer', 'sgd', '--momentum', '0.9', '--max-iters', '2', '--eval-interval', '2', '--bleu-sample', '0', '--out', 's2s', '--quiet'));
  const train = JSON.parse(fs.readFileSync(path.join(tmp, 's2s', 'checkpoint', 'config.json'), 'utf8')).train;
  assert.equal(train.optimizer, 'sgd');
  assert.deepEqual(train.optimizerOptions, { momentum: 0.9 });
  assert.equal(train.weightDecay, 0, 'L2 weight decay off unless given, as torch.optim.SGD');
  refused(run('seq2seq', 'train', '--resume', '--out', 's2s', '--optimizer', 'adamw', '--max-iters', '3'), 2, /^gptlab: seq2seq train --resume: the run trains with --optimizer sgd; --optimizer adamw cannot change it \(its moments are sgd's\)$/);
  refused(run('seq2seq', 'train', '--resume', '--out', 's2s', '--momentum', '0.5', '--max-iters', '3'), 2, /^gptlab: seq2seq train --resume: the run keeps its optimizer \(sgd, --momentum 0\.9\); --momentum 0\.5 cannot change it$/);
  ok(run('seq2seq', 'train', '--resume', '--out', 's2s', '--max-iters', '3', '--bleu-sample', '0', '--quiet'));
  assert.match(infoOf('s2s/checkpoint'), /^ {2}optimizer {2}sgd, lr 0\.003, momentum 0\.9 \(unlisted options at their defaults\)$/m);
  // an n-gram model is counted: optimizer flags are ignored with a note, neither recorded nor shown
  fs.writeFileSync(path.join(tmp, 'long.txt'), 'the cat sat on the mat. '.repeat(400));
  const ng = run('train', '--arch', 'ngram', '--data', 'long.txt', '--optimizer', 'sgd', '--momentum', '0.9', '--out', 'ng');
  ok(ng);
  assert.match(ng.out, /note: --optimizer, --momentum are ignored for --arch ngram/);
  assert.equal(JSON.parse(fs.readFileSync(path.join(tmp, 'ng', 'checkpoint', 'config.json'), 'utf8')).train.optimizer, undefined);
  assert.doesNotMatch(infoOf('ng/checkpoint'), /^ {2}optimizer /m);
  // train --resume of another command's run names it, with or without --data
  refused(run('train', '--resume', '--out', 's2s'), 2, /^gptlab: train --resume: s2s holds a run of gptlab seq2seq train, whose state train cannot continue; resume it with gptlab seq2seq train --resume$/);
  // a seq2seq model too large for memory is refused before anything is read or written
  refused(run('seq2seq', 'train', '--hidden', '100000000', '--out', 'huge'), 2, /^gptlab: out of memory: the parameters .* would need .* GiB .*; lower --hidden\/--emb-dim\/--attn-dim$/);
  assert.ok(!fs.existsSync(path.join(tmp, 'huge')));
});

test('vision train --resume keeps the run\'s optimizer, its settings and its data (it resumed with AdamW and the default glyphs)', () => {
  const small = ['--train-per-class', '4', '--test-per-class', '2', '--glyph-size', '12', '--model', 'mlp', '--hidden', '8', '--eval-interval', '2', '--out', 'vis'];
  ok(run('vision', 'train', ...small, '--optimizer', 'sgd', '--momentum', '0.9', '--lr', '0.05', '--max-iters', '2'));
  refused(run('vision', 'train', '--resume', '--out', 'vis', '--optimizer', 'adam', '--max-iters', '4'), 2, /^gptlab: vision train --resume: the run trains with --optimizer sgd; --optimizer adam cannot change it \(its moments are sgd's\)$/);
  const r = run('vision', 'train', '--resume', '--out', 'vis', '--max-iters', '4');
  ok(r);
  assert.match(r.out, /data: built-in glyphs 12×12: 40 train, 20 test images/);
  const cfg = JSON.parse(fs.readFileSync(path.join(tmp, 'vis', 'checkpoint', 'config.json'), 'utf8'));
  assert.deepEqual([cfg.train.optimizer, cfg.train.optimizerOptions, cfg.train.lr, cfg.train.maxIters], ['sgd', { momentum: 0.9 }, 0.05, 4]);
  assert.match(infoOf('vis/checkpoint'), /^ {2}optimizer {2}sgd, lr 0\.05, momentum 0\.9 \(unlisted options at their defaults\)$/m);
});

test('train --resume refuses --beta1/--beta2 for a run whose optimizer has none', () => {
  const tiny = ['--data', 'text.txt', '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', '--batch-size', '4', '--eval-iters', '2', '--eval-interval', '2'];
  ok(run('train', ...tiny, '--optimizer', 'rmsprop', '--max-iters', '2', '--out', 'rms'));
  refused(run('train', ...tiny, '--resume', '--max-iters', '3', '--out', 'rms', '--beta1', '0.5'), 2, /^gptlab: train --resume: --beta1 does not apply to the run's --optimizer rmsprop$/);
  assert.equal(JSON.parse(fs.readFileSync(path.join(tmp, 'rms', 'checkpoint', 'config.json'), 'utf8')).train.beta1, 0.9, 'the run is untouched');
});

test('the memory bound counts the optimizer\'s own buffers: none for plain SGD, three for centered RMSProp with momentum', () => {
  assert.deepEqual([optimizerStateCount('sgd'), optimizerStateCount('sgd', { momentum: 0.9 }), optimizerStateCount('rmsprop', { centered: true, momentum: 0.9 }),
    optimizerStateCount('adam', { amsgrad: true }), optimizerStateCount('adagrad'), optimizerStateCount(undefined), optimizerStateCount('muon')], [0, 1, 3, 3, 1, 2, 2]);
  // an MLP of 2.5M hidden units over 8 × 24 context inputs: ~0.5 G parameters, 9.4 GiB with Adam's moments, 4.7 GiB with SGD's none
  const mlp = { vocabSize: 60, blockSize: 64, context: 8, nEmbd: 24, nHidden: 2_500_000 };
  assert.throws(() => checkMemoryBounds(mlp, 12), /the parameters with their gradients and 2 optimizer buffers would need 9\.4 GiB/);
  assert.doesNotThrow(() => checkMemoryBounds(mlp, 12, undefined, undefined, 0));
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
