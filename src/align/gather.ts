// Reading one position per row of a (B, T, C) tensor: the reward model's score is read at each sequence's
// last token, whose index differs from row to row (right-padded batches). Differentiable.
import { Tensor } from '../tensor/tensor.js';

/**
 * x (B, T, C), index (B) with 0 ≤ index[b] < T → (B, C) with out[b] = x[b, index[b]]. The gradient flows back
 * to the picked positions only. Throws on a bad shape or an index out of range.
 */
export function pickPositions(x: Tensor, index: ArrayLike<number>): Tensor {
  if (x.ndim !== 3) throw new Error(`pickPositions: x must be (B, T, C), got [${x.shape}]`);
  const [B, T, C] = x.shape;
  if (index.length !== B) throw new Error(`pickPositions: ${index.length} indices for ${B} rows`);
  const out = new Float32Array(B * C);
  for (let b = 0; b < B; b++) {
    const t = index[b];
    if (!(Number.isInteger(t) && t >= 0 && t < T)) throw new Error(`pickPositions: index[${b}] = ${t} is outside [0, ${T})`);
    out.set(x.data.subarray((b * T + t) * C, (b * T + t + 1) * C), b * C);
  }
  return Tensor.fromOp(out, [B, C], [x], (o) => {
    const g = x.gradBuf();
    for (let b = 0; b < B; b++) {
      const at = (b * T + index[b]) * C;
      for (let c = 0; c < C; c++) g[at + c] += o.grad![b * C + c];
    }
  });
}
