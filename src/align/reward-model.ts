// A reward model (InstructGPT §3.5; TRL's AutoModelForSequenceClassification with one label): a language-model
// backbone plus a scalar head, r = w·f + b, read at the last token of prompt + response. The interface gives
// every model's logits but not its hidden states, so the head reads the last position's logits (B, V) —
// f = logits = W_e·h for a tied-head GPT, a fixed linear view of the final hidden state h — through a learned
// Linear(V, 1) named `score` as TRL's head. It is itself a LanguageModel (its forward is the backbone's), so it
// saves, loads and samples like any model; its checkpoint's model type is 'reward' (src/align/reward-type.ts)
// with the backbone's type and config inside. Parameters keep the backbone's names plus `score.weight`,
// `score.bias`.
import type { ForwardOptions, LanguageModel, ModelConfig, ModelOutput, ModelState } from '../models/model.js';
import { Linear } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { reshape } from '../tensor/shape.js';
import { pickPositions } from './gather.js';

export interface RewardConfig extends ModelConfig {
  /** the backbone's registry type ('gpt', 'llama', …) */
  baseType: string;
  /** the backbone's config */
  base: ModelConfig & Record<string, unknown>;
}

/** the scalar head as a module, so its parameters are named score.weight / score.bias */
class ScoreHead extends Module {
  readonly score: Linear;
  constructor(V: number, rng: Rng) {
    super();
    this.score = this.child('score', new Linear(V, 1, true, rng, 0.02));
  }
}

export class RewardModel implements LanguageModel {
  readonly type = 'reward';
  readonly config: RewardConfig;
  private readonly head: ScoreHead;

  /** wraps `backbone`; the head starts N(0, 0.02) with bias 0, drawn from Rng(seed) */
  constructor(readonly backbone: LanguageModel, seed = 1337) {
    const c = backbone.config as ModelConfig & Record<string, unknown>;
    this.config = { vocabSize: c.vocabSize, blockSize: c.blockSize, baseType: backbone.type, base: { ...c } };
    this.head = new ScoreHead(c.vocabSize, new Rng(seed));
  }

  get contextLength(): number {
    return this.backbone.contextLength;
  }
  get rng(): Rng {
    return this.backbone.rng;
  }
  get training(): boolean {
    return this.backbone.training;
  }
  set training(on: boolean) {
    this.backbone.training = on;
  }
  train(on = true): this {
    this.backbone.train(on);
    this.head.train(on);
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** the backbone's forward (next-token logits and loss) */
  forward(idx: Int32Array, B: number, T: number, opts?: ForwardOptions): ModelOutput {
    return this.backbone.forward(idx, B, T, opts);
  }

  /**
   * Scalar rewards: idx (B, T) right-padded sequences, last (B) the index of each row's last real token → (B),
   * differentiable in the backbone and the head.
   */
  rewards(idx: Int32Array, B: number, T: number, last: ArrayLike<number>): Tensor {
    const { logits } = this.backbone.forward(idx, B, T); // (B, T, V)
    const f = pickPositions(logits, last); // (B, V)
    return reshape(this.head.score.forward(f), [B]);
  }

  createState(B: number): ModelState {
    return this.backbone.createState(B);
  }
  namedParameters(): [string, Tensor][] {
    return [...this.backbone.namedParameters(), ...this.head.namedParameters()];
  }
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }
  numParams(): number {
    return this.backbone.numParams() + this.head.numParameters();
  }
  numParameters(): number {
    return this.backbone.numParameters() + this.head.numParameters();
  }
  decayedParameterNames(): Set<string> {
    return new Set([...this.backbone.decayedParameterNames(), 'score.weight']);
  }
  stateDict(): Map<string, Tensor> {
    return new Map([...this.backbone.stateDict(), ...this.head.stateDict()]);
  }
  /** the backbone's tensors and score.weight / score.bias; errors name `source` */
  loadStateDict(state: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>, source = 'state dict'): void {
    const isHead = (n: string): boolean => n === 'score.weight' || n === 'score.bias';
    this.backbone.loadStateDict(new Map([...state].filter(([n]) => !isHead(n))), source);
    this.head.loadStateDict(new Map([...state].filter(([n]) => isHead(n))), source);
  }
  toStorage(): this {
    this.backbone.toStorage();
    this.head.toStorage();
    return this;
  }
  describe(): string {
    return `reward model (scalar head on the last token's logits) over ${this.backbone.describe()}`;
  }
}
