// AdamW (Loshchilov & Hutter): Adam with weight decay decoupled from the gradient, PyTorch semantics, with
// parameter groups so norms, biases and embeddings can be left undecayed. The update itself is a backend
// kernel (one fused pass over p, g, m, v).
import { backend } from '../backend/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { allocPersistent } from '../backend/storage.js';
import { SlotOptimizer, type ParamGroup } from './optimizer.js';

export type { ParamGroup } from './optimizer.js';

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}


export const ADAMW_DEFAULTS: AdamWOptions = { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };

export class AdamW extends SlotOptimizer {
  readonly name = 'adamw';
  readonly opts: AdamWOptions;
  /** steps taken; bias correction uses it */

  constructor(groups: ParamGroup[], opts: Partial<AdamWOptions> = {}) {
    super(groups, ['m', 'v'], allocPersistent);
    this.opts = { ...ADAMW_DEFAULTS, ...opts };
  }

  /** One update with learning rate `lr` (defaults to opts.lr); parameters without a gradient are skipped. */
  update(lr = this.opts.lr): void {
    this.step++;
    const { beta1, beta2, eps } = this.opts;
    const be = backend();
    for (const g of this.groups)
      for (const p of g.params) {
        if (!p.grad) continue;
        be.adamw(p.data, p.grad, this.slots.get('m', p), this.slots.get('v', p), p.size, lr * (g.lrScale ?? 1), beta1, beta2, eps, g.weightDecay, this.step);
      }
  }

}
