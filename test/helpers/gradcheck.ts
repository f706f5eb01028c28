// Finite-difference gradient checking: compares autograd's gradient of L = Σ f(inputs)·R (R a fixed random
// projection, so the whole Jacobian is exercised) with central differences of the same function.
import assert from 'node:assert/strict';
import { Tensor, noGrad, Rng } from '../../src/tensor/index.js';
import { mul, sum } from '../../src/tensor/index.js';

/** (f(x + eps) − f(x − eps)) / 2·eps with x = data[i], restoring data[i] afterwards */
export function centralDifference(data: Float32Array, i: number, eps: number, f: () => number): number {
  const orig = data[i];
  data[i] = orig + eps;
  const up = f();
  data[i] = orig - eps;
  const down = f();
  data[i] = orig;
  return (up - down) / (2 * eps);
}

export function gradcheck(
  name: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: { eps?: number; atol?: number; rtol?: number } = {},
): void {
  const eps = opts.eps ?? 1e-2, atol = opts.atol ?? 2e-3, rtol = opts.rtol ?? 2e-2;
  for (const x of inputs) (x.requiresGrad = true), x.zeroGrad();
  const out0 = f(...inputs);
  const rng = new Rng(99);
  const R = Tensor.randn(out0.shape.slice(), rng);
  const loss = sum(mul(out0, R));
  loss.backward();
  const lossAt = (): number => noGrad(() => {
    const o = f(...inputs);
    let s = 0;
    for (let i = 0; i < o.size; i++) s += o.data[i] * R.data[i];
    return s;
  });
  inputs.forEach((x, xi) => {
    const g = x.grad ?? new Float32Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const num = centralDifference(x.data, i, eps, lossAt);
      const diff = Math.abs(num - g[i]);
      if (diff > atol + rtol * Math.abs(num)) {
        assert.fail(`${name}: input ${xi} element ${i}: autograd ${g[i]} vs finite difference ${num}`);
      }
    }
  });
}
