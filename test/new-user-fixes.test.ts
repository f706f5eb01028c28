// What a new user hit, end to end on tiny runs: a closed pipe (gptlab … | head) ends a command quietly (a training
// run saves its checkpoint first), a new run never appends to an aborted run's log, flags ignored or at odds with
// the run they resume are refused (exit 2) while repeating the run's own LoRA settings is fine, stray arguments and
// a flag missing its value are refused, checks come before work with the right exit code, numbers are decimal and
// exact, out-of-memory lines name the command's own flags, every missing subcommand exits 2, ladder says what
// Ctrl-C kept, and a finished run resumed says there is nothing left to train. One line each, no stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GPT } from '../src/models/gpt.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { withChatVocabulary } from '../src/train/chat-vocabulary.js';
import { checkpointFiles } from '../src/train/checkpoint.js';
import { saveCheckpoint } from '../src/train/checkpoint.node.js';
import { ok, refused } from './helpers/cli-result.js';

const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-new-user-'));
type Result = { code: number; out: string; err: string };
const run = (...args: string[]): Result => {
  const threads = ['lora', 'embed', 'rm'].includes(args[0]) && args.length < 3 ? [] : ['--threads', '1'];
  const r = spawnSync(process.execPath, [main, ...args, ...(args[0] === 'embed' ? [] : threads)], { encoding: 'utf8', cwd: tmp, timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
};
const write = (name: string, text: string): string => (fs.writeFileSync(path.join(tmp, name), text), name);
const text = write('text.txt', 'the cat sat on the mat.\n'.repeat(40));
const tiny = ['--data', text, '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', '--eval-iters', '1', '--batch-size', '2', '--seed', '1', '--sample-at', ''];
const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,?!+-*/=\n'.split('');
{
  const base = new GPT({ vocabSize: chars.length, blockSize: 48, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: false }, 1);
  const { model, tokenizer } = withChatVocabulary(base, new CharTokenizer(chars), '');
  saveCheckpoint(path.join(tmp, 'chat'), checkpointFiles(model, tokenizer));
}
const sftQuick = ['--eval-examples', '0', '--batch-size', '2', '--eval-interval', '1'];

/** runs gptlab with its stdout closed by the reader after the first output; resolves with the exit code and stderr */
function closedPipe(args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args, '--threads', '1'], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    child.on('close', (code) => resolve({ code, err }));
  });
}

test('a closed output pipe ends train and sample quietly; train saves its checkpoint; a new run starts a fresh log', async () => {
  const t = await closedPipe(['train', '--out', 'pipe1', '--max-iters', '100000', '--eval-interval', '5', ...tiny]);
  assert.equal(t.code, 141, t.err);
  assert.doesNotMatch(t.err, /EPIPE|\n\s+at /);
  assert.ok(fs.existsSync(path.join(tmp, 'pipe1', 'checkpoint', 'config.json')), 'the stopped run saved its checkpoint');
  const s = await closedPipe(['sample', 'pipe1', '-n', '2000']);
  assert.equal(s.code, 141, s.err);
  assert.doesNotMatch(s.err, /EPIPE|\n\s+at /);
  // an aborted run that left only a log: the next run into the folder starts its own
  fs.mkdirSync(path.join(tmp, 'stale'));
  fs.writeFileSync(path.join(tmp, 'stale', 'log.jsonl'), '{"stale":true}\n');
  ok(run('train', '--out', 'stale', '--max-iters', '2', '--eval-interval', '2', ...tiny));
  assert.doesNotMatch(fs.readFileSync(path.join(tmp, 'stale', 'log.jsonl'), 'utf8'), /stale/);
});

test('flags given with --resume: another tokenizer or LoRA setting is refused, the run\'s own LoRA settings are fine', () => {
  ok(run('train', '--out', 'pt', '--max-iters', '2', '--eval-interval', '2', ...tiny, '--block-size', '48'));
  refused(run('train', '--resume', '--out', 'pt', '--tokenizer', 'nope.json'), 2, /train --resume: .*--tokenizer nope\.json cannot change it/);
  // a base without the chat tokens: the LoRA run trains the rows of those it adds
  ok(run('sft', '--base', 'pt', '--out', 'lora', '--lora-r', '4', '--max-iters', '1', ...sftQuick), 'LoRA sft');
  ok(run('sft', '--resume', '--out', 'lora', '--lora-r', '4', '--lora-alpha', '16', '--max-iters', '2', ...sftQuick), 'repeating the run\'s own rank');
  refused(run('sft', '--resume', '--out', 'lora', '--lora-r', '8', '--max-iters', '3'), 2, /the run has --lora-r 4; --lora-r 8 cannot change it/);
  refused(run('sft', '--resume', '--out', 'lora', '--no-lora-new-tokens', '--max-iters', '3'), 2, /--no-lora-new-tokens cannot change it/);
});

test('stray arguments and a flag missing its value are refused; numbers are decimal and exact; --min-lr above --lr', () => {
  for (const cmd of [['sft'], ['dpo'], ['rm', 'train'], ['grpo'], ['ppo'], ['distill'], ['seq2seq', 'train']]) {
    refused(run(...cmd, '--out', 'X', 'stray'), 2, /unexpected argument "stray"/, cmd.join(' '));
  }
  assert.ok(!fs.existsSync(path.join(tmp, 'X')));
  refused(run('sft', '--base', '--max-iters', '1', '--out', 'X'), 2, /^gptlab: sft: --base needs a value \(--max-iters is a flag\)$/);
  refused(run('train', '--data', text, '--lr', '-1', '--out', 'X'), 2, /--lr must be greater than 0, got -1/);
  refused(run('train', '--data', text, '--batch-size', '0x10', '--out', 'X'), 2, /--batch-size must be a whole number/);
  refused(run('train', '--data', text, '--max-iters', '99999999999999999999', '--out', 'X'), 2, /--max-iters is too large to count exactly/);
  refused(run('train', '--data', text, '--lr', '1e999', '--out', 'X'), 2, /--lr is beyond the largest number JavaScript holds \(±1\.8e308\), got "1e999"/);
  refused(run('train', '--data', text, '--min-lr', '1', '--out', 'X'), 2, /--min-lr 1 is above --lr/);
  refused(run('sft', '--base', 'chat', '--min-lr', '1', '--out', 'X'), 2, /--min-lr 1 is above --lr/);
});

test('checks before work, with the right exit code; out-of-memory lines name the command\'s flags; subcommands', () => {
  const t = run('sft', '--base', 'chat', '--lora-r', '8', '--lora-targets', 'foo', '--out', 'X');
  refused(t, 2, /--lora-targets foo: matches no Linear module/);
  assert.doesNotMatch(t.out, /held-out accuracy/);
  refused(run('sft', '--base', 'chat', '--freeze', 'nothing.*', '--out', 'X'), 2, /--freeze: pattern "nothing\.\*" matches no parameter/);
  refused(run('sft', '--base', 'chat', '--lora-r', '100000', '--out', 'X'), 2, /--lora-r 100000: at most/);
  refused(run('ladder', '--split', '50/60'), 2, /ladder: --split/);
  refused(run('ladder', '--split', 'abc'), 2, /ladder: --split/);
  const l = run('ladder', '--preset', 'huge');
  refused(l, 2, /ladder: --preset huge is not a preset/);
  assert.equal(l.out, '');
  write('bad.jsonl', '{"prompt": 1\n');
  refused(run('rm', 'score', 'chat', '--file', 'bad.jsonl'), 1, /^gptlab: error: bad\.jsonl:1: not valid JSON/);
  refused(run('distill', '--teacher', 'chat', '--student-block-size', '100000', '--out', 'X'), 2, /--student-block-size 100000 is above the teacher's context/);
  write('huge.txt', '99999999999 99999999\nthe 1 2\n');
  refused(run('embed', 'neighbors', 'huge.txt', 'the'), 1, /^gptlab: error: huge\.txt:1: the header announces 99999999999 words/);
  const s = run('seq2seq', 'train', '--hidden', '100000', '--out', 'X');
  assert.equal(s.code, 2, s.err);
  // estimated before anything is allocated (an allocation failure would name the sizes given: exit-codes.test.ts)
  assert.match(s.err, /out of memory: the parameters with their gradients and optimizer moments would need [\d.]+ GiB .*; lower --hidden\/--emb-dim\/--attn-dim/);
  for (const c of ['lora', 'rm', 'embed', 'tokenizer', 'seq2seq']) assert.equal(run(c).code, 2, c);
  assert.ok(!fs.existsSync(path.join(tmp, 'X')));
});

test('ladder on Ctrl-C says what it kept; a finished seq2seq run resumed has nothing left to train', async () => {
  const child = spawn(process.execPath, [main, 'ladder', '--data', text, '--steps', '1000000', '--only', 'bigram,mlp', '--preset', 'tiny', '--out', 'lad', '--threads', '1'], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (/bigram: dev loss/.test(out)) setTimeout(() => child.kill('SIGINT'), 300);
  });
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 130, err);
  assert.match(err, /ladder interrupted: kept the 1 finished rung in lad[\\/]ladder\.json/);
  const small = ['--max-iters', '2', '--eval-interval', '2', '--bleu-sample', '2', '--hidden', '8', '--emb-dim', '8', '--attn-dim', '8'];
  ok(run('seq2seq', 'train', '--out', 's2s', ...small));
  const state = (): string => fs.readFileSync(path.join(tmp, 's2s', 'checkpoint', 'trainer_state.json'), 'utf8');
  const before = state();
  const r = run('seq2seq', 'train', '--resume', '--out', 's2s');
  ok(r);
  assert.match(r.out, /nothing left to train: the run is at step 2.*nothing written/);
  assert.equal(state(), before, 'an idle resume writes nothing');
  assert.doesNotMatch(r.out, /NaN/);
});
