// AdamW (Loshchilov & Hutter): Adam with weight decay decoupled from the gradient, PyTorch semantics, with
// parameter groups so norms, biases and embeddings can be left undecayed. The update itself is a backend
// kernel (one fused pass over p, g, m, v).
import { backend } from '../backend/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { allocPersistent } from '../backend/storage.js';
import { SlotState, type Optimizer, type ParamGroup } from './optimizer.js';

export type { ParamGroup } from './optimizer.js';

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}


export const ADAMW_DEFAULTS: AdamWOptions = { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };

export class AdamW implements Optimizer {
  readonly name = 'adamw';
  readonly opts: AdamWOptions;
  readonly groups: ParamGroup[];
  /** steps taken; bias correction uses it */
  step = 0;
  private readonly slots: SlotState;

  constructor(groups: ParamGroup[], opts: Partial<AdamWOptions> = {}) {
    this.opts = { ...ADAMW_DEFAULTS, ...opts };
    this.groups = groups;
    this.slots = new SlotState(['m', 'v'], groups, allocPersistent);
  }

  /** One update with learning rate `lr` (defaults to opts.lr); parameters without a gradient are skipped. */
  update(lr = this.opts.lr): void {
    this.step++;
    const { beta1, beta2, eps } = this.opts;
    const be = backend();
    for (const g of this.groups)
      for (const p of g.params) {
        if (!p.grad) continue;
        be.adamw(p.data, p.grad, this.slots.get('m', p), this.slots.get('v', p), p.size, lr, beta1, beta2, eps, g.weightDecay, this.step);
      }
  }

  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.zeroGrad();
  }

  /** moments keyed `m.<name>`, `v.<name>`, for checkpoints */
  stateTensors(nameOf: (p: Tensor) => string): Record<string, Float32Array> {
    return this.slots.toTensors(nameOf);
  }

  loadStateTensors(state: ReadonlyMap<string, Float32Array>, nameOf: (p: Tensor) => string, step: number): void {
    this.slots.load(state, nameOf);
    this.step = step;
  }
}
