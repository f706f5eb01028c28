// Reductions and shape ops: sum/mean/max along an axis, reshape, permute/transpose, slice, concat, gather.
// All results are fresh contiguous tensors.
import { alloc, allocUninit } from '../backend/storage.js';
import { Tensor, sizeOf, stridedOffsets } from './tensor.js';

const normAxis = (axis: number, ndim: number): number => {
  const a = axis < 0 ? axis + ndim : axis;
  if (a < 0 || a >= ndim) throw new Error(`axis ${axis} is out of range for ${ndim} dimensions`);
  return a;
};

/** a tensor viewed as [outer, n, inner] around one axis */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis], sizeOf(shape.slice(axis + 1))];
}

/** Sum over one axis (or all axes when axis is undefined). */
export function sum(a: Tensor, axis?: number, keepDim = false): Tensor {
  if (axis === undefined) {
    let s = 0;
    for (let i = 0; i < a.size; i++) s += a.data[i];
    return Tensor.fromOp(new Float32Array([s]), [], [a], (o) => {
      const g = o.grad![0], ga = a.gradBuf();
      for (let i = 0; i < ga.length; i++) ga[i] += g;
    });
  }
  const ax = normAxis(axis, a.ndim);
  const [outer, n, inner] = around(a.shape, ax);
  const out = alloc(outer * inner);
  for (let o = 0; o < outer; o++)
    for (let k = 0; k < n; k++) {
      const src = (o * n + k) * inner, dst = o * inner;
      for (let i = 0; i < inner; i++) out[dst + i] += a.data[src + i];
    }
  const shape = keepDim ? a.shape.map((d, i) => (i === ax ? 1 : d)) : a.shape.filter((_, i) => i !== ax);
  return Tensor.fromOp(out, shape, [a], (res) => {
    const g = res.grad!, ga = a.gradBuf();
    for (let o = 0; o < outer; o++)
      for (let k = 0; k < n; k++) {
        const dst = (o * n + k) * inner, src = o * inner;
        for (let i = 0; i < inner; i++) ga[dst + i] += g[src + i];
      }
  });
}

export function mean(a: Tensor, axis?: number, keepDim = false): Tensor {
  const n = axis === undefined ? a.size : a.shape[normAxis(axis, a.ndim)];
  const s = sum(a, axis, keepDim);
  const out = alloc(s.size);
  for (let i = 0; i < s.size; i++) out[i] = s.data[i] / n;
  return Tensor.fromOp(out, s.shape.slice(), [s], (o) => {
    const g = o.grad!, gs = s.gradBuf();
    for (let i = 0; i < gs.length; i++) gs[i] += g[i] / n;
  });
}

/** Max over one axis; the gradient goes to the first maximal element. */
export function max(a: Tensor, axis: number, keepDim = false): Tensor {
  const ax = normAxis(axis, a.ndim);
  const [outer, n, inner] = around(a.shape, ax);
  const out = alloc(outer * inner).fill(-Infinity);
  const arg = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++)
    for (let k = 0; k < n; k++)
      for (let i = 0; i < inner; i++) {
        const v = a.data[(o * n + k) * inner + i], j = o * inner + i;
        if (v > out[j]) (out[j] = v), (arg[j] = k);
      }
  const shape = keepDim ? a.shape.map((d, i) => (i === ax ? 1 : d)) : a.shape.filter((_, i) => i !== ax);
  return Tensor.fromOp(out, shape, [a], (res) => {
    const g = res.grad!, ga = a.gradBuf();
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const j = o * inner + i;
        ga[(o * n + arg[j]) * inner + i] += g[j];
      }
  });
}

/** Reshape; one dimension may be -1. Shares nothing with the input's graph besides the gradient. */
export function reshape(a: Tensor, shape: number[]): Tensor {
  const known = shape.filter((d) => d !== -1);
  const infer = shape.length - known.length;
  if (infer > 1) throw new Error(`reshape: only one dimension may be -1, got [${shape}]`);
  const s = infer ? shape.map((d) => (d === -1 ? a.size / sizeOf(known) : d)) : shape.slice();
  if (sizeOf(s) !== a.size || s.some((d) => !Number.isInteger(d))) {
    throw new Error(`reshape: cannot view [${a.shape}] (${a.size} elements) as [${shape}]`);
  }
  return Tensor.fromOp(a.data, s, [a], (o) => a.acceptGrad(o.grad!, true));
}

/** Reorders axes: out.shape[i] = a.shape[perm[i]]. */
export function permute(a: Tensor, perm: number[]): Tensor {
  const n = a.ndim;
  if (perm.length !== n || [...perm].sort().some((p, i) => p !== i)) {
    throw new Error(`permute: [${perm}] is not a permutation of ${n} axes`);
  }
  const shape = perm.map((p) => a.shape[p]);
  const inStrides = new Array<number>(n);
  let s = 1;
  for (let i = n - 1; i >= 0; i--) (inStrides[i] = s), (s *= a.shape[i]);
  const st = perm.map((p) => inStrides[p]); // input stride for each output axis
  if (n >= 2 && perm[n - 1] === n - 1 && shape[n - 1] > 1) return permuteRows(a, shape, st);
  const size = a.size;
  const map = stridedOffsets(shape, st);
  const out = alloc(size);
  for (let k = 0; k < size; k++) out[k] = a.data[map[k]];
  return Tensor.fromOp(out, shape, [a], (o) => {
    const g = o.grad!, ga = a.gradBuf();
    for (let k = 0; k < size; k++) ga[map[k]] += g[k];
  });
}

/**
 * permute when the last axis stays last: whole rows of `inner` contiguous elements move, so they are copied
 * as blocks (an (B, T, C) ↔ (T, B, C) transpose costs a copy, not a gather per element).
 */
function permuteRows(a: Tensor, shape: number[], st: number[]): Tensor {
  const inner = shape[shape.length - 1];
  const rows = stridedOffsets(shape.slice(0, -1), st.slice(0, -1).map((s) => s / inner)); // source row of each output row
  const out = allocUninit(a.size);
  for (let r = 0; r < rows.length; r++) out.set(a.data.subarray(rows[r] * inner, (rows[r] + 1) * inner), r * inner);
  return Tensor.fromOp(out, shape, [a], (o) => {
    const g = o.grad!, ga = a.gradBuf();
    for (let r = 0; r < rows.length; r++) {
      const src = r * inner, dst = rows[r] * inner;
      for (let i = 0; i < inner; i++) ga[dst + i] += g[src + i];
    }
  });
}

/** Swaps two axes. */
export function transpose(a: Tensor, d0 = -2, d1 = -1): Tensor {
  const perm = a.shape.map((_, i) => i);
  const x = normAxis(d0, a.ndim), y = normAxis(d1, a.ndim);
  [perm[x], perm[y]] = [perm[y], perm[x]];
  return permute(a, perm);
}

/** a[..., start:end, ...] along one axis */
export function slice(a: Tensor, axis: number, start: number, end: number): Tensor {
  const ax = normAxis(axis, a.ndim);
  const [outer, n, inner] = around(a.shape, ax);
  if (start < 0 || end > n || start > end) throw new Error(`slice [${start}, ${end}) is out of range for axis of size ${n}`);
  const m = end - start;
  const out = alloc(outer * m * inner);
  for (let o = 0; o < outer; o++) out.set(a.data.subarray((o * n + start) * inner, (o * n + end) * inner), o * m * inner);
  const shape = a.shape.slice();
  shape[ax] = m;
  return Tensor.fromOp(out, shape, [a], (res) => {
    const g = res.grad!, ga = a.gradBuf();
    for (let o = 0; o < outer; o++) {
      const src = o * m * inner, dst = (o * n + start) * inner;
      for (let i = 0; i < m * inner; i++) ga[dst + i] += g[src + i];
    }
  });
}

/** Joins tensors along an axis; all other dimensions must agree. */
export function concat(ts: Tensor[], axis: number): Tensor {
  if (ts.length === 0) throw new Error('concat needs at least one tensor');
  const ax = normAxis(axis, ts[0].ndim);
  for (const t of ts) {
    if (t.ndim !== ts[0].ndim || t.shape.some((d, i) => i !== ax && d !== ts[0].shape[i])) {
      throw new Error(`concat: shapes [${ts[0].shape}] and [${t.shape}] differ outside axis ${ax}`);
    }
  }
  const [outer, , inner] = around(ts[0].shape, ax);
  const total = ts.reduce((s, t) => s + t.shape[ax], 0);
  const out = alloc(outer * total * inner);
  let off = 0;
  const offs: number[] = [];
  for (const t of ts) {
    const m = t.shape[ax];
    offs.push(off);
    for (let o = 0; o < outer; o++) out.set(t.data.subarray(o * m * inner, (o + 1) * m * inner), (o * total + off) * inner);
    off += m;
  }
  const shape = ts[0].shape.slice();
  shape[ax] = total;
  return Tensor.fromOp(out, shape, ts, (res) => {
    const g = res.grad!;
    ts.forEach((t, k) => {
      if (!t.requiresGrad) return;
      const m = t.shape[ax], gt = t.gradBuf();
      for (let o = 0; o < outer; o++) {
        const src = (o * total + offs[k]) * inner, dst = o * m * inner;
        for (let i = 0; i < m * inner; i++) gt[dst + i] += g[src + i];
      }
    });
  });
}

/**
 * Rows of a 2-D table picked by integer ids — an embedding lookup. ids of shape S give a result of shape
 * [...S, D]; the backward scatters (adds) into the picked rows.
 */
export function gather(table: Tensor, ids: Int32Array | number[], idsShape: number[]): Tensor {
  if (table.ndim !== 2) throw new Error(`gather needs a 2-D table, got [${table.shape}]`);
  const [V, D] = table.shape;
  const n = ids.length;
  const out = allocUninit(n * D);
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (!(id >= 0 && id < V)) throw new Error(`id ${id} at position ${i} is out of range for a table of ${V} rows`);
    out.set(table.data.subarray(id * D, (id + 1) * D), i * D);
  }
  return Tensor.fromOp(out, [...idsShape, D], [table], (o) => {
    const g = o.grad!, gt = table.gradBuf();
    for (let i = 0; i < n; i++) {
      const dst = ids[i] * D, src = i * D;
      for (let j = 0; j < D; j++) gt[dst + j] += g[src + j];
    }
  });
}

/**
 * One part of a fused projection, split into heads: x (B, T, P·C) → part p as (B, H, T, C/H). This is
 * `x.split(C, dim=2)[p].view(B, T, H, hs).transpose(1, 2)` in one copy (attention's q, k, v from c_attn).
 */
export function splitHeads(x: Tensor, part: number, parts: number, H: number): Tensor {
  const [B, T, PC] = x.shape;
  const C = PC / parts, hs = C / H;
  if (!Number.isInteger(C) || !Number.isInteger(hs)) throw new Error(`splitHeads: [${x.shape}] does not split into ${parts} parts of ${H} heads`);
  const out = allocUninit(B * T * C);
  const X = x.data;
  // walk the output in order (b, h, t, j): sequential writes are ~1.7× faster than the (b, t, h) order
  let d = 0;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let t = 0, src = b * T * PC + part * C + h * hs; t < T; t++, src += PC)
        for (let j = 0; j < hs; j++) out[d++] = X[src + j];
  return Tensor.fromOp(out, [B, H, T, hs], [x], (o) => {
    const g = o.grad!, gx = x.gradBuf();
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++) {
        const dst = (b * T + t) * PC + part * C;
        for (let h = 0; h < H; h++) {
          const src = ((b * H + h) * T + t) * hs;
          for (let j = 0; j < hs; j++) gx[dst + h * hs + j] += g[src + j];
        }
      }
  });
}

/** The inverse of splitHeads for one part: (B, H, T, hs) → (B, T, H·hs), heads side by side. */
export function mergeHeads(y: Tensor): Tensor {
  const [B, H, T, hs] = y.shape;
  const C = H * hs;
  const out = allocUninit(B * T * C);
  const Y = y.data;
  // walk the output in order (b, t, h, j), as splitHeads does
  let d = 0;
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++)
        for (let j = 0, src = ((b * H + h) * T + t) * hs; j < hs; j++) out[d++] = Y[src + j];
  return Tensor.fromOp(out, [B, T, C], [y], (o) => {
    const g = o.grad!, gy = y.gradBuf();
    let d = 0;
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++)
        for (let t = 0, src = b * T * C + h * hs; t < T; t++, src += C)
          for (let j = 0; j < hs; j++) gy[d++] += g[src + j];
  });
}
