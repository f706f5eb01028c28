import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAllClose } from './helpers/allclose.js';
import { Rng } from '../src/tensor/rng.js';
import {
  applyRepetitionPenalty,
  applyLogitBias,
  applyPresenceFrequencyPenalty,
  applyTemperature,
  argmax,
  checkSamplingOptions,
  topLogprobs,
  sampleFromProbs,
  sampleNext,
  softmaxInPlace,
  topKFilter,
  topPFilter,
} from '../src/generate/sampling.js';

const f32 = (xs: number[]) => Float32Array.from(xs);
const arr = (x: Float32Array) => Array.from(x);

function close(actual: ArrayLike<number>, expected: number[], eps = 1e-6) {
  assertAllClose(actual, expected, 'values', { atol: eps });
}

test('repetition penalty: HF semantics, divide positive, multiply negative, each distinct id once', () => {
  const l = f32([2, -1, 0, 3, 1]);
  // id 0 appears twice but is penalised once; id 2 (zero) stays zero; id 4 untouched
  applyRepetitionPenalty(l, [0, 1, 0, 2, 3], 2);
  close(l, [1, -2, 0, 1.5, 1]);
  // penalty < 1 encourages repeats
  const m = f32([2, -1]);
  applyRepetitionPenalty(m, [0, 1], 0.5);
  close(m, [4, -0.5]);
  assert.throws(() => applyRepetitionPenalty(f32([1]), [5], 1.3), /outside the vocabulary/);
  assert.throws(() => applyRepetitionPenalty(f32([1]), [0], 0), /positive/);
});

test('temperature divides logits', () => {
  close(applyTemperature(f32([1, -2, 4]), 0.5), [2, -4, 8]);
  close(applyTemperature(f32([1, -2, 4]), 2), [0.5, -1, 2]);
  assert.throws(() => applyTemperature(f32([1]), 0), /temperature/);
});

test('top-k keeps the k largest and ties with the k-th (HF uses <)', () => {
  close(topKFilter(f32([1, 5, 3, 4, 2]), 2), [-Infinity, 5, -Infinity, 4, -Infinity]);
  close(topKFilter(f32([1, 3, 3, 0]), 1), [-Infinity, 3, 3, -Infinity]);
  close(topKFilter(f32([1, 3, 3, 0]), 2), [-Infinity, 3, 3, -Infinity]);
  close(topKFilter(f32([1, 2]), 0), [1, 2]);
  close(topKFilter(f32([1, 2]), 5), [1, 2]);
  // larger vocab against a sort-based reference
  const rng = new Rng(7);
  const x = Float32Array.from({ length: 1000 }, () => rng.normal());
  const kth = [...x].sort((a, b) => b - a)[36];
  const y = topKFilter(Float32Array.from(x), 37);
  for (let i = 0; i < x.length; i++) assert.equal(y[i], x[i] >= kth ? x[i] : -Infinity);
});

test('top-p keeps the smallest set reaching p', () => {
  // probs ≈ [0.6439, 0.2369, 0.0871, 0.0321] (logits ln-spaced by 1)
  const l = () => f32([3, 2, 1, 0]);
  close(topPFilter(l(), 0.5), [3, -Infinity, -Infinity, -Infinity]); // 0.644 ≥ 0.5
  close(topPFilter(l(), 0.7), [3, 2, -Infinity, -Infinity]); // 0.644 < 0.7 ≤ 0.881
  close(topPFilter(l(), 0.9), [3, 2, 1, -Infinity]); // 0.881 < 0.9 ≤ 0.968
  close(topPFilter(l(), 0.99), [3, 2, 1, 0]);
  close(topPFilter(l(), 1), [3, 2, 1, 0]);
  // tiny p keeps exactly one token: the most likely
  close(topPFilter(f32([0, 4, 1]), 1e-9), [-Infinity, 4, -Infinity]);
  // an exact boundary: probs [0.5, 0.3, 0.2], p = 0.8 → keep exactly the first two
  const exact = f32([Math.log(0.5), Math.log(0.3), Math.log(0.2)]);
  close(topPFilter(exact, 0.8), [Math.log(0.5), Math.log(0.3), -Infinity]);
  // top_p 0 keeps the single most likely token (OpenAI: greedy); it used to be refused (issue #9 §3)
  close(topPFilter(l(), 0), [3, -Infinity, -Infinity, -Infinity]);
  assert.throws(() => topPFilter(l(), -0.1), /topP/);
  assert.throws(() => topPFilter(l(), 1.5), /topP/);
});

test('top-p ties are broken by token id, independent of input order', () => {
  // four equal tokens, p = 0.5 → two kept: the lowest ids
  close(topPFilter(f32([1, 1, 1, 1]), 0.5), [1, 1, -Infinity, -Infinity]);
  // already -inf entries (from top-k) are ignored
  close(topPFilter(f32([-Infinity, 2, -Infinity, 2]), 0.4), [-Infinity, 2, -Infinity, -Infinity]);
});

test('softmax and argmax', () => {
  const p = softmaxInPlace(f32([0, Math.log(3), -Infinity]));
  close(p, [0.25, 0.75, 0]);
  close(softmaxInPlace(f32([1000, 1000])), [0.5, 0.5]); // no overflow
  assert.throws(() => softmaxInPlace(f32([-Infinity, -Infinity])), /no finite logit/);
  assert.equal(argmax(f32([1, 3, 3, 2])), 1); // lowest index on ties
  assert.equal(argmax(f32([-Infinity, -Infinity])), 0);
  assert.equal(argmax(f32([NaN, 2, 1])), 1);
});

test('sampleFromProbs follows the distribution and never picks zero-probability ids', () => {
  const rng = new Rng(1);
  const probs = f32([0.1, 0, 0.6, 0.3]);
  const counts = [0, 0, 0, 0];
  const n = 20000;
  for (let i = 0; i < n; i++) counts[sampleFromProbs(probs, rng)]++;
  assert.equal(counts[1], 0);
  for (const [i, p] of [[0, 0.1], [2, 0.6], [3, 0.3]] as const) {
    assert.ok(Math.abs(counts[i] / n - p) < 0.02, `id ${i}: ${counts[i] / n} vs ${p}`);
  }
  assert.throws(() => sampleFromProbs(f32([0, 0]), rng), /no positive/);
});

test('sampleNext: greedy at temperature 0 applies the repetition penalty first and uses no randomness', () => {
  const rng = new Rng(3);
  const before = JSON.stringify(rng.getState());
  assert.equal(sampleNext(f32([1, 5, 4.9]), { temperature: 0 }, rng), 1);
  // penalty 1.2 on id 1: 5/1.2 ≈ 4.17 < 4.9 → id 2
  assert.equal(sampleNext(f32([1, 5, 4.9]), { temperature: 0, repetitionPenalty: 1.2 }, rng, [1]), 2);
  assert.equal(JSON.stringify(rng.getState()), before);
});

test('sampleNext: the worked example from the source comment', () => {
  // [2,1,0,-1], previous [0,3], penalty 2, T 0.5, top_p 0.9 → only ids 0 and 1, each about half the time
  const rng = new Rng(11);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) {
    counts[sampleNext(f32([2, 1, 0, -1]), { temperature: 0.5, topP: 0.9, repetitionPenalty: 2 }, rng, [0, 3, 3])]++;
  }
  assert.equal(counts[2] + counts[3], 0);
  assert.ok(Math.abs(counts[0] / 4000 - 0.5) < 0.04, String(counts));
  // the row is left holding the probabilities
  const row = f32([2, 1, 0, -1]);
  sampleNext(row, { temperature: 0.5, topP: 0.9, repetitionPenalty: 2 }, rng, [0, 3]);
  close(row, [0.5, 0.5, 0, 0]);
});

test('sampleNext is deterministic for a given Rng state and honours top-k', () => {
  const logits = Float32Array.from({ length: 300 }, (_, i) => Math.sin(i * 0.37) * 3);
  const run = (seed: number) => {
    const rng = new Rng(seed);
    const out: number[] = [];
    for (let i = 0; i < 200; i++) out.push(sampleNext(Float32Array.from(logits), { temperature: 0.9, topK: 5, topP: 0.95 }, rng, out));
    return out;
  };
  assert.deepEqual(run(42), run(42));
  assert.notDeepEqual(run(42), run(43));
  // with top-k 1 sampling equals greedy
  const rng = new Rng(5);
  for (let i = 0; i < 20; i++) assert.equal(sampleNext(Float32Array.from(logits), { topK: 1 }, rng), argmax(logits));
  // save/restore the Rng reproduces the next draws
  const r = new Rng(9);
  r.random();
  const st = r.getState();
  const a = sampleNext(Float32Array.from(logits), {}, r);
  r.setState(st);
  assert.equal(sampleNext(Float32Array.from(logits), {}, r), a);
});

test('sampleNext rejects bad options with a clear message', () => {
  const rng = new Rng(1);
  assert.throws(() => sampleNext(f32([1, 2]), { temperature: -1 }, rng), /temperature/);
  assert.throws(() => sampleNext(f32([1, 2]), { topK: 1.5 }, rng), /topK/);
  assert.throws(() => sampleNext(f32([1, 2]), { topP: -0.5 }, rng), /topP/);
  assert.throws(() => sampleNext(f32([1, 2]), { temperature: 0, topP: 2 }, rng), /topP/);
  assert.throws(() => sampleNext(f32([1, 2]), { repetitionPenalty: 0 }, rng, [0]), /repetitionPenalty/);
  assert.throws(() => sampleNext(f32([]), {}, rng), /empty/);
});

test('top-p matches a straightforward sort-by-(prob desc, id asc) reference on random rows with ties', () => {
  const rng = new Rng(123);
  for (let trial = 0; trial < 200; trial++) {
    const V = 1 + rng.int(60);
    // quantised logits so ties are common; some already filtered
    const x = Float32Array.from({ length: V }, () => (rng.random() < 0.1 ? -Infinity : Math.round(rng.normal() * 2) / 2));
    if (x.every((v) => v === -Infinity)) x[0] = 0;
    const p = [0.1, 0.5, 0.8, 0.9, 0.95][trial % 5];
    // reference
    const ids = [...x.keys()].filter((i) => x[i] > -Infinity).sort((a, b) => x[b] - x[a] || a - b);
    const max = x[ids[0]];
    const z = ids.reduce((s, i) => s + Math.exp(x[i] - max), 0);
    const keep = new Set<number>();
    let cum = 0;
    for (const i of ids) {
      keep.add(i);
      cum += Math.exp(x[i] - max) / z;
      if (cum >= p - 1e-7) break;
    }
    const expected = Array.from(x, (v, i) => (keep.has(i) ? v : -Infinity));
    assert.deepEqual(arr(topPFilter(Float32Array.from(x), p)), expected, `trial ${trial}`);
  }
});

test('logit bias (OpenAI logit_bias): added to the logits; JSON objects and Maps; ids and values checked', () => {
  close(applyLogitBias(f32([2, 1, 0, -1]), { '3': 5, '0': -100 }), [-98, 1, 0, 4]);
  close(applyLogitBias(f32([2, 1]), new Map([[1, 0.5]])), [2, 1.5]);
  assert.throws(() => applyLogitBias(f32([1, 2]), { '2': 1 }), /logitBias token id "2" is not an id in the vocabulary \[0, 2\)/);
  assert.throws(() => applyLogitBias(f32([1, 2]), { x: 1 }), /logitBias token id "x"/);
  assert.throws(() => applyLogitBias(f32([1, 2]), { '1': 101 }), /logitBias for token 1 must be a number in \[-100, 100\]/);
  // −100 bans a token even under sampling
  const rng = new Rng(2);
  for (let i = 0; i < 50; i++) assert.notEqual(sampleNext(f32([3, 0, 0]), { logitBias: { 0: -100 } }, rng), 0);
});

test('presence and frequency penalties (OpenAI definitions) count generated ids only: the worked example', () => {
  // logits [2, 1, 0, -1], generated [1, 1, 2], frequency 0.5, presence 0.25 → c = [0, 2, 1, 0]
  close(applyPresenceFrequencyPenalty(f32([2, 1, 0, -1]), [1, 1, 2], 0.25, 0.5), [2, -0.25, -0.75, -1]);
  // bias {3: 5} first: [2, 1, 0, 4] → [2, -0.25, -0.75, 4] → greedy picks 3; with bias {3: 1}: [.., 0] → 0
  const rng = new Rng(1);
  const o = { temperature: 0, frequencyPenalty: 0.5, presencePenalty: 0.25 };
  assert.equal(sampleNext(f32([2, 1, 0, -1]), { ...o, logitBias: { 3: 5 } }, rng, [], [1, 1, 2]), 3);
  assert.equal(sampleNext(f32([2, 1, 0, -1]), { ...o, logitBias: { 3: 1 } }, rng, [], [1, 1, 2]), 0);
  // a penalty of 2 on id 0, generated 3 times: 2 − 3·2 < 1 → id 1 wins; the prompt (previous) does not count
  assert.equal(sampleNext(f32([2, 1]), { temperature: 0, frequencyPenalty: 2 }, rng, [0, 0, 0], [0, 0, 0]), 1);
  assert.equal(sampleNext(f32([2, 1]), { temperature: 0, frequencyPenalty: 2, presencePenalty: 2 }, rng, [0, 0, 0], []), 0);
  // negative penalties encourage repeats
  close(applyPresenceFrequencyPenalty(f32([0, 0]), [1], -1, -0.5), [0, 1.5]);
});

test('sampleNext order: logit bias → repetition penalty → frequency/presence → temperature → top-k/p', () => {
  // logits [2, 0], bias {0: 2}, previous [0], repetition 2: bias first → (2+2)/2 = 2 → softmax [0.8808, 0.1192]
  // (repetition first would give 2/2 + 2 = 3 → [0.9526, 0.0474])
  const row = f32([2, 0]);
  sampleNext(row, { logitBias: { 0: 2 }, repetitionPenalty: 2 }, new Rng(1), [0]);
  close(row, [Math.exp(2) / (Math.exp(2) + 1), 1 / (Math.exp(2) + 1)], 1e-6);
  // repetition before frequency: logits [2, 0], previous = generated = [0], repetition 2, frequency 1:
  // 2/2 − 1 = 0 → [0.5, 0.5]  (frequency first: (2 − 1)/2 = 0.5)
  const row2 = f32([2, 0]);
  sampleNext(row2, { repetitionPenalty: 2, frequencyPenalty: 1 }, new Rng(1), [0], [0]);
  close(row2, [0.5, 0.5], 1e-6);
});

test('topP 0 is greedy (OpenAI) and consumes no randomness', () => {
  const rng = new Rng(4);
  const before = JSON.stringify(rng.getState());
  for (let i = 0; i < 5; i++) assert.equal(sampleNext(f32([0.1, 2, 1.9, -3]), { topP: 0, temperature: 1.5 }, rng), 1);
  assert.equal(sampleNext(f32([0.1, 2, 1.9]), { topP: 0, logitBias: { 2: 1 } }, rng), 2);
  assert.equal(JSON.stringify(rng.getState()), before);
});

test('topLogprobs: the model\'s top-k alternatives, most likely first, ties to the lower id', () => {
  // logits [0, ln 3, ln 4] → probabilities [1/8, 3/8, 4/8]
  const r = topLogprobs(f32([0, Math.log(3), Math.log(4)]), 2);
  assert.deepEqual(r.map((x) => x.id), [2, 1]);
  close(r.map((x) => x.logprob), [Math.log(0.5), Math.log(0.375)], 1e-6);
  assert.deepEqual(topLogprobs(f32([1, 2, 2, 1]), 3).map((x) => x.id), [1, 2, 0]);
  assert.equal(topLogprobs(f32([1, 2]), 5).length, 2);
  assert.deepEqual(topLogprobs(f32([1, 2]), 0), []);
  assert.throws(() => topLogprobs(f32([1]), -1), /k must be a non-negative integer/);
  // against a full sort on a random row
  const rng = new Rng(3);
  const x = Float32Array.from({ length: 500 }, () => rng.normal() * 3);
  const ref = [...x.keys()].sort((a, b) => x[b] - x[a] || a - b).slice(0, 20);
  assert.deepEqual(topLogprobs(x, 20).map((t) => t.id), ref);
  const probs = softmaxInPlace(Float32Array.from(x));
  for (const t of topLogprobs(x, 20)) assert.ok(Math.abs(Math.exp(t.logprob) - probs[t.id]) < 1e-6);
});

test('checkSamplingOptions: one line naming the bad option, before any work', () => {
  const bad: [object, RegExp][] = [
    [{ temperature: -0.1 }, /temperature must be a finite number ≥ 0/],
    [{ topP: 1.5 }, /topP must be in \[0, 1\]/],
    [{ topP: -1 }, /topP/],
    [{ topK: -1 }, /topK must be a non-negative integer/],
    [{ topK: 2.5 }, /topK/],
    [{ repetitionPenalty: -1 }, /repetitionPenalty/],
    [{ presencePenalty: 2.5 }, /presencePenalty must be in \[-2, 2\]/],
    [{ frequencyPenalty: NaN }, /frequencyPenalty/],
    [{ logitBias: { 9: 1 } }, /logitBias token id "9"/],
    [{ logitBias: 3 }, /logitBias must be an object/],
  ];
  for (const [o, re] of bad) assert.throws(() => checkSamplingOptions(o, 5), re, JSON.stringify(o));
  checkSamplingOptions({ temperature: 0, topP: 0, topK: 0, presencePenalty: -2, frequencyPenalty: 2, logitBias: { 4: -100 } }, 5);
});
