import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChineseTokenizer, WordTokenizer, BagOfWords, CharTokenizer, tokenStats, tokenizerFromJSON, decodeUtf8Strict } from '../src/tokenizers/index.js';

const POEMS = ['床前明月光，疑是地上霜。举头望明月，低头思故乡。', '春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。', '白日依山尽，黄河入海流。欲穷千里目，更上一层楼。', '明月松间照，清泉石上流。故乡今夜思千里，明月何时照我还。'];
const CHINESE = Array.from({ length: 30 }, (_, i) => POEMS[i % POEMS.length]).join('\n');

test('chinese: byte fallback for unseen characters, exact decode', () => {
  const tok = ChineseTokenizer.train(CHINESE, 400);
  const text = '床前明月光，鑫鑫😀 hello\n举头';
  const ids = tok.encode(text);
  assert.equal(tok.decode(ids), text);
  const pieces = tok.encode('鑫').map((id) => tok.idToToken(id));
  assert.deepEqual(pieces, ['<0xE9>', '<0x91>', '<0xAB>']);
  assert.equal(tok.idToToken(tok.encode('明')[0]), '明');
  const back = tokenizerFromJSON(JSON.parse(JSON.stringify(tok.toJSON())));
  assert.deepEqual(back.encode(text), ids);
  assert.throws(() => ChineseTokenizer.train(CHINESE, 200), /too small/);
});

test('chinese: words learned from data, maximum-probability segmentation', () => {
  const tok = ChineseTokenizer.train(CHINESE, 1000, { words: true, minCount: 5 });
  const seg = tok.segment('举头望明月，低头思故乡');
  assert.ok(seg.includes('明月'), seg.join('/'));
  assert.equal(seg.join(''), '举头望明月，低头思故乡');
  const text = '明月照故乡，鑫\n';
  assert.equal(tok.decode(tok.encode(text)), text);
  assert.ok(tok.encode(CHINESE).length < Array.from(CHINESE).length);
});

test('word tokenizer, bag of words, char tokenizer, stats', () => {
  const w = WordTokenizer.train("the cat sat on the mat. The cat's hat!", 50);
  assert.equal(w.decode(w.encode('the cat sat')), 'the cat sat');
  assert.equal(w.decode(w.encode('the dog')), 'the <unk>');
  const bow = BagOfWords.fit(['the cat sat', 'the dog']);
  assert.deepEqual(bow.vocab, ['the', 'cat', 'sat', 'dog']);
  assert.deepEqual(Array.from(bow.transform('The the dog, bird')), [2, 0, 0, 1]);
  const c = CharTokenizer.fromText('hello ', ['<|endoftext|>']);
  assert.deepEqual(c.encode('hel<|endoftext|>', { allowedSpecial: 'all' }), [2, 1, 3, 5]);
  const s = tokenStats(c, 'hello hello');
  assert.equal(s.tokens, 11);
  assert.equal(s.words, 2);
  assert.equal(s.tokensPerWord, 5.5);
  assert.equal(s.bytesPerToken, 1);
});

test('invalid UTF-8 is reported with line and byte offset', () => {
  const bytes = new Uint8Array([...new TextEncoder().encode('ok\nline two '), 0xc3, 0x28, 0x0a]);
  assert.throws(() => decodeUtf8Strict(bytes, 'data.txt'), /data\.txt: invalid UTF-8 at byte 12 \(line 2\)/);
  assert.equal(decodeUtf8Strict(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])), 'a');
});

test('CLI: tokenize --ids/--stats/view, tokenizer train, bad flags', () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const mod = path.join(here, '../src/cli/tokenize.js');
  const run = (fn: string, args: string[], input?: string) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', `import { ${fn} } from ${JSON.stringify(mod)}; process.exitCode = await ${fn}(${JSON.stringify(args)});`], { input, encoding: 'utf8' });
  let r = run('tokenizeCommand', ['hello world', '--ids']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '[15339,1917]');
  r = run('tokenizeCommand', ['--encoding', 'gpt2', '--ids'], 'Hello world');
  assert.equal(r.stdout.trim(), '[15496,995]');
  r = run('tokenizeCommand', ['hi 😀', '--color']);
  assert.match(r.stdout, /\x1b\[48;5;\d+m/);
  assert.match(r.stdout, /😀/);
  r = run('tokenizeCommand', ['hello world', '--stats']);
  assert.match(r.stdout, /tokens per char\s+0\.1818/);
  r = run('tokenizeCommand', ['--bogus']);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /unknown option --bogus/);

  const dir = mkdtempSync(path.join(tmpdir(), 'tok-'));
  const data = path.join(dir, 'data.txt');
  writeFileSync(data, 'the quick brown fox jumps over the lazy dog\n'.repeat(50));
  const out = path.join(dir, 'tok.json');
  r = run('tokenizerCommand', ['train', '--type', 'bpe', '--vocab-size', '300', '--data', data, '--out', out, '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const tok = tokenizerFromJSON(JSON.parse(readFileSync(out, 'utf8')));
  assert.equal(tok.decode(tok.encode('the lazy fox')), 'the lazy fox');
  r = run('tokenizeCommand', ['--tokenizer', out, '--ids', 'the dog']);
  assert.deepEqual(JSON.parse(r.stdout), tok.encode('the dog'));
  r = run('tokenizerCommand', ['train', '--type', 'bpe', '--vocab-size', '10', '--data', data, '--out', out]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /too small/);
  writeFileSync(data, Buffer.from([0x61, 0xff, 0x0a]));
  r = run('tokenizerCommand', ['train', '--type', 'char', '--vocab-size', '10', '--data', data, '--out', out]);
  assert.match(r.stderr, /invalid UTF-8 at byte 1 \(line 1\)/);
  writeFileSync(out, '{"type": "bpe", "merges": [1, 2, 3');
  r = run('tokenizeCommand', ['--tokenizer', out, 'x']);
  assert.match(r.stderr, /tok\.json: not valid JSON/);
  void execFileSync;
});

test('char tokenizer: a character outside the vocabulary is refused saying which characters the model knows', () => {
  const t = CharTokenizer.fromText('hello world');
  assert.throws(() => t.encode('hello!'), /character "!" \(U\+0021\) is not in the vocabulary of this character-level model \(8 characters, those of its training text\): it knows only " dehlorw"; leave the character out or replace it/);
});
