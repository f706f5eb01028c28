// torch.nn.RNN, LSTM and GRU: the same parameter names, shapes, gate order, initialisation range and
// input/output/state shapes as PyTorch (see recurrent-base.ts), so a PyTorch state dict loads as it is.
//   const rnn = new RNN(32, 64);                       // nn.RNN(32, 64)
//   const { output, h } = rnn.forward(x);              // x (4, 32) unbatched → output (4, 64), h (1, 64)
//   const lstm = new LSTM(8, 16, { numLayers: 2, bidirectional: true, batchFirst: true });
//   const { output, h, c } = lstm.forward(x, h0, c0);  // x (B, T, 8) → output (B, T, 32), h, c (4, B, 16)
import type { Tensor } from '../tensor/tensor.js';
import { gruLayer, lstmLayer, rnnLayer, type LayerOutput, type Nonlinearity } from '../tensor/rnn-layers.js';
import { gruCellRef, lstmCellRef, rnnCellRef } from './recurrent-ref.js';
import { RecurrentBase, type RecurrentOptions, type RecurrentState, type RecurrentWeights } from './recurrent-base.js';

export type { RecurrentOptions } from './recurrent-base.js';

export interface RNNOptions extends RecurrentOptions {
  /** 'tanh' (default) or 'relu' */
  nonlinearity?: Nonlinearity;
}

/** Elman RNN, h_t = act(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh), as torch.nn.RNN. */
export class RNN extends RecurrentBase {
  readonly nonlinearity: Nonlinearity;
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super(inputSize, hiddenSize, 1, opts);
    this.nonlinearity = opts.nonlinearity ?? 'tanh';
    if (this.nonlinearity !== 'tanh' && this.nonlinearity !== 'relu') {
      throw new Error(`nonlinearity must be 'tanh' or 'relu', got ${String(this.nonlinearity)}`);
    }
  }
  protected cellRef(xp: Tensor, t: number, hg: Tensor): RecurrentState {
    return { h: rnnCellRef(xp, t, hg, this.nonlinearity) };
  }
  protected layer(xp: Tensor, w: RecurrentWeights, h0: Tensor | null, _c0: Tensor | null, reverse: boolean): LayerOutput {
    return rnnLayer(xp, w.wHh, w.bHh, h0, this.nonlinearity, reverse, w.bIh);
  }
  /** x (T, B, I) | (B, T, I) batchFirst | (T, I); h0 (L·D, B, H) | (L·D, H) → output (…, D·H), h like h0; throws on a third argument (a c0) */
  forward(x: Tensor, h0?: Tensor): { output: Tensor; h: Tensor } {
    noCellState('RNN', arguments.length);
    const { output, h } = this.run(x, h0);
    return { output, h };
  }
}

/** Long short-term memory (Hochreiter & Schmidhuber 1997), gates i, f, g, o, as torch.nn.LSTM (no proj_size). */
export class LSTM extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super(inputSize, hiddenSize, 4, opts);
  }
  protected override get hasCell(): boolean {
    return true;
  }
  protected cellRef(xp: Tensor, t: number, hg: Tensor, prev: RecurrentState): RecurrentState {
    return lstmCellRef(xp, t, hg, prev.c!);
  }
  protected layer(xp: Tensor, w: RecurrentWeights, h0: Tensor | null, c0: Tensor | null, reverse: boolean): LayerOutput {
    return lstmLayer(xp, w.wHh, w.bHh, h0, c0, reverse, w.bIh);
  }
  /** as RNN.forward, with the cell state: c0 and c like h0; h0 and c0 come together (PyTorch's hx) or not at all */
  forward(x: Tensor, h0?: Tensor, c0?: Tensor): { output: Tensor; h: Tensor; c: Tensor } {
    if ((h0 === undefined) !== (c0 === undefined)) throw new Error(`LSTM.forward: give h0 and c0 together, or neither (got ${h0 ? 'h0' : 'c0'} alone)`);
    const { output, h, c } = this.run(x, h0, c0);
    return { output, h, c: c! };
  }
}

/** Gated recurrent unit (Cho et al. 2014), gates r, z, n with n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), as torch.nn.GRU. */
export class GRU extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super(inputSize, hiddenSize, 3, opts);
  }
  protected cellRef(xp: Tensor, t: number, hg: Tensor, prev: RecurrentState): RecurrentState {
    return { h: gruCellRef(xp, t, hg, prev.h) };
  }
  protected layer(xp: Tensor, w: RecurrentWeights, h0: Tensor | null, _c0: Tensor | null, reverse: boolean): LayerOutput {
    return gruLayer(xp, w.wHh, w.bHh, h0, reverse);
  }
  /** as RNN.forward */
  forward(x: Tensor, h0?: Tensor): { output: Tensor; h: Tensor } {
    noCellState('GRU', arguments.length);
    const { output, h } = this.run(x, h0);
    return { output, h };
  }
}

/** plain JavaScript can pass a c0 that the types forbid; refuse it rather than drop it */
function noCellState(kind: string, args: number): void {
  if (args > 2) throw new Error(`${kind}.forward takes (x, h0): c0 is only for an LSTM`);
}
