// The pretraining loop, as nanoGPT's train.py: random B×T windows, AdamW with warmup + cosine LR, gradient
// clipping, dev-loss estimates every evalInterval steps, samples at chosen steps, early stopping. Browser-safe:
// files, checkpoints on disk and the progress bar live in src/train/run.node.ts, which drives this through
// callbacks. All randomness comes from generators whose state is part of TrainState, so a resumed run
// continues the same trajectory.
import type { GPT } from '../models/gpt.js';
import { AdamW } from '../optim/adamw.js';
import { cosineLr } from '../optim/schedule.js';
import { Rng, type RngState } from '../tensor/rng.js';
import { noGrad } from '../tensor/tensor.js';
import { stepScope } from '../tensor/storage.js';
import { optimizationStep } from './step.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { randomBatch, type TokenSplits } from '../data/dataset.js';
import { generateText, tick } from '../generate/generate.js';

export interface TrainConfig {
  maxIters: number;
  batchSize: number;
  lr: number;
  minLr: number;
  warmupIters: number;
  /** cosine decay ends here (nanoGPT's lr_decay_iters); defaults to maxIters */
  lrDecayIters: number;
  weightDecay: number;
  /** also decay the embeddings, i.e. every ≥2-D parameter as nanoGPT does (off: only Linear weights of blocks) */
  decayEmbeddings: boolean;
  beta1: number;
  beta2: number;
  gradClip: number;
  evalInterval: number;
  evalIters: number;
  /** stop after this many evaluations without a new best dev loss; 0 = never */
  patience: number;
  /** steps at which to print a sample (the seed notes use 0/250/500/5000) */
  sampleAt: number[];
  sampleTokens: number;
  samplePrompt: string;
  sampleTemperature: number;
  seed: number;
}

export const TRAIN_DEFAULTS: TrainConfig = {
  maxIters: 2000, batchSize: 12, lr: 1e-3, minLr: 1e-4, warmupIters: 100, lrDecayIters: 0,
  weightDecay: 0.1, decayEmbeddings: false, beta1: 0.9, beta2: 0.99, gradClip: 1.0,
  evalInterval: 250, evalIters: 20, patience: 0,
  sampleAt: [0, 250, 500, 1000, 2000], sampleTokens: 200, samplePrompt: '\n', sampleTemperature: 0.8, seed: 1337,
};

export interface HistoryPoint {
  step: number;
  train?: number;
  dev?: number;
  lr?: number;
}

export interface TrainState {
  step: number;
  rng: RngState;
  modelRng: RngState;
  bestDevLoss: number;
  evalsWithoutImprovement: number;
  history: HistoryPoint[];
  tokensSeen: number;
}

export interface StepInfo {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerSec: number;
}

export interface TrainCallbacks {
  onStep?(info: StepInfo): void;
  onEval?(info: { step: number; train: number; dev: number; improved: boolean }): void | Promise<void>;
  onSample?(info: { step: number; text: string }): void;
  /** asked after every step; return true to stop (e.g. on Ctrl-C) */
  shouldStop?(): boolean;
}

export class NonFiniteLossError extends Error {
  constructor(readonly step: number, readonly loss: number) {
    super(`loss became ${loss} at step ${step}: training stopped (try a lower --lr, or check the data)`);
  }
}

export class Trainer {
  readonly config: TrainConfig;
  readonly optimizer: AdamW;
  readonly rng: Rng;
  state: TrainState;
  private readonly names: Map<object, string>;

  constructor(
    readonly model: GPT, readonly tokenizer: Tokenizer, readonly splits: TokenSplits, config: Partial<TrainConfig> = {},
  ) {
    this.config = { ...TRAIN_DEFAULTS, ...config };
    if (!this.config.lrDecayIters) this.config.lrDecayIters = this.config.maxIters;
    const T = model.config.blockSize;
    if (splits.train.length < T + 1) {
      throw new Error(`the training split has ${splits.train.length} tokens, too few for block size ${T}: use more data or a smaller --block-size`);
    }
    model.toStorage();
    const decayed = model.decayedParameterNames();
    const named = model.namedParameters();
    this.names = new Map(named.map(([n, p]) => [p, n]));
    const decays = (n: string, ndim: number): boolean => decayed.has(n) || (this.config.decayEmbeddings && ndim >= 2);
    const decay = named.filter(([n, p]) => decays(n, p.ndim)).map(([, p]) => p);
    const noDecay = named.filter(([n, p]) => !decays(n, p.ndim)).map(([, p]) => p);
    this.optimizer = new AdamW(
      [{ params: decay, weightDecay: this.config.weightDecay }, { params: noDecay, weightDecay: 0 }],
      { lr: this.config.lr, beta1: this.config.beta1, beta2: this.config.beta2 },
    );
    // a stream of its own: the model's weights were drawn from Rng(seed), and batch offsets must not
    // replay the very uniforms those weights came from
    this.rng = new Rng(this.config.seed ^ 0x5bd1e995);
    this.state = {
      step: 0, rng: this.rng.getState(), modelRng: model.rng.getState(), bestDevLoss: Infinity,
      evalsWithoutImprovement: 0, history: [], tokensSeen: 0,
    };
  }

  nameOf = (p: object): string => this.names.get(p) ?? '?';

  /** the learning rate at a step */
  lrAt(step: number): number {
    const c = this.config;
    return cosineLr(step, { maxLr: c.lr, minLr: c.minLr, warmup: c.warmupIters, decaySteps: c.lrDecayIters });
  }

  /** One optimisation step on a fresh random batch. */
  trainStep(): { loss: number; lr: number; gradNorm: number } {
    const { batchSize: B } = this.config;
    const T = this.model.config.blockSize;
    const lr = this.lrAt(this.state.step);
    const batch = randomBatch(this.splits.train, B, T, this.rng);
    this.model.train();
    const { loss: l, gradNorm } = optimizationStep(
      this.model.parameters(), this.optimizer, lr, this.config.gradClip,
      () => this.model.forward(batch.x, B, T, { targets: batch.y }).loss!,
      (loss) => new NonFiniteLossError(this.state.step, loss),
    );
    this.state.step++;
    this.state.tokensSeen += B * T;
    return { loss: l, lr, gradNorm };
  }

  /** mean loss over evalIters random batches of a split (nanoGPT's estimate_loss) */
  estimateLoss(data: Int32Array, iters = this.config.evalIters): number {
    const T = this.model.config.blockSize, B = this.config.batchSize;
    if (data.length < T + 1) return NaN;
    this.model.eval();
    let s = 0;
    noGrad(() => {
      for (let i = 0; i < iters; i++) {
        const b = randomBatch(data, B, T, this.rng);
        s += stepScope(() => this.model.forward(b.x, B, T, { targets: b.y }).loss!.item());
      }
    });
    this.model.train();
    return s / iters;
  }

  async sample(maxTokens = this.config.sampleTokens, seed = this.config.seed + this.state.step): Promise<string> {
    const res = await generateText(this.model, this.tokenizer, this.config.samplePrompt, {
      maxNewTokens: maxTokens, temperature: this.config.sampleTemperature, seed, yieldEvery: 0,
    });
    return this.config.samplePrompt + res.text;
  }

  /** Trains until maxIters, early stopping, or shouldStop(). Resumes from this.state.step. */
  async run(cb: TrainCallbacks = {}): Promise<'done' | 'early-stopped' | 'interrupted'> {
    const c = this.config;
    const T = this.model.config.blockSize;
    let windowStart = performance.now();
    let windowTokens = 0;
    let tokensPerSec = 0;
    const evalNow = async (): Promise<boolean> => {
      const train = this.estimateLoss(this.splits.train);
      const dev = this.estimateLoss(this.splits.dev.length > T ? this.splits.dev : this.splits.train);
      const improved = dev < this.state.bestDevLoss;
      if (improved) {
        this.state.bestDevLoss = dev;
        this.state.evalsWithoutImprovement = 0;
      } else this.state.evalsWithoutImprovement++;
      this.state.history.push({ step: this.state.step, train, dev });
      this.syncRngState();
      await cb.onEval?.({ step: this.state.step, train, dev, improved });
      windowStart = performance.now(); // evaluation time is not training throughput
      windowTokens = 0;
      return c.patience > 0 && this.state.evalsWithoutImprovement >= c.patience;
    };
    const sampleNow = async (): Promise<void> => {
      if (c.sampleAt.includes(this.state.step) && cb.onSample) {
        cb.onSample({ step: this.state.step, text: await this.sample() });
        windowStart = performance.now();
        windowTokens = 0;
      }
    };
    if (this.state.step === 0) await sampleNow();
    while (this.state.step < c.maxIters) {
      const { loss, lr, gradNorm } = this.trainStep();
      windowTokens += c.batchSize * T;
      const el = (performance.now() - windowStart) / 1000;
      if (el > 0) tokensPerSec = windowTokens / el;
      if (this.state.step % 10 === 0 || this.state.step === 1) this.state.history.push({ step: this.state.step, train: loss, lr });
      cb.onStep?.({ step: this.state.step, loss, lr, gradNorm, tokensPerSec });
      await sampleNow();
      if (this.state.step % c.evalInterval === 0 || this.state.step === c.maxIters) {
        if (await evalNow()) return 'early-stopped';
      }
      if (cb.shouldStop?.()) {
        this.syncRngState();
        return 'interrupted';
      }
      if (this.state.step % 20 === 0) await tick(); // let signals (Ctrl-C) and I/O through
    }
    this.syncRngState();
    return 'done';
  }

  /** copies the live generators' state into this.state (before saving a checkpoint) */
  syncRngState(): void {
    this.state.rng = this.rng.getState();
    this.state.modelRng = this.model.rng.getState();
  }

  /** restores a saved state (checkpoint resume): step, generators, history, optimizer moments */
  restore(state: TrainState, moments: ReadonlyMap<string, Float32Array>): void {
    // JSON has no Infinity: a run saved before its first evaluation stores null
    const best = state.bestDevLoss ?? Infinity;
    this.state = { ...state, bestDevLoss: best, history: state.history.slice() };
    this.rng.setState(state.rng);
    this.model.rng.setState(state.modelRng);
    this.optimizer.loadStateTensors(moments, this.nameOf, state.step);
  }
}
