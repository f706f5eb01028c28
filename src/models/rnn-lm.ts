// Recurrent language models — Elman's RNN (Elman 1990), the LSTM (Hochreiter & Schmidhuber 1997) and the GRU
// (Cho et al. 2014) — as char-rnn and PyTorch's word_language_model build them:
//   ids (B, T) → embedding (B, T, E) → the recurrent layers, batch first (B, T, H) → linear head (B, T, V)
// logits_t is the distribution of token t + 1. Training runs on the trainer's (B, T) windows from a zero state
// (truncated backpropagation through time over T steps). Generation carries each row's hidden state
// (RecurrentLMState), which never grows: contextLength is Infinity and dropPrefix only changes a counter.
// The recurrent weights keep PyTorch's names and layout (`rnn.weight_ih_l0`, …; src/nn/recurrent.ts).
import { Module } from '../nn/module.js';
import { Dropout, Embedding, Linear } from '../nn/layers.js';
import { GRU, LSTM, RNN } from '../nn/recurrent.js';
import { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { concat, slice, transpose } from '../tensor/shape.js';
import { languageModelLoss } from './loss.js';
import { checkForwardShape, type ForwardOptions, type LanguageModel, type ModelConfig, type ModelOutput } from './model.js';
import { RecurrentLMState } from './rnn-lm-state.js';

export type RecurrentCell = 'rnn' | 'lstm' | 'gru';

export interface RnnLMConfig extends ModelConfig {
  /** embedding width E */
  nEmbd: number;
  /** hidden units H per layer */
  nHidden: number;
  /** stacked recurrent layers */
  nLayer: number;
  /** dropout on the embeddings, between layers and before the head (training only) */
  dropout: number;
}

/** tiny for tests, cpu for a quick run, ladder for the model ladder; blockSize is the BPTT length */
export const RNN_PRESETS: Record<string, Omit<RnnLMConfig, 'vocabSize'>> = {
  tiny: { nEmbd: 16, nHidden: 32, nLayer: 1, blockSize: 16, dropout: 0 },
  cpu: { nEmbd: 64, nHidden: 256, nLayer: 1, blockSize: 64, dropout: 0 },
  ladder: { nEmbd: 64, nHidden: 256, nLayer: 2, blockSize: 64, dropout: 0 },
};

/** Checks a recurrent LM config; throws `model config: FIELD must be …`. */
export function validateRnnConfig(c: Record<string, unknown>): RnnLMConfig {
  for (const k of ['vocabSize', 'blockSize', 'nEmbd', 'nHidden', 'nLayer']) {
    const v = c[k];
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1)) throw new Error(`model config: ${k} must be a positive integer, got ${String(v)}`);
  }
  const dropout = c.dropout ?? 0;
  if (!(typeof dropout === 'number' && dropout >= 0 && dropout < 1)) throw new Error(`model config: dropout must be a number in [0, 1), got ${String(dropout)}`);
  const { vocabSize, blockSize, nEmbd, nHidden, nLayer } = c as unknown as RnnLMConfig;
  return { vocabSize, blockSize, nEmbd, nHidden, nLayer, dropout };
}

const CELL_NAMES: Record<RecurrentCell, string> = { rnn: 'Elman RNN', lstm: 'LSTM', gru: 'GRU' };

export class RnnLM extends Module implements LanguageModel {
  readonly config: RnnLMConfig;
  readonly contextLength = Infinity;
  readonly rng: Rng;
  readonly wte: Embedding;
  readonly rnn: RNN | LSTM | GRU;
  readonly head: Linear;
  private readonly drop: Dropout;

  /**
   * `type` picks the cell. Weights from Rng(seed): embeddings N(0, 1) (torch.nn.Embedding), the recurrent
   * layers U(±1/√H) (PyTorch), the head N(0, 0.5/√H) with a zero bias.
   */
  constructor(readonly type: RecurrentCell, config: RnnLMConfig, seed = 1337) {
    super();
    if (!(type in CELL_NAMES)) throw new Error(`model type must be rnn, lstm or gru, got ${String(type)}`);
    this.config = validateRnnConfig(config as unknown as Record<string, unknown>);
    const { vocabSize: V, nEmbd: E, nHidden: H, nLayer: L, dropout } = this.config;
    this.rng = new Rng(seed);
    this.wte = this.child('wte', new Embedding(V, E, this.rng, 1));
    const opts = { numLayers: L, dropout, rng: this.rng }; // time-major (T, B, ·) inside: no transposes of activations
    const Cell = type === 'lstm' ? LSTM : type === 'gru' ? GRU : RNN;
    this.rnn = this.child('rnn', new Cell(E, H, opts));
    this.head = this.child('head', new Linear(H, V, true, this.rng, 0.5 / Math.sqrt(H)));
    this.drop = this.child('drop', new Dropout(dropout, this.rng));
  }

  /**
   * idx (B, T) → logits (B, T, V), or (B, 1, V) with lastOnly and no targets; loss as src/models/loss.ts.
   * Without `state` every row starts from zeros; with it, from the row's stored state, which is then
   * advanced. Positions before `padding[b]` are pads: they leave row b's state untouched (their logits are 0).
   */
  forward(idx: Int32Array, B: number, T: number, opts: ForwardOptions = {}): ModelOutput {
    checkForwardShape(this, idx, B, T, opts.state);
    const V = this.config.vocabSize;
    for (let i = 0; i < idx.length; i++) {
      const id = idx[i];
      if (!(Number.isInteger(id) && id >= 0 && id < V)) throw new Error(`RnnLM.forward: id ${id} at row ${Math.floor(i / T)}, column ${i % T} is outside [0, ${V})`);
    }
    const state = this.checkState(opts, B);
    const pos0 = state.length;
    const padded = opts.padding !== undefined && Array.from(opts.padding).some((p) => p > pos0);
    let logits = padded ? this.forwardRows(idx, B, T, state, opts.padding!) : this.forwardAll(idx, B, T, state);
    state.advance(T);
    if (opts.lastOnly && !opts.targets) logits = slice(logits, 1, T - 1, T); // (B, 1, V)
    return { logits, loss: languageModelLoss(logits, opts) };
  }

  /** the caller's state (checked) or a fresh zero one */
  private checkState(opts: ForwardOptions, B: number): RecurrentLMState {
    const s = opts.state;
    if (s === undefined) return this.createState(B);
    const c = this.config;
    const ok = s instanceof RecurrentLMState && s.batch === B && s.layers === c.nLayer && s.hidden === c.nHidden && s.withCell === (this.type === 'lstm');
    if (!ok) throw new Error(`RnnLM.forward: state must come from this model's createState(${B})`);
    return s;
  }

  /**
   * n rows of T real columns from states s0 (L, n, H): embedding → recurrent layers → head, time-major inside
   * (the ids are transposed, not the activations); logits (n, T, V) and the final states.
   */
  private run(ids: Int32Array, n: number, T: number, s0: { h: Tensor; c?: Tensor }): { logits: Tensor; h: Tensor; c?: Tensor } {
    const idsT = new Int32Array(n * T);
    for (let b = 0; b < n; b++) for (let t = 0; t < T; t++) idsT[t * n + b] = ids[b * T + t];
    const x = this.drop.forward(this.wte.forward(idsT, [T, n])); // (T, n, E)
    const r = this.rnn instanceof LSTM ? this.rnn.forward(x, s0.h, s0.c) : this.rnn.forward(x, s0.h); // output (T, n, H)
    const logits = transpose(this.head.forward(this.drop.forward(r.output)), 0, 1); // (T, n, V) → (n, T, V)
    return { logits, h: r.h, c: 'c' in r ? (r.c as Tensor) : undefined };
  }

  /** the whole batch from its states, advancing them */
  private forwardAll(idx: Int32Array, B: number, T: number, state: RecurrentLMState): Tensor {
    const r = this.run(idx, B, T, state.initial());
    state.store(r.h, r.c);
    return r.logits;
  }

  /** left-padded rows one at a time, each from its first real column; pad columns get zero logits */
  private forwardRows(idx: Int32Array, B: number, T: number, state: RecurrentLMState, padding: Int32Array): Tensor {
    const V = this.config.vocabSize, pos0 = state.length;
    const rows: Tensor[] = [];
    for (let b = 0; b < B; b++) {
      const s = Math.min(T, Math.max(0, padding[b] - pos0)); // pad columns of this row in this call
      const parts: Tensor[] = [];
      if (s > 0) parts.push(Tensor.zeros([1, s, V]));
      if (s < T) {
        const r = this.run(idx.subarray(b * T + s, (b + 1) * T), 1, T - s, state.initial(b, b + 1));
        state.store(r.h, r.c, b, b + 1);
        parts.push(r.logits);
      }
      rows.push(parts.length === 1 ? parts[0] : concat(parts, 1)); // (1, T, V)
    }
    return rows.length === 1 ? rows[0] : concat(rows, 0); // (B, T, V)
  }

  /** a zero state for B rows */
  createState(B: number): RecurrentLMState {
    return new RecurrentLMState(B, this.config.nLayer, this.config.nHidden, this.type === 'lstm');
  }

  numParams(): number {
    return this.numParameters();
  }

  /** the recurrent and head weight matrices (not embeddings or biases) */
  decayedParameterNames(): Set<string> {
    return new Set(this.namedParameters().map(([n]) => n).filter((n) => /^rnn\.weight_|^head\.weight$/.test(n)));
  }

  /** "LSTM LM: 2 layers × 256 hidden, embedding 64, block 64, vocab 65" */
  describe(): string {
    const c = this.config;
    return `${CELL_NAMES[this.type]} LM: ${c.nLayer} layer${c.nLayer > 1 ? 's' : ''} × ${c.nHidden} hidden, embedding ${c.nEmbd}, block ${c.blockSize}, vocab ${c.vocabSize}`;
  }
}
