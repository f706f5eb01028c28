// Tensor storage inside the wasm memory (src/backend/storage.ts, src/backend/wasm-heap.ts): the heap's block
// and arena bookkeeping, kernels computing in place on resident arrays (alone and mixed with ordinary ones)
// against the JS reference, and a training run whose numbers do not depend on where its tensors live.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmHeap } from '../src/backend/wasm-heap.js';
import { WasmBackend } from '../src/backend/wasm.js';
import { createThreadedWasmBackend } from '../src/backend/threads.node.js';
import { initBackend } from '../src/backend/index.node.js';
import { alloc, allocPersistent, allocUninit, setStorageProvider, stepScope, storageProvider } from '../src/backend/storage.js';
import { args, checkMatmul, closeTo, filled, ref } from './helpers/matmul-check.js';
import { GPT } from '../src/models/gpt.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { Trainer } from '../src/train/trainer.js';
import { Pretraining } from '../src/train/pretraining.js';

const KiB = 1024;
const sc = (heap: WasmHeap, n: number, zero: boolean): Float32Array => heap.scoped(n, zero)!;

function sharedMemory(pages = 2): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: pages, maximum: 65536, shared: true });
}

describe('WasmHeap', () => {
  test('blocks: first fit, 64-byte alignment, neighbours coalesce, growth keeps old views', () => {
    const mem = sharedMemory(2);
    const heap = new WasmHeap(mem, 1000, 65536, (off, bytes) => new Uint8Array(mem.buffer, off, bytes).fill(0));
    const a = heap.malloc(100), b = heap.malloc(100), c = heap.malloc(100);
    assert.equal(a % 64, 0);
    assert.ok(a >= 1000 && b >= a + 100 && c >= b + 100);
    heap.release(b, 100);
    assert.equal(heap.malloc(50), b, 'the freed hole is reused first');
    heap.release(a, 100);
    heap.release(b, 50);
    assert.equal(heap.malloc(200), a, 'two freed neighbours form one block');
    const v = heap.view(c, 4);
    v.set([1, 2, 3, 4]);
    const big = heap.malloc(1 << 20); // beyond the 128 KiB memory: grows it
    assert.ok(mem.buffer.byteLength >= big + (1 << 20));
    assert.deepEqual(Array.from(v), [1, 2, 3, 4], 'views made before the grow still see their data');
    assert.ok(heap.owns(v) && heap.owns(heap.view(big, 4)) && !heap.owns(new Float32Array(4)));
  });

  test('arena: zero-filled unless asked, rewinds to a mark, and a step that outgrew a chunk gets one big chunk', () => {
    const mem = sharedMemory(2);
    const heap = new WasmHeap(mem, 64 * KiB, 65536, (off, bytes) => new Uint8Array(mem.buffer, off, bytes).fill(0));
    const m0 = heap.mark();
    const x = sc(heap, 10, true);
    x.fill(7);
    const m1 = heap.mark();
    const y = sc(heap, 10, true);
    heap.releaseTo(m1);
    assert.equal(sc(heap, 10, true).byteOffset, y.byteOffset, 'released space is handed out again');
    heap.releaseTo(m0);
    assert.equal(sc(heap, 10, false).byteOffset, x.byteOffset);
    assert.equal(sc(heap, 0, true).length, 0);
    // outgrow the first chunk (4 MiB) inside one scope, then the next scope fits in a single chunk
    const m2 = heap.mark();
    const parts = Array.from({ length: 6 }, () => sc(heap, 256 * KiB, true)); // 6 MiB in all
    assert.ok(parts.every((p) => p.every((v) => v === 0)));
    heap.releaseTo(m2);
    heap.mark();
    const first = sc(heap, 256 * KiB, true);
    const rest = Array.from({ length: 5 }, () => sc(heap, 256 * KiB, true));
    assert.equal(rest[4].byteOffset - first.byteOffset, 5 * 256 * KiB * 4, 'one contiguous bump');
  });

  test('a full arena answers null, and alloc() then hands out an ordinary array', () => {
    const mem = sharedMemory(2);
    const heap = new WasmHeap(mem, 64 * KiB, 65536, (off, bytes) => new Uint8Array(mem.buffer, off, bytes).fill(0));
    heap.arenaMax = 8 << 20;
    heap.mark();
    assert.ok(heap.scoped(1 << 20, true)); // 4 MiB: the first chunk
    assert.ok(heap.scoped(1 << 20, true)); // the second
    assert.equal(heap.scoped(1 << 20, true), null);
    const prev = storageProvider();
    setStorageProvider(heap);
    try {
      const a = stepScope(() => alloc(3 << 20));
      assert.ok(!heap.owns(a) && a.length === 3 << 20);
    } finally {
      setStorageProvider(prev);
    }
  });
});

describe('kernels on resident arrays', () => {
  let two: WasmBackend;
  before(async () => {
    two = await createThreadedWasmBackend(2);
    two.minMacsPerThread = 1 << 16;
    two.minElemsPerThread = two.minLightElemsPerThread = 4096;
  });
  after(() => two?.dispose());

  /** a resident copy of `a` in two's memory */
  const res = (a: Float32Array): Float32Array => {
    const r = two.storage!.persistent(a.length);
    r.set(a);
    assert.ok(two.resident(r));
    return r;
  };

  test('a plain (non-shared) memory offers no storage; a shared one does', async () => {
    const one = await WasmBackend.create();
    assert.equal(one.storage, null);
    assert.notEqual(two.storage, null);
    // one thread on a shared memory (Node's --threads 1, cross-origin-isolated pages) stores tensors too
    const solo = await createThreadedWasmBackend(1);
    assert.equal(solo.threads, 1);
    assert.notEqual(solo.storage, null);
    const x = solo.storage!.persistent(5);
    solo.add(x.fill(1), x, x, 5);
    assert.deepEqual(Array.from(x), [2, 2, 2, 2, 2]);
  });

  test('matmul: resident, foreign and mixed operands give the reference numbers', () => {
    const a = args({ M: 65, N: 129, K: 33 });
    const A = filled(65 * 33, 1), B = filled(33 * 129, 2);
    const want = new Float32Array(65 * 129);
    ref.matmul(A, B, want, a);
    for (const mask of [0b111, 0b001, 0b010, 0b100, 0b110]) {
      const A1 = mask & 1 ? res(A) : A, B1 = mask & 2 ? res(B) : B;
      const C1 = mask & 4 ? two.storage!.persistent(65 * 129) : new Float32Array(65 * 129);
      two.matmul(A1, B1, C1, a);
      closeTo(C1, want, () => 1e-4, `matmul, resident mask ${mask}`);
    }
    // accumulate into a resident C, batched with strides
    const b = args({ batch: 3, M: 17, N: 9, K: 8, accumulate: true, strideA: 17 * 8, strideB: 0, strideC: 17 * 9 });
    const A2 = filled(3 * 17 * 8, 3), B2 = filled(8 * 9, 4), C0 = filled(3 * 17 * 9, 5);
    const w2 = C0.slice();
    ref.matmul(A2, B2, w2, b);
    const C2 = res(C0);
    two.matmul(res(A2), B2, C2, b);
    closeTo(C2, w2, () => 1e-4, 'batched accumulate');
    checkMatmul(two, a, 9); // and the ordinary path still works
  });

  test('row and element-wise kernels in place', () => {
    const rows = 40, C = 130, n = rows * C;
    const x = filled(n, 11), w = filled(C, 12), b = filled(C, 13), dy = filled(n, 14);
    // layer norm forward and backward
    const yR = new Float32Array(n), mR = new Float32Array(rows), sR = new Float32Array(rows);
    ref.layerNorm(x, w, b, yR, mR, sR, rows, C, 1e-5);
    const y = two.storage!.persistent(n), m = two.storage!.persistent(rows), s = two.storage!.persistent(rows);
    two.layerNorm(res(x), res(w), b, y, m, s, rows, C, 1e-5);
    closeTo(y, yR, (i) => 1e-5 + 1e-5 * Math.abs(yR[i]), 'layerNorm y');
    const dxR = filled(n, 15), dwR = filled(C, 16), dbR = filled(C, 17);
    const dx = res(dxR), dw = res(dwR), db = dbR.slice();
    ref.layerNormBackward(x, w, mR, sR, dy, dxR, dwR, dbR, rows, C);
    two.layerNormBackward(res(x), res(w), m, s, res(dy), dx, dw, db, rows, C);
    closeTo(dx, dxR, (i) => 1e-4 + 1e-4 * Math.abs(dxR[i]), 'layerNormBackward dx');
    closeTo(dw, dwR, (i) => 1e-4 + 1e-4 * Math.abs(dwR[i]), 'layerNormBackward dw');
    closeTo(db, dbR, (i) => 1e-4 + 1e-4 * Math.abs(dbR[i]), 'layerNormBackward db');
    // gelu, softmax, adamw
    const gR = new Float32Array(n);
    ref.gelu(x, gR, n);
    const g = two.storage!.persistent(n);
    two.gelu(res(x), g, n);
    closeTo(g, gR, (i) => 1e-6 + 1e-5 * Math.abs(gR[i]), 'gelu');
    const pR = new Float32Array(n);
    ref.softmax(x, pR, rows, C);
    const p = res(x);
    two.softmax(p, p, rows, C); // in place
    closeTo(p, pR, (i) => 1e-7 + 1e-5 * pR[i], 'softmax in place');
    const [P, G, M, V] = [filled(n, 20), filled(n, 21, 0.1), filled(n, 22, 0.01), filled(n, 23, 0.01).map(Math.abs)];
    const [P2, M2, V2] = [res(P), res(M), res(V)];
    ref.adamw(P, G, M, V, n, 1e-3, 0.9, 0.99, 1e-8, 0.1, 3);
    two.adamw(P2, res(G), M2, V2, n, 1e-3, 0.9, 0.99, 1e-8, 0.1, 3);
    closeTo(P2, P, (i) => 1e-6 + 1e-5 * Math.abs(P[i]), 'adamw p');
    closeTo(V2, V, (i) => 1e-9 + 1e-5 * Math.abs(V[i]), 'adamw v');
  });

  test('swiglu and rmsNorm, forward and backward: resident, mixed, and split over both threads', () => {
    const rows = 80, C = 130, n = rows * C; // 2 × 4096 elements or more: split
    const g = filled(n, 31, 8), u = filled(n, 32), dy = filled(n, 33), x = filled(n, 34, 3), w = filled(C, 35);
    for (const mask of [0b11, 0b01, 0b10]) {
      const pick = (a: Float32Array, bit: number) => (mask & bit ? res(a) : a.slice());
      const yR = new Float32Array(n), y = two.storage!.persistent(n);
      ref.swiglu(g, u, yR, n);
      two.swiglu(pick(g, 1), pick(u, 2), y, n);
      closeTo(y, yR, (i) => 1e-6 + 1e-5 * Math.abs(yR[i]), `swiglu mask ${mask}`);
      assert.equal(two.lastParts, 2);
      const [dgR, duR] = [filled(n, 36), filled(n, 37)];
      const [dg, du] = [pick(dgR, 1), pick(duR, 2)];
      ref.swigluBackward(g, u, dy, dgR, duR, n, true);
      two.swigluBackward(res(g), u, res(dy), dg, du, n, true);
      closeTo(dg, dgR, (i) => 1e-6 + 1e-5 * Math.abs(dgR[i]), `swigluBackward dgate mask ${mask}`);
      closeTo(du, duR, (i) => 1e-6 + 1e-5 * Math.abs(duR[i]), `swigluBackward dup mask ${mask}`);

      const nR = new Float32Array(n), sR = new Float32Array(rows);
      ref.rmsNorm(x, w, nR, sR, rows, C, 1e-5);
      const xn = pick(x, 1), s = pick(new Float32Array(rows), 2);
      two.rmsNorm(xn, w, xn, s, rows, C, 1e-5); // in place
      closeTo(xn, nR, (i) => 1e-6 + 1e-5 * Math.abs(nR[i]), `rmsNorm in place mask ${mask}`);
      closeTo(s, sR, (i) => 1e-5 * sR[i], `rmsNorm rstd mask ${mask}`);
      const [dxR, dwR] = [filled(n, 38), filled(C, 39)];
      const [dx, dw] = [pick(dxR, 1), pick(dwR, 2)];
      ref.rmsNormBackward(x, w, sR, dy, dxR, dwR, rows, C);
      two.rmsNormBackward(res(x), res(w), sR, dy, dx, dw, rows, C);
      closeTo(dx, dxR, (i) => 1e-5 + 1e-4 * Math.abs(dxR[i]), `rmsNormBackward dx mask ${mask}`);
      closeTo(dw, dwR, (i) => 1e-4 + 1e-4 * Math.abs(dwR[i]), `rmsNormBackward dw mask ${mask}`);
      assert.equal(two.lastParts, 2);
    }
  });

  test('add, sumSquares and scale: odd lengths, resident or not, agree with the reference', () => {
    for (const n of [1, 3, 4, 7, 1029, 5000]) {
      const a = filled(n, n), b = filled(n, n + 1);
      const want = new Float32Array(n);
      ref.add(a, b, want, n);
      for (const resident of [true, false]) {
        const y = resident ? two.storage!.persistent(n) : new Float32Array(n);
        two.add(resident ? res(a) : a, resident ? res(b) : b, y, n);
        closeTo(y, want, () => 0, `add n=${n}`);
        const x = resident ? res(a) : a.slice();
        const sq = two.sumSquares(x, n), sqR = ref.sumSquares(a, n);
        assert.ok(Math.abs(sq - sqR) <= 1e-6 * sqR + 1e-12, `sumSquares n=${n}: ${sq} vs ${sqR}`);
        two.scale(x, 0.5, n);
        closeTo(x, a.map((v) => v * 0.5), () => 0, `scale n=${n}`);
      }
    }
  });
});

describe('stepScope', () => {
  let prev: ReturnType<typeof storageProvider>;
  before(async () => {
    await initBackend({ backend: 'wasm', threads: 2 });
    prev = storageProvider();
  });
  after(() => setStorageProvider(prev));

  test('arrays inside a scope come from the arena and are handed out again by the next scope', () => {
    const p = storageProvider();
    assert.ok(p, 'the threaded wasm backend installs its storage');
    assert.ok(!p.owns(alloc(8)), 'outside a scope: ordinary arrays');
    const offsets = () => stepScope(() => {
      const a = alloc(100), b = allocUninit(1000);
      assert.ok(p.owns(a) && p.owns(b) && a.every((v) => v === 0));
      const inner = stepScope(() => alloc(5).byteOffset);
      assert.equal(alloc(5).byteOffset, inner, 'an inner scope rewinds to where it began');
      return [a.byteOffset, b.byteOffset];
    });
    assert.deepEqual(offsets(), offsets());
    assert.ok(p.owns(allocPersistent(3)));
    assert.throws(() => stepScope(() => setStorageProvider(null)), /inside a stepScope/);
  });

  test('a training run gives the same losses whether its tensors live in the wasm memory or not', () => {
    const run = (): number[] => {
      const tok = new CharTokenizer(['a', 'b', 'c', 'd', ' ']);
      const data = new Int32Array(4000).map((_, i) => (i * 7 + (i >> 3)) % 5);
      const model = new GPT({ vocabSize: 5, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32, dropout: 0, bias: true });
      const tr = new Trainer(model, new Pretraining({ train: data, dev: data, test: data }), { batchSize: 4, warmupIters: 2 }, { tokenizer: tok });
      return Array.from({ length: 6 }, () => tr.trainStep().loss);
    };
    const resident = run();
    const p = storageProvider();
    setStorageProvider(null);
    const plain = run();
    setStorageProvider(p);
    for (let i = 0; i < resident.length; i++) assert.ok(Math.abs(resident[i] - plain[i]) < 1e-5, `step ${i}: ${resident[i]} vs ${plain[i]}`);
    assert.ok(resident[5] < resident[0], 'and it learns');
  });
});
