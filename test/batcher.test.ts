// Continuous batching: requests submitted at different times, with different options, each produce exactly
// what generateTokens produces for them alone (tokens, log-probabilities, finish reason), also past the block
// size where rows slide inside the batch; admission is FIFO within maxBatch; aborts, bad options and a full
// queue are handled; models whose state cannot be joined (n-grams) still work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureBackend } from '../src/backend/index.js';
import { GPT, type GPTConfig } from '../src/models/gpt.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { generateTokens, tick, type TokenGenOptions } from '../src/generate/generate.js';
import { ContinuousBatcher, QueueFullError, type BatcherRequest, type BatcherResult } from '../src/generate/continuous-batcher.js';
import { DecodeBatch } from '../src/generate/decoder.js';
import { topLogprobs } from '../src/generate/logprobs.js';
import { NgramModel } from '../src/models/ngram-model.js';
import type { LanguageModel } from '../src/models/model.js';
import { Llama, LLAMA_PRESETS, type LlamaConfig } from '../src/models/llama.js';

ensureBackend();
const tok = CharTokenizer.fromText('the quick brown fox jumps over the lazy dog.\n');
const cfg: GPTConfig = { vocabSize: tok.vocabSize, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true };
const DOT = tok.encode('.')[0], SPACE = tok.encode(' ')[0];

function model(seed = 7): GPT {
  const m = new GPT(cfg, seed);
  for (const p of m.parameters()) for (let i = 0; i < p.data.length; i++) p.data[i] *= 8;
  return m;
}

/** the request run alone by generateTokens */
function solo(m: LanguageModel, r: BatcherRequest): BatcherResult {
  const ids: number[] = [], logprobs: number[] = [];
  const opts: TokenGenOptions = { ...r.sampling, maxNewTokens: r.maxNewTokens, seed: r.seed ?? 1337, stopTokens: r.stopTokens, penalizePrompt: r.penalizePrompt };
  const gen = generateTokens(m, r.promptIds, opts);
  for (;;) {
    const x = gen.next();
    if (x.done) return { ids, logprobs, finishReason: x.value, promptTokens: r.promptIds.length };
    ids.push(x.value.id);
    logprobs.push(x.value.logprob);
  }
}

function assertSame(got: BatcherResult, want: BatcherResult, what: string): void {
  assert.deepEqual(got.ids, want.ids, what);
  assert.equal(got.finishReason, want.finishReason, what);
  assert.equal(got.promptTokens, want.promptTokens, what);
  got.logprobs.forEach((lp, i) => assert.ok(Math.abs(lp - want.logprobs[i]) < 1e-4, `${what} logprob ${i}: ${lp} vs ${want.logprobs[i]}`));
}

const REQUESTS: BatcherRequest[] = [
  { promptIds: tok.encode('the quick'), maxNewTokens: 45 }, // greedy, past the block size (slides in the batch)
  { promptIds: tok.encode('a'), maxNewTokens: 12, seed: 5, sampling: { temperature: 0.9, topK: 10, topP: 0.95, repetitionPenalty: 1.3 } },
  { promptIds: tok.encode('over the lazy do'), maxNewTokens: 30, stopTokens: [DOT, SPACE], seed: 9, sampling: { temperature: 1.2 } },
  { promptIds: tok.encode('jumps'), maxNewTokens: 20, seed: 2, sampling: { temperature: 0.8, presencePenalty: 1.5, frequencyPenalty: 0.7, logitBias: { [SPACE]: -100, [DOT]: 3 } }, penalizePrompt: false },
  { promptIds: tok.encode('the quick brown fox jumps over the lazy dog'), maxNewTokens: 25, seed: 4, sampling: { topP: 0 } }, // longer than C
  { promptIds: tok.encode('fox'), maxNewTokens: 1 },
];

test('continuous batching: requests joining at different times each equal their solo run', async () => {
  const m = model();
  const b = new ContinuousBatcher(m, { maxBatch: 4 });
  const results: Promise<BatcherResult>[] = [];
  const streamed: number[][] = REQUESTS.map(() => []);
  let maxRunning = 0;
  const submit = (i: number): void => {
    results[i] = b.submit({ ...REQUESTS[i], onToken: (t) => { streamed[i].push(t.id); maxRunning = Math.max(maxRunning, b.running); } });
  };
  // request 0 starts alone; the others join while it (and each other) are decoding
  submit(0);
  await tick();
  await tick();
  submit(1);
  submit(2);
  for (let i = 0; i < 5; i++) await tick();
  submit(3);
  await tick();
  submit(4);
  submit(5);
  const out = await Promise.all(results);
  out.forEach((r, i) => {
    assertSame(r, solo(m, REQUESTS[i]), `request ${i}`);
    assert.deepEqual(streamed[i], r.ids);
  });
  assert.equal(out[0].ids.length, 45); // 9 + 45 > 32: it slid twice inside the batch
  assert.ok(maxRunning <= 4 && maxRunning >= 3, `running ${maxRunning}`);
  assert.equal(b.running + b.queued, 0);
});

test('continuous batching: FIFO admission within maxBatch, top logprobs, aborts, bad options, full queue', async () => {
  const m = model();
  const b = new ContinuousBatcher(m, { maxBatch: 2, maxQueue: 4 });
  const firstAt: number[] = [];
  let step = 0;
  const reqs = [0, 1, 2, 3].map((i) => ({ promptIds: tok.encode(['the', 'a', 'over', 'dog'][i]), maxNewTokens: 4 + i, topLogprobs: 3, onToken: () => { firstAt[i] ??= step++; } }));
  const ps = reqs.map((r) => b.submit(r));
  await assert.rejects(b.submit({ promptIds: [1], maxNewTokens: 2 }), QueueFullError); // the loop starts on the next turn: 4 wait
  const out = await Promise.all(ps);
  assert.deepEqual([...firstAt.keys()].sort((x, y) => firstAt[x] - firstAt[y]), [0, 1, 2, 3]);
  out.forEach((r, i) => {
    assertSame(r, solo(m, reqs[i]), `request ${i}`);
    assert.equal(r.top!.length, r.ids.length);
    r.top!.forEach((alts) => assert.equal(alts.length, 3));
  });
  // the top logprobs are those of the model's own distribution at that position
  const p = tok.encode('the');
  const row = new DecodeBatch(m, [p]).prefill();
  assert.deepEqual(out[0].top![0], topLogprobs(row, 3));
  assert.ok(out[0].top![0].some((a) => a.id === out[0].ids[0]));

  // aborts: one running request mid-way, one still queued; the others are unaffected
  const ctrl = new AbortController(), queuedCtrl = new AbortController();
  const one = new ContinuousBatcher(m, { maxBatch: 1 });
  let aCount = 0;
  const a = one.submit({ promptIds: tok.encode('the'), maxNewTokens: 20, signal: ctrl.signal, onToken: () => { if (++aCount === 3) ctrl.abort(); } });
  const q = one.submit({ promptIds: tok.encode('a'), maxNewTokens: 5, signal: queuedCtrl.signal });
  const c = one.submit({ promptIds: tok.encode('fox'), maxNewTokens: 5 });
  queuedCtrl.abort();
  const [ra, rq, rc] = await Promise.all([a, q, c]);
  assert.equal(ra.finishReason, 'aborted');
  assert.equal(ra.ids.length, 3);
  assert.deepEqual(ra.ids, solo(m, { promptIds: tok.encode('the'), maxNewTokens: 3 }).ids);
  assert.deepEqual(rq, { ids: [], logprobs: [], finishReason: 'aborted', promptTokens: 1 });
  assertSame(rc, solo(m, { promptIds: tok.encode('fox'), maxNewTokens: 5 }), 'after aborts');
  const pre = new AbortController();
  pre.abort();
  assert.equal((await one.submit({ promptIds: [1], maxNewTokens: 3, signal: pre.signal })).finishReason, 'aborted');
  assert.deepEqual((await one.submit({ promptIds: [1], maxNewTokens: 0 })).ids, []);

  // bad options: one line naming the option, before any work
  const bad: [Partial<BatcherRequest>, RegExp][] = [
    [{ promptIds: [] }, /promptIds must be a non-empty/],
    [{ promptIds: [999] }, /promptIds\[0\] = 999 is outside the vocabulary/],
    [{ maxNewTokens: -1 }, /maxNewTokens must be a non-negative integer/],
    [{ sampling: { temperature: -1 } }, /temperature/],
    [{ sampling: { topP: 2 } }, /topP must be in \[0, 1\]/],
    [{ sampling: { topK: -3 } }, /topK/],
    [{ sampling: { logitBias: { 999: 1 } } }, /logitBias token id "999"/],
    [{ topLogprobs: 21 }, /topLogprobs must be an integer in \[0, 20\]/],
    [{ stopTokens: [-1] }, /stopTokens id -1/],
  ];
  for (const [o, re] of bad) await assert.rejects(one.submit({ promptIds: [1], maxNewTokens: 2, ...o }), re, JSON.stringify(o));
  assert.throws(() => new ContinuousBatcher(m, { maxBatch: 0 }), /maxBatch must be a positive integer/);
  // a throwing onToken ends its own request only
  const two = new ContinuousBatcher(m, { maxBatch: 2 });
  const boom = two.submit({ promptIds: [1], maxNewTokens: 5, onToken: () => { throw new Error('client gone'); } });
  const fine = two.submit({ promptIds: [2], maxNewTokens: 5 });
  await assert.rejects(boom, /client gone/);
  assertSame(await fine, solo(m, { promptIds: [2], maxNewTokens: 5 }), 'beside a failing client');
});

test('continuous batching: a model whose state cannot be joined (n-gram) is rebuilt instead, same tokens', async () => {
  const stream = Int32Array.from('abcabcabdabcaabcdbca'.repeat(20), (ch) => ch.charCodeAt(0) - 97);
  const ng = new NgramModel({ vocabSize: 5, order: 3 }).fit(stream);
  assert.equal(DecodeBatch.canJoin(ng), false);
  assert.equal(DecodeBatch.canJoin(model()), true);
  const b = new ContinuousBatcher(ng, { maxBatch: 3 });
  const reqs: BatcherRequest[] = [
    { promptIds: [0, 1, 2], maxNewTokens: 10, seed: 1, sampling: { temperature: 0.9 } },
    { promptIds: [2], maxNewTokens: 6, seed: 2, sampling: { temperature: 1, frequencyPenalty: 0.5 } },
    { promptIds: [1, 2], maxNewTokens: 8, seed: 3, stopTokens: [3] },
  ];
  const ps = [b.submit(reqs[0])];
  await tick();
  ps.push(b.submit(reqs[1]));
  await tick();
  ps.push(b.submit(reqs[2]));
  const out = await Promise.all(ps);
  out.forEach((r, i) => assertSame(r, solo(ng, reqs[i]), `n-gram request ${i}`));
});

test('continuous batching on LLaMA (RoPE, grouped KV heads): joined rows equal their solo runs, past the block size', async () => {
  const cfgL: LlamaConfig = { ...LLAMA_PRESETS.tiny, vocabSize: 19, blockSize: 12, nEmbd: 16, nHead: 4, nKvHead: 2, intermediateSize: 24, ropeTheta: 1000, tieWordEmbeddings: false };
  const m = new Llama(cfgL, 5);
  for (const [n, p] of m.namedParameters()) if (!n.endsWith('norm.weight')) for (let i = 0; i < p.size; i++) p.data[i] *= 8;
  assert.equal(DecodeBatch.canJoin(m), true);
  const reqs: BatcherRequest[] = [
    { promptIds: [1, 2, 3, 4, 5], maxNewTokens: 20 },
    { promptIds: [7], maxNewTokens: 9, seed: 3, sampling: { temperature: 0.9, topK: 6 } },
    { promptIds: [4, 4, 9], maxNewTokens: 14, seed: 4, sampling: { temperature: 1, frequencyPenalty: 1 } },
  ];
  const b = new ContinuousBatcher(m, { maxBatch: 3 });
  const ps = [b.submit(reqs[0])];
  await tick();
  await tick();
  ps.push(b.submit(reqs[1]));
  await tick();
  ps.push(b.submit(reqs[2]));
  const out = await Promise.all(ps);
  out.forEach((r, i) => assertSame(r, solo(m, reqs[i]), `llama request ${i}`));
});
