// N-gram language models (src/lm/): maximum likelihood and Laplace against NLTK, interpolated modified
// Kneser–Ney against KenLM (lmplz's ARPA files and discounts, query's sentence scores and perplexity), ARPA
// reading and writing, bad input, and the LanguageModel adapter with the project's generators.
// Fixtures: scripts/fixtures/make_kenlm_fixture.sh and scripts/fixtures/make_ngram_fixture.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { NgramLM, readArpa, sentencesFromText, writeArpa, NgramCounts, estimateDiscounts, adjustCounts, Vocabulary } from '../src/lm/index.js';
import { NgramModel } from '../src/models/ngram-model.js';
import { ngramModelType } from '../src/models/ngram-type.js';
import { Rng } from '../src/tensor/rng.js';
import { generateIds } from '../src/generate/generate.js';
import { generateBatch } from '../src/generate/batch.js';
import { evaluateText } from '../src/eval/evaluate.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { capturingStdout } from './helpers/cli-result.js';

const fixture = (name: string): string => {
  const buf = fs.readFileSync(new URL(`../../test/fixtures/ngram/${name}`, import.meta.url));
  return (name.endsWith('.gz') ? zlib.gunzipSync(buf) : buf).toString('utf8');
};
const near = (a: number, b: number, eps: number, what = ''): void => assert.ok(a === b || Math.abs(a - b) <= eps, `${what} ${a} vs ${b}`);
const train = sentencesFromText(fixture('train.txt'), { file: 'train.txt' });
const heldOut = sentencesFromText(fixture('test.txt'), { file: 'test.txt' });

/** KenLM query -v sentence -v summary: per-sentence totals and the perplexities */
function readQuery(name: string): { totals: number[]; ppl: number; pplNoOov: number; oovs: number; tokens: number } {
  const text = fixture(name);
  const totals = [...text.matchAll(/^Total: (\S+) OOV: \d+$/gm)].map((m) => Number(m[1]));
  const num = (label: string): number => Number(new RegExp(`^${label}:\\t(\\S+)$`, 'm').exec(text)![1]);
  return { totals, ppl: num('Perplexity including OOVs'), pplNoOov: num('Perplexity excluding OOVs'), oovs: num('OOVs'), tokens: num('Tokens') };
}

/** the course notes' example: after 人工智能, 让 4 times and 是 once */
const example = [...Array(4).fill(['人工智能', '让']), ['人工智能', '是']] as string[][];

test('maximum likelihood: the worked example (人工智能 → 让 0.8, 是 0.2)', () => {
  const lm = NgramLM.fit(example, 2, { kind: 'mle' });
  near(lm.prob('让', ['人工智能']), 0.8, 1e-12);
  near(lm.prob('是', ['人工智能']), 0.2, 1e-12);
  near(lm.prob('人工智能', ['<s>']), 1, 1e-12);
  const s = lm.scoreSentence(['人工智能', '是']);
  assert.equal(s.tokens, 3); // 人工智能, 是, </s>: <s> is context only
  near(s.log10Prob, Math.log10(0.2), 1e-12);
  near(lm.perplexity([['人工智能', '是']]).perplexity, 0.2 ** (-1 / 3), 1e-12);
  // unigrams count </s> and not <s>: 5 人工智能, 4 让, 1 是, 5 </s>
  const uni = NgramLM.fit(example, 1, { kind: 'mle' });
  near(uni.prob('</s>'), 5 / 15, 1e-12);
  assert.equal(uni.prob('<s>'), 0);
});

test('counts are cut at <s> as lmplz counts them', () => {
  const v = Vocabulary.fromSentences([['a', 'b']]);
  const c = new NgramCounts(3);
  c.addSequence([v.bos, v.get('a'), v.get('b'), v.eos]);
  assert.deepEqual([...c.orders[1].keys()].map((k) => k.split(' ').map((i) => v.words[+i]).join(' ')), ['<s> a', 'a b', 'b </s>']);
  assert.deepEqual([...c.orders[2].keys()].map((k) => k.split(' ').map((i) => v.words[+i]).join(' ')), ['<s> a b', 'a b </s>']);
  // adjusted counts: continuation counts below the top order, raw counts for n-grams starting with <s>
  const adj = adjustCounts(c, v.bos);
  assert.equal(adj[0].get(String(v.get('b'))), 1);
  assert.equal(adj[1].get(`${v.bos} ${v.get('a')}`), 1);
});

test('maximum likelihood and Laplace equal NLTK (nltk.lm MLE, Laplace), orders 2 and 3', () => {
  const ref = JSON.parse(fixture('nltk.json')) as { seenSentences: number; orders: Record<string, { vocabSize: number; mleSeen: number[]; laplaceSeen: number[]; laplaceTest: number[]; laplaceTestPerplexity: number }> };
  for (const order of [2, 3]) {
    const r = ref.orders[String(order)];
    const mle = NgramLM.fit(train, order, { kind: 'mle' });
    const lap = mle.withSmoothing({ kind: 'add-k', k: 1, vocabSize: r.vocabSize }); // NLTK's |V| counts <s>
    assert.equal(r.vocabSize, mle.vocab.predictable + 1);
    train.slice(0, ref.seenSentences).forEach((s, i) => {
      near(mle.scoreSentence(s).log10Prob, r.mleSeen[i], 1e-9, `mle order ${order} sentence ${i}`);
      near(lap.scoreSentence(s).log10Prob, r.laplaceSeen[i], 1e-9, `laplace order ${order} sentence ${i}`);
    });
    heldOut.forEach((s, i) => near(lap.scoreSentence(s).log10Prob, r.laplaceTest[i], 1e-9, `laplace held-out ${i}`));
    near(lap.perplexity(heldOut).perplexity / r.laplaceTestPerplexity, 1, 1e-9, 'laplace perplexity');
  }
});

test('Kneser–Ney: discounts and every ARPA entry equal KenLM lmplz, orders 1–5', () => {
  const cases: [number, string, [number, number, number] | undefined][] = [
    [1, 'kenlm_o1', undefined], [2, 'kenlm_o2', undefined], [3, 'kenlm_o3', undefined], [4, 'kenlm_o4', undefined],
    [5, 'kenlm_o5_fallback', [0.5, 1, 1.5]],
  ];
  for (const [order, name, fallback] of cases) {
    const lm = NgramLM.fit(train, order, { kind: 'kneser-ney', discountFallback: fallback });
    const lines = fixture(`${name}.discounts.txt`).trim().split('\n');
    lines.forEach((line, m) => {
      const d = /D1=(\S+) D2=(\S+) D3\+=(\S+)/.exec(line)!.slice(1).map(Number);
      d.forEach((x, j) => near(lm.discounts[m][j], x, 5e-6 * Math.max(1, x), `${name} order ${m + 1} D${j + 1}`));
      assert.equal(Number(line.split(' ')[1]), lm.table!.counts()[m], `${name}: number of ${m + 1}-grams`);
    });
    const ken = readArpa(fixture(`${name}.arpa.gz`), `${name}.arpa`);
    assert.deepEqual(ken.table!.counts(), lm.table!.counts());
    for (let m = 1; m <= order; m++) {
      for (const [key, p] of ken.table!.prob[m - 1]) {
        const words = key.split(' ').map((i) => ken.vocab.words[+i]);
        const ours = words.map((w) => lm.vocab.get(w)).join(' ');
        const q = lm.table!.prob[m - 1].get(ours);
        assert.ok(q !== undefined, `${name}: ${words.join(' ')} missing`);
        near(q, p, 2e-6, `${name} log10 p(${words.join(' ')})`);
        near(lm.table!.backoff[m - 1].get(ours) ?? 0, ken.table!.backoff[m - 1].get(key) ?? 0, 2e-6, `${name} back-off of ${words.join(' ')}`);
      }
    }
  }
});

test('Kneser–Ney on texts whose lines repeat: lmplz counts one n-gram per order raw, and so do we', () => {
  const fallback: [number, number, number] = [0.5, 1, 1.5];
  for (const [text, order, name] of [['tiny_repeated.txt', 2, 'kenlm_tiny_rep_o2'], ['repeated.txt', 2, 'kenlm_rep_o2'], ['repeated.txt', 3, 'kenlm_rep_o3']] as const) {
    const lm = NgramLM.fit(sentencesFromText(fixture(text), { file: text }), order, { kind: 'kneser-ney', discountFallback: fallback });
    fixture(`${name}.discounts.txt`).trim().split('\n').forEach((line, m) => {
      const d = /D1=(\S+) D2=(\S+) D3\+=(\S+)/.exec(line)!.slice(1).map(Number);
      d.forEach((x, j) => near(lm.discounts[m][j], x, 5e-6 * Math.max(1, x), `${name} order ${m + 1} D${j + 1}`));
    });
    const q = readQuery(`${name}.query.txt`);
    heldOut.forEach((s, i) => near(lm.scoreSentence(s).log10Prob, q.totals[i], 2e-5 + 1e-6 * Math.abs(q.totals[i]), `${name} sentence ${i}`));
    near(lm.perplexity(heldOut).perplexity / q.ppl, 1, 1e-6, `${name} perplexity`);
  }
  // the five-line text twice: the last new word, y, occurs twice after one left neighbour (adjusted count 1, raw 2)
  const tiny = NgramLM.fit(sentencesFromText(fixture('tiny_repeated.txt')), 2, { kind: 'kneser-ney', discountFallback: fallback });
  assert.deepEqual(tiny.discounts[0].map((x) => +x.toFixed(6)), [0.2, 1.4, 2.6]);
});

test('Kneser–Ney: sentence scores and perplexity equal KenLM query (4 significant digits and better)', () => {
  for (const [order, name, fallback] of [[2, 'kenlm_o2'], [3, 'kenlm_o3'], [4, 'kenlm_o4'], [5, 'kenlm_o5_fallback', [0.5, 1, 1.5]]] as const) {
    const q = readQuery(`${name}.query.txt`);
    const lm = NgramLM.fit(train, order, { kind: 'kneser-ney', discountFallback: fallback as [number, number, number] | undefined });
    const kenArpa = readArpa(fixture(`${name}.arpa.gz`), `${name}.arpa`);
    assert.equal(q.totals.length, heldOut.length);
    heldOut.forEach((s, i) => {
      near(lm.scoreSentence(s).log10Prob, q.totals[i], 2e-5, `${name} ours, sentence ${i}`);
      near(kenArpa.scoreSentence(s).log10Prob, q.totals[i], 2e-6 + 1e-6 * Math.abs(q.totals[i]), `${name} KenLM's ARPA read by us, sentence ${i}`);
    });
    const r = lm.perplexity(heldOut);
    assert.equal(r.tokens, q.tokens);
    assert.equal(r.oovs, q.oovs);
    near(r.perplexity / q.ppl, 1, 1e-6, `${name} perplexity ${r.perplexity} vs KenLM ${q.ppl}`);
    near(r.perplexityWithoutOovs / q.pplNoOov, 1, 1e-6, `${name} perplexity without OOVs`);
    near(kenArpa.perplexity(heldOut).perplexity / q.ppl, 1, 1e-6, `${name} KenLM ARPA perplexity`);
  }
  // KenLM's query reading the ARPA we wrote gives our scores
  const ours = NgramLM.fit(train, 3);
  const q = readQuery('ours_o3.query.txt');
  heldOut.forEach((s, i) => near(ours.scoreSentence(s).log10Prob, q.totals[i], 2e-5, `query on our ARPA, sentence ${i}`));
  near(ours.perplexity(heldOut).perplexity / q.ppl, 1, 1e-6);
});

test('distributions sum to 1: Kneser–Ney, add-k, mle; unseen contexts back off', () => {
  const kn = NgramLM.fit(train, 3);
  const models = [kn, kn.withSmoothing({ kind: 'add-k', k: 0.5 }), kn.withSmoothing({ kind: 'mle' }), readArpa(writeArpa(kn))];
  const v = kn.vocab;
  const contexts = [[], [v.bos], [v.bos, v.get('First')], [v.get('First'), v.get('Citizen:')], [v.unk, v.unk], [v.get('we'), v.unk]];
  for (const lm of models) {
    for (const h of contexts) {
      const d = lm.log10Distribution(h);
      let s = 0;
      d.forEach((x, w) => {
        s += 10 ** x;
        if (w !== v.bos) near(x, lm.log10ProbId(w, h), 1e-12, `${lm.smoothing.kind} w=${w}`);
      });
      near(s, 1, 1e-9, `${lm.smoothing.kind} context ${h.join(' ')}`);
    }
  }
  // <unk> and unseen words get γ(ε)/|V| from Kneser–Ney's interpolation with the uniform distribution
  assert.ok(kn.prob('zzz-never-seen') > 0 && kn.prob('zzz-never-seen') === kn.prob('<unk>'));
});

test('ARPA: our model round-trips exactly; 8 digits as lmplz writes them stay within 1e-6', () => {
  const lm = NgramLM.fit(train, 3);
  const text = writeArpa(lm);
  // the same n-gram counts as lmplz's order-3 model of the same text
  const header = (a: string): string => a.slice(0, a.indexOf('\\1-grams:'));
  assert.equal(header(text), header(fixture('kenlm_o3.arpa.gz')));
  const back = readArpa(text);
  assert.equal(writeArpa(back), text);
  const short = readArpa(writeArpa(lm, { digits: 8 }));
  for (const s of heldOut.slice(0, 40)) {
    assert.equal(back.scoreSentence(s).log10Prob, lm.scoreSentence(s).log10Prob);
    near(short.scoreSentence(s).log10Prob, lm.scoreSentence(s).log10Prob, 1e-6);
  }
  assert.throws(() => writeArpa(lm.withSmoothing({ kind: 'mle' })), /no back-off table/);
});

test('ARPA reading rejects bad files with FILE:LINE', () => {
  const good = '\\data\\\nngram 1=3\nngram 2=1\n\n\\1-grams:\n-1\t<s>\t-0.5\n-0.5\ta\t0\n-0.5\t</s>\n\n\\2-grams:\n-0.2\t<s> a\n\n\\end\\\n';
  assert.ok(readArpa(good, 'g.arpa').prob('a', ['<s>']) > 0.6);
  const bad: [string, RegExp][] = [
    [good.replace('ngram 2=1', 'ngram 2=2'), /^Error: b\.arpa:11: \\2-grams: has 1 entries but \\data\\ declares ngram 2=2$/],
    [good.replace('-0.5\ta\t0', '-0.5\ta\t0\textra'), /^Error: b\.arpa:7: a 1-gram line needs 2 or 3 fields/],
    [good.replace('-0.2\t<s> a', 'x\t<s> a'), /^Error: b\.arpa:11: probability "x" is not a number$/],
    [good.replace('-0.2\t<s> a', '-0.2\t<s> b'), /^Error: b\.arpa:11: word "b" is not among the 1-grams$/],
    [good.replace('\\2-grams:', '\\3-grams:'), /^Error: b\.arpa:10: \\3-grams: where \\2-grams: was expected/],
    [good.replace('\\end\\\n', '\\3-grams:\n-1\t<s> a a\n\n\\end\\\n'), /^Error: b\.arpa:13: \\3-grams: is not declared in \\data\\/],
    [good.replace('\n\\end\\\n', ''), /^Error: b\.arpa:\d+: missing \\end\\$/],
    [good.replace('\\data\\', 'data'), /^Error: b\.arpa:1: missing \\data\\ header$/],
    [good.replace('ngram 1=3', 'ngram one=3'), /^Error: b\.arpa:2: malformed header line/],
    ['\\data\\\nngram 1=1\nngram 2=0\n\n\\1-grams:\n-1\ta\n\n\\end\\\n', /^Error: b\.arpa:\d+: missing \\2-grams: section$/],
    [good.replace('-0.5\t</s>', '-0.5\ta'), /^Error: b\.arpa:8: duplicate 1-gram "a"$/],
  ];
  for (const [text, re] of bad) assert.throws(() => readArpa(text, 'b.arpa'), re);
});

test('bad input: order, data too short, one-word vocabulary, empty lines, reserved words', () => {
  assert.throws(() => NgramLM.fit(example, 0), /order must be a positive integer, got 0/);
  assert.throws(() => NgramLM.fit(example, 2.5), /order must be a positive integer/);
  // the longest sentence "<s> 人工智能 让 </s>" has 4 tokens
  assert.doesNotThrow(() => NgramLM.fit(example, 4, { kind: 'mle' }));
  assert.throws(() => NgramLM.fit(example, 5, { kind: 'mle' }), /order 5 is larger than the data: the longest sentence gives 4 tokens/);
  assert.throws(() => NgramLM.fit([], 2), /no sentences/);
  // one word: Kneser–Ney has no count-of-counts to estimate discounts from; mle works; a fallback works
  const one = [['a', 'a', 'a'], ['a'], ['a', 'a']]; // lmplz: "didn't observe any 1-grams with adjusted count 2"
  assert.throws(() => NgramLM.fit(one, 2), /cannot estimate the discounts of 1-grams: no 1-grams with adjusted count 2 .*discountFallback/);
  near(NgramLM.fit(one, 2, { kind: 'mle' }).prob('a', ['a']), 3 / 6, 1e-12);
  const fb = NgramLM.fit(one, 2, { kind: 'kneser-ney', discountFallback: [0.5, 1, 1.5] });
  near([...fb.log10Distribution([fb.vocab.get('a')])].reduce((s, x) => s + 10 ** x, 0), 1, 1e-12);
  assert.throws(() => NgramLM.fit(example, 2, { kind: 'add-k', k: 0 }), /k must be positive/);
  // empty lines
  assert.deepEqual(sentencesFromText('a b\n\n  \nc\n'), [['a', 'b'], ['c']]);
  assert.deepEqual(sentencesFromText('a b\n\nc\n', { emptyLines: 'sentence' }), [['a', 'b'], [], ['c']]);
  assert.throws(() => sentencesFromText('a b\n\nc\n', { file: 'x.txt', emptyLines: 'error' }), /^Error: x\.txt:2: empty line$/);
  assert.throws(() => sentencesFromText('a\nb <s> c\n', { file: 'x.txt' }), /^Error: x\.txt:2: <s> is reserved/);
  assert.throws(() => NgramLM.fit(sentencesFromText('\n\n'), 2), /no sentences/);
  // an empty sentence scores p(</s> | <s>), as KenLM's query does
  const lm = NgramLM.fit([['a'], []], 2, { kind: 'mle' });
  near(lm.scoreSentence([]).log10Prob, Math.log10(0.5), 1e-12);
  assert.throws(() => estimateDiscounts(new Map([['1', 1]]), 1), /no 1-grams with adjusted count 2/);
});

test('sampling: seeded, follows the probabilities', () => {
  const lm = NgramLM.fit(example, 2, { kind: 'mle' });
  const ctx = [lm.vocab.get('人工智能')];
  const draw = (seed: number): number[] => {
    const rng = new Rng(seed);
    return Array.from({ length: 2000 }, () => lm.sampleNextId(ctx, rng));
  };
  const a = draw(7);
  assert.deepEqual(a, draw(7));
  const share = a.filter((i) => i === lm.vocab.get('让')).length / a.length;
  assert.ok(share > 0.76 && share < 0.84, `让 drawn ${share}`);
  assert.ok(a.every((i) => i === lm.vocab.get('让') || i === lm.vocab.get('是')));
  const kn = NgramLM.fit(train, 3);
  const s = kn.sampleSentence(new Rng(1), 30);
  assert.ok(s.length <= 30 && s.every((w) => w !== '<s>' && w !== '</s>'));
  // <unk> keeps probability under Kneser–Ney and add-k, but a sampled sentence never shows it
  const tiny = NgramLM.fit([['a', 'b'], ['b', 'a']], 2, { kind: 'add-k', k: 5 });
  assert.ok(tiny.log10Prob('<unk>', ['a']) > -1);
  const words = Array.from({ length: 200 }, (_, i) => tiny.sampleSentence(new Rng(i), 10)).flat();
  assert.ok(words.length > 100 && !words.includes('<unk>'), 'no <unk> sampled');
  assert.throws(() => lm.sampleNextId(ctx, new Rng(1), 0), /temperature must be positive/);
});

// a token stream: "abcab…" as ids over a vocabulary of 5 (id 4 never occurs)
const stream = Int32Array.from('abcabcabdabcaabcdbca'.repeat(20), (ch) => ch.charCodeAt(0) - 97);

test('LanguageModel adapter: logits are ln p, loss is their negative log-likelihood', () => {
  for (const smoothing of [{ kind: 'kneser-ney' as const, discountFallback: [0.5, 1, 1.5] as [number, number, number] }, { kind: 'mle' as const }, { kind: 'add-k' as const, k: 1 }]) {
    const model = new NgramModel({ vocabSize: 5, order: 3, smoothing }).fit(stream);
    assert.equal(model.contextLength, Infinity);
    assert.deepEqual(model.namedParameters(), []);
    assert.match(model.describe(), /^n-gram order 3, .*, vocab 5, \d+ n-grams$/);
    const idx = Int32Array.from([0, 1, 2, 0, 1, 3, 0, 2]);
    const targets = Int32Array.from([1, 2, 0, 1, 3, 0, 2, -1]);
    const { logits, loss } = model.forward(idx, 2, 4, { targets });
    assert.deepEqual(logits.shape, [2, 4, 5]);
    let nll = 0;
    for (let r = 0; r < 8; r++) {
      const row = [...logits.data.slice(r * 5, r * 5 + 5)];
      const b = r >> 2, t = r & 3;
      const h = [...idx.slice(b * 4, b * 4 + t + 1)].slice(-2); // the distribution of the id after column t
      near(row.reduce((s, x) => s + Math.exp(x), 0), 1, 1e-5, `row ${r}`);
      row.forEach((x, w) => near(x, Math.max(model.ngram.log10ProbId(w, h) * Math.LN10, -1e9), 1e-5, `${smoothing.kind} row ${r} w ${w}`));
      if (targets[r] >= 0) nll -= row[targets[r]];
    }
    near(loss!.data[0], nll / 7, 1e-5 * Math.max(1, Math.abs(nll / 7)), `${smoothing.kind} loss`);
    const none = model.forward(idx, 2, 4, { targets, reduction: 'none' }).loss!;
    assert.deepEqual(none.shape, [2, 4]);
    near(none.data[0], -logits.data[1], 1e-6 * Math.max(1, Math.abs(logits.data[1])));
  }
});

test('LanguageModel adapter: state, lastOnly, padding, selectRows, dropPrefix, generation, checkpoints', () => {
  const model = new NgramModel({ vocabSize: 5, order: 3, smoothing: { kind: 'kneser-ney', discountFallback: [0.5, 1, 1.5] } }).fit(stream);
  const seq = Int32Array.from([0, 1, 2, 0, 1, 3]);
  const full = model.forward(seq, 1, 6).logits.data;
  const st = model.createState(1);
  model.forward(seq.slice(0, 4), 1, 4, { state: st });
  const step = model.forward(seq.slice(4, 5), 1, 1, { state: st, lastOnly: true }).logits;
  assert.deepEqual(step.shape, [1, 1, 5]);
  assert.deepEqual([...step.data], [...full.slice(4 * 5, 5 * 5)]);
  assert.equal(st.length, 5);
  // left padding: row 1 = [pad pad 0 1], the pads are not context
  const padded = model.forward(Int32Array.from([0, 1, 2, 0, 4, 4, 0, 1]), 2, 4, { padding: Int32Array.from([0, 2]), lastOnly: true }).logits.data;
  const solo = model.forward(Int32Array.from([0, 1]), 1, 2, { lastOnly: true }).logits.data;
  assert.deepEqual([...padded.slice(5, 10)], [...solo]);
  // selectRows / dropPrefix
  const s2 = model.createState(2);
  model.forward(Int32Array.from([0, 1, 2, 1, 2, 0]), 2, 3, { state: s2 });
  s2.selectRows([1, 1, 0]);
  assert.deepEqual([s2.context(0), s2.context(2)], [[2, 0], [1, 2]]);
  s2.dropPrefix(2);
  assert.deepEqual([s2.length, s2.context(0)], [1, [0]]);
  assert.throws(() => s2.dropPrefix(2), /cannot drop 2 of 1/);
  assert.throws(() => s2.selectRows([3]), /row 3 is out of range/);
  // the project's generators: greedy generation equals the argmax chain; a batch equals its rows run alone
  const ids = [...generateIds(model, [0, 1], { maxNewTokens: 12, temperature: 0 })];
  const ctx = [0, 1];
  for (const id of ids) {
    const d = [...model.ngram.log10Distribution(ctx.slice(-2)).slice(0, 5)].map((x) => Math.fround(x * Math.LN10)); // float32 logits
    assert.equal(id, d.indexOf(Math.max(...d)));
    ctx.push(id);
  }
  const prompts = [[0, 1, 2, 0], [2], [1, 2]];
  const batch = generateBatch(model, prompts, { maxNewTokens: 8, temperature: 0.9, seed: 3 });
  prompts.forEach((p, i) => assert.deepEqual(batch[i].ids, generateBatch(model, [p], { maxNewTokens: 8, temperature: 0.9, seed: 3 + i })[0].ids));
  // checkpoints: counts as JSON, or ARPA
  const back = NgramModel.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
  assert.deepEqual([...back.forward(seq, 1, 6).logits.data], [...full]);
  const arpa = NgramModel.fromArpa(writeArpa(model.ngram), { vocabSize: 5 });
  assert.deepEqual([...arpa.forward(seq, 1, 6).logits.data], [...full]);
  assert.deepEqual([...NgramModel.fromJSON(JSON.parse(JSON.stringify(arpa.toJSON()))).forward(seq, 1, 6).logits.data], [...full]);
  assert.throws(() => NgramModel.fromJSON({ type: 'ngram', config: { vocabSize: 5, order: 0, blockSize: 8 } }, 'ck/ngram.json'), /^Error: ck\/ngram\.json: model config: order must be a positive integer/);
  assert.throws(() => NgramModel.fromJSON({ type: 'ngram', config: { vocabSize: 5, order: 1, blockSize: 8 }, counts: [[['9', 1]]] }, 'c.json'), /c\.json: counts\[0\]: malformed entry/);
  assert.throws(() => new NgramModel({ vocabSize: 5, order: 2 }).forward(seq, 1, 6), /call fit/);
  // the registry entry builds the same model from a preset config
  const made = ngramModelType.create(ngramModelType.validate({ ...ngramModelType.presets.trigram, vocabSize: 5 }), 1) as NgramModel;
  assert.equal(made.fit(stream).describe(), new NgramModel({ vocabSize: 5, order: 3 }).fit(stream).describe());
  assert.throws(() => ngramModelType.validate({ vocabSize: 5, order: 3, blockSize: 8, smoothing: { kind: 'witten-bell' } }), /smoothing\.kind must be mle, add-k or kneser-ney/);
  assert.throws(() => model.forward(Int32Array.from([7]), 1, 1), /id 7 at row 0, column 0 is outside \[0, 5\)/);
  assert.throws(() => model.fit(Int32Array.from([0, 5])), /token 5 at index 1 is outside/);
});

test('LanguageModel adapter: a character model through the project evaluation (default smoothing falls back per order)', () => {
  const text = fixture('train.txt');
  const tok = CharTokenizer.fromText(text);
  const ids = Int32Array.from(tok.encode(text));
  const cut = Math.floor(ids.length * 0.9);
  const model = new NgramModel({ vocabSize: tok.vocabSize, order: 4, blockSize: 128 }).fit(ids.subarray(0, cut));
  assert.equal(model.ngram.discounts.length, 4);
  // a tiny vocabulary has no valid unigram count-of-counts: plain Kneser–Ney throws, the adapter's default falls back
  assert.throws(() => NgramLM.fitIds(stream, 5, 3), /cannot estimate the discounts of 1-grams/);
  assert.equal(new NgramModel({ vocabSize: 5, order: 3 }).fit(stream).ngram.discounts[0].join(), '0.5,1,1.5');
  const r = evaluateText(model, tok, tok.decode([...ids.subarray(cut)]), { batchSize: 4 });
  assert.ok(r.loss > 0.3 && r.loss < 3, `char 4-gram dev loss ${r.loss}`); // the generated corpus is more regular than prose
  near(r.perplexity, Math.exp(r.loss), 1e-6 * r.perplexity);
});

test('train --arch ngram names the gradient-training flags it ignores in one note; none without them', async () => {
  const os = await import('node:os'), path = await import('node:path');
  const { trainCommand } = await import('../src/cli/train.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-ngram-flags-'));
  const data = path.join(dir, 'text.txt');
  fs.writeFileSync(data, 'the cat sat on the mat. the dog sat on the log. '.repeat(40));
  const run = async (args: string[]): Promise<string> => {
    const r = await capturingStdout(() => trainCommand(args));
    assert.equal(r.result, 0);
    return r.out;
  };
  const noted = await run(['--data', data, '--arch', 'ngram', '--out', path.join(dir, 'a'), '--max-iters', '50', '--lr', '0.1', '--optimizer', 'sgd', '--backend', 'js']);
  assert.match(noted, /note: --max-iters, --lr, --optimizer are ignored for --arch ngram: an n-gram model is counted from the training split in one pass, not trained by gradient steps/);
  assert.equal(noted.split('\n').filter((l) => l.includes('ignored for --arch ngram')).length, 1);
  assert.doesNotMatch(await run(['--data', data, '--arch', 'ngram', '--out', path.join(dir, 'b'), '--backend', 'js']), /ignored for --arch ngram/);
  fs.rmSync(dir, { recursive: true, force: true });
});
