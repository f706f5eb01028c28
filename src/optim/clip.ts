// Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_), on the backend's kernels.
import { backend } from '../backend/backend.js';
import type { Tensor } from '../tensor/tensor.js';

/** Scales all gradients so that their global L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  const be = backend();
  let sq = 0;
  for (const p of params) if (p.grad) sq += be.sumSquares(p.grad, p.grad.length);
  const norm = Math.sqrt(sq);
  if (maxNorm > 0 && norm > maxNorm) {
    // PyTorch: clip_coef = max_norm / (total_norm + 1e-6)
    const s = maxNorm / (norm + 1e-6);
    for (const p of params) if (p.grad) be.scale(p.grad, s, p.grad.length);
  }
  return norm;
}
