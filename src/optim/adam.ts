// Adam (Kingma & Ba 2015) with L2 weight decay added to the gradient and optional AMSGrad (Reddi et al.
// 2018), with PyTorch's exact update (torch.optim.Adam, its single-tensor path), per parameter at step t:
//   g ← g + λ·p                        (λ: the parameter group's weight decay — coupled, unlike AdamW)
//   m ← m + (1 − β1)·(g − m),  v ← β2·v + (1 − β2)·g²
//   amsgrad: v̂ ← max(v̂, v), else v̂ = v
//   p ← p − (lr / (1 − β1^t)) · m / (√v̂ / √(1 − β2^t) + ε)
// The arithmetic follows PyTorch's float32 CPU kernels op by op (each tensor op rounds to float32; add,
// addcmul and lerp fuse their multiply-add). PyTorch's vectorised sqrt is within 1 ulp of the exact one, so
// the parameters agree with PyTorch's to within a few ulps (test/optimizers.test.ts: 1e-6 relative).
// Plain loops; the AdamW backend kernel (src/backend) has the same shape and could take an `l2` flag.
import type { Tensor } from '../tensor/tensor.js';
import { allocPersistent } from '../backend/storage.js';
import { SlotOptimizer, type ParamGroup } from './optimizer.js';

/** torch.lerp in float32: a + w·(b − a) for |w| < 0.5, else b − (b − a)·(1 − w), one rounding each */
function lerp32(a: number, b: number, w: number): number {
  const d = Math.fround(b - a);
  return Math.fround(w < 0.5 ? a + w * d : b - d * Math.fround(1 - w));
}

export interface AdamOptions {
  /** default learning rate when update() is called without one */
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** keep the running maximum of v and normalise by it */
  amsgrad: boolean;
}

export const ADAM_DEFAULTS: AdamOptions = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, amsgrad: false };

export class Adam extends SlotOptimizer {
  readonly name = 'adam';
  readonly opts: AdamOptions;
  /** steps taken; bias correction uses it */

  /** Throws naming the option when lr or eps is negative or a beta is outside [0, 1). */
  constructor(groups: ParamGroup[], opts: Partial<AdamOptions> = {}) {
    const o = { ...ADAM_DEFAULTS, ...opts };
    if (!(o.lr >= 0)) throw new Error(`adam: lr must be ≥ 0, got ${o.lr}`);
    if (!(o.beta1 >= 0 && o.beta1 < 1)) throw new Error(`adam: beta1 must be in [0, 1), got ${o.beta1}`);
    if (!(o.beta2 >= 0 && o.beta2 < 1)) throw new Error(`adam: beta2 must be in [0, 1), got ${o.beta2}`);
    if (!(o.eps >= 0)) throw new Error(`adam: eps must be ≥ 0, got ${o.eps}`);
    super(groups, o.amsgrad ? ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] : ['exp_avg', 'exp_avg_sq'], allocPersistent);
    this.opts = o;
  }

  /** One update at learning rate lr; parameters without a gradient are skipped. */
  update(lr = this.opts.lr): void {
    this.step++;
    const f = Math.fround;
    const { beta1, beta2, amsgrad } = this.opts;
    const w1 = f(1 - beta1), b2 = f(beta2), w2 = f(1 - beta2), eps = f(this.opts.eps);
    const bc2Sqrt = f(Math.sqrt(1 - Math.pow(beta2, this.step)));
    for (const group of this.groups) {
      const nStep = f(-lr * (group.lrScale ?? 1) / (1 - Math.pow(beta1, this.step)));
      for (const p of group.params) {
        if (!p.grad) continue;
        const P = p.data, G = p.grad, wd = f(group.weightDecay), n = p.size;
        const M = this.slots.get('exp_avg', p), V = this.slots.get('exp_avg_sq', p);
        const X = amsgrad ? this.slots.get('max_exp_avg_sq', p) : null;
        for (let i = 0; i < n; i++) {
          const g = f(G[i] + wd * P[i]);
          const m = (M[i] = lerp32(M[i], g, w1));
          let v = (V[i] = f(f(V[i] * b2) + f(w2 * g) * g));
          if (X) v = X[i] = Math.max(X[i], v);
          const d = f(f(f(Math.sqrt(v)) / bc2Sqrt) + eps);
          P[i] = P[i] + f(f(nStep * m) / d);
        }
      }
    }
  }

}
