// Convolution layers with PyTorch's names, layouts and initialisation (torch.nn.Conv1d / Conv2d): `weight`
// (out, in/groups, k) or (out, in/groups, kH, kW) and `bias` (out). reset_parameters draws both from
// U(−1/√fan_in, 1/√fan_in), fan_in = in/groups · kernel area: that is kaiming_uniform_(a = √5) for the weight
// (He et al. 2015's uniform bound gain·√(3/fan_in) with gain = √(2/(1 + a²)) = √(1/3)), and PyTorch's bias
// rule. Draws come from the project's seeded Rng, so they are reproducible but not PyTorch's numbers.
import { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../tensor/rng.js';
import { conv1d, conv2d, pair } from '../tensor/conv.js';
import { Module } from './module.js';

export interface ConvConfig<K> {
  stride?: K;
  /** zeros on each side, or 'same' (stride 1; keeps the size) / 'valid' (none) */
  padding?: K | 'same' | 'valid';
  dilation?: K;
  groups?: number;
  /** default true */
  bias?: boolean;
}

/** checks the channel counts against groups and draws weight (out, in/groups, …kernel) and bias (out) */
function initConv(kind: string, inC: number, outC: number, kernel: number[], groups: number, bias: boolean, rng: Rng): [Tensor, Tensor | null] {
  for (const [f, v] of [['in_channels', inC], ['out_channels', outC], ['groups', groups], ['kernel_size', Math.min(...kernel)]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${kind}: ${f} must be a positive integer, got ${v}`);
  }
  if (inC % groups !== 0) throw new Error(`${kind}: in_channels ${inC} is not divisible by groups ${groups}`);
  if (outC % groups !== 0) throw new Error(`${kind}: out_channels ${outC} is not divisible by groups ${groups}`);
  const fanIn = (inC / groups) * kernel.reduce((a, k) => a * k, 1);
  const bound = 1 / Math.sqrt(fanIn);
  const w = Tensor.rand([outC, inC / groups, ...kernel], rng, -bound, bound);
  return [w, bias ? Tensor.rand([outC], rng, -bound, bound) : null];
}

/** torch.nn.Conv2d: x (N, in, H, W) → (N, out, Ho, Wo); see conv2d in src/tensor/conv.ts for sizes and errors */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: [number, number];
  readonly padding: [number, number] | 'same' | 'valid';
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(inC: number, outC: number, kernel: number | [number, number], rng: Rng, cfg: ConvConfig<number | [number, number]> = {}) {
    super();
    this.stride = pair(cfg.stride, 1);
    this.padding = typeof cfg.padding === 'string' ? cfg.padding : pair(cfg.padding, 0);
    this.dilation = pair(cfg.dilation, 1);
    this.groups = cfg.groups ?? 1;
    const [w, b] = initConv('Conv2d', inC, outC, pair(kernel, 1), this.groups, cfg.bias ?? true, rng);
    this.weight = this.param('weight', w);
    this.bias = b ? this.param('bias', b) : null;
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }
}

/** torch.nn.Conv1d: x (N, in, L) → (N, out, Lo); weight (out, in/groups, k) */
export class Conv1d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: number;
  readonly padding: number | 'same' | 'valid';
  readonly dilation: number;
  readonly groups: number;

  constructor(inC: number, outC: number, kernel: number, rng: Rng, cfg: ConvConfig<number> = {}) {
    super();
    this.stride = cfg.stride ?? 1;
    this.padding = cfg.padding ?? 0;
    this.dilation = cfg.dilation ?? 1;
    this.groups = cfg.groups ?? 1;
    const [w, b] = initConv('Conv1d', inC, outC, [kernel], this.groups, cfg.bias ?? true, rng);
    this.weight = this.param('weight', w);
    this.bias = b ? this.param('bias', b) : null;
  }

  forward(x: Tensor): Tensor {
    return conv1d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }
}
