// `gptlab embed` under flag values far out of range (src/cli/embed.ts): none makes it run for hours or die in
// V8. --sentences and --negative have upper bounds; a window never reaches past a sentence (results for the
// windows that fit are the same as before, pinned below by the original code's output); a run estimated at
// more than an hour is refused at once naming the flags; Ctrl-C says that nothing was written; query words
// missing from a vector file are usage errors naming the file; -k with --questions gets a note.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ok, refused } from './helpers/cli-result.js';
import { MAX_SENTENCES } from '../src/cli/embed.js';
import { checkCorpusMemory, embedWorkProblem, textShape, type TextShape } from '../src/cli/embed-estimates.js';
import { cooccurrenceMatrix, cooccurrencePairs, longestSentence } from '../src/embeddings/cooccurrence.js';
import { topK } from '../src/embeddings/similarity.js';
import { WordVectors } from '../src/embeddings/vectors.js';
import { Rng } from '../src/tensor/rng.js';

const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-embed-bounds-'));
const run = (...args: string[]): { code: number; out: string; err: string; seconds: number } => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [main, 'embed', ...args], { encoding: 'utf8', cwd: tmp, timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr, seconds: (performance.now() - t0) / 1000 };
};
const sha = (file: string): string => createHash('sha256').update(fs.readFileSync(path.join(tmp, file))).digest('hex').slice(0, 16);

// 109 sentences of 11 words drawn by a linear congruential generator (its low bits pick 10 of the 20 words, five
// of them nearly always): 1,308 tokens with the newlines
const WORDS = 'the cat sat on a mat and dog ran to big red house with small green tree near old river'.split(' ');
let lcg = 1;
const text = Array.from({ length: 109 }, () => Array.from({ length: 11 }, () => WORDS[(lcg = (lcg * 1103515245 + 12345) % 2147483648) % WORDS.length]).join(' ')).join('\n') + '\n';
fs.writeFileSync(path.join(tmp, 'text.txt'), text);

test('--sentences and --negative have upper bounds, refused at once naming the flag; the corpus is checked against the heap', () => {
  const never = 'never.txt';
  for (const [args, re] of [
    [['--sentences', '1e9'], /^gptlab: embed train: --sentences must be in \[1, 2000000\], got 1000000000$/],
    [['--data', 'text.txt', '--negative', '1e9'], /^gptlab: embed train: --negative must be in \[1, 100\], got 1000000000$/],
    [['--data', 'text.txt', '--negative', '101'], /^gptlab: embed train: --negative must be in \[1, 100\], got 101$/],
  ] as const) {
    const r = run('train', ...args, '--out', never);
    refused(r, 2, re, args.join(' '));
    assert.ok(r.seconds < 5, `${args.join(' ')}: refused in ${r.seconds} s`);
  }
  assert.ok(!fs.existsSync(path.join(tmp, never)));
  // the largest corpus fits a default heap (about 4 GiB on 64-bit machines); a small heap refuses it, naming --sentences
  checkCorpusMemory(MAX_SENTENCES, 4 * 2 ** 30);
  assert.throws(() => checkCorpusMemory(MAX_SENTENCES, 2 ** 30), /^Error: out of memory: the built-in corpus of 2,000,000 sentences \(its text, words and ids\) would need 0\.9 GiB \(more than 0\.8 GiB\); lower --sentences$/);
});

test('a window never reaches past a sentence: --window 1e9 runs at once; windows that fit give the vectors they gave before', () => {
  // the original code's output for these runs (sha-256 of the text file): windows that fit are unchanged
  const pinned: [string, string[]][] = [
    ['0f49dbe8b0245a75', ['--window', '3', '--backend', 'js', '--epochs', '2']],
    ['0f49dbe8b0245a75', ['--window', '3', '--backend', 'wasm', '--epochs', '2']],
    ['2789c18239d10f91', ['--window', '12', '--backend', 'js', '--epochs', '2']],
    ['2789c18239d10f91', ['--window', '12', '--backend', 'wasm', '--epochs', '2']],
    ['593cc74558264d78', ['--window', '12', '--method', 'cbow', '--backend', 'js', '--epochs', '2']],
    ['5ce6bc7901c0027c', ['--window', '1000', '--backend', 'wasm', '--epochs', '2']],
    ['ac71d67d7b516491', ['--window', '12', '--method', 'ppmi-svd']],
  ];
  pinned.forEach(([hash, args], i) => {
    ok(run('train', '--data', 'text.txt', '--min-count', '2', '--dim', '8', ...args, '--out', `pin${i}.txt`, '--quiet'), args.join(' '));
    assert.equal(sha(`pin${i}.txt`), hash, args.join(' '));
  });
  // sgns and cbow read sentences of at most 1000 words: a larger window trains as 1000
  for (const [method, same] of [['sgns', 'pin5.txt'], ['ppmi-svd', 'pin6.txt']]) {
    const r = run('train', '--data', 'text.txt', '--min-count', '2', '--dim', '8', '--method', method, ...(method === 'sgns' ? ['--epochs', '2', '--backend', 'wasm'] : []), '--window', '1e9', '--out', `huge-${method}.txt`, '--quiet');
    ok(r, method);
    assert.ok(r.seconds < 10, `${method} --window 1e9 took ${r.seconds} s`);
    // ppmi-svd's 1/d weights do not depend on the window: any window from the longest sentence on counts the same
    assert.equal(sha(`huge-${method}.txt`), sha(same), method);
  }
  // the counts: a window past the longest sentence visits the same pairs; linear weights keep the window given
  const ids = Int32Array.from([1, 2, 3, 0, 2, 3, 1, 1, 0, 3]);
  assert.equal(longestSentence(ids), 4);
  assert.equal(cooccurrencePairs(ids, 1e9), 3 + 6);
  assert.equal(cooccurrencePairs(ids, 2), 3 + 5);
  assert.deepEqual(cooccurrenceMatrix(ids, 4, { window: 1e9, weighting: 'harmonic' }), cooccurrenceMatrix(ids, 4, { window: 3, weighting: 'harmonic' }));
  assert.equal(cooccurrenceMatrix(ids, 4, { window: 1e9, weighting: 'linear' }).get(2, 1), 1 + (1e9 - 1) / 1e9 + (1e9 - 2) / 1e9);
});

test('a run estimated at more than an hour is refused before training, naming the flags that make it so', () => {
  const r = run('train', '--data', 'text.txt', '--epochs', '1e9', '--out', 'long.txt');
  assert.equal(r.code, 2, r.err);
  const lines = r.err.trim().split('\n');
  assert.equal(lines.length, 2, r.err);
  assert.match(lines[0], /^sgns on text\.txt: 1,308 tokens/);
  assert.match(lines[1], /^gptlab: embed train: --epochs 1000000000: training would take about [\d,]+ (hours|days|years) \(sgns: .* multiply-adds .*\); embed train refuses a run estimated at more than an hour: lower --epochs$/);
  assert.ok(r.seconds < 10, `refused in ${r.seconds} s`);
  assert.ok(!fs.existsSync(path.join(tmp, 'long.txt')));
  // the estimate itself, on texts too large to make here: the flags above their defaults, the largest first
  const shape = (sentences: number, words: number): TextShape => ({ lengths: new Map([[words, sentences]]), words: sentences * words, tokens: sentences * (words + 1) });
  const base = { method: 'sgns', words: 163, dim: 100, window: 5, negative: 5, epochs: 5, fast: true, threads: 1 };
  const builtinMax = shape(2_000_000, 8); // --sentences 2000000
  assert.equal(embedWorkProblem(builtinMax, base, new Set()), null, 'the defaults on the largest built-in corpus');
  assert.match(embedWorkProblem(builtinMax, { ...base, dim: 10000 }, new Set(['dim'])) ?? '', /^--dim 10000: training would take about \d+ hours .*: lower --dim$/);
  assert.match(embedWorkProblem(builtinMax, { ...base, dim: 2000, epochs: 500 }, new Set(['dim', 'epochs'])) ?? '', /^--epochs 500, --dim 2000: .*: lower --epochs or --dim$/);
  assert.match(embedWorkProblem(shape(1, 2_000_000), { ...base, method: 'ppmi-svd', window: 1e9, words: 30000 }, new Set(['window'])) ?? '', /^--window 1000000000: counting the word pairs would take about .* in sentences of up to 2,000,000 words.*: lower --window$/);
  assert.match(embedWorkProblem(shape(50_000, 20), { ...base, method: 'ppmi-svd', dim: 10000, words: 30000 }, new Set(['dim'])) ?? '', /^--dim 10000: the SVD would take about .*rank 10,010 of the 30,000 × 30,000 PPMI matrix.*: lower --dim$/);
  assert.equal(embedWorkProblem(shape(50_000, 20), { ...base, method: 'ppmi-svd', words: 30000 }, new Set()), null, 'ppmi-svd with the defaults');
  assert.deepEqual(textShape(Int32Array.from([0, 1, 2, 0, 0, 3])), { lengths: new Map([[2, 1], [1, 1]]), words: 3, tokens: 6 });
});

test('the other numeric flags: huge values finish at once or are refused naming the flag', () => {
  const vectors = 'v.txt';
  ok(run('train', '--data', 'text.txt', '--min-count', '1', '--dim', '4', '--epochs', '1', '--out', vectors, '--quiet'), 'vectors');
  const cases: [string[], number, RegExp][] = [
    [['train', '--data', 'text.txt', '--dim', '1e9', '--out', 'x.txt'], 2, /--dim must be in \[1, 10000\], got 1000000000$/],
    [['train', '--data', 'text.txt', '--min-count', '1e15', '--out', 'x.txt'], 1, /text\.txt: no word occurs --min-count 1000000000000000 times$/],
    [['train', '--data', 'text.txt', '--sample', '1e300', '--epochs', '1', '--out', 'x1.txt', '--quiet'], 0, /^wrote x1\.txt/m],
    [['train', '--data', 'text.txt', '--alpha', '1e300', '--out', 'x2.txt', '--quiet'], 1, /training diverged: .* nothing written, try a lower --alpha$/],
    [['train', '--data', 'text.txt', '--method', 'ppmi-svd', '--cds', '1e9', '--out', 'x.txt'], 2, /--cds must be in \(0, 1\], got 1000000000$/],
    [['train', '--data', 'text.txt', '--method', 'ppmi-svd', '--eigen-power', '1e9', '--out', 'x.txt'], 2, /--eigen-power must be in \[0, 1\], got 1000000000$/],
    [['train', '--data', 'text.txt', '--threads', '1e9', '--out', 'x.txt'], 2, /--threads must be in \[1, 16\], got 1000000000$/],
    [['neighbors', vectors, 'tree', '-k', '1e15'], 0, /^the\s/m],
    [['analogy', vectors, 'tree', 'ran', 'house', '-k', '1e15', '--restrict', '1e15'], 0, /^\S+\s+-?\d\.\d{4}$/m],
  ];
  for (const [args, code, re] of cases) {
    const r = run(...args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.err}`);
    assert.match(code === 0 ? r.out + r.err : r.err.trim().split('\n').at(-1)!, re, args.join(' '));
    assert.doesNotMatch(r.err, /\n\s+at /, args.join(' '));
    assert.ok(r.seconds < 10, `${args.join(' ')} took ${r.seconds} s`);
  }
  // -k past the vocabulary lists every other word once: 10 words and </s>, less the query
  assert.equal(run('neighbors', vectors, 'tree', '-k', '1e15').out.trim().split('\n').length, 10);
  assert.equal(run('analogy', vectors, 'tree', 'ran', 'house', '-k', '1e15').out.trim().split('\n').length, 8);
});

test('topK: a large k sorts once and keeps the order of the short list (score descending, ties by row)', () => {
  const rng = new Rng(3);
  const V = 500;
  const v = new WordVectors(Array.from({ length: V }, (_, i) => `w${i}`), 1, new Float32Array(V));
  const scores = Float32Array.from({ length: V }, () => Math.round(rng.random() * 40) / 40); // many ties
  const exclude = new Set([0, 7, 499]);
  const expected = Array.from({ length: V }, (_, i) => i).filter((i) => !exclude.has(i)).sort((a, b) => scores[b] - scores[a] || a - b);
  for (const k of [1, 10, 64, 65, 300, 497, 498, 1e15]) {
    assert.deepEqual(topK(v, scores, k, exclude).map((n) => n.word), expected.slice(0, k).map((i) => `w${i}`), `k ${k}`);
  }
});

test('embed train on Ctrl-C (SIGINT) exits 130 saying nothing was written and keeps the old --out; SIGTERM exits 143', async () => {
  const out = path.join(tmp, 'old.txt');
  fs.writeFileSync(out, 'the old vectors\n');
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    // about a minute of training (1,308 tokens × 10^6 epochs), stopped once it has started
    const child = spawn(process.execPath, [main, 'embed', 'train', '--data', 'text.txt', '--epochs', '1000000', '--out', out, '--force'], { cwd: tmp });
    let err = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no summary line: ${err}`)), 20_000);
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (/^sgns on text\.txt/m.test(err)) (clearTimeout(timer), resolve());
      });
    });
    await new Promise((r) => setTimeout(r, 300));
    child.kill(signal);
    assert.equal(await exited, code, err);
    assert.match(err.trim().split('\n').at(-1)!, new RegExp(`^embed train interrupted: nothing written \\(${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} kept as it was\\)$`), err);
    assert.equal(fs.readFileSync(out, 'utf8'), 'the old vectors\n');
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith('old.txt.')), [], 'no temp file left');
  }
});

test('a query word missing from the vector file is a usage error naming the file; -k with --questions is noted', () => {
  const vectors = 'q.txt';
  ok(run('train', '--data', 'text.txt', '--min-count', '1', '--dim', '4', '--epochs', '1', '--out', vectors, '--quiet'), 'vectors');
  refused(run('neighbors', vectors, 'zzz'), 2, /^gptlab: embed neighbors: "zzz" is not in the vocabulary of q\.txt \(11 words\)$/);
  refused(run('neighbors', vectors, 'Tree'), 2, /^gptlab: embed neighbors: "Tree" is not in the vocabulary of q\.txt \(11 words\); it has "tree"$/);
  refused(run('analogy', vectors, 'tree', 'xx', 'yy'), 2, /^gptlab: embed analogy: "xx" and "yy" are not in the vocabulary of q\.txt \(11 words\)$/);
  refused(run('analogy', vectors, 'zzz', 'zzz', 'tree'), 2, /^gptlab: embed analogy: "zzz" is not in the vocabulary of q\.txt \(11 words\)$/);
  fs.writeFileSync(path.join(tmp, 'questions.txt'), ': things\ntree ran house a\nthe a tree house\n');
  const plain = run('analogy', vectors, '--questions', 'questions.txt');
  ok(plain, 'questions');
  assert.equal(plain.err, '');
  const withK = run('analogy', vectors, '--questions', 'questions.txt', '-k', '3');
  ok(withK, 'questions -k 3');
  assert.equal(withK.out, plain.out, 'the score does not change');
  assert.equal(withK.err, 'note: -k 3 is ignored with --questions: each question counts as answered when its best answer (the top 1) is d, as compute-accuracy scores it\n');
});
