// The preallocated KV cache (models/kv-cache.ts) against a plain reference: random sequences of appends,
// dropped prefixes, row selections (leaving, repeating, reordering) and joins hold exactly the keys and values
// the reference holds, through compactions and growth; kvAttention over the cache equals causalAttention over
// contiguous copies (grouped kv heads, left padding), on the js backend and on the wasm one, whose persistent
// storage the cache lives in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setBackend } from '../src/backend/backend.js';
import { JsBackend } from '../src/backend/js.js';
import { initBackend } from '../src/backend/index.node.js';
import { KVCache } from '../src/models/kv-cache.js';
import { Rng } from '../src/tensor/rng.js';
import { Tensor, noGrad } from '../src/tensor/tensor.js';
import { causalAttention } from '../src/tensor/nnops.js';
import { kvAttention } from '../src/tensor/kv-attention.js';
import { repeatKv } from '../src/tensor/repeat-kv.js';
import { fillGaps } from '../src/generate/continuous-batcher.js';
import { storageProvider } from '../src/backend/storage.js';
import type { WasmHeap } from '../src/backend/wasm-heap.js';
import { GPT } from '../src/models/gpt.js';
import { generateBatch } from '../src/generate/batch.js';
import { beamSearch } from '../src/generate/beam.js';
import { generateIds } from '../src/generate/generate.js';

const H = 2, HS = 3, LAYERS = 2;

/** the reference: per layer, per row, per head, the list of cached position vectors (keys and values) */
type Ref = number[][][][][]; // [layer][k|v → 2*layer+kv][row][head][position] = vector

function randomKV(rng: Rng, B: number, T: number): Tensor {
  return new Tensor(Float32Array.from({ length: B * H * T * HS }, () => Math.round(rng.normal() * 100) / 10), [B, H, T, HS]);
}

function appendRef(ref: number[][][][], t: Tensor): void {
  const [B, , T] = t.shape;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let s = 0; s < T; s++) ref[b][h].push(Array.from(t.data.subarray(((b * H + h) * T + s) * HS, ((b * H + h) * T + s + 1) * HS)));
}

function check(cache: KVCache, ref: Ref, what: string): void {
  for (let l = 0; l < LAYERS; l++) {
    const v = cache.view(l);
    for (const [which, data] of [[0, v.keys], [1, v.values]] as const) {
      const rows = ref[2 * l + which];
      assert.equal(cache.batchSize, rows.length, `${what}: rows`);
      rows.forEach((heads, b) => heads.forEach((pos, h) => {
        assert.equal(pos.length, v.length, `${what}: length`);
        pos.forEach((vec, s) => vec.forEach((x, j) => {
          const got = data[(b * H + h) * v.stride + s * HS + j];
          assert.ok(Math.abs(got - x) < 1e-6, `${what}: layer ${l} ${which ? 'v' : 'k'} row ${b} head ${h} pos ${s}: ${got} vs ${x}`);
        }));
      }));
    }
  }
}

function grow(cache: KVCache, ref: Ref, rng: Rng, T: number): void {
  for (let l = 0; l < LAYERS; l++) {
    const k = randomKV(rng, cache.batchSize || ref[0].length, T), v = randomKV(rng, k.shape[0], T);
    cache.append(l, k, v);
    appendRef(ref[2 * l], k);
    appendRef(ref[2 * l + 1], v);
  }
}

function fresh(B: number): Ref {
  return Array.from({ length: 2 * LAYERS }, () => Array.from({ length: B }, () => Array.from({ length: H }, () => [])));
}

for (const [maxLength, maxT] of [[24, 3], [160, 9]]) test(`KV cache: appends, dropped prefixes, row selections and joins hold what a plain list holds (context ${maxLength}: ${maxLength > 64 ? 'growth' : 'compaction'})`, () => {
  const rng = new Rng(3);
  const cache = new KVCache(LAYERS, maxLength), ref = fresh(3);
  grow(cache, ref, rng, 5);
  check(cache, ref, 'prefill');
  for (let step = 0; step < 200; step++) {
    const op = rng.random();
    const B = cache.batchSize;
    const what = `step ${step}`;
    if (op < 0.45 && cache.length < maxLength) grow(cache, ref, rng, 1 + Math.floor(rng.random() * Math.min(maxT, maxLength - cache.length)));
    else if (op < 0.6 && cache.length > 0) {
      const n = Math.floor(rng.random() * (cache.length + 1));
      cache.dropPrefix(n);
      for (const rows of ref) for (const heads of rows) for (const pos of heads) pos.splice(0, n);
    } else if (op < 0.75 && B > 1) {
      // rows leave (in order, or with later rows filling the gaps as the batcher does), or are repeated and
      // reordered (beam search)
      const mode = rng.random();
      const leave = Array.from({ length: B }, (_, i) => i).filter(() => rng.random() < 0.7);
      const rows = mode < 0.33 ? leave : mode < 0.66 ? fillGaps(leave)
        : Array.from({ length: 1 + Math.floor(rng.random() * 4) }, () => Math.floor(rng.random() * B));
      if (rows.length === 0) rows.push(B - 1);
      cache.selectRows(rows);
      for (let i = 0; i < ref.length; i++) ref[i] = rows.map((r) => ref[i][r].map((pos) => pos.slice()));
    } else if (B < 8) {
      const Bb = 1 + Math.floor(rng.random() * 3), Lb = 1 + Math.floor(rng.random() * (maxLength - 1));
      const other = new KVCache(LAYERS, maxLength), oref = fresh(Bb);
      grow(other, oref, rng, Lb);
      const La = cache.length, L = Math.max(La, Lb);
      const { padA, padB } = cache.join(other);
      assert.deepEqual([padA, padB], [L - La, L - Lb], what);
      const zeros = (n: number): number[][] => Array.from({ length: n }, () => new Array<number>(HS).fill(0));
      for (let i = 0; i < ref.length; i++) {
        ref[i] = [
          ...ref[i].map((heads) => heads.map((pos) => [...zeros(padA), ...pos])),
          ...oref[i].map((heads) => heads.map((pos) => [...zeros(padB), ...pos])),
        ];
      }
    }
    check(cache, ref, what);
  }
  assert.ok(cache.length > 0);
});

test('KV cache: bad appends and joins are refused naming the mismatch', () => {
  const rng = new Rng(1);
  const cache = new KVCache(LAYERS, 16);
  cache.append(0, randomKV(rng, 2, 3), randomKV(rng, 2, 3));
  assert.throws(() => cache.append(1, randomKV(rng, 1, 3), randomKV(rng, 1, 3)), /appending \[1,2,3,3\] to a cache of 2 rows/);
  assert.throws(() => cache.append(5, randomKV(rng, 2, 1), randomKV(rng, 2, 1)), /layer 5 is out of range/);
  const other = new KVCache(LAYERS, 16);
  other.append(0, randomKV(rng, 1, 2), randomKV(rng, 1, 2));
  other.append(1, randomKV(rng, 1, 2), randomKV(rng, 1, 2));
  assert.throws(() => cache.join(other), /every layer cached/);
  assert.throws(() => other.dropPrefix(3), /cannot drop 3 of 2/);
  assert.throws(() => other.selectRows([1]), /row 1 is out of range/);
});

for (const name of ['js', 'wasm'] as const) {
  test(`kvAttention over the cache equals causalAttention over contiguous copies (${name}; grouped heads, padding)`, async () => {
    if (name === 'js') setBackend(new JsBackend());
    else await initBackend({ backend: 'wasm', threads: 2 });
    const rng = new Rng(5);
    const B = 3, Hq = 4, K = 2, hs = 8, L0 = 6, Tq = 2;
    const rand = (shape: number[]): Tensor => new Tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal()), shape);
    noGrad(() => {
      const cache = new KVCache(1, 32);
      const k0 = rand([B, K, L0, hs]), v0 = rand([B, K, L0, hs]);
      cache.append(0, k0, v0);
      cache.dropPrefix(1); // the held columns no longer start at column 0
      const k1 = rand([B, K, Tq, hs]), v1 = rand([B, K, Tq, hs]);
      cache.append(0, k1, v1);
      const q = rand([B, Hq, Tq, hs]);
      const keyStart = Int32Array.from([0, 2, 4]);
      const got = kvAttention(q, cache.view(0), keyStart);
      // the reference: contiguous (B, K, L0 − 1 + Tq, hs) copies, heads repeated
      const cat = (a: Tensor, b: Tensor): Tensor => {
        const L = L0 - 1 + Tq, out = new Float32Array(B * K * L * hs);
        for (let i = 0; i < B * K; i++) {
          out.set(a.data.subarray((i * L0 + 1) * hs, (i + 1) * L0 * hs), i * L * hs);
          out.set(b.data.subarray(i * Tq * hs, (i + 1) * Tq * hs), (i * L + L0 - 1) * hs);
        }
        return new Tensor(out, [B, K, L, hs]);
      };
      const want = causalAttention(q, repeatKv(cat(k0, k1), Hq / K), repeatKv(cat(v0, v1), Hq / K), keyStart);
      assert.deepEqual(got.shape, want.shape);
      want.data.forEach((x, i) => assert.ok(Math.abs(got.data[i] - x) < 1e-5, `element ${i}: ${got.data[i]} vs ${x}`));
    });
    setBackend(new JsBackend());
  });
}

test('fillGaps: rows that stay keep their place, the last ones beyond the new size fill the gaps', () => {
  assert.deepEqual(fillGaps([0, 2, 3, 4]), [0, 4, 2, 3]);
  assert.deepEqual(fillGaps([0, 1, 2]), [0, 1, 2]);
  assert.deepEqual(fillGaps([1, 2, 3]), [3, 1, 2]);
  assert.deepEqual(fillGaps([]), []);
});

test('generation gives its KV caches back to the wasm memory at once (batch, beams, one by one), not when the GC runs', async () => {
  await initBackend({ backend: 'wasm', threads: 2 });
  const heap = storageProvider() as WasmHeap;
  const model = new GPT({ vocabSize: 11, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true }, 3);
  const prompts = Array.from({ length: 24 }, (_, i) => [1 + (i % 9), 2, 3].slice(0, 1 + (i % 3)));
  const run = (): void => {
    generateBatch(model, prompts, { maxNewTokens: 40, temperature: 1, seed: 1 });
    beamSearch(model, [1, 2], { numBeams: 4, maxNewTokens: 20 });
    Array.from(generateIds(model, [4, 5], { maxNewTokens: 40, temperature: 1, seed: 2 }));
  };
  run(); // first run: whatever stays for good (the staging area, ...) is allocated here
  const before = heap.inUse;
  for (let i = 0; i < 5; i++) run();
  assert.equal(heap.inUse, before, 'the caches of later runs are given back, none left for the garbage collector');
  const cache = new KVCache(LAYERS, 16);
  const rng = new Rng(2);
  for (let l = 0; l < LAYERS; l++) cache.append(l, randomKV(rng, 2, 3), randomKV(rng, 2, 3));
  cache.dispose();
  assert.equal(cache.length, 0);
  cache.append(0, randomKV(rng, 1, 2), randomKV(rng, 1, 2)); // usable again: the next append allocates
  assert.equal(cache.batchSize, 1);
});
