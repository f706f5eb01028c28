// MLM corruption: 15% of non-special tokens selected, 80/10/10 [MASK]/random/unchanged (statistically, over
// 200k tokens: each rate within 5 standard errors), specials never touched, labels −100 elsewhere, whole-word
// masking keeps WordPiece `##` pieces with their word, determinism by seed, option errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/tensor/rng.js';
import { MLM_IGNORE, maskTokens, maskingUnits, wordPieceContinuation, type MlmMaskingOptions } from '../src/data/mlm-masking.js';

const V = 1000, MASK = 4;
const SPECIAL = new Set([0, 1, 2, 3, 4]);
const opts: MlmMaskingOptions = { maskId: MASK, vocabSize: V, specialIds: SPECIAL };

/** |x − p·n| within k standard errors of a binomial(n, p) */
function near(name: string, x: number, n: number, p: number, k = 5): void {
  const sd = Math.sqrt(n * p * (1 - p));
  assert.ok(Math.abs(x - n * p) <= k * sd, `${name}: ${x} of ${n}, expected ${(n * p).toFixed(0)} ± ${(k * sd).toFixed(0)}`);
}

test('15% selected; 80% [MASK], 10% random, 10% unchanged; specials untouched; labels −100 elsewhere', () => {
  const rng = new Rng(1);
  const n = 200_000;
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i % 50 === 0 ? 2 : i % 50 === 49 ? 3 : 5 + rng.int(V - 5); // [CLS] … [SEP] rows of 50
  const { inputs, labels } = maskTokens(ids, opts, new Rng(2));
  let normal = 0, selected = 0, masked = 0, changed = 0, same = 0;
  for (let i = 0; i < n; i++) {
    if (SPECIAL.has(ids[i])) {
      assert.equal(labels[i], MLM_IGNORE);
      assert.equal(inputs[i], ids[i]);
      continue;
    }
    normal++;
    if (labels[i] === MLM_IGNORE) {
      assert.equal(inputs[i], ids[i], 'an unselected token is unchanged');
      continue;
    }
    selected++;
    assert.equal(labels[i], ids[i], 'the label is the original id');
    if (inputs[i] === MASK) masked++;
    else if (inputs[i] === ids[i]) same++;
    else changed++;
  }
  near('selected', selected, normal, 0.15);
  near('[MASK]', masked, selected, 0.8);
  // a random replacement equals the original (or [MASK]) 1 time in V: fold that into the expectations
  near('random', changed, selected, 0.1 * (1 - 2 / V));
  near('unchanged', same, selected, 0.1 + 0.1 / V);
});

test('whole-word masking: ## pieces are selected with their word, never alone', () => {
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'annoying', '##ly', '##er', 'cat', '##s', 'run'];
  const cont = wordPieceContinuation(vocab);
  assert.deepEqual([7, 8, 10, 6, 0].map(cont), [true, true, true, false, false]);
  const row = [2, 5, 6, 7, 8, 9, 10, 11, 3];
  assert.deepEqual(maskingUnits(row, SPECIAL, cont), [[1, 2], [2, 5], [5, 7], [7, 8]]);
  assert.deepEqual(maskingUnits([2, 7, 5], SPECIAL, cont), [[1, 2], [2, 3]], 'a ## piece after a special token stands alone');
  const ids = Int32Array.from({ length: 9 * 4000 }, (_, i) => row[i % 9]);
  const { labels } = maskTokens(ids, { ...opts, vocabSize: vocab.length, isContinuation: cont }, new Rng(3));
  let words = 0, selectedWords = 0;
  for (let s = 0; s < ids.length; s += 9) {
    const sel = (i: number): boolean => labels[s + i] !== MLM_IGNORE;
    assert.ok(sel(2) === sel(3) && sel(3) === sel(4), 'annoying ##ly ##er together');
    assert.ok(sel(5) === sel(6), 'cat ##s together');
    for (const i of [1, 2, 5, 7]) (words++, sel(i) && selectedWords++);
  }
  near('selected words', selectedWords, words, 0.15);
});

test('deterministic by seed; extreme settings; option errors', () => {
  const ids = Int32Array.from([2, 10, 11, 12, 3]);
  const a = maskTokens(ids, opts, new Rng(7)), b = maskTokens(ids, opts, new Rng(7));
  assert.deepEqual(a, b);
  const all = maskTokens(ids, { ...opts, maskProb: 1, maskShare: 1, randomShare: 0 }, new Rng(1));
  assert.deepEqual(Array.from(all.inputs), [2, MASK, MASK, MASK, 3]);
  assert.deepEqual(Array.from(all.labels), [MLM_IGNORE, 10, 11, 12, MLM_IGNORE]);
  const none = maskTokens(ids, { ...opts, maskProb: 0 }, new Rng(1));
  assert.ok(none.labels.every((l) => l === MLM_IGNORE));
  assert.throws(() => maskTokens(ids, { ...opts, maskProb: 1.5 }, new Rng(1)), /maskProb must be in \[0, 1\]/);
  assert.throws(() => maskTokens(ids, { ...opts, maskShare: 0.95, randomShare: 0.1 }, new Rng(1)), /sum to at most 1/);
  assert.throws(() => maskTokens(ids, { ...opts, maskId: V }, new Rng(1)), /maskId 1000 is outside/);
});
