// The reference of the recurrent gate kernels (JsBackend's, in float64 arithmetic): one timestep's
// nonlinearities and state update of an Elman RNN, an LSTM or a GRU over B rows, and their backward passes.
// The matrix products around a step (x·W_ihᵀ + b_ih for the whole sequence, h·W_hhᵀ + b_hh per step) are the
// caller's GEMMs (src/tensor/rnn-layers.ts); these kernels only apply the gates. Equations and gate order are
// PyTorch's (torch.nn.RNN / LSTM / GRU documentation):
//   RNN   h' = act(pre)                                    act = tanh or relu
//   LSTM  i, f, g, o = σ, σ, tanh, σ of pre split in 4     (Hochreiter & Schmidhuber 1997)
//         c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
//   GRU   r, z = σ(x_r + h_r), σ(x_z + h_z);  n = tanh(x_n + r ⊙ h_n)            (Cho et al. 2014)
//         h' = (1 − z) ⊙ n + z ⊙ h
// A row of LSTM gates is [i (H), f (H), g (H), o (H)], of GRU gates [r, z, n]. The wasm kernels
// (assembly/rnn.ts) compute the same in float32 SIMD; test/kernels.test.ts holds them together.
import { sigmoid } from './js.js';

/** Elman RNN: h[i] = tanh(pre[i]) (or relu) for i < n. */
export function rnnActRef(pre: Float32Array, h: Float32Array, n: number, relu: boolean): void {
  for (let i = 0; i < n; i++) {
    const v = pre[i];
    h[i] = relu ? (v > 0 ? v : 0) : Math.tanh(v);
  }
}

/** dpre[i] = dh[i]·act'(pre[i]) (overwritten), act' read from the output h: 1 − h² (tanh) or [h > 0] (relu). */
export function rnnActBackwardRef(dh: Float32Array, h: Float32Array, dpre: Float32Array, n: number, relu: boolean): void {
  for (let i = 0; i < n; i++) {
    const hi = h[i];
    dpre[i] = dh[i] * (relu ? (hi > 0 ? 1 : 0) : 1 - hi * hi);
  }
}

/**
 * LSTM forward of one step: gates (B, 4H) holds the pre-activations and is overwritten with σ(i), σ(f),
 * tanh(g), σ(o); c = f⊙cPrev + i⊙g, tc = tanh(c), h = o⊙tc (each (B, H)).
 */
export function lstmGatesRef(
  gates: Float32Array, cPrev: Float32Array, c: Float32Array, tc: Float32Array, h: Float32Array, B: number, H: number,
): void {
  for (let b = 0; b < B; b++) {
    const row = b * 4 * H;
    for (let j = 0; j < H; j++) {
      const k = b * H + j;
      const i = sigmoid(gates[row + j]), f = sigmoid(gates[row + H + j]);
      const g = Math.tanh(gates[row + 2 * H + j]), o = sigmoid(gates[row + 3 * H + j]);
      gates[row + j] = i, gates[row + H + j] = f, gates[row + 2 * H + j] = g, gates[row + 3 * H + j] = o;
      c[k] = f * cPrev[k] + i * g;
      tc[k] = Math.tanh(c[k]);
      h[k] = o * tc[k];
    }
  }
}

/**
 * LSTM backward of one step from its activations (gates after lstmGates), dh (B, H) the gradient reaching h'
 * and dc (B, H) the gradient reaching c' from later steps: writes dGates (B, 4H) (overwritten) and replaces dc
 * in place by the gradient reaching cPrev.
 */
export function lstmGatesBackwardRef(
  dh: Float32Array, dc: Float32Array, gates: Float32Array, cPrev: Float32Array, tc: Float32Array, dGates: Float32Array,
  B: number, H: number,
): void {
  for (let b = 0; b < B; b++) {
    const row = b * 4 * H;
    for (let j = 0; j < H; j++) {
      const k = b * H + j, d = dh[k], t = tc[k];
      const i = gates[row + j], f = gates[row + H + j], g = gates[row + 2 * H + j], o = gates[row + 3 * H + j];
      const dct = dc[k] + d * o * (1 - t * t);
      dGates[row + j] = dct * g * i * (1 - i);
      dGates[row + H + j] = dct * cPrev[k] * f * (1 - f);
      dGates[row + 2 * H + j] = dct * i * (1 - g * g);
      dGates[row + 3 * H + j] = d * t * o * (1 - o);
      dc[k] = dct * f;
    }
  }
}

/**
 * GRU forward of one step: xg (B, 3H) = x·W_ihᵀ + b_ih and hg (B, 3H) = h·W_hhᵀ + b_hh (b_hn stays inside
 * r ⊙ (…) as PyTorch has it); acts (B, 3H) receives r, z, n and h (B, H) the new state.
 */
export function gruGatesRef(
  xg: Float32Array, hg: Float32Array, hPrev: Float32Array, acts: Float32Array, h: Float32Array, B: number, H: number,
): void {
  for (let b = 0; b < B; b++) {
    const row = b * 3 * H;
    for (let j = 0; j < H; j++) {
      const k = b * H + j;
      const r = sigmoid(xg[row + j] + hg[row + j]);
      const z = sigmoid(xg[row + H + j] + hg[row + H + j]);
      const n = Math.tanh(xg[row + 2 * H + j] + r * hg[row + 2 * H + j]);
      acts[row + j] = r, acts[row + H + j] = z, acts[row + 2 * H + j] = n;
      h[k] = (1 - z) * n + z * hPrev[k];
    }
  }
}

/**
 * GRU backward of one step given dh (B, H): writes dxg and dhg (B, 3H) (overwritten; they differ in the n
 * part, dhg_n = dxg_n ⊙ r) and adds dh ⊙ z into dhPrev (B, H).
 */
export function gruGatesBackwardRef(
  dh: Float32Array, acts: Float32Array, hg: Float32Array, hPrev: Float32Array,
  dxg: Float32Array, dhg: Float32Array, dhPrev: Float32Array, B: number, H: number,
): void {
  for (let b = 0; b < B; b++) {
    const row = b * 3 * H;
    for (let j = 0; j < H; j++) {
      const k = b * H + j, d = dh[k];
      const r = acts[row + j], z = acts[row + H + j], n = acts[row + 2 * H + j];
      const dpn = d * (1 - z) * (1 - n * n);
      const dpr = dpn * hg[row + 2 * H + j] * r * (1 - r);
      const dpz = d * (hPrev[k] - n) * z * (1 - z);
      dxg[row + j] = dpr, dxg[row + H + j] = dpz, dxg[row + 2 * H + j] = dpn;
      dhg[row + j] = dpr, dhg[row + H + j] = dpz, dhg[row + 2 * H + j] = dpn * r;
      dhPrev[k] += d * z;
    }
  }
}
