// The native BLAS backend (src/backend/blas.node.ts) vs the JS reference: matmul on odd shapes (1, 7, 65, 129),
// every transA/transB, accumulate, batch strides and stride-0 broadcast, on 1 thread and on 2; the routing of
// small products to the wasm matmul; and a GPT's logits and gradients. The GPT-vs-PyTorch fixture runs on
// this backend too, in gpt-parity.test.ts. Skipped as a whole, saying why, where koffi or OpenBLAS is missing.
//
// Tolerance as in kernels.test.ts: a matmul entry may differ from the reference's float64 sums by
// 1e-5·Σ_k|a_ik·b_kj| (+1e-6·|C₀| per accumulated item).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { Backend, MatmulArgs } from '../src/backend/backend.js';
import { backend, setBackend } from '../src/backend/backend.js';
import { args, checkMatmul, filled, ref } from './helpers/matmul-check.js';
import {
  BlasBackend, BlasUnavailableError, blasUnavailableReason, createBlasBackend, openBlasLibrary,
} from '../src/backend/blas.node.js';
import { initBackend } from '../src/backend/index.node.js';
import { GPT } from '../src/models/gpt.js';

const reason = blasUnavailableReason();
const skip = reason === null ? false : `blas backend unavailable: ${reason.split('\n')[0]}`;


/** a backend that sends every product (bar K = 0) to BLAS */
function allBlas(b: BlasBackend): BlasBackend {
  b.minBlasMacs = 0;
  b.minBlasRows = 0;
  return b;
}

describe('blas backend', { skip }, () => {
  let one: BlasBackend;
  let two: BlasBackend;
  before(async () => {
    one = allBlas(await createBlasBackend(1));
    two = allBlas(await createBlasBackend(2));
  });
  after(() => {
    one?.dispose();
    two?.dispose();
  });

  test('matmul matches the reference on odd shapes, every transA/transB, accumulate (1 and 2 threads)', () => {
    const dims = [1, 7, 65, 129];
    let seed = 1;
    for (const M of dims) for (const N of dims) for (const K of dims) {
      for (const transA of [false, true]) for (const transB of [false, true]) {
        for (const accumulate of [false, true]) {
          const be = (seed & 1) ? one : two;
          checkMatmul(be, args({ M, N, K, transA, transB, accumulate }), seed++);
          assert.ok(be.lastUsedBlas, 'the product went to BLAS');
        }
      }
    }
    assert.equal(one.threads, 1);
    assert.equal(two.threads, 2);
    assert.equal(one.name, 'blas');
  });

  test('products shared with a worker thread (operands in the memory): rows, columns or batch items', () => {
    const store = two.storage!;
    const place = (x: Float32Array): Float32Array => {
      const r = store.persistent(x.length);
      r.set(x);
      return r;
    };
    two.minSplitMacs = 0;
    try {
      let seed = 3000;
      const before = two.splitMatmuls;
      let shared = 0;
      // rows (M ≥ 16, odd), columns (M < 16, N ≥ 32), batch items with gaps and broadcasts
      for (const [batch, M, N, K] of [[1, 65, 7, 33], [1, 17, 129, 9], [1, 7, 65, 129], [1, 3, 40, 5], [5, 9, 7, 13], [4, 33, 17, 9]]) {
        for (const transA of [false, true]) for (const transB of [false, true]) for (const accumulate of [false, true]) {
          const strides = batch === 1 ? { strideA: 0, strideB: 0, strideC: 0 }
            : (seed & 1) ? { strideA: M * K + 3, strideB: 0, strideC: M * N + 5 } : { strideA: 0, strideB: K * N, strideC: M * N };
          checkMatmul(two, args({ batch, M, N, K, transA, transB, accumulate, ...strides }), seed++, place);
          shared++;
        }
      }
      assert.ok(two.splitMatmuls - before >= shared - 8, `most products were shared (${two.splitMatmuls - before} of ${shared})`);
    } finally {
      two.minSplitMacs = 1 << 18;
    }
  });

  test('batched matmul: strides with gaps, stride-0 broadcast of A, B and C', () => {
    let seed = 1000;
    for (const be of [one, two]) {
      for (const [M, N, K] of [[7, 65, 1], [65, 7, 129], [33, 17, 9], [129, 65, 7]]) {
        for (const transA of [false, true]) for (const transB of [false, true]) {
          for (const accumulate of [false, true]) {
            const dense = { strideA: M * K, strideB: K * N, strideC: M * N };
            const gaps = { strideA: M * K + 3, strideB: K * N + 5, strideC: M * N + 7 };
            for (const strides of [
              dense, gaps,
              { ...gaps, strideA: 0 }, // one A for every item (a shared weight)
              { ...dense, strideB: 0 },
              { strideA: 0, strideB: 0, strideC: M * N },
              { ...dense, strideC: 0 }, // every item into one C: sums when accumulating, else the last wins
            ]) {
              checkMatmul(be, args({ batch: 5, M, N, K, transA, transB, accumulate, ...strides }), seed++);
              assert.ok(be.lastUsedBlas);
            }
          }
        }
      }
    }
  });

  test('small products go to the wasm matmul by default, and still agree', async () => {
    const be = await createBlasBackend(1);
    try {
      const cases: [MatmulArgs, boolean][] = [
        [args({ M: 8, N: 8, K: 8 }), false], // below BLAS_MIN_MACS
        [args({ M: 1, N: 384, K: 128, transB: true }), false], // sampling one token: M < 4
        [args({ M: 3, N: 65, K: 129, accumulate: true }), false],
        [args({ M: 7, N: 0, K: 5 }), false],
        [args({ M: 7, N: 5, K: 0 }), false], // K = 0: C = 0 (or unchanged when accumulating)
        [args({ M: 7, N: 5, K: 0, accumulate: true }), false],
        [args({ M: 64, N: 64, K: 64 }), true],
        [args({ batch: 12, M: 64, N: 64, K: 32, transB: true, strideA: 64 * 32, strideB: 64 * 32, strideC: 64 * 64 }), true],
      ];
      let seed = 5000;
      for (const [a, blas] of cases) {
        checkMatmul(be, a, seed++);
        assert.equal(be.lastUsedBlas, blas, `${JSON.stringify(a)} ${blas ? 'should' : 'should not'} use BLAS`);
      }
    } finally {
      be.dispose();
    }
  });

  test('operands too short are a clear error, not a native crash', () => {
    const a = new Float32Array(64 * 64), b = new Float32Array(64 * 64), c = new Float32Array(64 * 64);
    assert.throws(() => one.matmul(a, b, c, args({ batch: 2, M: 64, N: 64, K: 64, strideA: 64 * 64 })),
      /BlasBackend\.matmul: A has 4096 elements but .* needs 8192/);
    assert.throws(() => one.matmul(a, b, c.subarray(1), args({ M: 64, N: 64, K: 64 })), /C has 4095 elements/);
    assert.throws(() => one.matmul(a, b, c, args({ M: 64, N: 64, K: 64, strideA: -1, batch: 2 })), /strideA must be/);
  });

  test('the other kernels are the wasm ones (same memory, same thread team)', () => {
    const x = filled(7 * 65, 9), y = new Float32Array(x.length), want = new Float32Array(x.length);
    two.softmax(x, y, 7, 65);
    ref.softmax(x, want, 7, 65);
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(y[i] - want[i]) <= 1e-6, `softmax[${i}]`);
  });

  test('a GPT gives the reference logits and gradients', () => {
    const prev = backend();
    const cfg = { vocabSize: 65, blockSize: 32, nLayer: 2, nHead: 4, nEmbd: 64, dropout: 0, bias: true };
    const B = 3, T = 32;
    const idx = new Int32Array(B * T).map((_, i) => (i * 7919) % 65);
    const targets = new Int32Array(B * T).map((_, i) => (i * 104729 + 3) % 65);
    const run = (be: Backend) => {
      setBackend(be);
      const model = new GPT(cfg, 42);
      const { logits, loss } = model.forward(idx, B, T, { targets });
      loss!.backward();
      return {
        logits: logits.data.slice(), loss: loss!.item(),
        grads: new Map([...model.namedParameters()].map(([n, p]) => [n, p.grad!.slice()] as const)),
      };
    };
    try {
      const want = run(ref);
      const got = run(two);
      assert.ok(Math.abs(got.loss - want.loss) <= 1e-5, `loss ${got.loss} vs ${want.loss}`);
      for (let i = 0; i < want.logits.length; i++) {
        assert.ok(Math.abs(got.logits[i] - want.logits[i]) <= 2e-5, `logits[${i}]: ${got.logits[i]} vs ${want.logits[i]}`);
      }
      for (const [name, g] of want.grads) {
        const h = got.grads.get(name)!;
        for (let i = 0; i < g.length; i++) {
          const d = Math.abs(h[i] - g[i]);
          if (!(d <= 1e-5 + 1e-3 * Math.abs(g[i]))) assert.fail(`grad ${name}[${i}]: ${h[i]} vs ${g[i]}`);
        }
      }
    } finally {
      setBackend(prev);
    }
  });

  test("initBackend({ backend: 'blas' }) installs it; a missing library is one clear error", async () => {
    const prev = backend();
    try {
      const b = await initBackend({ backend: 'blas', threads: 2 });
      assert.equal(b.name, 'blas');
      assert.equal(b.threads, 2);
      assert.equal(backend(), b);
      await initBackend({ backend: 'js' }); // releases the blas backend's worker threads
    } finally {
      setBackend(prev);
    }
    assert.throws(() => openBlasLibrary(['libgptlab-no-such-blas.so.0']), (e: unknown) =>
      e instanceof BlasUnavailableError && /blas backend: libgptlab-no-such-blas\.so\.0 not found; /.test(e.message));
  });
});

describe("the default backend ('auto')", () => {
  // fresh processes: the library is looked up once per process
  const pick = (env: Record<string, string>): string => {
    const url = new URL('../src/backend/index.node.js', import.meta.url).href;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e',
      `const m = await import(${JSON.stringify(url)}); const b = await m.initBackend(); console.log(b.name); process.exit(0);`],
    { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };

  test('is blas where koffi and a BLAS library load', { skip }, () => {
    assert.equal(pick({}), 'blas');
  });

  test('falls back to wasm, quietly, where the library is missing', () => {
    assert.equal(pick({ GPTLAB_BLAS_LIBRARY: 'libgptlab-no-such-blas.so.0' }), 'wasm');
  });
});
