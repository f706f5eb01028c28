// Issue #9: BERT's BasicTokenizer cleaning and whitespace rules, exactly. Expected words are the outputs of
// transformers' BasicTokenizer (tokenization_bert_legacy.BasicTokenizer, do_lower_case True / False).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bertPreTokenize, WordPieceTokenizer } from '../src/tokenizers/index.js';

// [input, lowercased words, cased words]
const CASES: [string, string[], string[]][] = [
  ['a\u000bb\fc', ['abc'], ['abc']], // \v and \f are control characters: dropped, not whitespace
  ['x\ufeffy', ['xy'], ['xy']], // BOM / ZWNBSP is Cf: dropped
  ['a\u200bb\u200dc', ['abc'], ['abc']],
  ['tab\tnl\nret\rend', ['tab', 'nl', 'ret', 'end'], ['tab', 'nl', 'ret', 'end']],
  ['nul\u0000fffd\ufffdok', ['nulfffdok'], ['nulfffdok']],
  ['ctl\u001c\u001d\u001e\u001fz', ['ctlz'], ['ctlz']],
  ['nel\u0085q', ['nelq'], ['nelq']],
  ['ls\u2028ps\u2029end', ['ls', 'ps', 'end'], ['ls', 'ps', 'end']],
  ['nbsp\u00a0ideo\u3000thin\u2009x', ['nbsp', 'ideo', 'thin', 'x'], ['nbsp', 'ideo', 'thin', 'x']],
  ['priv\ue000ate', ['private'], ['private']], // private use (Co) is dropped too
  ['soft\u00adhyphen', ['softhyphen'], ['softhyphen']],
  ['H\u00e9llo W\u00f6rld! \u00c0\u00c9\u00ce', ['hello', 'world', '!', 'aei'], ['H\u00e9llo', 'W\u00f6rld', '!', '\u00c0\u00c9\u00ce']],
  ['cafe\u0301 e\u0301', ['cafe', 'e'], ['caf\u00e9', '\u00e9']], // NFC before splitting
  ['\u4e2d\u6587\u5b57abc\u65e5\u672c', ['\u4e2d', '\u6587', '\u5b57', 'abc', '\u65e5', '\u672c'], ['\u4e2d', '\u6587', '\u5b57', 'abc', '\u65e5', '\u672c']],
  ["don't (stop) 3.14 $5 ^_^ `q`", ['don', "'", 't', '(', 'stop', ')', '3', '.', '14', '$', '5', '^', '_', '^', '`', 'q', '`'], ['don', "'", 't', '(', 'stop', ')', '3', '.', '14', '$', '5', '^', '_', '^', '`', 'q', '`']],
  ['\u039f\u0394\u039f\u03a3 \u03a3\u0391\u03a3', ['\u03bf\u03b4\u03bf\u03c2', '\u03c3\u03b1\u03c2'], ['\u039f\u0394\u039f\u03a3', '\u03a3\u0391\u03a3']],
  ['\u0130stanbul \u01c5', ['istanbul', '\u01c6'], ['\u0130stanbul', '\u01c5']],
  ['\ufe4f\u2026\u2014\u2013\u00ab\u00bb\u00bf\u00a1', ['\ufe4f', '\u2026', '\u2014', '\u2013', '\u00ab', '\u00bb', '\u00bf', '\u00a1'], ['\ufe4f', '\u2026', '\u2014', '\u2013', '\u00ab', '\u00bb', '\u00bf', '\u00a1']],
  ['\u2060wj\u180emvs', ['wjmvs'], ['wjmvs']],
  ['a\ud800b', ['ab'], ['ab']], // a lone surrogate (Cs) is dropped
  ['  lead trail  ', ['lead', 'trail'], ['lead', 'trail']],
  ['', [], []],
  ['\ud83d\ude00emoji\ud83d\ude00', ['\ud83d\ude00emoji\ud83d\ude00'], ['\ud83d\ude00emoji\ud83d\ude00']],
  ['\uf900\ufa0e', ['\u8c48', '\ufa0e'], ['\u8c48', '\ufa0e']],
];

test("bertPreTokenize matches transformers' BasicTokenizer on tricky strings", () => {
  for (const [text, lower, cased] of CASES) {
    assert.deepEqual(bertPreTokenize(text, true), lower, `lowercase ${JSON.stringify(text)}`);
    assert.deepEqual(bertPreTokenize(text, false), cased, `cased ${JSON.stringify(text)}`);
  }
});

test('WordPiece encode: \\v, \\f and U+FEFF join the words around them, as in BERT', () => {
  const wp = new WordPieceTokenizer(['[UNK]', 'ab', '##c', 'a', 'b', 'c']);
  assert.deepEqual(wp.tokenize('a\u000bb\fc'), ['ab', '##c']);
  assert.deepEqual(wp.tokenize('a\ufeffb'), ['ab']);
  assert.deepEqual(wp.tokenize('a b'), ['a', 'b']);
});
