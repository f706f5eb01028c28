// Generative adversarial networks (Goodfellow et al. 2014): a generator G maps noise z ~ N(0, I) to samples,
// a discriminator D maps a sample to one logit (real vs generated). Two families:
//   mlp    — G: z → hidden (relu) → sample; D: sample → hidden (leaky relu 0.2) → logit. For points (2-D
//            mixtures) and small images.
//   dcgan  — after Radford et al. 2016: G: z → linear → (2b, H/4, W/4) → BN → relu → ×2 upsample → conv3 (b) →
//            BN → relu → ×2 upsample → conv3 (b/2) → BN → relu → conv3 → image; D: conv4 stride 2 → leaky relu →
//            conv4 stride 2 → BN → leaky relu → linear → logit. Images need H and W divisible by 4. The
//            generator's last convolution at full resolution works on b/2 features of its own rather than
//            straight on the upsampled map: on the glyphs (base 32) its samples' Fréchet distance to real ones
//            (src/train/glyph-judge.ts) was 27 after 460 steps, where a generator without that layer stood at 45
//            and needed 920–1,150 steps to reach 25–28, at about the same time per step.
// Images come out through a tanh, in [−1, 1] like the data (scaled from [0, 1]); points come out linear. DCGAN
// layers start from N(0, 0.02) weights, BatchNorm scales from N(1, 0.02); layers before BatchNorm have no bias.
// The non-saturating losses: L_D = softplus(−D(x)) + softplus(D(G(z))), L_G = softplus(−D(G(z))), means over
// the batch (−log σ(t) = softplus(−t)).
import { Module } from '../nn/module.js';
import { Linear } from '../nn/layers.js';
import { Conv2d } from '../nn/conv.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { add, leakyRelu, relu, tanh } from '../tensor/elementwise.js';
import { reshape } from '../tensor/shape.js';
import { flatten } from '../tensor/pool.js';
import { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { MLPNet } from './mlp-net.js';
import { upsample2x } from './upsample.js';

export interface GanConfig {
  arch: 'mlp' | 'dcgan';
  /** noise dimensions */
  latent: number;
  /** one sample's shape: [2] for points, [1, H, W] for images */
  sampleShape: number[];
  /** mlp: hidden widths of G and D (default [128, 128]) */
  hidden: number[];
  /** dcgan: base channel count b (default 32) */
  base: number;
}

export function ganConfig(c: Pick<GanConfig, 'arch' | 'sampleShape'> & Partial<GanConfig>): GanConfig {
  const cfg = { latent: c.sampleShape.length === 1 ? 2 : 32, hidden: [128, 128], base: 32, ...c };
  if (cfg.arch === 'dcgan' && (cfg.sampleShape.length !== 3 || cfg.sampleShape[1] % 4 || cfg.sampleShape[2] % 4)) {
    throw new Error(`dcgan: needs images (1, H, W) with H and W divisible by 4, got [${cfg.sampleShape}]`);
  }
  if (cfg.arch !== 'mlp' && cfg.arch !== 'dcgan') throw new Error(`gan: arch must be mlp or dcgan, got "${String(cfg.arch)}"`);
  return cfg;
}

const isImage = (c: GanConfig): boolean => c.sampleShape.length === 3;
/** the channels of the generator's full-resolution layer */
const half = (b: number): number => Math.ceil(b / 2);
const sampleSize = (c: GanConfig): number => c.sampleShape.reduce((a, b) => a * b, 1);

/**
 * Sizes of a GAN before it is built, in float32 elements: `parameters` of G and D together (BatchNorm's scale
 * and shift included), and `activations`, the layer outputs of one sample through G and then D (each kept for
 * the backward pass). A run of batch N holds about (2 + optimizer buffers) × parameters + a few × N ×
 * activations; gan train refuses sizes past its memory bound from these before allocating anything.
 */
export function ganSizes(c: GanConfig): { parameters: number; activations: number } {
  const S = sampleSize(c);
  if (c.arch === 'mlp') {
    const linear = (ws: number[]): number => ws.slice(1).reduce((sum, w, i) => sum + ws[i] * w + w, 0);
    const hidden = c.hidden.reduce((a, b) => a + b, 0);
    return { parameters: linear([c.latent, ...c.hidden, S]) + linear([S, ...c.hidden, 1]), activations: 2 * hidden + 2 * S + 1 };
  }
  const [C, H, W] = c.sampleShape, b = c.base, h = half(b), q = (H / 4) * (W / 4);
  const gen = c.latent * 2 * b * q + 2 * 2 * b + 9 * 2 * b * b + 2 * b + 9 * b * h + 2 * h + 9 * h * C + C; // fc, bn0, conv1, bn1, conv2, bn2, conv3
  const disc = 16 * C * b + b + 16 * b * 2 * b + 2 * 2 * b + 2 * b * q + 1; // conv1, conv2, bn2, fc
  // G: fc (2b·q), upsampled (2b·4q), conv1 (b·4q), upsampled (b·H·W), conv2 (h·H·W), image; D: conv1 (b·4q), conv2 (2b·q)
  const activations = 2 * b * q + 8 * b * q + 4 * b * q + b * H * W + h * H * W + S + 4 * b * q + 2 * b * q + 1;
  return { parameters: gen + disc, activations };
}

/** DCGAN's initialisation (Radford et al. 2016, §4): weights of convolutions and linear layers ~ N(0, 0.02) */
function dcganWeights<T extends Conv2d | Linear>(layer: T, rng: Rng): T {
  const w = layer.weight.data;
  for (let i = 0; i < w.length; i++) w[i] = 0.02 * rng.normal();
  return layer;
}

/** BatchNorm2d with DCGAN's initialisation: scale ~ N(1, 0.02), shift 0 */
function dcganBatchNorm(C: number, rng: Rng): BatchNorm2d {
  const bn = new BatchNorm2d(C), w = bn.weight!.data;
  for (let i = 0; i < C; i++) w[i] = 1 + 0.02 * rng.normal();
  return bn;
}

/** z (N, latent) → samples (N, …sampleShape); images in [−1, 1] (tanh), points unbounded */
export class Generator extends Module {
  private readonly mlp?: MLPNet;
  private readonly fc?: Linear;
  private readonly bn0?: BatchNorm2d;
  private readonly conv1?: Conv2d;
  private readonly bn1?: BatchNorm2d;
  private readonly conv2?: Conv2d;
  private readonly bn2?: BatchNorm2d;
  private readonly conv3?: Conv2d;

  constructor(readonly config: GanConfig, rng: Rng) {
    super();
    const c = config;
    if (c.arch === 'mlp') this.mlp = this.child('mlp', new MLPNet([c.latent, ...c.hidden, sampleSize(c)], 'relu', rng));
    else {
      const [C, H, W] = c.sampleShape, b = c.base;
      // layers followed by BatchNorm have no bias (BN's shift replaces it)
      this.fc = this.child('fc', dcganWeights(new Linear(c.latent, 2 * b * (H / 4) * (W / 4), false, rng), rng));
      this.bn0 = this.child('bn0', dcganBatchNorm(2 * b, rng));
      this.conv1 = this.child('conv1', dcganWeights(new Conv2d(2 * b, b, 3, rng, { padding: 1, bias: false }), rng));
      this.bn1 = this.child('bn1', dcganBatchNorm(b, rng));
      this.conv2 = this.child('conv2', dcganWeights(new Conv2d(b, half(b), 3, rng, { padding: 1, bias: false }), rng));
      this.bn2 = this.child('bn2', dcganBatchNorm(half(b), rng));
      this.conv3 = this.child('conv3', dcganWeights(new Conv2d(half(b), C, 3, rng, { padding: 1 }), rng));
      this.conv3.bias!.data.fill(0);
    }
  }

  forward(z: Tensor): Tensor {
    const c = this.config, N = z.shape[0];
    if (this.mlp) {
      const out = this.mlp.forward(z); // (N, H·W) or (N, 2)
      return isImage(c) ? reshape(tanh(out), [N, ...c.sampleShape]) : out;
    }
    const [, H, W] = c.sampleShape;
    let h = reshape(this.fc!.forward(z), [N, 2 * c.base, H / 4, W / 4]); // (N, 2b, H/4, W/4)
    h = upsample2x(relu(this.bn0!.forward(h))); // (N, 2b, H/2, W/2)
    h = upsample2x(relu(this.bn1!.forward(this.conv1!.forward(h)))); // (N, b, H, W)
    h = relu(this.bn2!.forward(this.conv2!.forward(h))); // (N, ⌈b/2⌉, H, W)
    return tanh(this.conv3!.forward(h)); // (N, C, H, W)
  }
}

/** samples (N, …sampleShape) → logits (N, 1) */
export class Discriminator extends Module {
  private readonly mlp?: MLPNet;
  private readonly conv1?: Conv2d;
  private readonly conv2?: Conv2d;
  private readonly bn2?: BatchNorm2d;
  private readonly fc?: Linear;

  constructor(readonly config: GanConfig, rng: Rng) {
    super();
    const c = config;
    if (c.arch === 'mlp') this.mlp = this.child('mlp', new MLPNet([sampleSize(c), ...c.hidden, 1], 'leaky_relu', rng));
    else {
      const [C, H, W] = c.sampleShape, b = c.base;
      this.conv1 = this.child('conv1', dcganWeights(new Conv2d(C, b, 4, rng, { stride: 2, padding: 1 }), rng)); // no BN on the input layer
      this.conv1.bias!.data.fill(0);
      this.conv2 = this.child('conv2', dcganWeights(new Conv2d(b, 2 * b, 4, rng, { stride: 2, padding: 1, bias: false }), rng));
      this.bn2 = this.child('bn2', dcganBatchNorm(2 * b, rng));
      this.fc = this.child('fc', dcganWeights(new Linear(2 * b * (H / 4) * (W / 4), 1, true, rng), rng));
    }
  }

  forward(x: Tensor): Tensor {
    const N = x.shape[0];
    if (this.mlp) return this.mlp.forward(reshape(x, [N, sampleSize(this.config)])); // (N, 1)
    let h = leakyRelu(this.conv1!.forward(x), 0.2); // (N, b, H/2, W/2)
    h = leakyRelu(this.bn2!.forward(this.conv2!.forward(h)), 0.2); // (N, 2b, H/4, W/4)
    return this.fc!.forward(flatten(h, 1)); // (N, 1)
  }
}

/** mean over all elements of softplus(sign · x) = log(1 + e^(sign·x)), computed stably; differentiable */
export function softplusMean(x: Tensor, sign: 1 | -1): Tensor {
  const n = x.size;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const t = sign * x.data[i];
    total += Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t)));
  }
  return Tensor.fromOp(new Float32Array([total / n]), [], [x], (o) => {
    const g = o.grad![0] / n, gx = x.gradBuf();
    for (let i = 0; i < n; i++) gx[i] += g * sign / (1 + Math.exp(-sign * x.data[i])); // d/dx softplus(s·x) = s·σ(s·x)
  });
}

/** the discriminator's non-saturating loss from its logits on real and generated samples */
export const discriminatorLoss = (realLogits: Tensor, fakeLogits: Tensor): Tensor => add(softplusMean(realLogits, -1), softplusMean(fakeLogits, 1));

/** the generator's non-saturating loss −log D(G(z)) from the discriminator's logits on generated samples */
export const generatorLoss = (fakeLogits: Tensor): Tensor => softplusMean(fakeLogits, -1);

/** N noise vectors z ~ N(0, I) as (N, latent) */
export function sampleNoise(N: number, latent: number, rng: Rng): Tensor {
  const z = new Float32Array(N * latent);
  for (let i = 0; i < z.length; i++) z[i] = rng.normal();
  return new Tensor(z, [N, latent]);
}
