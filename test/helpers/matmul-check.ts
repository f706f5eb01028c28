// Shared by the fast-backend tests (kernels, blas): deterministic data, tolerant comparison, and one matmul
// case checked against the JS reference with a per-entry error bound of 1e-5·Σ_k|a_ik·b_kj| (+1e-6·|C₀| per
// accumulated item): float32 sums of K products differ from float64 ones by about √K·2⁻²⁴ of that.
import assert from 'node:assert/strict';
import type { Backend, MatmulArgs } from '../../src/backend/backend.js';
import { JsBackend } from '../../src/backend/js.js';

export const ref = new JsBackend();

// deterministic data (xorshift32 → uniform [-1, 1))
export function filled(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

export function closeTo(got: Float32Array, want: Float32Array, tol: (i: number) => number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= tol(i))) assert.fail(`${what}: element ${i} is ${got[i]}, reference ${want[i]} (|diff| ${d} > ${tol(i)})`);
  }
}

export function args(p: Partial<MatmulArgs> & { M: number; N: number; K: number }): MatmulArgs {
  return {
    batch: 1, transA: false, transB: false, accumulate: false, strideA: 0, strideB: 0, strideC: 0, ...p,
  };
}

/** `place` puts the operands where the backend should find them (e.g. its own memory); identity by default */
export function checkMatmul(be: Backend, a: MatmulArgs, seed: number, place: (x: Float32Array) => Float32Array = (x) => x): void {
  const { batch, M, N, K, strideA, strideB, strideC } = a;
  const ext = (s: number, size: number) => (batch - 1) * s + size;
  const A = place(filled(ext(strideA, M * K), seed)), B = place(filled(ext(strideB, K * N), seed + 1));
  const C0 = filled(ext(strideC, M * N), seed + 2);
  const want = C0.slice(), got = place(C0.slice());
  ref.matmul(A, B, want, a);
  be.matmul(A, B, got, a);
  // the error bound per entry: Σ|a||b| from the reference on absolute values
  const bound = new Float32Array(C0.length);
  ref.matmul(A.map(Math.abs), B.map(Math.abs), bound, { ...a, accumulate: strideC === 0 && batch > 1 && a.accumulate });
  closeTo(got, want, (i) => 1e-5 * bound[i] + (a.accumulate ? 1e-6 * Math.abs(C0[i]) * batch : 0) + 1e-30,
    `${be.name} matmul ${JSON.stringify(a)}`);
}
