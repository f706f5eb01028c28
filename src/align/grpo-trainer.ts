// GRPO and REINFORCE as a loop of their own (DeepSeekMath, Shao et al. 2024; TRL GRPOTrainer): each step
// draws P prompts, samples G completions of each with the generation core (batched, KV cache), scores them
// with a reward function, turns rewards into group-relative advantages A = (r − mean_g)/(std_g + 1e−4) and
// takes μ optimizer steps on the clipped objective with an optional k3 KL penalty to a frozen reference
// (src/align/grpo.ts). Rows whose advantage is 0 (every group whose completions all got the same reward)
// carry no gradient when β = 0: they are left out of the forward and backward passes, and the loss is
// rescaled so that it and its gradient equal those of the whole batch (TRL's loss over all rows).
// `algo: 'reinforce'` is REINFORCE with the group mean as baseline (advantages not
// scaled, ratio 1 at μ = 1: −A·∇logπ). Every random choice derives from (seed, step), so a run resumed at
// step k continues exactly as the uninterrupted one. Browser-safe; files are src/align/rl-job.node.ts.
import type { LanguageModel } from '../models/model.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { configuredOptimizer, optimizerGroups } from '../train/trainer.js';
import { weightDecayGroups, type Optimizer } from '../optim/optimizer.js';
import { Rng } from '../tensor/rng.js';
import { optimizationStep } from '../train/step.js';
import type { VerifiablePrompt } from '../data/verifiable.js';
import { grpoAdvantages, grpoLoss, type GRPOLossType } from './grpo.js';
import { rolloutLogProbs, rolloutLogProbsData, sampleRollout, selectRows, type Rollout } from './rollout.js';
import { mul } from '../tensor/elementwise.js';
import type { RewardFn } from './rewards.js';
import { UsageError } from '../usage-error.js';

export interface GRPOConfig {
  algo: 'grpo' | 'reinforce';
  steps: number;
  /** prompts per step, P */
  promptsPerStep: number;
  /** completions per prompt, G (≥ 2) */
  groupSize: number;
  maxNewTokens: number;
  temperature: number;
  lr: number;
  /** steps of linear learning-rate warmup from lr/warmupSteps to lr (0: none); Adam's first steps are sign steps, which on noisy policy gradients move every weight by the full lr */
  warmupSteps: number;
  weightDecay: number;
  gradClip: number;
  /** KL coefficient to the reference (0: no reference is kept) */
  beta: number;
  /** clip range ε */
  epsilon: number;
  /** optimizer steps per rollout, μ */
  iterations: number;
  lossType: GRPOLossType;
  seed: number;
  /** the optimizer (src/optim/registry.ts; default AdamW, β 0.9/0.99) and its own options, as TrainConfig's */
  optimizer?: string;
  optimizerOptions?: Record<string, number | boolean | string>;
}

export const GRPO_DEFAULTS: GRPOConfig = {
  algo: 'grpo', steps: 100, promptsPerStep: 4, groupSize: 8, maxNewTokens: 32, temperature: 1, lr: 2e-5, warmupSteps: 0, weightDecay: 0,
  gradClip: 1, beta: 0.04, epsilon: 0.2, iterations: 1, lossType: 'grpo', seed: 1337,
};

/** what one step logs */
export interface RLStepLog {
  step: number;
  /** mean reward of the step's completions */
  reward: number;
  rewardStd: number;
  /** mean k3 KL to the reference over completion tokens (0 without a reference) */
  kl: number;
  /** fraction of completion tokens whose ratio was clipped */
  clipRatio: number;
  loss: number;
  /** mean completion length in tokens */
  length: number;
  seconds: number;
  [extra: string]: number;
}

/**
 * The most completions one step samples (prompts per step × group size): they are generated and trained as one
 * batch, and far more fail deep in the kernels (a call stack or the 4 GiB wasm memory).
 */
export const MAX_ROLLOUTS = 1024;

/** Throws one line (a UsageError: the CLI exits 2) for the first setting out of its range. */
export function checkGRPOConfig(c: GRPOConfig): void {
  const bad = (f: string, want: string): never => {
    throw new UsageError(`grpo: ${f} must be ${want}, got ${String((c as unknown as Record<string, unknown>)[f])}`);
  };
  if (c.algo !== 'grpo' && c.algo !== 'reinforce') bad('algo', 'grpo or reinforce');
  for (const f of ['steps', 'promptsPerStep', 'maxNewTokens', 'iterations'] as const) if (!(Number.isInteger(c[f]) && c[f] >= 1)) bad(f, 'a positive integer');
  if (!(Number.isInteger(c.groupSize) && c.groupSize >= 2)) bad('groupSize', 'an integer ≥ 2 (advantages compare completions of one prompt)');
  if (!(c.temperature > 0)) bad('temperature', '> 0 (rollouts must sample)');
  if (!(c.beta >= 0)) bad('beta', '≥ 0');
  if (!(c.lr > 0)) bad('lr', '> 0');
  if (!(Number.isInteger(c.warmupSteps) && c.warmupSteps >= 0)) bad('warmupSteps', 'an integer ≥ 0');
  const rollouts = c.promptsPerStep * c.groupSize;
  if (rollouts > MAX_ROLLOUTS) throw new UsageError(`grpo: --prompts-per-step ${c.promptsPerStep} × --group-size ${c.groupSize} = ${rollouts} completions per step, more than ${MAX_ROLLOUTS}; lower one of them`);
}

export class GRPOTrainer {
  readonly config: GRPOConfig;
  readonly optimizer: Optimizer;
  step = 0;
  private readonly names: Map<object, string>;
  private readonly trainable;

  constructor(readonly policy: LanguageModel, readonly tokenizer: Tokenizer, readonly prompts: readonly VerifiablePrompt[], readonly reward: RewardFn,
    config: Partial<GRPOConfig> = {}, readonly reference: LanguageModel | null = null, readonly rewardName = 'reward function') {
    this.config = { ...GRPO_DEFAULTS, ...config };
    checkGRPOConfig(this.config);
    if (!prompts.length) throw new Error('grpo: no prompts to train on');
    if (this.config.beta > 0 && !reference) throw new Error('grpo: beta > 0 needs a reference model');
    if (reference) for (const p of reference.parameters()) p.requiresGrad = false;
    policy.toStorage();
    const named = policy.namedParameters().filter(([, p]) => p.requiresGrad);
    this.names = new Map(named.map(([n, p]) => [p, n]));
    this.trainable = named.map(([, p]) => p);
    const groups = optimizerGroups(weightDecayGroups(named, policy.decayedParameterNames(), this.config.weightDecay), named, policy, this.config.optimizer);
    this.optimizer = configuredOptimizer(groups, { ...this.config, beta1: 0.9, beta2: 0.99 });
  }

  nameOf = (p: object): string => this.names.get(p) ?? '?';

  /** the step's prompts: P drawn with Rng(seed, step), so resuming needs no generator state */
  promptsAt(step: number): VerifiablePrompt[] {
    const rng = new Rng(this.config.seed * 1_000_003 + step);
    return Array.from({ length: this.config.promptsPerStep }, () => this.prompts[rng.int(this.prompts.length)]);
  }

  /** samples the step's rollout with the current policy */
  rollout(step: number): Rollout {
    const c = this.config;
    return sampleRollout(this.policy, this.tokenizer, this.promptsAt(step), this.reward, {
      groupSize: c.groupSize, maxNewTokens: c.maxNewTokens, temperature: c.temperature, seed: c.seed * 7919 + step * c.promptsPerStep * c.groupSize,
    }, this.rewardName);
  }

  /** the learning rate of step `step` (0-based): linear warmup over warmupSteps, then constant */
  lrAt(step: number): number {
    const w = this.config.warmupSteps;
    return w > 0 && step < w ? (this.config.lr * (step + 1)) / w : this.config.lr;
  }

  /** one step: rollout, advantages, μ updates. Returns the step's log line. */
  trainStep(): RLStepLog {
    const t0 = performance.now();
    const c = this.config;
    const full = this.rollout(this.step);
    const allAdv = grpoAdvantages(full.rewards, c.groupSize, c.algo === 'reinforce' ? 'none' : 'group');
    const { r, adv, scale } = withSignal(full, allAdv, c.beta, c.lossType);
    const refLogp = c.beta > 0 ? rolloutLogProbsData(this.reference!, r, c.temperature) : undefined;
    const oldLogp = c.iterations > 1 ? rolloutLogProbsData(this.policy, r, c.temperature) : undefined;
    let kl = 0, clip = 0, loss = 0;
    this.policy.train();
    for (let it = 0; it < c.iterations; it++) {
      const res = optimizationStep(this.trainable, this.optimizer, this.lrAt(this.step), c.gradClip, () => {
        const out = grpoLoss(rolloutLogProbs(this.policy, r, c.temperature).logp, {
          advantages: adv, mask: r.mask, oldLogp, refLogp, beta: c.beta, epsilon: c.epsilon, lossType: c.lossType, maxCompletionLength: c.maxNewTokens,
        });
        kl = out.kl;
        clip = out.clipRatio;
        return scale === 1 ? out.loss : mul(out.loss, scale);
      }, (l) => new Error(`grpo: loss became ${l} at step ${this.step + 1}`));
      loss = res.loss;
    }
    this.step++;
    const mean = full.rewards.reduce((s, v) => s + v, 0) / full.B;
    const std = Math.sqrt(full.rewards.reduce((s, v) => s + (v - mean) ** 2, 0) / full.B);
    const length = full.lengths.reduce((s, v) => s + v, 0) / full.B;
    return { step: this.step, reward: mean, rewardStd: std, kl, clipRatio: clip, loss, length, trainedRows: r.B / full.B, seconds: (performance.now() - t0) / 1000 };
  }
}

/** Σ of a 0/1 mask over rows [from, to) of width T */
function maskSum(mask: Float32Array, T: number, rows: readonly number[]): number {
  let n = 0;
  for (const b of rows) for (let t = 0; t < T; t++) n += mask[b * T + t];
  return n;
}

/**
 * The rows that carry a gradient (advantage ≠ 0; all of them when β > 0, whose KL term every row has), at least
 * one, and the factor that makes the loss over them equal the loss over all B rows for the loss type:
 * 'grpo' averages over rows and 'dr_grpo' divides by B (factor kept/B); 'bnpo' and 'dapo' divide by the
 * completion tokens (factor kept tokens / all tokens).
 */
export function withSignal(r: Rollout, adv: Float32Array, beta: number, lossType: GRPOLossType): { r: Rollout; adv: Float32Array; scale: number } {
  if (beta > 0) return { r, adv, scale: 1 };
  let rows = [...adv.keys()].filter((b) => adv[b] !== 0);
  if (rows.length === r.B) return { r, adv, scale: 1 };
  if (!rows.length) rows = [0];
  const scale = lossType === 'grpo' || lossType === 'dr_grpo' ? rows.length / r.B : maskSum(r.mask, r.T, rows) / Math.max(maskSum(r.mask, r.T, [...adv.keys()]), 1);
  return { r: selectRows(r, rows), adv: Float32Array.from(rows, (b) => adv[b]), scale };
}
