// Recurrent gate kernels in f32x4: one timestep of an Elman RNN, an LSTM or a GRU over rows [r0, r1) of B
// (elements [i0, i1) for the RNN), and their backward passes. The reference, with the equations, is
// src/backend/rnn-gates-ref.ts; the GEMMs around a step are the caller's. A row of LSTM gates is
// [i, f, g, o], of GRU gates [r, z, n], H floats each; tails of H shorter than 4 lanes go through loadN/storeN.
import { loadN, storeN } from './ops';
import { vsigmoid, vtanh } from './vmath';

@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** h = tanh(pre) (relu != 0: max(pre, 0)) over [i0, i1) */
export function rnnAct(pre: usize, h: usize, relu: i32, i0: i32, i1: i32): void {
  const zero = f32x4.splat(0);
  for (let i = i0; i < i1; i += 4) {
    const n = min(4, i1 - i), v = loadN(at(pre, i), n);
    storeN(at(h, i), relu ? f32x4.pmax(v, zero) : vtanh(v), n);
  }
}

/** dpre = dh ⊙ act'(h) over [i0, i1): 1 − h² for tanh, [h > 0] for relu (overwritten) */
export function rnnActBackward(dh: usize, h: usize, dpre: usize, relu: i32, i0: i32, i1: i32): void {
  const one = f32x4.splat(1), zero = f32x4.splat(0);
  for (let i = i0; i < i1; i += 4) {
    const n = min(4, i1 - i), hv = loadN(at(h, i), n), d = loadN(at(dh, i), n);
    const g = relu ? v128.and(d, f32x4.gt(hv, zero)) : f32x4.mul(d, f32x4.sub(one, f32x4.mul(hv, hv)));
    storeN(at(dpre, i), g, n);
  }
}

/** LSTM forward of rows [r0, r1): gates (B, 4H) pre-activations → activations in place; c, tc, h (B, H) */
export function lstmGates(gates: usize, cPrev: usize, c: usize, tc: usize, h: usize, H: i32, r0: i32, r1: i32): void {
  for (let b = r0; b < r1; b++) {
    const row = at(gates, b * 4 * H), s = b * H;
    for (let j = 0; j < H; j += 4) {
      const n = min(4, H - j);
      const pi = at(row, j), pf = at(row, H + j), pg = at(row, 2 * H + j), po = at(row, 3 * H + j);
      const i = vsigmoid(loadN(pi, n)), f = vsigmoid(loadN(pf, n)), g = vtanh(loadN(pg, n)), o = vsigmoid(loadN(po, n));
      storeN(pi, i, n); storeN(pf, f, n); storeN(pg, g, n); storeN(po, o, n);
      const cv = f32x4.add(f32x4.mul(f, loadN(at(cPrev, s + j), n)), f32x4.mul(i, g));
      const t = vtanh(cv);
      storeN(at(c, s + j), cv, n);
      storeN(at(tc, s + j), t, n);
      storeN(at(h, s + j), f32x4.mul(o, t), n);
    }
  }
}

/** LSTM backward of rows [r0, r1): dGates (B, 4H) overwritten, dc (B, H) replaced by the gradient reaching cPrev */
export function lstmGatesBackward(
  dh: usize, dc: usize, gates: usize, cPrev: usize, tc: usize, dGates: usize, H: i32, r0: i32, r1: i32,
): void {
  const one = f32x4.splat(1);
  for (let b = r0; b < r1; b++) {
    const row = b * 4 * H, s = b * H;
    for (let j = 0; j < H; j += 4) {
      const n = min(4, H - j);
      const i = loadN(at(gates, row + j), n), f = loadN(at(gates, row + H + j), n);
      const g = loadN(at(gates, row + 2 * H + j), n), o = loadN(at(gates, row + 3 * H + j), n);
      const d = loadN(at(dh, s + j), n), t = loadN(at(tc, s + j), n);
      const dct = f32x4.add(loadN(at(dc, s + j), n), f32x4.mul(f32x4.mul(d, o), f32x4.sub(one, f32x4.mul(t, t))));
      storeN(at(dGates, row + j), f32x4.mul(f32x4.mul(dct, g), f32x4.mul(i, f32x4.sub(one, i))), n);
      storeN(at(dGates, row + H + j), f32x4.mul(f32x4.mul(dct, loadN(at(cPrev, s + j), n)), f32x4.mul(f, f32x4.sub(one, f))), n);
      storeN(at(dGates, row + 2 * H + j), f32x4.mul(f32x4.mul(dct, i), f32x4.sub(one, f32x4.mul(g, g))), n);
      storeN(at(dGates, row + 3 * H + j), f32x4.mul(f32x4.mul(d, t), f32x4.mul(o, f32x4.sub(one, o))), n);
      storeN(at(dc, s + j), f32x4.mul(dct, f), n);
    }
  }
}

/** GRU forward of rows [r0, r1): acts (B, 3H) receives r, z, n; h (B, H) = n + z ⊙ (hPrev − n) */
export function gruGates(xg: usize, hg: usize, hPrev: usize, acts: usize, h: usize, H: i32, r0: i32, r1: i32): void {
  for (let b = r0; b < r1; b++) {
    const row = b * 3 * H, s = b * H;
    for (let j = 0; j < H; j += 4) {
      const q = min(4, H - j);
      const r = vsigmoid(f32x4.add(loadN(at(xg, row + j), q), loadN(at(hg, row + j), q)));
      const z = vsigmoid(f32x4.add(loadN(at(xg, row + H + j), q), loadN(at(hg, row + H + j), q)));
      const n = vtanh(f32x4.add(loadN(at(xg, row + 2 * H + j), q), f32x4.mul(r, loadN(at(hg, row + 2 * H + j), q))));
      storeN(at(acts, row + j), r, q); storeN(at(acts, row + H + j), z, q); storeN(at(acts, row + 2 * H + j), n, q);
      storeN(at(h, s + j), f32x4.add(n, f32x4.mul(z, f32x4.sub(loadN(at(hPrev, s + j), q), n))), q);
    }
  }
}

/** GRU backward of rows [r0, r1): dxg, dhg (B, 3H) overwritten; dhPrev (B, H) += dh ⊙ z */
export function gruGatesBackward(
  dh: usize, acts: usize, hg: usize, hPrev: usize, dxg: usize, dhg: usize, dhPrev: usize, H: i32, r0: i32, r1: i32,
): void {
  const one = f32x4.splat(1);
  for (let b = r0; b < r1; b++) {
    const row = b * 3 * H, s = b * H;
    for (let j = 0; j < H; j += 4) {
      const q = min(4, H - j);
      const r = loadN(at(acts, row + j), q), z = loadN(at(acts, row + H + j), q), n = loadN(at(acts, row + 2 * H + j), q);
      const d = loadN(at(dh, s + j), q);
      const dpn = f32x4.mul(f32x4.mul(d, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
      const dpr = f32x4.mul(f32x4.mul(dpn, loadN(at(hg, row + 2 * H + j), q)), f32x4.mul(r, f32x4.sub(one, r)));
      const dpz = f32x4.mul(f32x4.mul(d, f32x4.sub(loadN(at(hPrev, s + j), q), n)), f32x4.mul(z, f32x4.sub(one, z)));
      storeN(at(dxg, row + j), dpr, q); storeN(at(dxg, row + H + j), dpz, q); storeN(at(dxg, row + 2 * H + j), dpn, q);
      storeN(at(dhg, row + j), dpr, q); storeN(at(dhg, row + H + j), dpz, q); storeN(at(dhg, row + 2 * H + j), f32x4.mul(dpn, r), q);
      storeN(at(dhPrev, s + j), f32x4.add(loadN(at(dhPrev, s + j), q), f32x4.mul(d, z)), q);
    }
  }
}
