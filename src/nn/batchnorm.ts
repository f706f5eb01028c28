// Batch normalization layers (torch.nn.BatchNorm1d / BatchNorm2d; Ioffe & Szegedy 2015). Their running_mean,
// running_var and num_batches_tracked are buffers (Module.buffer): saved and loaded with the parameters, never
// trained.
import { Tensor } from '../tensor/tensor.js';
import { batchNorm } from '../tensor/batchnorm.js';
import { Module } from './module.js';

/** kept for code written against it: every Module has buffers now */
export class BufferedModule extends Module {}

export interface BatchNormConfig {
  /** added to the variance (PyTorch's default 1e-5) */
  eps?: number;
  /** running stats' update factor; null = cumulative average 1/num_batches_tracked (default 0.1) */
  momentum?: number | null;
  /** learnable weight (ones) and bias (zeros); default true */
  affine?: boolean;
  /** keep running_mean/var (buffers) and use them in eval mode; default true */
  trackRunningStats?: boolean;
}

/** The shared layer behind BatchNorm1d and BatchNorm2d; only the accepted input ranks differ. */
abstract class BatchNormBase extends BufferedModule {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly numBatchesTracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number | null;

  constructor(readonly numFeatures: number, cfg: BatchNormConfig, private readonly kind: string, private readonly ranks: readonly number[]) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1) throw new Error(`${kind}: numFeatures must be a positive integer, got ${numFeatures}`);
    this.eps = cfg.eps ?? 1e-5;
    this.momentum = cfg.momentum === undefined ? 0.1 : cfg.momentum;
    const affine = cfg.affine ?? true, track = cfg.trackRunningStats ?? true;
    this.weight = affine ? this.param('weight', Tensor.ones([numFeatures])) : null;
    this.bias = affine ? this.param('bias', Tensor.zeros([numFeatures])) : null;
    this.runningMean = track ? this.buffer('running_mean', Tensor.zeros([numFeatures])) : null;
    this.runningVar = track ? this.buffer('running_var', Tensor.ones([numFeatures])) : null;
    // an integer count; stored as float32 (PyTorch: int64) — exact up to 2^24 batches
    this.numBatchesTracked = track ? this.buffer('num_batches_tracked', Tensor.zeros([])) : null;
  }

  /** x (N, C, …) → same shape; in training mode also advances the running stats and num_batches_tracked */
  forward(x: Tensor): Tensor {
    if (!this.ranks.includes(x.ndim)) throw new Error(`${this.kind}: input must have ${this.ranks.join(' or ')} dimensions, got shape [${x.shape}]`);
    if (x.shape[1] !== this.numFeatures) throw new Error(`${this.kind}: input has ${x.shape[1]} channels, layer expects ${this.numFeatures}`);
    let momentum = this.momentum ?? 0;
    const track = this.runningMean !== null;
    if (this.training && track) {
      const nbt = ++this.numBatchesTracked!.data[0];
      if (this.momentum === null) momentum = 1 / nbt;
    }
    return batchNorm(x, {
      weight: this.weight, bias: this.bias, runningMean: this.runningMean, runningVar: this.runningVar,
      training: this.training || !track, momentum, eps: this.eps,
    });
  }
}

/** torch.nn.BatchNorm1d: x (N, C) or (N, C, L), statistics per channel C */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, cfg: BatchNormConfig = {}) {
    super(numFeatures, cfg, 'BatchNorm1d', [2, 3]);
  }
}

/** torch.nn.BatchNorm2d: x (N, C, H, W), statistics per channel C */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, cfg: BatchNormConfig = {}) {
    super(numFeatures, cfg, 'BatchNorm2d', [4]);
  }
}
