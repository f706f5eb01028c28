// A plain multilayer perceptron: Linear layers with a chosen activation between them (none after the last),
// the network of TensorFlow Playground, of the MLP image classifier and of the MLP GAN. Weights are drawn
// N(0, gain²/fan_in) — He et al. 2015 for relu-like activations, Glorot-style gain 1 for tanh/sigmoid — and
// biases zero.
import { Linear } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { gelu, leakyRelu, relu, sigmoid, tanh } from '../tensor/elementwise.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';

export const ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'gelu', 'leaky_relu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** the activation called `name`; throws naming the allowed ones */
export function activation(name: string): (x: Tensor) => Tensor {
  switch (name) {
    case 'relu': return relu;
    case 'tanh': return tanh;
    case 'sigmoid': return sigmoid;
    case 'gelu': return gelu;
    case 'leaky_relu': return (x) => leakyRelu(x, 0.2);
    default: throw new Error(`activation must be one of ${ACTIVATIONS.join(', ')}, got "${name}"`);
  }
}

/** x (N, sizes[0]) → (N, sizes[last]); layers named `layers.0`, `layers.1`, … */
export class MLPNet extends Module {
  readonly layers: Linear[];
  private readonly act: (x: Tensor) => Tensor;

  constructor(readonly sizes: readonly number[], readonly activationName: string, rng: Rng) {
    super();
    if (sizes.length < 2 || sizes.some((s) => !(Number.isInteger(s) && s >= 1))) throw new Error(`MLP: layer sizes must be ≥ 2 whole numbers ≥ 1, got [${sizes}]`);
    this.act = activation(activationName);
    const gain = activationName === 'tanh' || activationName === 'sigmoid' ? 1 : Math.SQRT2;
    this.layers = sizes.slice(1).map((out, i) => this.child(`layers.${i}`, new Linear(sizes[i], out, true, rng, gain / Math.sqrt(sizes[i]))));
  }

  forward(x: Tensor): Tensor {
    let h = x;
    this.layers.forEach((l, i) => {
      h = l.forward(h);
      if (i < this.layers.length - 1) h = this.act(h);
    });
    return h;
  }
}
