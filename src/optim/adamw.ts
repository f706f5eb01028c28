// AdamW (Loshchilov & Hutter): Adam with weight decay decoupled from the gradient, PyTorch semantics, with
// parameter groups so norms, biases and embeddings can be left undecayed. The update itself is a backend
// kernel (one fused pass over p, g, m, v).
import { backend } from '../backend/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { allocPersistent } from '../tensor/storage.js';

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export interface ParamGroup {
  params: Tensor[];
  weightDecay: number;
}

export const ADAMW_DEFAULTS: AdamWOptions = { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };

export class AdamW {
  readonly opts: AdamWOptions;
  readonly groups: ParamGroup[];
  /** steps taken; bias correction uses it */
  step = 0;
  readonly m = new Map<Tensor, Float32Array>();
  readonly v = new Map<Tensor, Float32Array>();

  constructor(groups: ParamGroup[], opts: Partial<AdamWOptions> = {}) {
    this.opts = { ...ADAMW_DEFAULTS, ...opts };
    this.groups = groups;
    for (const g of groups)
      for (const p of g.params) {
        this.m.set(p, allocPersistent(p.size));
        this.v.set(p, allocPersistent(p.size));
      }
  }

  /** One update with learning rate `lr` (defaults to opts.lr); parameters without a gradient are skipped. */
  update(lr = this.opts.lr): void {
    this.step++;
    const { beta1, beta2, eps } = this.opts;
    const be = backend();
    for (const g of this.groups)
      for (const p of g.params) {
        if (!p.grad) continue;
        be.adamw(p.data, p.grad, this.m.get(p)!, this.v.get(p)!, p.size, lr, beta1, beta2, eps, g.weightDecay, this.step);
      }
  }

  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.zeroGrad();
  }

  /** moments keyed by parameter name, for checkpoints */
  stateTensors(nameOf: (p: Tensor) => string): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const [p, m] of this.m) out[`m.${nameOf(p)}`] = m;
    for (const [p, v] of this.v) out[`v.${nameOf(p)}`] = v;
    return out;
  }

  loadStateTensors(state: ReadonlyMap<string, Float32Array>, nameOf: (p: Tensor) => string, step: number): void {
    for (const [p, m] of this.m) {
      const name = nameOf(p);
      const sm = state.get(`m.${name}`), sv = state.get(`v.${name}`);
      if (!sm || !sv || sm.length !== p.size || sv.length !== p.size) {
        throw new Error(`optimizer state: moments for "${name}" are missing or have the wrong size`);
      }
      m.set(sm);
      this.v.get(p)!.set(sv);
    }
    this.step = step;
  }
}

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

/** nanoGPT's schedule: linear warmup to maxLr, cosine decay to minLr at decaySteps, then minLr. */
export function cosineLr(step: number, o: { maxLr: number; minLr: number; warmup: number; decaySteps: number }): number {
  if (step < o.warmup) return (o.maxLr * (step + 1)) / (o.warmup + 1);
  if (step > o.decaySteps) return o.minLr;
  const ratio = (step - o.warmup) / Math.max(1, o.decaySteps - o.warmup);
  return o.minLr + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (o.maxLr - o.minLr);
}
