// Output-file flags are checked before any work starts: the parent folder must exist and the path must not be
// a folder, with one line naming the command and the flag (classify predict --svg, bench --json, …).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkOutputFile, outputFileProblem } from '../src/cli/common.js';
import { UsageError } from '../src/cli/args.js';
import { classifyCommand } from '../src/cli/classify.js';
import { benchCommand } from '../src/cli/bench.js';
import { seq2seqCommand } from '../src/cli/seq2seq.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-outflags-'));
const file = path.join(dir, 'there.txt');
fs.writeFileSync(file, 'x');

test('outputFileProblem: missing parent, a folder, an existing file when refused, a file in place of a folder', () => {
  assert.equal(outputFileProblem(path.join(dir, 'new.svg'), '--svg', 'cmd'), null);
  assert.equal(outputFileProblem(file, '--svg', 'cmd'), null, 'an existing file may be replaced unless refused');
  assert.equal(outputFileProblem(path.join(dir, 'a', 'b', 'c.svg'), '--svg', 'cmd'), `cmd: --svg ${path.join(dir, 'a', 'b', 'c.svg')}: folder ${path.join(dir, 'a', 'b')} does not exist`);
  assert.equal(outputFileProblem(dir, '--svg', 'cmd'), `cmd: --svg ${dir}: is a folder; give a file name`);
  assert.equal(outputFileProblem(file, '--out', 'cmd', { refuseExisting: true }), `cmd: --out ${file}: exists; choose another name, or overwrite it with --force`);
  assert.equal(outputFileProblem(path.join(file, 'x.svg'), '--svg', 'cmd'), `cmd: --svg ${path.join(file, 'x.svg')}: ${file} is not a folder`);
  assert.equal(outputFileProblem(path.join(dir, 'a', 'b.gguf'), '--out', 'cmd', { parentMayBeMissing: true }), null);
  assert.throws(() => checkOutputFile(dir, '--json', 'bench'), (e: Error) => e instanceof UsageError && /^bench: --json .*: is a folder/.test(e.message));
});

test('classify predict --svg, bench --json, seq2seq translate --attention-svg: refused before any work', async () => {
  const missing = path.join(dir, 'nodir', 'x', 'cm.svg');
  await assert.rejects(classifyCommand(['predict', path.join(dir, 'no-run'), 'some text', '--svg', missing]), new RegExp(`^Error: classify predict: --svg ${missing}: folder ${path.dirname(missing)} does not exist$`));
  await assert.rejects(classifyCommand(['predict', path.join(dir, 'no-run'), 'some text', '--svg', dir]), /classify predict: --svg .*: is a folder/);
  // before the first section runs: nothing printed, nothing measured
  const lines: string[] = [], write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => (lines.push(String(s)), true)) as typeof process.stdout.write;
  try {
    await assert.rejects(benchCommand(['--only', 'conv', '--json', path.join(dir, 'no', 'dir', 'x.json')]), /^Error: bench: --json .*x\.json: folder .*dir does not exist$/);
  } finally {
    process.stdout.write = write;
  }
  assert.deepEqual(lines, []);
  await assert.rejects(seq2seqCommand(['translate', path.join(dir, 'no-run'), 'hi', '--attention-svg', dir]), /seq2seq translate: --attention-svg .*: is a folder/);
  fs.writeFileSync(path.join(dir, 'data.jsonl'), '{}\n');
  await assert.rejects(seq2seqCommand(['translate', path.join(dir, 'no-run'), 'hi', '--attention-svg', path.join(dir, 'data.jsonl')]), /--attention-svg .*data\.jsonl: give a file name ending in \.svg/);
  // a checkpoint's own files are never an output, even with --force
  const ck = path.join(dir, 'ck');
  fs.mkdirSync(ck);
  for (const f of ['config.json', 'model.safetensors']) fs.writeFileSync(path.join(ck, f), 'x');
  assert.match(outputFileProblem(path.join(ck, 'model.safetensors'), '--out', 'embed train') ?? '', /is a file of a gptlab checkpoint or run, which is never overwritten/);
  assert.match(outputFileProblem(path.join(dir, 'data.jsonl'), '--out', 'embed train', { refuseExisting: true }) ?? '', /exists; choose another name, or overwrite it with --force/);
  // nor is a new file inside a run or checkpoint folder, for any output-file flag
  const run = path.join(dir, 'run');
  fs.mkdirSync(path.join(run, 'checkpoint'), { recursive: true });
  fs.writeFileSync(path.join(run, 'checkpoint', 'config.json'), JSON.stringify({ format: 'gptlab-checkpoint' }));
  const ckOfRun = path.join(run, 'checkpoint');
  for (const [file, home, opts] of [[path.join(run, 'vec.txt'), run, {}], [path.join(ckOfRun, 'x.svg'), ckOfRun, {}], [path.join(run, 'sub', 'x.gguf'), run, { parentMayBeMissing: true }]] as const) {
    assert.equal(outputFileProblem(file, '--out', 'embed train', opts), `embed train: --out ${file}: lies in the gptlab run or checkpoint folder ${home}, which is never written to by another command; give a path outside it`);
  }
  if (process.platform === 'linux' && fs.existsSync('/proc/self')) assert.match(outputFileProblem('/proc/gptlab-x.svg', '--svg', 'x') ?? '', /cannot write in \/proc/);
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
