// gptlab grpo: reinforcement learning of a chat policy from a verifiable reward — GRPO (group-relative
// advantages, clipped ratio, optional KL to the starting policy) or REINFORCE (--algo reinforce), with
// rollouts on the batched, KV-cached generation core. Reports held-out exact match per kind before/after.
import { givenOrOwn, helpText, parseArgs, UsageError, type OptTable, type ParsedArgs, SEED_RANGE } from './args.js';
import { OPTIMIZER_OPTS, optimizerOptions } from './optimizer-flags.js';
import { BACKEND_OPTS, maybeHelp, setupBackend } from './common.js';
import { ADAPT_OPTS, adaptOptions } from './lora.js';
import { checkGRPOConfig, GRPO_DEFAULTS, MAX_ROLLOUTS, type GRPOConfig } from '../align/grpo-trainer.js';
import { EVAL_INTERVAL_DEFAULT, EVAL_PROMPTS_DEFAULT, runGRPOJob } from '../align/grpo-job.node.js';
import { resolveReward } from '../align/reward-module.node.js';
import { registerRewardModelType } from '../align/reward-type.js';
import { MAX_EVAL_PROMPTS } from '../align/rl-eval.js';

const D = GRPO_DEFAULTS;
const OPTS: OptTable = {
  policy: { type: 'string', help: 'the chat (SFT) checkpoint or run folder to train' },
  data: { type: 'string', help: 'prompts JSONL: {"prompt"|"messages", "answer", "kind"?} (default: built-in arithmetic)' },
  out: { type: 'string', default: 'runs/grpo', help: 'run folder' },
  algo: { type: 'string', default: D.algo, choices: ['grpo', 'reinforce'], help: 'grpo (group-normalised advantages, clipped ratio) or reinforce (group-mean baseline)' },
  reward: { type: 'string', help: 'exact (±1 on the final answer), last-number (1/0), format, exact+format, rule (the rule-based reward on the built-in SFT-world questions), or FILE.mjs exporting a reward function (see below) (default: last-number on the built-in set, exact with --data)' },
  rewardFn: { type: 'string', help: 'a reward function FILE.mjs, the same as --reward FILE.mjs (as in ppo)' },
  groupSize: { type: 'int', default: D.groupSize, min: 2, max: MAX_ROLLOUTS, help: 'completions per prompt, G' },
  promptsPerStep: { type: 'int', default: D.promptsPerStep, min: 1, max: MAX_ROLLOUTS, help: 'prompts per step' },
  steps: { type: 'int', default: D.steps, min: 1, help: 'training steps' },
  maxNewTokens: { type: 'int', default: D.maxNewTokens, min: 1, help: 'completion length limit' },
  temperature: { type: 'number', default: D.temperature, above: 0, help: 'sampling temperature of the rollouts' },
  lr: { type: 'number', default: D.lr, above: 0, help: 'learning rate (AdamW)' },
  warmupSteps: { type: 'int', default: D.warmupSteps, min: 0, help: 'steps of linear learning-rate warmup to --lr (0: none)' },
  beta: { type: 'number', default: D.beta, min: 0, help: 'KL coefficient to the starting policy (0: no reference)' },
  epsilon: { type: 'number', default: D.epsilon, above: 0, below: 1, help: 'clip range of the ratio' },
  iterations: { type: 'int', default: D.iterations, min: 1, help: 'optimizer steps per rollout (μ)' },
  lossType: { type: 'string', default: D.lossType, choices: ['grpo', 'bnpo', 'dr_grpo', 'dapo'], help: 'grpo, bnpo, dr_grpo or dapo (TRL\'s loss_type)' },
  gradClip: { type: 'number', default: D.gradClip, min: 0, help: 'gradient norm clip' },
  evalInterval: { type: 'int', default: EVAL_INTERVAL_DEFAULT, min: 1, help: 'held-out evaluation and checkpoint every N steps' },
  evalPrompts: { type: 'int', default: EVAL_PROMPTS_DEFAULT, min: 1, max: MAX_EVAL_PROMPTS, help: 'held-out prompts' },
  coldStart: { type: 'int', default: 200, min: 0, help: 'cold start on the built-in arithmetic: SFT steps on worked solutions of the training questions before RL (0: none; ignored with --data, --reward rule and --resume)' },
  maxMinutes: { type: 'number', above: 0, max: 10_000, help: 'wall-clock budget for the whole run in minutes (cold start, evaluations, steps): no step starts that would not leave time for the final held-out evaluation (default: none, --steps bounds it)' },
  seed: { type: 'int', ...SEED_RANGE, default: D.seed, help: 'random seed' },
  resume: { type: 'bool', help: 'continue the run in --out' },
  force: { type: 'bool', help: 'overwrite a run already in --out' },
  ...ADAPT_OPTS,
  ...OPTIMIZER_OPTS,
  ...BACKEND_OPTS,
};

/** the reward-function file's contract, shown by grpo --help and ppo --help */
export const REWARD_FN_HELP = [
  'reward function (FILE.mjs through --reward or --reward-fn): its default export (or an export named reward) is called',
  'once per completion as reward(completion, { prompt, answer, kind }) and must return a finite number synchronously',
  '(an async function or a Promise is refused); prompt: the chat messages [{ role, content }, …]; answer, kind: the',
  'prompt record\'s fields (--data JSONL, or the built-in questions). A throw or NaN stops the run. For example:',
  '',
  '  // my-reward.mjs',
  '  export default function reward(completion, { answer }) {',
  '    return completion.trim() === answer ? 1 : -1;',
  '  }',
].join('\n');

/** --reward-fn FILE.mjs: a module file, and not together with a --reward given too (exit 2) */
export function rewardFnSpec(o: ParsedArgs, command: string): string | undefined {
  const fn = o.rewardFn as string | undefined;
  if (fn === undefined) return undefined;
  if (o._given.has('reward')) throw new UsageError(`${command}: --reward ${String(o.reward)} and --reward-fn ${fn} both name the reward; give one of them`);
  if (!/\.(m?js|cjs)$/.test(fn)) throw new UsageError(`${command}: --reward-fn takes a JavaScript module (FILE.mjs, .js or .cjs), got "${fn}"; a reward by name or a reward model goes through --reward`);
  return fn;
}

const CONFIG_KEYS = ['algo', 'groupSize', 'promptsPerStep', 'steps', 'maxNewTokens', 'temperature', 'lr', 'warmupSteps', 'beta', 'epsilon', 'iterations', 'lossType', 'gradClip', 'seed'] as const;

/** the loop's settings given (all of them for a new run; those set now for a resumed one) */
export function rlConfig<K extends string>(o: ParsedArgs, keys: readonly K[]): Record<K, unknown> {
  const c: Record<string, unknown> = {};
  for (const k of keys) if (!o.resume || o._given.has(k)) c[k] = o[k];
  return c as Record<K, unknown>;
}

export async function grpoCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'grpo');
  if (maybeHelp(o, () => `${helpText('grpo', 'GRPO / REINFORCE from a verifiable reward', OPTS, 'gptlab grpo --policy CKPT [--data prompts.jsonl] [--reward NAME|FILE.mjs] --group-size 8 --out DIR')}\n\n${REWARD_FN_HELP}`)) return 0;
  if (!o.policy && !o.resume) throw new UsageError('grpo: give --policy CHECKPOINT (a chat model, e.g. runs/chat from gptlab sft)');
  if (!o.resume) checkGRPOConfig({ ...GRPO_DEFAULTS, ...rlConfig(o, CONFIG_KEYS) } as GRPOConfig); // a resumed run's are checked with its own
  const fnSpec = rewardFnSpec(o, 'grpo');
  const spec = fnSpec ?? (o.reward as string | undefined) ?? (o.data ? 'exact' : 'last-number');
  if (spec === 'rule' && o.data) throw new UsageError('grpo: --reward rule scores the built-in SFT-world questions; with --data give exact, last-number, format or FILE.mjs');
  const reward = spec === 'rule' ? { fn: () => 0, name: 'rule' } : await resolveReward(spec).catch((e: Error) => {
    const line = `grpo: ${fnSpec ? '--reward-fn' : '--reward'}: ${e.message}`;
    throw e instanceof UsageError ? new UsageError(line) : new Error(line); // an unknown name is a flag problem; a module that fails, a file problem
  });
  const adapt = adaptOptions(o, 'grpo');
  process.stdout.write(`backend: ${await setupBackend(o)}\n`);
  registerRewardModelType();
  // a resumed run keeps its own reward unless one is given now (the job resolves it)
  const given = !o.resume || o._given.has('reward') || fnSpec !== undefined;
  if (given) process.stdout.write(`reward: ${reward.name}\n`);
  const ignored = o.data ? '--data' : spec === 'rule' ? '--reward rule' : o.resume ? '--resume' : null;
  if (o._given.has('coldStart') && (o.coldStart as number) > 0 && ignored) process.stdout.write(`note: --cold-start trains on the built-in arithmetic before RL; with ${ignored} it is skipped\n`);
  const res = await runGRPOJob({
    policy: o.policy as string | undefined, data: o.data as string | undefined, out: o.out as string, resume: !!o.resume, force: !!o.force,
    config: { ...rlConfig(o, CONFIG_KEYS), ...optimizerOptions(o, 'grpo') } as Partial<GRPOConfig>, ...(given ? { reward: reward.fn, rewardName: reward.name } : {}),
    evalInterval: givenOrOwn(o, 'evalInterval') as number | undefined, evalPrompts: givenOrOwn(o, 'evalPrompts') as number | undefined, adapt,
    coldStart: o.data || spec === 'rule' ? 0 : (o.coldStart as number),
    ...(o.maxMinutes !== undefined ? { maxMinutes: o.maxMinutes as number } : {}),
  });
  return res.outcome === 'interrupted' ? 130 : 0;
}
