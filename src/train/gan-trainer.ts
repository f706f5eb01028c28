// The GAN's own alternating loop (Goodfellow et al. 2014, Algorithm 1 with the non-saturating generator loss):
// per minibatch one discriminator step on real data and detached generated samples, then one generator step
// through the (fixed) discriminator. Adam with β1 = 0.5 for both, as DCGAN (Radford et al. 2016). An epoch is
// one pass over a fresh shuffle of the data. Browser-safe.
import { Discriminator, discriminatorLoss, Generator, generatorLoss, sampleNoise, type GanConfig } from '../models/gan.js';
import { configuredOptimizer } from './trainer.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Rng } from '../tensor/rng.js';
import { noGrad, Tensor } from '../tensor/tensor.js';
import { stepScope } from '../backend/storage.js';
import { permutation } from '../data/image-set.js';
import { updateBatchNorm } from './update-bn.js';

/** training data: n samples of sampleShape, row-major */
export interface GanData {
  values: Float32Array;
  n: number;
  sampleShape: number[];
}

export interface GanTrainConfig {
  batchSize: number;
  lr: number;
  beta1: number;
  beta2: number;
  seed: number;
  /** the optimizer of G and D (src/optim/registry.ts; default Adam, as DCGAN) and its own options; β1/β2 serve Adam and AdamW */
  optimizer?: string;
  optimizerOptions?: Record<string, number | boolean | string>;
}

export const GAN_TRAIN_DEFAULTS: GanTrainConfig = { batchSize: 64, lr: 2e-4, beta1: 0.5, beta2: 0.999, seed: 1 };

export interface GanStepInfo {
  lossD: number;
  lossG: number;
}

export class GanTrainer {
  readonly G: Generator;
  readonly D: Discriminator;
  readonly optG: Optimizer;
  readonly optD: Optimizer;
  readonly rng: Rng;
  readonly config: GanTrainConfig;
  step = 0;
  epoch = 0;

  constructor(readonly gan: GanConfig, readonly data: GanData, config: Partial<GanTrainConfig> = {}) {
    this.config = { ...GAN_TRAIN_DEFAULTS, ...config };
    const size = gan.sampleShape.reduce((a, b) => a * b, 1);
    if (data.values.length !== data.n * size || data.sampleShape.join() !== gan.sampleShape.join()) {
      throw new Error(`gan: data of shape [${data.sampleShape}] × ${data.n} (${data.values.length} values) does not fit samples [${gan.sampleShape}]`);
    }
    if (data.n < 1) throw new Error('gan: no training data');
    this.rng = new Rng(this.config.seed);
    this.G = new Generator(gan, this.rng);
    this.D = new Discriminator(gan, this.rng);
    const chosen = { ...this.config, optimizer: this.config.optimizer ?? 'adam' };
    const opt = (params: Tensor[]): Optimizer => configuredOptimizer([{ params, weightDecay: 0 }], chosen);
    this.optG = opt(this.G.parameters());
    this.optD = opt(this.D.parameters());
  }

  /** the samples at `rows` as one (B, …sampleShape) tensor */
  private batch(rows: ArrayLike<number>): Tensor {
    const size = this.data.values.length / this.data.n, x = new Float32Array(rows.length * size);
    for (let i = 0; i < rows.length; i++) x.set(this.data.values.subarray(rows[i] * size, (rows[i] + 1) * size), i * size);
    return new Tensor(x, [rows.length, ...this.data.sampleShape]);
  }

  /** one D step then one G step on the real samples at `rows` */
  trainStep(rows: ArrayLike<number>): GanStepInfo {
    const B = rows.length, { lr } = this.config;
    this.G.train();
    this.D.train();
    const info = stepScope(() => {
      try {
        const fake = noGrad(() => this.G.forward(sampleNoise(B, this.gan.latent, this.rng))); // detached
        const lossD = discriminatorLoss(this.D.forward(this.batch(rows)), this.D.forward(fake));
        const ld = lossD.item();
        if (!Number.isFinite(ld)) throw new Error(`gan: discriminator loss became ${ld} at step ${this.step} (try a lower --lr)`);
        lossD.backward();
        this.optD.update(lr);
        this.optD.zeroGrad();
        const lossG = generatorLoss(this.D.forward(this.G.forward(sampleNoise(B, this.gan.latent, this.rng))));
        lossG.backward();
        this.optG.update(lr);
        return { lossD: ld, lossG: lossG.item() };
      } finally {
        this.optG.zeroGrad();
        this.optD.zeroGrad();
      }
    });
    this.step++;
    return info;
  }

  /** one pass over a fresh shuffle in minibatches (the last partial batch is dropped); mean losses */
  trainEpoch(): GanStepInfo {
    const perm = permutation(this.data.n, this.rng), B = Math.min(this.config.batchSize, this.data.n);
    let d = 0, g = 0, k = 0;
    for (let i = 0; i + B <= perm.length; i += B, k++) {
      const s = this.trainStep(perm.subarray(i, i + B));
      (d += s.lossD), (g += s.lossG);
    }
    this.epoch++;
    return { lossD: d / k, lossG: g / k };
  }

  /**
   * Re-estimates the generator's BatchNorm running statistics for its current weights from `batches`
   * minibatches of noise drawn with `seed` (update-bn.ts), so that eval-mode samples show the generator as it
   * is now rather than the lagging momentum average. The training stream is not touched. A no-op without BN.
   */
  updateGeneratorBatchNorm(batches = 16, seed = 0x6b4e): void {
    const rng = new Rng(seed);
    updateBatchNorm(this.G, batches, () => this.G.forward(sampleNoise(this.config.batchSize, this.gan.latent, rng)));
  }

  /** n generated samples, row-major (n, …sampleShape), from noise drawn with `seed` (eval mode) */
  sample(n: number, seed: number): Float32Array {
    return sampleGenerator(this.G, n, seed);
  }
}

/** n samples of a generator from noise seeded by `seed`, in eval mode, as a plain array */
export function sampleGenerator(G: Generator, n: number, seed: number): Float32Array {
  const was = G.training;
  G.eval();
  try {
    return noGrad(() => stepScope(() => Float32Array.from(G.forward(sampleNoise(n, G.config.latent, new Rng(seed))).data)));
  } finally {
    G.train(was);
  }
}
