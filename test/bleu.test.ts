// src/eval/bleu.ts against sacreBLEU 2.6's corpus_bleu (tokenizer 13a, exp smoothing): the fixture was
// written by scripts/fixtures/make_bleu_fixture.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { corpusBleu, tokenize13a } from '../src/eval/bleu.js';
import { bleu } from '../src/eval/metrics.js';

interface Case {
  name: string; hypotheses: string[]; references: string[][]; score: number; counts: number[]; totals: number[];
  precisions: number[]; bp: number; sys_len: number; ref_len: number;
}
const fixture = JSON.parse(fs.readFileSync(fileURLToPath(new URL('../../test/fixtures/seq2seq/bleu.json', import.meta.url)), 'utf8')) as {
  cases: Case[]; tokenize13a: [string, string][];
};

test('corpusBleu equals sacreBLEU corpus_bleu to 1e-6 on every committed case', () => {
  assert.ok(fixture.cases.length >= 10);
  for (const c of fixture.cases) {
    const r = corpusBleu(c.hypotheses, c.references);
    assert.ok(Math.abs(r.score - c.score) < 1e-6, `${c.name}: ${r.score} vs sacreBLEU ${c.score}`);
    assert.deepEqual(r.counts, c.counts, c.name);
    assert.deepEqual(r.totals, c.totals, c.name);
    assert.equal(r.sysLen, c.sys_len, c.name);
    assert.equal(r.refLen, c.ref_len, c.name);
    assert.ok(Math.abs(r.bp - c.bp) < 1e-12, c.name);
    r.precisions.forEach((p, i) => assert.ok(Math.abs(p - c.precisions[i]) < 1e-9, `${c.name} p${i + 1}`));
  }
});

test('the cases cover brevity penalty, zero matches, smoothing and multiple references', () => {
  const by = new Map(fixture.cases.map((c) => [c.name, c]));
  assert.ok(by.get('short_hypothesis_brevity_penalty')!.bp < 1 && by.get('short_hypothesis_brevity_penalty')!.score > 0);
  assert.equal(by.get('zero_matches')!.score, 0);
  const smooth = by.get('no_4gram_matches_exp_smoothing')!;
  assert.equal(smooth.counts[3], 0);
  assert.ok(smooth.score > 0);
  assert.equal(by.get('multiple_references')!.references.length, 2);
});

test('tokenize13a matches sacreBLEU on punctuation, numbers, entities and CJK', () => {
  for (const [line, want] of fixture.tokenize13a) assert.equal(tokenize13a(line), want, line);
});

test('metrics.ts bleu (unsmoothed, [0, 1]) differs from sacreBLEU only where smoothing acts', () => {
  const c = fixture.cases.find((x) => x.counts.every((k) => k > 0) && x.score < 99)!;
  const split = (s: string): string[] => tokenize13a(s).split(' ');
  const old = bleu(c.hypotheses.map(split), c.hypotheses.map((_, i) => c.references.map((st) => split(st[i]))));
  assert.ok(Math.abs(100 * old - c.score) < 1e-6); // no zero counts here, so the two agree
  const s = fixture.cases.find((x) => x.name === 'no_4gram_matches_exp_smoothing')!;
  const old2 = bleu(s.hypotheses.map(split), s.hypotheses.map((_, i) => s.references.map((st) => split(st[i]))));
  assert.equal(old2, 0); // unsmoothed: a zero 4-gram precision zeroes the score, sacreBLEU smooths it
});

test('corpusBleu rejects mismatched reference streams', () => {
  assert.throws(() => corpusBleu(['a b'], [['a b', 'c']]), /reference stream 0 has 2 lines for 1 hypotheses/);
  assert.throws(() => corpusBleu(['a b'], []), /no reference stream/);
});
