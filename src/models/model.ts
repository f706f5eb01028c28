// The model interface: what the trainer, the generators (sampling, beam search, batches, the chat engine),
// evaluation, checkpoints and the CLI need of a next-token model, and nothing more. Like makemore's models,
// every one takes (B, T) ids and returns (logits, loss), knows its block size and makes its own generation
// state (a KV cache for attention, hidden states for a recurrent network), so one loop, one `generate` and
// one `evaluate` serve a bigram table and a Transformer alike. Trainable models also name their parameters
// and say which of them get weight decay (nanoGPT's `configure_optimizers`).
//
// Adding a model type: implement `LanguageModel` in one file and call `registerModelType` (src/models/registry.ts)
// with its presets, config check and constructor. The built-in types are registered at the bottom of
// registry.ts; a type of your own, outside this repository, registers itself when its file is imported — in a
// script, or for the CLI through GPTLAB_PLUGINS=path/to/model.mjs. Nothing else changes (test/model-interface.test.ts).
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';

/** what every model's config has; each model type adds its own fields */
export interface ModelConfig {
  vocabSize: number;
  /** the longest sequence one forward pass takes (the context window) */
  blockSize: number;
}

/**
 * Per-sequence memory of a generation in progress, made by `LanguageModel.createState`: a KV cache, a
 * recurrent hidden state, or the last n − 1 tokens of an n-gram model. Row b belongs to batch row b.
 */
export interface ModelState {
  /** positions already consumed (the next forward's first position) */
  readonly length: number;
  /** keeps, repeats or reorders batch rows: row j becomes old row rows[j] (beam search, finished rows) */
  selectRows(rows: readonly number[]): void;
  /** forgets the first n positions of every row (left-padding columns no row needs any more) */
  dropPrefix(n: number): void;
  /**
   * true when the state copies what it keeps into storage of its own (a KV cache), so nothing a forward pass
   * allocates outlives the pass: generation then runs each pass in a stepScope (backend/storage.ts), whose
   * arena frees the pass's activations at once. Absent or false: the state may hold the pass's tensors.
   */
  readonly ownsStorage?: boolean;
  /** gives storage the state owns back now (a KV cache's buffers); the state is empty afterwards */
  dispose?(): void;
}

export interface ForwardOptions {
  /** (B, T) next-token ids; −1 = ignore. With them, `loss` is computed. */
  targets?: Int32Array;
  /** (B, T) weights of each position's loss (SFT's assistant-only mask); the mean divides by their sum */
  lossMask?: Float32Array;
  /** 'mean' (default): a scalar; 'none': (B, T) per-token negative log-likelihoods, 0 where ignored */
  reduction?: 'mean' | 'none';
  /** generation state from `createState`: ids continue from `state.length`, and the state is advanced */
  state?: ModelState;
  /** logits of the last position only, (B, 1, V) (generation; ignored with targets) */
  lastOnly?: boolean;
  /** (B) left-pad counts: row b starts with padding[b] pad tokens that nothing may attend to */
  padding?: Int32Array;
}

export interface ModelOutput {
  /** (B, T, V), or (B, 1, V) with lastOnly */
  logits: Tensor;
  /** with targets: scalar mean, or (B, T) with reduction 'none'; else null */
  loss: Tensor | null;
}

/** A next-token model: forward over (B, T) ids, its own generation state, its parameters. */
export interface LanguageModel {
  /** registry key, stored in checkpoints: 'gpt', 'bigram', … */
  readonly type: string;
  readonly config: ModelConfig;
  /**
   * The most positions `state` can hold before generation must slide its window and start again;
   * Infinity for models whose state does not grow (recurrent networks, n-grams).
   */
  readonly contextLength: number;
  /** dropout and other train-only randomness draw from it; checkpoints save its state */
  readonly rng: Rng;
  training: boolean;
  train(on?: boolean): this;
  eval(): this;
  /**
   * idx: B×T token ids, row-major. Throws when B·T ≠ idx.length or the state plus T exceeds contextLength.
   */
  forward(idx: Int32Array, B: number, T: number, opts?: ForwardOptions): ModelOutput;
  /** a fresh generation state for a batch of B rows */
  createState(B: number): ModelState;
  /** every parameter with its dotted state-dict name (empty for count-based models) */
  namedParameters(): [string, Tensor][];
  parameters(): Tensor[];
  /** parameter count as the model reports it (GPT: without position embeddings, as nanoGPT) */
  numParams(): number;
  /** every parameter counted */
  numParameters(): number;
  /** names of the parameters that get weight decay by default */
  decayedParameterNames(): Set<string>;
  /** name → tensor, sharing data */
  stateDict(): Map<string, Tensor>;
  /** copies values in; throws naming `source` and the tensor on a missing, unexpected or misshapen one */
  loadStateDict(state: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>, source?: string): void;
  /** moves parameters into the active backend's storage (a model built before the backend was chosen) */
  toStorage(): this;
  /** one line for logs: "4 layers, 4 heads, 128 wide, block 64, vocab 65" */
  describe(): string;
}

/** `state` in ForwardOptions, checked: the same length for every call site's error */
export function checkForwardShape(model: LanguageModel, idx: Int32Array, B: number, T: number, state?: ModelState): void {
  if (idx.length !== B * T) throw new Error(`forward: ${idx.length} ids for B=${B} × T=${T}`);
  const pos0 = state?.length ?? 0;
  if (pos0 + T > model.contextLength) {
    throw new Error(`sequence of ${pos0 + T} tokens is longer than the block size ${model.contextLength}`);
  }
}
