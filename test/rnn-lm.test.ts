// The MLP (Bengio et al. 2003) and recurrent (RNN, LSTM, GRU) language models through the shared code: their
// generation state gives the same logits as one forward over the whole sequence, left-padded batches equal
// solo runs, and each trains through the job by --arch, resumes on the same trajectory, samples and evaluates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBackend } from '../src/backend/index.js';
import { createModel, presetConfig } from '../src/models/registry.js';
import type { LanguageModel } from '../src/models/model.js';
import { noGrad } from '../src/tensor/tensor.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { loadCheckpoint } from '../src/train/checkpoint.node.js';
import { runTrainJob, type TrainJob } from '../src/train/pretrain-job.node.js';
import { generateText } from '../src/generate/generate.js';
import { generateBatch } from '../src/generate/batch.js';
import { beamSearch } from '../src/generate/beam.js';
import { tokenLogprob } from '../src/generate/decoder.js';
import { evaluateText } from '../src/eval/evaluate.js';

ensureBackend();
const ARCHS = ['mlp', 'rnn', 'lstm', 'gru'] as const;
const text = 'the cat sat on the mat. the dog sat on the log. '.repeat(40);
const tok = CharTokenizer.fromText(text);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-rnnlm-'));
const tiny = (arch: string, extra: Record<string, unknown> = {}): LanguageModel =>
  createModel(arch, presetConfig(arch, 'tiny', tok.vocabSize, { nLayer: arch === 'mlp' ? undefined : 2, ...extra }), 7);

const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

for (const arch of ARCHS) {
  test(`${arch}: stepping with the state gives the logits of one forward over the sequence`, () => {
    const model = tiny(arch).eval();
    const ids = Int32Array.from(tok.encode('the dog sat on'));
    const T = ids.length, V = tok.vocabSize;
    noGrad(() => {
      const full = model.forward(ids, 1, T).logits.data; // (1, T, V)
      const state = model.createState(1);
      const first = model.forward(ids.subarray(0, 5), 1, 5, { state }).logits.data;
      assert.ok(maxAbsDiff(first, full.subarray(0, 5 * V)) < 1e-5);
      for (let t = 5; t < T; t++) {
        const step = model.forward(ids.subarray(t, t + 1), 1, 1, { state, lastOnly: true }).logits.data;
        assert.ok(maxAbsDiff(step, full.subarray(t * V, (t + 1) * V)) < 1e-5, `position ${t}`);
      }
      assert.equal(state.length, T);
    });
  });

  test(`${arch}: a left-padded batch gives each row its solo result; selectRows and dropPrefix keep it`, async () => {
    const model = tiny(arch);
    const prompts = ['the c', 'a', 'on the lo'].map((p) => tok.encode(p));
    const rows = generateBatch(model, prompts, { maxNewTokens: 6, temperature: 0 });
    for (let i = 0; i < prompts.length; i++) {
      const solo = await generateText(model, tok, tok.decode(prompts[i]), { maxNewTokens: 6, temperature: 0 });
      assert.equal(tok.decode(rows[i].ids), solo.text, `row ${i}`);
    }
  });
}

for (const arch of ARCHS) {
  test(`${arch}: beam search reorders the state rows: each beam's log-probability equals a fresh forward's`, () => {
    const model = tiny(arch);
    const prompt = tok.encode('the d');
    const res = beamSearch(model, prompt, { numBeams: 3, maxNewTokens: 5, numReturnSequences: 3 });
    const V = tok.vocabSize;
    for (const seq of res.sequences) {
      const all = Int32Array.from([...prompt, ...seq.ids]);
      const L = noGrad(() => model.forward(all, 1, all.length).logits.data);
      let lp = 0;
      seq.ids.forEach((id, j) => (lp += tokenLogprob(L.subarray((prompt.length - 1 + j) * V, (prompt.length + j) * V), id)));
      assert.ok(Math.abs(lp - seq.logprob) < 1e-4, `${lp} vs ${seq.logprob}`);
    }
  });
}

test('mlp: positions before the start of a row see the start vector; each position sees its last n tokens only', () => {
  const model = tiny('mlp', { context: 3 }).eval();
  const V = tok.vocabSize;
  const a = Int32Array.from(tok.encode('dthe cat')), b = Int32Array.from(tok.encode('othe cat'));
  noGrad(() => {
    const la = model.forward(a, 1, a.length).logits.data, lb = model.forward(b, 1, b.length).logits.data;
    // the first three positions differ (their context holds the first token), the rest are equal
    assert.ok(maxAbsDiff(la.subarray(0, 3 * V), lb.subarray(0, 3 * V)) > 1e-4);
    assert.ok(maxAbsDiff(la.subarray(3 * V), lb.subarray(3 * V)) < 1e-6);
  });
});

test('bad configs and states are refused with the field named', () => {
  assert.throws(() => createModel('lstm', { vocabSize: 5, blockSize: 8, nEmbd: 4, nHidden: 0, nLayer: 1 }), /nHidden must be a positive integer/);
  assert.throws(() => createModel('mlp', { vocabSize: 5, blockSize: 8, context: 2.5, nEmbd: 4, nHidden: 4 }), /context must be a positive integer/);
  assert.throws(() => createModel('gru', { vocabSize: 5, blockSize: 8, nEmbd: 4, nHidden: 4, nLayer: 1, dropout: 1 }), /dropout must be/);
  const lstm = tiny('lstm'), gru = tiny('gru');
  assert.throws(() => lstm.forward(Int32Array.from([0]), 1, 1, { state: gru.createState(1) }), /state must come from/);
  assert.throws(() => lstm.forward(Int32Array.from([99]), 1, 1), /outside \[0, /);
});

const job = (arch: string, out: string, maxIters: number, resume = false): TrainJob => ({
  text, source: 'test text', out, model: { arch, preset: 'tiny' }, split: '90/10', resume, save: true, quiet: true,
  train: { maxIters, lrDecayIters: 8, batchSize: 4, evalInterval: 4, evalIters: 2, lr: 1e-2, warmupIters: 2, sampleAt: [], seed: 3 },
});

for (const arch of ARCHS) {
  test(`${arch}: trains by --arch, resumes on the same trajectory, samples and evaluates from its checkpoint`, async () => {
    const logs: string[] = [];
    const straight = await runTrainJob(job(arch, path.join(tmp, `${arch}-straight`), 8), (l) => logs.push(l));
    assert.equal(straight.outcome, 'done');
    await runTrainJob(job(arch, path.join(tmp, `${arch}-split`), 4), () => {});
    await runTrainJob(job(arch, path.join(tmp, `${arch}-split`), 8, true), () => {});
    const a = loadCheckpoint(path.join(tmp, `${arch}-straight`, 'checkpoint'), true);
    const b = loadCheckpoint(path.join(tmp, `${arch}-split`, 'checkpoint'), true);
    assert.equal(a.model.type, arch);
    assert.equal(b.trainerState!.step, 8);
    for (const [name, t] of a.model.stateDict()) assert.deepEqual(Array.from(b.model.stateDict().get(name)!.data), Array.from(t.data), name);
    assert.deepEqual(b.trainerState!.history, a.trainerState!.history);
    const best = loadCheckpoint(path.join(tmp, `${arch}-straight`));
    const s1 = await generateText(best.model, best.tokenizer, 'the ', { maxNewTokens: 12, temperature: 0.8, seed: 5 });
    const s2 = await generateText(best.model, best.tokenizer, 'the ', { maxNewTokens: 12, temperature: 0.8, seed: 5 });
    assert.equal(s1.text, s2.text);
    assert.equal(s1.text.length, 12);
    const ev = evaluateText(best.model, best.tokenizer, text, { split: { train: 0.9, dev: 0.1, test: 0 }, part: 'dev' });
    assert.ok(ev.loss > 0 && ev.loss < Math.log(tok.vocabSize), `dev loss ${ev.loss}`);
  });
}
