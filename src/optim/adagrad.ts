// Adagrad (Duchi, Hazan & Singer 2011) with PyTorch's exact update (torch.optim.Adagrad, its single-tensor
// path, dense gradients), per parameter at step t:
//   g ← g + λ·p                        (λ: the parameter group's weight decay)
//   lr_t = lr / (1 + (t − 1)·lr_decay)
//   s ← s + g²                         (s starts at initial_accumulator_value)
//   p ← p − lr_t · g / (√s + ε)
// The arithmetic follows PyTorch's float32 CPU kernels op by op (each tensor op rounds to float32; add and
// addcmul fuse their multiply-add). PyTorch's vectorised sqrt is within 1 ulp of the exact one, so the
// parameters agree with PyTorch's to within a few ulps (test/optimizers.test.ts: 1e-6 relative).
// Plain loops; one memory-bound pass, not worth a kernel at this project's sizes.
import type { Tensor } from '../tensor/tensor.js';
import { allocPersistent } from '../backend/storage.js';
import { SlotOptimizer, type ParamGroup } from './optimizer.js';

export interface AdagradOptions {
  /** default learning rate when update() is called without one */
  lr: number;
  lrDecay: number;
  initialAccumulatorValue: number;
  eps: number;
}

export const ADAGRAD_DEFAULTS: AdagradOptions = { lr: 1e-2, lrDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 };

export class Adagrad extends SlotOptimizer {
  readonly name = 'adagrad';
  readonly opts: AdagradOptions;
  /** steps taken; the learning-rate decay uses it */

  /** Throws naming the option when lr, lrDecay, initialAccumulatorValue or eps is negative. */
  constructor(groups: ParamGroup[], opts: Partial<AdagradOptions> = {}) {
    const o = { ...ADAGRAD_DEFAULTS, ...opts };
    for (const k of ['lr', 'lrDecay', 'initialAccumulatorValue', 'eps'] as const) {
      if (!(o[k] >= 0)) throw new Error(`adagrad: ${k} must be ≥ 0, got ${o[k]}`);
    }
    super(groups, ['sum'], allocPersistent);
    this.opts = o;
    for (const a of this.slots.slots.get('sum')!.values()) a.fill(o.initialAccumulatorValue);
  }

  /** One update at learning rate lr; parameters without a gradient are skipped. */
  update(lr = this.opts.lr): void {
    this.step++;
    const f = Math.fround;
    const eps = f(this.opts.eps);
    for (const group of this.groups) {
      const nclr = f(-lr * (group.lrScale ?? 1) / (1 + (this.step - 1) * this.opts.lrDecay));
      for (const p of group.params) {
        if (!p.grad) continue;
        const P = p.data, G = p.grad, wd = f(group.weightDecay), n = p.size;
        const S = this.slots.get('sum', p);
        for (let i = 0; i < n; i++) {
          const g = f(G[i] + wd * P[i]);
          const s = (S[i] = f(S[i] + g * g));
          P[i] = P[i] + f(f(nclr * g) / f(f(Math.sqrt(s)) + eps));
        }
      }
    }
  }

}
