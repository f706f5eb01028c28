// Image classifiers on the LanguageModel interface, so that the one Trainer trains them: an MLP over the
// flattened pixels, and a LeNet-style CNN (LeCun et al. 1998): conv → relu → maxpool → conv → relu → maxpool
// → flatten → fc → relu → fc. Convolutions keep the size ('same' padding) and each pool halves it, so an
// H×W image leaves the second pool as (c2, ⌊⌊H/2⌋/2⌋, ⌊⌊W/2⌋/2⌋). Input images are (N, 1, H, W) in [0, 1];
// the output is (N, classes) logits. The token-model parts of the interface (forward over ids, generation
// state) throw: this model reads images through `logits`/`loss`.
import { Module } from '../nn/module.js';
import { Conv2d } from '../nn/conv.js';
import { Linear } from '../nn/layers.js';
import { relu } from '../tensor/elementwise.js';
import { maxPool2d, flatten } from '../tensor/pool.js';
import { crossEntropy } from '../tensor/nnops.js';
import { reshape } from '../tensor/shape.js';
import { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import type { LanguageModel, ModelConfig, ModelOutput, ModelState } from './model.js';
import { MLPNet } from './mlp-net.js';

export interface ImageClassifierConfig extends ModelConfig {
  arch: 'mlp' | 'cnn';
  height: number;
  width: number;
  /** class names; vocabSize = classes.length */
  classes: string[];
  /** MLP hidden widths (default [128]) */
  hidden: number[];
  /** CNN channels of the two convolutions (default [8, 16]) */
  channels: [number, number];
  /** CNN convolution kernel side (default 5 for images ≥ 16 pixels, else 3) */
  kernel: number;
  /** CNN hidden fully connected width (default 64) */
  fc: number;
}

/** a full config from the essentials, with the defaults above */
export function imageClassifierConfig(c: Pick<ImageClassifierConfig, 'arch' | 'height' | 'width' | 'classes'> & Partial<ImageClassifierConfig>): ImageClassifierConfig {
  const kernel = c.kernel ?? (Math.min(c.height, c.width) >= 16 ? 5 : 3);
  return { hidden: [128], channels: [8, 16], fc: 64, ...c, kernel, vocabSize: c.classes.length, blockSize: 1 };
}

export class ImageClassifier extends Module implements LanguageModel {
  readonly type = 'image-classifier';
  readonly contextLength = 1;
  readonly rng: Rng;
  private readonly mlp?: MLPNet;
  private readonly conv1?: Conv2d;
  private readonly conv2?: Conv2d;
  private readonly fc1?: Linear;
  private readonly fc2?: Linear;

  constructor(readonly config: ImageClassifierConfig, seed = 1337) {
    super();
    const c = config, C = c.classes.length;
    if (C < 2) throw new Error(`image classifier: needs at least 2 classes, got ${C}`);
    if (!(c.height >= 4 && c.width >= 4)) throw new Error(`image classifier: images must be at least 4×4, got ${c.height}×${c.width}`);
    this.rng = new Rng(seed);
    if (c.arch === 'mlp') this.mlp = this.child('mlp', new MLPNet([c.height * c.width, ...c.hidden, C], 'relu', this.rng));
    else if (c.arch === 'cnn') {
      if (c.kernel > Math.min(c.height, c.width)) throw new Error(`image classifier: kernel ${c.kernel} (--kernel) is larger than the ${c.height}×${c.width} images`);
      const [c1, c2] = c.channels, h = Math.floor(Math.floor(c.height / 2) / 2), w = Math.floor(Math.floor(c.width / 2) / 2);
      this.conv1 = this.child('conv1', new Conv2d(1, c1, c.kernel, this.rng, { padding: 'same' }));
      this.conv2 = this.child('conv2', new Conv2d(c1, c2, c.kernel, this.rng, { padding: 'same' }));
      this.fc1 = this.child('fc1', new Linear(c2 * h * w, c.fc, true, this.rng, Math.sqrt(2 / (c2 * h * w))));
      this.fc2 = this.child('fc2', new Linear(c.fc, C, true, this.rng, Math.sqrt(1 / c.fc)));
    } else throw new Error(`image classifier: arch must be mlp or cnn, got "${String(c.arch)}"`);
  }

  /** images (N, 1, H, W) or (N, H·W) → logits (N, classes) */
  logits(x: Tensor): Tensor {
    const N = x.shape[0], { height: H, width: W } = this.config;
    if (this.mlp) {
      if (x.size !== N * H * W) throw new Error(`image classifier: expected ${H}×${W} images, got shape [${x.shape}]`);
      return this.mlp.forward(reshape(x, [N, H * W])); // (N, H·W) → (N, C)
    }
    return this.logitsFromFeatures(this.features(x)); // (N, C)
  }

  /** CNN: the last layer, features (N, fc) from `features` → logits (N, classes) */
  logitsFromFeatures(f: Tensor): Tensor {
    if (!this.fc2) throw new Error('image classifier: features are the CNN\'s hidden layer; this is an MLP');
    return this.fc2.forward(f);
  }

  /**
   * CNN: the hidden layer before the logits, images (N, 1, H, W) or (N, H·W) → (N, fc) after its relu (the
   * features a Fréchet distance compares). Throws for the MLP and on images of another size.
   */
  features(x: Tensor): Tensor {
    const N = x.shape[0], { height: H, width: W } = this.config;
    if (x.size !== N * H * W) throw new Error(`image classifier: expected ${H}×${W} images, got shape [${x.shape}]`);
    if (!this.conv1) throw new Error('image classifier: features are the CNN\'s hidden layer; this is an MLP');
    let h = reshape(x, [N, 1, H, W]); // (N, 1, H, W)
    h = maxPool2d(relu(this.conv1.forward(h)), 2); // (N, c1, H/2, W/2)
    h = maxPool2d(relu(this.conv2!.forward(h)), 2); // (N, c2, H/4, W/4)
    return relu(this.fc1!.forward(flatten(h, 1))); // (N, fc)
  }

  /** mean cross-entropy of images against labels (N), with the logits */
  loss(x: Tensor, labels: Int32Array): { logits: Tensor; loss: Tensor } {
    const logits = this.logits(x);
    return { logits, loss: crossEntropy(logits, labels) };
  }

  forward(): ModelOutput {
    throw new Error('image classifier: takes images (logits/loss), not token ids');
  }

  createState(): ModelState {
    throw new Error('image classifier: has no generation state');
  }

  numParams(): number {
    return this.numParameters();
  }

  decayedParameterNames(): Set<string> {
    return new Set(this.namedParameters().filter(([, p]) => p.ndim >= 2).map(([n]) => n));
  }

  describe(): string {
    const c = this.config;
    const body = c.arch === 'mlp' ? `MLP ${[c.height * c.width, ...c.hidden, c.classes.length].join('→')}`
      : `LeNet-style CNN: conv${c.kernel}×${c.kernel} ${c.channels[0]} → pool → conv ${c.channels[1]} → pool → fc ${c.fc} → ${c.classes.length}`;
    return `${body} on ${c.height}×${c.width} images, ${this.numParameters().toLocaleString('en')} parameters`;
  }
}
