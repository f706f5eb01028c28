// Fused recurrent layers: one direction of one Elman RNN, LSTM or GRU layer over a whole sequence as a single
// autograd node, the way cuDNN and PyTorch's CPU kernels run it. The input projection of the whole sequence,
// xp = x·W_ihᵀ + b_ih (T, B, G·H), is the caller's GEMM (linear()). The timestep loop — per step the
// recurrent GEMM h·W_hhᵀ (+ b_hh) and the gate kernel, and going back the gate kernel's backward and one GEMM
// dh_{t−1} += dG_t·W_hh — is src/backend/recurrent-pass.ts, run by the backend (which may split the batch
// rows over its threads). After the backward loop the weight gradient of every step is one GEMM,
// dW_hh += dGᵀ·H_prev over T·B rows, instead of T thin ones.
//
// States live in (T + 1)-slot buffers: forward, slot 0 holds h0 and slot t + 1 holds h_t; reversed, slot T
// holds h0 and slot t holds h_t. Either way the outputs (T, B, H) and the previous states of every step are
// contiguous runs of slots, so `out` is a view of the buffer and H_prev needs no copy.
// Equations and gate order are PyTorch's (torch.nn.RNN / LSTM / GRU). Browser-safe: no Node imports.
import { backend } from '../backend/backend.js';
import { allocUninit } from '../backend/storage.js';
import { gatesOf, outSlot, prevSlot, type CellKind, type RecurrentPass } from '../backend/recurrent-pass.js';
import { addColumnSums } from './matmul.js';
import { Tensor } from './tensor.js';

export type Nonlinearity = 'tanh' | 'relu';

/** a layer's outputs: out (T, B, H) every step's h, h (B, H) the last state, c (B, H) the LSTM's last cell */
export interface LayerOutput {
  out: Tensor;
  h: Tensor;
  c?: Tensor;
}

/**
 * An Elman RNN layer (one direction) over a sequence: xp (T, B, H) = x·W_ihᵀ + b_ih, wHh (H, H), bHh (H) or
 * null, h0 (B, H) or null (zeros); h_t = act(xp_t + h_{t−1}·W_hhᵀ + b_hh), processed from t = T − 1 down with
 * `reverse`. bIh, when given, is b_ih for an xp computed without it: added with b_hh, and its gradient (the
 * same column sums as b_hh's) formed once. Returns out (T, B, H) and h (B, H). Throws naming the argument
 * whose shape does not fit.
 */
export function rnnLayer(
  xp: Tensor, wHh: Tensor, bHh: Tensor | null, h0: Tensor | null, nonlinearity: Nonlinearity = 'tanh', reverse = false,
  bIh: Tensor | null = null,
): LayerOutput {
  if (nonlinearity !== 'tanh' && nonlinearity !== 'relu') throw new Error(`rnnLayer: nonlinearity must be 'tanh' or 'relu', got ${String(nonlinearity)}`);
  return layer('rnnLayer', nonlinearity === 'relu' ? 'rnn-relu' : 'rnn-tanh', xp, wHh, [bHh, bIh], h0, null, reverse);
}

/**
 * An LSTM layer (one direction): xp (T, B, 4H) = x·W_ihᵀ + b_ih, wHh (4H, H), bHh (4H) or null, h0 and c0
 * (B, H) or null (zeros); bIh as in rnnLayer. Returns out (T, B, H), and h and c (B, H) after the last step.
 * Throws on shapes that do not fit.
 */
export function lstmLayer(
  xp: Tensor, wHh: Tensor, bHh: Tensor | null, h0: Tensor | null, c0: Tensor | null, reverse = false, bIh: Tensor | null = null,
): LayerOutput {
  return layer('lstmLayer', 'lstm', xp, wHh, [bHh, bIh], h0, c0, reverse);
}

/**
 * A GRU layer (one direction): xp (T, B, 3H) = x·W_ihᵀ + b_ih, wHh (3H, H), bHh (3H) or null, h0 (B, H) or
 * null. The recurrent product h·W_hhᵀ + b_hh is kept per step apart from xp, since its n part is gated by r.
 * Returns out (T, B, H) and h (B, H). Throws on shapes that do not fit.
 */
export function gruLayer(xp: Tensor, wHh: Tensor, bHh: Tensor | null, h0: Tensor | null, reverse = false): LayerOutput {
  return layer('gruLayer', 'gru', xp, wHh, [bHh], h0, null, reverse);
}

/** checks the shapes; biases are [bHh, bIh?], either null */
function checkShapes(op: string, G: number, xp: Tensor, wHh: Tensor, biases: (Tensor | null)[]): void {
  const H = wHh.shape[1], GH = G * H;
  if (wHh.ndim !== 2 || wHh.shape[0] !== GH) throw new Error(`${op}: wHh must be (${G}·H, H), got [${wHh.shape}]`);
  biases.forEach((b, i) => {
    if (b && (b.ndim !== 1 || b.shape[0] !== GH)) throw new Error(`${op}: ${i === 0 ? 'bHh' : 'bIh'} must be (${GH}), got [${b.shape}]`);
  });
  if (xp.ndim !== 3 || xp.shape[2] !== GH || xp.shape[0] < 1) throw new Error(`${op}: xp must be (T ≥ 1, B, ${GH}), got [${xp.shape}]`);
}

/** a (T + 1)-slot state buffer with s0 (or zeros) in the initial slot */
function stateSlots(op: string, field: string, s0: Tensor | null, T: number, B: number, H: number, reverse: boolean): Float32Array {
  const buf = allocUninit((T + 1) * B * H), at = (reverse ? T : 0) * B * H;
  if (s0 === null) buf.fill(0, at, at + B * H);
  else {
    if (s0.ndim !== 2 || s0.shape[0] !== B || s0.shape[1] !== H) throw new Error(`${op}: ${field} must be (${B}, ${H}), got [${s0.shape}]`);
    buf.set(s0.data, at);
  }
  return buf;
}

/** whether a start state contributes nothing to the recurrent products and wants no gradient */
function zeroStart(h0: Tensor | null): boolean {
  if (h0 === null) return true;
  if (h0.requiresGrad) return false;
  const d = h0.data;
  for (let i = 0; i < d.length; i++) if (d[i] !== 0) return false;
  return true;
}

/** rows copies of the sum of the biases (added to every row of a step's slab), or null without any */
function tiled(biases: Tensor[], rows: number): Float32Array | null {
  if (biases.length === 0) return null;
  const v = Float32Array.from(biases[0].data);
  for (const b of biases.slice(1)) for (let j = 0; j < v.length; j++) v[j] += b.data[j];
  const out = allocUninit(rows * v.length);
  for (let r = 0; r < rows; r++) out.set(v, r * v.length);
  return out;
}

/** slot k of a (T + 1, B, H) buffer */
const slot = (buf: Float32Array, k: number, BH: number): Float32Array => buf.subarray(k * BH, (k + 1) * BH);

/** the forward pass, then the nodes out, h (and c) whose backward runs the pass back */
function layer(
  op: string, kind: CellKind, xp: Tensor, wHh: Tensor, maybeBiases: (Tensor | null)[], h0: Tensor | null, c0: Tensor | null,
  reverse: boolean,
): LayerOutput {
  const G = gatesOf(kind), lstm = kind === 'lstm', biases = maybeBiases.filter((b): b is Tensor => b !== null);
  checkShapes(op, G, xp, wHh, maybeBiases);
  const [T, B] = xp.shape, H = wHh.shape[1], BH = B * H;
  const pass: RecurrentPass = {
    kind, T, B, H, reverse, zeroStart: zeroStart(h0), xp: xp.data, wHh: wHh.data, bias: tiled(biases, B),
    hs: stateSlots(op, 'h0', h0, T, B, H, reverse), gates: allocUninit(xp.size), acts: kind === 'gru' ? allocUninit(xp.size) : null,
    cs: lstm ? stateSlots(op, 'c0', c0, T, B, H, reverse) : null, tc: lstm ? allocUninit(T * BH) : null,
    dhs: null, dG: null, dHG: null, dc: null,
  };
  backend().runRecurrent(pass, false);
  const first = reverse ? 0 : 1, last = outSlot(pass, reverse ? 0 : T - 1);
  let dcLast: Float32Array | null = null; // the gradient reaching the last c, set by c's backward (which runs first)
  const parents = [xp, wHh, ...biases, ...(h0 ? [h0] : []), ...(c0 ? [c0] : [])];
  const out = Tensor.fromOp(pass.hs.subarray(first * BH, (first + T) * BH), [T, B, H], parents, (o) =>
    layerBackward(pass, o.grad!, dcLast, xp, wHh, biases, h0, c0));
  const h = Tensor.fromOp(slot(pass.hs, last, BH), [B, H], [out], (o) => {
    const g = slot(out.gradBuf(), last - first, BH);
    backend().add(g, o.grad!, g, BH);
  });
  if (!lstm) return { out, h };
  const c = Tensor.fromOp(slot(pass.cs!, last, BH), [B, H], [out], (o) => {
    dcLast = o.grad!;
    out.gradBuf(); // the layer's backward must run even when only c reaches the loss
  });
  return { out, h, c };
}

/** the backward of a layer from dOut (T, B, H) and the gradient reaching the last c (LSTM) */
function layerBackward(
  fwd: RecurrentPass, dOut: Float32Array, dcLast: Float32Array | null,
  xp: Tensor, wHh: Tensor, biases: Tensor[], h0: Tensor | null, c0: Tensor | null,
): void {
  const { T, B, H, reverse } = fwd, BH = B * H, start = prevSlot(fwd, reverse ? T - 1 : 0);
  const dhs = allocUninit((T + 1) * BH);
  dhs.set(dOut, (reverse ? 0 : 1) * BH);
  dhs.fill(0, start * BH, (start + 1) * BH);
  const { dG, finish } = xpGradTarget(xp);
  const dHG = fwd.kind === 'gru' ? allocUninit(xp.size) : null;
  let dc: Float32Array | null = null;
  if (fwd.kind === 'lstm') {
    dc = allocUninit(BH);
    if (dcLast) dc.set(dcLast);
    else dc.fill(0);
  }
  const pass = { ...fwd, dhs, dG, dHG, dc };
  backend().runRecurrent(pass, true);
  if (h0?.requiresGrad) backend().add(h0.gradBuf(), slot(dhs, start, BH), h0.gradBuf(), BH);
  if (c0?.requiresGrad) backend().add(c0.gradBuf(), dc!, c0.gradBuf(), BH);
  const dRec = dHG ?? dG, rows = T * B;
  if (wHh.requiresGrad) {
    // dW_hh += dRecᵀ · H_prev: (G·H, T·B)·(T·B, H), the previous states being the T slots from slot reverse ? 1 : 0
    const { grad, accumulate } = wHh.gradTarget(), p0 = reverse ? 1 : 0;
    backend().matmul(dRec, fwd.hs.subarray(p0 * BH, (p0 + T) * BH), grad, {
      batch: 1, M: gatesOf(fwd.kind) * H, N: H, K: rows, transA: true, transB: false, accumulate, strideA: 0, strideB: 0, strideC: 0,
    });
  }
  const trained = biases.filter((b) => b.requiresGrad);
  if (trained.length > 0) {
    // every bias here (b_hh, and b_ih when folded in) has the same gradient: the column sums of dRec
    const db = trained.length === 1 ? trained[0].gradBuf() : new Float32Array(dRec.length / rows);
    addColumnSums(dRec, rows, db.length, db);
    if (trained.length > 1) for (const b of trained) backend().add(b.gradBuf(), db, b.gradBuf(), db.length);
  }
  finish();
}

/**
 * The gradient buffer dL/d(pre-activation) for xp: xp's own gradient buffer when it has none yet (the kernels
 * overwrite every element), else a scratch array whose contents `finish` adds into it.
 */
function xpGradTarget(xp: Tensor): { dG: Float32Array; finish: () => void } {
  if (!xp.requiresGrad) return { dG: allocUninit(xp.size), finish: () => {} };
  const { grad, accumulate } = xp.gradTarget();
  if (!accumulate) return { dG: grad, finish: () => {} };
  const dG = allocUninit(xp.size);
  return { dG, finish: () => backend().add(grad, dG, grad, xp.size) };
}
