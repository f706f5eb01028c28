// The timestep loop of one direction of one recurrent layer (Elman RNN, LSTM or GRU), forward or backward.
// src/tensor/rnn-layers.ts builds the pass and the autograd node around it; the backend runs it
// (Backend.runRecurrent): the reference on one thread with its own kernels, BlasBackend on two threads that
// share every step — each thread's gate kernels take its batch rows, each thread's part of the step's product
// takes its columns of W_hh for all rows (a barrier between the two, since a product reads every row's state
// and a gate kernel every column of its rows). The gate kernels' reference is rnn-gates-ref.ts.
//
// Layouts (row-major): xp, gates, acts, dG, dHG (T, B, G·H); hs, dhs, cs (T + 1, B, H) state slots, where the
// state before step t sits in slot prevSlot(t) and h_t in outSlot(t) (forward: t and t + 1; reversed: t + 1
// and t); tc (T, B, H); bias (B, G·H) b_hh (plus b_ih when folded) repeated per row; wHh (G·H, H); dc (B, H).
// Browser-safe.
import type { Backend } from './backend.js';

export type CellKind = 'rnn-tanh' | 'rnn-relu' | 'lstm' | 'gru';

/** one direction of one layer: shapes, flags and the arrays the loop reads and writes (see the header) */
export interface RecurrentPass {
  kind: CellKind;
  T: number;
  B: number;
  H: number;
  reverse: boolean;
  /** the initial state is zeros and needs no gradient: the first step's recurrent products are skipped */
  zeroStart: boolean;
  xp: Float32Array;
  wHh: Float32Array;
  bias: Float32Array | null;
  hs: Float32Array;
  /** RNN/LSTM: the pre-activations, then what the cell keeps of them; GRU: hg = h·W_hhᵀ + b_hh */
  gates: Float32Array;
  /** GRU: r, z, n */
  acts: Float32Array | null;
  cs: Float32Array | null;
  tc: Float32Array | null;
  /** backward: the state gradients in slot layout (each step adds into the previous slot) */
  dhs: Float32Array | null;
  /** backward: the pre-activation gradients, which are xp's (RNN/LSTM: also the recurrent product's) */
  dG: Float32Array | null;
  /** backward, GRU: the gradient of hg */
  dHG: Float32Array | null;
  /** backward, LSTM: in, the gradient reaching the last c; out, the gradient reaching c0 */
  dc: Float32Array | null;
}

/** gates per hidden unit */
export function gatesOf(kind: CellKind): number {
  return kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1;
}

/** the gate kernels the loop calls, as the Backend interface defines them (on views of the pass's arrays) */
type GateOps = Pick<Backend, 'add' | 'rnnAct' | 'rnnActBackward' | 'lstmGates' | 'lstmGatesBackward' | 'gruGates' | 'gruGatesBackward'>;

/** the operations the loop needs, on views */
export interface RowOps extends GateOps {
  /**
   * C (+)= op(A)·op(B), one (M, K)·(K, N) product; B and C may be column blocks of wider row-major matrices,
   * ldb and ldc their row lengths (A is whole: lda is K, or M transposed).
   */
  gemm(
    a: Float32Array, b: Float32Array, c: Float32Array, M: number, N: number, K: number,
    transA: boolean, transB: boolean, accumulate: boolean, ldb: number, ldc: number,
  ): void;
}

/** a backend's own kernels as RowOps (each call may split over the backend's threads; whole matrices only) */
export function backendOps(be: Backend): RowOps {
  return {
    gemm: (a, b, c, M, N, K, transA, transB, accumulate, ldb, ldc) => {
      if (ldc !== N || ldb !== (transB ? K : N)) throw new Error('backendOps.gemm: column blocks need a split share');
      be.matmul(a, b, c, { batch: 1, M, N, K, transA, transB, accumulate, strideA: 0, strideB: 0, strideC: 0 });
    },
    add: (a, b, y, n) => be.add(a, b, y, n),
    rnnAct: (pre, h, n, relu) => be.rnnAct(pre, h, n, relu),
    rnnActBackward: (dh, h, dpre, n, relu) => be.rnnActBackward(dh, h, dpre, n, relu),
    lstmGates: (g, cp, c, tc, h, B, H) => be.lstmGates(g, cp, c, tc, h, B, H),
    lstmGatesBackward: (dh, dc, g, cp, tc, dg, B, H) => be.lstmGatesBackward(dh, dc, g, cp, tc, dg, B, H),
    gruGates: (xg, hg, hp, acts, h, B, H) => be.gruGates(xg, hg, hp, acts, h, B, H),
    gruGatesBackward: (dh, acts, hg, hp, dxg, dhg, dhp, B, H) => be.gruGatesBackward(dh, acts, hg, hp, dxg, dhg, dhp, B, H),
  };
}

/**
 * What one thread of a pass computes: the element-wise work of batch rows [r0, r1), the forward product's
 * gate columns [g0, g1) and the backward product's hidden columns [c0, c1), all rows of each; `sync` waits
 * until every thread of the pass has reached the same point (a barrier; a no-op for a single thread).
 */
export interface Share {
  r0: number;
  r1: number;
  g0: number;
  g1: number;
  c0: number;
  c1: number;
  sync(): void;
}

/** the whole pass on one thread */
export function wholeShare(p: RecurrentPass): Share {
  return { r0: 0, r1: p.B, g0: 0, g1: gatesOf(p.kind) * p.H, c0: 0, c1: p.H, sync: () => {} };
}

/** [lo, hi) of part w of n of [0, total), split at multiples of `align` where possible */
function part(total: number, w: number, n: number, align: number): [number, number] {
  const at = (k: number): number => (k >= n ? total : Math.min(total, Math.round((total * k) / n / align) * align));
  return [at(w), at(w + 1)];
}

/** thread w of n's share of the pass (rows, and columns in blocks of 16) */
export function splitShare(p: RecurrentPass, w: number, n: number, sync: () => void): Share {
  const [r0, r1] = part(p.B, w, n, 1), [g0, g1] = part(gatesOf(p.kind) * p.H, w, n, 16), [c0, c1] = part(p.H, w, n, 16);
  return { r0, r1, g0, g1, c0, c1, sync };
}

/** the state slot holding the state before step t (forward t, reversed t + 1) */
export function prevSlot(p: RecurrentPass, t: number): number {
  return p.reverse ? t + 1 : t;
}

/** the state slot receiving h_t (forward t + 1, reversed t) */
export function outSlot(p: RecurrentPass, t: number): number {
  return p.reverse ? t : t + 1;
}

/** rows [r0, r1) of block k of a (·, B, width) array */
function rows(a: Float32Array, k: number, B: number, width: number, r0: number, r1: number): Float32Array {
  return a.subarray((k * B + r0) * width, (k * B + r1) * width);
}

/**
 * The forward pass, this thread's share. Per step: the share's rows of the gates get xp_t (+ b_hh; GRU: hg
 * gets b_hh), then (after a barrier) the share's gate columns of all rows get + h_{t−1}·W_hhᵀ, then (after a
 * barrier) the share's rows go through the gate kernel.
 */
export function forwardPass(ops: RowOps, p: RecurrentPass, sh: Share): void {
  const { T, B, H } = p, GH = gatesOf(p.kind) * H, { r0, r1 } = sh, R = r1 - r0, gru = p.kind === 'gru';
  const hRows = (k: number): Float32Array => rows(p.hs, k, B, H, r0, r1);
  const wCols = p.wHh.subarray(sh.g0 * H, sh.g1 * H); // rows g0..g1 of W_hh (G·H, H)
  for (let s = 0; s < T; s++) {
    const t = p.reverse ? T - 1 - s : s, prev = prevSlot(p, t), out = outSlot(p, t);
    const g = rows(p.gates, t, B, GH, r0, r1), bias = p.bias?.subarray(r0 * GH, r1 * GH);
    if (gru) {
      if (bias) g.set(bias);
      else g.fill(0);
    } else if (bias) ops.add(rows(p.xp, t, B, GH, r0, r1), bias, g, R * GH);
    else g.set(rows(p.xp, t, B, GH, r0, r1));
    if (!(s === 0 && p.zeroStart)) {
      sh.sync();
      const all = rows(p.gates, t, B, GH, 0, B).subarray(sh.g0);
      if (sh.g1 > sh.g0) ops.gemm(rows(p.hs, prev, B, H, 0, B), wCols, all, B, sh.g1 - sh.g0, H, false, true, true, H, GH);
      sh.sync();
    }
    if (gru) ops.gruGates(rows(p.xp, t, B, GH, r0, r1), g, hRows(prev), rows(p.acts!, t, B, GH, r0, r1), hRows(out), R, H);
    else if (p.kind === 'lstm') {
      const cRows = (k: number): Float32Array => rows(p.cs!, k, B, H, r0, r1);
      ops.lstmGates(g, cRows(prev), cRows(out), rows(p.tc!, t, B, H, r0, r1), hRows(out), R, H);
    } else ops.rnnAct(g, hRows(out), R * H, p.kind === 'rnn-relu');
  }
  sh.sync(); // every row's last state is written before anyone reads the result
}

/**
 * The backward pass, this thread's share: from dhs (each output slot holding the gradient reaching that h_t
 * from outside) back through every step. Per step the share's rows go through the gate kernel's backward
 * (writing dG, or dG and dHG for a GRU, adding into the previous slot of dhs, carrying dc for an LSTM), then
 * (after a barrier) the share's hidden columns of every row get dh_{t−1} += dG_t·W_hh, then a barrier. The
 * products of the first step are skipped when the start is zeroStart.
 */
export function backwardPass(ops: RowOps, p: RecurrentPass, sh: Share): void {
  const { T, B, H } = p, GH = gatesOf(p.kind) * H, { r0, r1 } = sh, R = r1 - r0;
  const dhs = p.dhs!, dG = p.dG!;
  const hRows = (k: number): Float32Array => rows(p.hs, k, B, H, r0, r1);
  const dhRows = (k: number): Float32Array => rows(dhs, k, B, H, r0, r1);
  const wCols = p.wHh.subarray(sh.c0); // columns c0..c1 of W_hh (G·H, H)
  for (let s = T - 1; s >= 0; s--) {
    const t = p.reverse ? T - 1 - s : s, prev = prevSlot(p, t), out = outSlot(p, t);
    const gt = rows(p.gates, t, B, GH, r0, r1), dGt = rows(dG, t, B, GH, r0, r1);
    if (p.kind === 'gru') {
      ops.gruGatesBackward(dhRows(out), rows(p.acts!, t, B, GH, r0, r1), gt, hRows(prev), dGt, rows(p.dHG!, t, B, GH, r0, r1), dhRows(prev), R, H);
    } else if (p.kind === 'lstm') {
      const dc = p.dc!.subarray(r0 * H, r1 * H);
      ops.lstmGatesBackward(dhRows(out), dc, gt, rows(p.cs!, prev, B, H, r0, r1), rows(p.tc!, t, B, H, r0, r1), dGt, R, H);
    } else ops.rnnActBackward(dhRows(out), hRows(out), dGt, R * H, p.kind === 'rnn-relu');
    if (s === 0 && p.zeroStart) continue;
    sh.sync();
    const rec = rows(p.dHG ?? dG, t, B, GH, 0, B), dPrev = rows(dhs, prev, B, H, 0, B).subarray(sh.c0);
    if (sh.c1 > sh.c0) ops.gemm(rec, wCols, dPrev, B, sh.c1 - sh.c0, GH, false, false, true, H, H);
    sh.sync();
  }
  sh.sync();
}

/** thrown at a barrier when another thread of the pass has failed (its own error says why) */
export class PartnerFailedError extends Error {
  constructor() {
    super('recurrent pass: another thread failed');
    this.name = 'PartnerFailedError';
  }
}

/** polls of a thread waiting at a barrier before it sleeps (~20 µs): partners are usually that close */
const BARRIER_SPINS = 4096;

/**
 * A barrier for n threads on words of a shared Int32Array: `count` (threads arrived, zeroed before the pass)
 * and any of the `abort` words, which a failing thread sets so that the others throw PartnerFailedError instead
 * of waiting for it forever. A waiting thread polls for ~20 µs, then sleeps until the last one to arrive wakes
 * it (or 1 ms passes): spinning longer would, on a busy machine, take the core from the very thread it waits for.
 */
export function spinBarrier(ctrl: Int32Array, count: number, abort: readonly number[], n: number): () => void {
  let round = 0;
  return () => {
    const target = ++round * n;
    if (Atomics.add(ctrl, count, 1) + 1 >= target) {
      Atomics.notify(ctrl, count);
      return;
    }
    for (let spins = 0; ; spins++) {
      const now = Atomics.load(ctrl, count);
      if (now >= target) return;
      if (spins >= BARRIER_SPINS) {
        for (const a of abort) if (Atomics.load(ctrl, a) !== 0) throw new PartnerFailedError();
        Atomics.wait(ctrl, count, now, 1);
      }
    }
  };
}

// ---- a pass as a job for another thread ------------------------------------------------------------------

const KINDS: CellKind[] = ['rnn-tanh', 'rnn-relu', 'lstm', 'gru'];
const ARRAYS = ['xp', 'wHh', 'bias', 'hs', 'gates', 'acts', 'cs', 'tc', 'dhs', 'dG', 'dHG', 'dc'] as const;
/** job words: kind, backward, T, B, H, reverse, zeroStart, the thread's index w and count n, then each array's byte offset (0: none) */
export const PASS_WORDS = 9 + ARRAYS.length;

/** elements of each array of a pass */
function lengths(p: Pick<RecurrentPass, 'kind' | 'T' | 'B' | 'H'>): Record<(typeof ARRAYS)[number], number> {
  const { T, B, H } = p, GH = gatesOf(p.kind) * H, seq = T * B * GH, slots = (T + 1) * B * H;
  return { xp: seq, wHh: GH * H, bias: B * GH, hs: slots, gates: seq, acts: seq, cs: slots, tc: T * B * H, dhs: slots, dG: seq, dHG: seq, dc: B * H };
}

/** the pass's arrays, for a backend to check that all live in its memory */
export function passArrays(p: RecurrentPass): Float32Array[] {
  return ARRAYS.map((k) => p[k]).filter((a): a is Float32Array => a !== null);
}

/** Writes the pass for thread w of n into `job` at `o` (arrays as byte offsets into the shared memory). */
export function encodePass(p: RecurrentPass, backward: boolean, w: number, n: number, job: Float64Array, o: number): void {
  const head = [KINDS.indexOf(p.kind), backward ? 1 : 0, p.T, p.B, p.H, p.reverse ? 1 : 0, p.zeroStart ? 1 : 0, w, n];
  job.set(head, o);
  ARRAYS.forEach((k, i) => (job[o + head.length + i] = p[k]?.byteOffset ?? 0));
}

/** Reads a pass written by encodePass, with views on `buffer` (the shared memory). */
export function decodePass(job: Float64Array, o: number, buffer: ArrayBufferLike): { pass: RecurrentPass; backward: boolean; w: number; n: number } {
  const kind = KINDS[job[o]];
  const [T, B, H] = [job[o + 2], job[o + 3], job[o + 4]];
  const len = lengths({ kind, T, B, H });
  const view = (i: number): Float32Array | null => {
    const off = job[o + 9 + i];
    return off === 0 ? null : new Float32Array(buffer, off, len[ARRAYS[i]]);
  };
  const a = ARRAYS.map((_, i) => view(i));
  const pass: RecurrentPass = {
    kind, T, B, H, reverse: job[o + 5] === 1, zeroStart: job[o + 6] === 1,
    xp: a[0]!, wHh: a[1]!, bias: a[2], hs: a[3]!, gates: a[4]!, acts: a[5], cs: a[6], tc: a[7], dhs: a[8], dG: a[9], dHG: a[10], dc: a[11],
  };
  return { pass, backward: job[o + 1] === 1, w: job[o + 7], n: job[o + 8] };
}

/** the wasm kernels' exports the direct ops call (pointers are byte offsets into the shared memory) */
export interface GateKernels {
  addVec(a: number, b: number, y: number, i0: number, i1: number): void;
  rnnAct(pre: number, h: number, relu: number, i0: number, i1: number): void;
  rnnActBackward(dh: number, h: number, dpre: number, relu: number, i0: number, i1: number): void;
  lstmGates(gates: number, cPrev: number, c: number, tc: number, h: number, H: number, r0: number, r1: number): void;
  lstmGatesBackward(dh: number, dc: number, gates: number, cPrev: number, tc: number, dGates: number, H: number, r0: number, r1: number): void;
  gruGates(xg: number, hg: number, hPrev: number, acts: number, h: number, H: number, r0: number, r1: number): void;
  gruGatesBackward(dh: number, acts: number, hg: number, hPrev: number, dxg: number, dhg: number, dhPrev: number, H: number, r0: number, r1: number): void;
}

/** row-major sgemm on views (a CBLAS call, single-threaded for this use); ldb and ldc as in RowOps.gemm */
export type ViewSgemm = (
  M: number, N: number, K: number, a: Float32Array, transA: boolean, b: Float32Array, transB: boolean, c: Float32Array,
  accumulate: boolean, ldb: number, ldc: number,
) => void;

/**
 * RowOps that call the wasm kernels of this thread directly (no splitting) and `sgemm` for the products: what
 * each thread of a split pass runs. Every view must lie in the kernels' memory.
 */
export function directOps(k: GateKernels, sgemm: ViewSgemm): RowOps {
  const p = (a: Float32Array): number => a.byteOffset;
  return {
    gemm: (a, b, c, M, N, K, transA, transB, accumulate, ldb, ldc) => sgemm(M, N, K, a, transA, b, transB, c, accumulate, ldb, ldc),
    add: (a, b, y, n) => k.addVec(p(a), p(b), p(y), 0, n),
    rnnAct: (pre, h, n, relu) => k.rnnAct(p(pre), p(h), relu ? 1 : 0, 0, n),
    rnnActBackward: (dh, h, dpre, n, relu) => k.rnnActBackward(p(dh), p(h), p(dpre), relu ? 1 : 0, 0, n),
    lstmGates: (g, cp, c, tc, h, B, H) => k.lstmGates(p(g), p(cp), p(c), p(tc), p(h), H, 0, B),
    lstmGatesBackward: (dh, dc, g, cp, tc, dg, B, H) => k.lstmGatesBackward(p(dh), p(dc), p(g), p(cp), p(tc), p(dg), H, 0, B),
    gruGates: (xg, hg, hp, acts, h, B, H) => k.gruGates(p(xg), p(hg), p(hp), p(acts), p(h), H, 0, B),
    gruGatesBackward: (dh, acts, hg, hp, dxg, dhg, dhp, B, H) => k.gruGatesBackward(p(dh), p(acts), p(hg), p(hp), p(dxg), p(dhg), p(dhp), H, 0, B),
  };
}
