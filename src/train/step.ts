// One optimisation step, as both trainers (pretraining, SFT) take it: forward to a scalar loss, backward,
// gradient clipping, the optimizer's update. Activations and gradients live in a step arena
// (src/backend/storage.ts): only numbers leave it, and the parameters' gradients are dropped before it
// closes, so nothing keeps a view on memory the next step reuses.
import type { Optimizer } from '../optim/optimizer.js';
import { clipGradNorm } from '../optim/clip.js';
import { stepScope } from '../backend/storage.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Runs `lossOf()` and one update at learning rate `lr`, clipping the gradients' global norm at `gradClip`.
 * A NaN or infinite loss throws `nonFinite(loss)` before any gradient is computed.
 */
export function optimizationStep(
  params: Tensor[], optimizer: Optimizer, lr: number, gradClip: number,
  lossOf: () => Tensor, nonFinite: (loss: number) => Error,
): { loss: number; gradNorm: number } {
  optimizer.zeroGrad();
  return stepScope(() => {
    try {
      const loss = lossOf();
      const l = loss.item();
      if (!Number.isFinite(l)) throw nonFinite(l);
      loss.backward();
      const gradNorm = clipGradNorm(params, gradClip);
      optimizer.update(lr);
      return { loss: l, gradNorm };
    } finally {
      optimizer.zeroGrad();
    }
  });
}
