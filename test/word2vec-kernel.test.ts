// word2vec's fast path (assembly/word2vec.ts, run by src/backend/word2vec-kernel.ts through Backend.word2vecTrain)
// against the reference loop (src/embeddings/word2vec.ts with `reference: true`): on one thread the two draw the
// same random numbers in the same order, so after a whole epoch the vectors agree to float rounding (the dot
// products sum in another order); vector sizes that are and are not multiples of 4 lanes, skip-gram and CBOW, a
// plain memory, a shared one and a 2-thread team. On 2 threads (Hogwild, not reproducible) the vectors still
// answer the built-in corpus's analogies. The js backend has no fast path: the reference runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsBackend } from '../src/backend/js.js';
import { setBackend } from '../src/backend/backend.js';
import { useWasmBackends } from './helpers/wasm-backends.js';
import { builtinAnalogies, embeddingCorpus } from '../src/embeddings/corpus.js';
import { corpusTokens, Word2VecVocabulary } from '../src/embeddings/vocab.js';
import { trainWord2Vec, type Word2VecOptions } from '../src/embeddings/word2vec.js';
import { evaluateAnalogies } from '../src/embeddings/analogy-eval.js';

const backends = useWasmBackends();

const tokens = corpusTokens(embeddingCorpus({ sentences: 2000, seed: 3 }));
const vocab = Word2VecVocabulary.fromTokens(tokens, 2);
const ids = vocab.encode(tokens);

function maxAbsDiff(a: Float32Array, b: Float32Array): { diff: number; scale: number } {
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return { diff, scale };
}

test('word2vec fast path on one thread = the reference to float rounding (sgns, cbow; D 12 and 13; plain, shared, team)', () => {
  for (const [name, be] of backends) {
    for (const method of ['sgns', 'cbow'] as const) {
      for (const dim of [12, 13]) {
        const opts: Word2VecOptions = { method, dim, window: 3, negative: 3, epochs: 2, seed: 5, progressEvery: 5000 };
        setBackend(be);
        const words: number[] = [];
        const fast = trainWord2Vec(vocab, ids, { ...opts, onProgress: (p) => words.push(p.words) });
        const ref = trainWord2Vec(vocab, ids, { ...opts, reference: true });
        const what = `${name}, ${method}, D ${dim}`;
        const w = maxAbsDiff(ref.vectors.data, fast.vectors.data), c = maxAbsDiff(ref.contexts, fast.contexts);
        assert.ok(w.scale > 0.1, `${what}: the vectors trained`);
        assert.ok(w.diff < 2e-3 * w.scale && c.diff < 2e-3 * c.scale, `${what}: W differs by ${w.diff} (of ${w.scale}), C by ${c.diff} (of ${c.scale})`);
        assert.equal(words.at(-1), 2 * ids.length, `${what}: every token of both epochs read`);
        assert.ok(words.length >= 5 && words.every((n, i) => i === 0 || n > words[i - 1]), `${what}: progress every ~5000 tokens: ${words}`);
      }
    }
  }
});

test('word2vec on 2 threads (Hogwild) trains vectors that answer the built-in analogies; on js the reference runs', () => {
  const big = corpusTokens(embeddingCorpus({ sentences: 4000, seed: 1 }));
  const v = Word2VecVocabulary.fromTokens(big, 5);
  const bigIds = v.encode(big);
  setBackend(backends[2][1]);
  const opts2: Word2VecOptions = { method: 'sgns', dim: 50, epochs: 5, seed: 1 };
  const hogwild = evaluateAnalogies(trainWord2Vec(v, bigIds, { ...opts2, threads: 2 }).vectors, builtinAnalogies());
  assert.equal(backends[2][1].lastParts, 2, 'both threads ran');
  const one = evaluateAnalogies(trainWord2Vec(v, bigIds, { ...opts2, reference: true }).vectors, builtinAnalogies());
  // measured: 456 and 462 of 720
  assert.ok(one.covered === 720 && hogwild.correct >= 0.9 * one.correct, `analogies: 2 threads ${hogwild.correct}, the reference ${one.correct} of ${one.covered}`);
  setBackend(new JsBackend());
  const opts: Word2VecOptions = { method: 'cbow', dim: 8, epochs: 1, seed: 2 };
  const js = trainWord2Vec(vocab, ids, opts), ref = trainWord2Vec(vocab, ids, { ...opts, reference: true });
  assert.deepEqual(js.vectors.data, ref.vectors.data, 'js backend: the reference, bit for bit');
});

test('word2vec threads is checked', () => {
  assert.throws(() => trainWord2Vec(vocab, ids, { threads: 0 }), /threads must be a whole number ≥ 1, got 0/);
});

test('bench word2vec: its --data / --word2vec-data is a file that exists', async () => {
  const { dataFileProblem } = await import('../bench/word2vec.js');
  const { tmpdir } = await import('node:os');
  assert.equal(dataFileProblem('/no/such/text.txt'), '/no/such/text.txt: no such file');
  assert.equal(dataFileProblem(tmpdir()), `${tmpdir()}: is a folder, not a file`);
});
