import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arithmeticCorpus, demoCorpus, describeCorpus, languageCorpus } from '../src/data/corpus.js';

test('arithmeticCorpus: deterministic, correct sums, requested ops and sizes', () => {
  const a = arithmeticCorpus({ lines: 500, maxOperand: 99, ops: ['+', '-', '*'], seed: 1 });
  assert.equal(a, arithmeticCorpus({ lines: 500, maxOperand: 99, ops: ['+', '-', '*'], seed: 1 }));
  assert.notEqual(a, arithmeticCorpus({ lines: 500, maxOperand: 99, ops: ['+', '-', '*'], seed: 2 }));
  const lines = a.split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, 500);
  const seen = new Set<string>();
  for (const l of lines) {
    const m = /^(\d+)([+\-*])(\d+)=(-?\d+)$/.exec(l);
    assert.ok(m, `bad line ${l}`);
    const [x, op, y, r] = [Number(m[1]), m[2], Number(m[3]), Number(m[4])];
    assert.ok(x <= 99 && y <= 99);
    assert.equal(r, op === '+' ? x + y : op === '-' ? x - y : x * y);
    seen.add(op);
  }
  assert.equal(seen.size, 3);
  assert.match(arithmeticCorpus({ lines: 3, maxOperand: 9, seed: 5 }), /^(\d\+\d=\d+\n){3}$/);
  assert.equal(arithmeticCorpus({ lines: 0, maxOperand: 9, seed: 5 }), '');
  assert.throws(() => arithmeticCorpus({ lines: 2, maxOperand: 9, ops: ['/' as '+'], seed: 1 }), /unknown op/);
  assert.throws(() => arithmeticCorpus({ lines: -1, maxOperand: 9, seed: 1 }), /lines/);
});

test('languageCorpus: deterministic, sentence-shaped, varied', () => {
  const t = languageCorpus({ sentences: 400, seed: 7 });
  assert.equal(t, languageCorpus({ sentences: 400, seed: 7 }));
  assert.notEqual(t, languageCorpus({ sentences: 400, seed: 8 }));
  assert.ok(t.length > 400 * 30 && t.length < 400 * 120, `length ${t.length}`);
  assert.ok(t.includes('\n\n'), 'paragraphs');
  assert.ok(t.includes('"'), 'dialogue');
  assert.ok(t.includes('?'), 'questions');
  // every paragraph starts with a capital or an opening quote and ends with sentence punctuation
  for (const p of t.trim().split('\n\n')) {
    assert.match(p, /^["A-Z]/, p);
    assert.match(p, /[.?!"]$/, p);
  }
  // balanced quotes per paragraph
  for (const p of t.split('\n\n')) assert.equal((p.match(/"/g) ?? []).length % 2, 0, p);
  // plain ASCII, so a char-level vocabulary stays small
  assert.ok(/^[\x0a\x20-\x7e]*$/.test(t));
  const vocab = new Set(t);
  assert.ok(vocab.size < 70, `char vocab ${vocab.size}`);
  // varied: many distinct sentences
  const sentences = new Set(t.split(/(?<=[.?!])\s+/));
  assert.ok(sentences.size > 350, `${sentences.size} distinct sentences`);
  assert.equal(languageCorpus({ sentences: 0, seed: 1 }), '');
});

test('demoCorpus: 200–400 kB mix of language and arithmetic, deterministic', () => {
  const d = demoCorpus(1337);
  assert.ok(d.length >= 200_000 && d.length <= 400_000, `size ${d.length}`);
  assert.equal(d, demoCorpus(1337));
  assert.equal(d, demoCorpus());
  assert.notEqual(d.slice(0, 1000), demoCorpus(1).slice(0, 1000));
  const sums = d.match(/^\d+[+-]\d+=-?\d+$/gm) ?? [];
  assert.ok(sums.length > 1000, `${sums.length} arithmetic lines`);
  const words = d.match(/\b[a-z]+\b/g) ?? [];
  assert.ok(words.length > 30_000);
  assert.ok(describeCorpus().length > 40 && !describeCorpus().includes('\n'));
});
