import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tiktoken } from 'js-tiktoken/lite';
import gpt2Ranks from 'js-tiktoken/ranks/gpt2';
import cl100kRanks from 'js-tiktoken/ranks/cl100k_base';
import o200kRanks from 'js-tiktoken/ranks/o200k_base';
import { loadEncoding } from '../src/tokenizers/tiktoken.node.js';
import { BPETokenizer, trainBPE, tokenizerFromJSON, parseTiktokenRanks } from '../src/tokenizers/index.js';

// A varied corpus: every line is a different way tokenizers go wrong.
const CORPUS = [
  'Hello world! This is a test of the tokenizer.',
  "I'm sure you'll see they've done it; don't we'd? I'M SHOUTING, WE'LL SEE, THEY'VE",
  '床前明月光，疑是地上霜。举头望明月，低头思故乡。',
  '中文分词和日本語のテキスト、한국어 텍스트도.',
  'Emoji: 😀🎉👍🏽 👨‍👩‍👧‍👦 flags 🇯🇵🇺🇸 and ❤️',
  'function add(a, b) {\n  return a + b;\n}\n\nconst x = [1, 2, 3].map((n) => n ** 2);',
  'def f(x):\n\tif x > 0:\n\t\treturn x\n    else:\n        return -x\n',
  'spaces:        lots         of   them\n\n\n\n   \t\t  \r\n end   ',
  'Numbers 1234567890 3.14159 1,000,000 12:30 2024-01-01 0x1F 1e-9',
  'Mixed CamelCaseWord and snake_case_word and HTTPServer and iPhone',
  'Accents: café naïve résumé Zürich São Paulo ñandú',
  'Lone surrogates: \ud800 and \udfff and \ud83d! and reversed \udc00\ud800.',
  '<|endoftext|> is special text, so is <|fim_prefix|>',
  ' leading space and trailing space ',
  '\n',
  '',
  'Ω≈ç√∫˜µ≤≥÷ åß∂ƒ©˙∆˚¬… ‘’“” —–',
  'https://example.com/path?query=1&b=2#frag user@example.com',
  'a'.repeat(1200),
  ' '.repeat(500) + 'x' + '\n'.repeat(300),
  '1'.repeat(100),
].join('\n');

const encodings = [
  ['gpt2', gpt2Ranks],
  ['cl100k_base', cl100kRanks],
  ['o200k_base', o200kRanks],
] as const;

for (const [name, ranks] of encodings) {
  test(`${name}: ids identical to js-tiktoken on a varied corpus`, async () => {
    const ours = await loadEncoding(name);
    const ref = new Tiktoken(ranks);
    for (const line of CORPUS.split('\n')) {
      assert.deepEqual(ours.encode(line), ref.encode(line, [], []), `line ${JSON.stringify(line.slice(0, 40))}`);
    }
    const all = ours.encode(CORPUS);
    assert.deepEqual(all, ref.encode(CORPUS, [], []));
    assert.equal(ours.decode(all), ref.decode(all));
    // special tokens allowed: <|endoftext|> becomes its id
    assert.deepEqual(ours.encode(CORPUS, { allowedSpecial: 'all' }), ref.encode(CORPUS, 'all'));
  });
}

test('known id sequences (as printed in course notes)', async () => {
  const gpt2 = await loadEncoding('gpt2');
  assert.deepEqual(gpt2.encode('Hello world'), [15496, 995]);
  assert.deepEqual(gpt2.encode('<|endoftext|>', { allowedSpecial: 'all' }), [50256]);
  const cl = await loadEncoding('cl100k_base');
  assert.deepEqual(cl.encode('hello world'), [15339, 1917]);
  assert.deepEqual(cl.encode('tiktoken is great!'), [83, 1609, 5963, 374, 2294, 0]);
  const o2 = await loadEncoding('o200k_base');
  assert.deepEqual(o2.encode('hello world'), [24912, 2375]);
});

test('special token policy: none encodes as text, raise throws, set allows only some', async () => {
  const cl = await loadEncoding('cl100k_base');
  const text = 'a<|endoftext|>b<|fim_prefix|>';
  assert.ok(!cl.encode(text).includes(100257));
  assert.throws(() => cl.encode(text, { allowedSpecial: 'raise' }), /special token "<\|endoftext\|>"/);
  const ids = cl.encode(text, { allowedSpecial: new Set(['<|fim_prefix|>']) });
  assert.ok(ids.includes(100258) && !ids.includes(100257));
  assert.equal(cl.decode(ids), text);
});

test('tiktoken rank file round trip and restore from toJSON', async () => {
  const gpt2 = await loadEncoding('gpt2');
  const ranks = parseTiktokenRanks(gpt2.toTiktoken());
  assert.equal(ranks.size, 50256);
  const restored = tokenizerFromJSON(JSON.parse(JSON.stringify(gpt2.toJSON())));
  const s = CORPUS.slice(0, 2000);
  assert.deepEqual(restored.encode(s), gpt2.encode(s));
  assert.throws(() => parseTiktokenRanks('IQ== 0\nnot-a-line\n', 'x.tiktoken'), /x\.tiktoken:2/);
});

test('BPE training: Wikipedia example, determinism, JSON round trip', () => {
  const t = trainBPE('aaabdaaabac', { vocabSize: 259, pattern: null, minFrequency: 1 });
  // ties go to the pair occurring first, as in minbpe: (Z,a) before (a,b) after "aa" → Z (checked with minbpe)
  assert.deepEqual(t.merges, [97, 97, 256, 97, 257, 98]);
  assert.deepEqual(t.encode('aaabdaaabac'), [258, 100, 258, 97, 99]);
  const text = CORPUS.repeat(3);
  const progress: number[] = [];
  const a = trainBPE(text, { vocabSize: 512, specialTokens: ['<|endoftext|>'], onProgress: (p) => progress.push(p.merge) });
  const b = trainBPE(text, { vocabSize: 512, specialTokens: ['<|endoftext|>'] });
  assert.deepEqual(a.merges, b.merges);
  assert.equal(progress.length, a.merges!.length / 2);
  assert.equal(a.specialTokens.get('<|endoftext|>'), a.vocabSize - 1);
  const ids = a.encode(text, { allowedSpecial: 'all' });
  assert.equal(a.decode(ids), wellFormed(text));
  assert.ok(ids.length < text.length / 2, `compresses: ${ids.length} tokens for ${text.length} chars`);
  const r = tokenizerFromJSON(JSON.parse(JSON.stringify(a.toJSON())));
  assert.deepEqual(r.encode(text, { allowedSpecial: 'all' }), ids);
  // the same merges applied the tiktoken way and the minbpe way agree on training text
  const basic = trainBPE(text, { vocabSize: 400, pattern: null });
  assert.equal(basic.decode(basic.encode(text)), wellFormed(text));
});

test('BPE training: vocab too small is an error, too large stops early', () => {
  assert.throws(() => trainBPE('abc', { vocabSize: 100 }), /too small/);
  const t = trainBPE('abab abab', { vocabSize: 5000 });
  assert.ok(t.vocabSize < 5000 && t.vocabSize >= 256);
  assert.throws(() => BPETokenizer.fromMerges([300, 1]), /does not exist yet/);
  assert.throws(() => tokenizerFromJSON({ type: 'bpe', merges: 'x' }, 'ck/tokenizer.json'), /ck\/tokenizer\.json: .*merges/);
  assert.throws(() => tokenizerFromJSON({ type: 'nope' }, 'f.json'), /f\.json: unknown tokenizer type "nope"/);
  assert.throws(() => tokenizerFromJSON(null, 'f.json'), /must be an object/);
});

/** lone surrogates → U+FFFD, what UTF-8 (and so every byte-level tokenizer) turns them into */
function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udfff]/gu, '\ufffd');
}

test('binaryToText: well-formed UTF-8 only, so token text ↔ bytes stays one-to-one', async () => {
  const { binaryToText } = await import('../src/tokenizers/utf8.js');
  assert.equal(binaryToText('abc'), 'abc');
  assert.equal(binaryToText('\xe4\xb8\xad\xf0\x9f\x98\x80'), '中😀');
  for (const bad of ['\xc0\xaf', '\xe0\x80\xaf', '\xed\xa0\x80', '\xf4\x90\x80\x80', '\xe4\xb8', '\x80', '\xff']) {
    assert.equal(binaryToText(bad), null, JSON.stringify(bad));
  }
});
