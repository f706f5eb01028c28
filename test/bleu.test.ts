// src/eval/bleu.ts against sacreBLEU 2.6's corpus_bleu (tokenizer 13a, exp smoothing; 'zh' for Chinese targets,
// and 'char', 'none'): the fixture was written by scripts/fixtures/make_bleu_fixture.py. Seq2seq picks 'zh' for
// Chinese references (a perfect Chinese translation scored 0 under 13a).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { autoBleuTokenize, corpusBleu, isZhTokenizerChar, tokenize13a, tokenizeZh, type BleuTokenize } from '../src/eval/bleu.js';
import { bleu } from '../src/eval/metrics.js';
import { Seq2seq } from '../src/models/seq2seq.js';
import { greedyDecode } from '../src/models/seq2seq-decode.js';
import { Seq2seqVocab } from '../src/models/seq2seq-vocab.js';
import { encodePairs, Seq2seqObjective, translationBleu } from '../src/train/seq2seq.js';
import { Trainer } from '../src/train/trainer.js';

interface Case {
  name: string; hypotheses: string[]; references: string[][]; score: number; counts: number[]; totals: number[];
  precisions: number[]; bp: number; sys_len: number; ref_len: number;
  /** sacreBLEU's tokenize for this case (absent: its default, 13a) */
  tokenize?: BleuTokenize;
  /** the same case's score under 13a (cases with a tokenize) */
  score_13a?: number;
}
const fixture = JSON.parse(fs.readFileSync(fileURLToPath(new URL('../../test/fixtures/seq2seq/bleu.json', import.meta.url)), 'utf8')) as {
  cases: Case[]; tokenize13a: [string, string][]; tokenize_zh: [string, string][]; zh_char_runs: [number, number][];
};
const cases13a = fixture.cases.filter((c) => c.tokenize === undefined);
const zhCases = fixture.cases.filter((c) => c.tokenize === 'zh');

/** corpusBleu's numbers against sacreBLEU's for one fixture case, to the tolerances of the 13a cases */
function assertMatches(c: Case, r: ReturnType<typeof corpusBleu>): void {
  assert.ok(Math.abs(r.score - c.score) < 1e-6, `${c.name}: ${r.score} vs sacreBLEU ${c.score}`);
  assert.deepEqual(r.counts, c.counts, c.name);
  assert.deepEqual(r.totals, c.totals, c.name);
  assert.equal(r.sysLen, c.sys_len, c.name);
  assert.equal(r.refLen, c.ref_len, c.name);
  assert.ok(Math.abs(r.bp - c.bp) < 1e-12, c.name);
  r.precisions.forEach((p, i) => assert.ok(Math.abs(p - c.precisions[i]) < 1e-9, `${c.name} p${i + 1}`));
}

test('corpusBleu equals sacreBLEU corpus_bleu to 1e-6 on every committed case', () => {
  assert.ok(cases13a.length >= 10);
  for (const c of cases13a) {
    assertMatches(c, corpusBleu(c.hypotheses, c.references));
  }
});

test("corpusBleu with tokenize 'zh' (and 'char', 'none') equals sacreBLEU's to 1e-6 on the Chinese-target cases", () => {
  assert.ok(zhCases.length >= 12);
  for (const c of fixture.cases.filter((x) => x.tokenize !== undefined)) {
    assertMatches(c, corpusBleu(c.hypotheses, c.references, { tokenize: c.tokenize }));
    // and 13a on the same Chinese text, as sacreBLEU's default scores it
    assert.ok(Math.abs(corpusBleu(c.hypotheses, c.references).score - c.score_13a!) < 1e-6, `${c.name} (13a)`);
  }
  const by = new Map(zhCases.map((c) => [c.name, c]));
  assert.ok(by.get('zh_partial')!.score > 0 && by.get('zh_partial')!.score < 100);
  assert.ok(by.get('zh_brevity_penalty')!.bp < 1 && by.get('zh_brevity_penalty')!.score > 0);
  assert.equal(by.get('zh_zero_matches')!.score, 0);
  assert.equal(by.get('zh_multiple_references')!.references.length, 2);
});

test('a perfect Chinese-target match scores 100 with zh (0 with 13a: one token a sentence), segmented or not', () => {
  const refs = ['我爱中国', '他喜欢音乐', '她去北京'];
  const zh = corpusBleu(refs, [refs], { tokenize: 'zh' });
  assert.ok(Math.abs(zh.score - 100) < 1e-9, `${zh.score}`);
  assert.equal(corpusBleu(refs, [refs]).score, 0);
  assert.ok(Math.abs(corpusBleu(['我 爱 中国', '他 喜欢 音乐', '她 去 北京'], [refs], { tokenize: 'zh' }).score - 100) < 1e-9);
  for (const name of ['zh_perfect_unsegmented', 'zh_perfect_segmented', 'zh_segmented_hypothesis_unsegmented_reference', 'zh_whitespace_and_ideographic_space']) {
    const c = zhCases.find((x) => x.name === name)!;
    assert.ok(Math.abs(c.score - 100) < 1e-9, `${name}: sacreBLEU ${c.score}`);
    assert.ok(Math.abs(corpusBleu(c.hypotheses, c.references, { tokenize: autoBleuTokenize(c.references.flat()) }).score - 100) < 1e-9, name);
  }
});

test('tokenizeZh matches sacreBLEU on Chinese, fullwidth, mixed Latin/digits, entities, kana and astral lines', () => {
  assert.ok(fixture.tokenize_zh.length >= 10);
  for (const [line, want] of fixture.tokenize_zh) assert.equal(tokenizeZh(line), want, line);
});

test("isZhTokenizerChar is sacreBLEU's _is_chinese_char on every code point (its U+2001–U+2A6D quirk included)", () => {
  const runs = fixture.zh_char_runs;
  let k = 0;
  for (let cp = 0; cp < 0x110000; cp++) {
    while (k < runs.length && runs[k][1] < cp) k++;
    const want = k < runs.length && runs[k][0] <= cp;
    if (isZhTokenizerChar(cp) !== want) assert.fail(`U+${cp.toString(16).toUpperCase()}: ${!want} vs sacreBLEU ${want}`);
  }
});

test('autoBleuTokenize: zh for references with Han characters, 13a otherwise (English numbers unchanged)', () => {
  assert.equal(autoBleuTokenize(['I love China', 'He likes music']), '13a');
  assert.equal(autoBleuTokenize(['I love China', '他喜欢音乐']), 'zh');
  assert.equal(autoBleuTokenize(['私は日本語を勉強しています']), 'zh'); // kanji are Han
  assert.equal(autoBleuTokenize(['한국어 텍스트', '，。！']), '13a'); // Hangul, fullwidth punctuation: not Han
  assert.equal(autoBleuTokenize([]), '13a');
  for (const c of cases13a) {
    assert.equal(autoBleuTokenize(c.references.flat()), '13a', c.name); // the English cases: 13a, their numbers as before
    assert.ok(Math.abs(corpusBleu(c.hypotheses, c.references, { tokenize: autoBleuTokenize(c.references.flat()) }).score - c.score) < 1e-6, c.name);
  }
});

test('seq2seq into Chinese: the objective scores its dev BLEU with zh, so right translations score 100', async () => {
  const pairs = [
    ['I love China', '我爱中国'], ['He likes music', '他喜欢音乐'], ['She goes to Beijing', '她去北京'],
    ['We drink tea', '我们喝茶'], ['You watch movies', '你看电影'], ['They read books', '他们读书'],
  ].map(([src, tgt], i) => ({ src, tgt, line: i + 1 }));
  const sv = Seq2seqVocab.build(pairs.map((p) => p.src), 'word'), tv = Seq2seqVocab.build(pairs.map((p) => p.tgt), 'char');
  const enc = encodePairs(pairs, sv, tv, 8);
  const m = new Seq2seq({ srcVocabSize: sv.size, vocabSize: tv.size, blockSize: 8, embDim: 8, hidden: 12, cell: 'gru', bidirectional: true, attention: 'additive', attnDim: 8, seed: 7 });
  const obj = new Seq2seqObjective(enc, enc.slice(0, 3), tv);
  assert.equal(obj.bleuTokenize, 'zh');
  const t = new Trainer(m, obj, { maxIters: 120, batchSize: 6, lr: 1e-2, minLr: 1e-3, warmupIters: 5, weightDecay: 0, evalInterval: 120, sampleAt: [] });
  const evals: { metrics?: Record<string, number> }[] = [];
  await t.run({ onEval: (e) => void evals.push(e) });
  m.eval();
  const hyps = greedyDecode(m, enc.map((p) => p.src)).map((g) => tv.decode(g.ids));
  assert.deepEqual(hyps, pairs.map((p) => p.tgt)); // every translation right…
  assert.ok(Math.abs(evals[0].metrics!.BLEU - 100) < 1e-9, `dev BLEU ${evals[0].metrics!.BLEU}`); // …scores 100 (13a: 0)
  assert.ok(Math.abs(translationBleu(m, enc, tv, 6) - 100) < 1e-9);
  assert.equal(translationBleu(m, enc, tv, 6, '13a'), 0);
  // English targets keep 13a
  assert.equal(new Seq2seqObjective(encodePairs(pairs.map((p) => ({ ...p, src: p.tgt, tgt: p.src })), tv, sv, 8), [], sv).bleuTokenize, '13a');
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
  const c = cases13a.find((x) => x.counts.every((k) => k > 0) && x.score < 99)!;
  const split = (s: string): string[] => tokenize13a(s).split(' ');
  const old = bleu(c.hypotheses.map(split), c.hypotheses.map((_, i) => c.references.map((st) => split(st[i]))));
  assert.ok(Math.abs(100 * old - c.score) < 1e-6); // no zero counts here, so the two agree
  const s = cases13a.find((x) => x.name === 'no_4gram_matches_exp_smoothing')!;
  const old2 = bleu(s.hypotheses.map(split), s.hypotheses.map((_, i) => s.references.map((st) => split(st[i]))));
  assert.equal(old2, 0); // unsmoothed: a zero 4-gram precision zeroes the score, sacreBLEU smooths it
});

test('corpusBleu rejects mismatched reference streams', () => {
  assert.throws(() => corpusBleu(['a b'], [['a b', 'c']]), /reference stream 0 has 2 lines for 1 hypotheses/);
  assert.throws(() => corpusBleu(['a b'], []), /no reference stream/);
});
