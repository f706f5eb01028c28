// The generation core: a batch of sequences decoding together on one model state (a KV cache, a recurrent
// state, …). Prompts of different lengths are left-padded so every row's newest token sits in the same
// column; `padding` hides the pad positions and makes each row's positions count from its first real token,
// so row i sees exactly what it would see alone. Sampling (generate.ts), batches (batch.ts), beam search
// (beam.ts), the chat engine and server, evaluation and RL rollouts all step through this one class.
//
//   prompts [a b c d], [e f]     →  prefill  [a b c d]  padding 0     step  [x]   step  [y] ...
//                                            [_ _ e f]  padding 2           [z]         [w]
//
// Continuous batching (continuous-batcher.ts) prefills newcomers in a DecodeBatch of their own and `join`s it
// below the running one: the shorter state gets zero columns on the left, which become more padding.
//
//   running [a b c d x] (padding 0)  +  newcomer [g h] (padding 0)  →  [a b c d x]  padding 0
//                                                                      [_ _ _ g h]  padding 3
import type { LanguageModel, ModelState } from '../models/model.js';
import { noGrad } from '../tensor/tensor.js';
import { stepScope } from '../backend/storage.js';
import { isJoinableState, joinStates } from './join-state.js';
import { maxOf } from '../tensor/max-of.js';

export class DecodeBatch {
  private state: ModelState;
  private padding: Int32Array;
  private prompts: (readonly number[])[] | null;
  /** rows now in the batch */
  size: number;

  /**
   * prompts: one token-id list per row (each non-empty and at most the model's context length).
   * padId: the id fed at pad positions (masked, so any valid id works). Throws naming the bad prompt.
   */
  constructor(readonly model: LanguageModel, prompts: readonly (readonly number[])[], readonly padId = 0) {
    const { vocabSize } = model.config;
    if (!Number.isInteger(padId) || padId < 0 || padId >= vocabSize) throw new Error(`generate: padId ${padId} is outside the vocabulary [0, ${vocabSize})`);
    prompts.forEach((p, i) => {
      if (p.length === 0) throw new Error(`generate: prompt ${i} is empty; generation needs at least one prompt token`);
      if (p.length > model.contextLength) throw new Error(`generate: prompt ${i} has ${p.length} tokens, more than the block size ${model.contextLength}`);
    });
    this.prompts = prompts.slice();
    this.size = prompts.length;
    this.state = model.createState(prompts.length);
    const T = maxOf(prompts.map((p) => p.length));
    this.padding = Int32Array.from(prompts, (p) => T - p.length);
  }

  /** positions the state may still take before the context is full */
  get room(): number {
    return this.model.contextLength - this.state.length;
  }

  /** positions row b holds in the state (its real tokens; pad columns excluded) */
  rowLength(b: number): number {
    if (!(Number.isInteger(b) && b >= 0 && b < this.size)) throw new Error(`DecodeBatch: row ${b} is out of range for ${this.size} rows`);
    return this.state.length - this.padding[b];
  }

  /** whether this model's generation state can be joined along the batch axis (KV caches: join-state.ts) */
  static canJoin(model: LanguageModel): boolean {
    return isJoinableState(model.createState(1));
  }

  /**
   * Appends the rows of `other` (prefilled, same model) after this batch's rows: row size + j becomes other's
   * row j. The shorter state is left-padded to the longer one's length and those columns join the rows'
   * padding, so every row goes on exactly as it would alone. `other` must not be used afterwards. Throws
   * when either batch has not been prefilled or the states cannot be joined (DecodeBatch.canJoin).
   */
  join(other: DecodeBatch): void {
    if (this.prompts || other.prompts) throw new Error('DecodeBatch: join needs two prefilled batches');
    if (other.model !== this.model) throw new Error('DecodeBatch: join needs batches of the same model');
    if (other.size === 0) return;
    if (this.size === 0) {
      this.state.dispose?.();
      this.state = other.state;
      this.padding = other.padding.slice();
      this.size = other.size;
      return;
    }
    const { padA, padB } = joinStates(this.state, other.state);
    other.state.dispose?.(); // its rows now live in this state
    const padding = new Int32Array(this.size + other.size);
    this.padding.forEach((p, b) => (padding[b] = p + padA));
    other.padding.forEach((p, b) => (padding[this.size + b] = p + padB));
    this.padding = padding;
    this.size += other.size;
  }

  /** Gives the state's storage back now (see ModelState.dispose); the batch must not step afterwards. */
  dispose(): void {
    this.state.dispose?.();
    this.size = 0;
  }

  /** Runs the left-padded prompts; returns (B, V) logits of each row's last position. Once only. */
  prefill(): Float32Array {
    if (!this.prompts) throw new Error('DecodeBatch: prefill runs once');
    const T = maxOf(this.prompts.map((p) => p.length));
    const feed = new Int32Array(this.size * T).fill(this.padId); // (B, T)
    this.prompts.forEach((p, b) => feed.set(p, b * T + this.padding[b]));
    this.prompts = null;
    return this.forward(feed, T);
  }

  /** Feeds one token per row (B); returns the (B, V) logits of the next position. */
  step(tokens: ArrayLike<number>): Float32Array {
    if (this.prompts) throw new Error('DecodeBatch: prefill first');
    if (tokens.length !== this.size) throw new Error(`DecodeBatch: ${tokens.length} tokens for ${this.size} rows`);
    if (this.room < 1) throw new Error(`generate: the context of ${this.model.contextLength} tokens is full`);
    return this.forward(Int32Array.from(tokens), 1);
  }

  private forward(feed: Int32Array, T: number): Float32Array {
    const padded = this.padding.some((p) => p > 0) ? this.padding : undefined;
    const logits = (): Float32Array => noGrad(() => this.model.forward(feed, this.size, T, { state: this.state, lastOnly: true, padding: padded }).logits.data); // (B, 1, V)
    // a state that keeps its own copies (a KV cache) lets the pass's activations live in the step arena,
    // freed all at once when it returns (no garbage to collect); the logits are copied out of it
    return this.state.ownsStorage ? stepScope(() => logits().slice()) : logits();
  }

  /**
   * Keeps, repeats or reorders rows: row j becomes old row rows[j] (finished rows leave, beams follow their
   * parents). Pad columns that no remaining row needs are dropped, which frees context room.
   */
  selectRows(rows: readonly number[]): void {
    if (rows.length === this.size && rows.every((r, j) => r === j)) return;
    this.state.selectRows(rows);
    this.padding = Int32Array.from(rows, (r) => this.padding[r]);
    this.size = rows.length;
    const shared = this.size ? Math.min(...this.padding) : 0;
    if (shared > 0) {
      this.state.dropPrefix(shared);
      this.padding = this.padding.map((p) => p - shared);
    }
  }
}

/** Runs fn with the model in eval mode, restoring its mode afterwards. */
export function inEvalMode<R>(model: LanguageModel, fn: () => R): R {
  const was = model.training;
  model.eval();
  try {
    return fn();
  } finally {
    model.train(was);
  }
}

/** log softmax(row)[id], computed stably (the log-probability the model gave the chosen token) */
export function tokenLogprob(row: ArrayLike<number>, id: number): number {
  let m = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > m) m = row[i];
  let z = 0;
  for (let i = 0; i < row.length; i++) z += Math.exp(row[i] - m);
  return row[id] - m - Math.log(z);
}
