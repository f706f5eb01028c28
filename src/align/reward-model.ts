// A reward model (InstructGPT §3.5; TRL's AutoModelForSequenceClassification with one label): a language-model
// backbone plus a scalar head, r = w·f + b, read at the last token of prompt + response (readout 'last'), or
// that plus a gated sum of the response tokens' log-likelihoods (readout 'last+loglik', src/align/reward-readout.ts). The interface gives
// every model's logits but not its hidden states, so the head reads the last position's logits (B, V) —
// f = logits = W_e·h for a tied-head GPT, a fixed linear view of the final hidden state h — through a learned
// Linear(V, 1) named `score` as TRL's head. It is itself a LanguageModel (its forward is the backbone's), so it
// saves, loads and samples like any model; its checkpoint's model type is 'reward' (src/align/reward-type.ts)
// with the backbone's type and config inside. Parameters keep the backbone's names plus `score.weight`,
// `score.bias`, and for 'last+loglik' `loglik.gate` (V) and `loglik.bias` (1).
import type { ForwardOptions, LanguageModel, ModelConfig, ModelOutput, ModelState } from '../models/model.js';
import { Linear } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { reshape } from '../tensor/shape.js';
import { pickPositions } from './gather.js';
import { add } from '../tensor/elementwise.js';
import { gatedLogLikelihood, responseTargets, type RewardReadout } from './reward-readout.js';

export interface RewardConfig extends ModelConfig {
  /** the backbone's registry type ('gpt', 'llama', …) */
  baseType: string;
  /** the backbone's config */
  base: ModelConfig & Record<string, unknown>;
  /** how the score is read (absent: 'last', as checkpoints before readouts) */
  readout?: RewardReadout;
}

/** the likelihood term's gate u (V) and bias c, both starting at 0 */
class LoglikGate extends Module {
  readonly gate: Tensor;
  readonly bias: Tensor;
  constructor(V: number) {
    super();
    this.gate = this.param('gate', new Tensor(new Float32Array(V), [V]));
    this.bias = this.param('bias', new Tensor(new Float32Array(1), [1]));
  }
}

/** the scalar head as a module, so its parameters are named score.weight / score.bias (and loglik.gate / loglik.bias) */
class ScoreHead extends Module {
  readonly score: Linear;
  readonly loglik?: LoglikGate;
  constructor(V: number, rng: Rng, readout: RewardReadout) {
    super();
    this.score = this.child('score', new Linear(V, 1, true, rng, 0.02));
    if (readout === 'last+loglik') this.loglik = this.child('loglik', new LoglikGate(V));
  }
}

export class RewardModel implements LanguageModel {
  readonly type = 'reward';
  readonly config: RewardConfig;
  private readonly head: ScoreHead;

  /** wraps `backbone`; the head starts N(0, 0.02) with bias 0, drawn from Rng(seed), a likelihood gate at 0 */
  constructor(readonly backbone: LanguageModel, seed = 1337, readonly readout: RewardReadout = 'last') {
    const c = backbone.config as ModelConfig & Record<string, unknown>;
    this.config = { vocabSize: c.vocabSize, blockSize: c.blockSize, baseType: backbone.type, base: { ...c }, ...(readout === 'last' ? {} : { readout }) };
    this.head = new ScoreHead(c.vocabSize, new Rng(seed), readout);
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
   * Scalar rewards: idx (B, T) right-padded sequences, last (B) the index of each row's last real token, first
   * (B) the index of each row's first response token (the prompt's length; needed by 'last+loglik') → (B),
   * differentiable in the backbone and the head. Throws when 'last+loglik' gets no `first`.
   */
  rewards(idx: Int32Array, B: number, T: number, last: ArrayLike<number>, first?: ArrayLike<number>): Tensor {
    if (!this.head.loglik) return this.lastTokenReward(this.backbone.forward(idx, B, T).logits, last, B);
    if (!first) throw new Error("reward model: the 'last+loglik' readout needs each row's first response position");
    return this.rewardsWithLikelihood(idx, B, T, last, first).rewards;
  }

  /**
   * The rewards as `rewards` gives them, with the backbone's per-token negative log-likelihoods of each row's
   * response tokens, nll (B, T), and their mask (B·T): what a language-model loss on responses needs
   * (RewardModelObjective's lmCoefficient). One forward pass; every output differentiable.
   */
  rewardsWithLikelihood(idx: Int32Array, B: number, T: number, last: ArrayLike<number>, first: ArrayLike<number>): { rewards: Tensor; nll: Tensor; mask: Float32Array } {
    const { y, mask } = responseTargets(idx, B, T, first, last);
    const { logits, loss } = this.backbone.forward(idx, B, T, { targets: y, reduction: 'none' }); // (B, T, V), (B, T)
    const head = this.lastTokenReward(logits, last, B);
    const gate = this.head.loglik;
    return { rewards: gate ? add(head, gatedLogLikelihood(logits, loss!, mask, gate.gate, gate.bias)) : head, nll: loss!, mask };
  }

  /** w·f_last + b: logits (B, T, V) read at each row's last token → (B) */
  private lastTokenReward(logits: Tensor, last: ArrayLike<number>, B: number): Tensor {
    return reshape(this.head.score.forward(pickPositions(logits, last)), [B]);
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
  /** the head's parameter names (trained in full beside LoRA adapters) */
  headParameterNames(): string[] {
    return this.head.namedParameters().map(([n]) => n);
  }
  decayedParameterNames(): Set<string> {
    return new Set([...this.backbone.decayedParameterNames(), 'score.weight']);
  }
  stateDict(): Map<string, Tensor> {
    return new Map([...this.backbone.stateDict(), ...this.head.stateDict()]);
  }
  /** the backbone's tensors and score.weight / score.bias; errors name `source` */
  loadStateDict(state: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>, source = 'state dict'): void {
    const isHead = (n: string): boolean => n.startsWith('score.') || n.startsWith('loglik.');
    this.backbone.loadStateDict(new Map([...state].filter(([n]) => !isHead(n))), source);
    this.head.loadStateDict(new Map([...state].filter(([n]) => isHead(n))), source);
  }
  toStorage(): this {
    this.backbone.toStorage();
    this.head.toStorage();
    return this;
  }
  describe(): string {
    const how = this.head.loglik ? "the last token's logits plus gated response log-likelihoods" : "the last token's logits";
    return `reward model (scalar head on ${how}) over ${this.backbone.describe()}`;
  }
}
