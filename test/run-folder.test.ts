// Runs are never lost: a run folder is not overwritten without --force, and a checkpoint swap killed
// between its two renames is finished (or undone) on the next load, with stale temporary folders removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBackend } from '../src/backend/index.js';
import { createModel } from '../src/models/registry.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { checkpointFiles } from '../src/train/checkpoint.js';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint.node.js';
import { changedTextNote, checkRunKind, recordedInput, recordedPath, RunFolder, runKind, textFingerprint } from '../src/train/run-folder.node.js';
import { makeDirs } from '../src/formats/atomic.node.js';
import { outputDirProblem, protectedFileProblem } from '../src/cli/output.js';
import { outputFileProblem } from '../src/cli/common.js';
import { insideModelFolder, isModelFolder } from '../src/train/model-folder.node.js';

ensureBackend();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-runfolder-'));
const tok = new CharTokenizer(['a', 'b', 'c']);
const model = (seed: number) => createModel('gpt', { vocabSize: 3, blockSize: 8, nLayer: 1, nHead: 1, nEmbd: 8, dropout: 0, bias: false }, seed);
const DEAD = 99999999; // no process has this id

test('a kill between the two renames of a checkpoint swap leaves a run that loads, with the new version', () => {
  const run = path.join(tmp, 'run');
  const ck = path.join(run, 'checkpoint');
  saveCheckpoint(ck, checkpointFiles(model(1), tok));
  // the state a kill leaves in step 3 of writeDirAtomicSync: old moved aside, complete new one not yet in place
  fs.renameSync(ck, `${ck}.old-${DEAD}-0a0b0c0d`);
  saveCheckpoint(`${ck}.tmp-${DEAD}-0a0b0c0d`, checkpointFiles(model(2), tok));
  const back = loadCheckpoint(run, true);
  assert.deepEqual(Array.from(back.model.stateDict().get('transformer.wte.weight')!.data), Array.from(model(2).stateDict().get('transformer.wte.weight')!.data));
  assert.deepEqual(fs.readdirSync(run).sort(), ['checkpoint']);
});

test('without the new version the previous one comes back; a half-written temp folder is removed', () => {
  const run = path.join(tmp, 'run2');
  const ck = path.join(run, 'checkpoint');
  saveCheckpoint(ck, checkpointFiles(model(3), tok));
  fs.renameSync(ck, `${ck}.old-${DEAD}-01020304`);
  fs.mkdirSync(`${run}/best.tmp-${DEAD}-05060708`);
  fs.writeFileSync(`${run}/best.tmp-${DEAD}-05060708/config.json`, '{"trunc');
  assert.equal(loadCheckpoint(run, true).model.type, 'gpt');
  assert.deepEqual(fs.readdirSync(run).sort(), ['checkpoint']);
});

test('a folder that holds a run is refused unless resuming it or --force', () => {
  const run = path.join(tmp, 'run3');
  saveCheckpoint(path.join(run, 'best'), checkpointFiles(model(4), tok));
  assert.throws(() => new RunFolder(run), /run3 already holds a run: continue it with --resume, choose another --out, or overwrite it with --force/);
  assert.throws(() => new RunFolder(run, true, { resume: true }), /^Error: --resume: .*run3 holds no run to resume \(no checkpoint\/ there\); drop --resume/);
  saveCheckpoint(path.join(run, 'checkpoint'), checkpointFiles(model(4), tok));
  assert.doesNotThrow(() => new RunFolder(run, true, { resume: true }));
  const f = new RunFolder(run, true, { force: true });
  assert.equal(fs.existsSync(path.join(run, 'best')), true, '--force keeps the old run until the new one writes');
  assert.equal(f.hasBest(), false, "the old run's best/ is not this run's");
  f.appendLog({ step: 0 });
  assert.equal(fs.existsSync(path.join(run, 'best')), true, 'a log line waits for the first checkpoint');
  f.saveCheckpoint(checkpointFiles(model(5), tok));
  assert.equal(fs.existsSync(path.join(run, 'best')), false, '--force clears the old run at the first checkpoint');
  assert.deepEqual(fs.readdirSync(run).sort(), ['checkpoint', 'log.jsonl']);
  assert.equal(fs.readFileSync(path.join(run, 'log.jsonl'), 'utf8'), '{"step":0}\n');
});

test('--force with a bad input leaves the old run as it was (the job fails before its first write)', async () => {
  const { runTrainJob } = await import('../src/train/pretrain-job.node.js');
  const run = path.join(tmp, 'run4');
  saveCheckpoint(path.join(run, 'best'), checkpointFiles(model(5), tok));
  await assert.rejects(runTrainJob({
    text: 'abcab cabca '.repeat(100), source: 'text', out: run, split: '90/10', resume: false, force: true, save: true, quiet: true,
    model: { preset: 'tiny', nLayer: 0 }, train: { maxIters: 2, sampleAt: [] },
  }, () => {}), /nLayer must be a positive integer/);
  assert.equal(loadCheckpoint(run).model.type, 'gpt');
});

test('a new run that fails before its first checkpoint (loss NaN at step 1, after its step-0 sample) leaves the old run under --force, and no folder', async () => {
  const { runTrainJob } = await import('../src/train/pretrain-job.node.js');
  const run = path.join(tmp, 'run-nan');
  const job = (out: string, force: boolean, lr: number) => ({
    text: 'abcab cabca '.repeat(100), source: 'text', out, split: '90/10', resume: false, force, save: true, quiet: true,
    model: { preset: 'tiny' }, train: { maxIters: 6, evalInterval: 3, evalIters: 1, batchSize: 2, lr, sampleAt: [0], sampleTokens: 4 },
  });
  await runTrainJob(job(run, false, 1e-3), () => {});
  const before = Object.fromEntries(fs.readdirSync(run).sort().map((f) => [f, fs.statSync(path.join(run, f)).mtimeMs]));
  const log = fs.readFileSync(path.join(run, 'log.jsonl'), 'utf8');
  await assert.rejects(runTrainJob(job(run, true, 1e12), () => {}), /loss became (NaN|Infinity)/);
  assert.deepEqual(Object.fromEntries(fs.readdirSync(run).sort().map((f) => [f, fs.statSync(path.join(run, f)).mtimeMs])), before, 'the old run untouched');
  assert.equal(fs.readFileSync(path.join(run, 'log.jsonl'), 'utf8'), log);
  await assert.rejects(runTrainJob(job(path.join(tmp, 'run-nan-new'), false, 1e12), () => {}), /loss became/);
  assert.ok(!fs.existsSync(path.join(tmp, 'run-nan-new')), 'a new run that never reached a checkpoint leaves no folder');
});

test('a resumed run drops log lines past its checkpoint (a kill between the line and the checkpoint), so no step is missing or twice', () => {
  const run = path.join(tmp, 'run-trim');
  saveCheckpoint(path.join(run, 'checkpoint'), checkpointFiles(model(1), tok));
  fs.writeFileSync(path.join(run, 'checkpoint', 'trainer_state.json'), JSON.stringify({ step: 10 }));
  fs.writeFileSync(path.join(run, 'log.jsonl'), ['{"step":0,"sample":"ab"}', '{"step":5,"dev":1}', '{"step":10,"dev":0.9}', '{"step":15,"dev":0.8}', '{"step":15,"sam'].join('\n'));
  new RunFolder(run, true, { resume: true });
  assert.equal(fs.readFileSync(path.join(run, 'log.jsonl'), 'utf8'), '{"step":0,"sample":"ab"}\n{"step":5,"dev":1}\n{"step":10,"dev":0.9}\n');
});

test('a resumed run notes that its data file changed since it last saved (same path, other text)', async () => {
  const meta = { source: '/d/x.txt', ...textFingerprint('abc') };
  assert.deepEqual(textFingerprint(''), { dataChars: 0, dataHash: '811c9dc5' });
  assert.equal(changedTextNote(meta, 'abc', 'x.txt'), null);
  assert.equal(changedTextNote({ source: '/d/x.txt' }, 'abcd', 'x.txt'), null, 'a run from before fingerprints says nothing');
  assert.match(changedTextNote(meta, 'abd', 'x.txt')!, /^note: x\.txt changed since the run last saved \(3 → 3 characters\): training continues on it as it is now, and the held-out split moves with it/);
  const { runTrainJob } = await import('../src/train/pretrain-job.node.js');
  const out = path.join(tmp, 'run-changed'), lines: string[] = [];
  const job = (text: string, resume: boolean) => ({ text, source: 'x.txt', out, split: '90/10', resume, force: false, save: true, quiet: true, model: { preset: 'tiny' }, train: { maxIters: resume ? 4 : 2, evalIters: 1, batchSize: 2, sampleAt: [] } });
  await runTrainJob(job('abcab cabca '.repeat(100), false), () => {});
  await runTrainJob(job('abcab cabca '.repeat(120), true), (l) => lines.push(l));
  assert.ok(lines.some((l) => /^note: x\.txt changed since the run last saved \(1,200 → 1,440 characters\)/.test(l)), lines.join('\n'));
});

test('a run folder may not hold the job\'s data file', () => {
  const d = path.join(tmp, 'with-data');
  makeDirs(d);
  fs.writeFileSync(path.join(d, 'text.txt'), 'abc');
  assert.throws(() => new RunFolder(d, true, { inputs: [path.join(d, 'text.txt')] }), /^Error: --out .*with-data: holds the input .*text\.txt; give a new folder/);
  assert.doesNotThrow(() => new RunFolder(path.join(d, 'run'), true, { inputs: [path.join(d, 'text.txt')] }));
});

test('without a dev part, evaluations say so and best/ follows the training loss (never labelled dev loss)', async () => {
  const { runTrainJob } = await import('../src/train/pretrain-job.node.js');
  const lines: string[] = [];
  const res = await runTrainJob({
    text: 'abcab cabca '.repeat(100), source: 'text', out: path.join(tmp, 'nodev'), split: '100/0', resume: false, save: true, quiet: true,
    model: { preset: 'tiny', blockSize: 8, nLayer: 1, nEmbd: 16 }, train: { maxIters: 4, batchSize: 2, evalInterval: 2, evalIters: 1, sampleAt: [] },
  }, (l) => lines.push(l));
  const log = lines.join('\n');
  assert.match(log, /note: the dev part has fewer than 9 tokens: evaluations report training loss only/);
  assert.match(log, /step 2: train loss [\d.]+, no dev data: best\/ and early stopping follow the training loss/);
  assert.doesNotMatch(log, /dev loss/);
  assert.ok(Number.isFinite(res.bestDevLoss));
});

test('a run folder may not be the current folder, nor hold a model the job reads (--force would destroy it)', () => {
  const input = path.join(tmp, 'base-run');
  saveCheckpoint(path.join(input, 'best'), checkpointFiles(model(5), tok));
  saveCheckpoint(path.join(input, 'checkpoint'), checkpointFiles(model(5), tok));
  for (const out of [input, tmp]) {
    assert.throws(() => new RunFolder(out, true, { force: true, inputs: [path.join(input, 'best')] }), /holds the input .*base-run.*best; give a new folder/);
  }
  assert.throws(() => new RunFolder(input, true, { force: true, inputs: [input] }), /^Error: --out .*base-run: holds the input/);
  // resuming reads the run's own checkpoint; inputs that do not exist (a reward name such as 'rule') never match
  assert.doesNotThrow(() => new RunFolder(input, true, { resume: true, inputs: [input] }));
  assert.doesNotThrow(() => new RunFolder(path.join(tmp, 'rule'), true, { inputs: [path.join(tmp, 'rule', 'x'), undefined] }));
  const cwd = process.cwd();
  process.chdir(tmp);
  try {
    assert.throws(() => new RunFolder('.', true, {}), /--out \.: is the current folder; give a new folder for the run/);
    assert.throws(() => new RunFolder(`x${path.sep}..`, true, { force: true }), /is the current folder/);
  } finally {
    process.chdir(cwd);
  }
  assert.ok(fs.existsSync(path.join(input, 'best', 'config.json')));
});

test('makeDirs makes each missing folder in turn and fails at once where a folder cannot be made', () => {
  const made = makeDirs(path.join(tmp, 'm1', 'm2', 'm3'));
  assert.deepEqual(made.map((d) => path.relative(tmp, d)), ['m1', path.join('m1', 'm2'), path.join('m1', 'm2', 'm3')]);
  assert.deepEqual(makeDirs(path.join(tmp, 'm1')), []);
  fs.writeFileSync(path.join(tmp, 'afile'), 'x');
  assert.throws(() => makeDirs(path.join(tmp, 'afile', 'sub')), /ENOTDIR|EEXIST/);
  // Node 20's recursive mkdirSync never returns here; one level at a time fails with ENOENT
  if (process.platform === 'linux' && fs.existsSync('/proc/self')) assert.throws(() => makeDirs('/proc/gptlab-x/y'), /ENOENT|EACCES|EPERM/);
});

test('an output folder that cannot be made is named before any work, and the probe leaves nothing behind', () => {
  assert.equal(outputDirProblem(path.join(tmp, 'o1', 'o2'), '--out', 'ladder'), null);
  assert.ok(!fs.existsSync(path.join(tmp, 'o1')));
  if (process.platform === 'linux' && fs.existsSync('/proc/self')) {
    assert.match(outputDirProblem('/proc/gptlab-x', '--out', 'ladder') ?? '', /^ladder: --out \/proc\/gptlab-x: cannot make this folder \(no such file or directory\)$/);
  }
});

test('one rule for model folders: what a run, export, lora merge and output files may not write over or into', () => {
  const root = path.join(tmp, 'mf');
  const run = path.join(root, 'run'), ck = path.join(root, 'ck'), hf = path.join(root, 'hf'), loose = path.join(root, 'loose');
  saveCheckpoint(path.join(run, 'best'), checkpointFiles(model(6), tok));
  saveCheckpoint(ck, checkpointFiles(model(7), tok));
  makeDirs(hf);
  fs.writeFileSync(path.join(hf, 'config.json'), '{"model_type":"gpt2"}');
  fs.writeFileSync(path.join(hf, 'model.safetensors'), 'x');
  makeDirs(path.join(loose, 'checkpoint')); // a folder that only has a subfolder of that name
  // the folder itself: gptlab's run and checkpoint folders, not a Hugging Face folder (an export may be refreshed)
  assert.deepEqual([run, path.join(run, 'best'), ck, hf, loose].map((d) => isModelFolder(d)), [true, true, true, false, true]);
  // a folder above: any model, and a run only with a checkpoint in it
  assert.deepEqual([run, ck, hf, loose].map((d) => isModelFolder(d, { above: true })), [true, true, true, false]);
  assert.deepEqual([path.join(run, 'x', 'y'), path.join(hf, 'model.safetensors'), path.join(loose, 'x'), root].map(insideModelFolder), [true, true, false, false]);
  // training --out: never a checkpoint, inside a model folder, or beside a foreign config.json
  assert.throws(() => new RunFolder(path.join(run, 'best'), true, { force: true }), /--out .*run\/best: is a model folder inside a run \(.*mf\/run\)/);
  assert.throws(() => new RunFolder(ck, true, { force: true }), /--out .*ck: is a model folder; a run goes in a folder of its own/);
  assert.throws(() => new RunFolder(path.join(run, 'sub'), true, {}), /--out .*run\/sub: lies inside a run \(.*mf\/run\), a gptlab model folder that no other command writes into/);
  assert.throws(() => new RunFolder(path.join(ck, 'sub'), true, {}), /lies inside a checkpoint/);
  const cfg = path.join(root, 'cfg');
  makeDirs(cfg);
  fs.writeFileSync(path.join(cfg, 'config.json'), '{}');
  assert.throws(() => new RunFolder(cfg, true, {}), /--out .*cfg: holds a config\.json, which gptlab would read in place of the run's best\//);
  assert.doesNotThrow(() => new RunFolder(path.join(loose, 'sub'), true, {}));
  // export / lora merge --out, and model files
  assert.match(outputDirProblem(path.join(run, 'm'), '--out', 'export') ?? '', /lies inside a gptlab run or checkpoint folder \(.*mf\/run\)/);
  assert.equal(outputDirProblem(hf, '--out', 'export', { force: true }), null, 'an earlier Hugging Face export may be refreshed with --force');
  assert.match(outputDirProblem(loose, '--out', 'export', { force: true }) ?? '', /is a gptlab run or checkpoint folder/);
  assert.match(protectedFileProblem(path.join(run, 'new', 'x.gguf'), '--out', 'export') ?? '', /lies in the gptlab run or checkpoint folder .*mf\/run,/);
  assert.equal(protectedFileProblem(path.join(hf, 'x.gguf'), '--out', 'export'), null, 'a GGUF beside a Hugging Face export');
  assert.match(outputFileProblem(path.join(hf, 'model.safetensors'), '--out', 'export') ?? '', /is a file of a gptlab checkpoint or run/);
});

test('runKind names the command that trains a run: gptlab train for pretraining, older runs told by their meta', () => {
  assert.equal(runKind('gpt', { kind: 'pretrain', source: 'x.txt' }), 'train');
  assert.equal(runKind('gpt', { source: 'x.txt', split: '90/5/5' }), 'train', 'a pretraining run from before kinds were recorded');
  assert.equal(runKind('gpt', { kind: 'sft', base: 'b' }), 'sft');
  assert.equal(runKind('gpt', { base: 'b' }), 'sft');
  assert.equal(runKind('gpt', { kind: 'reinforce' }), 'grpo');
  assert.equal(runKind('bert', { kind: 'mlm' }), 'train --arch bert');
  assert.equal(runKind('reward', { kind: 'reward-model' }), 'rm train');
  assert.equal(runKind('gpt', { beta: 0.1, base: 'b' }), 'dpo');
  assert.equal(runKind('gpt', { teacher: 't' }), 'distill');
  assert.throws(() => checkRunKind('runs/x', 'gpt', { kind: 'pretrain' }, 'sft'), /^Error: sft --resume: runs\/x holds a run of gptlab train, whose state sft cannot continue; resume it with gptlab train --resume$/);
  assert.throws(() => checkRunKind('runs/x', 'gpt', { kind: 'ppo' }, 'train'), /resume it with gptlab ppo --resume$/);
  assert.doesNotThrow(() => checkRunKind('runs/x', 'gpt', {}, 'train'));
});

test('input paths are recorded absolute and shown relative to the current folder when inside it', () => {
  assert.equal(recordedPath('runs/chat/'), path.join(process.cwd(), 'runs', 'chat'));
  assert.equal(recordedInput(path.join(process.cwd(), 'runs', 'chat')), path.join('runs', 'chat'));
  assert.equal(recordedInput(process.cwd()), '.');
  const outside = path.join(path.dirname(process.cwd()), 'elsewhere', 'chat');
  assert.equal(recordedInput(outside), outside, 'outside the current folder: absolute');
  assert.equal(recordedInput('chat'), 'chat', 'an older run\'s relative path stays as it is');
  assert.equal(recordedInput(3), undefined);
});
