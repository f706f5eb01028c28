// Element-wise ops with NumPy broadcasting, and the activations. A binary op maps every output index to an
// index in each operand through strides that are 0 along broadcast axes; its backward sums the gradient back
// through the same map, which is exactly "reduce over the broadcast axes".
import { alloc, allocUninit } from '../backend/storage.js';
import { backend } from '../backend/backend.js';
import { Tensor, sizeOf, stridedOffsets } from './tensor.js';

export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`shapes [${a}] and [${b}] cannot be broadcast together (axis ${i}: ${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** for each output flat index, the flat index into an operand of `shape` broadcast to `out` */
function broadcastIndex(shape: readonly number[], out: readonly number[]): Int32Array | null {
  if (shape.length === out.length && shape.every((d, i) => d === out[i])) return null; // identity
  const n = out.length;
  const strides = new Array<number>(n).fill(0);
  let s = 1;
  for (let i = n - 1; i >= 0; i--) {
    const d = shape[i - (n - shape.length)] ?? 1;
    strides[i] = d === 1 ? 0 : s;
    s *= d;
  }
  return stridedOffsets(out, strides);
}

type Binary = (x: number, y: number) => number;
/** partial derivatives of a binary op at (x, y), given its output z */
type BinaryGrad = (x: number, y: number, z: number) => [number, number];

function binary(a: Tensor, b: Tensor, f: Binary, df: BinaryGrad): Tensor {
  const shape = broadcastShape(a.shape, b.shape);
  const ia = broadcastIndex(a.shape, shape);
  const ib = broadcastIndex(b.shape, shape);
  const n = sizeOf(shape);
  const out = alloc(n);
  const A = a.data, B = b.data;
  if (!ia && !ib) for (let i = 0; i < n; i++) out[i] = f(A[i], B[i]);
  else for (let i = 0; i < n; i++) out[i] = f(A[ia ? ia[i] : i], B[ib ? ib[i] : i]);
  return Tensor.fromOp(out, shape, [a, b], (o) => {
    const g = o.grad!;
    const ga = a.requiresGrad ? a.gradBuf() : null;
    const gb = b.requiresGrad ? b.gradBuf() : null;
    for (let i = 0; i < n; i++) {
      const ja = ia ? ia[i] : i, jb = ib ? ib[i] : i;
      const [dx, dy] = df(A[ja], B[jb], out[i]);
      if (ga) ga[ja] += g[i] * dx;
      if (gb) gb[jb] += g[i] * dy;
    }
  });
}

const asTensor = (v: Tensor | number): Tensor => (typeof v === 'number' ? new Tensor(new Float32Array([v]), []) : v);

/** true when `small`'s shape is a suffix of `big`'s, i.e. small repeats along big's leading axes */
function isSuffix(big: readonly number[], small: readonly number[]): boolean {
  if (small.length > big.length) return false;
  for (let i = 1; i <= small.length; i++) if (small[small.length - i] !== big[big.length - i]) return false;
  return true;
}

/**
 * a + b. The two shapes a transformer adds all the time — equal shapes (residuals) and a trailing-suffix
 * broadcast (position embeddings (T, C) onto (B, T, C)) — get straight loops; the rest goes through the
 * general broadcast path.
 */
export function add(a: Tensor, bIn: Tensor | number): Tensor {
  let b = asTensor(bIn);
  if (!isSuffix(a.shape, b.shape)) {
    if (!isSuffix(b.shape, a.shape)) return binary(a, b, (x, y) => x + y, () => [1, 1]);
    [a, b] = [b, a];
  }
  const n = a.size, m = b.size;
  const out = allocUninit(n);
  const A = a.data, B = b.data;
  if (m === n) backend().add(A, B, out, n);
  else for (let o = 0; o < n; o += m) for (let j = 0; j < m; j++) out[o + j] = A[o + j] + B[j];
  const bb = b;
  return Tensor.fromOp(out, a.shape.slice(), [a, bb], (res) => {
    const g = res.grad!;
    if (bb.requiresGrad) {
      if (m === n) bb.acceptGrad(g, false);
      else {
        const gb = bb.gradBuf();
        for (let o = 0; o < n; o += m) for (let j = 0; j < m; j++) gb[j] += g[o + j];
      }
    }
    // last, so that b (which may be a itself) has read g before a adopts it
    if (a.requiresGrad) a.acceptGrad(g, true);
  });
}
export const sub = (a: Tensor, b: Tensor | number): Tensor => binary(a, asTensor(b), (x, y) => x - y, () => [1, -1]);
export const mul = (a: Tensor, b: Tensor | number): Tensor => binary(a, asTensor(b), (x, y) => x * y, (x, y) => [y, x]);
export const div = (a: Tensor, b: Tensor | number): Tensor =>
  binary(a, asTensor(b), (x, y) => x / y, (x, y) => [1 / y, -x / (y * y)]);
export const maximum = (a: Tensor, b: Tensor): Tensor =>
  binary(a, b, (x, y) => (x >= y ? x : y), (x, y) => (x >= y ? [1, 0] : [0, 1]));

/** y = f(x) with dy/dx = df(x, y) */
function unary(a: Tensor, f: (x: number) => number, df: (x: number, y: number) => number): Tensor {
  const n = a.size;
  const out = alloc(n);
  const A = a.data;
  for (let i = 0; i < n; i++) out[i] = f(A[i]);
  return Tensor.fromOp(out, a.shape.slice(), [a], (o) => {
    const g = o.grad!, ga = a.gradBuf();
    for (let i = 0; i < n; i++) ga[i] += g[i] * df(A[i], out[i]);
  });
}

export const neg = (a: Tensor): Tensor => unary(a, (x) => -x, () => -1);
export const exp = (a: Tensor): Tensor => unary(a, Math.exp, (_x, y) => y);
export const log = (a: Tensor): Tensor => unary(a, Math.log, (x) => 1 / x);
export const sqrt = (a: Tensor): Tensor => unary(a, Math.sqrt, (_x, y) => 0.5 / y);
export const pow = (a: Tensor, p: number): Tensor => unary(a, (x) => Math.pow(x, p), (x) => p * Math.pow(x, p - 1));
export const tanh = (a: Tensor): Tensor => unary(a, Math.tanh, (_x, y) => 1 - y * y);
export const sigmoid = (a: Tensor): Tensor =>
  unary(a, (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))), (_x, y) => y * (1 - y));
export const relu = (a: Tensor): Tensor => unary(a, (x) => (x > 0 ? x : 0), (x) => (x > 0 ? 1 : 0));
export const leakyRelu = (a: Tensor, slope = 0.01): Tensor =>
  unary(a, (x) => (x > 0 ? x : slope * x), (x) => (x > 0 ? 1 : slope));
export const elu = (a: Tensor, alpha = 1): Tensor =>
  unary(a, (x) => (x > 0 ? x : alpha * (Math.exp(x) - 1)), (x, y) => (x > 0 ? 1 : y + alpha));

/** exact GELU x·Φ(x) (PyTorch's default, nanoGPT's nn.GELU()), computed by the active backend */
export function gelu(a: Tensor): Tensor {
  const n = a.size;
  const out = allocUninit(n);
  backend().gelu(a.data, out, n);
  return Tensor.fromOp(out, a.shape.slice(), [a], (o) => backend().geluBackward(a.data, out, o.grad!, a.gradBuf(), n));
}

/**
 * Maxout (Goodfellow et al. 2013): the last axis is split into groups of `pieces` and each group's max is
 * kept, so the last axis shrinks by that factor. The gradient flows only to each group's winner.
 */
export function maxout(a: Tensor, pieces: number): Tensor {
  const C = a.shape[a.ndim - 1];
  if (C % pieces !== 0) throw new Error(`maxout: last axis ${C} is not divisible by pieces=${pieces}`);
  const groups = a.size / pieces;
  const out = alloc(groups);
  const arg = new Int32Array(groups);
  for (let g = 0; g < groups; g++) {
    let best = -Infinity, bi = 0;
    for (let p = 0; p < pieces; p++) {
      const v = a.data[g * pieces + p];
      if (v > best) (best = v), (bi = p);
    }
    out[g] = best;
    arg[g] = g * pieces + bi;
  }
  const shape = [...a.shape.slice(0, -1), C / pieces];
  return Tensor.fromOp(out, shape, [a], (o) => {
    const ga = a.gradBuf();
    for (let g = 0; g < groups; g++) ga[arg[g]] += o.grad![g];
  });
}

/**
 * Inverted dropout: in training, zero each element with probability p and scale the rest by 1/(1−p), so that
 * evaluation needs no rescaling. A no-op when p = 0 or not training.
 */
export function dropout(a: Tensor, p: number, training: boolean, rng: { random(): number }): Tensor {
  if (!training || p === 0) return a;
  if (p < 0 || p >= 1) throw new Error(`dropout probability must be in [0, 1), got ${p}`);
  const n = a.size;
  const scale = 1 / (1 - p);
  const mask = alloc(n);
  const out = alloc(n);
  for (let i = 0; i < n; i++) {
    mask[i] = rng.random() >= p ? scale : 0;
    out[i] = a.data[i] * mask[i];
  }
  return Tensor.fromOp(out, a.shape.slice(), [a], (o) => {
    const g = o.grad!, ga = a.gradBuf();
    for (let i = 0; i < n; i++) ga[i] += g[i] * mask[i];
  });
}
