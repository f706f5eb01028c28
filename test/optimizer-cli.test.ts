// `gptlab train` end to end with the other optimizers and model types: --optimizer and its options are stored
// in the run's train config and a resumed run rebuilds the same optimizer (same trajectory); flags that do not
// apply are refused in one line; --arch ngram fits by counting and then samples and evaluates like the others;
// an LSTM trains, samples and evaluates through the commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-optcli-'));
const run = (...args: string[]): { code: number; out: string; err: string } => {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', cwd: tmp, timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
};
const data = path.join(tmp, 'data.txt');
fs.writeFileSync(data, 'the cat sat on the mat. the dog sat on the log.\n'.repeat(100));
const tiny = ['--data', data, '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', '--batch-size', '4', '--eval-iters', '2', '--sample-at', '', '--threads', '1'];
const config = (dir: string): { train: Record<string, unknown> } => JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint', 'config.json'), 'utf8'));
const weights = (dir: string): Buffer => fs.readFileSync(path.join(dir, 'checkpoint', 'model.safetensors'));

test('--optimizer sgd with momentum: stored in the train config, and --resume continues the same trajectory', () => {
  const sgd = ['--optimizer', 'sgd', '--momentum', '0.9', '--nesterov', '--lr', '0.05', '--lr-decay-iters', '6', '--eval-interval', '3', ...tiny];
  const straight = path.join(tmp, 'sgd-straight'), split = path.join(tmp, 'sgd-split');
  const a = run('train', '--out', straight, '--max-iters', '6', ...sgd);
  assert.equal(a.code, 0, a.err);
  assert.match(a.out, /sgd, lr 0.05/);
  const c = config(straight);
  assert.equal(c.train.optimizer, 'sgd');
  assert.deepEqual(c.train.optimizerOptions, { momentum: 0.9, nesterov: true });
  assert.equal(c.train.weightDecay, 0, 'optimizers other than AdamW default to no weight decay');
  assert.equal(run('train', '--out', split, '--max-iters', '3', ...sgd).code, 0);
  // repeating the run's own optimizer flags is fine
  const r = run('train', '--out', split, '--resume', '--max-iters', '6', ...sgd);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(weights(split), weights(straight));
  assert.equal(config(split).train.optimizer, 'sgd');
});

test('adam, rmsprop and adagrad train; their options reach the config', () => {
  for (const [name, ...opts] of [['adam', '--amsgrad', '--eps', '1e-6'], ['rmsprop', '--alpha', '0.9', '--centered'], ['adagrad', '--lr-decay', '0.01']]) {
    const out = path.join(tmp, name);
    const r = run('train', '--out', out, '--optimizer', name, ...opts, '--max-iters', '2', '--eval-interval', '2', ...tiny);
    assert.equal(r.code, 0, r.err);
    assert.equal(config(out).train.optimizer, name);
    assert.ok(Object.keys(config(out).train.optimizerOptions as object).length >= 1);
  }
});

test('--optimizer muon: hidden matrices by Muon, the rest by AdamW; weight decay kept; --resume continues the same trajectory', () => {
  const muon = ['--optimizer', 'muon', '--ns-steps', '4', '--adjust-lr-fn', 'original', '--lr', '0.01', '--lr-decay-iters', '6', '--eval-interval', '3', ...tiny];
  const straight = path.join(tmp, 'muon-straight'), split = path.join(tmp, 'muon-split');
  const a = run('train', '--out', straight, '--max-iters', '6', ...muon);
  assert.equal(a.code, 0, a.err);
  assert.match(a.out, /muon, lr 0.01/);
  const c = config(straight);
  assert.deepEqual(c.train.optimizerOptions, { nsSteps: 4, adjustLrFn: 'original' });
  assert.equal(c.train.weightDecay, 0.1, "Muon's weight decay is decoupled, as AdamW's");
  const info = run('info', path.join(straight, 'checkpoint'));
  assert.match(info.out, /optimizer {2}muon, lr 0\.01, nsSteps 4, adjustLrFn original/);
  assert.equal(run('train', '--out', split, '--max-iters', '3', ...muon).code, 0);
  // repeating the run's own optimizer flags is fine, and so is naming a default it trained with
  const r = run('train', '--out', split, '--resume', '--max-iters', '6', ...muon, '--momentum', '0.95', '--nesterov', '--adam-eps', '1e-8');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(weights(split), weights(straight));
  for (const [flags, re] of [
    [['--adjust-lr-fn', 'fast'], /--adjust-lr-fn must be one of match_rms_adamw, original/],
    [['--ns-steps', '0'], /--ns-steps must be/],
    [['--momentum', '1'], /train: --momentum \(muon\) must be in \[0, 1\), got 1/],
    [['--eps', '0'], /train: --eps \(muon\) must be > 0, got 0/],
  ] as const) {
    const bad = run('train', '--out', path.join(tmp, 'muon-bad'), '--optimizer', 'muon', ...flags, '--max-iters', '2', ...tiny);
    assert.equal(bad.code, 2, bad.err);
    assert.match(bad.err, re);
    assert.equal(bad.err.trim().split('\n').length, 1, bad.err);
    assert.ok(!fs.existsSync(path.join(tmp, 'muon-bad')), 'nothing written');
  }
  // a count-based model has nothing for an optimizer: --optimizer muon fits it as any other does
  const ng = run('train', '--arch', 'ngram', '--order', '2', '--optimizer', 'muon', '--block-size', '16', '--data', data, '--out', path.join(tmp, 'muon-ngram'), '--eval-iters', '2', '--sample-at', '', '--threads', '1');
  assert.equal(ng.code, 0, ng.err);
});

test('optimizer and model flags that do not apply are refused in one line', () => {
  const cases: [string[], RegExp][] = [
    [['--optimizer', 'adam', '--momentum', '0.9'], /--momentum does not apply to --optimizer adam/],
    [['--optimizer', 'sgd', '--beta1', '0.8'], /--beta1 does not apply to --optimizer sgd/],
    [['--optimizer', 'adamw', '--no-nesterov'], /train: --no-nesterov does not apply to --optimizer adamw/],
    [['--optimizer', 'lion'], /--optimizer must be one of adamw, sgd, rmsprop, adam, adagrad/],
    [['--arch', 'gpt', '--n-hidden', '8'], /--n-hidden does not apply to --arch gpt/],
    [['--arch', 'lstm', '--order', '3'], /--order does not apply to --arch lstm/],
  ];
  for (const [flags, re] of cases) {
    const r = run('train', '--out', path.join(tmp, 'bad'), '--max-iters', '1', '--data', data, ...flags);
    assert.equal(r.code, 2, flags.join(' '));
    assert.match(r.err, re);
    assert.equal(r.err.trim().split('\n').length, 1);
  }
  const resumed: [string[], RegExp][] = [
    [['--optimizer', 'adam'], /^gptlab: train --resume: the run trains with --optimizer sgd; --optimizer adam cannot change it/],
    [['--no-nesterov'], /the run keeps its optimizer \(sgd, --nesterov\); --no-nesterov cannot change it/],
    [['--momentum', '0.8'], /\(sgd, --momentum 0\.9\); --momentum 0\.8 cannot change it/],
    [['--dampening', '0.1'], /\(sgd, --dampening 0\); --dampening 0\.1 cannot change it/],
  ];
  for (const [flags, re] of resumed) {
    const r = run('train', '--out', path.join(tmp, 'sgd-straight'), '--resume', '--max-iters', '7', ...flags, '--data', data);
    assert.equal(r.code, 2, flags.join(' ')); // a flag at odds with the run it resumes
    assert.match(r.err, re);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
  }
  const early = run('train', '--out', path.join(tmp, 'sgd-straight'), '--resume', '--max-iters', '2', '--data', data);
  assert.equal(early.code, 2, 'a settings problem');
  assert.match(early.err, /^gptlab: --max-iters 2 is below the run's step 6; give more to train on/);
});

test('--arch ngram --order 3 fits on the training split, saves checkpoint and best, then samples and evaluates', () => {
  const out = path.join(tmp, 'ngram');
  const t = run('train', '--arch', 'ngram', '--order', '3', '--block-size', '32', '--data', data, '--out', out, '--eval-iters', '2', '--sample-at', '0', '--sample-tokens', '10', '--threads', '1');
  assert.equal(t.code, 0, t.err);
  assert.match(t.out, /fitting by counting/);
  assert.match(t.out, /step 0: train loss [\d.]+, dev loss [\d.]+ \(best\)/);
  for (const f of ['checkpoint/ngram.json', 'best/ngram.json', 'best/config.json', 'log.jsonl']) assert.ok(fs.existsSync(path.join(out, f)), f);
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'best', 'config.json'), 'utf8')).model.order, 3);
  const s = run('sample', out, '--prompt', 'the ', '-n', '12', '--seed', '1', '--threads', '1');
  assert.equal(s.code, 0, s.err);
  assert.ok(s.out.startsWith('the '));
  const e = run('eval', out, '--data', data, '--json', '--split', '90/5/5', '--part', 'dev', '--threads', '1');
  assert.equal(e.code, 0, e.err);
  assert.ok(JSON.parse(e.out).loss < 1, e.out);
});

test('--arch lstm through the commands: train, resume, sample, eval', () => {
  const out = path.join(tmp, 'lstm');
  const args = ['--arch', 'lstm', '--preset', 'tiny', '--data', data, '--out', out, '--batch-size', '4', '--eval-iters', '2', '--eval-interval', '3', '--sample-at', '', '--threads', '1'];
  assert.equal(run('train', ...args, '--max-iters', '3').code, 0);
  const bad = run('train', '--out', out, '--resume', '--data', data, '--n-hidden', '64', '--threads', '1');
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /train --resume: the run has n-hidden 32; --n-hidden 64 cannot change it/);
  const r = run('train', ...args, '--resume', '--max-iters', '6'); // its own model flags, repeated, are fine
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /done at step 6/);
  const s = run('sample', out, '--prompt', 'the ', '-n', '10', '--seed', '1', '--threads', '1');
  assert.equal(s.code, 0, s.err);
  const e = run('eval', out, '--data', data, '--json', '--threads', '1');
  assert.equal(e.code, 0, e.err);
  assert.ok(JSON.parse(e.out).tokens > 1000);
});

test('train --arch bert checks its optimizer flags as --arch gpt does; --preset, --n-head and --whole-word are checked before data loads', () => {
  const bad = path.join(tmp, 'bert-bad');
  const r = run('train', '--arch', 'bert', '--demo', '--optimizer', 'sgd', '--momentum', '-1', '--out', bad, '--threads', '1');
  assert.notEqual(r.code, 0);
  assert.match(r.err, /train: --momentum must be at least 0, got -1/);
  assert.equal(fs.existsSync(bad), false, 'nothing written');
  const preset = run('train', '--data', path.join(tmp, 'missing.txt'), '--preset', 'huge');
  assert.equal(preset.code, 2);
  assert.match(preset.err, /--preset must be one of .* for --arch gpt, got "huge"/, 'refused before the missing --data is read');
  const heads = run('train', '--data', path.join(tmp, 'missing.txt'), '--n-head', '3', '--n-embd', '64');
  assert.match(heads.err, /train: --n-head 3 must divide --n-embd 64/);
  const kv = run('train', '--data', path.join(tmp, 'missing.txt'), '--arch', 'llama', '--preset', 'tiny', '--n-kv-head', '3');
  assert.equal(kv.code, 2);
  assert.match(kv.err, /train: llama config: --n-kv-head \(3\) must divide --n-head \(4\)/, 'named by its flag, before the missing --data is read');
  const rw = run('train', '--data', path.join(tmp, 'missing.txt'), '--arch', 'reward');
  assert.equal(rw.code, 2);
  assert.match(rw.err, /--arch must be one of gpt, .*, got "reward" \(a reward model is trained with gptlab rm train\)/);
  const cls = run('train', '--data', path.join(tmp, 'missing.txt'), '--arch', 'bert-seq-cls');
  assert.match(cls.err, /train: --arch bert-seq-cls is fine-tuned with gptlab classify train/);
  const theta = run('train', '--data', path.join(tmp, 'missing.txt'), '--arch', 'llama', '--rope-theta', '0');
  assert.match(theta.err, /train: llama config: --rope-theta must be a positive number, got 0/);
  const ww = run('train', ...tiny, '--max-iters', '1', '--whole-word', '--out', path.join(tmp, 'ww'));
  assert.equal(ww.code, 0, ww.err);
  assert.match(ww.out, /note: --whole-word applies to --arch bert only; ignored for --arch gpt/);
});
