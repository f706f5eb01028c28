// The one training loop, for every objective (src/train/objective.ts): the optimizer (AdamW unless another is
// given) under a warmup + cosine schedule, gradient clipping, evaluations every evalInterval steps, early
// stopping on the held-out loss, NaN checks, samples at chosen steps. Browser-safe: files, checkpoints, the
// progress bar and signals live in src/train/run-folder.node.ts, which drives this through callbacks. All
// randomness comes from generators whose state is part of TrainState, so a resumed run continues the same
// trajectory (test/train.test.ts, test/sft.test.ts).
import type { LanguageModel } from '../models/model.js';
import { loraPlusGroups, weightDecayGroups, type Optimizer, type ParamGroup } from '../optim/optimizer.js';
import { muonGroups } from '../optim/muon.js';
import { createOptimizer } from '../optim/registry.js';
import { cosineLr } from '../optim/schedule.js';
import { Rng, SEED_MAX, type RngState } from '../tensor/rng.js';
import { noGrad, type Tensor } from '../tensor/tensor.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { generateText, tick } from '../generate/generate.js';
import { optimizationStep } from './step.js';
import { UsageError } from '../usage-error.js';
import type { Evaluation, Objective } from './objective.js';

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
  /** stop after this many evaluations without a new best held-out loss; 0 = never */
  patience: number;
  /** steps at which to print a sample (the seed notes use 0/250/500/5000) */
  sampleAt: number[];
  sampleTokens: number;
  samplePrompt: string;
  sampleTemperature: number;
  seed: number;
  /** the optimizer's name in src/optim/registry.ts (default adamw) and its own options; saved so --resume rebuilds it */
  optimizer?: string;
  optimizerOptions?: Record<string, number | boolean | string>;
  /** LoRA+: the LoRA B factors learn at this many times lr (1 = plain LoRA; PEFT's loraplus_lr_ratio, e.g. 4–16) */
  loraplusLrRatio: number;
}

export const TRAIN_DEFAULTS: TrainConfig = {
  maxIters: 2000, batchSize: 12, lr: 1e-3, minLr: 1e-4, warmupIters: 100, lrDecayIters: 0,
  weightDecay: 0.1, decayEmbeddings: false, beta1: 0.9, beta2: 0.99, gradClip: 1.0,
  evalInterval: 250, evalIters: 20, patience: 0,
  sampleAt: [0, 250, 500, 1000, 2000], sampleTokens: 200, samplePrompt: '\n', sampleTemperature: 0.8, seed: 1337, loraplusLrRatio: 1,
};

/** a numeric setting's allowed range: [min, max], or (above, …) / (…, below) when exclusive */
export interface Range {
  min?: number;
  above?: number;
  max?: number;
  below?: number;
  integer?: boolean;
}

/**
 * The ranges of the training settings, written once: the Trainer checks every config against them, and the
 * CLI's option tables use them for `--help` and flag checks.
 */
export const TRAIN_RANGES: Partial<Record<keyof TrainConfig, Range>> = {
  maxIters: { min: 1, integer: true }, batchSize: { min: 1, integer: true }, lr: { above: 0 }, minLr: { min: 0 },
  warmupIters: { min: 0, integer: true }, lrDecayIters: { min: 0, integer: true }, weightDecay: { min: 0 },
  beta1: { min: 0, below: 1 }, beta2: { min: 0, below: 1 }, gradClip: { min: 0 }, evalInterval: { min: 1, integer: true },
  evalIters: { min: 1, max: 10000, integer: true }, patience: { min: 0, integer: true }, sampleAt: { min: 0, integer: true },
  sampleTokens: { min: 1, max: 1e6, integer: true }, sampleTemperature: { min: 0 }, seed: { min: 0, max: SEED_MAX, integer: true }, loraplusLrRatio: { above: 0 },
};

/** a config key as its flag name: nHidden → n-hidden */
export const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/**
 * Throws `train config: minLr (--min-lr) must be …, got …` for the first setting outside its range, as a
 * UsageError (the CLI exits 2, as for any flag error). Partial configs are checked over TRAIN_DEFAULTS, so a
 * job can check the user's settings before any work starts.
 */
export function validateTrainConfig(partial: Partial<TrainConfig>): void {
  const c: TrainConfig = { ...TRAIN_DEFAULTS, ...partial };
  for (const [k, r] of Object.entries(TRAIN_RANGES) as [keyof TrainConfig, Range][]) {
    const values = Array.isArray(c[k]) ? (c[k] as number[]) : [c[k] as number];
    for (const v of values) {
      const ok = typeof v === 'number' && Number.isFinite(v) && (!r.integer || Number.isInteger(v)) &&
        (r.min === undefined || v >= r.min) && (r.above === undefined || v > r.above) &&
        (r.max === undefined || v <= r.max) && (r.below === undefined || v < r.below);
      if (!ok) throw new UsageError(`train config: ${k} (--${kebab(k)}) must be ${describeRange(r)}, got ${JSON.stringify(c[k])}`);
    }
  }
  if (typeof c.samplePrompt !== 'string') throw new UsageError(`train config: samplePrompt (--prompt) must be text, got ${JSON.stringify(c.samplePrompt)}`);
}

/**
 * Settings that are valid but probably not meant, as one-line notes for the start of a run: a warmup as long
 * as the run (the learning rate never reaches `lr`), a LoRA+ ratio outside 1–64. Empty when nothing is odd.
 */
export function trainConfigNotes(partial: Partial<TrainConfig>): string[] {
  const c: TrainConfig = { ...TRAIN_DEFAULTS, ...partial };
  const notes: string[] = [];
  if (c.warmupIters >= c.maxIters && c.warmupIters > 0) {
    notes.push(`note: the warmup (--warmup-iters ${c.warmupIters}) is not shorter than the run (--max-iters ${c.maxIters}): the learning rate never reaches --lr ${c.lr}; lower --warmup-iters`);
  }
  if (c.loraplusLrRatio > 64 || c.loraplusLrRatio < 1) {
    notes.push(`note: --loraplus-lr-ratio ${c.loraplusLrRatio} is outside 1–64, where LoRA+ speeds the B factors up (4–8 measured best here): they train at ${c.loraplusLrRatio} × --lr`);
  }
  return notes;
}

/**
 * Refuses (a UsageError: exit 2) a resumed run's step limit `limit`, given as `flag` (--max-iters, --steps),
 * below the step the run has reached: it would have nothing to train. Jobs call it before printing any resume
 * note; undefined (not given) passes.
 */
export function checkStepLimit(flag: string, limit: number | undefined, step: number): void {
  if (limit !== undefined && limit < step) throw new UsageError(`${flag} ${limit} is below the run's step ${step}; give more to train on, or leave it out to keep the run's own`);
}

/**
 * One line for a resumed run whose flags change settings it was saved with, e.g.
 * `note: resuming with --lr 0.001 → 0.5, --max-iters 800 → 1200 (given now)`; empty when nothing changes. A setting
 * the run never saved counts as its default (`defaults`: TRAIN_DEFAULTS, or another loop's, such as GRPO's).
 */
export function resumeChangeNotes(saved: object, given: object, defaults: object = TRAIN_DEFAULTS): string[] {
  const was = { ...defaults, ...saved } as Record<string, unknown>;
  const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  const changed = Object.entries(given).filter(([k, v]) => v !== undefined && JSON.stringify(v) !== JSON.stringify(was[k]));
  if (!changed.length) return [];
  return [`note: resuming with ${changed.map(([k, v]) => `--${kebab(k)} ${show(was[k])} → ${show(v)}`).join(', ')} (given now)`];
}

/** what configuredOptimizer reads of a loop's config */
export type OptimizerChoice = Pick<TrainConfig, 'lr' | 'beta1' | 'beta2'> & Partial<Pick<TrainConfig, 'optimizer' | 'optimizerOptions'>>;

/**
 * `groups` as the optimizer `name` takes them: for Muon, the hidden matrices of `model` (hiddenMatrixNames) in
 * Muon's own groups, the rest left to its AdamW part; unchanged for the others (and for a model with none).
 */
export function optimizerGroups(groups: ParamGroup[], named: readonly [string, Tensor][], model: LanguageModel, name: string | undefined): ParamGroup[] {
  return name === 'muon' && named.length ? muonGroups(groups, named, hiddenMatrixNames(model)) : groups;
}

/**
 * The optimizer the config names (`optimizer`, `optimizerOptions`: src/optim/registry.ts) over `groups`;
 * AdamW with the config's betas when it names none. Adam, AdamW and Muon (for its AdamW part) take β1 and β2
 * from the config. Throws one line naming the optimizer or option at fault.
 */
export function configuredOptimizer(groups: ParamGroup[], c: OptimizerChoice): Optimizer {
  const name = c.optimizer ?? 'adamw';
  const betas = name === 'adam' || name === 'adamw' || name === 'muon' ? { beta1: c.beta1, beta2: c.beta2 } : {};
  return createOptimizer(name, groups, { lr: c.lr, ...betas, ...c.optimizerOptions });
}

/**
 * The weight matrices of a model's hidden layers, which Muon orthogonalises: its decayed 2-D weights less the
 * output heads (`lm_head`, `head`, `score`), which stay with AdamW as Muon's reference prescribes.
 */
export function hiddenMatrixNames(model: LanguageModel): Set<string> {
  return new Set([...model.decayedParameterNames()].filter((n) => !/(^|\.)(lm_head|head|score)\.weight$/.test(n)));
}

/** "a whole number ≥ 1", "a number in [0, 1)" */
export function describeRange(r: Range): string {
  const what = r.integer ? 'a whole number' : 'a number';
  const lo = r.min !== undefined ? `[${r.min}` : r.above !== undefined ? `(${r.above}` : null;
  const hi = r.max !== undefined ? `${r.max}]` : r.below !== undefined ? `${r.below})` : null;
  if (lo && hi) return `${what} in ${lo}, ${hi}`;
  if (lo) return `${what} ${r.min !== undefined ? '≥' : '>'} ${r.min ?? r.above}`;
  if (hi) return `${what} ${r.max !== undefined ? '≤' : '<'} ${r.max ?? r.below}`;
  return what;
}

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
  /** best held-out loss so far (dev loss; training loss when the objective has no dev data) */
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

export interface EvalInfo extends Evaluation {
  step: number;
  /** what early stopping and `best/` follow: dev, or train where there is no dev data */
  selected: number;
  selectedFrom: 'dev' | 'train';
  improved: boolean;
}

export interface TrainCallbacks {
  onStep?(info: StepInfo): void;
  onEval?(info: EvalInfo): void | Promise<void>;
  onSample?(info: { step: number; text: string }): void;
  /** asked after every step; return true to stop (e.g. on Ctrl-C) */
  shouldStop?(): boolean;
}

export type TrainOutcome = 'done' | 'early-stopped' | 'interrupted';

export class NonFiniteLossError extends Error {
  constructor(readonly step: number, readonly loss: number) {
    super(`loss became ${loss} at step ${step}: training stopped (try a lower --lr, or check the data)`);
  }
}

export interface TrainerOptions {
  /** needed for samples (sampleAt); without it no samples are drawn */
  tokenizer?: Tokenizer;
  /** builds the optimizer over the parameter groups (default AdamW with the config's betas) */
  optimizer?: (groups: ParamGroup[], config: TrainConfig) => Optimizer;
}

export class Trainer {
  readonly config: TrainConfig;
  readonly optimizer: Optimizer;
  readonly rng: Rng;
  readonly tokenizer?: Tokenizer;
  state: TrainState;
  private readonly names: Map<object, string>;
  private readonly trainable: Tensor[];

  constructor(readonly model: LanguageModel, readonly objective: Objective, config: Partial<TrainConfig> = {}, opts: TrainerOptions = {}) {
    this.config = { ...TRAIN_DEFAULTS, ...config };
    if (!this.config.lrDecayIters) this.config.lrDecayIters = this.config.maxIters;
    validateTrainConfig(this.config);
    this.tokenizer = opts.tokenizer;
    objective.check(model, this.config);
    model.toStorage();
    // frozen parameters (requiresGrad false: LoRA's base, --freeze) are left out of the optimizer
    const named = model.namedParameters().filter(([, p]) => p.requiresGrad);
    this.names = new Map(named.map(([n, p]) => [p, n]));
    this.trainable = named.map(([, p]) => p);
    let groups = loraPlusGroups(weightDecayGroups(named, model.decayedParameterNames(), this.config.weightDecay, this.config.decayEmbeddings), named, this.config.loraplusLrRatio);
    // Muon for the hidden matrices (a count-based model such as the n-gram has no parameters to give it)
    groups = optimizerGroups(groups, named, model, this.config.optimizer);
    const make = opts.optimizer ?? configuredOptimizer;
    this.optimizer = make(groups, this.config);
    this.rng = new Rng(objective.dataSeed(this.config.seed));
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

  /** One optimisation step on a fresh batch of the objective. */
  trainStep(): { loss: number; lr: number; gradNorm: number; tokens: number } {
    const lr = this.lrAt(this.state.step);
    let tokens = 0;
    this.model.train();
    const { loss, gradNorm } = optimizationStep(
      this.trainable, this.optimizer, lr, this.config.gradClip,
      () => {
        const r = this.objective.trainLoss(this.model, this.rng, this.config);
        tokens = r.tokens;
        return r.loss;
      },
      (l) => new NonFiniteLossError(this.state.step, l),
    );
    this.state.step++;
    this.state.tokensSeen += tokens;
    return { loss, lr, gradNorm, tokens };
  }

  /** the objective's evaluation, in eval mode without gradients */
  evaluate(): Evaluation {
    this.model.eval();
    try {
      return noGrad(() => this.objective.evaluate(this.model, this.rng, this.config));
    } finally {
      this.model.train();
    }
  }

  /**
   * A sample from the sample prompt (empty without a tokenizer). With `shouldStop`, generation yields to the
   * event loop every 16 tokens (so signals get through) and ends early, the text so far, once it says stop.
   */
  async sample(maxTokens = this.config.sampleTokens, seed = this.config.seed + this.state.step, shouldStop?: () => boolean): Promise<string> {
    if (!this.tokenizer) return '';
    const ac = shouldStop ? new AbortController() : undefined;
    const timer = shouldStop ? setInterval(() => shouldStop() && ac!.abort(), 20) : undefined;
    try {
      const res = await generateText(this.model, this.tokenizer, this.config.samplePrompt, {
        maxNewTokens: maxTokens, temperature: this.config.sampleTemperature, seed, yieldEvery: shouldStop ? 16 : 0, signal: ac?.signal,
      });
      return this.config.samplePrompt + res.text;
    } finally {
      if (timer !== undefined) clearInterval(timer);
    }
  }

  /** Trains until maxIters, early stopping, or shouldStop(). Resumes from this.state.step. */
  async run(cb: TrainCallbacks = {}): Promise<TrainOutcome> {
    const c = this.config;
    const meter = new Throughput();
    if (this.state.step === 0 && (await this.maybeSample(cb))) meter.restart();
    while (this.state.step < c.maxIters) {
      if (cb.shouldStop?.()) break; // e.g. a signal during the first sample
      const { loss, lr, gradNorm, tokens } = this.trainStep();
      const step = this.state.step;
      if (step % 10 === 0 || step === 1) this.state.history.push({ step, train: loss, lr });
      cb.onStep?.({ step, loss, lr, gradNorm, tokensPerSec: meter.add(tokens) });
      if (await this.maybeSample(cb)) meter.restart();
      if (step % c.evalInterval === 0 || step === c.maxIters) {
        const stop = await this.evalAndRecord(cb);
        meter.restart(); // evaluation time is not training throughput
        if (stop) return 'early-stopped';
      }
      if (cb.shouldStop?.()) {
        this.syncRngState();
        return 'interrupted';
      }
      await tick(); // let signals (Ctrl-C, SIGTERM) and I/O through
    }
    this.syncRngState();
    return this.state.step < c.maxIters ? 'interrupted' : 'done';
  }

  /** evaluates, updates best/patience and history, calls onEval; true when early stopping says stop */
  private async evalAndRecord(cb: TrainCallbacks): Promise<boolean> {
    const ev = this.evaluate();
    const selectedFrom = ev.dev !== undefined ? 'dev' : 'train';
    const selected = (ev.dev ?? ev.train)!;
    const improved = selected < this.state.bestDevLoss;
    if (improved) {
      this.state.bestDevLoss = selected;
      this.state.evalsWithoutImprovement = 0;
    } else this.state.evalsWithoutImprovement++;
    this.state.history.push({ step: this.state.step, train: ev.train, dev: ev.dev });
    this.syncRngState();
    await cb.onEval?.({ ...ev, step: this.state.step, selected, selectedFrom, improved });
    return this.config.patience > 0 && this.state.evalsWithoutImprovement >= this.config.patience;
  }

  private async maybeSample(cb: TrainCallbacks): Promise<boolean> {
    if (!cb.onSample || !this.tokenizer || !this.config.sampleAt.includes(this.state.step)) return false;
    const shouldStop = cb.shouldStop?.bind(cb);
    cb.onSample({ step: this.state.step, text: await this.sample(undefined, undefined, shouldStop) });
    return true;
  }

  /** copies the live generators' state into this.state (before saving a checkpoint) */
  syncRngState(): void {
    this.state.rng = this.rng.getState();
    this.state.modelRng = this.model.rng.getState();
  }

  /**
   * Restores a saved state (checkpoint resume): step, generators, history, optimizer moments. Throws one line
   * when the config's maxIters is below the saved step (the run would end before where it is).
   */
  restore(state: TrainState, moments: ReadonlyMap<string, Float32Array>): void {
    checkStepLimit('--max-iters', this.config.maxIters, state.step);
    // JSON has no Infinity: a run saved before its first evaluation stores null
    const best = state.bestDevLoss ?? Infinity;
    this.state = { ...state, bestDevLoss: best, history: state.history.slice() };
    this.rng.setState(state.rng);
    this.model.rng.setState(state.modelRng);
    this.optimizer.loadStateTensors(moments, this.nameOf, state.step);
  }
}

/** tokens per second since the last restart (evaluations and samples restart it) */
class Throughput {
  private start = performance.now();
  private tokens = 0;
  private rate = 0;
  restart(): void {
    this.start = performance.now();
    this.tokens = 0;
  }
  add(tokens: number): number {
    this.tokens += tokens;
    const s = (performance.now() - this.start) / 1000;
    if (s > 0) this.rate = this.tokens / s;
    return this.rate;
  }
}
