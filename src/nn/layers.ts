// The basic layers, each a thin Module over one fused op of the tensor engine.
import { Tensor } from '../tensor/tensor.js';
import { linear } from '../tensor/matmul.js';
import { layerNorm } from '../tensor/nnops.js';
import { gather } from '../tensor/shape.js';
import { dropout } from '../tensor/elementwise.js';
import type { Rng } from '../tensor/rng.js';
import { Module } from './module.js';
import { weightsSkipped } from './skip-init.js';

/**
 * y = x·Wᵀ + b, W [out, in] initialised N(0, std) as nanoGPT does (std 0.02), bias zero. Built inside
 * withoutWeights (skip-init.ts) it is a placeholder with no parameters until `materialize` gives it its weights.
 */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  /** set while this is a placeholder: the shape and bias it was declared with */
  private pending: { inF: number; outF: number; bias: boolean } | null = null;

  constructor(inF: number, outF: number, bias: boolean, rng: Rng, std = 0.02) {
    super();
    if (weightsSkipped()) {
      this.pending = { inF, outF, bias };
      this.weight = new Tensor(new Float32Array(0), [0, inF]);
      this.bias = null;
      return;
    }
    this.weight = this.param('weight', Tensor.randn([outF, inF], rng, std));
    this.bias = bias ? this.param('bias', Tensor.zeros([outF])) : null;
  }

  /** true for a placeholder built inside withoutWeights whose weights were not given yet */
  get isPlaceholder(): boolean {
    return this.pending !== null;
  }

  /**
   * Gives a placeholder its weight ([out, in] row-major floats) and bias (out floats; null = zeros when it was
   * declared with a bias), registered as the parameters `weight` and `bias` as a normal construction would.
   * Throws if this is not a placeholder or the lengths do not fit.
   */
  materialize(weight: Float32Array, bias: Float32Array | null): void {
    const p = this.pending;
    if (!p) throw new Error('Linear.materialize: the layer already has its weights');
    if (weight.length !== p.outF * p.inF) throw new Error(`Linear.materialize: ${weight.length} weights for [${p.outF}, ${p.inF}]`);
    if (bias && (!p.bias || bias.length !== p.outF)) throw new Error(`Linear.materialize: a bias of ${bias.length} for a layer declared ${p.bias ? `with ${p.outF} outputs` : 'without bias'}`);
    const self = this as { weight: Tensor; bias: Tensor | null };
    self.weight = this.param('weight', new Tensor(weight, [p.outF, p.inF]));
    self.bias = p.bias ? this.param('bias', new Tensor(bias ?? new Float32Array(p.outF), [p.outF])) : null;
    this.pending = null;
  }

  forward(x: Tensor): Tensor {
    if (this.pending) throw new Error(`Linear [${this.pending.outF}, ${this.pending.inF}]: its weights were never loaded (built without weights)`);
    return linear(x, this.weight, this.bias);
  }
}

export class Embedding extends Module {
  readonly weight: Tensor;
  /** N(0, std) rows; zeros inside withoutWeights (skip-init.ts), for a loader to fill */
  constructor(num: number, dim: number, rng: Rng, std = 0.02) {
    super();
    this.weight = this.param('weight', weightsSkipped() ? Tensor.zeros([num, dim]) : Tensor.randn([num, dim], rng, std));
  }
  /** ids (…S) → (…S, dim) */
  forward(ids: Int32Array | number[], shape: number[]): Tensor {
    return gather(this.weight, ids, shape);
  }
}

export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(dim: number, bias: boolean, readonly eps = 1e-5) {
    super();
    this.weight = this.param('weight', Tensor.ones([dim]));
    this.bias = bias ? this.param('bias', Tensor.zeros([dim])) : null;
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

export class Dropout extends Module {
  constructor(readonly p: number, private readonly rng: Rng) {
    super();
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, this.rng);
  }
}
