// From a third new-user trial, the CLI end to end on a tiny chat checkpoint: a resumed run keeps what it was
// started with (distill's τ, α, student and teacher; seq2seq's model; sft's base) and notes what changes (training
// settings, another --data); sizes are checked up front (--batch-size, --lora-r, rollouts per step); grpo and ppo
// without held-out prompts skip the held-out evaluation; lora merge --out inside its run, and eval or sample on a
// reward model, are refused; flag errors found by the library exit 2 like the option table's. One line each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GPT } from '../src/models/gpt.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { withChatVocabulary } from '../src/train/chat-vocabulary.js';
import { checkpointFiles } from '../src/train/checkpoint.js';
import { saveCheckpoint } from '../src/train/checkpoint.node.js';
import { validateTrainConfig } from '../src/train/trainer.js';
import { UsageError } from '../src/cli/args.js';
import { ok, refused } from './helpers/cli-result.js';

const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-resume-guards-'));
/** runs gptlab in `tmp`; compute commands (all but lora merge) on one thread */
const run = (...args: string[]): { code: number; out: string; err: string } => runIn(tmp, ...args);
/** runs gptlab in folder `cwd` */
const runIn = (cwd: string, ...args: string[]): { code: number; out: string; err: string } => {
  const threads = args[0] === 'lora' || (args[0] === 'rm' && args[1] === 'score') ? [] : ['--threads', '1'];
  const r = spawnSync(process.execPath, [main, ...args, ...threads], { encoding: 'utf8', cwd, timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
};
/** `tmp` as the commands see it (process.cwd()), for the absolute paths runs record */
const real = fs.realpathSync(tmp);
const meta = (dir: string): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(tmp, dir, 'checkpoint', 'config.json'), 'utf8')).meta;

/** the steps of the held-out evaluations in a run's log.jsonl */
const evalSteps = (dir: string): number[] =>
  fs.readFileSync(path.join(tmp, dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.eval).map((e) => e.step);

const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,?!+-*/=\n'.split('');
for (const [name, seed] of [['chat', 1], ['other', 2]] as const) {
  const base = new GPT({ vocabSize: chars.length, blockSize: 48, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: false }, seed);
  const { model, tokenizer } = withChatVocabulary(base, new CharTokenizer(chars), '');
  saveCheckpoint(path.join(tmp, name), checkpointFiles(model, tokenizer));
}
const write = (name: string, lines: unknown[]): string => {
  fs.writeFileSync(path.join(tmp, name), lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return name;
};
const text = write('text.txt', ['the cat sat on the mat. '.repeat(40)]);
const odd = write('odd.txt', ['the cat ✓ sat on the mat. '.repeat(40)]);
const chat = (q: string, a: string): unknown => ({ messages: [{ role: 'user', content: q }, { role: 'assistant', content: a }] });
const chats = write('chats.jsonl', Array.from({ length: 8 }, (_, i) => chat(`q${i}`, `a${i}`)));
const chats2 = write('chats2.jsonl', Array.from({ length: 8 }, (_, i) => chat(`w${i}`, `b${i}`)));
const oddChats = write('odd-chats.jsonl', [chat('q ✓', 'a'), chat('q', 'a')]);
const pairs = write('pairs.jsonl', Array.from({ length: 8 }, (_, i) => ({ prompt: `q${i}`, chosen: `Yes ${i}.`, rejected: 'no' })));
const twoPrompts = write('two.jsonl', [{ prompt: 'What is 2 + 2?', answer: '4' }, { prompt: 'What is 5 + 3?', answer: '8' }]);
const five = write('five.jsonl', [2, 3, 4, 5, 6].map((n) => ({ prompt: `What is ${n} + 1?`, answer: String(n + 1) })));
const quick = ['--eval-interval', '2', '--batch-size', '2', '--seed', '1'];

test('distill --resume keeps τ, α and the student unless given, notes changes, refuses another student or teacher', () => {
  const args = ['--out', 'd', '--data', text, ...quick];
  assert.equal(run('distill', '--teacher', 'chat', '--student-block-size', '16', '--max-iters', '2', '--alpha', '0.3', '--temperature', '3', ...args).code, 0);
  const r = run('distill', '--resume', '--max-iters', '3', ...args);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /resuming .*d\/checkpoint at step 2/);
  assert.doesNotMatch(r.out, /note: resuming with .*--(alpha|temperature)/);
  assert.equal(meta('d').alpha, 0.3);
  assert.equal(meta('d').temperature, 3);
  const c = run('distill', '--resume', '--max-iters', '4', '--alpha', '0.7', ...args);
  assert.match(c.out, /note: resuming with --max-iters 3 → 4, --alpha 0\.3 → 0\.7 \(given now\)/);
  assert.equal(meta('d').alpha, 0.7);
  assert.equal(meta('d').temperature, 3);
  refused(run('distill', '--resume', '--max-iters', '5', '--student-preset', 'demo', ...args), 2, /distill --resume: the run's student has [a-z-]+ \d+; --student-preset demo \([a-z-]+ \d+\) cannot change it/);
  refused(run('distill', '--resume', '--max-iters', '5', '--student-block-size', '32', ...args), 2, /the run's student has block-size 16; --student-block-size 32 cannot change it/);
  refused(run('distill', '--resume', '--max-iters', '5', '--teacher', 'other', ...args), 2, /distill --resume: the run started from --teacher chat; --teacher other cannot change it/);
  refused(run('distill', '--resume', '--max-iters', '5', '--out', 'd', '--data', odd), 1, /^gptlab: error: distill: --data odd\.txt: character "✓" \(U\+2713\) is not in the vocabulary/);
  refused(run('distill', '--teacher', 'chat', '--student-preset', 'huge', '--out', 'd2'), 2, /distill: --student-preset must be one of .* for --student-arch gpt, got "huge"/);
  assert.equal(run('distill', '--resume', '--max-iters', '5', '--student-preset', 'tiny', '--student-block-size', '16', ...args).code, 0, 'repeating the run\'s own student is fine');
});

test('seq2seq train --resume refuses another model shape and notes changed training settings', () => {
  const args = ['--out', 's', '--eval-interval', '2', '--bleu-sample', '2', '--quiet'];
  const first = run('seq2seq', 'train', '--max-iters', '2', '--hidden', '8', '--emb-dim', '8', '--attn-dim', '8', ...args);
  assert.equal(first.code, 0, first.err);
  refused(run('seq2seq', 'train', '--resume', '--max-iters', '3', '--hidden', '16', ...args), 2, /seq2seq train --resume: the run has --hidden 8; --hidden 16 cannot change it/);
  refused(run('seq2seq', 'train', '--resume', '--max-iters', '3', '--cell', 'lstm', ...args), 2, /the run has --cell gru; --cell lstm cannot change it/);
  refused(run('seq2seq', 'train', '--resume', '--max-iters', '3', '--attention', 'dot', ...args), 2, /the run has --attention additive; --attention dot cannot change it/);
  refused(run('seq2seq', 'train', '--resume', '--max-iters', '3', '--unidirectional', ...args), 2, /the run has a bidirectional encoder .*; --unidirectional cannot change it/);
  refused(run('seq2seq', 'train', '--resume', '--max-iters', '3', '--tgt-level', 'char', ...args), 2, /the run's target vocabulary is by word; --tgt-level char cannot change it/);
  const r = run('seq2seq', 'train', '--resume', '--max-iters', '3', '--hidden', '8', '--lr', '0.01', ...args);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /note: resuming with --max-iters 2 → 3, --lr 0\.003 → 0\.01 \(given now\)/);
});

test('sft --resume refuses another --base, notes another --data, and names a --data the vocabulary cannot encode', () => {
  const args = ['--out', 'sft', ...quick];
  assert.equal(run('sft', '--base', 'chat', '--data', chats, '--max-iters', '2', ...args).code, 0);
  refused(run('sft', '--resume', '--base', 'other', '--max-iters', '3', ...args), 2, /sft --resume: the run started from --base chat; --base other cannot change it \(leave --base out, or start a new run\)/);
  const same = run('sft', '--resume', '--base', 'chat', '--max-iters', '3', ...args);
  assert.equal(same.code, 0, same.err);
  assert.doesNotMatch(same.out, /--data/);
  const r = run('sft', '--resume', '--data', chats2, '--dev-fraction', '0.25', '--max-iters', '4', ...args);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /note: resuming with --max-iters 3 → 4, --dev-fraction 0\.05 → 0\.25 \(given now\)/);
  assert.match(r.out, /note: resuming with --data chats\.jsonl → chats2\.jsonl \(given now\): .*held-out split changes/);
  assert.equal(meta('sft').data, path.join(real, chats2), 'recorded absolute');
  const gone = run('sft', '--resume', '--data', 'missing.jsonl', '--max-iters', '5', ...args);
  refused(gone, 1, /^gptlab: error: missing\.jsonl: no such chat data file$/);
  assert.doesNotMatch(gone.out, /note: resuming with --data/, 'no note about a file that is not there');
  refused(run('sft', '--resume', '--data', oddChats, '--max-iters', '5', ...args), 1, /^gptlab: error: sft: --data odd-chats\.jsonl: character "✓"/);
});

test('sizes are checked up front: --batch-size, --lora-r, rollouts per step', () => {
  refused(run('sft', '--base', 'chat', '--batch-size', '100000', '--out', 'big'), 2, /^gptlab: sft: --batch-size must be in \[1, 1024\], got 100000$/);
  refused(run('dpo', '--base', 'chat', '--batch-size', '5000', '--out', 'big'), 2, /dpo: --batch-size must be in \[1, 1024\]/);
  refused(run('rm', 'train', '--base', 'chat', '--batch-size', '5000', '--out', 'big'), 2, /rm train: --batch-size must be in \[1, 1024\]/);
  refused(run('ppo', '--policy', 'chat', '--batch-size', '5000', '--out', 'big'), 2, /ppo: --batch-size must be in \[1, 1024\]/);
  refused(run('grpo', '--policy', 'chat', '--group-size', '64', '--prompts-per-step', '64', '--out', 'big'), 2, /grpo: --prompts-per-step 64 × --group-size 64 = 4096 completions per step, more than 1024; lower one of them/);
  refused(run('sft', '--base', 'chat', '--data', chats, '--lora-r', '100000', '--out', 'big'), 2, /--lora-r 100000: at most 16 for this model, the smaller side of transformer\.h\.0\.\w+\.\w+ \(\d+×\d+\)/);
  refused(run('dpo', '--base', 'chat', '--data', pairs, '--lora-r', '17', '--out', 'big'), 2, /--lora-r 17: at most 16 for this model/);
  refused(run('grpo', '--policy', 'chat', '--lora-r', '17', '--out', 'big'), 2, /--lora-r 17: at most 16/);
  assert.ok(!fs.existsSync(path.join(tmp, 'big')), 'nothing written');
});

test('grpo and ppo without held-out prompts skip the held-out evaluation and report no accuracy', () => {
  const common = ['--data', twoPrompts, '--steps', '2', '--eval-interval', '1', '--max-new-tokens', '3', '--seed', '1'];
  const g = run('grpo', '--policy', 'chat', '--out', 'g', '--group-size', '2', '--prompts-per-step', '1', ...common);
  assert.equal(g.code, 0, g.err);
  assert.match(g.out, /note: no held-out prompts .*: held-out evaluation is skipped, and best\/ is the latest policy/);
  assert.doesNotMatch(g.out, /held-out exact match|exact match \d|\(best\)/);
  assert.ok(fs.existsSync(path.join(tmp, 'g', 'best', 'config.json')));
  assert.equal(JSON.parse(fs.readFileSync(path.join(tmp, 'g', 'best', 'config.json'), 'utf8')).meta.step, 2, 'best/ is the latest policy');
  assert.doesNotMatch(fs.readFileSync(path.join(tmp, 'g', 'log.jsonl'), 'utf8'), /"eval"/);
  const p = run('ppo', '--policy', 'chat', '--out', 'p', '--reward', 'exact', '--batch-size', '2', '--mini-batch-size', '2', '--epochs', '1', ...common);
  assert.equal(p.code, 0, p.err);
  assert.match(p.out, /note: no held-out prompts/);
  assert.doesNotMatch(p.out, /held-out (before|after)|mean reward \d/);
});

test('grpo and ppo --resume refuse another --policy, naming both; the one the run started from is fine', () => {
  const common = ['--data', twoPrompts, '--eval-interval', '1', '--max-new-tokens', '3', '--seed', '1'];
  const g = ['--out', 'gp', '--group-size', '2', '--prompts-per-step', '1', ...common];
  assert.equal(run('grpo', '--policy', 'chat', '--steps', '1', ...g).code, 0);
  assert.equal(meta('gp').policy, path.join(real, 'chat'));
  refused(run('grpo', '--resume', '--policy', 'other', '--steps', '2', ...g), 2, /^gptlab: grpo --resume: the run started from --policy chat; --policy other cannot change it \(leave --policy out, or start a new run\)$/);
  const same = run('grpo', '--resume', '--policy', 'chat', '--steps', '2', ...g);
  assert.equal(same.code, 0, same.err);
  assert.equal(meta('gp').policy, path.join(real, 'chat'), 'kept on resume');
  const p = ['--out', 'pp', '--reward', 'exact', '--batch-size', '2', '--mini-batch-size', '2', '--epochs', '1', ...common];
  assert.equal(run('ppo', '--policy', 'chat', '--steps', '1', ...p).code, 0);
  refused(run('ppo', '--resume', '--policy', 'other', '--steps', '2', ...p), 2, /ppo --resume: the run started from --policy chat; --policy other cannot change it/);
  const again = run('ppo', '--resume', '--policy', 'chat', '--steps', '2', ...p);
  assert.equal(again.code, 0, again.err);
});

test('grpo --resume after a cold start compares --policy with the policy given, not the run\'s start/; older runs are not checked', () => {
  const args = ['--out', 'gc', '--group-size', '2', '--prompts-per-step', '1', '--eval-prompts', '2', '--eval-interval', '1', '--max-new-tokens', '3', '--seed', '1'];
  const first = run('grpo', '--policy', 'chat', '--cold-start', '1', '--steps', '1', ...args);
  assert.equal(first.code, 0, first.err);
  assert.equal(meta('gc').base, path.join(real, 'gc', 'start'), 'the reference is the cold-started policy');
  assert.equal(meta('gc').policy, path.join(real, 'chat'));
  const r = run('grpo', '--resume', '--policy', 'chat', '--steps', '2', ...args);
  assert.equal(r.code, 0, r.err);
  refused(run('grpo', '--resume', '--policy', 'other', '--steps', '3', ...args), 2, /grpo --resume: the run started from --policy chat; --policy other cannot change it/);
  // a run from before the policy was recorded: nothing to compare with, so --policy is not checked
  const file = path.join(tmp, 'gc', 'checkpoint', 'config.json'), cfg = JSON.parse(fs.readFileSync(file, 'utf8'));
  delete cfg.meta.policy;
  fs.writeFileSync(file, JSON.stringify(cfg));
  const old = run('grpo', '--resume', '--policy', 'other', '--steps', '3', ...args);
  assert.equal(old.code, 0, old.err);
  assert.equal(meta('gc').policy, undefined);
});

test('grpo --resume keeps its --reward and --eval-prompts, refuses another reward, notes changes, refuses --steps below its step', () => {
  const args = ['--out', 'gr', '--data', five, '--group-size', '2', '--prompts-per-step', '1', '--eval-interval', '1', '--max-new-tokens', '3', '--seed', '1'];
  assert.equal(run('grpo', '--policy', 'chat', '--steps', '1', '--reward', 'last-number', '--eval-prompts', '1', ...args).code, 0);
  assert.equal(meta('gr').evalPrompts, 1);
  const r = run('grpo', '--resume', '--steps', '2', ...args);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /reward: last-number \(the run's own\)/);
  assert.match(r.out, /resuming .*gr\/checkpoint at step 1\nnote: resuming with --steps 1 → 2 \(given now\)\n/);
  assert.doesNotMatch(r.out, /eval-prompts/);
  assert.equal(meta('gr').reward, 'last-number');
  assert.equal(meta('gr').evalPrompts, 1, 'kept');
  refused(run('grpo', '--resume', '--steps', '3', '--reward', 'exact', ...args), 2, /^gptlab: grpo --resume: the run was trained with the reward last-number; exact \(--reward or --reward-fn\) cannot change it \(start a new run\)$/);
  const low = run('grpo', '--resume', '--steps', '1', '--lr', '0.5', ...args);
  refused(low, 2, /^gptlab: --steps 1 is below the run's step 2; give more to train on, or leave it out to keep the run's own$/);
  assert.doesNotMatch(low.out, /note:/);
  assert.equal(meta('gr').rl && (meta('gr').rl as { steps: number }).steps, 2, 'not re-saved');
  const c = run('grpo', '--resume', '--steps', '3', '--lr', '0.5', '--eval-prompts', '2', ...args);
  assert.equal(c.code, 0, c.err);
  assert.match(c.out, /note: resuming with --steps 2 → 3, --lr 0\.00002 → 0\.5 \(given now\)/);
  assert.match(c.out, /note: resuming with --eval-prompts 1 → 2 \(given now\): the held-out prompts change/);
  assert.equal(meta('gr').evalPrompts, 2);
});

test('ppo --resume says where it resumes, notes changed settings and --eval-prompts, keeps them, refuses --steps below its step', () => {
  const args = ['--out', 'pr', '--data', five, '--reward', 'exact', '--batch-size', '2', '--mini-batch-size', '2', '--epochs', '1', '--eval-interval', '1', '--max-new-tokens', '3', '--seed', '1'];
  assert.equal(run('ppo', '--policy', 'chat', '--steps', '1', '--eval-prompts', '1', ...args).code, 0);
  const r = run('ppo', '--resume', '--steps', '2', '--lr', '0.5', ...args);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /resuming .*pr\/checkpoint at step 1\nnote: resuming with --steps 1 → 2, --lr 0\.00001 → 0\.5 \(given now\)\n/);
  assert.equal(meta('pr').evalPrompts, 1, 'kept');
  const low = run('ppo', '--resume', '--steps', '1', '--eval-prompts', '3', ...args);
  refused(low, 2, /^gptlab: --steps 1 is below the run's step 2; give more to train on/);
  assert.doesNotMatch(low.out, /note:/);
  const c = run('ppo', '--resume', '--steps', '3', '--eval-prompts', '3', ...args);
  assert.equal(c.code, 0, c.err);
  assert.match(c.out, /note: resuming with --eval-prompts 1 → 3 \(given now\)/);
  assert.equal(meta('pr').evalPrompts, 3);
  assert.equal((meta('pr').rl as { lr: number }).lr, 0.5, 'the changed lr is kept');
});

test('ppo and grpo --resume keep --eval-interval and --eval-samples unless given, note a change, and cap samples × prompts with the run\'s own', () => {
  const args = ['--data', five, '--reward', 'exact', '--batch-size', '2', '--mini-batch-size', '2', '--epochs', '1', '--max-new-tokens', '3', '--seed', '1', '--eval-prompts', '1'];
  const first = run('ppo', '--policy', 'chat', '--out', 'pe', '--steps', '2', '--eval-interval', '2', '--eval-samples', '2', ...args);
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, /held-out before \(2 samples per prompt at temperature 1\)/);
  const r = run('ppo', '--resume', '--out', 'pe', '--steps', '5', ...args.slice(0, -2));
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(evalSteps('pe'), [2, 4, 5], 'the run\'s own --eval-interval 2 (and the last step)');
  assert.match(r.out, /held-out after \(2 samples per prompt/);
  assert.doesNotMatch(r.out, /note: resuming with --eval/);
  const c = run('ppo', '--resume', '--out', 'pe', '--steps', '6', '--eval-samples', '0', '--eval-interval', '1', ...args.slice(0, -2));
  assert.equal(c.code, 0, c.err);
  assert.match(c.out, /note: resuming with --eval-interval 2 → 1 \(given now\)\n/);
  assert.match(c.out, /note: resuming with --eval-samples 2 → 0 \(given now\): the held-out completions are drawn another way, so held-out scores from here on \(and best\/\) do not compare with earlier ones/);
  assert.deepEqual([meta('pe').evalInterval, meta('pe').evalSamples], [1, 0]);
  const cfg = path.join(tmp, 'pe', 'checkpoint', 'config.json'), j = JSON.parse(fs.readFileSync(cfg, 'utf8'));
  j.meta.evalPrompts = 200;
  fs.writeFileSync(cfg, JSON.stringify(j));
  refused(run('ppo', '--resume', '--out', 'pe', '--steps', '7', '--eval-samples', '64', ...args.slice(0, -2)), 2,
    /^gptlab: ppo: --eval-samples 64 × --eval-prompts 200 is 12800 completions at every evaluation, above 10000: give fewer of either$/);
  const g = ['--data', five, '--reward', 'exact', '--prompts-per-step', '1', '--group-size', '2', '--max-new-tokens', '3', '--eval-prompts', '1'];
  assert.equal(run('grpo', '--policy', 'chat', '--out', 'ge', '--steps', '2', '--eval-interval', '2', ...g).code, 0);
  const gr = run('grpo', '--resume', '--out', 'ge', '--steps', '5', ...g);
  assert.equal(gr.code, 0, gr.err);
  assert.deepEqual(evalSteps('ge'), [2, 4, 5]);
  assert.equal(meta('ge').evalInterval, 2);
  const cfgBefore = fs.readFileSync(path.join(tmp, 'ge', 'checkpoint', 'config.json'), 'utf8');
  const done = run('grpo', '--resume', '--out', 'ge', '--eval-interval', '3', ...g);
  assert.equal(done.code, 0, done.err);
  assert.match(done.out, /note: the run is already at step 5 of 5: nothing to train, nothing saved \(give a larger --steps to continue it\)/);
  assert.equal(fs.readFileSync(path.join(tmp, 'ge', 'checkpoint', 'config.json'), 'utf8'), cfgBefore, 'a resume with nothing to train writes nothing');
});

test('train and distill --resume keep the run\'s --split unless given, note a change and record it', () => {
  const args = ['--data', text, '--out', 'ts', '--preset', 'tiny', '--block-size', '8', '--warmup-iters', '0', '--eval-iters', '1', ...quick];
  assert.equal(run('train', '--max-iters', '2', ...args).code, 0);
  const r = run('train', '--resume', '--max-iters', '3', '--split', '80/20', ...args);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /note: resuming with --split 90\/5\/5 → 80\/20 \(given now\): the held-out part changes/);
  assert.equal(meta('ts').split, '80/20');
  const again = run('train', '--resume', '--max-iters', '4', ...args);
  assert.equal(again.code, 0, again.err);
  assert.doesNotMatch(again.out, /--split/);
  assert.equal(meta('ts').split, '80/20', 'kept');
  const d = ['--out', 'ds', '--data', text, '--teacher', 'chat', '--student-block-size', '16', ...quick];
  assert.equal(run('distill', '--max-iters', '2', ...d).code, 0);
  assert.equal(meta('ds').split, '90/10');
  const c = run('distill', '--resume', '--max-iters', '3', '--split', '70/30', ...d);
  assert.equal(c.code, 0, c.err);
  assert.match(c.out, /note: resuming with --split 90\/10 → 70\/30 \(given now\)/);
  assert.equal(run('distill', '--resume', '--max-iters', '4', ...d).code, 0);
  assert.equal(meta('ds').split, '70/30', 'kept');
});

test('train --demo --resume --seed keeps the run\'s demo corpus (drawn with its recorded seed)', () => {
  const args = ['--demo', '--out', 'demo', '--preset', 'tiny', '--block-size', '8', '--warmup-iters', '0', '--eval-iters', '1', '--eval-interval', '2', '--batch-size', '2'];
  const first = run('train', '--max-iters', '1', '--seed', '3', ...args);
  assert.equal(first.code, 0, first.err);
  assert.equal(meta('demo').corpusSeed, 3);
  const data = (out: string): string => out.match(/^data: .*$/m)![0];
  const r = run('train', '--resume', '--max-iters', '2', '--seed', '5', ...args);
  assert.equal(r.code, 0, r.err);
  assert.equal(data(r.out), data(first.out), 'the same corpus');
  assert.match(r.out, /note: resuming with --max-iters 1 → 2, --seed 3 → 5 \(given now\)/);
  const again = run('train', '--resume', '--max-iters', '3', ...args);
  assert.equal(data(again.out), data(first.out), 'still the same corpus after the seed changed');
  assert.notEqual(data(run('train', '--max-iters', '1', '--seed', '5', ...args, '--out', 'demo5').out), data(first.out), 'another seed draws another corpus');
});

test('rm train and dpo --resume keep the run\'s --dev-fraction unless given, note a change and record it', () => {
  for (const [cmd, out] of [[['rm', 'train'], 'rmf'], [['dpo'], 'dpf']] as const) {
    const args = ['--out', out, '--data', pairs, '--warmup-iters', '0', ...quick];
    assert.equal(run(...cmd, '--base', 'chat', '--max-iters', '1', ...args).code, 0);
    assert.equal(meta(out).devFraction, 0.1);
    const r = run(...cmd, '--resume', '--max-iters', '2', '--dev-fraction', '0.5', ...args);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /note: resuming with --max-iters 1 → 2, --dev-fraction 0\.1 → 0\.5 \(given now\)/);
    assert.equal(meta(out).devFraction, 0.5);
    const again = run(...cmd, '--resume', '--max-iters', '3', ...args);
    assert.equal(again.code, 0, again.err);
    assert.doesNotMatch(again.out, /dev-fraction/);
    assert.equal(meta(out).devFraction, 0.5, 'kept');
  }
});

test('seq2seq train --resume uses a given --dev with a note, and refuses a --data with words its vocabulary lacks', () => {
  const pairsTsv = write('pairs.tsv', Array.from({ length: 10 }, (_, i) => ['the cat\tle chat', 'a dog\tun chien'][i % 2]));
  const devTsv = write('dev.tsv', ['the dog\tle chien']);
  const zebra = write('zebra.tsv', ['the zebra\tle zèbre', 'a dog\tun chien']);
  const args = ['--out', 'sd', '--eval-interval', '2', '--bleu-sample', '2', '--quiet', '--hidden', '8', '--emb-dim', '8', '--attn-dim', '8'];
  assert.equal(run('seq2seq', 'train', '--data', pairsTsv, '--max-iters', '2', ...args).code, 0);
  refused(run('seq2seq', 'train', '--resume', '--max-iters', '3', '--dev', 'nope.tsv', ...args), 1, /nope\.tsv: no such dev pair file/);
  const r = run('seq2seq', 'train', '--resume', '--max-iters', '3', '--dev', devTsv, ...args);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /note: resuming with --dev \(the last 0\.1 of --data\) → dev\.tsv \(given now\)/);
  assert.equal(meta('sd').dev, path.join(real, devTsv), 'recorded absolute');
  refused(run('seq2seq', 'train', '--resume', '--max-iters', '4', '--data', zebra, ...args), 1, /^gptlab: error: seq2seq train: --data zebra\.tsv: word "zebra" \(line 1, source side\) is not in the run's source vocabulary \(2 unknown in its training pairs\)/);
});

test('lora merge --out inside the input run or any checkpoint is refused', () => {
  assert.equal(run('sft', '--base', 'chat', '--data', chats, '--lora-r', '2', '--out', 'L', '--max-iters', '2', ...quick).code, 0);
  refused(run('lora', 'merge', 'L', '--out', 'L/adapter', '--force'), 2, /lora merge: --out L\/adapter: lies inside the input L, which is never written to/);
  refused(run('lora', 'merge', 'L/best', '--out', 'L/m2'), 2, /--out L\/m2: lies inside L, the run of the input L\/best/);
  refused(run('lora', 'merge', 'L', '--out', 'chat/m2'), 2, /--out chat\/m2: lies inside a gptlab run or checkpoint folder/);
  assert.ok(!fs.existsSync(path.join(tmp, 'L', 'm2')) && !fs.existsSync(path.join(tmp, 'chat', 'm2')));
  assert.equal(run('lora', 'merge', 'L', '--out', 'merged').code, 0);
});

test('eval and sample refuse a reward model, pointing at rm score', () => {
  assert.equal(run('rm', 'train', '--base', 'chat', '--data', pairs, '--out', 'rm', '--max-iters', '1', ...quick).code, 0);
  refused(run('eval', 'rm', '--data', text), 1, /^gptlab: error: eval: rm is a reward model \(gptlab rm train\), which scores responses rather than predicting text; score with gptlab rm score rm/);
  refused(run('sample', 'rm'), 1, /sample: rm is a reward model/);
});

test('flag errors exit 2 wherever they are found: the option table, the Trainer config, the RL loop', () => {
  refused(run('train', '--data', text, '--out', 'x', '--eval-iters', '20000'), 2, /^gptlab: train: --eval-iters must be in \[1, 10000\], got 20000$/);
  refused(run('train', '--data', text, '--out', 'x', '--beta1', '1'), 2, /train: --beta1 must be in \[0, 1\), got 1/);
  assert.throws(() => validateTrainConfig({ evalIters: 0 }), (e: unknown) => e instanceof UsageError && /train config: evalIters \(--eval-iters\)/.test((e as Error).message));
  assert.ok(!fs.existsSync(path.join(tmp, 'x')));
});

const tinyTrain = ['--data', text, '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', ...quick];
/** the run's checkpoint config with `edit` applied (an older run's meta) */
const editMeta = (dir: string, edit: (m: Record<string, unknown>) => void): void => {
  const file = path.join(tmp, dir, 'checkpoint', 'config.json'), cfg = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(cfg.meta);
  fs.writeFileSync(file, JSON.stringify(cfg));
};

test('train --resume refuses a run of another command; pretraining runs, recorded as such or older, resume', () => {
  assert.equal(run('train', '--out', 'pt', '--max-iters', '2', ...tinyTrain).code, 0);
  assert.equal(run('sft', '--base', 'chat', '--data', chats, '--out', 'ks', '--max-iters', '1', ...quick).code, 0);
  const before = fs.readFileSync(path.join(tmp, 'ks', 'checkpoint', 'config.json'), 'utf8');
  refused(run('train', '--resume', '--out', 'ks', '--data', text, '--max-iters', '3'), 2, /^gptlab: train --resume: ks holds a run of gptlab sft, whose state train cannot continue; resume it with gptlab sft --resume$/);
  assert.equal(fs.readFileSync(path.join(tmp, 'ks', 'checkpoint', 'config.json'), 'utf8'), before, 'the sft run is left as it was');
  // the other way round names the command that trains it: gptlab train, not "pretrain"
  refused(run('sft', '--resume', '--out', 'pt', '--max-iters', '3'), 2, /^gptlab: sft --resume: pt holds a run of gptlab train, whose state sft cannot continue; resume it with gptlab train --resume$/);
  const r = run('train', '--resume', '--out', 'pt', '--max-iters', '3', ...tinyTrain);
  assert.equal(r.code, 0, r.err);
  assert.equal(meta('pt').kind, 'pretrain');
  assert.equal(meta('pt').source, path.join(real, text), 'the data file recorded absolute');
  editMeta('pt', (m) => delete m.kind); // a run from before kinds were recorded
  const old = run('train', '--resume', '--out', 'pt', '--max-iters', '4', ...tinyTrain);
  assert.equal(old.code, 0, old.err);
});

test('runs record absolute input paths and resume from another folder; ppo --reward names the same model however written', () => {
  fs.mkdirSync(path.join(tmp, 'elsewhere'), { recursive: true });
  const away = path.join(tmp, 'elsewhere');
  assert.equal(run('rm', 'train', '--base', 'chat', '--data', pairs, '--out', 'rm1', '--max-iters', '1', ...quick).code, 0);
  // dpo: its --base is the reference, reloaded on resume; its --data is read again
  assert.equal(run('dpo', '--base', 'chat', '--data', pairs, '--out', 'dp', '--max-iters', '1', ...quick).code, 0);
  assert.equal(meta('dp').base, path.join(real, 'chat'));
  assert.equal(meta('dp').data, path.join(real, pairs));
  const d = runIn(away, 'dpo', '--resume', '--out', '../dp', '--max-iters', '2');
  assert.equal(d.code, 0, d.err);
  assert.match(d.out, /reference policy: .*chat/);
  refused(runIn(away, 'dpo', '--resume', '--out', '../dp', '--base', '../other', '--max-iters', '3'), 2, /dpo --resume: the run started from --base .*chat; --base \.\.\/other cannot change it/);
  assert.equal(runIn(away, 'dpo', '--resume', '--out', '../dp', '--base', '../chat/', '--max-iters', '3').code, 0, 'the same base written otherwise');
  // an older run's relative paths are read against the current folder, as before
  editMeta('dp', (m) => Object.assign(m, { base: 'chat', data: pairs }));
  assert.equal(run('dpo', '--resume', '--out', 'dp', '--max-iters', '4').code, 0);
  // distill: --teacher and --data
  assert.equal(run('distill', '--teacher', 'chat', '--data', text, '--student-block-size', '16', '--out', 'dd', '--max-iters', '1', ...quick).code, 0);
  assert.equal(meta('dd').teacher, path.join(real, 'chat'));
  const t = runIn(away, 'distill', '--resume', '--out', '../dd', '--max-iters', '2');
  assert.equal(t.code, 0, t.err);
  // grpo: the reference (base) and the prompts file
  const g = ['--group-size', '2', '--prompts-per-step', '1', '--eval-interval', '1', '--max-new-tokens', '3', '--seed', '1'];
  assert.equal(run('grpo', '--policy', 'chat', '--data', twoPrompts, '--out', 'gg', '--steps', '1', ...g).code, 0);
  const gr = runIn(away, 'grpo', '--resume', '--out', '../gg', '--steps', '2', ...g);
  assert.equal(gr.code, 0, gr.err);
  assert.match(gr.out, /reference policy: .*chat/);
  // ppo: the reward model, compared as a checkpoint, not as text
  const p = ['--data', twoPrompts, '--batch-size', '2', '--mini-batch-size', '2', '--epochs', '1', '--eval-interval', '1', '--max-new-tokens', '3', '--seed', '1'];
  assert.equal(run('ppo', '--policy', 'chat', '--reward', 'rm1', '--out', 'pra', '--steps', '1', ...p).code, 0);
  assert.equal(meta('pra').rewardSpec, path.join(real, 'rm1'));
  const same = run('ppo', '--resume', '--out', 'pra', '--reward', './rm1/', '--steps', '2', ...p.slice(2));
  assert.equal(same.code, 0, same.err);
  const moved = runIn(away, 'ppo', '--resume', '--out', '../pra', '--steps', '3');
  assert.equal(moved.code, 0, moved.err);
  assert.equal(runIn(away, 'ppo', '--resume', '--out', '../pra', '--reward', '../rm1/best', '--steps', '4').code, 0, 'the run folder or its best/');
  refused(run('ppo', '--resume', '--out', 'pra', '--reward', 'exact', '--steps', '5'), 2, /ppo --resume: the run was trained with the reward rm1; exact \(--reward or --reward-fn\) cannot change it/);
  assert.equal(meta('pra').rewardSpec, path.join(real, 'rm1'), 'kept as recorded');
});

test('seq2seq train --resume from another folder reads its own --data and --dev, not a same-named file there', () => {
  const away = path.join(tmp, 'elsewhere-s2s');
  fs.mkdirSync(away, { recursive: true });
  const own = write('s2s-pairs.tsv', Array.from({ length: 10 }, (_, i) => ['the cat\tle chat', 'a dog\tun chien'][i % 2]));
  const dev = write('s2s-dev.tsv', ['the dog\tle chien']);
  fs.writeFileSync(path.join(away, own), 'the cat\tle chat\n'); // an unrelated file of the same name
  const args = ['--eval-interval', '2', '--bleu-sample', '2', '--quiet', '--hidden', '8', '--emb-dim', '8', '--attn-dim', '8'];
  assert.equal(run('seq2seq', 'train', '--data', own, '--dev', dev, '--out', 'sa', '--max-iters', '2', ...args).code, 0);
  assert.equal(meta('sa').data, path.join(real, own));
  assert.equal(meta('sa').dev, path.join(real, dev));
  const r = runIn(away, 'seq2seq', 'train', '--resume', '--out', '../sa', '--max-iters', '3', ...args);
  assert.equal(r.code, 0, r.err);
  assert.ok(r.out.includes(`data: ${path.join(real, own)}: 10 train, 1 dev pairs`), r.out);
  assert.doesNotMatch(r.out, /note: resuming with --(data|dev)/);
  assert.equal(meta('sa').data, path.join(real, own), 'kept as recorded');
  // an older run's relative paths are read against the current folder, as before
  editMeta('sa', (m) => Object.assign(m, { data: own, dev }));
  const old = run('seq2seq', 'train', '--resume', '--out', 'sa', '--max-iters', '4', ...args);
  assert.equal(old.code, 0, old.err);
  assert.match(old.out, /data: s2s-pairs\.tsv: 10 train, 1 dev pairs/);
});

test('sft --base and distill --teacher refuse a reward model in one line, writing nothing', () => {
  assert.equal(run('rm', 'train', '--base', 'chat', '--data', pairs, '--out', 'rm2', '--max-iters', '1', ...quick).code, 0);
  refused(run('sft', '--base', 'rm2', '--data', chats, '--out', 'nope1'), 1, /^gptlab: error: sft: --base rm2 is a reward model \(gptlab rm train\), not a language model/);
  refused(run('distill', '--teacher', 'rm2', '--out', 'nope2'), 1, /^gptlab: error: distill: --teacher rm2 is a reward model \(gptlab rm train\), not a language model/);
  assert.ok(!fs.existsSync(path.join(tmp, 'nope1')) && !fs.existsSync(path.join(tmp, 'nope2')));
});

test('a damaged config.json is named by every command that loads the checkpoint', () => {
  assert.equal(run('sft', '--base', 'chat', '--data', chats, '--out', 'bad', '--max-iters', '1', ...quick).code, 0);
  assert.equal(run('rm', 'train', '--base', 'chat', '--data', pairs, '--out', 'badrm', '--max-iters', '1', ...quick).code, 0);
  for (const f of ['bad/best/config.json', 'badrm/best/config.json', 'badrm/checkpoint/config.json']) fs.writeFileSync(path.join(tmp, f), '{\n');
  const named = (dir: string): RegExp => new RegExp(`^gptlab: error: ${dir}/config\\.json: not valid JSON \\(`);
  for (const args of [
    ['sample', 'bad'], ['eval', 'bad', '--data', text], ['export', 'bad', '--out', 'x.gguf'],
    ['sft', '--base', 'bad', '--out', 'n1'], ['rm', 'train', '--base', 'bad', '--out', 'n2'], ['dpo', '--base', 'bad', '--out', 'n3'],
    ['grpo', '--policy', 'bad', '--out', 'n4'], ['distill', '--teacher', 'bad', '--out', 'n5'], ['lora', 'merge', 'bad', '--out', 'n6'],
  ]) refused(run(...args), 1, named('bad/best'));
  refused(run('ppo', '--policy', 'chat', '--reward', 'badrm', '--out', 'n7'), 1, named('badrm/best'));
  refused(run('rm', 'score', 'badrm', '--prompt', 'q', '--response', 'a'), 1, named('badrm/best'));
  refused(run('rm', 'train', '--resume', '--out', 'badrm'), 1, named('badrm/checkpoint'));
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('train --resume of a folder with no run says so, with or without --data', () => {
  fs.writeFileSync(path.join(tmp, 'some-text.txt'), 'hello world\n'.repeat(50));
  for (const extra of [[], ['--data', 'some-text.txt']]) {
    refused(run('train', '--out', 'no-such-run', '--resume', ...extra), 2, /^gptlab: --resume: no-such-run holds no run to resume \(no checkpoint\/ there\)/, extra.join(' '));
  }
});

test('a resumed run given neither --backend nor --threads goes on with the backend and threads it trained on', () => {
  fs.writeFileSync(path.join(tmp, 'threads-text.txt'), 'the cat sat on the mat. '.repeat(60));
  const tiny = ['--data', 'threads-text.txt', '--arch', 'gru', '--preset', 'tiny', '--block-size', '16', '--batch-size', '4', '--eval-iters', '1', '--eval-interval', '2', '--sample-at', '', '--out', 'threads-run'];
  ok(run('train', ...tiny, '--max-iters', '2'));
  const state = JSON.parse(fs.readFileSync(path.join(tmp, 'threads-run', 'checkpoint', 'trainer_state.json'), 'utf8'));
  assert.equal(state.backend.threads, 1);
  const r = spawnSync(process.execPath, [main, 'train', '--resume', '--out', 'threads-run', '--max-iters', '4'], { encoding: 'utf8', cwd: tmp, timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^backend: \w+ \(as the run trained; --backend\/--threads to change\)$/m);
});
