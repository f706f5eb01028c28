// Bengio et al. 2003's neural probabilistic language model, as Karpathy's makemore (part 2) writes it: the
// embeddings of the previous n tokens are concatenated and go through one tanh hidden layer to the logits.
//   x_t = [C(w_{t−n+1}); …; C(w_t)]  (n·E)    h_t = tanh(W_h x_t + b_h)  (H)    logits_t = W_o h_t + b_o  (V)
// logits_t is the distribution of token t + 1, as for every model here. Context slots before a row's first
// token hold a learned start vector (makemore's '.' padding). Training takes the same (B, T) windows as the
// GPT: each of the B·T positions is one example predicted from its own n previous tokens.
// Generation keeps the last n − 1 tokens of each row (NgramState), so the context never fills:
// contextLength is Infinity. Bengio's optional direct input→output connections are left out, as in makemore.
import { Module } from '../nn/module.js';
import { Embedding, Linear } from '../nn/layers.js';
import { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { tanh } from '../tensor/elementwise.js';
import { concat, gather, reshape } from '../tensor/shape.js';
import { languageModelLoss } from './loss.js';
import { checkForwardShape, type ForwardOptions, type LanguageModel, type ModelConfig, type ModelOutput } from './model.js';
import { NgramState } from './ngram-state.js';

export interface MlpLMConfig extends ModelConfig {
  /** n: how many previous tokens (including the current one) predict the next; makemore's block_size */
  context: number;
  /** embedding width E per token */
  nEmbd: number;
  /** hidden tanh units H */
  nHidden: number;
}

/** tiny for tests, cpu for a quick run, ladder for the model ladder (gptlab ladder) */
export const MLP_PRESETS: Record<string, Omit<MlpLMConfig, 'vocabSize'>> = {
  tiny: { context: 3, nEmbd: 10, nHidden: 64, blockSize: 16 },
  cpu: { context: 8, nEmbd: 24, nHidden: 256, blockSize: 64 },
  ladder: { context: 8, nEmbd: 32, nHidden: 512, blockSize: 64 },
};

/** Checks an MLP LM config; throws `model config: FIELD must be …`. */
export function validateMlpConfig(c: Record<string, unknown>): MlpLMConfig {
  for (const k of ['vocabSize', 'blockSize', 'context', 'nEmbd', 'nHidden']) {
    const v = c[k];
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1)) throw new Error(`model config: ${k} must be a positive integer, got ${String(v)}`);
  }
  const { vocabSize, blockSize, context, nEmbd, nHidden } = c as unknown as MlpLMConfig;
  return { vocabSize, blockSize, context, nEmbd, nHidden };
}

export class MlpLM extends Module implements LanguageModel {
  readonly type = 'mlp';
  readonly config: MlpLMConfig;
  readonly contextLength = Infinity;
  readonly rng: Rng;
  readonly wte: Embedding;
  /** (1, E): the embedding of a context slot before the start of a row */
  readonly start: Tensor;
  readonly hidden: Linear;
  readonly head: Linear;

  /**
   * Weights from Rng(seed): embeddings N(0, 1) (makemore's C), the hidden layer N(0, (5/3)/√(n·E)) (Kaiming
   * for tanh), the output layer N(0, 0.1/√H), small so that the first loss is close to ln V.
   */
  constructor(config: MlpLMConfig, seed = 1337) {
    super();
    this.config = validateMlpConfig(config as unknown as Record<string, unknown>);
    const { vocabSize: V, context: n, nEmbd: E, nHidden: H } = this.config;
    this.rng = new Rng(seed);
    this.wte = this.child('wte', new Embedding(V, E, this.rng, 1));
    this.start = this.param('start', Tensor.randn([1, E], this.rng, 1));
    this.hidden = this.child('hidden', new Linear(n * E, H, true, this.rng, 5 / 3 / Math.sqrt(n * E)));
    this.head = this.child('head', new Linear(H, V, true, this.rng, 0.1 / Math.sqrt(H)));
  }

  /**
   * idx (B, T) → logits (B, T, V), or (B, 1, V) with lastOnly and no targets; loss as src/models/loss.ts.
   * With `state` the context continues each row's earlier tokens; positions before `padding[b]` are pads
   * (left out of the context). Throws on ids outside [0, V) or a state from another model.
   */
  forward(idx: Int32Array, B: number, T: number, opts: ForwardOptions = {}): ModelOutput {
    checkForwardShape(this, idx, B, T, opts.state);
    const { context: n, nEmbd: E } = this.config;
    const state = opts.state;
    if (state !== undefined && !(state instanceof NgramState && state.batch === B && state.keep === n - 1)) {
      throw new Error(`MlpLM.forward: state must come from this model's createState(${B})`);
    }
    const lastOnly = !!opts.lastOnly && !opts.targets;
    const ctx = this.contexts(idx, B, T, lastOnly, opts);
    const Tout = lastOnly ? 1 : T;
    const table = concat([this.wte.weight, this.start], 0); // (V + 1, E): row V is the start vector
    const x = reshape(gather(table, ctx, [B, Tout, n]), [B, Tout, n * E]); // (B, T, n, E) → (B, T, n·E)
    const h = tanh(this.hidden.forward(x)); // (B, T, H)
    const logits = this.head.forward(h); // (B, T, V)
    return { logits, loss: languageModelLoss(logits, opts) };
  }

  /**
   * The (B, Tout, n) context ids of each output position: the n tokens ending at it, V (the start slot)
   * where the row has none. Advances `opts.state` by T.
   */
  private contexts(idx: Int32Array, B: number, T: number, lastOnly: boolean, opts: ForwardOptions): Int32Array {
    const { vocabSize: V, context: n } = this.config;
    const state = opts.state as NgramState | undefined;
    const pos0 = state?.length ?? 0;
    const Tout = lastOnly ? 1 : T;
    const ctx = new Int32Array(B * Tout * n).fill(V);
    for (let b = 0; b < B; b++) {
      const hist: number[] = state ? state.context(b) : [];
      for (let t = 0; t < T; t++) {
        const id = idx[b * T + t];
        if (!(Number.isInteger(id) && id >= 0 && id < V)) throw new Error(`MlpLM.forward: id ${id} at row ${b}, column ${t} is outside [0, ${V})`);
        const pad = opts.padding ? pos0 + t < opts.padding[b] : false;
        if (!pad) {
          hist.push(id);
          state?.push(b, id, pos0 + t);
        }
        if (lastOnly && t !== T - 1) continue;
        const o = (b * Tout + (lastOnly ? 0 : t)) * n;
        const k = Math.min(n, hist.length);
        for (let j = 0; j < k; j++) ctx[o + n - k + j] = hist[hist.length - k + j];
      }
    }
    state?.advance(T);
    return ctx;
  }

  /** a generation state remembering the last n − 1 tokens of each of B rows */
  createState(B: number): NgramState {
    return new NgramState(B, this.config.context - 1);
  }

  numParams(): number {
    return this.numParameters();
  }

  /** the hidden and output weight matrices (not embeddings, the start vector or biases) */
  decayedParameterNames(): Set<string> {
    return new Set(['hidden.weight', 'head.weight']);
  }

  /** "MLP LM: context 8, embedding 24, hidden 256, block 64, vocab 65" */
  describe(): string {
    const c = this.config;
    return `MLP LM: context ${c.context}, embedding ${c.nEmbd}, hidden ${c.nHidden}, block ${c.blockSize}, vocab ${c.vocabSize}`;
  }
}
