// Matrix products on the active backend: plain, batched (with the batch broadcast like torch.matmul), and the
// fused linear layer y = x·Wᵀ + b that every transformer block is made of. Each backward is two more matmuls
// with transposed operands, which the backend takes without materialising the transposes.
import { allocUninit } from '../backend/storage.js';
import { backend } from '../backend/backend.js';
import { Tensor, sizeOf } from './tensor.js';

/**
 * torch.matmul for ndim ≥ 2: a [..., M, K] · b [..., K, N] → [..., M, N]. Leading (batch) dims must be
 * equal, or one operand must have none (it is then shared by every batch item).
 * transB: b is given as [..., N, K] (a·bᵀ without materialising the transpose).
 */
export function matmul(a: Tensor, b: Tensor, transB = false): Tensor {
  if (a.ndim < 2 || b.ndim < 2) throw new Error(`matmul needs ≥2-D operands, got [${a.shape}] and [${b.shape}]`);
  const M = a.shape[a.ndim - 2], K = a.shape[a.ndim - 1];
  const N = transB ? b.shape[b.ndim - 2] : b.shape[b.ndim - 1];
  const Kb = transB ? b.shape[b.ndim - 1] : b.shape[b.ndim - 2];
  if (K !== Kb) throw new Error(`matmul: inner dimensions differ: [${a.shape}] · [${b.shape}]${transB ? 'ᵀ' : ''}`);
  const ba = a.shape.slice(0, -2), bb = b.shape.slice(0, -2);
  let batchShape: number[];
  if (ba.length && bb.length) {
    if (ba.length !== bb.length || ba.some((d, i) => d !== bb[i])) {
      throw new Error(`matmul: batch dimensions [${ba}] and [${bb}] differ`);
    }
    batchShape = ba;
  } else batchShape = ba.length ? ba : bb;
  const batch = sizeOf(batchShape);
  const sA = ba.length ? M * K : 0, sB = bb.length ? K * N : 0;
  const out = allocUninit(batch * M * N);
  backend().matmul(a.data, b.data, out, {
    batch, M, N, K, transA: false, transB, accumulate: false, strideA: sA, strideB: sB, strideC: M * N,
  });
  return Tensor.fromOp(out, [...batchShape, M, N], [a, b], (o) => {
    const g = o.grad!;
    if (a.requiresGrad) {
      // dA = dC · Bᵀ (or dC · B when b was given transposed)
      const { grad: ga, accumulate } = a.gradTarget();
      if (sA === 0 && batch > 1) {
        // a shared across the batch: sum over the batch by looping into one accumulator
        for (let i = 0; i < batch; i++) {
          backend().matmul(g.subarray(i * M * N), b.data.subarray(i * sB), ga, {
            batch: 1, M, N: K, K: N, transA: false, transB: !transB, accumulate: accumulate || i > 0, strideA: 0, strideB: 0, strideC: 0,
          });
        }
      } else {
        backend().matmul(g, b.data, ga, {
          batch, M, N: K, K: N, transA: false, transB: !transB, accumulate, strideA: M * N, strideB: sB, strideC: M * K,
        });
      }
    }
    if (b.requiresGrad) {
      const { grad: gb, accumulate } = b.gradTarget();
      // dB = Aᵀ · dC  ([K, N]);  for transB, dBᵀ = dCᵀ · A ([N, K])
      const items = sB === 0 && batch > 1 ? batch : 1;
      for (let i = 0; i < items; i++) {
        const one = items > 1;
        const gi = one ? g.subarray(i * M * N) : g, ai = one ? a.data.subarray(i * sA) : a.data;
        const bt = one ? 1 : batch;
        if (transB) {
          backend().matmul(gi, ai, gb, {
            batch: bt, M: N, N: K, K: M, transA: true, transB: false, accumulate: accumulate || i > 0, strideA: M * N, strideB: sA, strideC: one ? 0 : N * K,
          });
        } else {
          backend().matmul(ai, gi, gb, {
            batch: bt, M: K, N, K: M, transA: true, transB: false, accumulate: accumulate || i > 0, strideA: sA, strideB: M * N, strideC: one ? 0 : K * N,
          });
        }
      }
    }
  });
}

/**
 * y = x·Wᵀ + b with W stored [out, in] as torch.nn.Linear (and nanoGPT's state dict) keep it.
 * x: (..., in) → y: (..., out)
 */
export function linear(x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
  const In = x.shape[x.ndim - 1];
  const [Out, Win] = w.shape;
  if (w.ndim !== 2 || Win !== In) throw new Error(`linear: input [${x.shape}] does not fit a weight of [${w.shape}]`);
  if (b && (b.ndim !== 1 || b.shape[0] !== Out)) throw new Error(`linear: bias [${b.shape}] does not fit ${Out} outputs`);
  const rows = x.size / In;
  const out = allocUninit(rows * Out); // every element is written: bias rows first, or the product alone
  if (b) for (let r = 0; r < rows; r++) out.set(b.data, r * Out);
  backend().matmul(x.data, w.data, out, {
    batch: 1, M: rows, N: Out, K: In, transA: false, transB: true, accumulate: b !== null, strideA: 0, strideB: 0, strideC: 0,
  });
  const parents = b ? [x, w, b] : [x, w];
  return Tensor.fromOp(out, [...x.shape.slice(0, -1), Out], parents, (o) => {
    const g = o.grad!; // (rows, Out)
    if (x.requiresGrad) {
      // dx = dy · W   (rows, Out)·(Out, In)
      const { grad, accumulate } = x.gradTarget();
      backend().matmul(g, w.data, grad, {
        batch: 1, M: rows, N: In, K: Out, transA: false, transB: false, accumulate, strideA: 0, strideB: 0, strideC: 0,
      });
    }
    if (w.requiresGrad) {
      // dW = dyᵀ · x   (Out, rows)·(rows, In)
      const { grad, accumulate } = w.gradTarget();
      backend().matmul(g, x.data, grad, {
        batch: 1, M: Out, N: In, K: rows, transA: true, transB: false, accumulate, strideA: 0, strideB: 0, strideC: 0,
      });
    }
    if (b && b.requiresGrad) addColumnSums(g, rows, Out, b.gradBuf());
  });
}

/**
 * gb (cols) += Σ_r g[r, ·], the column sums of g (rows, cols): a bias gradient. One (1, rows)·(rows, cols)
 * product with a row of ones on the backend, whose vector kernels beat a scalar loop several times over.
 */
export function addColumnSums(g: Float32Array, rows: number, cols: number, gb: Float32Array): void {
  if (rows === 1) {
    for (let j = 0; j < cols; j++) gb[j] += g[j];
    return;
  }
  const ones = allocUninit(rows).fill(1);
  backend().matmul(ones, g, gb, { batch: 1, M: 1, N: cols, K: rows, transA: false, transB: false, accumulate: true, strideA: 0, strideB: 0, strideC: 0 });
}
