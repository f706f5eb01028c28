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
import { RunFolder } from '../src/train/run-folder.node.js';

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
  assert.doesNotThrow(() => new RunFolder(run, true, { resume: true }));
  const f = new RunFolder(run, true, { force: true });
  assert.equal(fs.existsSync(path.join(run, 'best')), true, '--force keeps the old run until the new one writes');
  assert.equal(f.hasBest(), false, "the old run's best/ is not this run's");
  f.appendLog({ step: 0 });
  assert.equal(fs.existsSync(path.join(run, 'best')), false, '--force clears the old run at the first write');
  assert.deepEqual(fs.readdirSync(run), ['log.jsonl']);
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
