// A float32 tensor with reverse-mode autograd, in the spirit of micrograd: every op that produces a tensor
// records its parents and a closure that pushes the output's gradient back into theirs. Tensors are always
// contiguous and row-major; view-like ops (reshape, transpose, slice) copy, which keeps every kernel simple and
// is cheap next to the matmuls that dominate a transformer.

import { alloc, allocUninit } from '../backend/storage.js';

let gradEnabled = true;

/** Runs fn with autograd off: no graph is recorded, as PyTorch's `torch.no_grad()`. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * For each flat index of a row-major array of `shape`, the offset Σ index[i]·strides[i] into another array:
 * the gather map behind broadcasting (stride 0 repeats an axis) and permutes (strides reordered).
 */
export function stridedOffsets(shape: readonly number[], strides: readonly number[]): Int32Array {
  const n = shape.length;
  const size = sizeOf(shape);
  const idx = new Int32Array(size);
  const counter = new Array<number>(n).fill(0);
  let off = 0;
  for (let k = 0; k < size; k++) {
    idx[k] = off;
    for (let i = n - 1; i >= 0; i--) {
      counter[i]++;
      off += strides[i];
      if (counter[i] < shape[i]) break;
      off -= strides[i] * counter[i];
      counter[i] = 0;
    }
  }
  return idx;
}

export class Tensor {
  data: Float32Array;
  readonly shape: number[];
  /** allocated lazily by the first backward that reaches this tensor */
  grad: Float32Array | null = null;
  requiresGrad: boolean;
  /** a name for error messages and state dicts (parameters only) */
  name = '';
  private parents: Tensor[] = [];
  private backwardFn: (() => void) | null = null;

  constructor(data: Float32Array, shape: number[], requiresGrad = false) {
    if (data.length !== sizeOf(shape)) {
      throw new Error(`tensor data has ${data.length} elements but shape [${shape}] needs ${sizeOf(shape)}`);
    }
    this.data = data;
    this.shape = shape;
    this.requiresGrad = requiresGrad;
  }

  get size(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** The result of an op: records the graph only when some parent needs a gradient and grad is enabled. */
  static fromOp(data: Float32Array, shape: number[], parents: Tensor[], backward: (out: Tensor) => void): Tensor {
    const needs = gradEnabled && parents.some((p) => p.requiresGrad);
    const out = new Tensor(data, shape, needs);
    if (needs) {
      out.parents = parents;
      out.backwardFn = () => backward(out);
    }
    return out;
  }

  /**
   * The gradient buffer and whether it already holds a gradient. Kernels that can either add into their
   * output or overwrite it (matmul's `accumulate`) overwrite a fresh buffer, which spares the fast backends
   * from copying the zeros in. A fresh buffer is not zero-filled inside a stepScope (allocUninit): with
   * `accumulate` false the caller must write every element.
   */
  gradTarget(): { grad: Float32Array; accumulate: boolean } {
    if (this.grad !== null) return { grad: this.grad, accumulate: true };
    this.grad = allocUninit(this.data.length);
    return { grad: this.grad, accumulate: false };
  }

  /**
   * Adds g (same size) to this tensor's gradient. With `give`, the caller hands g over (it is an output's
   * gradient that the backward pass drops next), so a first gradient is adopted without a copy — a residual
   * connection passes its gradient through for free.
   */
  acceptGrad(g: Float32Array, give: boolean): void {
    if (this.grad === null) {
      if (give) this.grad = g;
      else (this.grad = allocUninit(g.length)).set(g);
      return;
    }
    const d = this.grad;
    for (let i = 0; i < d.length; i++) d[i] += g[i];
  }

  /** the gradient buffer, zero-filled on first use; ops accumulate into it */
  gradBuf(): Float32Array {
    if (this.grad === null) this.grad = alloc(this.data.length);
    return this.grad;
  }

  /** Backpropagates from this tensor; a non-scalar needs an explicit upstream gradient. */
  backward(gradOut?: Float32Array): void {
    if (!this.requiresGrad) throw new Error('backward() on a tensor that does not require grad');
    if (gradOut === undefined) {
      if (this.size !== 1) throw new Error(`backward() without a gradient needs a scalar, got shape [${this.shape}]`);
      gradOut = new Float32Array([1]);
    }
    const order: Tensor[] = [];
    const seen = new Set<Tensor>();
    // iterative post-order DFS: deep graphs (long unrolled RNNs) must not blow the JS stack
    const stack: [Tensor, number][] = [[this, 0]];
    seen.add(this);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [t, i] = top;
      if (i < t.parents.length) {
        top[1]++;
        const p = t.parents[i];
        if (!seen.has(p) && p.requiresGrad) {
          seen.add(p);
          stack.push([p, 0]);
        }
      } else {
        stack.pop();
        order.push(t);
      }
    }
    const g = this.gradBuf();
    for (let i = 0; i < g.length; i++) g[i] += gradOut[i];
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      if (t.backwardFn && t.grad) t.backwardFn();
      // free the graph as we go: intermediate results are not needed again, parameters keep their grads
      if (t.backwardFn) {
        t.backwardFn = null;
        t.parents = [];
        t.grad = null;
      }
    }
  }

  /** drops the link to the graph: the result shares data but has no history */
  detach(): Tensor {
    return new Tensor(this.data, this.shape.slice(), false);
  }

  zeroGrad(): void {
    this.grad = null;
  }

  item(): number {
    if (this.size !== 1) throw new Error(`item() needs a one-element tensor, got shape [${this.shape}]`);
    return this.data[0];
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  toString(): string {
    return `Tensor(shape=[${this.shape}], requiresGrad=${this.requiresGrad})`;
  }

  // creation -----------------------------------------------------------------------------------------------

  static zeros(shape: number[], requiresGrad = false): Tensor {
    return new Tensor(new Float32Array(sizeOf(shape)), shape, requiresGrad);
  }

  static ones(shape: number[], requiresGrad = false): Tensor {
    return new Tensor(new Float32Array(sizeOf(shape)).fill(1), shape, requiresGrad);
  }

  static full(shape: number[], value: number, requiresGrad = false): Tensor {
    return new Tensor(new Float32Array(sizeOf(shape)).fill(value), shape, requiresGrad);
  }

  /** from nested arrays or a flat array with an explicit shape */
  static from(values: number[] | Float32Array | NestedArray, shape?: number[], requiresGrad = false): Tensor {
    if (shape) return new Tensor(Float32Array.from(values as ArrayLike<number>), shape, requiresGrad);
    const s: number[] = [];
    let v: unknown = values;
    while (Array.isArray(v) || v instanceof Float32Array) {
      s.push((v as ArrayLike<unknown>).length);
      v = (v as ArrayLike<unknown>)[0];
    }
    const flat = (values as unknown[]).flat(Infinity as 1) as number[];
    return new Tensor(Float32Array.from(flat), s, requiresGrad);
  }

  /** normal(mean, std) entries from a seeded generator */
  static randn(shape: number[], rng: { normal(): number }, std = 1, mean = 0, requiresGrad = false): Tensor {
    const d = new Float32Array(sizeOf(shape));
    for (let i = 0; i < d.length; i++) d[i] = mean + std * rng.normal();
    return new Tensor(d, shape, requiresGrad);
  }

  static rand(shape: number[], rng: { random(): number }, lo = 0, hi = 1, requiresGrad = false): Tensor {
    const d = new Float32Array(sizeOf(shape));
    for (let i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * rng.random();
    return new Tensor(d, shape, requiresGrad);
  }
}

export type NestedArray = number[] | NestedArray[];
