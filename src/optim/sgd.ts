// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay, with PyTorch's
// exact update (torch.optim.SGD, its single-tensor path), per parameter with gradient g:
//   g ← g + λ·p                                   (λ: the parameter group's weight decay)
//   b ← g on the first step, else μ·b + (1 − τ)·g  (μ momentum, τ dampening; only when μ ≠ 0)
//   g ← g + μ·b with Nesterov, else g ← b
//   p ← p − lr·g
// The arithmetic follows PyTorch's float32 CPU kernels op by op (each tensor op rounds to float32; add with
// alpha is one fused multiply-add), so the parameters agree with PyTorch's bit for bit (tested).
// Plain loops: one pass over p, g and b, memory-bound; a backend kernel would only pay off for large models.
import type { Tensor } from '../tensor/tensor.js';
import { allocPersistent } from '../backend/storage.js';
import { SlotOptimizer, type ParamGroup } from './optimizer.js';

export interface SGDOptions {
  /** default learning rate when update() is called without one */
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
}

export const SGD_DEFAULTS: SGDOptions = { lr: 1e-3, momentum: 0, dampening: 0, nesterov: false };

export class SGD extends SlotOptimizer {
  readonly name = 'sgd';
  readonly opts: SGDOptions;
  /** parameters whose momentum buffer holds a value (PyTorch starts it at the first gradient) */
  private readonly started = new Set<Tensor>();

  /** Throws naming the option when lr, momentum or dampening is negative, or Nesterov lacks momentum or has dampening. */
  constructor(groups: ParamGroup[], opts: Partial<SGDOptions> = {}) {
    const o = { ...SGD_DEFAULTS, ...opts };
    if (!(o.lr >= 0)) throw new Error(`sgd: lr must be ≥ 0, got ${o.lr}`);
    if (!(o.momentum >= 0)) throw new Error(`sgd: momentum must be ≥ 0, got ${o.momentum}`);
    if (!(o.dampening >= 0)) throw new Error(`sgd: dampening must be ≥ 0, got ${o.dampening}`);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) throw new Error('sgd: nesterov needs momentum > 0 and dampening 0');
    super(groups, o.momentum !== 0 ? ['momentum_buffer'] : [], allocPersistent);
    this.opts = o;
  }

  /** One update at learning rate lr; parameters without a gradient are skipped. */
  update(lr = this.opts.lr): void {
    this.step++;
    const f = Math.fround;
    const mu = f(this.opts.momentum), keep = f(1 - this.opts.dampening), nesterov = this.opts.nesterov;
    for (const group of this.groups) {
      const nlr = f(-lr * (group.lrScale ?? 1));
      for (const p of group.params) {
        if (!p.grad) continue;
        const P = p.data, G = p.grad, wd = f(group.weightDecay), n = p.size;
        if (mu === 0) {
          for (let i = 0; i < n; i++) P[i] = P[i] + nlr * f(G[i] + wd * P[i]);
          continue;
        }
        const buf = this.slots.get('momentum_buffer', p);
        const first = !this.started.has(p);
        this.started.add(p);
        for (let i = 0; i < n; i++) {
          const g = f(G[i] + wd * P[i]);
          const b = (buf[i] = first ? g : f(f(buf[i] * mu) + keep * g));
          P[i] = P[i] + nlr * (nesterov ? f(g + mu * b) : b);
        }
      }
    }
  }

  override loadStateTensors(state: ReadonlyMap<string, Float32Array>, nameOf: (p: Tensor) => string, step: number): void {
    super.loadStateTensors(state, nameOf, step);
    this.started.clear();
    if (step > 0) for (const g of this.groups) for (const p of g.params) this.started.add(p);
  }
}
