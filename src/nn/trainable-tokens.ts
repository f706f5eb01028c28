// Trainable token rows (PEFT's TrainableTokensLayer, the `trainable_token_indices` of a LoraConfig): a frozen
// token-indexed table — an Embedding (V, C) or a Linear output head (V, C) — in which the rows of a few chosen
// tokens train. Those rows live in their own parameter `token_adapter.trainable_tokens_delta` (n, C); as in
// PEFT it holds the rows' values themselves (not a difference) and starts as a copy of them, so a new wrapper
// leaves the model unchanged. The table the model sees is the frozen one with those rows replaced:
//   W' = gather(concat([W, delta]), map),   map[id] = V + k for the k-th chosen token, id otherwise
// so the gradient reaches only `delta`. SFT uses it for the chat tokens it adds to a base vocabulary: under
// LoRA their new rows would otherwise stay random and frozen.
//
// The wrapper registers the base layer's tensors under their own names (`transformer.wte.weight` stays) and
// exposes the replaced table as `weight`, so a model that reads `wte.weight` for a tied output head (GPT,
// LLaMA with tied embeddings) sees the trained rows there too, as PEFT ties its lm_head adapter to the
// embedding's. Browser-safe.
import { Tensor } from '../tensor/tensor.js';
import { concat, gather } from '../tensor/shape.js';
import { linear } from '../tensor/matmul.js';
import { Module } from './module.js';
import { Embedding, Linear } from './layers.js';

/** holds the trained rows, so the parameter is named `token_adapter.trainable_tokens_delta` as in PEFT */
class TokenAdapter extends Module {
  readonly trainable_tokens_delta: Tensor;
  constructor(rows: Tensor) {
    super();
    this.trainable_tokens_delta = this.param('trainable_tokens_delta', rows);
  }
}

export class TrainableTokens extends Module {
  /** the base table (V, C), frozen */
  readonly baseWeight: Tensor;
  /** a Linear head's bias (V), frozen; null for an Embedding or a head without one */
  readonly bias: Tensor | null;
  readonly token_adapter: TokenAdapter;
  /** the token ids whose rows train, in the order of delta's rows */
  readonly tokenIndices: readonly number[];
  /** row of concat([W, delta]) that each token id reads */
  private readonly rowMap: Int32Array;
  /** true when the wrapped table is an Embedding (ids in), false for a Linear head */
  readonly isEmbeddingTable: boolean;
  private mergedIn: Float32Array | null = null;

  /**
   * Wraps `base` (an Embedding, or a Linear whose output rows are tokens), taking over its tensors frozen.
   * Throws for an empty, repeated or out-of-range token list.
   */
  constructor(base: Embedding | Linear, tokenIndices: readonly number[]) {
    super();
    const [V, C] = base.weight.shape;
    if (!tokenIndices.length) throw new Error('TrainableTokens: no token indices');
    if (new Set(tokenIndices).size !== tokenIndices.length) throw new Error(`TrainableTokens: repeated token index in [${tokenIndices.join(', ')}]`);
    const bad = tokenIndices.find((id) => !(Number.isInteger(id) && id >= 0 && id < V));
    if (bad !== undefined) throw new Error(`TrainableTokens: token index ${bad} is outside the table's ${V} rows`);
    this.isEmbeddingTable = base instanceof Embedding;
    this.tokenIndices = [...tokenIndices];
    this.baseWeight = this.param('weight', base.weight);
    this.bias = base instanceof Linear && base.bias ? this.param('bias', base.bias) : null;
    this.baseWeight.requiresGrad = false;
    if (this.bias) this.bias.requiresGrad = false;
    const rows = new Float32Array(tokenIndices.length * C);
    tokenIndices.forEach((id, k) => rows.set(base.weight.data.subarray(id * C, (id + 1) * C), k * C));
    this.token_adapter = this.child('token_adapter', new TokenAdapter(new Tensor(rows, [tokenIndices.length, C])));
    this.rowMap = Int32Array.from({ length: V }, (_, id) => id);
    tokenIndices.forEach((id, k) => (this.rowMap[id] = V + k));
    this.training = base.training;
  }

  /** the trained rows (n, C) */
  get delta(): Tensor {
    return this.token_adapter.trainable_tokens_delta;
  }

  get merged(): boolean {
    return this.mergedIn !== null;
  }

  /** the table with the chosen rows replaced (V, C); the base table itself once merged */
  get weight(): Tensor {
    if (this.mergedIn) return this.baseWeight;
    return gather(concat([this.baseWeight, this.delta], 0), this.rowMap, [this.rowMap.length]);
  }

  /** Embedding: ids (…S) → (…S, C). Linear head: x (…, C) → (…, V). */
  forward(input: Int32Array | number[] | Tensor, shape?: number[]): Tensor {
    if (this.isEmbeddingTable) {
      if (input instanceof Tensor || !shape) throw new Error('TrainableTokens: an embedding takes ids and their shape');
      if (this.mergedIn) return gather(this.baseWeight, input, shape);
      const V = this.rowMap.length;
      const ids = Int32Array.from(input, (id) => (id >= 0 && id < V ? this.rowMap[id] : id)); // out of range: gather names it
      return gather(concat([this.baseWeight, this.delta], 0), ids, shape);
    }
    if (!(input instanceof Tensor)) throw new Error('TrainableTokens: a linear head takes a tensor');
    return linear(input, this.weight, this.bias);
  }

  /** Writes the trained rows into the base table (PEFT's merge: index_copy); forward then uses it alone. */
  merge(): void {
    if (this.mergedIn) throw new Error('TrainableTokens: merge() on a layer that is already merged');
    const C = this.baseWeight.shape[1], w = this.baseWeight.data, d = this.delta.data;
    const saved = new Float32Array(this.tokenIndices.length * C);
    this.tokenIndices.forEach((id, k) => {
      saved.set(w.subarray(id * C, (id + 1) * C), k * C);
      w.set(d.subarray(k * C, (k + 1) * C), id * C);
    });
    this.mergedIn = saved;
  }

  /** Puts the base table's own rows back, undoing merge(). */
  unmerge(): void {
    if (!this.mergedIn) throw new Error('TrainableTokens: unmerge() on a layer that is not merged');
    const C = this.baseWeight.shape[1], w = this.baseWeight.data, saved = this.mergedIn;
    this.tokenIndices.forEach((id, k) => w.set(saved.subarray(k * C, (k + 1) * C), id * C));
    this.mergedIn = null;
  }
}

export const TRAINABLE_TOKENS_NAME = /(^|\.)token_adapter\.trainable_tokens_delta$/;

/** walks below `root`, yielding each module's dotted path, the module, and its parent with the child's name */
function* modulesWithParents(root: Module, prefix = ''): Generator<[string, Module, Module, string]> {
  for (const [n, c] of root.namedChildren()) {
    const full = prefix ? `${prefix}.${n}` : n;
    yield [full, c, root, n];
    yield* modulesWithParents(c, full);
  }
}

/**
 * Wraps the modules at `paths` (dotted module paths of Embeddings or token-row Linear heads, e.g.
 * `transformer.wte`) so that the rows of `tokenIndices` train and nothing else in them does. Returns the
 * wrapped paths. Throws for a path that is missing, already wrapped, or neither an Embedding nor a Linear.
 */
export function applyTrainableTokens(model: Module, paths: readonly string[], tokenIndices: readonly number[]): string[] {
  const found = new Map<string, [Module, Module, string]>();
  for (const [p, m, parent, name] of modulesWithParents(model)) if (paths.includes(p)) found.set(p, [m, parent, name]);
  for (const p of paths) {
    const hit = found.get(p);
    if (!hit) throw new Error(`trainable tokens: the model has no module "${p}"`);
    if (hit[0] instanceof TrainableTokens) throw new Error(`trainable tokens: module "${p}" already has trainable tokens`);
    if (!(hit[0] instanceof Embedding || hit[0] instanceof Linear)) throw new Error(`trainable tokens: module "${p}" is a ${hit[0].constructor.name}, not an Embedding or Linear`);
  }
  for (const p of paths) {
    const [m, parent, name] = found.get(p)!;
    parent.replaceChild(name, new TrainableTokens(m as Embedding | Linear, tokenIndices));
  }
  return [...paths];
}

/** the TrainableTokens layers below `model` with their module paths */
export function trainableTokenLayers(model: Module): [string, TrainableTokens][] {
  const out: [string, TrainableTokens][] = [];
  for (const [p, m] of modulesWithParents(model)) if (m instanceof TrainableTokens) out.push([p, m]);
  return out;
}
