// Issue #9: evaluation metrics on degenerate models. Tied logits count as fractional top-k hits (uniform
// logits score k/V, not 100%); bits per byte counts the raw bytes the scored tokens add, exact at every cut
// point; one-token vocabularies, empty parts and non-finite logits are exact or refused with a clear message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateText, scoredBytes } from '../src/eval/evaluate.js';
import { topKAccuracy, topKHit } from '../src/eval/metrics.js';
import type { LanguageModel } from '../src/models/model.js';
import { BPETokenizer, CharTokenizer, ChineseTokenizer } from '../src/tokenizers/index.js';

const near = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

/** a model whose logits for every position are `row(position in window)` (default: all zeros = uniform) */
function stubModel(V: number, blockSize: number, row: (j: number) => number[] = () => new Array(V).fill(0)): LanguageModel {
  const m = {
    config: { vocabSize: V, blockSize },
    toStorage: () => m,
    eval: () => m,
    forward: (_x: Int32Array, B: number, T: number) => {
      const data = new Float32Array(B * T * V);
      for (let r = 0; r < B * T; r++) data.set(row(r % T), r * V);
      return { logits: { data } };
    },
  };
  return m as unknown as LanguageModel;
}

test('top-k: ties are fractional hits, so uniform logits over V score k/V', () => {
  const V = 7;
  const uniform = new Float32Array(3 * V);
  near(topKAccuracy(uniform, 3, V, [0, 3, 6], 1), 1 / 7);
  near(topKAccuracy(uniform, 3, V, [0, 3, 6], 5), 5 / 7);
  // target tied with one other logit, one logit above: top-1 0, top-2 1/2, top-3 1
  const row = Float32Array.from([0, 5, 2, 2]);
  near(topKHit(row, 0, 4, 3, 1), 0);
  near(topKHit(row, 0, 4, 3, 2), 0.5);
  near(topKHit(row, 0, 4, 3, 3), 1);
  // the tie's id order does not matter: id 2 and id 3 get the same share
  near(topKHit(row, 0, 4, 2, 2), 0.5);
  assert.throws(() => topKAccuracy(Float32Array.from([NaN, 1]), 1, 2, [1], 1), /topKAccuracy: row 0: logit 0 is NaN/);
  assert.throws(() => topKAccuracy(new Float32Array(0), 0, 4, [], 1), /no rows to score/);
});

test('evaluateText: uniform model on a byte-level BPE whose first token ends inside a character', () => {
  // merges ab, abc, abcd: 259 tokens, none of which applies to "，明明" (9 bytes, 9 single-byte tokens)
  const tok = BPETokenizer.fromMerges([97, 98, 256, 99, 257, 100], { pattern: null });
  const text = '，明明';
  const ids = tok.encode(text);
  assert.equal(ids.length, 9);
  assert.equal(scoredBytes(tok, ids), 8); // not the 12 bytes of decode(ids[1:]) = "\uFFFD\uFFFD明明"
  const r = evaluateText(stubModel(259, 4), tok, text);
  assert.equal(r.tokens, 8);
  near(r.loss, Math.log(259));
  near(r.bitsPerByte, Math.log2(259)); // 8.017 bits: one uniform choice among 259 per byte
  near(r.top1, 1 / 259);
  near(r.top5, 5 / 259);
  // every cut point is exact: scoring any suffix counts exactly its own bytes
  for (let i = 0; i + 1 < ids.length; i++) assert.equal(scoredBytes(tok, ids.slice(i)), ids.length - 1 - i);
});

test('evaluateText: byte fallback (Chinese tokenizer) counts raw bytes too', () => {
  const zh = new ChineseTokenizer(['明'], [1]);
  const ids = zh.encode('鑫明'); // 鑫 unseen → 3 byte tokens, then 明
  assert.deepEqual(ids, [0xe9, 0x91, 0xab, 256]);
  assert.equal(scoredBytes(zh, ids), 2 + 3);
  const r = evaluateText(stubModel(zh.vocabSize, 8), zh, '鑫明');
  near(r.bitsPerByte, (3 * Math.log(257)) / (5 * Math.LN2)); // 3 scored tokens, 5 bytes
});

test('evaluateText: a one-token vocabulary is exact (loss 0, bits per byte 0, accuracy 1)', () => {
  const tok = new CharTokenizer(['a']);
  const r = evaluateText(stubModel(1, 3), tok, 'aaaaaaa');
  assert.deepEqual({ ...r }, { tokens: 6, loss: 0, perplexity: 1, bitsPerByte: 0, bitsPerChar: 0, top1: 1, top5: 1 });
});

test('evaluateText: a confident correct model and a confident wrong one', () => {
  const tok = new CharTokenizer(['a', 'b']);
  // text "abab…": position j predicts the next char; logits favour it by 30 (correct) or against it (wrong)
  const right = evaluateText(stubModel(2, 4, (j) => (j % 2 === 0 ? [0, 30] : [30, 0])), tok, 'ababababa');
  near(right.top1, 1);
  assert.ok(right.loss < 1e-12);
  const wrong = evaluateText(stubModel(2, 4, (j) => (j % 2 === 0 ? [30, 0] : [0, 30])), tok, 'ababababa');
  near(wrong.top1, 0);
  near(wrong.top5, 1); // only 2 tokens: both are in the top 5
});

test('evaluateText: empty or 1-token parts, bad options and non-finite logits are refused with one line', () => {
  const tok = new CharTokenizer(['a', 'b']);
  const model = stubModel(2, 4);
  assert.throws(() => evaluateText(model, tok, 'abab', { source: 'd.txt', split: { train: 1, dev: 0, test: 0 }, part: 'dev' }),
    /^Error: d\.txt \(the dev part of its split, which is empty\): needs at least 2 tokens to score, has 0$/);
  assert.throws(() => evaluateText(model, tok, 'a', { source: 'one.txt' }), /^Error: one\.txt: needs at least 2 tokens to score, has 1$/);
  assert.throws(() => evaluateText(model, tok, 'abab', { source: 'x', maxTokens: -1 }), /^Error: x: maxTokens must be an integer ≥ 0 \(0: no limit\), got -1$/);
  assert.throws(() => evaluateText(model, tok, 'abab', { source: 'x', batchSize: 0 }), /^Error: x: batchSize must be a positive integer, got 0$/);
  assert.throws(() => evaluateText(stubModel(2, 4, () => [NaN, 0]), tok, 'abab', { source: 'x' }), /^Error: x: token 1: the model produced a non-finite logit \(NaN\) for id 0$/);
  assert.throws(() => evaluateText(stubModel(2, 4, () => [Infinity, 0]), tok, 'abab', { source: 'x' }), /non-finite logit \(Infinity\)/);
  const empty = new CharTokenizer(['a', 'b'], { '<s>': 2 });
  // special tokens decode to their text, so they have bytes; a vocabulary whose scored tokens are empty is refused
  const silent = { ...empty, vocabSize: 3, specialTokens: empty.specialTokens, type: 'x', encode: () => [0, 1, 1], decode: () => '', idToToken: () => '', toJSON: () => ({}) };
  assert.throws(() => evaluateText(stubModel(3, 4), silent, 'zz', { source: 'x' }), /^Error: x: the 2 scored tokens decode to no bytes, so bits per byte is undefined$/);
});

test('accuracy-type metrics of nothing are refused, not reported as 0', async () => {
  const { exactMatch, precisionRecallF1 } = await import('../src/eval/metrics.js');
  assert.throws(() => exactMatch([], []), /^Error: exactMatch: no predictions to score/);
  assert.throws(() => precisionRecallF1([], []), /^Error: precisionRecallF1: no labels to score/);
});
