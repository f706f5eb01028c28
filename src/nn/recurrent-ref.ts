// The recurrent cells composed from ordinary differentiable ops (slice, add, mul, sigmoid, tanh): the
// readable reference that the fused layers of src/tensor/rnn-layers.ts are tested against, and what a module
// built with `fused: false` runs, one timestep at a time. PyTorch's equations and gate order.
import { Tensor } from '../tensor/tensor.js';
import { add, mul, relu, sigmoid, sub, tanh } from '../tensor/elementwise.js';
import { reshape, slice } from '../tensor/shape.js';
import type { Nonlinearity } from '../tensor/rnn-layers.js';

/** timestep t of xp (T, B, G·H) as (B, G·H) */
const stepOf = (xp: Tensor, t: number): Tensor => reshape(slice(xp, 0, t, t + 1), xp.shape.slice(1));

/** gate k of H columns out of (B, G·H) */
const gate = (a: Tensor, k: number, H: number): Tensor => slice(a, 1, k * H, (k + 1) * H);

/** h' = act(x_t + h_g); xp (T, B, H), hg (B, H) → (B, H) */
export function rnnCellRef(xp: Tensor, t: number, hg: Tensor, nonlinearity: Nonlinearity = 'tanh'): Tensor {
  const pre = add(stepOf(xp, t), hg);
  return nonlinearity === 'relu' ? relu(pre) : tanh(pre);
}

/** LSTM step; xp (T, B, 4H), hg (B, 4H), cPrev (B, H) → h', c' (B, H) */
export function lstmCellRef(xp: Tensor, t: number, hg: Tensor, cPrev: Tensor): { h: Tensor; c: Tensor } {
  const H = hg.shape[1] / 4;
  const pre = add(stepOf(xp, t), hg);
  const i = sigmoid(gate(pre, 0, H)), f = sigmoid(gate(pre, 1, H));
  const g = tanh(gate(pre, 2, H)), o = sigmoid(gate(pre, 3, H));
  const c = add(mul(f, cPrev), mul(i, g));
  return { h: mul(o, tanh(c)), c };
}

/** GRU step; xp (T, B, 3H), hg (B, 3H), hPrev (B, H) → h' (B, H) */
export function gruCellRef(xp: Tensor, t: number, hg: Tensor, hPrev: Tensor): Tensor {
  const H = hg.shape[1] / 3;
  const x = stepOf(xp, t);
  const r = sigmoid(add(gate(x, 0, H), gate(hg, 0, H)));
  const z = sigmoid(add(gate(x, 1, H), gate(hg, 1, H)));
  const n = tanh(add(gate(x, 2, H), mul(r, gate(hg, 2, H))));
  // (1 − z) ⊙ n + z ⊙ h  =  n + z ⊙ (h − n)
  return add(n, mul(z, sub(hPrev, n)));
}
