// The basic layers, each a thin Module over one fused op of the tensor engine.
import { Tensor } from '../tensor/tensor.js';
import { linear } from '../tensor/matmul.js';
import { layerNorm } from '../tensor/nnops.js';
import { gather } from '../tensor/shape.js';
import { dropout } from '../tensor/elementwise.js';
import type { Rng } from '../tensor/rng.js';
import { Module } from './module.js';

/** y = x·Wᵀ + b, W [out, in] initialised N(0, std) as nanoGPT does (std 0.02), bias zero */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(inF: number, outF: number, bias: boolean, rng: Rng, std = 0.02) {
    super();
    this.weight = this.param('weight', Tensor.randn([outF, inF], rng, std));
    this.bias = bias ? this.param('bias', Tensor.zeros([outF])) : null;
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

export class Embedding extends Module {
  readonly weight: Tensor;
  constructor(num: number, dim: number, rng: Rng, std = 0.02) {
    super();
    this.weight = this.param('weight', Tensor.randn([num, dim], rng, std));
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
