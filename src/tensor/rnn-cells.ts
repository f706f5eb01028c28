// Fused recurrent cells: one timestep of an Elman RNN, an LSTM or a GRU — the gates' nonlinearities and the
// state update in one pass over the (B, G·H) pre-activations, with hand-written backward passes. The two
// matrix products around a step (the input projection of the whole sequence, x·W_ihᵀ + b_ih, and the
// recurrent one, h·W_hhᵀ + b_hh) stay with linear() and the backend's GEMM; a cell only adds them and applies
// the gates. Equations and gate order are PyTorch's (torch.nn.RNN / LSTM / GRU documentation):
//   RNN   h' = act(x_t + h_g)                                   act = tanh or relu
//   LSTM  i, f, g, o = σ, σ, tanh, σ of (x_t + h_g) split in 4   (Hochreiter & Schmidhuber 1997)
//         c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
//   GRU   r, z = σ of (x_t + h_g) parts 0, 1;  n = tanh(x_n + r ⊙ h_n)               (Cho et al. 2014)
//         h' = (1 − z) ⊙ n + z ⊙ h
// where x_t is timestep t of the input projection xp (T, B, G·H) and h_g = h·W_hhᵀ + b_hh (B, G·H).
// A cell reads its slab of xp in place (offset t·B·G·H) and adds its gradient there, so no per-step slice is
// needed. The array kernels (…Forward / …Backward) are the shape a backend kernel would take.
// Browser-safe: no Node imports.
import { alloc } from '../backend/storage.js';
import { sigmoid } from '../backend/js.js';
import { Tensor } from './tensor.js';

export type Nonlinearity = 'tanh' | 'relu';

/** B, H and the offset of timestep t in xp, checking that xp (T, B, G·H) and hg (B, G·H) fit together. */
function stepShape(op: string, xp: Tensor, t: number, hg: Tensor, G: number): { B: number; H: number; off: number } {
  if (hg.ndim !== 2 || hg.shape[1] % G !== 0) throw new Error(`${op}: hg must be (B, ${G}·H), got [${hg.shape}]`);
  const [B, GH] = hg.shape;
  if (xp.ndim !== 3 || xp.shape[1] !== B || xp.shape[2] !== GH) {
    throw new Error(`${op}: xp must be (T, ${B}, ${GH}), got [${xp.shape}]`);
  }
  if (!Number.isInteger(t) || t < 0 || t >= xp.shape[0]) throw new Error(`${op}: t = ${t} is outside [0, ${xp.shape[0]})`);
  return { B, H: GH / G, off: t * B * GH };
}

function checkState(op: string, field: string, s: Tensor, B: number, H: number): void {
  if (s.ndim !== 2 || s.shape[0] !== B || s.shape[1] !== H) throw new Error(`${op}: ${field} must be (${B}, ${H}), got [${s.shape}]`);
}

const gradOf = (t: Tensor): Float32Array | null => (t.requiresGrad ? t.gradBuf() : null);

// ---- Elman RNN -------------------------------------------------------------------------------------------

/** h[i] = act(xp[xOff + i] + hg[i]) for i < n (n = B·H). */
export function rnnCellForward(xp: Float32Array, xOff: number, hg: Float32Array, h: Float32Array, n: number, relu: boolean): void {
  for (let i = 0; i < n; i++) {
    const v = xp[xOff + i] + hg[i];
    h[i] = relu ? (v > 0 ? v : 0) : Math.tanh(v);
  }
}

/** Adds dh·act'(pre) into dxp (at xOff) and dhg; act' is read from the output h. */
export function rnnCellBackward(
  dh: Float32Array, h: Float32Array, dxp: Float32Array | null, xOff: number, dhg: Float32Array | null, n: number, relu: boolean,
): void {
  for (let i = 0; i < n; i++) {
    const hi = h[i];
    const d = dh[i] * (relu ? (hi > 0 ? 1 : 0) : 1 - hi * hi);
    if (dxp) dxp[xOff + i] += d;
    if (dhg) dhg[i] += d;
  }
}

/**
 * One Elman RNN step: xp (T, B, H) the input projection, t the timestep, hg (B, H) = h·W_hhᵀ + b_hh.
 * Returns h' (B, H). Throws on mismatched shapes or t out of range.
 */
export function rnnCell(xp: Tensor, t: number, hg: Tensor, nonlinearity: Nonlinearity = 'tanh'): Tensor {
  if (nonlinearity !== 'tanh' && nonlinearity !== 'relu') throw new Error(`rnnCell: nonlinearity must be 'tanh' or 'relu', got ${String(nonlinearity)}`);
  const { B, H, off } = stepShape('rnnCell', xp, t, hg, 1);
  const relu = nonlinearity === 'relu';
  const h = alloc(B * H);
  rnnCellForward(xp.data, off, hg.data, h, B * H, relu);
  return Tensor.fromOp(h, [B, H], [xp, hg], (o) => rnnCellBackward(o.grad!, h, gradOf(xp), off, gradOf(hg), B * H, relu));
}

// ---- LSTM ------------------------------------------------------------------------------------------------

/**
 * One LSTM step on arrays: acts (B, 4H) receives i, f, g, o after their nonlinearities, c and h (B, H) the new
 * states, tc (B, H) tanh(c) for the backward pass.
 */
export function lstmCellForward(
  xp: Float32Array, xOff: number, hg: Float32Array, cPrev: Float32Array,
  acts: Float32Array, c: Float32Array, h: Float32Array, tc: Float32Array, B: number, H: number,
): void {
  for (let b = 0; b < B; b++) {
    const row = b * 4 * H, x = xOff + row;
    for (let j = 0; j < H; j++) {
      const k = b * H + j;
      const i = sigmoid(xp[x + j] + hg[row + j]);
      const f = sigmoid(xp[x + H + j] + hg[row + H + j]);
      const g = Math.tanh(xp[x + 2 * H + j] + hg[row + 2 * H + j]);
      const o = sigmoid(xp[x + 3 * H + j] + hg[row + 3 * H + j]);
      acts[row + j] = i, acts[row + H + j] = f, acts[row + 2 * H + j] = g, acts[row + 3 * H + j] = o;
      c[k] = f * cPrev[k] + i * g;
      tc[k] = Math.tanh(c[k]);
      h[k] = o * tc[k];
    }
  }
}

/** Backward of h' = o ⊙ tanh(c'): adds into the o gate's pre-activation gradients and into dc (B, H). */
export function lstmHBackward(
  dh: Float32Array, acts: Float32Array, tc: Float32Array, dxp: Float32Array | null, xOff: number,
  dhg: Float32Array | null, dc: Float32Array | null, B: number, H: number,
): void {
  for (let b = 0; b < B; b++) {
    const row = b * 4 * H + 3 * H;
    for (let j = 0; j < H; j++) {
      const k = b * H + j, o = acts[row + j], t = tc[k], d = dh[k];
      const dpo = d * t * o * (1 - o);
      if (dxp) dxp[xOff + row + j] += dpo;
      if (dhg) dhg[row + j] += dpo;
      if (dc) dc[k] += d * o * (1 - t * t);
    }
  }
}

/** Backward of c' = f ⊙ c + i ⊙ g given dc' (B, H): adds into the i, f, g pre-activation gradients and dcPrev. */
export function lstmCBackward(
  dc: Float32Array, acts: Float32Array, cPrev: Float32Array, dxp: Float32Array | null, xOff: number,
  dhg: Float32Array | null, dcPrev: Float32Array | null, B: number, H: number,
): void {
  for (let b = 0; b < B; b++) {
    const row = b * 4 * H;
    for (let j = 0; j < H; j++) {
      const k = b * H + j, d = dc[k];
      const i = acts[row + j], f = acts[row + H + j], g = acts[row + 2 * H + j];
      const dpi = d * g * i * (1 - i), dpf = d * cPrev[k] * f * (1 - f), dpg = d * i * (1 - g * g);
      if (dxp) (dxp[xOff + row + j] += dpi), (dxp[xOff + row + H + j] += dpf), (dxp[xOff + row + 2 * H + j] += dpg);
      if (dhg) (dhg[row + j] += dpi), (dhg[row + H + j] += dpf), (dhg[row + 2 * H + j] += dpg);
      if (dcPrev) dcPrev[k] += d * f;
    }
  }
}

/**
 * One LSTM step: xp (T, B, 4H), t, hg (B, 4H) = h·W_hhᵀ + b_hh, cPrev (B, H). Returns h' and c' (B, H).
 * Forward is one pass; autograd sees two nodes (c' from the gates and c, h' from the o gate and c'), so the
 * gradient reaching c' from both h' and the next step is summed before c's backward runs.
 */
export function lstmCell(xp: Tensor, t: number, hg: Tensor, cPrev: Tensor): { h: Tensor; c: Tensor } {
  const { B, H, off } = stepShape('lstmCell', xp, t, hg, 4);
  checkState('lstmCell', 'cPrev', cPrev, B, H);
  const acts = alloc(B * 4 * H), cd = alloc(B * H), hd = alloc(B * H), tc = alloc(B * H);
  lstmCellForward(xp.data, off, hg.data, cPrev.data, acts, cd, hd, tc, B, H);
  const c = Tensor.fromOp(cd, [B, H], [xp, hg, cPrev], (o) =>
    lstmCBackward(o.grad!, acts, cPrev.data, gradOf(xp), off, gradOf(hg), gradOf(cPrev), B, H));
  const h = Tensor.fromOp(hd, [B, H], [xp, hg, c], (o) =>
    lstmHBackward(o.grad!, acts, tc, gradOf(xp), off, gradOf(hg), gradOf(c), B, H));
  return { h, c };
}

// ---- GRU -------------------------------------------------------------------------------------------------

/** One GRU step on arrays: acts (B, 3H) receives r, z, n; h (B, H) the new state. */
export function gruCellForward(
  xp: Float32Array, xOff: number, hg: Float32Array, hPrev: Float32Array, acts: Float32Array, h: Float32Array, B: number, H: number,
): void {
  for (let b = 0; b < B; b++) {
    const row = b * 3 * H, x = xOff + row;
    for (let j = 0; j < H; j++) {
      const k = b * H + j;
      const r = sigmoid(xp[x + j] + hg[row + j]);
      const z = sigmoid(xp[x + H + j] + hg[row + H + j]);
      const n = Math.tanh(xp[x + 2 * H + j] + r * hg[row + 2 * H + j]);
      acts[row + j] = r, acts[row + H + j] = z, acts[row + 2 * H + j] = n;
      h[k] = (1 - z) * n + z * hPrev[k];
    }
  }
}

/** Backward of a GRU step given dh' (B, H): adds into dxp (at xOff), dhg (B, 3H) and dhPrev (B, H). */
export function gruCellBackward(
  dh: Float32Array, acts: Float32Array, hg: Float32Array, hPrev: Float32Array, dxp: Float32Array | null, xOff: number,
  dhg: Float32Array | null, dhPrev: Float32Array | null, B: number, H: number,
): void {
  for (let b = 0; b < B; b++) {
    const row = b * 3 * H, x = xOff + row;
    for (let j = 0; j < H; j++) {
      const k = b * H + j, d = dh[k];
      const r = acts[row + j], z = acts[row + H + j], n = acts[row + 2 * H + j];
      const dpn = d * (1 - z) * (1 - n * n);
      const dpr = dpn * hg[row + 2 * H + j] * r * (1 - r);
      const dpz = d * (hPrev[k] - n) * z * (1 - z);
      if (dxp) (dxp[x + j] += dpr), (dxp[x + H + j] += dpz), (dxp[x + 2 * H + j] += dpn);
      if (dhg) (dhg[row + j] += dpr), (dhg[row + H + j] += dpz), (dhg[row + 2 * H + j] += dpn * r);
      if (dhPrev) dhPrev[k] += d * z;
    }
  }
}

/**
 * One GRU step: xp (T, B, 3H), t, hg (B, 3H) = h·W_hhᵀ + b_hh (b_hn stays inside r ⊙ (…) as PyTorch has it),
 * hPrev (B, H). Returns h' (B, H).
 */
export function gruCell(xp: Tensor, t: number, hg: Tensor, hPrev: Tensor): Tensor {
  const { B, H, off } = stepShape('gruCell', xp, t, hg, 3);
  checkState('gruCell', 'hPrev', hPrev, B, H);
  const acts = alloc(B * 3 * H), h = alloc(B * H);
  gruCellForward(xp.data, off, hg.data, hPrev.data, acts, h, B, H);
  return Tensor.fromOp(h, [B, H], [xp, hg, hPrev], (o) =>
    gruCellBackward(o.grad!, acts, hg.data, hPrev.data, gradOf(xp), off, gradOf(hg), gradOf(hPrev), B, H));
}
