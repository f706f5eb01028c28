// Pooling and flattening layers (torch.nn.MaxPool2d, AvgPool2d, MaxPool1d, AvgPool1d, AdaptiveAvgPool2d,
// Flatten): parameter-free Modules over the ops in src/tensor/pool.ts, with PyTorch's constructor defaults
// (stride = kernel size, padding 0, count_include_pad true, ceil_mode false).
import type { Tensor } from '../tensor/tensor.js';
import {
  adaptiveAvgPool2d, avgPool1d, avgPool2d, flatten, maxPool1d, maxPool2d, type AvgPool2dOptions, type Pool2dOptions,
} from '../tensor/pool.js';
import { Module } from './module.js';

/** torch.nn.MaxPool2d: (N, C, H, W) → (N, C, Ho, Wo) */
export class MaxPool2d extends Module {
  constructor(readonly kernel: number | [number, number], readonly opts: Pool2dOptions = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernel, this.opts);
  }
}

/** torch.nn.AvgPool2d: (N, C, H, W) → (N, C, Ho, Wo) */
export class AvgPool2d extends Module {
  constructor(readonly kernel: number | [number, number], readonly opts: AvgPool2dOptions = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernel, this.opts);
  }
}

/** torch.nn.MaxPool1d: (N, C, L) → (N, C, Lo) */
export class MaxPool1d extends Module {
  constructor(readonly kernel: number, readonly opts: { stride?: number; padding?: number } = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return maxPool1d(x, this.kernel, this.opts);
  }
}

/** torch.nn.AvgPool1d: (N, C, L) → (N, C, Lo) */
export class AvgPool1d extends Module {
  constructor(readonly kernel: number, readonly opts: { stride?: number; padding?: number; countIncludePad?: boolean } = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool1d(x, this.kernel, this.opts);
  }
}

/** torch.nn.AdaptiveAvgPool2d: (N, C, H, W) → (N, C, oh, ow); 1 is global average pooling */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | [number, number]) {
    super();
  }
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}

/** torch.nn.Flatten: merges dims startDim … endDim (default 1 … −1): (N, C, H, W) → (N, C·H·W) */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
}
