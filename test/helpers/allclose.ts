// One comparison for every test that holds numbers to a reference (PyTorch fixtures, kernels against the
// plain reference, finite differences): |got − want| ≤ atol + rtol·|want| element by element, as
// torch.allclose / numpy.allclose, failing with the first element that is off. −Infinity must match exactly.
import assert from 'node:assert/strict';

export interface Tolerance {
  atol?: number;
  rtol?: number;
}

/** Asserts got ≈ want elementwise (default atol 1e-6, rtol 0); `what` names the quantity in the failure. */
export function assertAllClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol: Tolerance = {}): void {
  const atol = tol.atol ?? 1e-6, rtol = tol.rtol ?? 0;
  assert.equal(got.length, want.length, `${what}: length ${got.length}, reference ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (want[i] === -Infinity || want[i] === Infinity) {
      assert.equal(got[i], want[i], `${what}[${i}]: got ${got[i]}, reference ${want[i]}`);
      continue;
    }
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= atol + rtol * Math.abs(want[i]))) {
      assert.fail(`${what}[${i}]: got ${got[i]}, reference ${want[i]} (|Δ| ${d.toExponential(2)} > ${atol} + ${rtol}·|ref|)`);
    }
  }
}

/** the largest |got − want| (for reports) */
export function maxAbsDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
  return m;
}
