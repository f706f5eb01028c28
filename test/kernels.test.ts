// Fast kernels vs the JS reference (src/backend/js.ts): every WasmBackend kernel, on odd shapes that hit the
// GEMM's edge tiles, every transA/transB combination, accumulate, batch strides and stride-0 broadcast, on 1
// thread and on a 2-thread team (shapes big enough that the work really is split).
//
// Tolerances: float32 sums of K products differ from the reference's float64 sums by about √K·2⁻²⁴ of
// Σ|a·b|, so a matmul entry may differ by 1e-5·Σ_k|a_ik·b_kj| (+1e-6·|C₀| when accumulating). The
// elementwise kernels use polynomial exp/erf good to a few float32 ulp: 1e-5 relative + a small absolute term.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, MatmulArgs } from '../src/backend/backend.js';
import { JsBackend } from '../src/backend/js.js';
import { args, checkMatmul, closeTo, filled, ref } from './helpers/matmul-check.js';
import { WasmBackend } from '../src/backend/wasm.js';
import { createThreadedWasmBackend } from '../src/backend/threads.node.js';
import { ensureBackend, initBackend } from '../src/backend/index.node.js';
import { backend, setBackend } from '../src/backend/backend.js';



let one: WasmBackend;
let two: WasmBackend;
before(async () => {
  one = await WasmBackend.create();
  two = await createThreadedWasmBackend(2);
  // split at test sizes too (by default only bigger calls are split)
  two.minMacsPerThread = 1 << 16;
  two.minElemsPerThread = two.minLightElemsPerThread = 4096;
});
after(() => {
  two?.dispose();
});

const SIZES = [1, 7, 65, 129];

describe('matmul', () => {
  test('odd shapes × every transA/transB × accumulate, 1 thread', () => {
    let seed = 1;
    for (const M of SIZES) for (const N of SIZES) for (const K of [1, 7, 65, 257]) {
      for (const transA of [false, true]) for (const transB of [false, true]) for (const accumulate of [false, true]) {
        checkMatmul(one, args({ M, N, K, transA, transB, accumulate }), seed++);
      }
    }
  });

  test('1–3 rows (one token when sampling): every layout, batch and broadcast', () => {
    let seed = 400;
    for (const M of [1, 2, 3]) for (const [N, K] of [[1, 1], [17, 5], [33, 129], [200, 64]]) {
      for (const transA of [false, true]) for (const transB of [false, true]) for (const accumulate of [false, true]) {
        checkMatmul(one, args({ M, N, K, transA, transB, accumulate }), seed++);
        checkMatmul(two, args({ batch: 3, M, N, K, transA, transB, accumulate, strideA: M * K, strideB: 0, strideC: M * N + 3 }), seed++);
      }
    }
  });

  test('K = 0 gives zeros (or leaves C when accumulating)', () => {
    for (const accumulate of [false, true]) checkMatmul(one, args({ M: 3, N: 9, K: 0, accumulate }), 5);
  });

  test('batch with strides, gaps between C items, and stride-0 broadcast', () => {
    const cases: MatmulArgs[] = [
      args({ batch: 3, M: 7, N: 9, K: 5, strideA: 35, strideB: 45, strideC: 63 }),
      args({ batch: 3, M: 7, N: 9, K: 5, strideA: 0, strideB: 45, strideC: 63, transB: true }),
      args({ batch: 4, M: 7, N: 9, K: 5, strideA: 35, strideB: 0, strideC: 70, accumulate: true }), // gaps in C
      args({ batch: 5, M: 6, N: 10, K: 33, strideA: 198, strideB: 330, strideC: 0, accumulate: true, transA: true }),
      args({ batch: 48, M: 64, N: 64, K: 32, strideA: 64 * 32, strideB: 64 * 32, strideC: 64 * 64, transB: true }),
    ];
    cases.forEach((c, i) => checkMatmul(one, c, 100 + i));
  });

  test('2 threads: rows, columns and batch splits agree with the reference', () => {
    const cases: MatmulArgs[] = [
      args({ M: 129, N: 65, K: 300 }),
      args({ M: 257, N: 129, K: 129, transA: true, accumulate: true }),
      args({ M: 5, N: 1031, K: 300, transB: true }), // too few rows: split by columns
      args({ M: 768, N: 128, K: 512, transA: true, transB: true }),
      args({ batch: 48, M: 64, N: 64, K: 32, strideA: 64 * 32, strideB: 64 * 32, strideC: 64 * 64, transB: true }),
      args({ batch: 7, M: 65, N: 33, K: 129, strideA: 65 * 129, strideB: 0, strideC: 65 * 33, accumulate: true }),
      args({ batch: 6, M: 65, N: 33, K: 129, strideA: 0, strideB: 33 * 129, strideC: 0, accumulate: true }), // C broadcast
      // gaps between C items (they must survive the copy back)
      args({ batch: 8, M: 65, N: 33, K: 129, strideA: 65 * 129, strideB: 33 * 129, strideC: 65 * 33 + 5, accumulate: true }),
      args({ batch: 2, M: 257, N: 40, K: 100, strideA: 257 * 100, strideB: 0, strideC: 257 * 40 + 3, transA: true }),
      args({ batch: 48, M: 64, N: 32, K: 64, strideA: 64 * 64, strideB: 64 * 32, strideC: 64 * 32, transA: true, accumulate: true }),
    ];
    cases.forEach((c, i) => {
      checkMatmul(two, c, 200 + i);
      assert.equal(two.lastParts, 2, `case ${i} should run on both threads`);
    });
    checkMatmul(two, args({ M: 16, N: 16, K: 16 }), 300);
    assert.equal(two.lastParts, 1, 'a tiny product should stay on the calling thread');
  });

  test('a too-short operand is one clear error', () => {
    assert.throws(
      () => one.matmul(new Float32Array(5), new Float32Array(6), new Float32Array(4), args({ M: 2, N: 2, K: 3 })),
      /WasmBackend\.matmul: A has 5 elements but batch=1, M=2, N=2, K=3, strideA=0 needs 6/,
    );
  });
});

// the row/elementwise kernels, each on a small odd shape and one big enough for the 2-thread split
const ROW_SHAPES: Array<[number, number]> = [[1, 1], [3, 7], [5, 65], [300, 257]];

function elemTol(want: Float32Array, rel = 1e-5, abs = 1e-6) {
  return (i: number) => rel * Math.abs(want[i]) + abs;
}

for (const [label, get] of [['1 thread', () => one], ['2 threads', () => two]] as const) {
  describe(`row and elementwise kernels, ${label}`, () => {
    test('softmax (with fully and partly masked rows) and softmaxBackward', () => {
      for (const [rows, cols] of ROW_SHAPES) {
        const x = filled(rows * cols, rows + cols, 4);
        if (rows > 1) for (let j = 0; j < cols; j++) x[j] = -Infinity; // row 0 fully masked
        for (let r = 1; r < rows; r += 2) x[r * cols] = -Infinity;
        const want = new Float32Array(x.length), got = new Float32Array(x.length);
        ref.softmax(x, want, rows, cols);
        get().softmax(x, got, rows, cols);
        closeTo(got, want, elemTol(want, 1e-5, 1e-7), `softmax ${rows}×${cols}`);
        const inPlace = x.slice();
        get().softmax(inPlace, inPlace, rows, cols);
        closeTo(inPlace, want, elemTol(want, 1e-5, 1e-7), `softmax in place ${rows}×${cols}`);

        const dy = filled(x.length, 7), dx0 = filled(x.length, 8);
        const dWant = dx0.slice(), dGot = dx0.slice();
        ref.softmaxBackward(want, dy, dWant, rows, cols);
        get().softmaxBackward(want, dy, dGot, rows, cols);
        closeTo(dGot, dWant, elemTol(dWant, 1e-5, 1e-6), `softmaxBackward ${rows}×${cols}`);
        if (rows * cols > 70_000) assert.equal(get().lastParts, get().threads, 'big rows split over every thread');
      }
    });

    test('causalSoftmax and causalSoftmaxBackward: odd sizes, a KV offset (Tk > Tq), key starts', () => {
      // [items (batch·heads), heads per key start or 0 for none, Tq, Tk, key starts]
      const cases: Array<[number, number, number, number, number[] | null]> = [
        [1, 0, 1, 1, null],
        [3, 0, 7, 7, null],
        [2, 0, 5, 9, null], // KV cache: 4 earlier positions
        [1, 0, 3, 2, null], // more queries than keys: the first row sees nothing
        [8, 2, 13, 13, [0, 3, 13, 20]], // padding; a start at Tq and one past Tk hide whole rows
        [6, 3, 6, 11, [-2, 9]], // negative start = none
        [48, 4, 64, 64, null], // the cpu preset's attention, big enough to split
        [40, 4, 33, 70, [0, 5, 17, 40, 69, 1, 2, 3, 4, 70]],
      ];
      for (const [items, heads, Tq, Tk, starts] of cases) {
        const rows = items * Tq, n = rows * Tk;
        const keyStart = starts ? Int32Array.from(starts) : null;
        const per = heads * Tq;
        const scale = 1 / Math.sqrt(7);
        const x = filled(n, n + Tq, 6);
        const want = x.slice(), got = x.slice();
        ref.causalSoftmax(want, rows, Tq, Tk, scale, keyStart, per);
        get().causalSoftmax(got, rows, Tq, Tk, scale, keyStart, per);
        const what = `causalSoftmax items=${items} Tq=${Tq} Tk=${Tk} keyStart=${starts}`;
        closeTo(got, want, elemTol(want, 1e-5, 1e-7), what);
        for (let i = 0; i < n; i++) if (want[i] === 0 && got[i] !== 0) assert.fail(`${what}: masked element ${i} is ${got[i]}`);
        if (n > 70_000) assert.equal(get().lastParts, get().threads, 'big attention splits over every thread');

        const dWant = filled(n, n + 1, 2), dGot = dWant.slice();
        ref.causalSoftmaxBackward(want, dWant, rows, Tk, scale);
        get().causalSoftmaxBackward(want, dGot, rows, Tk, scale);
        closeTo(dGot, dWant, elemTol(dWant, 1e-5, 1e-6), `${what} backward`);
        if (n > 70_000) assert.equal(get().lastParts, get().threads, 'big attention backward splits over every thread');
      }
      assert.throws(() => get().causalSoftmax(new Float32Array(12), 4, 2, 3, 1, new Int32Array(1), 2),
        /keyStart has 1 entries but rows=4, Tq=2, Tk=3, rowsPerKeyStart=2 needs 2/);
    });

    test('layerNorm and layerNormBackward, with and without affine parameters', () => {
      for (const [rows, C] of ROW_SHAPES) {
        for (const affine of [true, false]) {
          const x = filled(rows * C, rows * C + 3, 3).map((v, i) => v + (i % 5)); // nonzero means
          const w = affine ? filled(C, 11) : null, b = affine ? filled(C, 12) : null;
          const yW = new Float32Array(x.length), yG = new Float32Array(x.length);
          const mW = new Float32Array(rows), mG = new Float32Array(rows), rW = new Float32Array(rows), rG = new Float32Array(rows);
          ref.layerNorm(x, w, b, yW, mW, rW, rows, C, 1e-5);
          get().layerNorm(x, w, b, yG, mG, rG, rows, C, 1e-5);
          const what = `layerNorm ${rows}×${C} affine=${affine}`;
          closeTo(yG, yW, elemTol(yW, 1e-5, 2e-5), what);
          closeTo(mG, mW, elemTol(mW, 1e-5, 1e-6), `${what} mean`);
          closeTo(rG, rW, elemTol(rW, 1e-4, 0), `${what} rstd`);

          const dy = filled(x.length, 13);
          const dx0 = filled(x.length, 14), dw0 = filled(C, 15), db0 = filled(C, 16);
          const dxW = dx0.slice(), dxG = dx0.slice();
          const dwW = affine ? dw0.slice() : null, dwG = affine ? dw0.slice() : null;
          const dbW = affine ? db0.slice() : null, dbG = affine ? db0.slice() : null;
          ref.layerNormBackward(x, w, mW, rW, dy, dxW, dwW, dbW, rows, C);
          get().layerNormBackward(x, w, mW, rW, dy, dxG, dwG, dbG, rows, C);
          closeTo(dxG, dxW, elemTol(dxW, 1e-4, 1e-5), `${what} dx`);
          // dw, db sum over rows: tolerance grows with √rows
          const sumTol = (want: Float32Array) => (i: number) => 1e-5 * Math.sqrt(rows) * (Math.abs(want[i]) + 1);
          if (dwW && dwG) closeTo(dwG, dwW, sumTol(dwW), `${what} dw`);
          if (dbW && dbG) closeTo(dbG, dbW, sumTol(dbW), `${what} db`);
          if (rows * C > 70_000) assert.equal(get().lastParts, get().threads, 'big layer norms split over every thread');
        }
      }
    });

    test('gelu and geluBackward over a wide range, including large |x|', () => {
      for (const n of [1, 3, 17, 100_003]) {
        const x = filled(n, n, 6);
        if (n > 3) { x[0] = -12; x[1] = 12; x[2] = 0; }
        const yW = new Float32Array(n), yG = new Float32Array(n);
        ref.gelu(x, yW, n);
        get().gelu(x, yG, n);
        closeTo(yG, yW, elemTol(yW, 1e-5, 1e-6), `gelu n=${n}`);
        const dy = filled(n, n + 1), dx0 = filled(n, n + 2);
        const dW = dx0.slice(), dG = dx0.slice();
        ref.geluBackward(x, yW, dy, dW, n);
        get().geluBackward(x, yG, dy, dG, n);
        closeTo(dG, dW, elemTol(dW, 1e-5, 1e-6), `geluBackward n=${n}`);
      }
    });

    test('swiglu and swigluBackward (and silu: no up), odd sizes, large |x|, either gradient alone', () => {
      // stability: |x| past exp's float32 range (±88) and far beyond, where σ is 0 or 1 exactly
      const extremes = [-1e4, -200, -90, -88, -30, -12, 0, 12, 30, 88, 90, 200, 1e4, -1.2785, 1e-30, -1e-30];
      for (const n of [1, 3, 17, 100_003]) {
        const gate = filled(n, n, 8);
        if (n > 3) gate.set(extremes.slice(0, n));
        const upArr = filled(n, n + 3, 2), dy = filled(n, n + 1);
        for (const up of [upArr, null]) {
          const what = `${up ? 'swiglu' : 'silu'} n=${n}`;
          const yW = new Float32Array(n), yG = new Float32Array(n);
          ref.swiglu(gate, up, yW, n);
          get().swiglu(gate, up, yG, n);
          closeTo(yG, yW, elemTol(yW, 1e-5, 1e-6), what);
          if (n > 70_000) assert.equal(get().lastParts, get().threads, `big ${what} splits over every thread`);
          const inPlace = gate.slice();
          get().swiglu(inPlace, up, inPlace, n);
          closeTo(inPlace, yW, elemTol(yW, 1e-5, 1e-6), `${what} in place`);
          for (const [withG, withU, accumulate] of [[true, true, true], [true, true, false], [true, false, true], [false, true, false]]) {
            if (withU && !up) continue;
            const g0 = filled(n, n + 2), u0 = filled(n, n + 4);
            const dgW = withG ? g0.slice() : null, dgG = withG ? g0.slice() : null;
            const duW = withU ? u0.slice() : null, duG = withU ? u0.slice() : null;
            ref.swigluBackward(gate, up, dy, dgW, duW, n, accumulate);
            get().swigluBackward(gate, up, dy, dgG, duG, n, accumulate);
            const which = `${what} backward accumulate=${accumulate}`;
            if (dgW && dgG) closeTo(dgG, dgW, elemTol(dgW, 1e-5, 1e-6), `${which} dgate`);
            if (duW && duG) closeTo(duG, duW, elemTol(duW, 1e-5, 1e-6), `${which} dup`);
            if (n > 70_000) assert.equal(get().lastParts, get().threads, `big ${what} backward splits over every thread`);
          }
        }
      }
      assert.throws(() => get().swiglu(new Float32Array(4), new Float32Array(3), new Float32Array(4), 4), /swiglu: up has 3 elements but n=4 needs 4/);
    });

    test('recurrent gates (RNN tanh/relu, LSTM, GRU) and their backward passes, odd sizes, large |x|', () => {
      const extremes = [-1e4, -200, -90, -88, -30, -12, 0, 12, 30, 88, 90, 200, 1e4, -1.2785, 1e-30, -1e-30, 1e-4, -3e-3];
      const tol = (want: Float32Array) => elemTol(want, 1e-5, 1e-6);
      for (const [B, H] of ROW_SHAPES) {
        const s = B * H, what = `B=${B}, H=${H}`;
        for (const relu of [false, true]) {
          const pre = filled(s, s, 6);
          if (s > 20) pre.set(extremes);
          const hW = new Float32Array(s), hG = new Float32Array(s);
          ref.rnnAct(pre, hW, s, relu);
          get().rnnAct(pre, hG, s, relu);
          closeTo(hG, hW, tol(hW), `rnnAct relu=${relu} ${what}`);
          const dh = filled(s, s + 1), dW = new Float32Array(s), dG = new Float32Array(s);
          ref.rnnActBackward(dh, hW, dW, s, relu);
          get().rnnActBackward(dh, hW, dG, s, relu);
          closeTo(dG, dW, tol(dW), `rnnActBackward relu=${relu} ${what}`);
        }
        // LSTM: gates in place, then the backward from the reference's activations
        const pre = filled(4 * s, s + 2, 6);
        if (s > 20) pre.set(extremes);
        const cPrev = filled(s, s + 3, 2);
        const gW = pre.slice(), gG = pre.slice();
        const [cW, tcW, hW] = [0, 1, 2].map(() => new Float32Array(s)), [cG, tcG, hG] = [0, 1, 2].map(() => new Float32Array(s));
        ref.lstmGates(gW, cPrev, cW, tcW, hW, B, H);
        get().lstmGates(gG, cPrev, cG, tcG, hG, B, H);
        [[gG, gW, 'gates'], [cG, cW, 'c'], [tcG, tcW, 'tanh c'], [hG, hW, 'h']].forEach(([g, w, n]) =>
          closeTo(g as Float32Array, w as Float32Array, tol(w as Float32Array), `lstmGates ${n as string} ${what}`));
        if (B * 4 * H > 70_000) assert.equal(get().lastParts, get().threads, 'big LSTM gates split over every thread');
        const dh = filled(s, s + 4), dc0 = filled(s, s + 5);
        const dcW = dc0.slice(), dcG = dc0.slice(), dgW = new Float32Array(4 * s), dgG = new Float32Array(4 * s);
        ref.lstmGatesBackward(dh, dcW, gW, cPrev, tcW, dgW, B, H);
        get().lstmGatesBackward(dh, dcG, gW, cPrev, tcW, dgG, B, H);
        closeTo(dgG, dgW, tol(dgW), `lstmGatesBackward dGates ${what}`);
        closeTo(dcG, dcW, tol(dcW), `lstmGatesBackward dcPrev ${what}`);
        // GRU
        const xg = filled(3 * s, s + 6, 6), hg = filled(3 * s, s + 7, 6), hPrev = filled(s, s + 8);
        if (s > 20) xg.set(extremes);
        const aW = new Float32Array(3 * s), aG = new Float32Array(3 * s), h2W = new Float32Array(s), h2G = new Float32Array(s);
        ref.gruGates(xg, hg, hPrev, aW, h2W, B, H);
        get().gruGates(xg, hg, hPrev, aG, h2G, B, H);
        closeTo(aG, aW, tol(aW), `gruGates acts ${what}`);
        closeTo(h2G, h2W, tol(h2W), `gruGates h ${what}`);
        const dhp0 = filled(s, s + 9);
        const [dxW, dhgW, dxG, dhgG] = [0, 1, 2, 3].map(() => new Float32Array(3 * s));
        const dhpW = dhp0.slice(), dhpG = dhp0.slice();
        ref.gruGatesBackward(dh, aW, hg, hPrev, dxW, dhgW, dhpW, B, H);
        get().gruGatesBackward(dh, aW, hg, hPrev, dxG, dhgG, dhpG, B, H);
        closeTo(dxG, dxW, tol(dxW), `gruGatesBackward dxg ${what}`);
        closeTo(dhgG, dhgW, tol(dhgW), `gruGatesBackward dhg ${what}`);
        closeTo(dhpG, dhpW, tol(dhpW), `gruGatesBackward dhPrev ${what}`);
      }
      assert.throws(() => get().lstmGates(new Float32Array(7), new Float32Array(2), new Float32Array(2), new Float32Array(2), new Float32Array(2), 1, 2),
        /lstmGates: gates has 7 elements but rows=1 needs 8/);
    });

    test('rmsNorm and rmsNormBackward, with and without a gain, either gradient alone, in place', () => {
      for (const [rows, C] of ROW_SHAPES) {
        for (const gain of [true, false]) {
          const x = filled(rows * C, rows * C + 5, 3).map((v, i) => v + (i % 5));
          if (C > 4) x.fill(0, 0, C); // an all-zero row: r = 1/√eps
          const w = gain ? filled(C, 21) : null;
          const yW = new Float32Array(x.length), yG = new Float32Array(x.length);
          const rW = new Float32Array(rows), rG = new Float32Array(rows);
          ref.rmsNorm(x, w, yW, rW, rows, C, 1e-5);
          get().rmsNorm(x, w, yG, rG, rows, C, 1e-5);
          const what = `rmsNorm ${rows}×${C} gain=${gain}`;
          closeTo(yG, yW, elemTol(yW, 1e-5, 1e-6), what);
          closeTo(rG, rW, elemTol(rW, 1e-5, 0), `${what} rstd`);
          if (rows * C > 70_000) assert.equal(get().lastParts, get().threads, 'big RMSNorms split over every thread');
          const inPlace = x.slice();
          get().rmsNorm(inPlace, w, inPlace, rG, rows, C, 1e-5);
          closeTo(inPlace, yW, elemTol(yW, 1e-5, 1e-6), `${what} in place`);

          const dy = filled(x.length, 23), dx0 = filled(x.length, 24), dw0 = filled(C, 25);
          for (const [withX, withW] of [[true, true], [true, false], [false, true]]) {
            const dxW = withX ? dx0.slice() : null, dxG = withX ? dx0.slice() : null;
            const dwW = withW ? dw0.slice() : null, dwG = withW ? dw0.slice() : null;
            ref.rmsNormBackward(x, w, rW, dy, dxW, dwW, rows, C);
            get().rmsNormBackward(x, w, rW, dy, dxG, dwG, rows, C);
            const which = `${what} backward dx=${withX} dw=${withW}`;
            // the zero row's dx is r·g with r = 1/√eps ≈ 316: absolute error scales with it
            if (dxW && dxG) closeTo(dxG, dxW, elemTol(dxW, 1e-4, 1e-5), `${which} dx`);
            if (dwW && dwG) closeTo(dwG, dwW, (i) => 1e-5 * Math.sqrt(rows) * (Math.abs(dwW[i]) + 1), `${which} dw`);
            if (rows * C > 70_000) assert.equal(get().lastParts, get().threads, 'big RMSNorm backwards split over every thread');
          }
        }
      }
      assert.throws(() => get().rmsNorm(new Float32Array(6), new Float32Array(2), new Float32Array(6), new Float32Array(2), 2, 3, 1e-5),
        /rmsNorm: w has 2 elements but rows=2, C=3 needs 3/);
    });

    test('adamw: several steps with weight decay', () => {
      for (const n of [1, 7, 70_001]) {
        const pW = filled(n, 1), gSeq = [filled(n, 2, 0.1), filled(n, 3, 0.1), filled(n, 4, 0.1)];
        const mW = new Float32Array(n), vW = new Float32Array(n);
        const pG = pW.slice(), mG = mW.slice(), vG = vW.slice();
        gSeq.forEach((g, t) => {
          ref.adamw(pW, g, mW, vW, n, 1e-3, 0.9, 0.95, 1e-8, 0.1, t + 1);
          get().adamw(pG, g, mG, vG, n, 1e-3, 0.9, 0.95, 1e-8, 0.1, t + 1);
        });
        closeTo(pG, pW, elemTol(pW, 1e-5, 1e-6), `adamw p n=${n}`);
        closeTo(mG, mW, elemTol(mW, 1e-5, 1e-8), `adamw m n=${n}`);
        closeTo(vG, vW, elemTol(vW, 1e-5, 1e-10), `adamw v n=${n}`);
      }
    });

    test('fused attention and its backward (overwrite and accumulate)', () => {
      // (B, T, H, hs): tails of every tile size, and the CPU config's shape, which the team splits
      for (const [B, T, H, hs] of [[1, 1, 1, 1], [2, 7, 3, 5], [1, 65, 2, 33], [12, 64, 4, 32]]) {
        const C = H * hs, n3 = B * T * 3 * C, scale = 1 / Math.sqrt(hs);
        const qkv = filled(n3, T + hs, 2), dy = filled(B * T * C, T + 1);
        const yW = new Float32Array(B * T * C), yG = new Float32Array(B * T * C);
        const aW = new Float32Array(B * H * T * T), aG = filled(B * H * T * T, 5); // junk: every entry is written
        ref.attention(qkv, yW, aW, B, T, H, hs, scale);
        get().attention(qkv, yG, aG, B, T, H, hs, scale);
        closeTo(yG, yW, elemTol(yW, 1e-4, 1e-5), `attention y ${[B, T, H, hs]}`);
        closeTo(aG, aW, elemTol(aW, 1e-4, 1e-6), `attention att ${[B, T, H, hs]}`);
        for (const accumulate of [false, true]) {
          const d0 = filled(n3, 9);
          const dW = d0.slice(), dG = d0.slice();
          ref.attentionBackward(qkv, aW, dy, dW, B, T, H, hs, scale, accumulate);
          get().attentionBackward(qkv, aW, dy, dG, B, T, H, hs, scale, accumulate);
          closeTo(dG, dW, elemTol(dW, 1e-4, 1e-5), `attentionBackward ${[B, T, H, hs]} accumulate=${accumulate}`);
        }
      }
    });
  });
}

describe('backend selection', () => {
  test('ensureBackend installs the JS reference only when nothing is installed', async () => {
    const b = await initBackend({ backend: 'js' });
    assert.equal(b.name, 'js');
    assert.equal(ensureBackend(), b);
    const w = await initBackend({ backend: 'wasm', threads: 1 });
    assert.equal(backend(), w);
    assert.equal(w.threads, 1);
    assert.equal(ensureBackend(), w);
    setBackend(ref);
  });

  test('an unknown backend name is one clear error', async () => {
    await assert.rejects(initBackend({ backend: 'cuda' as 'js' }), /unknown backend 'cuda'/);
  });
});
