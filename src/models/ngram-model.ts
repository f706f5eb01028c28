// An n-gram model over token ids behind the project's LanguageModel interface (src/models/model.ts), so that
// evaluation, greedy/sampled generation, beam search and batches work on it as on a GPT. It has no trainable
// parameters: `fit(ids)` counts a token stream (see NgramLM.fitIds) and forward looks probabilities up.
//   logits[b, t, w] = ln p(w | the last n − 1 ids of row b up to and including column t)
// (fewer at the start of a row: a lower order), i.e. the distribution of the id at column t + 1, as for a GPT.
// so softmax(logits) is the model's distribution and the cross-entropy loss is its negative log-likelihood.
// Example (order 2, mle): fit on ids of "人工智能 让 … 人工智能 是" with 让 following 人工智能 4 times in 5 →
// logits after 人工智能 are ln 0.8 for 让 and ln 0.2 for 是.
import { languageModelLoss } from './loss.js';
import { checkForwardShape, type ForwardOptions, type LanguageModel, type ModelConfig, type ModelOutput, type ModelState } from './model.js';
import { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { readArpa, writeArpa } from '../lm/arpa.js';
import { NgramCounts } from '../lm/counts.js';
import { NgramLM, type Smoothing } from '../lm/ngram.js';
import { NgramState } from './ngram-state.js';

export interface NgramModelConfig extends ModelConfig {
  /** n: each token is predicted from the n − 1 before it */
  order: number;
  /**
   * default interpolated modified Kneser–Ney with lmplz's --discount_fallback (0.5, 1, 1.5) for orders whose
   * count-of-counts give no valid discounts — typical of the unigrams of a small token vocabulary (characters)
   */
  smoothing: Smoothing;
}

/** the logit of a token with probability 0 (mle): finite, so every softmax kernel stays NaN-free; exp underflows to 0 */
export const ZERO_PROB_LOGIT = -1e9;

/** the adapter's default smoothing (see NgramModelConfig.smoothing) */
export const DEFAULT_NGRAM_SMOOTHING: Smoothing = { kind: 'kneser-ney', discountFallback: [0.5, 1, 1.5] };

/** a checkpoint: the config and either the counts (mle, add-k, Kneser–Ney) or ARPA text (a model read from ARPA) */
export interface NgramModelJSON {
  type: 'ngram';
  config: NgramModelConfig;
  /** per order 1 … n: [key "id id …", count] pairs of the stream (hidden <s> = id vocabSize) */
  counts?: [string, number][][];
  arpa?: string;
}

/** Validates an n-gram config; throws `model config: FIELD must be …`. */
export function validateNgramConfig(c: Record<string, unknown>): NgramModelConfig {
  for (const k of ['vocabSize', 'blockSize', 'order']) {
    const v = c[k];
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1)) throw new Error(`model config: ${k} must be a positive integer, got ${String(v)}`);
  }
  const sm = (c.smoothing ?? DEFAULT_NGRAM_SMOOTHING) as Smoothing;
  if (!sm || !['mle', 'add-k', 'kneser-ney'].includes(sm.kind)) throw new Error(`model config: smoothing.kind must be mle, add-k or kneser-ney, got ${String(sm?.kind)}`);
  if (sm.kind === 'add-k' && !(typeof sm.k === 'number' && sm.k > 0)) throw new Error(`model config: smoothing.k must be a positive number, got ${String(sm.k)}`);
  if (sm.kind === 'kneser-ney' && sm.discountFallback !== undefined) {
    const d = sm.discountFallback;
    const ok = Array.isArray(d) && d.length === 3 && d.every((x, j) => typeof x === 'number' && x >= 0 && x <= j + 1);
    if (!ok) throw new Error(`model config: smoothing.discountFallback must be [D1, D2, D3+] with 0 ≤ Dj ≤ j, got ${JSON.stringify(d)}`);
  }
  return { vocabSize: c.vocabSize as number, blockSize: c.blockSize as number, order: c.order as number, smoothing: sm };
}

export class NgramModel implements LanguageModel {
  readonly type = 'ngram';
  readonly config: NgramModelConfig;
  readonly contextLength = Infinity;
  /** unused by the model (no dropout); kept for the interface and checkpoints */
  readonly rng: Rng;
  training = false;
  private lm: NgramLM | null = null;

  /** blockSize is only the length of evaluation windows: the model itself takes sequences of any length */
  constructor(config: Partial<NgramModelConfig> & { vocabSize: number; order: number }, seed = 1337) {
    this.config = validateNgramConfig({ blockSize: 256, smoothing: DEFAULT_NGRAM_SMOOTHING, ...config });
    this.rng = new Rng(seed);
  }

  /** the fitted NgramLM; throws before `fit` */
  get ngram(): NgramLM {
    if (!this.lm) throw new Error('n-gram model: call fit(ids) (or load a checkpoint) before using it');
    return this.lm;
  }

  /** counts a token stream (ids in [0, vocabSize)) and estimates the smoothing; replaces earlier counts */
  fit(ids: ArrayLike<number>): this {
    const c = this.config;
    this.lm = NgramLM.fitIds(ids, c.vocabSize, c.order, c.smoothing);
    return this;
  }

  /** no train-only behaviour (no dropout): only the flag changes */
  train(on = true): this {
    this.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * idx (B, T) ids → logits (B, T, V) = ln p of the next id after each column (or (B, 1, V) with lastOnly and
   * no targets); loss as
   * src/models/loss.ts with targets. Row b's context is what `state` remembers of it plus idx's earlier
   * columns; positions before `padding[b]` are pads (not context). Throws before `fit` or on ids out of range.
   */
  forward(idx: Int32Array, B: number, T: number, opts: ForwardOptions = {}): ModelOutput {
    checkForwardShape(this, idx, B, T, opts.state);
    const lm = this.ngram;
    const state = opts.state ?? new NgramState(B, this.config.order - 1);
    if (!(state instanceof NgramState)) throw new Error('NgramModel.forward: state must come from NgramModel.createState');
    if (state.batch !== B) throw new Error(`NgramModel.forward: the state holds ${state.batch} rows, the batch has ${B}`);
    const V = this.config.vocabSize;
    const lastOnly = !!opts.lastOnly && !opts.targets;
    const Tout = lastOnly ? 1 : T;
    const out = new Float32Array(B * Tout * V);
    const dist = new Float64Array(lm.vocab.size);
    const pos0 = state.length;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const p = pos0 + t;
        const pad = opts.padding ? p < opts.padding[b] : false;
        const id = idx[b * T + t];
        if (!(Number.isInteger(id) && id >= 0 && id < V)) throw new Error(`NgramModel.forward: id ${id} at row ${b}, column ${t} is outside [0, ${V})`);
        if (!pad) state.push(b, id, p);
        if (!lastOnly || t === T - 1) {
          lm.log10Distribution(pad ? [] : state.context(b), dist);
          const o = (b * Tout + (lastOnly ? 0 : t)) * V;
          for (let w = 0; w < V; w++) out[o + w] = dist[w] === -Infinity ? ZERO_PROB_LOGIT : dist[w] * Math.LN10;
        }
      }
    }
    state.advance(T);
    const logits = new Tensor(out, [B, Tout, V]);
    return { logits, loss: languageModelLoss(logits, opts) };
  }

  /** a generation state remembering the last n − 1 ids of each of B rows */
  createState(B: number): NgramState {
    return new NgramState(B, this.config.order - 1);
  }

  /** none: the model is counts, not weights */
  namedParameters(): [string, Tensor][] {
    return [];
  }

  parameters(): Tensor[] {
    return [];
  }

  /** the number of stored n-grams (counts or ARPA entries), 0 before fit: the model's size, not trainable weights */
  numParams(): number {
    return this.lm?.size ?? 0;
  }

  /** the same as numParams: an n-gram model's size is its stored n-grams */
  numParameters(): number {
    return this.numParams();
  }

  decayedParameterNames(): Set<string> {
    return new Set();
  }

  stateDict(): Map<string, Tensor> {
    return new Map();
  }

  /** accepts only an empty state dict (the counts travel in toJSON) */
  loadStateDict(state: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>, source = 'state dict'): void {
    const extra = [...state.keys()];
    if (extra.length > 0) throw new Error(`${source}: unexpected tensor ${extra[0]} for an n-gram model (it has no parameters)`);
  }

  toStorage(): this {
    return this;
  }

  /** "n-gram order 3, kneser-ney, vocab 65, 12,345 n-grams" */
  describe(): string {
    const c = this.config;
    const n = this.lm ? `${this.lm.size.toLocaleString('en-US')} n-grams` : 'not fitted';
    return `n-gram order ${c.order}, ${c.smoothing.kind}, vocab ${c.vocabSize}, ${n}`;
  }

  /** the checkpoint (counts, or ARPA text for a model read from ARPA) */
  toJSON(): NgramModelJSON {
    const lm = this.ngram;
    if (lm.counts) return { type: 'ngram', config: this.config, counts: lm.counts.orders.map((t) => [...t.entries()]) };
    return { type: 'ngram', config: this.config, arpa: writeArpa(lm) };
  }

  /** reads toJSON's output; throws `SOURCE: field: problem` on a malformed one */
  static fromJSON(json: unknown, source = 'ngram.json'): NgramModel {
    const j = json as Partial<NgramModelJSON>;
    if (!j || typeof j !== 'object' || j.type !== 'ngram') throw new Error(`${source}: type: expected "ngram"`);
    let config: NgramModelConfig;
    try {
      config = validateNgramConfig((j.config ?? {}) as unknown as Record<string, unknown>);
    } catch (e) {
      throw new Error(`${source}: ${(e as Error).message}`);
    }
    const model = new NgramModel(config);
    if (j.arpa !== undefined) model.lm = NgramModel.checkIds(readArpa(j.arpa, `${source}: arpa`), config.vocabSize, source);
    else if (Array.isArray(j.counts) && j.counts.length === config.order) model.lm = NgramModel.fromCounts(j.counts, config, source);
    else throw new Error(`${source}: counts: expected ${config.order} orders of [key, count] pairs (or arpa)`);
    return model;
  }

  /** a model of this type from an ARPA file whose words are ids "0" … "V−1" (as writeArpa writes ours) */
  static fromArpa(text: string, config: Partial<NgramModelConfig> & { vocabSize: number }, file = 'model.arpa'): NgramModel {
    const lm = NgramModel.checkIds(readArpa(text, file), config.vocabSize, file);
    const model = new NgramModel({ ...config, order: lm.order });
    model.lm = lm;
    return model;
  }

  private static checkIds(lm: NgramLM, V: number, source: string): NgramLM {
    for (let i = 0; i < V; i++) {
      if (lm.vocab.words[i] !== String(i)) throw new Error(`${source}: 1-gram number ${i + 1} is ${JSON.stringify(lm.vocab.words[i])}, expected the token id "${i}"`);
    }
    return lm;
  }

  private static fromCounts(orders: unknown[], config: NgramModelConfig, source: string): NgramLM {
    const counts = new NgramCounts(config.order);
    orders.forEach((pairs, m) => {
      if (!Array.isArray(pairs)) throw new Error(`${source}: counts[${m}]: expected an array of [key, count] pairs`);
      for (const p of pairs as unknown[][]) {
        const key = Array.isArray(p) ? p[0] : undefined;
        const ids = typeof key === 'string' ? key.split(' ').map(Number) : [];
        const idsOk = ids.length === m + 1 && ids.every((i) => Number.isInteger(i) && i >= 0 && i <= config.vocabSize);
        const ok = idsOk && Number.isInteger(p[1]) && (p[1] as number) > 0;
        if (!ok) throw new Error(`${source}: counts[${m}]: malformed entry ${JSON.stringify(p).slice(0, 60)}`);
        counts.orders[m].set(p[0] as string, p[1] as number);
      }
    });
    return NgramLM.fromCounts(counts, config.vocabSize, config.smoothing);
  }
}
