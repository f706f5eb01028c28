// The alignment command modules end to end on a tiny chat checkpoint: rm train/score, dpo with LoRA then
// lora merge, grpo and ppo with a reward module, distill; and bad input as one clear line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBackend } from '../src/backend/index.js';
import { GPT } from '../src/models/gpt.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { withChatVocabulary } from '../src/train/chat-vocabulary.js';
import { checkpointFiles } from '../src/train/checkpoint.js';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint.node.js';
import { rmCommand } from '../src/cli/rm.js';
import { dpoCommand } from '../src/cli/dpo.js';
import { grpoCommand } from '../src/cli/grpo.js';
import { ppoCommand } from '../src/cli/ppo.js';
import { UsageError } from '../src/cli/args.js';
import { loraCommand } from '../src/cli/lora.js';
import { distillCommand } from '../src/cli/distill.js';
import { infoCommand } from '../src/cli/info.js';
import { capturingStdout } from './helpers/cli-result.js';

ensureBackend();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-align-cli-'));
const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,?!+-*/=\n'.split('');
const ck = path.join(dir, 'chat');
{
  const base = new GPT({ vocabSize: chars.length, blockSize: 48, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: false }, 1);
  const { model, tokenizer } = withChatVocabulary(base, new CharTokenizer(chars), '');
  saveCheckpoint(ck, checkpointFiles(model, tokenizer));
}
const pairs = path.join(dir, 'pairs.jsonl');
fs.writeFileSync(pairs, Array.from({ length: 12 }, (_, i) => JSON.stringify({ prompt: `q${i}`, chosen: `Yes ${i}.`, rejected: 'no' })).join('\n') + '\n');
const prompts = path.join(dir, 'prompts.jsonl');
fs.writeFileSync(prompts, [['2 + 2', '4'], ['5 * 3', '15'], ['10 / 2', '5']].map(([q, a]) => JSON.stringify({ prompt: `What is ${q}?`, answer: a })).join('\n') + '\n');
const common = ['--backend', 'js', '--seed', '1'];

/** runs a command with its text output captured (the test runner's own events, written as bytes, pass through) */
async function run(fn: (a: string[]) => Promise<number>, args: string[]): Promise<{ code: number; out: string }> {
  const r = await capturingStdout(() => fn(args));
  return { code: r.result, out: r.out };
}

test('rm train then rm score', async () => {
  const r = await run(rmCommand, ['train', '--base', ck, '--data', pairs, '--out', path.join(dir, 'rm'), '--max-iters', '2', '--eval-interval', '2', '--batch-size', '2', '--dev-fraction', '0.25', ...common]);
  assert.equal(r.code, 0);
  assert.match(r.out, /kept 12 records \(12 pairs\), skipped 0/);
  assert.match(r.out, /held-out pairwise accuracy \d+\.\d%/);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'rm', 'best', 'config.json'), 'utf8')).model_type, 'reward');
  const s = await run(rmCommand, ['score', path.join(dir, 'rm'), '--prompt', 'q1', '--response', 'Yes 1.', '--backend', 'js']);
  assert.match(s.out, /^-?\d+\.\d{4}\n$/);
  await assert.rejects(run(rmCommand, ['train', '--out', path.join(dir, 'rm'), '--resume', '--readout', 'last', '--max-iters', '3', ...common]), /reads its score with 'last\+loglik', not 'last'; resume without --readout/);
  const nd = await run(rmCommand, ['train', '--base', ck, '--data', pairs, '--out', path.join(dir, 'rm-nodev'), '--max-iters', '2', '--eval-interval', '2', '--batch-size', '2', '--dev-fraction', '0', ...common]);
  assert.match(nd.out, /best training \(no dev data\) loss/);
  assert.match(nd.out, /training-set \(no held-out pairs\) pairwise accuracy/);
  assert.doesNotMatch(nd.out, /held-out (loss|pairwise)/);
  await assert.rejects(rmCommand(['score', path.join(dir, 'rm'), '--prompt', 'q1', '--file', pairs]), /give --file FILE\.jsonl or --prompt TEXT --response TEXT, not both/);
  await assert.rejects(rmCommand(['train', '--base', ck, '--dev-fraction', '1']), /--dev-fraction must be in \[0, 1\), got 1/);
});

test('dpo with LoRA leaves a PEFT adapter and a merged model; lora merge makes a plain checkpoint', async () => {
  const out = path.join(dir, 'dpo');
  const r = await run(dpoCommand, ['--base', ck, '--data', pairs, '--out', out, '--max-iters', '2', '--eval-interval', '2', '--batch-size', '2', '--lora-r', '2', '--lora-targets', 'c_attn', ...common]);
  assert.equal(r.code, 0);
  assert.match(r.out, /LoRA r=2 α=16 on 1 layers \(c_attn\): trainable params: 128 \|\| all params: [\d,]+ \|\| trainable%/);
  assert.ok(fs.existsSync(path.join(out, 'adapter', 'adapter_model.safetensors')));
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'adapter', 'adapter_config.json'), 'utf8')).r, 2);
  loadCheckpoint(path.join(out, 'merged'));
  const m = await run(loraCommand, ['merge', out, '--out', path.join(dir, 'merged')]);
  assert.match(m.out, /merged LoRA \(r=2/);
  assert.equal(loadCheckpoint(path.join(dir, 'merged')).model.namedParameters().length, loadCheckpoint(ck).model.namedParameters().length);
  await assert.rejects(loraCommand(['merge', ck, '--out', path.join(dir, 'x')]), (e: Error) => /has no LoRA adapter/.test(e.message) && !(e instanceof UsageError));
  assert.throws(() => loadCheckpoint(path.join(out, 'adapter')), /adapter: not a checkpoint .*; it is a LoRA adapter \(PEFT\): give the run folder \(.*dpo\), or merge it onto its base with gptlab lora merge .*dpo --out DIR$/);
});

test('grpo and ppo with a reward module; a module returning NaN is one clear error', async () => {
  const good = path.join(dir, 'good.mjs'), bad = path.join(dir, 'bad.mjs');
  fs.writeFileSync(good, 'export default (completion, { answer }) => (completion.trim() === answer ? 1 : -1);\n');
  fs.writeFileSync(bad, 'export default () => NaN;\n');
  const g = await run(grpoCommand, ['--policy', ck, '--data', prompts, '--out', path.join(dir, 'grpo'), '--steps', '2', '--group-size', '2', '--prompts-per-step', '2', '--max-new-tokens', '3', '--eval-interval', '2', '--reward', good, '--lora-r', '2', ...common]);
  assert.equal(g.code, 0);
  // three prompts hold none out (a fifth of the file): no held-out accuracy is reported, and best/ is the latest policy
  assert.match(g.out, /note: no held-out prompts/);
  assert.doesNotMatch(g.out, /held-out exact match/);
  assert.ok(fs.existsSync(path.join(dir, 'grpo', 'reward.svg')));
  assert.ok(fs.existsSync(path.join(dir, 'grpo', 'adapter', 'adapter_config.json')));
  const g2 = await run(grpoCommand, ['--out', path.join(dir, 'grpo'), '--resume', '--steps', '3', '--reward', good, '--data', prompts, '--backend', 'js', '--cold-start', '5']);
  assert.equal(g2.code, 0);
  assert.match(g2.out, /note: resuming with --steps 2 → 3 \(given now\)/);
  assert.match(g2.out, /note: --cold-start trains on the built-in arithmetic before RL; with --data it is skipped/);
  assert.equal(fs.readFileSync(path.join(dir, 'grpo', 'log.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"reward"') && !l.includes('"eval"')).length, 3);
  const p = await run(ppoCommand, ['--policy', ck, '--data', prompts, '--reward', good, '--out', path.join(dir, 'ppo'), '--steps', '1', '--batch-size', '2', '--mini-batch-size', '2', '--epochs', '1', '--max-new-tokens', '3', '--eval-interval', '1', ...common]);
  assert.equal(p.code, 0);
  assert.ok(fs.existsSync(path.join(dir, 'ppo', 'best', 'value_head.safetensors')));
  // the RL loop's optimizer (recorded in meta.rl) is the one info names
  for (const algo of ['grpo', 'ppo']) assert.match((await run(infoCommand, [path.join(dir, algo, 'checkpoint')])).out, /^ {2}optimizer {2}adamw, lr [0-9.e-]+ \(unlisted options at their defaults\)$/m, algo);
  await assert.rejects(ppoCommand(['--policy', ck, '--data', prompts, '--reward-fn', bad, '--out', path.join(dir, 'ppo2'), '--steps', '1', '--batch-size', '2', '--max-new-tokens', '2', ...common]), /bad\.mjs returned NaN for completion .*; a reward must be a finite number/);
  assert.ok(!fs.existsSync(path.join(dir, 'ppo2', 'checkpoint')), 'nothing written half-way');
});

test('a reward function that throws after the first step leaves the run saved as it stood, resumable', async () => {
  const late = path.join(dir, 'late.mjs'), out = path.join(dir, 'grpo-late');
  fs.writeFileSync(late, 'let n = 0;\nexport default () => {\n  if (++n > 2) throw new Error("late failure");\n  return 1;\n};\n');
  const args = ['--policy', ck, '--data', prompts, '--steps', '3', '--group-size', '2', '--prompts-per-step', '1', '--max-new-tokens', '3', '--eval-interval', '5', '--reward', late, ...common];
  await assert.rejects(run(grpoCommand, [...args, '--out', out]), /late\.mjs:3:\d+ threw on completion .*: late failure; the run is saved as it stood before that step \(step 1\): fix the cause and continue with --resume$/);
  assert.ok(fs.existsSync(path.join(out, 'best')));
  // resumable from there (this process keeps the imported module, so the resume itself runs in a new gptlab)
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'checkpoint', 'trainer_state.json'), 'utf8')).step, 1);
});

test('reward functions: async or Promise-returning ones are refused in one line; --reward with --reward-fn is exit 2; grpo takes --reward-fn; --help shows the signature', async () => {
  const good = path.join(dir, 'good-fn.mjs'), asyncFn = path.join(dir, 'async.mjs'), promise = path.join(dir, 'promise.mjs');
  fs.writeFileSync(good, 'export default (completion, { answer }) => (completion.trim() === answer ? 1 : -1);\n');
  fs.writeFileSync(asyncFn, 'export default async function reward(completion) { return completion.length; }\n');
  fs.writeFileSync(promise, 'export function reward() { return Promise.resolve(1); }\n');
  const args = ['--steps', '1', '--batch-size', '2', '--mini-batch-size', '2', '--max-new-tokens', '2', ...common];
  await assert.rejects(run(ppoCommand, ['--policy', ck, '--data', prompts, '--reward-fn', asyncFn, '--out', path.join(dir, 'ppo-async'), ...args]),
    (e: Error) => /async\.mjs: the reward function is async; it must return a number synchronously \(a Promise is not supported\)/.test(e.message) && !(e instanceof UsageError));
  await assert.rejects(run(ppoCommand, ['--policy', ck, '--data', prompts, '--reward-fn', promise, '--out', path.join(dir, 'ppo-promise'), ...args]),
    /promise\.mjs returned a Promise for completion .*; a reward function must return a finite number synchronously \(async functions are not supported\)/);
  for (const d of ['ppo-async', 'ppo-promise']) assert.ok(!fs.existsSync(path.join(dir, d, 'checkpoint')), d);
  await assert.rejects(ppoCommand(['--policy', ck, '--reward', 'rule', '--reward-fn', good, '--out', path.join(dir, 'ppo-both')]),
    (e: Error) => e instanceof UsageError && /ppo: --reward rule and --reward-fn .*good-fn\.mjs both name the reward; give one of them/.test(e.message));
  await assert.rejects(grpoCommand(['--policy', ck, '--reward', 'exact', '--reward-fn', good]), (e: Error) => e instanceof UsageError && /grpo: --reward exact and --reward-fn/.test(e.message));
  await assert.rejects(ppoCommand(['--policy', ck, '--reward-fn', 'exact']), (e: Error) => e instanceof UsageError && /--reward-fn takes a JavaScript module/.test(e.message));
  await assert.rejects(grpoCommand(['--policy', ck, '--reward-fn', asyncFn]), (e: Error) => /grpo: --reward-fn: .*async\.mjs: the reward function is async/.test(e.message) && !(e instanceof UsageError));
  const g = await run(grpoCommand, ['--policy', ck, '--data', prompts, '--out', path.join(dir, 'grpo-fn'), '--steps', '1', '--group-size', '2', '--prompts-per-step', '2', '--max-new-tokens', '2', '--reward-fn', good, ...common]);
  assert.equal(g.code, 0);
  assert.match(g.out, /reward: .*good-fn\.mjs/);
  for (const cmd of [ppoCommand, grpoCommand]) {
    const h = await run(cmd, ['--help']);
    assert.match(h.out, /reward\(completion, \{ prompt, answer, kind \}\)/);
    assert.match(h.out, /export default function reward\(completion, \{ answer \}\)/);
    assert.match(h.out, /--reward-fn <string>/);
  }
});

test('distill a student from the checkpoint', async () => {
  const text = path.join(dir, 'text.txt');
  fs.writeFileSync(text, 'the cat sat on the mat. '.repeat(40));
  const r = await run(distillCommand, ['--teacher', ck, '--data', text, '--student-block-size', '16', '--out', path.join(dir, 'distill'), '--max-iters', '2', '--eval-interval', '2', '--batch-size', '2', ...common]);
  assert.equal(r.code, 0);
  assert.ok(fs.existsSync(path.join(dir, 'distill', 'best', 'model.safetensors')));
});

test('bad input: one line naming the problem', async () => {
  await assert.rejects(rmCommand(['train']), /rm train: give --base CHECKPOINT/);
  await assert.rejects(rmCommand(['train', '--base', ck, '--readout', 'mean']), /--readout must be one of last, last\+loglik/);
  await assert.rejects(dpoCommand(['--base', ck, '--beta', '0']), /dpo: --beta must be greater than 0, got 0/);
  await assert.rejects(grpoCommand(['--policy', ck, '--algo', 'ppo']), /--algo must be one of grpo, reinforce, got "ppo"/);
  // the loop's settings are checked with the flags, before any model loads
  for (const [flag, value, re] of [
    ['--epsilon', '-0.2', /grpo: --epsilon must be in \(0, 1\), got -0\.2/], ['--loss-type', 'foo', /--loss-type must be one of grpo, bnpo, dr_grpo, dapo/],
    ['--group-size', '1', /--group-size must be in \[2, 1024\], got 1/], ['--temperature', '0', /--temperature must be greater than 0/],
    ['--eval-prompts', '0', /--eval-prompts must be in \[1, 10000\], got 0/], ['--iterations', '0', /--iterations must be at least 1/],
  ] as [string, string, RegExp][]) await assert.rejects(grpoCommand(['--policy', path.join(dir, 'missing'), flag, value]), re);
  await assert.rejects(ppoCommand(['--policy', path.join(dir, 'missing'), '--gamma', '2']), /ppo: --gamma must be in \[0, 1\], got 2/);
  await assert.rejects(grpoCommand(['--policy', ck, '--reward', path.join(dir, 'missing.mjs')]), /no such reward module/);
  await assert.rejects(grpoCommand(['--policy', ck, '--reward', 'fuzzy']), (e: Error) => e instanceof UsageError && /unknown reward "fuzzy" \(choose exact, last-number, format, exact\+format, rule or FILE\.mjs\)/.test(e.message));
  await assert.rejects(run(ppoCommand, ['--policy', ck, '--data', prompts, '--reward', path.join(dir, 'no-rm'), '--out', path.join(dir, 'p4'), ...common]), /no-rm: no such file or folder \(a reward is a reward-model folder, rule/);
  await assert.rejects(grpoCommand(['--policy', ck, '--reward', 'rule', '--data', prompts]), /--reward rule scores the built-in SFT-world questions/);
  await assert.rejects(dpoCommand(['--base', ck, '--lora-r', '0']), /--lora-r must be at least 1/);
  await assert.rejects(run(dpoCommand, ['--base', ck, '--data', pairs, '--out', path.join(dir, 'dpo-frozen'), '--freeze', '**', ...common]), /^Error: --freeze \*\*: leaves no trainable parameter; freeze fewer \(the model's names look like transformer\.wte\.weight/);
  await assert.rejects(run(dpoCommand, ['--base', ck, '--data', pairs, '--out', path.join(dir, 'dpo-frozen'), '--lora-r', '2', '--lora-targets', 'nope', ...common]), /^(Usage)?Error: --lora-targets nope: matches no Linear module of this model \(its Linear modules: c_attn, c_proj, c_fc\)$/);
  assert.ok(!fs.existsSync(path.join(dir, 'dpo-frozen')));
  const bad = path.join(dir, 'bad.jsonl');
  fs.writeFileSync(bad, '{"prompt": "q"}\n');
  await assert.rejects(run(dpoCommand, ['--base', ck, '--data', bad, '--out', path.join(dir, 'dpo-bad'), ...common]), /bad\.jsonl: no valid preference pairs/);
  assert.ok(!fs.existsSync(path.join(dir, 'dpo-bad')));
  await assert.rejects(run(ppoCommand, ['--policy', ck, '--data', prompts, '--reward', 'rule', '--out', path.join(dir, 'p3'), ...common]), (e: Error) => e instanceof UsageError && /ppo: --reward rule scores the built-in SFT-world questions; with --data give a reward model/.test(e.message));
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('dpo resumes a run whose data added characters to the vocabulary; a different --base is refused on resume', async () => {
  const zh = path.join(dir, 'zh-pairs.jsonl');
  fs.writeFileSync(zh, Array.from({ length: 8 }, (_, i) => JSON.stringify({ prompt: `你好 q${i}`, chosen: `Yes ${i}!`, rejected: 'no' })).join('\n') + '\n');
  const out = path.join(dir, 'dpo-zh');
  const args = ['--data', zh, '--out', out, '--eval-interval', '2', '--batch-size', '2', ...common];
  assert.equal((await run(dpoCommand, ['--base', ck, '--max-iters', '2', '--beta', '0.5', ...args])).code, 0);
  const r = await run(dpoCommand, ['--base', ck, '--resume', '--max-iters', '4', ...args]);
  assert.equal(r.code, 0);
  assert.match(r.out, /resuming .* at step 2/);
  const beta = (): number => JSON.parse(fs.readFileSync(path.join(out, 'checkpoint', 'config.json'), 'utf8')).meta.beta;
  assert.equal(beta(), 0.5, 'a resumed run keeps its β');
  const r2 = await run(dpoCommand, ['--resume', '--max-iters', '5', '--beta', '0.2', ...args]);
  assert.match(r2.out, /note: resuming with --beta 0\.5 → 0\.2 \(given now\)/);
  assert.equal(beta(), 0.2);
  const other = path.join(dir, 'dpo'); // another checkpoint (the LoRA test's run)
  await assert.rejects(run(dpoCommand, ['--base', other, '--resume', '--max-iters', '6', ...args]), /dpo --resume: the run started from --base .*chat; --base .*dpo cannot change it/);
});

test('a reward model is refused as the policy of dpo, grpo and ppo', async () => {
  const rm = path.join(dir, 'rm'); // the first test's reward model
  await assert.rejects(run(dpoCommand, ['--base', rm, '--data', pairs, '--out', path.join(dir, 'dpo-rm'), ...common]), /^Error: dpo: --base .*rm is a reward model \(gptlab rm train\), not a chat policy/);
  await assert.rejects(run(grpoCommand, ['--policy', rm, '--data', prompts, '--out', path.join(dir, 'grpo-rm'), ...common]), /grpo: --policy .*rm is a reward model/);
  await assert.rejects(run(ppoCommand, ['--policy', rm, '--data', prompts, '--reward', 'exact', '--out', path.join(dir, 'ppo-rm'), ...common]), /ppo: --policy .*rm is a reward model/);
  for (const d of ['dpo-rm', 'grpo-rm', 'ppo-rm']) assert.ok(!fs.existsSync(path.join(dir, d)), d);
});

test('rm score --file names the field at fault; "messages" must be a list', async () => {
  const rm = path.join(dir, 'rm');
  const cases: [string, RegExp][] = [
    ['{"prompt":"x"}', /s\.jsonl:1: response: missing \(give "response", or "chosen" and "rejected"\)$/],
    ['{"prompt":"x","response":7}', /s\.jsonl:1: response: must be a non-empty string, got number$/],
    ['{"messages":"hi","response":"a"}', /s\.jsonl:1: messages: must be a list of \{role, content\} messages/],
    ['{"prompt":"x","chosen":"a"}', /s\.jsonl:1: rejected: missing$/],
    ['[1]', /s\.jsonl:1: must be a JSON object/],
  ];
  const file = path.join(dir, 's.jsonl');
  for (const [line, re] of cases) {
    fs.writeFileSync(file, line + '\n');
    await assert.rejects(rmCommand(['score', rm, '--file', file, '--backend', 'js']), re, line);
  }
  await assert.rejects(rmCommand(['score', rm, '--prompt', 'q', '--response', ' ', '--backend', 'js']), /rm score: --response is empty/);
  fs.writeFileSync(file, '{"messages":"hi","chosen":"a","rejected":"b"}\n');
  await assert.rejects(run(dpoCommand, ['--base', ck, '--data', file, '--out', path.join(dir, 'dpo-msg'), ...common]), /no valid preference pairs/);
});

test('rm score: text the tokenizer cannot encode, or too long, names the flag or FILE:LINE: field; nothing is printed first', async () => {
  const rm = path.join(dir, 'rm'), score = (...a: string[]): Promise<number> => rmCommand(['score', rm, ...a, '--backend', 'js']);
  await assert.rejects(score('--prompt', 'q1', '--response', 'caf\u00e9'), /^Error: rm score: --response: character "é" \(U\+00E9\) is not in the vocabulary/);
  await assert.rejects(score('--prompt', '\u2603', '--response', 'ok'), /^Error: rm score: --prompt: character "☃" \(U\+2603\) is not in the vocabulary/);
  await assert.rejects(score('--prompt', 'q', '--response', 'a'.repeat(60)), /^Error: rm score: --prompt with --response: \d+ tokens with the chat template, more than the model's context \(48\)$/);
  const file = path.join(dir, 'oov.jsonl');
  const cases: [string, RegExp][] = [
    ['{"prompt":"x","response":"\u00e9"}', /oov\.jsonl:2: response: character "é"/],
    ['{"messages":[{"role":"user","content":"\u00e9"}],"response":"a"}', /oov\.jsonl:2: messages: character "é"/],
    ['{"prompt":"x","chosen":"a","rejected":"\u00e9"}', /oov\.jsonl:2: rejected: character "é"/],
  ];
  for (const [line, re] of cases) {
    fs.writeFileSync(file, `{"prompt":"q1","response":"Yes 1."}\n${line}\n`);
    const { out } = await capturingStdout(() => assert.rejects(score('--file', file), re, line));
    assert.equal(out, '', 'line 1 is not scored before line 2 is refused');
  }
});

test('rm score: a blank-only file is empty like an empty one; a prompt too long alone is named; --lm-coef has a max', async () => {
  const rm = path.join(dir, 'rm'), score = (...a: string[]): Promise<number> => rmCommand(['score', rm, ...a, '--backend', 'js']);
  const blank = path.join(dir, 'blank.jsonl'), empty = path.join(dir, 'empty.jsonl');
  fs.writeFileSync(blank, '\n  \n\n'), fs.writeFileSync(empty, '');
  await assert.rejects(score('--file', empty), (e: Error) => !(e instanceof UsageError) && /empty\.jsonl: the file to score is empty$/.test(e.message));
  await assert.rejects(score('--file', blank), (e: Error) => !(e instanceof UsageError) && /blank\.jsonl: the file to score is empty \(only blank lines\)$/.test(e.message));
  const long = path.join(dir, 'long.jsonl');
  fs.writeFileSync(long, JSON.stringify({ prompt: 'a'.repeat(60), response: 'ok' }) + '\n');
  await assert.rejects(score('--file', long), /long\.jsonl:1: prompt: \d+ tokens with the chat template, leaving no room for a response in the model's context \(48\)$/);
  await assert.rejects(score('--prompt', 'a'.repeat(60), '--response', 'ok'), /^Error: rm score: --prompt: \d+ tokens with the chat template, leaving no room for a response/);
  await assert.rejects(rmCommand(['train', '--base', ck, '--lm-coef', '1e300', '--out', path.join(dir, 'rm-big')]), /rm train: --lm-coef must be in \[0, 100\], got 1e\+300/);
  assert.ok(!fs.existsSync(path.join(dir, 'rm-big')));
});

test('ppo --data: prompt-only records are taken with a reward model, refused in one line by a reward that reads answers', async () => {
  const rm = path.join(dir, 'rm'); // the first test's reward model
  const bare = path.join(dir, 'bare-prompts.jsonl');
  fs.writeFileSync(bare, ['2 + 2', '5 * 3', '10 / 2'].map((q) => JSON.stringify({ prompt: `What is ${q}?` })).join('\n') + '\n');
  const args = ['--steps', '1', '--batch-size', '2', '--mini-batch-size', '2', '--epochs', '1', '--max-new-tokens', '3', '--eval-interval', '1', ...common];
  const p = await run(ppoCommand, ['--policy', ck, '--data', bare, '--reward', rm, '--out', path.join(dir, 'ppo-bare'), ...args]);
  assert.equal(p.code, 0);
  assert.match(p.out, /kept 3 prompts, skipped 0/);
  await assert.rejects(run(ppoCommand, ['--policy', ck, '--data', bare, '--reward', 'exact', '--out', path.join(dir, 'ppo-bare-exact'), ...args]),
    /^Error: .*bare-prompts\.jsonl:1: answer: missing; --reward exact compares each completion with its record's answer \(prompt-only records need a reward model: --reward RM\)$/);
  assert.ok(!fs.existsSync(path.join(dir, 'ppo-bare-exact', 'checkpoint')));
  // a reward model whose tokenizer has the policy's size but other ids (two characters swapped) is refused
  const swapped = path.join(dir, 'rm-swapped');
  fs.cpSync(rm, swapped, { recursive: true });
  for (const sub of ['checkpoint', 'best']) {
    const f = path.join(swapped, sub, 'tokenizer.json');
    const t = JSON.parse(fs.readFileSync(f, 'utf8')) as { chars: string[] };
    [t.chars[1], t.chars[2]] = [t.chars[2], t.chars[1]];
    fs.writeFileSync(f, JSON.stringify(t));
  }
  await assert.rejects(run(ppoCommand, ['--policy', ck, '--data', bare, '--reward', swapped, '--out', path.join(dir, 'ppo-swapped'), ...args]),
    /rm-swapped: the reward model's tokenizer differs from the policy's \(same size, other tokens or ids\)/);
  assert.ok(!fs.existsSync(path.join(dir, 'ppo-swapped', 'checkpoint')));
  // sizes: minibatches larger than a step's rollouts are refused; completions longer than the context are noted
  const sized = (mini: string, maxNew: string): string[] => ['--policy', ck, '--data', bare, '--reward', rm, '--steps', '1', '--batch-size', '2', '--mini-batch-size', mini, '--epochs', '1', '--max-new-tokens', maxNew, '--eval-interval', '1', ...common];
  await assert.rejects(run(ppoCommand, [...sized('4', '3'), '--out', path.join(dir, 'ppo-mini')]), /ppo: --mini-batch-size 4 is above --batch-size 2: a step's rollouts are split/);
  assert.ok(!fs.existsSync(path.join(dir, 'ppo-mini', 'checkpoint')));
  const long = await run(ppoCommand, [...sized('2', '100000'), '--out', path.join(dir, 'ppo-long')]);
  assert.match(long.out, /note: --max-new-tokens 100000 is not below the policy's context \(\d+ tokens, the prompt's included\): completions end where the context fills/);
  // grpo's rewards always read answers: a file of prompt-only records says so
  await assert.rejects(run(grpoCommand, ['--policy', ck, '--data', bare, '--out', path.join(dir, 'grpo-bare'), '--steps', '1', ...common]),
    /bare-prompts\.jsonl: no valid prompts to train on \(no record has an "answer", which the verifiable rewards compare completions with\)$/);
});

test('training flags are checked before any work: a negative --lr, --min-lr above --lr', async () => {
  await assert.rejects(rmCommand(['train', '--base', ck, '--lr', '-1', '--out', path.join(dir, 'rm-bad')]), /rm train: --lr must be greater than 0, got -1/);
  await assert.rejects(dpoCommand(['--base', ck, '--lr', '0.001', '--min-lr', '1', '--out', path.join(dir, 'dpo-bad-lr')]), /--min-lr 1 is above --lr 0\.001/);
  assert.ok(!fs.existsSync(path.join(dir, 'rm-bad')) && !fs.existsSync(path.join(dir, 'dpo-bad-lr')));
});

test('a run is resumed only by the command that trained it', async () => {
  const { sftCommand } = await import('../src/cli/sft.js');
  await assert.rejects(run(sftCommand, ['--out', path.join(dir, 'ppo'), '--resume', '--max-iters', '3', ...common]), /sft --resume: .*ppo holds a run of gptlab ppo, whose state sft cannot continue; resume it with gptlab ppo --resume/);
  await assert.rejects(run(dpoCommand, ['--out', path.join(dir, 'rm'), '--resume', '--max-iters', '3', ...common]), /dpo --resume: .*rm holds a run of gptlab rm train/);
  await assert.rejects(run(ppoCommand, ['--out', path.join(dir, 'grpo'), '--resume', '--steps', '9', ...common]), /ppo --resume: .*grpo holds a run of gptlab grpo/);
});

test('ppo --resume keeps the run reward and data unless given, and refuses another reward', async () => {
  const out = path.join(dir, 'ppo-keep'), good = path.join(dir, 'good.mjs');
  const args = ['--batch-size', '2', '--mini-batch-size', '2', '--epochs', '1', '--max-new-tokens', '3', '--eval-interval', '1', '--eval-prompts', '1', ...common];
  assert.equal((await run(ppoCommand, ['--policy', ck, '--data', prompts, '--reward', good, '--out', out, '--steps', '1', ...args])).code, 0);
  const r = await run(ppoCommand, ['--out', out, '--resume', '--steps', '2', ...args]);
  assert.equal(r.code, 0);
  assert.match(r.out, /reward: .*good\.mjs/);
  await assert.rejects(run(ppoCommand, ['--out', out, '--resume', '--steps', '3', '--reward', 'rule', ...args]), /ppo --resume: the run was trained with the reward .*good\.mjs; rule \(--reward or --reward-fn\) cannot change it/);
});

test('an n-gram run is refused up front as sft/dpo/rm --base and ppo/grpo --policy, naming the model type; nothing is written', async () => {
  const { NgramModel } = await import('../src/models/ngram-model.js');
  const { sftCommand } = await import('../src/cli/sft.js');
  const tok = new CharTokenizer(chars);
  const ng = path.join(dir, 'ngram');
  saveCheckpoint(ng, checkpointFiles(new NgramModel({ vocabSize: chars.length, order: 2 }).fit(tok.encode('the cat sat on the mat. '.repeat(4))), tok));
  const cases: [(a: string[]) => Promise<number>, string[], string][] = [
    [sftCommand, ['--base', ng, '--max-iters', '1'], 'sft: --base'], [dpoCommand, ['--base', ng, '--data', pairs, '--max-iters', '1'], 'dpo: --base'],
    [rmCommand, ['train', '--base', ng, '--data', pairs, '--max-iters', '1'], 'rm train: --base'],
    [ppoCommand, ['--policy', ng, '--data', prompts, '--reward', 'exact', '--steps', '1'], 'ppo: --policy'], [grpoCommand, ['--policy', ng, '--data', prompts, '--steps', '1'], 'grpo: --policy'],
  ];
  for (const [fn, args, head] of cases) {
    const out = path.join(dir, `ng-${head.split(':')[0].replace(' ', '-')}`);
    await assert.rejects(run(fn, [...args, '--out', out, ...common]), (e: Error) => e.message.startsWith(`${head} ${ng} is an n-gram model (gptlab train --arch ngram)`) && !/fit\(ids\)/.test(e.message) && !(e instanceof UsageError), head);
    assert.ok(!fs.existsSync(path.join(out, 'checkpoint')), out);
  }
});

test('ppo/grpo on the built-in prompts with a policy whose vocabulary cannot spell them say so; the dropped-prompts note counts the held-out ones', async () => {
  const { droppedPromptsNote } = await import('../src/align/rl-eval.js');
  const noW = path.join(dir, 'chat-no-W');
  {
    const base = new GPT({ vocabSize: chars.length - 1, blockSize: 48, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: false }, 1);
    const { model, tokenizer } = withChatVocabulary(base, new CharTokenizer(chars.filter((c) => c !== 'W')), '');
    saveCheckpoint(noW, checkpointFiles(model, tokenizer));
  }
  await assert.rejects(run(grpoCommand, ['--policy', noW, '--out', path.join(dir, 'grpo-noW'), '--steps', '1', '--cold-start', '0', ...common]),
    /grpo: the built-in prompts \(the arithmetic questions\) cannot be encoded with the vocabulary of --policy .*chat-no-W: character "W" .*; give a chat model trained by gptlab sft/);
  await assert.rejects(run(ppoCommand, ['--policy', noW, '--out', path.join(dir, 'ppo-noW'), '--steps', '1', ...common]),
    /ppo: the built-in prompts \(the SFT-world questions\) cannot be encoded .*give a chat model trained by gptlab sft/);
  assert.equal(droppedPromptsNote({ dropped: 30 }, { dropped: 1, kept: new Array(9) }, 16, 128),
    'note: 31 prompts leave fewer than 16 tokens of room in the context (128) and were left out (1 of the 10 held out: 9 held-out prompts are scored)');
  assert.equal(droppedPromptsNote({ dropped: 0 }, { dropped: 0, kept: [] }, 16, 128), null);
});
