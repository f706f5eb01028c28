// Fixes from a new-user trial: a TSV pair line with both sides blank is refused, not skipped; word-vector files
// are read by their content whatever their name; eval reports bits per character beside bits per byte; and
// `embed neighbors` on a one-word vocabulary says so instead of printing nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseParallelPairs } from '../src/data/parallel-corpus.js';
import { loadVectors } from '../src/embeddings/vectors-file.node.js';
import { writeWord2VecBinary, writeWord2VecText } from '../src/embeddings/word2vec-format.js';
import { WordVectors } from '../src/embeddings/vectors.js';
import { evaluateText, scoredSpan } from '../src/eval/evaluate.js';
import type { LanguageModel } from '../src/models/model.js';
import { BPETokenizer, CharTokenizer } from '../src/tokenizers/index.js';
import { ok, refused } from './helpers/cli-result.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'gptlab-trial-'));
const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const gptlab = (...args: string[]): { code: number; out: string; err: string } => {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', cwd: tmp, timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
};
const near = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

test('pair files: a TSV line with both sides blank names file and line; empty lines are still skipped', () => {
  const lines = 'the cat\tle chat\n\n   \n   \t  \n';
  assert.throws(() => parseParallelPairs(lines, 'p.tsv'), /^Error: p\.tsv:4: empty source and target sides$/);
  assert.throws(() => parseParallelPairs('a\tb\n\t\n', 'p.tsv'), /^Error: p\.tsv:2: empty source and target sides$/);
  assert.throws(() => parseParallelPairs('a\tb\nthe cat\t   \n', 'p.tsv'), /^Error: p\.tsv:2: empty target side$/);
  assert.deepEqual(parseParallelPairs('a\tb\n\n  \n\r\nc\td\n', 'p.tsv').map((p) => p.line), [1, 5]);
  assert.throws(() => parseParallelPairs('{"src": "a", "tgt": "b"}\n{"src": " ", "tgt": ""}\n', 'p.jsonl'), /^Error: p\.jsonl:2: empty source and target sides$/);
  assert.equal(parseParallelPairs('{"src": "a", "tgt": "b"}\n \t \n', 'p.jsonl').length, 1);
});

test('pair files: the seq2seq CLI refuses a both-blank line with one line and exit 1', () => {
  const pairs = path.join(tmp, 'pairs.tsv');
  writeFileSync(pairs, 'the cat\tle chat\n   \t  \n');
  refused(gptlab('seq2seq', 'train', '--data', pairs, '--out', path.join(tmp, 's2s')), 1, /^gptlab: error: .*pairs\.tsv:2: empty source and target sides$/);
});

const vectors = new WordVectors(['</s>', 'paris', 'rome'], 3, Float32Array.from([0.001, -0.002, 0.5, 0.5, 0.25, -1, 0.125, 3, 7]));

test('vector files: binary and text are told apart by content, whatever the extension', () => {
  for (const [bytes, kind] of [[writeWord2VecBinary(vectors), 'bin'], [new TextEncoder().encode(writeWord2VecText(vectors)), 'text']] as const) {
    for (const name of ['x.bin', 'x.txt', 'x.vec', 'x.data']) {
      const file = path.join(tmp, `${kind}-${name}`);
      writeFileSync(file, bytes);
      const v = loadVectors(file);
      assert.deepEqual(v.words, vectors.words, file);
      assert.deepEqual(Array.from(v.data), Array.from(vectors.data), file);
    }
  }
  const gensim = writeWord2VecBinary(vectors).filter((_, i, a) => !(a[i] === 0x0a && i > 4)); // no record newlines
  writeFileSync(path.join(tmp, 'gensim.txt'), gensim);
  assert.deepEqual(loadVectors(path.join(tmp, 'gensim.txt')).words, vectors.words);
});

test('vector files: a file that is neither format keeps the precise error of the format it looks like', () => {
  const bad = (name: string, content: string | Uint8Array, re: RegExp) => {
    const file = path.join(tmp, name);
    writeFileSync(file, content);
    assert.throws(() => loadVectors(file), (e: Error) => re.test(e.message) && !e.message.includes('\n'), name);
  };
  bad('bad-text.bin', '2 2\na 1 2\nb 1\n', /bad-text\.bin:3: word "b" has 1 values, the header says 2 dimensions$/);
  bad('bad-text.txt', '2 2\na 1 2\nb 1 zz\n', /bad-text\.txt:3: value 2 of word "b" is not a finite number: "zz"$/);
  bad('latin1.txt', Uint8Array.from([...new TextEncoder().encode('1 2\ncaf'), 0xe9, ...new TextEncoder().encode(' 1 2\n')]), /latin1\.txt: invalid UTF-8 at byte 7 \(line 2\).*iconv/);
  const bin = writeWord2VecBinary(vectors);
  bad('short-bin.txt', bin.subarray(0, bin.length - 6), /short-bin\.txt: byte \d+: truncated: word 3 of 3 \("rome"\) needs 12 bytes of vector, \d+ left$/);
  bad('header.vec', 'three words\n', /header\.vec:1: the header must be "WORDS DIMENSIONS"/);
});

/** a model whose logits are all zeros (uniform over V) */
function uniformModel(V: number, blockSize: number): LanguageModel {
  const m = {
    config: { vocabSize: V, blockSize },
    toStorage: () => m,
    eval: () => m,
    forward: (_x: Int32Array, B: number, T: number) => ({ logits: { data: new Float32Array(B * T * V) } }),
  };
  return m as unknown as LanguageModel;
}

test('evaluateText: bits per character is loss / ln 2 for a char tokenizer and counts code points for bytes', () => {
  const chars = new CharTokenizer(['a', 'b', '明']);
  const r = evaluateText(uniformModel(3, 4), chars, 'ab明ab明明a');
  near(r.bitsPerChar, r.loss / Math.LN2);
  near(r.bitsPerByte, (r.loss * r.tokens) / (13 * Math.LN2)); // 7 scored characters, 3 of them 3 bytes
  // byte-level BPE, the first token holding 1 of the 3 bytes of "，": the scored tokens finish it and add 明明
  const bpe = BPETokenizer.fromMerges([97, 98, 256, 99, 257, 100], { pattern: null });
  const ids = bpe.encode('，明明');
  assert.deepEqual(scoredSpan(bpe, ids), { bytes: 8, chars: 3 });
  assert.deepEqual(scoredSpan(bpe, ids.slice(3)), { bytes: 5, chars: 2 });
  const e = evaluateText(uniformModel(259, 4), bpe, '，明明');
  near(e.bitsPerChar, (8 * Math.log(259)) / (3 * Math.LN2));
});

test('CLI: eval prints bits/char beside bits/byte, and in --json', () => {
  const data = path.join(tmp, 'data.txt');
  writeFileSync(data, 'the cat sat on the mat. 猫坐在垫子上。\n'.repeat(40));
  const out = path.join(tmp, 'run');
  ok(gptlab('train', '--data', data, '--out', out, '--max-iters', '2', '--eval-interval', '2', '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', '--batch-size', '4', '--eval-iters', '1', '--threads', '1'), 'train');
  const e = gptlab('eval', out, '--data', data, '--threads', '1');
  ok(e, 'eval');
  assert.match(e.out, /\n {2}bits\/byte {3}\d+\.\d{4}\n {2}bits\/char {3}\d+\.\d{4}\n/);
  const j = JSON.parse(gptlab('eval', out, '--data', data, '--json', '--threads', '1').out);
  near(j.bitsPerChar, j.loss / Math.LN2, 1e-9 * j.bitsPerChar); // a character vocabulary: one token per character
  assert.ok(j.bitsPerByte < j.bitsPerChar, `${j.bitsPerByte} < ${j.bitsPerChar}`);
});

test('CLI: embed neighbors on a one-word vocabulary fails with one line, as analogy does', () => {
  const one = path.join(tmp, 'one.txt');
  writeFileSync(one, '1 2\nparis 1 0\n');
  refused(gptlab('embed', 'neighbors', one, 'paris'), 1, /^gptlab: error: embed neighbors: .*one\.txt: its vocabulary \(1 word\) has no word other than paris to list as a neighbour$/);
  refused(gptlab('embed', 'analogy', one, 'paris', 'paris', 'paris'), 1, /its vocabulary \(1 word\) has no word other than paris, paris and paris to answer with$/);
  const two = path.join(tmp, 'two.bin');
  writeFileSync(two, writeWord2VecText(new WordVectors(['a', 'b'], 2, Float32Array.from([1, 0, 0, 1]))));
  const n = gptlab('embed', 'neighbors', two, 'a');
  ok(n, 'neighbors on a text file named .bin');
  assert.match(n.out, /^b\s+0\.0000\n$/);
});
