// What torch.nn.RNN, LSTM and GRU share: the parameters (`weight_ih_l0` (G·H, I), `weight_hh_l0` (G·H, H),
// `bias_ih_l0`, `bias_hh_l0` (G·H), then `…_l0_reverse` for a bidirectional layer, then `…_l1`, in PyTorch's
// registration order), their U(−1/√H, 1/√H) initialisation, and the loop over layers, directions and time.
// Per layer and direction the input projection of the whole sequence is one GEMM (x·W_ihᵀ + b_ih over T·B
// rows); the recurrence over the timesteps is then one fused op (src/tensor/rnn-layers.ts), or with
// `fused: false` a loop of cells composed from basic ops (recurrent-ref.ts, the reference).
// Shapes follow PyTorch: input (T, B, I), or (B, T, I) with batchFirst, or unbatched (T, I); states
// (numLayers·numDirections, B, H), or (numLayers·numDirections, H) unbatched; output (T, B, D·H) likewise.
import { Tensor } from '../tensor/tensor.js';
import { linear } from '../tensor/matmul.js';
import { concat, reshape, slice, transpose } from '../tensor/shape.js';
import { dropout } from '../tensor/elementwise.js';
import { Rng } from '../tensor/rng.js';
import { Module } from './module.js';
import type { LayerOutput } from '../tensor/rnn-layers.js';

export interface RecurrentOptions {
  /** stacked layers (PyTorch num_layers), default 1 */
  numLayers?: number;
  /** b_ih and b_hh, default true */
  bias?: boolean;
  /** input and output as (B, T, ·) instead of (T, B, ·), default false; states are unaffected */
  batchFirst?: boolean;
  /** dropout on each layer's output except the last, in training mode, default 0 */
  dropout?: number;
  /** a second, reversed direction per layer whose outputs are concatenated, default false */
  bidirectional?: boolean;
  /** the generator for the initial weights and dropout; default new Rng(1337) */
  rng?: Rng;
  /** fused layers (src/tensor/rnn-layers.ts), default true; false composes every step from basic ops */
  fused?: boolean;
}

/** one layer-direction's weights */
export interface RecurrentWeights {
  wIh: Tensor;
  wHh: Tensor;
  bIh: Tensor | null;
  bHh: Tensor | null;
}

/** a step's states: h, and c for an LSTM */
export interface RecurrentState {
  h: Tensor;
  c?: Tensor;
}

const positiveInt = (field: string, v: number): number => {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${field} must be a positive integer, got ${v}`);
  return v;
};

export abstract class RecurrentBase extends Module {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  readonly fused: boolean;
  /** indexed layer·numDirections + direction */
  readonly weights: RecurrentWeights[] = [];
  protected readonly rng: Rng;

  /** gates: 1 for RNN, 4 for LSTM, 3 for GRU */
  constructor(readonly inputSize: number, readonly hiddenSize: number, readonly gates: number, opts: RecurrentOptions) {
    super();
    positiveInt('inputSize', inputSize);
    positiveInt('hiddenSize', hiddenSize);
    this.numLayers = positiveInt('numLayers', opts.numLayers ?? 1);
    this.bias = opts.bias ?? true;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = opts.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout < 1)) throw new Error(`dropout must be in [0, 1), got ${this.dropout}`);
    this.bidirectional = opts.bidirectional ?? false;
    this.fused = opts.fused ?? true;
    this.rng = opts.rng ?? new Rng(1337);
    this.createWeights();
  }

  get numDirections(): number {
    return this.bidirectional ? 2 : 1;
  }

  private createWeights(): void {
    const H = this.hiddenSize, G = this.gates, k = 1 / Math.sqrt(H);
    const u = (shape: number[]): Tensor => Tensor.rand(shape, this.rng, -k, k);
    for (let l = 0; l < this.numLayers; l++) {
      const I = l === 0 ? this.inputSize : H * this.numDirections;
      for (let d = 0; d < this.numDirections; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        const wIh = this.param(`weight_ih${sfx}`, u([G * H, I]));
        const wHh = this.param(`weight_hh${sfx}`, u([G * H, H]));
        const bIh = this.bias ? this.param(`bias_ih${sfx}`, u([G * H])) : null;
        const bHh = this.bias ? this.param(`bias_hh${sfx}`, u([G * H])) : null;
        this.weights.push({ wIh, wHh, bIh, bHh });
      }
    }
  }

  /**
   * One timestep of this cell type composed from basic ops (the reference): xp (T, B, G·H) the input
   * projection, t the step, hg (B, G·H) the recurrent projection, prev the states before the step (B, H).
   * Returns the states after it.
   */
  protected abstract cellRef(xp: Tensor, t: number, hg: Tensor, prev: RecurrentState): RecurrentState;

  /**
   * The fused recurrence of one layer and direction over xp (T, B, G·H): out (T, B, H) and the last states.
   * h0 (and c0) null means zeros. For the RNN and the LSTM xp comes without b_ih, which the layer adds.
   */
  protected abstract layer(xp: Tensor, w: RecurrentWeights, h0: Tensor | null, c0: Tensor | null, reverse: boolean): LayerOutput;

  /** whether the states include c (LSTM) */
  protected get hasCell(): boolean {
    return false;
  }

  /**
   * Runs the network. x: (T, B, I), (B, T, I) with batchFirst, or unbatched (T, I). h0 (and c0): the initial
   * states (L·D, B, H) or unbatched (L·D, H), zeros when absent. Returns output (T, B, D·H) (batchFirst:
   * (B, T, D·H); unbatched (T, D·H)) and the final states hN (and cN) in h0's shape. Throws naming the
   * argument whose shape does not fit.
   */
  protected run(x: Tensor, h0?: Tensor, c0?: Tensor): { output: Tensor; h: Tensor; c?: Tensor } {
    const I = this.inputSize, H = this.hiddenSize, LD = this.numLayers * this.numDirections;
    if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[x.ndim - 1] !== I) {
      throw new Error(`input must be (T, B, ${I}), (B, T, ${I}) with batchFirst, or unbatched (T, ${I}); got [${x.shape}]`);
    }
    const unbatched = x.ndim === 2;
    let seq = unbatched ? reshape(x, [x.shape[0], 1, I]) : this.batchFirst ? transpose(x, 0, 1) : x; // (T, B, I)
    const [T, B] = seq.shape;
    if (T < 1) throw new Error('input must have at least one timestep');
    if (B < 1) throw new Error('input must have a batch of at least one sequence');
    const want = unbatched ? [LD, H] : [LD, B, H];
    const initial = (field: string, s: Tensor | undefined): Tensor | undefined => {
      if (s === undefined) return undefined;
      if (s.ndim !== want.length || s.shape.some((d, i) => d !== want[i])) throw new Error(`${field} must be [${want}], got [${s.shape}]`);
      return unbatched ? reshape(s, [LD, 1, H]) : s;
    };
    const h0b = initial('h0', h0), c0b = this.hasCell ? initial('c0', c0) : undefined;
    if (!this.hasCell && c0 !== undefined) throw new Error('c0 is only for an LSTM');
    const hN: Tensor[] = [], cN: Tensor[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < this.numDirections; d++) {
        const k = l * this.numDirections + d;
        const start = { h: stateAt(h0b, k, B, H), c: this.hasCell ? stateAt(c0b, k, B, H) : null };
        const { out, last } = this.direction(seq, this.weights[k], d === 1, start);
        outs.push(out);
        hN.push(last.h);
        if (last.c) cN.push(last.c);
      }
      seq = outs.length === 1 ? outs[0] : concat(outs, 2); // (T, B, D·H)
      if (l < this.numLayers - 1) seq = dropout(seq, this.dropout, this.training, this.rng);
    }
    const output = unbatched ? reshape(seq, [T, this.numDirections * H]) : this.batchFirst ? transpose(seq, 0, 1) : seq;
    const stack = (ss: Tensor[]): Tensor => reshape(concat(ss.map((s) => reshape(s, [1, B, H])), 0), want);
    return { output, h: stack(hN), c: this.hasCell ? stack(cN) : undefined };
  }

  /** One direction of one layer over the sequence seq (T, B, In) → out (T, B, H) and the last states. */
  private direction(
    seq: Tensor, w: RecurrentWeights, reverse: boolean, start: { h: Tensor | null; c: Tensor | null },
  ): { out: Tensor; last: RecurrentState } {
    const [T, B] = seq.shape, H = this.hiddenSize;
    // (T, B, G·H): the whole sequence in one GEMM; the fused RNN and LSTM add b_ih with b_hh instead
    const fold = this.fused && this.gates !== 3;
    const xp = linear(seq, w.wIh, fold ? null : w.bIh);
    if (this.fused) {
      const r = this.layer(xp, w, start.h, start.c, reverse);
      return { out: r.out, last: { h: r.h, c: r.c } };
    }
    const zeros = (): Tensor => Tensor.zeros([B, H]);
    let state: RecurrentState = { h: start.h ?? zeros() };
    if (this.hasCell) state.c = start.c ?? zeros();
    const hs = new Array<Tensor>(T);
    for (let s = 0; s < T; s++) {
      const t = reverse ? T - 1 - s : s;
      const hg = linear(state.h, w.wHh, w.bHh); // (B, G·H)
      state = this.cellRef(xp, t, hg, state);
      hs[t] = reshape(state.h, [1, B, H]);
    }
    return { out: concat(hs, 0), last: state };
  }
}

/** state k of (L·D, B, H) as (B, H), or null (zeros) */
function stateAt(s: Tensor | undefined, k: number, B: number, H: number): Tensor | null {
  return s === undefined ? null : reshape(slice(s, 0, k, k + 1), [B, H]);
}
