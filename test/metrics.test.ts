import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bitsPerByte,
  bleu,
  bleuDetails,
  exactMatch,
  perplexity,
  precisionRecallF1,
  topKAccuracy,
} from '../src/eval/metrics.js';

const near = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);
const w = (s: string) => s.split(' ');

test('perplexity and bits per byte', () => {
  near(perplexity(Math.log(65)), 65);
  near(perplexity(0), 1);
  near(bitsPerByte(1200, 4000), 1200 / (4000 * Math.LN2));
  near(bitsPerByte(8 * Math.LN2, 1), 8); // uniform over 256 byte values = 8 bits
  assert.throws(() => bitsPerByte(1, 0), /totalBytes/);
});

test('BLEU: hand-computed single sentence', () => {
  // cand "the cat sat on the mat", ref "the cat is on the mat":
  // p1 = 5/6, p2 = 3/5, p3 = 1/4, p4 = 0/3; equal lengths → BP = 1
  const cand = [w('the cat sat on the mat')];
  const refs = [[w('the cat is on the mat')]];
  const d = bleuDetails(cand, refs, 4);
  assert.deepEqual(d.precisions, [5 / 6, 3 / 5, 1 / 4, 0]);
  assert.equal(d.bleu, 0); // no smoothing: a zero precision zeroes BLEU
  near(bleu(cand, refs, 3), 0.5); // (5/6 · 3/5 · 1/4)^(1/3) = (1/8)^(1/3)
  near(bleu([w('a b c d')], [[w('a b c d')]]), 1);
});

test('BLEU: corpus-level pooling and brevity penalty', () => {
  // second pair: cand "the cat", ref "the cat sat down": p1 = 2/2, p2 = 1/1, but c = 2 < r = 4
  near(bleu([w('the cat')], [[w('the cat sat down')]], 2), Math.exp(1 - 4 / 2));
  // pooled: p1 = 7/8, p2 = 4/6, c = 8, r = 10 → BP = e^(1 − 10/8)
  const cands = [w('the cat sat on the mat'), w('the cat')];
  const refs = [[w('the cat is on the mat')], [w('the cat sat down')]];
  const d = bleuDetails(cands, refs, 2);
  near(d.brevityPenalty, Math.exp(-0.25));
  assert.equal(d.candidateLength, 8);
  assert.equal(d.referenceLength, 10);
  near(d.bleu, Math.exp(-0.25) * Math.sqrt((7 / 8) * (4 / 6)));
});

test('BLEU: clipped counts (Papineni et al. example) and closest reference length', () => {
  const d = bleuDetails(
    [w('the the the the the the the')],
    [[w('the cat is on the mat'), w('there is a cat on the mat')]],
    1,
  );
  near(d.precisions[0], 2 / 7);
  // closest to 7 is the 7-token reference → no brevity penalty
  assert.equal(d.referenceLength, 7);
  near(d.brevityPenalty, 1);
  // equidistant references (3 and 5 for a 4-token candidate): the shorter one counts → c > r, BP = 1
  assert.equal(bleuDetails([w('a b c d')], [[w('a b c d e'), w('a b c')]], 1).referenceLength, 3);
  assert.throws(() => bleu([w('a')], []), /1 candidates but 0/);
});

test('precision, recall, F1: per class, macro, micro', () => {
  const pred = ['a', 'a', 'b', 'b', 'c'];
  const gold = ['a', 'b', 'b', 'c', 'c'];
  const r = precisionRecallF1(pred, gold);
  near(r.accuracy, 3 / 5);
  const a = r.perClass.get('a')!;
  near(a.precision, 0.5); near(a.recall, 1); near(a.f1, 2 / 3); assert.equal(a.support, 1);
  const b = r.perClass.get('b')!;
  near(b.precision, 0.5); near(b.recall, 0.5); near(b.f1, 0.5); assert.equal(b.support, 2);
  const c = r.perClass.get('c')!;
  near(c.precision, 1); near(c.recall, 0.5); near(c.f1, 2 / 3);
  near(r.macro.f1, (2 / 3 + 0.5 + 2 / 3) / 3);
  near(r.micro.f1, 0.6); // single-label: micro = accuracy
  // a class that is predicted but never gold gets P = 0 and R = 0, not NaN
  const z = precisionRecallF1([1, 2], [1, 1]);
  assert.deepEqual(z.perClass.get(2), { precision: 0, recall: 0, f1: 0, support: 0 });
  assert.throws(() => precisionRecallF1([1], [1, 2]), /1 predictions for 2/);
});

test('top-k accuracy and exact match', () => {
  // 3 rows × 4 cols
  const logits = Float32Array.from([
    0.1, 0.9, 0.5, 0.2, // target 2: rank 2
    3, 1, 2, 0, //         target 0: rank 1
    1, 1, 1, 1, //         target 3: tied with all 4 → a k/4 share of a hit (uniform tie-breaking)
  ]);
  const targets = [2, 0, 3];
  near(topKAccuracy(logits, 3, 4, targets, 1), (0 + 1 + 1 / 4) / 3);
  near(topKAccuracy(logits, 3, 4, targets, 2), (1 + 1 + 2 / 4) / 3);
  near(topKAccuracy(logits, 3, 4, targets, 3), (1 + 1 + 3 / 4) / 3);
  near(topKAccuracy(logits, 3, 4, targets, 4), 1);
  assert.throws(() => topKAccuracy(logits, 3, 5, targets, 1), /rows\*cols/);
  assert.throws(() => topKAccuracy(logits, 3, 4, [0, 0, 9], 1), /target 9 in row 2/);
  near(exactMatch(['42', '7', 'x'], ['42', '8', 'x']), 2 / 3);
  near(exactMatch([' Yes'], ['yes'], (s) => s.trim().toLowerCase()), 1);
});
