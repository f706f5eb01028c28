// The gptlab command end to end: a tiny training run, then sample / eval --json / info on its checkpoint,
// and bad input of every kind giving one clear line and a non-zero exit (never a stack trace).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-cli-'));
const run = (...args: string[]): { code: number; out: string; err: string } => {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', cwd: tmp, timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
};
const data = path.join(tmp, 'data.txt');
fs.writeFileSync(data, 'the cat sat on the mat. the dog sat on the log.\n'.repeat(200));
const tiny = ['--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', '--batch-size', '4', '--eval-iters', '2', '--threads', '1'];

test('train → sample → eval → info', () => {
  const out = path.join(tmp, 'run');
  const t = run('train', '--data', data, '--out', out, '--max-iters', '30', '--eval-interval', '10', '--sample-at', '30', '--sample-tokens', '20', ...tiny);
  assert.equal(t.code, 0, t.err);
  assert.match(t.out, /done at step 30/);
  assert.match(t.err + t.out, /sample at step 30/);
  for (const f of ['checkpoint/config.json', 'checkpoint/model.safetensors', 'checkpoint/optimizer.safetensors', 'best/tokenizer.json', 'loss.svg']) {
    assert.ok(fs.existsSync(path.join(out, f)), f);
  }
  const s = run('sample', out, '--prompt', 'the ', '-n', '20', '--seed', '1', '--threads', '1');
  assert.equal(s.code, 0, s.err);
  assert.ok(s.out.startsWith('the '));
  const again = run('sample', out, '--prompt', 'the ', '-n', '20', '--seed', '1', '--threads', '1', '--no-cache');
  assert.equal(again.out, s.out, 'seeded sampling is deterministic, with or without the KV cache');
  const e = run('eval', out, '--data', data, '--json', '--threads', '1');
  assert.equal(e.code, 0, e.err);
  const j = JSON.parse(e.out);
  assert.ok(j.loss > 0 && j.perplexity > 1 && j.tokens > 1000, e.out);
  assert.ok(Math.abs(j.perplexity - Math.exp(j.loss)) < 1e-6 * j.perplexity);
  const dev = JSON.parse(run('eval', out, '--data', data, '--json', '--split', '90/10', '--part', 'dev', '--threads', '1').out);
  assert.ok(dev.tokens < j.tokens / 5 && dev.tokens > j.tokens / 20, `dev part scored ${dev.tokens} of ${j.tokens} tokens`);
  const i = run('info', out);
  assert.equal(i.code, 0, i.err);
  assert.match(i.out, /1 layers, 2 heads, 16 wide, block 16/);
  const r = run('train', '--data', data, '--out', out, '--resume', '--max-iters', '40', '--threads', '1');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /resuming .* at step 30/);
  assert.match(r.out, /done at step 40/);
});

test('help everywhere', () => {
  for (const cmd of ['train', 'sample', 'eval', 'info', 'bench', 'sft', 'serve']) {
    const h = run(cmd, '--help');
    assert.equal(h.code, 0, `${cmd}: ${h.err}`);
    assert.match(h.out, new RegExp(`gptlab ${cmd}`));
  }
  assert.match(run('--help').out, /commands:/);
});

test('bad input: one clear line, non-zero exit, no stack trace', () => {
  const empty = path.join(tmp, 'empty.txt');
  fs.writeFileSync(empty, '');
  const bin = path.join(tmp, 'bin.txt');
  fs.writeFileSync(bin, Buffer.from([0x61, 0x62, 0xff, 0xfe, 0x0a]));
  const short = path.join(tmp, 'short.txt');
  fs.writeFileSync(short, 'abc');
  const cfgFile = (name: string, text: string): string => (fs.writeFileSync(path.join(tmp, name), text), path.join(tmp, name));
  const badcfg = path.join(tmp, 'bad.json');
  fs.writeFileSync(badcfg, '{"max_iters": "lots"}');
  const broken = path.join(tmp, 'broken');
  fs.mkdirSync(broken);
  fs.writeFileSync(path.join(broken, 'config.json'), '{"format":"gptlab-checkpoint","version":1,"model":{"vocabSize":5,"blockSize":8,"nLayer":1,"nHead":1,"nEmbd":8,"dropout":0,"bias":false}}');
  fs.writeFileSync(path.join(broken, 'model.safetensors'), Buffer.from([1, 2, 3]));
  const cases: [string[], RegExp][] = [
    [['train', '--data', path.join(tmp, 'missing.txt')], /missing\.txt: no such data file/],
    [['train', '--data', empty], /empty\.txt: the data file is empty/],
    [['train', '--data', bin], /bin\.txt: invalid UTF-8 at byte 2/],
    [['train', '--data', data, '--bogus'], /unknown option --bogus/],
    [['train', '--data', data, '--max-iters', 'ten'], /--max-iters must be a whole number/],
    [['train', '--data', data, '--lr', '1e-3x'], /--lr must be a number/],
    [['train', '--data', short, '--block-size', '64'], /fewer than block size 64/],
    [['train', '--data', data, '--config', badcfg], /bad\.json: --max-iters must be a whole number/],
    ...(['{"__proto__":{"maxIters":1}}', '{"constructor":1}', '{"prototype":1}'].map((j, i) => {
      fs.writeFileSync(path.join(tmp, `proto${i}.json`), j);
      return [['train', '--data', data, '--config', path.join(tmp, `proto${i}.json`)], /unknown option "(__proto__|constructor|prototype)"/] as [string[], RegExp];
    })),
    [['train', '--data', data, '--config', cfgFile('inf.json', '{"max_iters":1e400}')], /--max-iters is not a finite number/],
    [['train', '--data', data, '--config', cfgFile('str.json', '{"maxIters":"10"}')], /--max-iters must be a whole number \(a JSON number, not text\)/],
    [['train', '--data', data, '--block-size', '20000', '--max-iters', '1', '--out', path.join(tmp, 'huge')], /out of memory: .*lower --batch-size\/--block-size/],
    [['train', '--data', data, '--batch-size', '100000000', '--max-iters', '1', '--out', path.join(tmp, 'huge')], /out of memory: the logits/],
    [['train', '--data', data, '--arch', 'lstm', '--n-hidden', '20000', '--max-iters', '1', '--out', path.join(tmp, 'huge')], /out of memory: the parameters .*lower --n-hidden\/--n-embd\/--n-layer\n?$/],
    [['train', '--data', data, '--arch', 'mlp', '--n-hidden', '2000000', '--context', '32', '--max-iters', '1', '--out', path.join(tmp, 'huge')], /out of memory: the parameters .*lower --n-hidden\/--n-embd\/--context\n?$/],
    [['train', '--data', data, '--arch', 'mlp', '--context', '200', '--block-size', '16'], /^gptlab: train: --context 200 must be less than --block-size 16: a training window gives at most 15 previous tokens/],
    [['train', '--data', data, '--sample-tokens', '100000000'], /^gptlab: train: --sample-tokens must be in \[1, 1000000\], got 100000000/],
    [['train', '--data', data, '--eval-iters', '100000000'], /^gptlab: train: --eval-iters must be in \[1, 10000\], got 100000000/],
    [['train', '--data', data, '--out', path.join(tmp, 'run', 'checkpoint'), '--max-iters', '1'], /is a model folder inside a run/],
    [['train', '--data', data, '--config', cfgFile('twice.json', '{"max_iters":5,"max-iters":6}')], /"max_iters" and "max-iters" both set --max-iters/],
    [['train', '--data', data, '--split', '50/60', '--out', path.join(tmp, 'split')], /--split "50\/60": the parts add up to 110, more than 100 percent/],
    [['train'], /give --data FILE, or --demo/],
    [['sample', path.join(tmp, 'nowhere')], /no such checkpoint folder or model file/],
    [['sample', broken], /broken\/model\.safetensors: invalid safetensors file/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ];
  for (const [args, re] of cases) {
    const r = run(...args);
    assert.notEqual(r.code, 0, `${args.join(' ')} should fail`);
    assert.match(r.err, re, `${args.join(' ')}: ${r.err}`);
    assert.ok(!/\n\s+at /.test(r.err), `${args.join(' ')} printed a stack trace: ${r.err}`);
    assert.equal(r.err.trim().split('\n').length, 1, `${args.join(' ')}: one line, got ${r.err}`);
  }
});

/** a tiny GPT checkpoint at `dir` (made in this process, no training) */
async function tinyCheckpoint(dir: string): Promise<string> {
  const { checkpointFiles } = await import('../src/train/checkpoint.js');
  const { saveCheckpoint } = await import('../src/train/checkpoint.node.js');
  const { tinyGPT, bpeTokenizer } = await import('./gguf-model-helpers.js');
  const tok = bpeTokenizer('gpt2');
  saveCheckpoint(dir, checkpointFiles(tinyGPT(tok.vocabSize, 32), tok));
  return dir;
}

const oneLine = (r: { code: number; err: string }, re: RegExp, what: string): void => {
  assert.notEqual(r.code, 0, `${what} should fail`);
  assert.match(r.err, re, `${what}: ${r.err}`);
  assert.equal(r.err.trim().split('\n').length, 1, `${what}: one line, got ${r.err}`);
};

test('export --format hf / lora merge --out: never delete what they did not write; --force writes only their own files', async () => {
  const ck = await tinyCheckpoint(path.join(tmp, 'xck'));
  const mine = path.join(tmp, 'mine');
  fs.mkdirSync(mine);
  fs.writeFileSync(path.join(mine, 'notes.txt'), 'keep me');
  oneLine(run('export', ck, '--format', 'hf', '--out', mine), /--out .*mine: exists and is not empty; .*--force/, 'non-empty folder');
  const f = run('export', ck, '--format', 'hf', '--out', mine, '--force', '--threads', '1');
  assert.equal(f.code, 0, f.err);
  assert.equal(fs.readFileSync(path.join(mine, 'notes.txt'), 'utf8'), 'keep me');
  assert.ok(fs.existsSync(path.join(mine, 'model.safetensors')) && fs.existsSync(path.join(mine, 'config.json')));
  assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.includes('.tmp-')), []);
  const run2 = path.join(tmp, 'xrun');
  fs.mkdirSync(path.join(run2, 'best'), { recursive: true });
  for (const [out, re] of [[run2, /is a gptlab run or checkpoint folder/], [ck, /holds the input/], [path.join(tmp, 'xck2'), null], [tmp, /is the current folder/]] as [string, RegExp | null][]) {
    if (!re) continue;
    oneLine(run('export', ck, '--format', 'hf', '--out', out, '--force'), re, `export --out ${out}`);
    oneLine(run('lora', 'merge', ck, '--out', out, '--force'), re, `lora merge --out ${out}`);
  }
  fs.cpSync(ck, path.join(tmp, 'xck2'), { recursive: true });
  oneLine(run('export', ck, '--format', 'hf', '--out', path.join(tmp, 'xck2'), '--force'), /is a gptlab run or checkpoint folder/, 'checkpoint folder');
  assert.ok(fs.existsSync(path.join(run2, 'best')) && fs.existsSync(path.join(ck, 'model.safetensors')));
  oneLine(run('lora', 'merge', ck, '--out', mine), /exists and is not empty/, 'lora merge into a non-empty folder');
});

test('export --format gguf: refuses an existing file without --force and a device or folder even with it; clear lines for bad paths and flags', async () => {
  const ck = await tinyCheckpoint(path.join(tmp, 'gck'));
  const txt = path.join(tmp, 'dev.txt');
  fs.writeFileSync(txt, 'text');
  oneLine(run('export', ck, '--out', txt), /dev\.txt: exists; .*--force/, 'existing file');
  assert.equal(fs.readFileSync(txt, 'utf8'), 'text');
  oneLine(run('export', ck, '--out', '/dev/null', '--force'), /\/dev\/null: is not a regular file/, 'device');
  assert.ok(fs.statSync('/dev/null').isCharacterDevice());
  oneLine(run('export', ck, '--out', path.join(txt, 'x.gguf')), new RegExp(`--out .*dev\\.txt/x\\.gguf: its folder ${txt.replace(/[.]/g, '\\.')} is a file`), 'parent is a file');
  oneLine(run('export', ck, '--out', '/proc/x.gguf', '--type', 'F32', '--threads', '1'), /--out \/proc\/x\.gguf: cannot write there \(/, '/proc');
  oneLine(run('export', ck, '--format', 'hf', '--type', 'q4_0', '--out', path.join(tmp, 'h1')), /--type is for --format gguf/, '--format hf --type');
  oneLine(run('export', ck, '--dtype', 'F16', '--out', path.join(tmp, 'h1.gguf')), /--dtype is for --format hf/, '--format gguf --dtype');
  oneLine(run('export', ck, 'B', '--out', path.join(tmp, 'c.gguf')), /export: one model expected, got 2: .*gck B/, 'two models');
  oneLine(run('info', ck, 'B'), /info: one model expected, got 2/, 'info with two models');
  const q = run('export', ck, '--type', 'Q8_0', '--out', path.join(tmp, 'q.gguf'), '--threads', '1');
  assert.equal(q.code, 0, q.err);
  const again = run('export', ck, '--type', 'q8_0', '--out', path.join(tmp, 'q.gguf'), '--force', '--threads', '1');
  assert.equal(again.code, 0, again.err);
  const h = run('export', ck, '--format', 'hf', '--dtype', 'f16', '--out', path.join(tmp, 'h16'), '--threads', '1');
  assert.equal(h.code, 0, h.err);
  // never the input, nor a file of a checkpoint or run, even with --force
  const weights = path.join(ck, 'model.safetensors'), before = fs.readFileSync(weights);
  oneLine(run('export', ck, '--out', weights, '--force'), /is or lies inside the input/, 'a file of the input checkpoint');
  oneLine(run('export', path.join(tmp, 'q.gguf'), '--out', path.join(tmp, 'q.gguf'), '--force'), /is or lies inside the input/, 'the input file itself');
  oneLine(run('export', path.join(tmp, 'q.gguf'), '--out', weights, '--force'), /lies in the gptlab run or checkpoint folder/, 'a file of another checkpoint');
  assert.deepEqual(fs.readFileSync(weights), before);
  assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.includes('.tmp-')), []);
});

test('export of an architecture with no HF or GGUF form: "an ngram model", exit 2 for both', () => {
  const ng = path.join(tmp, 'ngram');
  const t = run('train', '--arch', 'ngram', '--data', data, '--out', ng, '--max-iters', '1', '--threads', '1');
  assert.equal(t.code, 0, t.err);
  const hf = run('export', ng, '--format', 'hf', '--out', path.join(tmp, 'nghf'));
  oneLine(hf, /an ngram model has no Hugging Face form/, 'hf');
  const gg = run('export', ng, '--out', path.join(tmp, 'ng.gguf'));
  oneLine(gg, /an ngram model has no llama\.cpp \(GGUF\) form/, 'gguf');
  assert.deepEqual([hf.code, gg.code], [2, 2]);
});

test('flag problems exit 2 before any work: --split format (train, distill, eval), --resume with --force, --max-iters below the run', () => {
  for (const args of [
    ['train', '--data', data, '--split', 'abc'], ['train', '--data', data, '--split', '50/60'], ['distill', '--teacher', path.join(tmp, 'nowhere'), '--split', '5'],
    ['eval', path.join(tmp, 'nowhere'), '--data', data, '--split', '1/2/3/4'],
  ]) {
    const r = run(...args, ...(args[0] === 'eval' ? [] : ['--out', path.join(tmp, 'never-split')]));
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, new RegExp(`^gptlab: ${args[0]}: --split `));
    assert.equal(r.out, '', 'no backend: line first');
  }
  assert.ok(!fs.existsSync(path.join(tmp, 'never-split')));
  for (const cmd of ['train', 'sft', 'ppo']) {
    const r = run(cmd, '--data', data, '--resume', '--force', '--out', path.join(tmp, 'never-rf'));
    assert.equal(r.code, 2, `${cmd}: ${r.err}`);
    assert.equal(r.err, `gptlab: ${cmd}: --resume continues the run in --out and --force overwrites it; give one of them\n`);
  }
  const out = path.join(tmp, 'short-run');
  assert.equal(run('train', '--data', data, '--out', out, '--max-iters', '4', '--eval-interval', '4', '--sample-tokens', '1', ...tiny).code, 0);
  const below = run('train', '--data', data, '--out', out, '--resume', '--max-iters', '2', '--threads', '1');
  assert.equal(below.code, 2, below.err);
  assert.equal(below.err, "gptlab: --max-iters 2 is below the run's step 4; give more to train on, or leave it out to keep the run's own\n");
});

test('eval or sample of a seq2seq, vision or GAN checkpoint names what it is and the command that uses it', () => {
  for (const [format, re] of [
    ['gptlab-seq2seq', /a seq2seq \(encoder-decoder\) model \(gptlab seq2seq train\), not a language model; use it with gptlab seq2seq translate\n/],
    ['gptlab-vision', /an image classifier \(gptlab vision train\), not a language model; use it with gptlab vision predict\n/],
    ['gptlab-gan', /a GAN \(gptlab gan train\), not a language model; use it with gptlab gan sample\n/],
  ] as const) {
    const ck = path.join(tmp, format);
    fs.mkdirSync(ck, { recursive: true });
    fs.writeFileSync(path.join(ck, 'config.json'), JSON.stringify({ format, version: 1, model: {} }));
    fs.writeFileSync(path.join(ck, 'model.safetensors'), 'x');
    for (const args of [['eval', ck, '--data', data], ['sample', ck]]) {
      const r = run(...args, '--threads', '1');
      assert.equal(r.code, 1, r.err);
      oneLine(r, re, args.join(' '));
    }
  }
});

test('SIGINT while an output is being written: its temp file is removed, one line, exit 130', async () => {
  const { spawn } = await import('node:child_process');
  const out = path.join(tmp, 'sig.gguf');
  const mod = new URL('../src/cli/output.js', import.meta.url).href;
  const script = `import fs from 'node:fs'; import { removeTempsOnStop } from ${JSON.stringify(mod)};
    await removeTempsOnStop('export', () => [${JSON.stringify(out)}], async () => {
      fs.writeFileSync(${JSON.stringify(out)} + '.tmp-' + process.pid + '-abcd1234', 'half');
      process.stdout.write('ready\\n');
      await new Promise((r) => setTimeout(r, 60_000));
    });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: tmp });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d));
  child.stdout.on('data', (d: Buffer) => String(d).includes('ready') && child.kill('SIGINT'));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.equal(code, 130, err);
  assert.match(err, /^export interrupted: nothing written\n$/);
  assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.startsWith('sig.gguf')), []);
});
