// `gptlab ngram train|query|sample` end to end: train → ARPA → query gives the library's perplexity (and KenLM
// query's on the same text), KenLM's own ARPA file (test/fixtures/ngram, scripts/fixtures/make_kenlm_fixture.sh)
// scored as KenLM's query scores it, sampling, add-k/mle reported but not written, and every bad input refused
// with one line (exit 2 for a flag, 1 for a file), no stack trace. --order is capped in train --arch ngram too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { NgramLM, readArpa, sentencesFromText } from '../src/lm/index.js';
import { ok, refused } from './helpers/cli-result.js';

const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const fixtures = fileURLToPath(new URL('../../test/fixtures/ngram/', import.meta.url));
const trainTxt = path.join(fixtures, 'train.txt'), testTxt = path.join(fixtures, 'test.txt');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-ngram-cli-'));
const run = (...args: string[]): { code: number; out: string; err: string } => {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', cwd: tmp, timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
};
const write = (name: string, text: string | Uint8Array): string => (fs.writeFileSync(path.join(tmp, name), text), name);
const near = (a: number, b: number, rel: number, what = ''): void => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${what}: ${a} vs ${b}`);
/** the summary lines query prints (KenLM's four and ours) */
const summary = (out: string): { ppl: number; pplNoOov: number; oovs: number; tokens: number; log10: number; totals: number[] } => {
  const get = (label: string): number => Number(new RegExp(`^${label}:\\t(\\S+)$`, 'm').exec(out)![1]);
  const totals = [...out.matchAll(/^Total: (\S+) OOV: \d+$/gm)].map((m) => Number(m[1]));
  return { ppl: get('Perplexity including OOVs'), pplNoOov: get('Perplexity excluding OOVs'), oovs: get('OOVs'), tokens: get('Tokens'), log10: get('Total log10 probability'), totals };
};
const train = sentencesFromText(fs.readFileSync(trainTxt, 'utf8'));
const heldOut = sentencesFromText(fs.readFileSync(testTxt, 'utf8'));

test('ngram train → ARPA → ngram query: the library\'s perplexity, and KenLM query\'s on our ARPA', () => {
  const r = run('ngram', 'train', '--data', trainTxt, '--order', '3', '--dev', testTxt, '--out', 'o3.arpa');
  ok(r, 'train');
  // lmplz's counts (kenlm_o3.discounts.txt: 430, 2288, 3981) and discounts
  assert.match(r.out, /ngram 1=430\tD1=0\.649805 D2=0\.180545 D3\+=0\.648323/);
  assert.match(r.out, /ngram 2=2288\t/);
  assert.match(r.out, /ngram 3=3981\t/);
  assert.match(r.out, /3,615 tokens \(each sentence's words and <\/s>; <s> is context only and not counted, as KenLM's query\), 24 OOVs/);
  const lib = NgramLM.fit(train, 3).perplexity(heldOut);
  assert.match(r.out, new RegExp(`perplexity ${String(Number(lib.perplexity.toPrecision(8))).replace('.', '\\.')} including OOVs`));
  assert.deepEqual(readArpa(fs.readFileSync(path.join(tmp, 'o3.arpa'), 'utf8')).table!.counts(), [430, 2288, 3981]);
  // a name ending in .gz is written gzipped (as lmplz's .gz output), the same text inside
  ok(run('ngram', 'train', '--data', trainTxt, '--order', '3', '--out', 'o3.arpa.gz'), 'train .gz');
  assert.equal(zlib.gunzipSync(fs.readFileSync(path.join(tmp, 'o3.arpa.gz'))).toString('utf8'), fs.readFileSync(path.join(tmp, 'o3.arpa'), 'utf8'));

  const q = run('ngram', 'query', 'o3.arpa', '--data', testTxt);
  ok(q, 'query');
  const s = summary(q.out);
  near(s.ppl, lib.perplexity, 1e-12, 'perplexity including OOVs');
  near(s.pplNoOov, lib.perplexityWithoutOovs, 1e-12, 'perplexity excluding OOVs');
  near(s.log10, lib.log10Prob, 1e-7, 'total log10');
  assert.equal(s.oovs, 24);
  assert.equal(s.tokens, 3615);
  assert.match(q.err, /<\/s> counted and <s> not/);
  // KenLM's query on the ARPA our library writes (ours_o3.query.txt)
  const ken = summary(fs.readFileSync(path.join(fixtures, 'ours_o3.query.txt'), 'utf8').replace(/^/, 'Total log10 probability:\t0\n'));
  near(s.ppl, ken.ppl, 1e-6, 'KenLM query on our ARPA');
  near(s.pplNoOov, ken.pplNoOov, 1e-6, 'KenLM query on our ARPA, excluding OOVs');
  assert.equal(s.tokens, ken.tokens);

  // an existing --out is kept unless --force
  refused(run('ngram', 'train', '--data', trainTxt, '--out', 'o3.arpa'), 2, /^gptlab: ngram train: --out o3\.arpa: exists; .*--force$/);
  ok(run('ngram', 'train', '--data', trainTxt, '--order', '2', '--out', 'o3.arpa', '--force'), '--force');
  assert.deepEqual(readArpa(fs.readFileSync(path.join(tmp, 'o3.arpa'), 'utf8')).table!.counts(), [430, 2288]);
});

test('ngram query reads KenLM\'s lmplz ARPA (gzip) and prints what KenLM\'s query printed', () => {
  const q = run('ngram', 'query', path.join(fixtures, 'kenlm_o3.arpa.gz'), '--data', testTxt, '--per-sentence');
  ok(q, 'query');
  const ours = summary(q.out);
  const ken = summary(fs.readFileSync(path.join(fixtures, 'kenlm_o3.query.txt'), 'utf8').replace(/^/, 'Total log10 probability:\t0\n'));
  assert.equal(ours.totals.length, 200);
  ours.totals.forEach((t, i) => assert.ok(Math.abs(t - ken.totals[i]) <= 2e-6 + 1e-6 * Math.abs(t), `sentence ${i}: ${t} vs KenLM ${ken.totals[i]}`));
  near(ours.ppl, ken.ppl, 1e-6, 'perplexity including OOVs');
  near(ours.pplNoOov, ken.pplNoOov, 1e-6, 'perplexity excluding OOVs');
  assert.equal(ours.oovs, ken.oovs);
  assert.equal(ours.tokens, ken.tokens);
});

test('ngram sample: -n sentences from the model, the same for the same --seed, cut at --max-words', () => {
  const model = path.join(fixtures, 'kenlm_o3.arpa.gz');
  const a = run('ngram', 'sample', model, '-n', '4', '--seed', '7');
  ok(a, 'sample');
  const lines = a.out.trimEnd().split('\n');
  assert.equal(lines.length, 4);
  const vocab = new Set(train.flat().concat('<unk>'));
  for (const w of lines.flatMap((l) => l.split(' ').filter((x) => x && x !== '…'))) assert.ok(vocab.has(w), `sampled word ${w}`);
  assert.equal(run('ngram', 'sample', model, '-n', '4', '--seed', '7').out, a.out);
  assert.notEqual(run('ngram', 'sample', model, '-n', '4', '--seed', '8').out, a.out);
  const short = run('ngram', 'sample', model, '-n', '3', '--max-words', '2');
  ok(short);
  for (const l of short.out.trimEnd().split('\n')) assert.ok(l.replace(' …', '').split(' ').length <= 2, l);
});

test('ngram train notes text without spaces between words (unsegmented Chinese), as embed train does', () => {
  const lines = ['我爱中国和中国人民', '他喜欢听古典音乐非常', '我们在北京喝茶聊天', '今天天气很好我们去公园'];
  const zh = write('zh.txt', Array.from({ length: 24 }, (_, i) => `${lines[i % 4]}${i}`).join('\n') + '\n');
  const r = run('ngram', 'train', '--data', zh, '--order', '2', '--discount-fallback');
  ok(r);
  assert.match(r.err, /^note: .*zh\.txt: the median "word" is 1[01] characters long; ngram train splits text at spaces/m);
  assert.doesNotMatch(run('ngram', 'train', '--data', write('en.txt', 'the cat sat\nthe dog sat\na cat ran\n'), '--order', '2', '--discount-fallback').err, /note:/);
});

test('ngram train: add-k and mle report counts and dev perplexity but are not written as ARPA', () => {
  const small = write('small.txt', 'the cat sat\nthe dog sat\na cat ran\n');
  const dev = write('dev.txt', 'the cat ran\nthe bird sat\n');
  const r = run('ngram', 'train', '--data', small, '--order', '2', '--smoothing', 'add-k', '--k', '0.25', '--dev', dev);
  ok(r, 'add-k');
  const lib = NgramLM.fit([['the', 'cat', 'sat'], ['the', 'dog', 'sat'], ['a', 'cat', 'ran']], 2, { kind: 'add-k', k: 0.25 }).perplexity([['the', 'cat', 'ran'], ['the', 'bird', 'sat']]);
  assert.match(r.out, new RegExp(`perplexity ${String(Number(lib.perplexity.toPrecision(8)))} including OOVs`));
  assert.match(r.out, /8 tokens .*, 1 OOV \(words/);
  refused(run('ngram', 'train', '--data', small, '--smoothing', 'add-k', '--out', 'a.arpa'), 2, /^gptlab: ngram train: --smoothing add-k cannot be written as ARPA .*drop --out/);
  refused(run('ngram', 'train', '--data', small, '--smoothing', 'mle', '--out', 'a.arpa'), 2, /--smoothing mle cannot be written as ARPA/);
  assert.ok(!fs.existsSync(path.join(tmp, 'a.arpa')));
  ok(run('ngram', 'train', '--data', small, '--order', '2', '--smoothing', 'mle', '--dev', dev), 'mle');
});

test('ngram train: --out never overwrites --data or --dev; a missing --dev writes nothing; mle perplexity without OOVs stays finite', () => {
  const data = write('mine.txt', fs.readFileSync(trainTxt, 'utf8'));
  refused(run('ngram', 'train', '--data', data, '--out', data, '--force'), 2, /^gptlab: ngram train: --out mine\.txt is the --data file, which the output would overwrite/);
  assert.equal(fs.readFileSync(path.join(tmp, data), 'utf8'), fs.readFileSync(trainTxt, 'utf8'), 'the text is intact');
  const dev = write('mydev.txt', 'a b c\n');
  refused(run('ngram', 'train', '--data', data, '--dev', dev, '--out', dev, '--force'), 2, /is the --dev file/);
  refused(run('ngram', 'train', '--data', data, '--dev', 'nope.txt', '--out', 'n.arpa'), 1, /nope\.txt/);
  assert.ok(!fs.existsSync(path.join(tmp, 'n.arpa')), 'nothing written when --dev cannot be read');
  write('uni.txt', 'w1 w2 w1\nw2 w1\n');
  write('dq.txt', 'w1 zz\n');
  const m = run('ngram', 'train', '--data', 'uni.txt', '--order', '1', '--smoothing', 'mle', '--dev', 'dq.txt');
  ok(m, 'mle');
  const line = /perplexity (\S+) including OOVs, (\S+) excluding OOVs/.exec(m.out)!;
  assert.equal(line[1], 'inf', m.out);
  assert.ok(Number(line[2]) > 1 && Number.isFinite(Number(line[2])), m.out);
});

test('ngram: bad flags exit 2 and bad files exit 1, one line naming the flag or the file (and line)', () => {
  const small = write('small2.txt', 'a b c\nb a\n');
  const arpa = '\\data\\\nngram 1=4\nngram 2=2\n\n\\1-grams:\n-1\t<s>\t-0.5\n-0.5\ta\t0\n-0.5\tb\n-0.5\t</s>\n\n\\2-grams:\n-0.2\t<s> a\n-0.3\ta b\n\n\\end\\\n';
  write('good.arpa', arpa);
  ok(run('ngram', 'query', 'good.arpa', '--data', small), 'a good small ARPA');
  // no <unk> in the file: OOVs get KenLM's −100; a literal <unk> in the text is an OOV, as query counts it
  const unk = run('ngram', 'query', 'good.arpa', '--data', write('unk-text.txt', 'a <unk> zz b\n'), '--per-sentence');
  ok(unk, 'OOVs');
  assert.match(unk.out, /^Total: -201\.2 OOV: 2$/m);
  assert.match(unk.err, /^note: good\.arpa has no <unk>: OOVs get log10 probability -100/);
  const flags: [string[], RegExp][] = [
    [['train', '--data', small, '--order', '11'], /^gptlab: ngram train: --order must be in \[1, 10\], got 11$/],
    [['train', '--data', small, '--order', '0'], /--order must be in \[1, 10\], got 0$/],
    [['train', '--data', small, '--order', '2.5'], /--order must be a whole number/],
    [['train', '--data', small, '--order', '6'], /^gptlab: ngram train: --order 6 is longer than any n-gram of small2\.txt: its longest sentence \(line 1\) has 3 words, 5 tokens with <s> and <\/s>; use --order 5 or less$/],
    [['train', '--data', small, '--smoothing', 'add-k', '--k', '0'], /--k must be greater than 0, got 0$/],
    [['train', '--data', small, '--smoothing', 'add-k', '--k', '-1'], /--k must be greater than 0/],
    [['train', '--data', small, '--smoothing', 'witten-bell'], /--smoothing must be one of kneser-ney, add-k, mle, got "witten-bell"$/],
    [['train', '--data', small, '--k', '2'], /--k applies to --smoothing add-k, not to --smoothing kneser-ney \(the default\)/],
    [['train', '--order', '2'], /--data FILE is required/],
    [['query', 'good.arpa'], /^gptlab: ngram query: --data FILE is required/],
    [['sample', 'good.arpa', '-n', '0'], /-n must be in|--n must be in/],
    [['frobnicate'], /^gptlab: ngram: unknown subcommand "frobnicate"/],
  ];
  for (const [args, re] of flags) refused(run('ngram', ...args), 2, re, args.join(' '));
  refused(run('train', '--arch', 'ngram', '--order', '11', '--data', small), 2, /^gptlab: train: --order must be in \[1, 10\], got 11$/, 'train --arch ngram');

  const files: [string[], RegExp][] = [
    [['train', '--data', write('empty.txt', '')], /^gptlab: error: empty\.txt: the data file is empty$/],
    [['train', '--data', write('blank.txt', '\n \n\t\n')], /^gptlab: error: blank\.txt: no words: its 3 lines are empty$/],
    [['train', '--data', write('one.txt', 'a a a\na\n')], /^gptlab: error: one\.txt: every word is "a": an n-gram model needs a vocabulary of at least two words$/],
    [['train', '--data', write('unk.txt', 'a b\nb <unk> a\n')], /^gptlab: error: unk\.txt:2: <unk> is reserved/],
    [['train', '--data', write('bos.txt', 'a b\n<s> a\n')], /^gptlab: error: bos\.txt:2: <s> is reserved for sentence boundaries$/],
    [['train', '--data', 'missing.txt'], /^gptlab: error: missing\.txt: no such data file$/],
    [['train', '--data', small, '--order', '2'], /^gptlab: error: small2\.txt: Kneser–Ney: cannot estimate the discounts .*; add --discount-fallback/],
    [['query', write('count.arpa', arpa.replace('ngram 2=2', 'ngram 2=3')), '--data', small], /^gptlab: error: count\.arpa:13: \\2-grams: has 2 entries but \\data\\ declares ngram 2=3$/],
    [['query', write('fields.arpa', arpa.replace('-0.3\ta b', '-0.3\ta b c d')), '--data', small], /^gptlab: error: fields\.arpa:13: a 2-gram line needs 3 fields/],
    [['query', write('number.arpa', arpa.replace('-0.3\ta b', 'x\ta b')), '--data', small], /^gptlab: error: number\.arpa:13: probability "x" is not a number$/],
    [['query', write('noend.arpa', arpa.replace('\\end\\\n', '')), '--data', small], /^gptlab: error: noend\.arpa:\d+: missing \\end\\$/],
    [['query', small, '--data', small], /^gptlab: error: small2\.txt:1: missing \\data\\ header$/],
    [['query', write('gz.arpa.gz', 'not gzip'), '--data', small], /missing \\data\\ header/],
    [['query', write('broken.arpa.gz', zlib.gzipSync(arpa).subarray(0, 20)), '--data', small], /^gptlab: error: broken\.arpa\.gz: /],
    [['query', 'nothere.arpa', '--data', small], /^gptlab: error: nothere\.arpa: no such model file$/],
    [['query', 'good.arpa', '--data', 'empty.txt'], /^gptlab: error: empty\.txt: the data file is empty$/],
    [['sample', 'count.arpa'], /^gptlab: error: count\.arpa:13: /],
  ];
  for (const [args, re] of files) {
    const r = run('ngram', ...args);
    // query of a model without <unk> adds a note line; none of these gets that far
    refused(r, 1, re, args.join(' '));
  }
  // with lmplz's fallback discounts the same small text trains
  ok(run('ngram', 'train', '--data', small, '--order', '2', '--discount-fallback', '--out', 'small.arpa'), '--discount-fallback');
});

test('ngram query: the summary lists the special words the file holds (not the <unk> substituted for scoring); a long word in an error is shortened', () => {
  const arpa = '\\data\\\nngram 1=4\n\n\\1-grams:\n-0.5\t<s>\n-0.5\t</s>\n-0.5\ta\n-0.5\tb\n\n\\end\\\n';
  write('nounk.arpa', arpa);
  write('q.txt', 'a b\n');
  const r = run('ngram', 'query', 'nounk.arpa', '--data', 'q.txt');
  ok(r, 'query');
  assert.match(r.err, /note: nounk\.arpa has no <unk>/);
  assert.match(r.err, /nounk\.arpa: order 1, vocabulary 4 \(<s>, <\/s> among them\)/);
  write('long.txt', 'x'.repeat(5000) + '\n');
  refused(run('ngram', 'train', '--data', 'long.txt'), 1, /every word is "x{40}… \(5000 characters\)": an n-gram model needs/);
});
