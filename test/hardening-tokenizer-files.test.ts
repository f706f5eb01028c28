// Issue #9: user-supplied split patterns that backtrack catastrophically are refused at load time, and
// malformed tokenizer files get one-line errors naming the file and field (never a raw TypeError).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tokenizerFromJSON, tokenizerFromHF, trainBPE, bytesToUnicode, BPETokenizer, CharTokenizer,
  GPT2_PATTERN, CL100K_PATTERN, O200K_PATTERN,
} from '../src/tokenizers/index.js';
import { backtrackingHazard } from '../src/tokenizers/regex-safety.js';
import { compilePattern, expandInlineCaseFolding } from '../src/tokenizers/patterns.js';
import { parseTokenizerFile } from '../src/tokenizers/file.node.js';

// nested repetition, repeated overlapping alternation, and 3+ adjacent repetitions a run of one character
// can be spread over ("\w*\w*\w*!" fails in C(n+3, 3) steps)
const EVIL = ['(a+)+$', '(a*)*', '(a|a)*', '(\\w+\\s?)+$', '(a?)+b', '((ab)*)+', '(?:\\s|\\p{Zs})+x', '(a{1,3}){2,}',
  '\\w*\\w*\\w*!', 'a*b?a*b?a*$', '\\w*\\s*\\w*\\s*\\w*!', '.*.*.*=', '\\w+x\\w+x\\w+$'];

// Llama 3 / Qwen2 and GPT-4o-style pre-tokenizer regexes as they appear in tokenizer.json files
const LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const GPT4O_HF = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const GOOD = [GPT2_PATTERN, CL100K_PATTERN, O200K_PATTERN, expandInlineCaseFolding(LLAMA3), expandInlineCaseFolding(GPT4O_HF), '\\p{L}+|\\p{N}+|\\s+|.', '(?:ab|cd)+', '(?:\\r\\n)+',
  '\\p{L}+,\\p{L}+,\\p{L}+', '[a-z]+[0-9]+[a-z]+', '\\p{L}+\\s+\\p{N}+'];

test('split patterns: catastrophic backtracking refused at load with file and field, real patterns accepted', () => {
  for (const p of EVIL) {
    assert.notEqual(backtrackingHazard(p), null, p);
    assert.throws(() => tokenizerFromJSON({ type: 'bpe', merges: [], pattern: p }, 'tok.json'),
      (e: Error) => e.constructor === Error && /^tok\.json: field "pattern": split pattern .* can backtrack catastrophically/.test(e.message) && !e.message.includes('\n'), p);
    assert.throws(() => trainBPE('aaaa', { vocabSize: 260, pattern: p }), /can backtrack catastrophically/);
  }
  for (const p of GOOD) {
    assert.equal(backtrackingHazard(p), null, p);
    assert.ok(tokenizerFromJSON({ type: 'bpe', merges: [], pattern: p }, 'tok.json') instanceof BPETokenizer);
  }
  assert.throws(() => compilePattern('(', 'x.json: field "pattern"'), /^Error: x\.json: field "pattern": invalid split pattern "\("/);
});

test('split patterns: empty matches never stall encoding or training', () => {
  for (const p of ['a*', 'x?', '(?:)']) {
    assert.throws(() => tokenizerFromJSON({ type: 'bpe', merges: [], pattern: p }, 'e.json'), /^Error: e\.json: field "pattern": split pattern .* matches the empty string/);
  }
  // a pattern that matches empty text only at some positions (a lookahead): skipped, one code point at a time
  const t = tokenizerFromJSON({ type: 'bpe', merges: [], pattern: '(?=a)|b' }, 'la.json');
  assert.deepEqual(t.encode('ab😀b'), [98, 98]);
  assert.deepEqual(trainBPE('abab😀ab abab', { vocabSize: 260, pattern: '(?=a)|b', minFrequency: 1 }).merges, []);
});

test('split patterns: Hugging Face (?i:…) groups are rewritten to JavaScript with the same chunks', () => {
  // chunks of Python's `regex` (Oniguruma-compatible) for the original patterns, as literals
  const text = "I'LL say it's DON'T We'Ve 12345 HelloWorld  x\n\n y";
  const chunks = (p: string) => text.match(new RegExp(expandInlineCaseFolding(p), 'gu'));
  assert.deepEqual(chunks(LLAMA3), ['I', "'LL", ' say', ' it', "'s", ' DON', "'T", ' We', "'Ve", ' ', '123', '45', ' HelloWorld', ' ', ' x', '\n\n', ' y']);
  assert.deepEqual(chunks(GPT4O_HF), ["I'LL", ' say', " it's", " DON'T", " We'Ve", ' ', '123', '45', ' Hello', 'World', ' ', ' x', '\n\n', ' y']);
  const tok = tokenizerFromHF(hfBPE({ pre_tokenizer: split(LLAMA3) }), 'llama.json') as BPETokenizer;
  assert.equal(tok.decode(tok.encode(text)), text);
  assert.throws(() => tokenizerFromHF(hfBPE({ pre_tokenizer: split('(a+)+$') }), 'evil.json'),
    /^Error: evil\.json: pre_tokenizer\.pretokenizers\[0\]\.pattern\.Regex: split pattern "\(a\+\)\+\$" can backtrack/);
});

const B2U = bytesToUnicode();
const BYTES: Record<string, number> = Object.fromEntries(B2U.map((u, b) => [u, b]));
function split(regex: string): object {
  return { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false }, { type: 'ByteLevel', use_regex: false }] };
}
function hfBPE(extra: Record<string, unknown> = {}, model: Record<string, unknown> = {}): object {
  return { model: { type: 'BPE', vocab: BYTES, merges: [], ...model }, pre_tokenizer: { type: 'ByteLevel', use_regex: true }, ...extra };
}
const ranks = (extra: string) => Array.from({ length: 256 }, (_, b) => `${btoa(String.fromCharCode(b))} ${b}`).join('\n') + '\n' + extra;

// [what, JSON, message the error must match after "f.json: "]
const MALFORMED: [string, unknown, RegExp][] = [
  ['special null', { type: 'bpe', merges: [], special: null }, /^field "special" must be an object/],
  ['special id huge', { type: 'bpe', merges: [], special: { '<a>': 1e12 } }, /^field "special"\["<a>"\]: token id 1000000000000 must be an integer/],
  ['special ids shared', { type: 'bpe', merges: [], special: { '<a>': 300, '<b>': 300 } }, /^field "special": "<a>" and "<b>" share id 300/],
  ['name not a string', { type: 'bpe', merges: [], name: 5 }, /field "name" must be a string/],
  ['ranks without byte 0', { type: 'bpe', ranks: 'YQ== 0\n' }, /lacks the single byte 0x00/],
  ['ranks: duplicate id', { type: 'bpe', ranks: ranks('YWI= 5\n') }, /^id 5 is given to two tokens/],
  ['ranks: id out of range', { type: 'bpe', ranks: ranks('YWI= 99999999999\n') }, /^token "ab": token id 99999999999 must be an integer/],
  ['char: duplicate', { type: 'char', chars: ['a', 'a'] }, /^field "chars": character "a" appears twice/],
  ['char: not one character', { type: 'char', chars: ['ab'] }, /^field "chars"\[0\] "ab" must be exactly one character/],
  ['char: special on a char id', { type: 'char', chars: ['a', 'b'], special: { '<x>': 0 } }, /^field "special"\["<x>"\]: id 0 belongs to an ordinary token/],
  ['char: special leaves a gap', { type: 'char', chars: ['a'], special: { '<x>': 9 } }, /^field "special"\["<x>"\]: id 9 leaves a gap/],
  ['word: unk not a string', { type: 'word', words: ['<unk>'], unk: 5 }, /^field "unk" must be a string/],
  ['word: no unk', { type: 'word', words: ['a'] }, /^field "unk": the vocabulary lacks/],
  ['wordpiece: prefix', { type: 'wordpiece', vocab: ['[UNK]'], prefix: '' }, /^field "prefix" must be a non-empty string/],
  ['wordpiece: max chars', { type: 'wordpiece', vocab: ['[UNK]'], maxInputCharsPerWord: 'x' }, /^field "maxInputCharsPerWord" must be a positive integer/],
  ['wordpiece: lowercase', { type: 'wordpiece', vocab: ['[UNK]'], lowercase: 'yes' }, /^field "lowercase" must be true or false/],
  ['chinese: count', { type: 'chinese', pieces: ['a'], counts: ['x'] }, /^field "counts"\[0\] must be a finite number/],
  ['chinese: empty piece', { type: 'chinese', pieces: [''], counts: [1] }, /^field "pieces"\[0\]: a piece cannot be the empty string/],
  ['chinese: special on a byte id', { type: 'chinese', pieces: ['a'], counts: [1], special: { '<x>': 3 } }, /^field "special"\["<x>"\]: id 3 belongs to an ordinary token/],
  ['HF: merges of numbers', hfBPE({}, { merges: [[1, 2]] }), /^model\.merges\[0\] must be "a b" or \["a", "b"\]/],
  ['HF: merge naming an inherited property', hfBPE({}, { merges: ['constructor x'] }), /^model\.merges\[0\] .* uses a token missing from the vocab/],
  ['HF: duplicate id', hfBPE({}, { vocab: { ...BYTES, ab: 5 } }), /^model\.vocab: id 5 is given to two tokens/],
  ['HF: id out of range', hfBPE({}, { vocab: { ...BYTES, ab: 5e9 } }), /^model\.vocab\["ab"\]: token id 5000000000 must be an integer/],
  ['HF: missing byte', hfBPE({}, { vocab: { a: 0 } }), /^model\.vocab: BPE vocabulary lacks the single byte 0x00/],
  ['HF: added_tokens not an array', hfBPE({ added_tokens: 5 }), /^added_tokens must be an array/],
  ['HF: added token null', hfBPE({ added_tokens: [null] }), /^added_tokens\[0\] must be an object/],
  ['HF: added token id', hfBPE({ added_tokens: [{ special: true, content: 'x', id: 'q' }] }), /^added_tokens\[0\]\.id: token id "q" must be an integer/],
  ['HF: added token on a byte id', hfBPE({ added_tokens: [{ special: true, content: '<s>', id: 3 }] }), /^added_tokens: special token "<s>" reuses id 3/],
  ['HF: merges not an array', hfBPE({}, { merges: 'a b' }), /^model\.merges must be an array/],
  ['HF WordPiece: duplicate id', { model: { type: 'WordPiece', vocab: { '[UNK]': 0, a: 0 } } }, /^model\.vocab: id 0 is given to both "\[UNK\]" and "a"/],
  ['HF WordPiece: id out of range', { model: { type: 'WordPiece', vocab: { '[UNK]': 0, a: 4e9 } } }, /^model\.vocab\["a"\]: token id 4000000000 must be an integer/],
  ['HF WordPiece: unk_token type', { model: { type: 'WordPiece', vocab: { '[UNK]': 0 }, unk_token: 5 } }, /^model\.unk_token must be a string/],
  ['HF WordPiece: no unk', { model: { type: 'WordPiece', vocab: { a: 0 } } }, /the WordPiece vocabulary lacks its unknown token "\[UNK\]"/],
];

test('malformed tokenizer files: one-line Error naming the file and field, never a raw JavaScript error', () => {
  for (const [what, json, re] of MALFORMED) {
    const text = JSON.stringify(json);
    assert.throws(() => parseTokenizerFile(text, 'f.json'), (e: Error) => {
      assert.equal(e.constructor, Error, `${what}: ${e.constructor.name}: ${e.message}`);
      assert.ok(e.message.startsWith('f.json: '), `${what}: ${e.message}`);
      assert.ok(!e.message.includes('\n'), `${what}: multi-line`);
      assert.match(e.message.slice('f.json: '.length), re, what);
      return true;
    }, what);
  }
});

test('well-formed files still load after the checks (our JSON, HF with added tokens in the vocab)', () => {
  const t = trainBPE('hello hello world world', { vocabSize: 262, specialTokens: ['<|endoftext|>'] });
  const back = tokenizerFromJSON(JSON.parse(JSON.stringify(t.toJSON())), 'ok.json');
  assert.deepEqual(back.encode('hello world<|endoftext|>', { allowedSpecial: 'all' }), t.encode('hello world<|endoftext|>', { allowedSpecial: 'all' }));
  const hf = tokenizerFromHF(hfBPE({ added_tokens: [{ id: 256, content: '<|endoftext|>', special: true }] }, { vocab: { ...BYTES, '<|endoftext|>': 256 } }), 'gpt2ish.json');
  assert.deepEqual(hf.encode('a<|endoftext|>', { allowedSpecial: 'all' }), [97, 256]);
  const c = new CharTokenizer(['a', 'b'], { '<x>': 3, '<y>': 2 });
  assert.equal(c.vocabSize, 4);
});

test('decoding ids that are not in the vocabulary is an error, never "undefined" text or a wrong byte', () => {
  const c = new CharTokenizer(['a', 'b']);
  assert.throws(() => c.decode([1.5]), /^Error: token id 1\.5 is out of range/);
  assert.throws(() => c.decode([7]), /^Error: token id 7 is out of range/);
  const zh = tokenizerFromJSON({ type: 'chinese', pieces: ['明'], counts: [1] }, 'zh.json');
  assert.throws(() => zh.decode([65.5]), /^Error: token id 65\.5 is out of range/);
  assert.throws(() => zh.decode([300]), /^Error: token id 300 is out of range/);
  const bpe = BPETokenizer.fromMerges([]);
  assert.throws(() => bpe.decode([1.5]), /^Error: token id 1\.5 is not in the bpe vocabulary/);
});

test('a .tiktoken rank file for the wrong encoding names the file', async () => {
  const { loadEncoding } = await import('../src/tokenizers/tiktoken.node.js');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'tt-')), 'small.tiktoken');
  writeFileSync(file, ranks('YWI= 256\n'));
  await assert.rejects(loadEncoding('cl100k_base', { ranksFile: file }), (e: Error) => e.message.startsWith(`${file}: ranks for cl100k_base should have 100256 tokens but have 257`));
});

test('odd but valid token texts ("__proto__", "constructor") work as special tokens; empty BPE tokens are refused', () => {
  const t = trainBPE('ab ab', { vocabSize: 258, specialTokens: ['__proto__', 'constructor'], minFrequency: 1 });
  assert.equal(t.specialTokens.get('__proto__'), t.vocabSize - 2);
  assert.deepEqual(t.encode('__proto__', { allowedSpecial: 'all' }), [t.vocabSize - 2]);
  const back = tokenizerFromJSON(JSON.parse(JSON.stringify(t.toJSON())), 'p.json');
  assert.deepEqual(back.encode('x__proto__constructor', { allowedSpecial: 'all' }), [120, t.vocabSize - 2, t.vocabSize - 1]);
  const hf = tokenizerFromHF(hfBPE({ added_tokens: [{ id: 256, content: '__proto__', special: true }] }), 'hf.json');
  assert.deepEqual(hf.encode('__proto__', { allowedSpecial: 'all' }), [256]);
  const withEmpty = new Map(Array.from({ length: 256 }, (_, b) => [String.fromCharCode(b), b] as [string, number]));
  withEmpty.set('', 256);
  assert.throws(() => new BPETokenizer(withEmpty), /^Error: token id 256 has no bytes/);
  assert.throws(() => tokenizerFromJSON({ type: 'bpe', ranks: ranks('= 256\n') }, 'r.json'), /^Error: r\.json: field "ranks":257: "=" is not valid base64$/);
});
