// One rule for exit codes, the CLI end to end on tiny runs: a flag at odds with the run it resumes or the folder it
// names (the run itself being fine) is a settings problem, exit 2, in every command; a damaged or unreadable run
// exits 1 and names the file and field. Also: --seed outside the generator's seeds is refused (never wrapped);
// train --force over another kind of run leaves none of its files; a BERT run keeps its split and data path on
// --resume; embed train refuses a --dim whose vectors cannot be held. One line each, no stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GPT } from '../src/models/gpt.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { trainBPE } from '../src/tokenizers/bpe-train.js';
import { withChatVocabulary } from '../src/train/chat-vocabulary.js';
import { checkpointFiles } from '../src/train/checkpoint.js';
import { saveCheckpoint } from '../src/train/checkpoint.node.js';
import { embedMemoryProblem } from '../src/cli/embed-estimates.js';
import { errorLine } from '../src/cli/main.js';
import { clearRunContents } from '../src/train/model-folder.node.js';
import { ok, refused } from './helpers/cli-result.js';

const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-exit-codes-'));
/** runs gptlab in folder `cwd` (default `tmp`); compute commands on one thread */
const runIn = (cwd: string, ...args: string[]): { code: number; out: string; err: string } => {
  const threads = ['export', 'lora', 'embed', 'gan'].includes(args[0]) ? [] : ['--threads', '1'];
  const r = spawnSync(process.execPath, [main, ...args, ...threads], { encoding: 'utf8', cwd, timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
};
const run = (...args: string[]): { code: number; out: string; err: string } => runIn(tmp, ...args);
const write = (name: string, text: string): string => (fs.writeFileSync(path.join(tmp, name), text), name);
const text = write('text.txt', 'the cat sat on the mat. '.repeat(40));
const chatFile = write('chat.jsonl', JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'Hello.' }] }) + '\n');
const pairs = write('pairs.jsonl', Array.from({ length: 8 }, (_, i) => JSON.stringify({ prompt: `q${i}`, chosen: `Yes ${i}.`, rejected: 'no' })).join('\n') + '\n');
const quick = ['--eval-interval', '2', '--eval-iters', '1', '--batch-size', '2', '--seed', '1', '--sample-at', ''];
const tinyTrain = ['--data', text, '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', ...quick];

const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,?!+-*/=\n'.split('');
{
  const base = new GPT({ vocabSize: chars.length, blockSize: 48, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: false }, 1);
  const { model, tokenizer } = withChatVocabulary(base, new CharTokenizer(chars), '');
  saveCheckpoint(path.join(tmp, 'chat'), checkpointFiles(model, tokenizer));
}

test('a flag at odds with the run it resumes or the folder it names exits 2; a damaged run exits 1', () => {
  ok(run('train', '--out', 'pt', '--max-iters', '2', ...tinyTrain), 'train');
  ok(run('rm', 'train', '--base', 'chat', '--data', pairs, '--out', 'rm', '--max-iters', '1', '--eval-interval', '1', '--batch-size', '2'), 'rm train');
  ok(run('gan', 'train', '--data', 'ring8', '--epochs', '1', '--points', '64', '--out', 'gan'), 'gan train');
  ok(run('sft', '--base', 'chat', '--out', 'sftb', '--bare-answers', '0.3', '--max-iters', '1', '--eval-interval', '1', '--batch-size', '2', '--eval-examples', '0'), 'sft --bare-answers');
  fs.cpSync(path.join(tmp, 'pt'), path.join(tmp, 'broken'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'broken', 'checkpoint', 'config.json'), '{\n');
  const cases: [string, string[], number, RegExp][] = [
    // flags at odds with the run they resume
    ['another optimizer', ['train', '--resume', '--out', 'pt', '--data', text, '--max-iters', '3', '--optimizer', 'sgd'], 2, /^gptlab: train --resume: the run trains with --optimizer adamw; --optimizer sgd cannot change it/],
    ['another preset', ['train', '--resume', '--out', 'pt', '--data', text, '--max-iters', '3', '--preset', 'tiny'], 2, /^gptlab: train --resume: the run has [a-z-]+ \d+; --preset tiny \([a-z-]+ \d+\) cannot change it/],
    ['another arch', ['train', '--resume', '--out', 'pt', '--data', text, '--max-iters', '3', '--arch', 'llama'], 2, /the run is --arch gpt; --arch llama cannot change it/],
    ['--max-iters below the step', ['train', '--resume', '--out', 'pt', '--data', text, '--max-iters', '1'], 2, /^gptlab: --max-iters 1 is below the run's step 2/],
    ['another readout', ['rm', 'train', '--resume', '--out', 'rm', '--readout', 'last', '--max-iters', '3'], 2, /reads its score with 'last\+loglik', not 'last'; resume without --readout/],
    ['another --bare-answers', ['sft', '--resume', '--out', 'sftb', '--bare-answers', '0.5', '--max-iters', '3'], 2, /^gptlab: sft --resume: --bare-answers 0\.5 differs from the run's 0\.3; the run goes on with its own training set/],
    ['--data on a bare-answers run', ['sft', '--resume', '--out', 'sftb', '--data', chatFile, '--max-iters', '3'], 2, /^gptlab: sft --resume: the run trains on the built-in Q&A set with --bare-answers 0\.3; --data chat\.jsonl cannot replace it/],
    ['--bare-answers with a data file', ['sft', '--base', 'chat', '--data', chatFile, '--bare-answers', '0.3', '--out', 'sftd'], 2, /^gptlab: sft: --bare-answers adds bare-answer twins to the built-in Q&A set; a --data file \(chat\.jsonl\) is trained as it is$/],
    ['another --base', ['rm', 'train', '--resume', '--out', 'rm', '--base', 'pt', '--max-iters', '3'], 2, /^gptlab: rm train --resume: the run started from --base chat; --base pt cannot change it/],
    ['LoRA on resume', ['rm', 'train', '--resume', '--out', 'rm', '--lora-r', '2', '--max-iters', '3'], 2, /rm train --resume: the run trains without LoRA; --lora-r 2 cannot change that/],
    ['another command\'s run', ['sft', '--resume', '--out', 'pt', '--max-iters', '3'], 2, /^gptlab: sft --resume: pt holds a run of gptlab train, whose state sft cannot continue; resume it with gptlab train --resume$/],
    ['a seq2seq resume of a train run', ['seq2seq', 'train', '--resume', '--out', 'pt', '--max-iters', '3'], 2, /^gptlab: seq2seq train --resume: pt holds a run of gptlab train, whose state seq2seq train cannot continue/],
    ['a train resume of a GAN run', ['train', '--resume', '--out', 'gan', '--data', text, '--max-iters', '3'], 2, /^gptlab: train --resume: gan holds a run of gptlab gan train, .*a GAN run does not resume/],
    ['a bert resume of a gpt run', ['train', '--arch', 'bert', '--resume', '--out', 'pt', '--data', text, '--max-iters', '3'], 2, /holds a run of gptlab train, whose state train --arch bert cannot continue/],
    ['nothing to resume', ['train', '--resume', '--out', 'nowhere', '--data', text], 2, /^gptlab: --resume: nowhere holds no run to resume \(no checkpoint\/ there\); drop --resume/],
    // flags at odds with the folder they name
    ['--out holding a run', ['train', '--out', 'pt', ...tinyTrain], 2, /^gptlab: pt already holds a run: continue it with --resume, choose another --out, or overwrite it with --force$/],
    ['--out a run\'s checkpoint', ['train', '--out', 'pt/checkpoint', ...tinyTrain], 2, /^gptlab: --out pt\/checkpoint: is a model folder inside a run \(pt\)/],
    ['--out inside a run', ['train', '--out', 'pt/more', ...tinyTrain], 2, /^gptlab: --out pt\/more: lies inside a run \(pt\)/],
    ['--out inside a run (sft)', ['sft', '--base', 'chat', '--out', 'rm/more'], 2, /^gptlab: --out rm\/more: lies inside a run \(rm\)/],
    ['--out holding the input', ['rm', 'train', '--base', 'rm/best', '--out', 'rm', '--force'], 2, /^gptlab: --out rm: holds the input rm\/best/],
    ['--out the current folder', ['train', '--out', '.', ...tinyTrain], 2, /^gptlab: --out \.: is the current folder/],
    ['gan --out holding a run', ['gan', 'train', '--data', 'ring8', '--epochs', '1', '--out', 'pt'], 2, /^gptlab: pt already holds a gpt run: choose another --out, or overwrite it with --force$/],
    ['an unknown gan subcommand', ['gan', 'frob'], 2, /^gptlab: gan: unknown subcommand "frob" \(train or sample\)$/],
    ['an unknown vision subcommand', ['vision', 'frob'], 2, /^gptlab: vision: unknown subcommand "frob" \(train or predict\)$/],
    ['export --out inside a run', ['export', 'chat', '--out', 'pt/m.gguf'], 2, /export: --out pt\/m\.gguf: lies in the gptlab run or checkpoint folder pt/],
    // a run the command cannot take
    ['a reward model as rm train\'s --base', ['rm', 'train', '--base', 'rm', '--out', 'rm2', '--max-iters', '1'], 1, /^gptlab: error: rm train: --base rm is a reward model already; give the chat \(SFT\) model a new one starts from \(.*chat\), or continue that run with --resume --out$/],
    // a damaged run
    ['a damaged config.json', ['train', '--resume', '--out', 'broken', '--data', text, '--max-iters', '3'], 1, /^gptlab: error: broken\/checkpoint\/config\.json: not valid JSON/],
  ];
  for (const [what, args, code, re] of cases) refused(run(...args), code, re, what);
  const moved = run('sft', '--resume', '--out', 'sftb', '--eval-examples', '5', '--max-iters', '2', '--eval-interval', '1');
  ok(moved, 'sft --resume --eval-examples');
  assert.match(moved.out, /note: --eval-examples also sets the dev set .*, so dev losses and best\/ from before this resume were measured on other examples/);
  assert.ok(fs.existsSync(path.join(tmp, 'pt', 'checkpoint', 'config.json')) && fs.existsSync(path.join(tmp, 'rm', 'best')), 'the runs are left as they were');
  assert.ok(!fs.existsSync(path.join(tmp, 'nowhere')) && !fs.existsSync(path.join(tmp, 'pt', 'more')) && !fs.existsSync(path.join(tmp, 'sftd')) && !fs.existsSync(path.join(tmp, 'rm2')), 'nothing written');
});

test('a damaged trainer_state.json is a file problem naming the file and the field, not a --max-iters problem', () => {
  ok(run('train', '--out', 'st', '--max-iters', '2', ...tinyTrain), 'train');
  const file = path.join(tmp, 'st', 'checkpoint', 'trainer_state.json'), good = fs.readFileSync(file, 'utf8');
  const states: [string, (s: Record<string, unknown>) => void, RegExp][] = [
    ['missing', (s) => delete s.step, /got nothing \(the field is missing\)/],
    ['negative', (s) => (s.step = -4), /got -4$/],
    ['not a number', (s) => (s.step = 'two'), /got "two"$/],
    ['fractional', (s) => (s.step = 2.5), /got 2\.5$/],
    ['beyond any run', (s) => (s.step = 1e300), /got 1e\+300$/],
  ];
  try {
    for (const [what, edit, re] of states) {
      const st = JSON.parse(good) as Record<string, unknown>;
      edit(st);
      fs.writeFileSync(file, JSON.stringify(st));
      const r = run('train', '--resume', '--out', 'st', '--data', text, '--max-iters', '3');
      refused(r, 1, /^gptlab: error: st\/checkpoint\/trainer_state\.json: field "step" must be a whole number in \[0, 9007199254740991\], /, what);
      assert.match(r.err.trim(), re, what);
      assert.doesNotMatch(r.err, /--max-iters/, what);
    }
  } finally {
    fs.writeFileSync(file, good);
  }
  ok(run('train', '--resume', '--out', 'st', '--data', text, '--max-iters', '3'), 'the repaired run resumes');
});

test('--seed outside 0 … 2^32 − 1 is refused naming the flag and the range, in every command; the ends are taken', () => {
  ok(run('train', '--out', 'sd', '--max-iters', '1', ...tinyTrain), 'train');
  const range = /--seed must be in \[0, 4294967295\], got (4294967296|-1)$/;
  for (const args of [
    ['sample', 'sd', '--seed', '4294967296'], ['sample', 'sd', '--seed', '-1'], ['train', '--data', text, '--out', 'sd2', '--seed', '4294967296'],
    ['chat', 'sd', '--seed', '4294967296'], ['sft', '--base', 'chat', '--out', 'sd3', '--seed', '-1'], ['grpo', '--policy', 'chat', '--out', 'sd4', '--seed', '4294967296'],
    ['gan', 'train', '--out', 'sd5', '--seed', '4294967296'], ['embed', 'train', '--out', 'sd.txt', '--seed', '-1'], ['ladder', '--steps', '1', '--seed', '4294967296'],
    ['seq2seq', 'train', '--out', 'sd6', '--seed', '4294967296'], ['classify', 'train', '--out', 'sd7', '--seed', '4294967296'], ['vision', 'train', '--out', 'sd8', '--seed', '-1'],
  ]) refused(run(...args), 2, range, args.join(' '));
  ok(run('sample', 'sd', '--seed', '4294967295', '-n', '8', '--prompt', 'the '), 'the largest seed');
  ok(run('sample', 'sd', '--seed', '0', '-n', '8', '--prompt', 'the '), 'seed 0');
});

test('train --force over a run of another kind (a GAN run, a LoRA run) leaves none of its files; other files stay', () => {
  ok(run('gan', 'train', '--data', 'ring8', '--epochs', '1', '--points', '64', '--out', 'mixed'), 'gan train');
  const dir = path.join(tmp, 'mixed');
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
  for (const extra of ['adapter', 'merged']) fs.mkdirSync(path.join(dir, extra)); // as a LoRA run leaves them
  fs.writeFileSync(path.join(dir, 'confusion.svg'), '<svg/>');
  const before = fs.readdirSync(dir).sort();
  assert.ok(before.includes('report.json') && before.some((n) => /^scatter-epoch-\d+\.svg$/.test(n)), before.join(' '));
  refused(run('train', '--out', 'mixed', '--max-iters', '1', ...tinyTrain, '--n-head', '3', '--force'), 2, /--n-head 3 must divide --n-embd 16/, 'a bad flag');
  assert.deepEqual(fs.readdirSync(dir).sort(), before, 'a refused job leaves the old run as it was');
  ok(run('train', '--out', 'mixed', '--max-iters', '1', ...tinyTrain, '--force'), 'train --force');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['best', 'checkpoint', 'log.jsonl', 'loss.svg', 'notes.txt']);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint', 'config.json'), 'utf8')).model_type, 'gpt');
  // never a folder that holds no run, and nothing but the run's own files
  const plain = path.join(tmp, 'plain');
  fs.mkdirSync(plain);
  fs.writeFileSync(path.join(plain, 'report.json'), '{}');
  assert.deepEqual(clearRunContents(plain), []);
  assert.deepEqual(fs.readdirSync(plain), ['report.json']);
});

test('train --arch bert --resume keeps the run\'s split and absolute data path, noting another given; model flags cannot change', () => {
  const bert = ['--arch', 'bert', '--n-layer', '1', '--n-embd', '32', '--intermediate-size', '64', '--block-size', '32', '--vocab-size', '60', '--eval-iters', '1', '--eval-interval', '2'];
  ok(run('train', ...bert, '--data', text, '--split', '80/20/0', '--mask-prob', '0.2', '--max-iters', '2', '--out', 'bert'), 'train --arch bert');
  const meta = (): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(tmp, 'bert', 'checkpoint', 'config.json'), 'utf8')).meta;
  assert.equal(meta().source, path.join(fs.realpathSync(tmp), text));
  assert.equal(meta().split, '80/20/0');
  const away = path.join(tmp, 'away');
  fs.mkdirSync(away);
  const r = runIn(away, 'train', '--arch', 'bert', '--resume', '--out', '../bert', '--data', '../text.txt', '--max-iters', '3');
  ok(r, 'resumed from another folder');
  assert.doesNotMatch(r.out, /note: resuming with --(split|data|mask-prob)/, r.out);
  assert.match(r.out, /\(train \d+, dev \d+\); masking 20%/);
  assert.equal(meta().split, '80/20/0', 'the split kept');
  assert.equal(meta().maskProb, 0.2, 'the masking kept');
  const s = run('train', '--arch', 'bert', '--resume', '--out', 'bert', '--data', text, '--max-iters', '4', '--split', '90/10/0');
  ok(s, 'another --split');
  assert.match(s.out, /note: resuming with --split 80\/20\/0 → 90\/10\/0 \(given now\): the held-out part changes with it/);
  assert.equal(meta().split, '90/10/0');
  refused(run('train', '--arch', 'bert', '--resume', '--out', 'bert', '--data', text, '--max-iters', '5', '--n-layer', '2'), 2, /^gptlab: train --resume: the run has n-layer 1; --n-layer 2 cannot change it/);
  // without --arch bert a resumed BERT run is still masked-LM pretraining (as a resumed LLaMA run keeps its model)
  const noArch = run('train', '--resume', '--out', 'bert', '--data', text, '--max-iters', '5', '--mask-prob', '0.3');
  ok(noArch, 'resumed without --arch bert');
  assert.doesNotMatch(noArch.out, /applies to --arch bert only/);
  assert.equal(meta().maskProb, 0.3);
  refused(run('train', '--resume', '--out', 'bert', '--data', text, '--max-iters', '6', '--arch', 'gpt'), 2, /holds a run of gptlab train --arch bert, whose state train cannot continue; resume it with gptlab train --arch bert --resume/);
  // a resume with nothing left to train writes nothing: the split given with it does not become the run's
  const before = fs.readFileSync(path.join(tmp, 'bert', 'checkpoint', 'config.json'), 'utf8');
  const idle = run('train', '--resume', '--out', 'bert', '--data', text, '--split', '70/30/0');
  ok(idle, 'idle resume');
  assert.match(idle.out, /nothing left to train: the run is at step 5, its --max-iters; .*nothing written, the run keeps its settings/);
  assert.equal(fs.readFileSync(path.join(tmp, 'bert', 'checkpoint', 'config.json'), 'utf8'), before);
});

test('train --resume without --data goes on with the text the run recorded, from any folder; a vanished file is named', () => {
  const own = write('own.txt', 'a bird in the hand. '.repeat(40));
  ok(run('train', ...tinyTrain.map((a) => (a === text ? own : a)), '--max-iters', '2', '--out', 'own'), 'train');
  const away = path.join(tmp, 'away2');
  fs.mkdirSync(away);
  const r = runIn(away, 'train', '--resume', '--out', '../own', '--max-iters', '3');
  ok(r, 'resumed without --data');
  assert.match(r.out, /data: \S*own\.txt — /);
  assert.doesNotMatch(r.out, /note: resuming with --data/);
  ok(run('train', '--demo', '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', ...quick, '--max-iters', '2', '--out', 'demo1'), 'demo');
  assert.match(run('train', '--resume', '--out', 'demo1', '--max-iters', '3').out, /data: built-in demo corpus/);
  fs.renameSync(path.join(tmp, own), path.join(tmp, 'moved.txt'));
  refused(run('train', '--resume', '--out', 'own', '--max-iters', '4'), 1, /^gptlab: error: train --resume: the run in own trained on .*own\.txt, which is gone; give --data/);
  refused(run('train', '--resume', '--max-iters', '4'), 2, /^gptlab: train --resume: give --out/);
});

test('a --config file that is not valid JSON is named with its line and the reason, without V8\'s excerpt', () => {
  write('broken.json', '{\n  "lr": 0.1,\n  "max_iters": 5x\n}\n');
  refused(run('train', '--data', text, '--config', 'broken.json'), 2, /^gptlab: broken\.json:3: not valid JSON \(expected ',' or '\}' after property value at column 17\)$/);
  write('cut.json', '{"lr": ');
  refused(run('train', '--data', text, '--config', 'cut.json'), 2, /^gptlab: cut\.json: not valid JSON \(it ends before the value is complete/);
});

test('embed train: vectors too large for a typed array, a string or the machine are refused up front with the estimate (exit 2)', () => {
  const limits = { arrayLength: 2 ** 32, stringLength: 2 ** 29 - 24, memory: 8 * 2 ** 30 };
  const at = (words: number, dim: number, method = 'sgns', out = 'v.bin'): string | null => embedMemoryProblem({ words, wordChars: words * 6, dim, method, out }, limits);
  assert.equal(at(100_000, 300), null);
  assert.match(at(500_000, 10_000)!, /^--dim 10000 for a vocabulary of 500,000 words needs about 37\.3 GiB \(sgns: 2 float32 matrices of 500,000 × 10000, 18\.6 GiB each\), more than a JavaScript typed array holds \(4,294,967,296 values\); lower --dim/);
  assert.match(at(1_000_000, 1000)!, /^--dim 1000 for a vocabulary of 1,000,000 words needs about 7\.5 GiB .* and 3\.7 GiB for the binary file, more than this machine's memory \(8\.0 GiB\)/);
  assert.match(at(100_000, 1000, 'cbow', 'v.txt')!, /^--out v\.txt: the text file for 100,000 words × --dim 1000 would be about 859 MiB, more than a JavaScript string holds \(512 MiB\); write the binary format/);
  assert.match(at(200_000, 5000, 'ppmi-svd')!, /ppmi-svd: 6 float64 matrices of 200,000 × 5010, 7\.5 GiB each, and the float32 vectors/);
  // the CLI: a vocabulary of 450,000 words at --dim 10000 is more than one typed array (and most machines) hold
  const words = write('many.txt', Array.from({ length: 450_000 }, (_, i) => `w${i}`).join(' ') + '\n');
  const r = run('embed', 'train', '--data', words, '--min-count', '1', '--dim', '10000', '--out', 'many.bin', '--quiet');
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /^sgns on many\.txt: .*\ngptlab: embed train: --dim 10000 for a vocabulary of 450,001 words needs about 33\.5 GiB \(sgns: 2 float32 matrices/);
  assert.ok(!fs.existsSync(path.join(tmp, 'many.bin')));
});

test('alignment: a reward-flag clash exits 2; a run, model or reward module the command cannot take exits 1, naming it (and the line)', () => {
  const prompts = write('prompts.jsonl', [['2 + 2', '4'], ['5 * 3', '15']].map(([q, a]) => JSON.stringify({ prompt: `What is ${q}?`, answer: a })).join('\n') + '\n');
  const syntax = write('syn.mjs', 'export default function (c) {\n  const x = ;\n  return x;\n}\n');
  const atImport = write('thr.mjs', 'const a = 1;\nthrow new Error("boom at import");\nexport default () => a;\n');
  const atCall = write('typeerr.mjs', 'export default function reward(c) {\n  const o = undefined;\n  if (c !== null) {\n    return o.length;\n  }\n}\n');
  // a LoRA run's PEFT adapter folder (what sample finds there is enough: no config.json)
  fs.mkdirSync(path.join(tmp, 'lora-run', 'adapter'), { recursive: true });
  fs.cpSync(path.join(tmp, 'chat'), path.join(tmp, 'lora-run', 'best'), { recursive: true });
  for (const f of ['adapter_config.json', 'adapter_model.safetensors']) fs.writeFileSync(path.join(tmp, 'lora-run', 'adapter', f), '{}');
  // a checkpoint whose byte-level BPE has no chat special tokens
  const bpe = trainBPE('the cat sat on the mat. '.repeat(20), { vocabSize: 260 });
  saveCheckpoint(path.join(tmp, 'bpe'), checkpointFiles(new GPT({ vocabSize: bpe.vocabSize, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: false }, 1), bpe));
  const rl = ['--steps', '1', '--max-new-tokens', '2', '--seed', '1'];
  const cases: [string, string[], number, RegExp][] = [
    ['ppo --reward rule with --data', ['ppo', '--policy', 'chat', '--reward', 'rule', '--data', prompts, '--out', 'p1'], 2, /^gptlab: ppo: --reward rule scores the built-in SFT-world questions; with --data give a reward model, exact, last-number, format or FILE\.mjs$/],
    ['ppo\'s default rule with --data', ['ppo', '--policy', 'chat', '--data', prompts, '--out', 'p1'], 2, /^gptlab: ppo: --reward rule \(the default\) scores the built-in SFT-world questions/],
    ['grpo --reward rule with --data', ['grpo', '--policy', 'chat', '--reward', 'rule', '--data', prompts, '--out', 'g1'], 2, /^gptlab: grpo: --reward rule scores the built-in SFT-world questions/],
    ['an unknown reward name', ['ppo', '--policy', 'chat', '--reward', 'fuzzy', '--data', prompts, '--out', 'p1'], 2, /^gptlab: unknown reward "fuzzy"/],
    ['lora merge of a run without LoRA', ['lora', 'merge', 'chat', '--out', 'm1'], 1, /^gptlab: error: lora merge: chat has no LoRA adapter/],
    ['rm score of a gpt model', ['rm', 'score', 'chat', '--prompt', 'a', '--response', 'b'], 1, /^gptlab: error: rm score: chat is a gpt model, not a reward model/],
    ['a reward module with a syntax error', ['grpo', '--policy', 'chat', '--reward', syntax, '--out', 'g1'], 1, /^gptlab: error: grpo: --reward: syn\.mjs:2(:\d+)?: could not load the module: SyntaxError: Unexpected token ';'$/],
    ['a reward module that throws at import', ['ppo', '--policy', 'chat', '--reward-fn', atImport, '--data', prompts, '--out', 'p1'], 1, /^gptlab: error: thr\.mjs:2:7: could not load the module: boom at import$/],
    ['a reward function that throws', ['grpo', '--policy', 'chat', '--reward', atCall, '--data', prompts, '--out', 'g2', '--group-size', '2', '--prompts-per-step', '2', ...rl], 1, /^gptlab: error: typeerr\.mjs:4:14 threw on completion ".*": Cannot read properties of undefined \(reading 'length'\)$/],
    ['a reward function that throws (ppo)', ['ppo', '--policy', 'chat', '--reward-fn', atCall, '--data', prompts, '--out', 'p2', '--batch-size', '2', '--mini-batch-size', '2', ...rl], 1, /^gptlab: error: typeerr\.mjs:4:14 threw on completion/],
    ['a LoRA adapter folder', ['sample', 'lora-run/adapter', '-n', '4'], 1, /^gptlab: error: lora-run\/adapter: not a checkpoint .*; it is a LoRA adapter \(PEFT\): give the run folder \(lora-run\), or merge it onto its base with gptlab lora merge lora-run --out DIR$/],
    ['a BPE base without chat tokens', ['rm', 'train', '--base', 'bpe', '--data', pairs, '--out', 'rmb'], 1, /^gptlab: error: rm train: --base bpe: the checkpoint's bpe tokenizer lacks the chat special tokens /],
  ];
  for (const [what, args, code, re] of cases) refused(run(...args), code, re, what);
  for (const d of ['p1', 'p2', 'g1', 'g2', 'm1', 'rmb']) assert.ok(!fs.existsSync(path.join(tmp, d, 'checkpoint')), `nothing written in ${d}`);
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('every kind of V8 allocation failure becomes one out-of-memory line naming the command\'s size flags', () => {
  for (const msg of ['Invalid typed array length: 1e12', 'Array buffer allocation failed', 'Invalid array length', 'Invalid string length']) {
    assert.match(errorLine(new RangeError(msg), 'embed'), /^gptlab: error: out of memory: .*\(lower --dim\)$/, msg);
  }
  assert.equal(errorLine(new RangeError('Maximum call stack size exceeded'), 'embed'), 'gptlab: error: Maximum call stack size exceeded');
  assert.equal(errorLine(new RangeError('Invalid typed array length: 4000000000000'), 'train', ['--data', 'a.txt', '--arch', 'lstm', '--n-hidden', '1000000']),
    'gptlab: error: out of memory: Invalid typed array length: 4000000000000 (the sizes given: --n-hidden 1000000; lower it or --batch-size/--block-size)');
  assert.match(errorLine(new Error('wasm heap: 2457600000 more bytes do not fit in a 4 GiB wasm memory (1 bytes in use)'), 'train', ['--context=100000', '--batch-size', '64']),
    /^gptlab: error: out of memory: wasm heap: .*\(the sizes given: --context 100000, --batch-size 64; lower them or --block-size\)$/);
});
