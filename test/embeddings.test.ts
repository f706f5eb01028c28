import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CsrMatrix, DenseMatrix, Word2VecVocabulary, WordVectors, analogy, builtinAnalogies, cooccurrenceMatrix, corpusTokens, cosine, dot,
  embeddingCorpus, evaluateAnalogies, formatLf, keepProbabilities, nearestWords, parseAnalogyQuestions, ppmiMatrix,
  readWord2VecBinary, readWord2VecText, trainPpmiSvd, trainWord2Vec, truncatedSvd, unigramTable, writeWord2VecBinary,
  writeWord2VecText, unsegmentedTextNote,
} from '../src/embeddings/index.js';
import { jacobiSvd, thinQr } from '../src/embeddings/dense.js';
import { capturingOutput } from './helpers/cli-result.js';
import { matmul } from '../src/embeddings/sparse.js';
import { loadVectors, saveVectors } from '../src/embeddings/vectors-file.node.js';
import { embedCommand } from '../src/cli/embed.js';
import { Rng } from '../src/tensor/rng.js';
import { UsageError } from '../src/cli/args.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIX = path.join(here, '../../test/fixtures/word2vec');
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(FIX, name)));
const tmp = mkdtempSync(path.join(tmpdir(), 'gptlab-embed-'));

function prepare(text: string, minCount: number): { vocab: Word2VecVocabulary; ids: Int32Array } {
  const tokens = corpusTokens(text);
  const vocab = Word2VecVocabulary.fromTokens(tokens, minCount);
  return { vocab, ids: vocab.encode(tokens) };
}

test('vocabulary: word2vec tokens, </s> first, counts sorted, rare words dropped', () => {
  assert.deepEqual(corpusTokens('a b\n\nc\r\n'), ['a', 'b', '</s>', '</s>', 'c', '</s>']);
  const { vocab, ids } = prepare('the cat\nthe dog\n', 1);
  assert.deepEqual(vocab.words, ['</s>', 'the', 'cat', 'dog']);
  assert.deepEqual(Array.from(vocab.counts), [2, 2, 1, 1]);
  assert.deepEqual(Array.from(ids), [1, 2, 0, 1, 3, 0]);
  const v2 = Word2VecVocabulary.fromTokens(corpusTokens('the cat\nthe dog\n'), 2);
  assert.deepEqual(v2.words, ['</s>', 'the']);
  assert.deepEqual(Array.from(v2.encode(corpusTokens('the cat the'))), [1, 1]);
});

test('vocabulary: counts equal the original tool\'s -save-vocab on the same text', () => {
  const text = new TextDecoder().decode(fixture('corpus.txt'));
  const { vocab } = prepare(text, 2);
  const theirs = new TextDecoder().decode(fixture('c-vocab.txt')).trim().split('\n').map((l) => l.split(' '));
  assert.equal(vocab.size, theirs.length);
  assert.equal(theirs[0][0], '</s>');
  for (const [w, c] of theirs) assert.equal(vocab.counts[vocab.id(w)!], Number(c), w);
  for (let i = 2; i < vocab.size; i++) assert.ok(vocab.counts[i] <= vocab.counts[i - 1]);
});

test('co-occurrence: symmetric window, weightings, sentences kept apart', () => {
  // ids: sentence [1 2 3], then sentence [1]
  const ids = Int32Array.of(1, 2, 3, 0, 1);
  const m1 = cooccurrenceMatrix(ids, 4, { window: 1 });
  assert.deepEqual(Array.from(m1.toDense()), [0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0]);
  const m2 = cooccurrenceMatrix(ids, 4, { window: 2, weighting: 'harmonic' });
  assert.equal(m2.get(1, 3), 0.5);
  assert.equal(m2.get(3, 1), 0.5);
  assert.equal(cooccurrenceMatrix(ids, 4, { window: 2, weighting: 'linear' }).get(1, 3), 0.5);
  assert.throws(() => cooccurrenceMatrix(ids, 3), /id 3 at position 2 is outside the vocabulary of 3/);
});

test('PPMI of a hand-computed example, with and without context smoothing', () => {
  // counts [[0,2,1],[2,0,1],[1,1,0]]: row and column sums 3, 3, 2; D = 8
  const counts = CsrMatrix.fromEntries(3, 3, new Map([[1, 2], [2, 1], [3, 2], [5, 1], [6, 1], [7, 1]]));
  const p1 = ppmiMatrix(counts, { alpha: 1 });
  // PMI(0,1) = log(2·8/(3·3)) = log(16/9); PMI(0,2) = log(1·8/(3·2)) = log(4/3); PMI(2,0) = log(8/(2·3))
  assert.ok(Math.abs(p1.get(0, 1) - Math.log(16 / 9)) < 1e-12);
  assert.ok(Math.abs(p1.get(0, 2) - Math.log(4 / 3)) < 1e-12);
  assert.ok(Math.abs(p1.get(2, 0) - Math.log(4 / 3)) < 1e-12);
  assert.equal(p1.get(0, 0), 0);
  // α = 0.75: P_α(c) = #c^0.75 / (2·3^0.75 + 2^0.75) = 2.2795/6.2408 (c = 0, 1), 1.6818/6.2408 (c = 2)
  // PMI(0,1) = log((2/8) / ((3/8)·0.36526)) = log(1.82520) = 0.60168; PMI(0,2) = log((1/8)/((3/8)·0.26948)) = log(1.23694) = 0.21264
  const p75 = ppmiMatrix(counts);
  assert.ok(Math.abs(p75.get(0, 1) - 0.60168) < 1e-4, String(p75.get(0, 1)));
  assert.ok(Math.abs(p75.get(0, 2) - 0.21264) < 1e-4, String(p75.get(0, 2)));
  // shift k = 2 subtracts log 2 and clips: log(16/9) − log 2 < 0
  assert.equal(ppmiMatrix(counts, { alpha: 1, shift: 2 }).get(0, 1), 0);
  assert.throws(() => ppmiMatrix(counts, { alpha: 0 }), /alpha must be in \(0, 1\]/);
});

test('PPMI and truncated SVD agree with numpy on a real text (window 3, 1/d weights, α = 0.75)', () => {
  const ref = JSON.parse(new TextDecoder().decode(fixture('ppmi-reference.json'))) as { rows: Record<string, Record<string, number>>; singularValues: number[] };
  const { vocab, ids } = prepare(new TextDecoder().decode(fixture('corpus.txt')), 2);
  const ppmi = ppmiMatrix(cooccurrenceMatrix(ids, vocab.size, { window: 3, weighting: 'harmonic' }), { alpha: 0.75 });
  for (const [w, row] of Object.entries(ref.rows)) {
    const r = vocab.id(w)!;
    assert.equal(ppmi.rowPtr[r + 1] - ppmi.rowPtr[r], Object.keys(row).length, w);
    for (const [c, x] of Object.entries(row)) assert.ok(Math.abs(ppmi.get(r, vocab.id(c)!) - x) < 1e-12, `${w} ${c}`);
  }
  // randomized subspace iteration: the default 4 power iterations give the top 10 to ~5e-4 (relative) on
  // this spectrum (σ ≈ 31, 25.5, 18.69, 18.49, …: close pairs converge slowly); 16 iterations to ~1e-11
  for (const [q, tol] of [[4, 1e-3], [16, 1e-9]]) {
    const { s } = truncatedSvd(ppmi, 10, { powerIterations: q });
    ref.singularValues.forEach((x, i) => assert.ok(Math.abs(s[i] - x) < tol * x, `q ${q} σ${i}: ${s[i]} vs numpy ${x}`));
  }
});

test('thin QR and Jacobi SVD of small matrices', () => {
  const { q, r } = thinQr(Float64Array.of(3, 4), 2, 1);
  assert.deepEqual([...q].map((x) => +x.toFixed(12)), [0.6, 0.8]);
  assert.equal(r[0], 5);
  const { u, s, v } = jacobiSvd(Float64Array.of(0, 2, 3, 0), 2);
  assert.deepEqual([...s].map((x) => +x.toFixed(12)), [3, 2]);
  // A = U diag(s) Vᵀ
  const us = Float64Array.from(u, (x, i) => x * s[i % 2]);
  const vt = Float64Array.of(v[0], v[2], v[1], v[3]);
  assert.deepEqual([...matmul(us, vt, 2, 2, 2)].map((x) => +x.toFixed(12)), [0, 2, 3, 0]);
});

test('randomized truncated SVD recovers a low-rank matrix (dense and sparse)', () => {
  const rng = new Rng(5);
  const m = 40;
  const n = 30;
  const k = 4;
  const qa = thinQr(Float64Array.from({ length: m * k }, () => rng.normal()), m, k).q;
  const qb = thinQr(Float64Array.from({ length: n * k }, () => rng.normal()), n, k).q;
  const sv = [9, 5, 2, 0.5];
  const a = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let t = 0; t < k; t++) a[i * n + j] += qa[i * k + t] * sv[t] * qb[j * k + t];
  const entries = new Map<number, number>();
  a.forEach((x, i) => entries.set(i, x));
  for (const op of [new DenseMatrix(m, n, a), CsrMatrix.fromEntries(m, n, entries)]) {
    const r = truncatedSvd(op, k, { seed: 3 });
    sv.forEach((x, t) => assert.ok(Math.abs(r.s[t] - x) < 1e-9, `σ${t} ${r.s[t]}`));
    let err = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let x = 0;
        for (let t = 0; t < k; t++) x += r.u[i * k + t] * r.s[t] * r.v[j * k + t];
        err = Math.max(err, Math.abs(x - a[i * n + j]));
      }
    }
    assert.ok(err < 1e-9, `max reconstruction error ${err}`);
  }
  // rank 2 of a rank-4 matrix: the two largest singular values
  assert.deepEqual([...truncatedSvd(new DenseMatrix(m, n, a), 2).s].map((x) => +x.toFixed(8)), [9, 5]);
  assert.throws(() => truncatedSvd(new DenseMatrix(m, n, a), 31), /k must be a whole number in 1\.\.30/);
});

test('noise table ∝ count^0.75 and the original tool\'s subsampling formula', () => {
  assert.deepEqual(Array.from(unigramTable([100, 16, 1], 9)), [1, 1, 1, 1, 1, 1, 1, 1, 2]);
  const keep = keepProbabilities([0, 10_000, 1_000], 1_000_000, 1e-3);
  assert.ok(Math.abs(keep[1] - (Math.sqrt(10) + 1) * 0.1) < 1e-12);
  assert.equal(keep[2], 1);
  assert.deepEqual(Array.from(keepProbabilities([5, 5], 10, 0)), [1, 1]);
});

test('similarity: cosine, dot, neighbours without the query, 3CosAdd and 3CosMul', () => {
  assert.equal(dot([1, 2], [3, 4]), 11);
  assert.ok(Math.abs(cosine([1, 0], [1, 1]) - Math.SQRT1_2) < 1e-12);
  assert.equal(cosine([0, 0], [1, 1]), 0);
  const v = new WordVectors(['man', 'woman', 'king', 'queen', 'apple'], 2, Float32Array.of(1, 0, 1, 1, 3, 0, 3, 3, -1, 0.2));
  assert.deepEqual(nearestWords(v, 'king', 2).map((n) => n.word), ['man', 'woman']);
  assert.deepEqual(nearestWords(v, 'king', 1, 'dot').map((n) => n.word), ['queen']);
  assert.equal(analogy(v, 'man', 'king', 'woman')[0].word, 'queen');
  assert.equal(analogy(v, 'man', 'king', 'woman', 1, '3cosmul')[0].word, 'queen');
  assert.throws(() => nearestWords(v, 'pear'), /"pear" is not in the vocabulary \(5 words\)/);
  const qs = parseAnalogyQuestions(': royal\nman king woman queen\n\nman woman king queen\nman king pear queen\n', 'q.txt');
  const score = evaluateAnalogies(v, qs);
  assert.equal(score.covered, 2);
  assert.equal(score.correct, 2);
  assert.throws(() => parseAnalogyQuestions('a b c\n', 'q.txt'), /^Error: q\.txt:1: expected four words, got 3$/);
});

test('SGNS and CBOW on the built-in corpus: seeded, related words nearer than unrelated ones', () => {
  const { vocab, ids } = prepare(embeddingCorpus({ sentences: 4000, seed: 2 }), 5);
  for (const method of ['sgns', 'cbow'] as const) {
    const opts = { method, dim: 24, window: 5, negative: 5, epochs: 6, seed: 7 };
    const m = trainWord2Vec(vocab, ids, opts);
    const quick = { ...opts, dim: 8, epochs: 1 };
    assert.deepEqual(trainWord2Vec(vocab, ids, quick).vectors.data, trainWord2Vec(vocab, ids, quick).vectors.data, 'same seed, same vectors');
    assert.notDeepEqual(trainWord2Vec(vocab, ids, { ...quick, seed: 8 }).vectors.data, trainWord2Vec(vocab, ids, quick).vectors.data);
    const v = m.vectors;
    const c = (a: string, b: string): number => cosine(v.vector(a), v.vector(b));
    // each country is closer to its own capital and language than to another country's
    let wins = 0;
    const pairs: [string, string, string, string][] = [['france', 'paris', 'japan', 'tokyo'], ['italy', 'rome', 'sweden', 'stockholm'], ['poland', 'warsaw', 'china', 'beijing'], ['greece', 'greek', 'finland', 'finnish']];
    for (const [a, b, x, y] of pairs) wins += Number(c(a, b) > c(a, y)) + Number(c(x, y) > c(x, b));
    assert.ok(wins >= 7, `${method}: ${wins}/8 related pairs nearer`);
    assert.equal(analogy(v, 'france', 'paris', 'italy')[0].word, 'rome', method);
    // measured 0.899 (sgns) and 0.994 (cbow) with this seed
    const acc = evaluateAnalogies(v, builtinAnalogies()).accuracy;
    assert.ok(acc > 0.7, `${method}: analogy accuracy ${acc}`);
  }
  assert.throws(() => trainWord2Vec(vocab, ids, { dim: 0 }), /dim must be a whole number ≥ 1, got 0/);
});

test('PPMI + SVD on the built-in corpus answers the analogies', () => {
  const { vocab, ids } = prepare(embeddingCorpus({ sentences: 3000, seed: 2 }), 5);
  const m = trainPpmiSvd(vocab, ids, { dim: 30, window: 5 });
  assert.equal(analogy(m.vectors, 'france', 'paris', 'italy')[0].word, 'rome');
  const acc = evaluateAnalogies(m.vectors, builtinAnalogies()).accuracy;
  assert.ok(acc > 0.9, `accuracy ${acc}`);
  for (let i = 1; i < m.singularValues.length; i++) assert.ok(m.singularValues[i] <= m.singularValues[i - 1]);
});

test('%lf formatting as C prints it, and format round trips', () => {
  assert.equal(formatLf(0.0078125), '0.007812'); // a tie: glibc rounds half to even, toFixed would give 0.007813
  assert.equal(formatLf(0.0234375), '0.023438');
  assert.equal(formatLf(-1e-7), '-0.000000');
  assert.equal(formatLf(-0), '-0.000000');
  assert.equal(formatLf(2 ** 80), '1208925819614629174706176.000000');
  assert.throws(() => formatLf(NaN, 'x'), /word "x" has a value that is not finite/);
  const rng = new Rng(9);
  const v = new WordVectors(['</s>', 'paris', 'ümlaut', '東京'], 5, Float32Array.from({ length: 20 }, () => rng.normal()));
  const bin = writeWord2VecBinary(v);
  const back = readWord2VecBinary(bin, 'x.bin');
  assert.deepEqual(back.words, v.words);
  assert.deepEqual(back.data, v.data);
  const text = writeWord2VecText(v);
  const t = readWord2VecText(text, 'x.txt');
  assert.deepEqual(t.words, v.words);
  t.data.forEach((x, i) => assert.ok(Math.abs(x - v.data[i]) <= 5e-7 + 1e-7 * Math.abs(x)));
  assert.equal(writeWord2VecText(t), text);
  // text without the trailing spaces (as gensim writes it)
  assert.deepEqual(readWord2VecText(text.replace(/ \n/g, '\n')).data, t.data);
  assert.throws(() => writeWord2VecText(new WordVectors(['a b'], 1, Float32Array.of(1))), /words must be non-empty, without spaces/);
  // files: format by extension or by content
  saveVectors(path.join(tmp, 'v.bin'), v);
  saveVectors(path.join(tmp, 'v.vectors'), v);
  assert.deepEqual(loadVectors(path.join(tmp, 'v.bin')).data, v.data);
  assert.deepEqual(loadVectors(path.join(tmp, 'v.vectors')).words, v.words);
  writeFileSync(path.join(tmp, 'v.data'), bin);
  assert.deepEqual(loadVectors(path.join(tmp, 'v.data')).data, v.data);
});

test('gensim-style binary records without newlines load too', () => {
  const enc = new TextEncoder();
  const rec = (w: string, xs: number[]): Uint8Array[] => [enc.encode(w + ' '), new Uint8Array(Float32Array.from(xs).buffer)];
  const parts = [enc.encode('2 2\n'), ...rec('a', [1, 2]), ...rec('b', [3, 4])];
  const bytes = new Uint8Array(parts.reduce((s, x) => s + x.length, 0));
  let p = 0;
  for (const x of parts) (bytes.set(x, p), (p += x.length));
  const v = readWord2VecBinary(bytes, 'g.bin');
  assert.deepEqual(v.words, ['a', 'b']);
  assert.deepEqual(Array.from(v.data), [1, 2, 3, 4]);
});

test('files written by the original word2vec load exactly', () => {
  const bin = readWord2VecBinary(fixture('c-vectors.bin'), 'c-vectors.bin');
  const textFile = new TextDecoder().decode(fixture('c-vectors.txt'));
  const text = readWord2VecText(textFile, 'c-vectors.txt');
  assert.equal(bin.size, 163);
  assert.equal(bin.dim, 10);
  assert.deepEqual(text.words, bin.words);
  assert.equal(bin.words[0], '</s>');
  // the same run written both ways: our %lf printing of the binary floats is the tool's text file, byte for byte
  assert.equal(writeWord2VecText(bin), textFile);
  assert.deepEqual(writeWord2VecBinary(bin), fixture('c-vectors.bin'));
  text.data.forEach((x, i) => assert.ok(Math.abs(x - bin.data[i]) <= 5e-7));
  assert.deepEqual(loadVectors(path.join(FIX, 'c-vectors.bin')).data, bin.data);
});

test('the original distance and word-analogy programs read our binary file as we do', () => {
  const rec = JSON.parse(new TextDecoder().decode(fixture('c-tools-on-ours.json'))) as {
    distance: { output: { word: string; score: number }[] }; wordAnalogy: { output: { word: string; score: number }[] };
  };
  const v = loadVectors(path.join(FIX, 'ours.bin'));
  const near = nearestWords(v, 'paris', rec.distance.output.length);
  assert.deepEqual(near.map((n) => n.word), rec.distance.output.map((n) => n.word));
  near.forEach((n, i) => assert.ok(Math.abs(n.score - rec.distance.output[i].score) < 2e-6));
  const ana = analogy(v, 'france', 'paris', 'italy', rec.wordAnalogy.output.length);
  assert.deepEqual(ana.map((n) => n.word), rec.wordAnalogy.output.map((n) => n.word));
  ana.forEach((n, i) => assert.ok(Math.abs(n.score - rec.wordAnalogy.output[i].score) < 2e-6));
});

test('malformed text files: one line naming file and line', () => {
  const bad: [string, RegExp][] = [
    ['2 x\na 1\n', /^x\.txt:1: the header must be "WORDS DIMENSIONS"/],
    ['2 2\na 1 2\nb 1\n', /^x\.txt:3: word "b" has 1 values, the header says 2 dimensions$/],
    ['2 2\na 1 2\nb 1 zz\n', /^x\.txt:3: value 2 of word "b" is not a finite number: "zz"$/],
    ['2 2\na 1 2\nb 1 nan\n', /^x\.txt:3: value 2 of word "b" is not a finite number/],
    ['3 2\na 1 2\nb 1 2\n', /^x\.txt:4: the header announces 3 words, the file has 2$/],
    ['1 2\na 1 2\nb 1 2\n', /^x\.txt:3: more lines than the 1 words the header announces$/],
    ['2 2\na 1 2\na 3 4\n', /^x\.txt:3: word "a" already appeared on line 2$/],
    ['2 2\na 1 2\n\nb 1 2\n', /^x\.txt:3: expected a word and 2 values, got a blank line$/],
    ['2 2\na 1 2\n b 1 2\n', /^x\.txt:3: expected a word and 2 values, got a line starting with a space$/],
  ];
  for (const [text, re] of bad) assert.throws(() => readWord2VecText(text, 'x.txt'), (e: Error) => re.test(e.message) && !e.message.includes('\n'), text);
});

test('malformed binary files: one line naming file and byte offset', () => {
  const good = writeWord2VecBinary(new WordVectors(['a', 'bb', 'c'], 3, Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9)));
  // layout: "3 3\n" bytes 0–3 | "a " 4–5, floats 6–17, "\n" 18 | "bb " 19–21, floats 22–33, "\n" 34 | "c " 35–36, floats 37–48, "\n" 49
  assert.equal(good.length, 50);
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const withHeader = (h: string): Uint8Array => new Uint8Array([...enc(h), ...good.subarray(4)]);
  const bad: [Uint8Array, RegExp][] = [
    [new Uint8Array(0), /^x\.bin: byte 0: no header line .*the file is empty/],
    [enc('3 three\n'), /^x\.bin: byte 0: the header must be "WORDS DIMENSIONS"/],
    [good.subarray(0, 40), /^x\.bin: byte 37: truncated: word 3 of 3 \("c"\) needs 12 bytes of vector, 3 left$/],
    [good.subarray(0, 35), /^x\.bin: byte 35: the header announces 3 words, the file ends after 2$/],
    [good.subarray(0, 36), /^x\.bin: byte 35: word 3 of 3 has no space after it \(truncated file\)$/],
    [withHeader('4 3\n'), /^x\.bin: byte 50: the header announces 4 words, the file ends after 3$/],
    [withHeader('2 3\n'), /^x\.bin: byte 35: 15 bytes after the 2 words the header announces$/],
    [withHeader('3 2\n'), /^x\.bin: byte 14: word 2 of 3 contains control bytes; is the header's dimension 2 right\?$/],
    [withHeader('3 4\n'), /^x\.bin: byte 22: word 2 of 3 contains control bytes; is the header's dimension 4 right\?$/],
  ];
  for (const [bytes, re] of bad) assert.throws(() => readWord2VecBinary(bytes, 'x.bin'), (e: Error) => re.test(e.message) && !e.message.includes('\n'), String(bytes.length));
  assert.throws(() => loadVectors(path.join(tmp, 'missing.bin')), /missing\.bin: no such vector file/);
  writeFileSync(path.join(tmp, 'empty.txt'), '');
  assert.throws(() => loadVectors(path.join(tmp, 'empty.txt')), /empty\.txt: the vector file is empty/);
});

/** embedCommand in this process: its exit code and what it wrote (capturingOutput keeps the test report apart) */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { result, out, err } = await capturingOutput(() => embedCommand(argv));
  return { code: result, out, err };
}

test('CLI: embed train (built-in corpus), neighbors, analogy, questions, bad input', async () => {
  const bin = path.join(tmp, 'cli.bin');
  const r = await run(['train', '--method', 'ppmi-svd', '--dim', '30', '--sentences', '2000', '--out', bin, '--quiet']);
  assert.equal(r.code, 0);
  assert.match(r.out, /analogies: \d+\/720 correct/);
  assert.match(r.out, /france : paris :: italy : \?\s+rome/);
  const txt = path.join(tmp, 'cli.txt');
  assert.equal((await run(['train', '--method', 'cbow', '--dim', '16', '--epochs', '1', '--sentences', '500', '--out', txt, '--quiet'])).code, 0);
  assert.equal(loadVectors(txt).dim, 16);
  const n = await run(['neighbors', bin, 'paris', '-k', '3']);
  assert.equal(n.out.trim().split('\n').length, 3);
  assert.match((await run(['analogy', bin, 'france', 'paris', 'italy', '-k', '1'])).out, /^rome\s+0\.\d{4}\n$/);
  const q = path.join(tmp, 'q.txt');
  writeFileSync(q, ': capitals\nFrance Paris Italy Rome\nFrance Paris Narnia Cair\n');
  assert.match((await run(['analogy', bin, '--questions', q, '--lowercase'])).out, /analogies: 1\/1 correct \(100\.0%\), 1 of 2 not covered/);
  await assert.rejects(run(['train', '--method', 'glove']), /--method must be one of sgns, cbow, ppmi-svd, got "glove"/);
  await assert.rejects(run(['train', '--dim', 'x']), /--dim must be a whole number/);
  await assert.rejects(run(['analogy', bin, 'france', 'paris']), /give three words A B C/);
  await assert.rejects(run(['neighbors', bin, 'atlantis']), /"atlantis" is not in the vocabulary/);
  await assert.rejects(run(['frobnicate']), /unknown subcommand "frobnicate"/);
});

test('CLI: embed train checks --sample, --alpha, --cds before reading the data, naming the flag', async () => {
  const missing = path.join(tmp, 'no-such-text.txt');
  for (const [argv, re] of [
    [['--sample', '-1'], /^embed train: --sample must be at least 0, got -1$/],
    [['--alpha', '0'], /^embed train: --alpha must be greater than 0, got 0$/],
    [['--method', 'ppmi-svd', '--cds', '0'], /^embed train: --cds must be in \(0, 1\], got 0$/],
    [['--method', 'ppmi-svd', '--cds', '1.5'], /^embed train: --cds must be in \(0, 1\], got 1\.5$/],
    [['--weighting', 'cubic'], /^embed train: --weighting must be one of uniform, harmonic, linear, got "cubic"$/],
  ] as const) {
    await assert.rejects(run(['train', '--data', missing, ...argv, '--out', path.join(tmp, 'never.txt')]), (e: Error) => re.test(e.message), argv.join(' '));
  }
});

test('CLI: embed train ppmi-svd refuses a --dim above the vocabulary, lowers the default with a note; --quiet silences words/s', async () => {
  const data = path.join(tmp, 'small.txt'), out = path.join(tmp, 'small-vectors.txt');
  writeFileSync(data, 'the cat sat on the mat\nthe dog sat on the log\na cat and a dog\n');
  const base = ['train', '--data', data, '--min-count', '1', '--method', 'ppmi-svd', '--out', out];
  await assert.rejects(run([...base, '--dim', '5000']), /^Error: embed train: --dim 5000 is too large: the vocabulary of .*small\.txt \(min count 1\) has 10 words, and ppmi-svd gives at most one dimension per word; use --dim 10 or less$/);
  assert.throws(() => readFileSync(out), /ENOENT/, 'nothing written');
  const r = await run(base);
  assert.equal(r.code, 0);
  assert.match(r.err, /note: the default --dim 100 is lowered to 10/);
  assert.equal(loadVectors(out).dim, 10);
  const sg = ['train', '--data', data, '--min-count', '1', '--dim', '4', '--epochs', '1', '--force', '--out', out];
  assert.match((await run(sg)).err, /words\/s/);
  const quiet = await run([...sg, '--quiet']);
  assert.equal(quiet.code, 0);
  assert.doesNotMatch(quiet.err, /words\/s/);
  assert.match(quiet.err, /^wrote .*small-vectors\.txt: 10 words × 4 dimensions/m);
});

const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** `gptlab embed train ARGV` in a child process: exit code, stdout, stderr */
function gptlabEmbedTrain(...argv: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [main, 'embed', 'train', ...argv], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('CLI: embed train refuses to write over its --data file (even with --force), and a diverged run writes nothing', () => {
  const data = path.join(tmp, 'own-input.txt');
  const text = 'the cat sat on the mat\nthe dog sat on the log\na cat and a dog\n';
  writeFileSync(data, text);
  const r = gptlabEmbedTrain('--data', data, '--min-count', '1', '--out', data, '--force');
  assert.equal(r.code, 2);
  assert.match(r.err, /^gptlab: embed train: --out .*own-input\.txt is the --data file, which the output would overwrite; give another --out\n$/);
  assert.equal(readFileSync(data, 'utf8'), text);
  const out = path.join(tmp, 'diverged.txt');
  const d = gptlabEmbedTrain('--data', data, '--min-count', '1', '--alpha', '1e30', '--out', out, '--quiet');
  assert.equal(d.code, 1);
  assert.match(d.err, /^gptlab: error: embed train: training diverged: the vector of "[^"]+" became (NaN|-?Infinity) at --alpha 1e\+30; nothing written, try a lower --alpha$/m);
  assert.equal(existsSync(out), false);
});

test('CLI: embed train refuses, before any work, a command-line flag of the other method, and --sentences with --data; --config keys are not refused', () => {
  const missing = path.join(tmp, 'no-such-corpus.txt'), never = path.join(tmp, 'never-written.txt');
  for (const [argv, line] of [
    [['--cds', '0.5'], 'embed train: --cds does not apply to --method sgns (the default), only to ppmi-svd; drop it or use --method ppmi-svd'],
    [['--method', 'cbow', '--eigen-power', '1', '--weighting', 'linear'], 'embed train: --eigen-power, --weighting do not apply to --method cbow, only to ppmi-svd; drop them or use --method ppmi-svd'],
    [['--method', 'ppmi-svd', '--negative', '3', '--epochs', '2', '--sample', '0', '--alpha', '0.1'], 'embed train: --negative, --epochs, --sample, --alpha do not apply to --method ppmi-svd, only to sgns and cbow; drop them or use --method sgns or cbow'],
    [['--method', 'ppmi-svd', '--epochs', '1'], 'embed train: --epochs does not apply to --method ppmi-svd, only to sgns and cbow; drop it or use --method sgns or cbow'],
    [['--sentences', '100'], `embed train: --sentences does not apply with --data ${missing}, only to the built-in corpus (no --data); drop it`],
  ] as const) {
    // the --data file does not exist: the refusal comes before it is read, and nothing is written
    const r = gptlabEmbedTrain('--data', missing, ...argv, '--out', never);
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.err, `gptlab: ${line}\n`, argv.join(' '));
    assert.equal(r.out, '');
    assert.equal(existsSync(never), false);
  }
  const data = path.join(tmp, 'tiny.txt');
  writeFileSync(data, 'the cat sat on the mat\nthe dog sat on the log\na cat and a dog\n');
  // a method given in a config file decides which command-line flags are refused
  const ppmiConfig = path.join(tmp, 'ppmi.json');
  writeFileSync(ppmiConfig, JSON.stringify({ method: 'ppmi-svd' }));
  const viaConfig = gptlabEmbedTrain('--config', ppmiConfig, '--data', data, '--epochs', '2', '--out', never);
  assert.equal(viaConfig.code, 2);
  assert.match(viaConfig.err, /^gptlab: embed train: --epochs does not apply to --method ppmi-svd, only to sgns and cbow/);
  // a config file shared by both methods (and the built-in corpus): its keys for the other method are ignored
  const shared = path.join(tmp, 'shared.json');
  writeFileSync(shared, JSON.stringify({ cds: 0.5, eigen_power: 1, weighting: 'linear', negative: 2, epochs: 1, sample: 0, alpha: 0.05, sentences: 100, min_count: 1, dim: 4 }));
  for (const method of ['ppmi-svd', 'sgns']) {
    const out = path.join(tmp, `shared-${method}.txt`);
    const r = gptlabEmbedTrain('--config', shared, '--data', data, '--method', method, '--out', out, '--quiet');
    assert.equal(r.code, 0, r.err);
    assert.equal(loadVectors(out).dim, 4);
  }
  // each method's own flags on the command line are taken
  const ppmiOut = path.join(tmp, 'own-ppmi.txt'), cbowOut = path.join(tmp, 'own-cbow.txt');
  const own = gptlabEmbedTrain('--data', data, '--min-count', '1', '--dim', '3', '--method', 'ppmi-svd', '--cds', '0.5', '--eigen-power', '1', '--weighting', 'uniform', '--out', ppmiOut);
  assert.equal(own.code, 0, own.err);
  assert.match(own.err, /^wrote .*own-ppmi\.txt: 10 words × 3 dimensions/m);
  const cbow = gptlabEmbedTrain('--data', data, '--min-count', '1', '--dim', '3', '--method', 'cbow', '--negative', '2', '--epochs', '1', '--sample', '0', '--alpha', '0.05', '--quiet', '--out', cbowOut);
  assert.equal(cbow.code, 0, cbow.err);
  assert.equal(loadVectors(cbowOut).dim, 3);
});

test('CLI: embed train: --dim and --eigen-power ranges, --out inside a run refused, a small built-in corpus skips the demo query', () => {
  const never = path.join(tmp, 'never-range.txt');
  for (const [argv, line] of [
    [['--dim', '2000000000'], 'embed train: --dim must be in [1, 10000], got 2000000000'],
    [['--method', 'ppmi-svd', '--eigen-power', '1e300'], 'embed train: --eigen-power must be in [0, 1], got 1e+300'],
    [['--method', 'ppmi-svd', '--eigen-power', '-1'], 'embed train: --eigen-power must be in [0, 1], got -1'],
  ] as const) {
    const r = gptlabEmbedTrain(...argv, '--out', never);
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.err, `gptlab: ${line}\n`);
    assert.equal(existsSync(never), false);
  }
  const run = path.join(tmp, 'a-run');
  mkdirSync(path.join(run, 'checkpoint'), { recursive: true });
  writeFileSync(path.join(run, 'checkpoint', 'config.json'), JSON.stringify({ format: 'gptlab-checkpoint' }));
  const inRun = gptlabEmbedTrain('--sentences', '50', '--out', path.join(run, 'vec.txt'));
  assert.equal(inRun.code, 2);
  assert.match(inRun.err, /^gptlab: embed train: --out .*vec\.txt: lies in the gptlab run or checkpoint folder .*a-run, which is never written to by another command; give a path outside it\n$/);
  assert.equal(existsSync(path.join(run, 'vec.txt')), false);
  const out = path.join(tmp, 'small-builtin.txt');
  const small = gptlabEmbedTrain('--sentences', '200', '--dim', '8', '--epochs', '1', '--quiet', '--out', out);
  assert.equal(small.code, 0, small.err);
  assert.match(small.out, /^\(no demo query: "paris" not in the vocabulary of \d+ words; more --sentences or a lower --min-count keep them\)$/m);
  assert.equal(loadVectors(out).dim, 8);
});

test('CLI: embed analogy --restrict N: only the first N words are answers (gensim restrict_vocab); a, b, c may lie beyond', async () => {
  // b − a + c points at d (row 3); x (row 2) is the best answer among the first 3 rows; c is row 4
  const words = ['a', 'b', 'x', 'd', 'c'];
  const rows = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [-0.3, 1, 0.7], [1, 0, 1]];
  const file = path.join(tmp, 'restrict.txt');
  saveVectors(file, new WordVectors(words, 3, Float32Array.from(rows.flat())));
  assert.match((await run(['analogy', file, 'a', 'b', 'c', '-k', '1'])).out, /^d\s/);
  assert.match((await run(['analogy', file, 'a', 'b', 'c', '-k', '1', '--restrict', '3'])).out, /^x\s/);
  assert.equal((await run(['analogy', file, 'a', 'b', 'c', '-k', '5', '--restrict', '4'])).out.trim().split('\n').length, 2);
  assert.match((await run(['analogy', file, 'a', 'b', 'c', '--method', '3cosmul', '-k', '1', '--restrict', '3'])).out, /^x\s/);
  assert.match((await run(['analogy', file, 'a', 'b', 'c', '--restrict', '99'])).out, /^d\s/);
  await assert.rejects(run(['analogy', file, 'a', 'b', 'c', '--restrict', '0']), /^Error: embed analogy: --restrict must be at least 1, got 0$/);
  await assert.rejects(run(['analogy', file, 'a', 'b', 'x', '--restrict', '2']), /--restrict 2 leaves no candidate answer besides a, b and x/);
});

test('CLI: a 3-word vocabulary names the vocabulary, not --restrict; a value beyond float32 is refused; unsegmented text gets a note', async () => {
  const three = path.join(tmp, 'three.txt');
  writeFileSync(three, '3 2\na 1 0\nb 0 1\nc 1 1\n');
  await assert.rejects(run(['analogy', three, 'a', 'b', 'c']), (e: Error) => /embed analogy: .*three\.txt: its vocabulary \(3 words\) has no word other than a, b and c to answer with$/.test(e.message) && !/--restrict/.test(e.message) && !(e instanceof UsageError));
  await assert.rejects(run(['analogy', three, 'a', 'b', 'c', '--restrict', '2']), /its vocabulary \(3 words\) has no word other than a, b and c/);
  const huge = path.join(tmp, 'huge.txt');
  writeFileSync(huge, '2 2\na 1 0\nb 1e39 1\n');
  assert.throws(() => loadVectors(huge), /huge\.txt:3: value 1 of word "b" is 1e39, beyond the range of a 32-bit float \(±3\.4e38\)/);
  await assert.rejects(run(['neighbors', huge, 'a']), /huge\.txt:3: value 1 of word "b" is 1e39/);
  // text without spaces: each line is one "word"
  const zh = path.join(tmp, 'zh.txt');
  writeFileSync(zh, Array.from({ length: 30 }, (_, i) => `我们今天去北京看电影了第${i}次`).join('\n') + '\n');
  const r = await run(['train', '--data', zh, '--out', path.join(tmp, 'zh-vectors.txt'), '--min-count', '1', '--dim', '4', '--epochs', '1']);
  assert.match(r.err, /note: .*zh\.txt: the median "word" is 1\d characters long; .*give pre-segmented text, with words separated by spaces/);
  assert.equal(unsegmentedTextNote(corpusTokens('the cat sat on the mat\nthe dog sat on the log\n'.repeat(5)), 'en'), null);
  assert.match(unsegmentedTextNote(corpusTokens(Array.from({ length: 25 }, (_, i) => `w${i}`).join(' ')), 'x') ?? '', /25 of its 25 "words" are distinct/);
});
