// RMSProp (Hinton's lecture 6e; centered variant from Graves 2013) with PyTorch's exact update
// (torch.optim.RMSprop, its single-tensor path), per parameter with gradient g:
//   g ← g + λ·p                                  (λ: the parameter group's weight decay)
//   v ← α·v + (1 − α)·g²
//   centered:  ḡ ← ḡ + (1 − α)·(g − ḡ),  d ← √(v − ḡ²) + ε;   otherwise d ← √v + ε
//   momentum μ > 0:  b ← μ·b + g/d,  p ← p − lr·b;   otherwise p ← p − lr·g/d
// The arithmetic follows PyTorch's float32 CPU kernels op by op (each tensor op rounds to float32; add,
// addcmul and lerp fuse their multiply-add). PyTorch's vectorised sqrt is within 1 ulp of the exact one, so
// the parameters agree with PyTorch's to within a few ulps (test/optimizers.test.ts: 1e-6 relative).
// Plain loops (one memory-bound pass); a backend kernel like AdamW's would suit it for large models.
import type { Tensor } from '../tensor/tensor.js';
import { allocPersistent } from '../backend/storage.js';
import { SlotOptimizer, type ParamGroup } from './optimizer.js';

/** torch.lerp in float32: a + w·(b − a) for |w| < 0.5, else b − (b − a)·(1 − w), one rounding each */
function lerp32(a: number, b: number, w: number): number {
  const d = Math.fround(b - a);
  return Math.fround(w < 0.5 ? a + w * d : b - d * Math.fround(1 - w));
}

export interface RMSPropOptions {
  /** default learning rate when update() is called without one */
  lr: number;
  /** smoothing constant of the squared-gradient average */
  alpha: number;
  eps: number;
  momentum: number;
  /** normalise by the gradient's estimated variance instead of its second moment */
  centered: boolean;
}

export const RMSPROP_DEFAULTS: RMSPropOptions = { lr: 1e-2, alpha: 0.99, eps: 1e-8, momentum: 0, centered: false };

export class RMSProp extends SlotOptimizer {
  readonly name = 'rmsprop';
  readonly opts: RMSPropOptions;

  /** Throws naming the option when lr, eps or momentum is negative or alpha is outside [0, 1]. */
  constructor(groups: ParamGroup[], opts: Partial<RMSPropOptions> = {}) {
    const o = { ...RMSPROP_DEFAULTS, ...opts };
    if (!(o.lr >= 0)) throw new Error(`rmsprop: lr must be ≥ 0, got ${o.lr}`);
    if (!(o.alpha >= 0 && o.alpha <= 1)) throw new Error(`rmsprop: alpha must be in [0, 1], got ${o.alpha}`);
    if (!(o.eps >= 0)) throw new Error(`rmsprop: eps must be ≥ 0, got ${o.eps}`);
    if (!(o.momentum >= 0)) throw new Error(`rmsprop: momentum must be ≥ 0, got ${o.momentum}`);
    const names = ['square_avg'];
    if (o.momentum > 0) names.push('momentum_buffer');
    if (o.centered) names.push('grad_avg');
    super(groups, names, allocPersistent);
    this.opts = o;
  }

  /** One update at learning rate lr; parameters without a gradient are skipped. */
  update(lr = this.opts.lr): void {
    this.step++;
    const f = Math.fround;
    const alpha = f(this.opts.alpha), rest = f(1 - this.opts.alpha), eps = f(this.opts.eps), mu = f(this.opts.momentum);
    for (const group of this.groups) {
      const nlr = f(-lr * (group.lrScale ?? 1));
      for (const p of group.params) {
        if (!p.grad) continue;
        const P = p.data, G = p.grad, wd = f(group.weightDecay), n = p.size;
        const V = this.slots.get('square_avg', p);
        const A = this.opts.centered ? this.slots.get('grad_avg', p) : null;
        const M = mu > 0 ? this.slots.get('momentum_buffer', p) : null;
        for (let i = 0; i < n; i++) {
          const g = f(G[i] + wd * P[i]);
          const v = (V[i] = f(f(V[i] * alpha) + f(rest * g) * g));
          const a = A ? (A[i] = lerp32(A[i], g, rest)) : 0;
          const d = f(f(Math.sqrt(f(v - a * a))) + eps);
          if (M) P[i] = P[i] + nlr * (M[i] = f(f(M[i] * mu) + f(g / d)));
          else P[i] = P[i] + f(f(nlr * g) / d);
        }
      }
    }
  }

}
