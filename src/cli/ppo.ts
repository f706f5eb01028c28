// gptlab ppo: RLHF with PPO — rollouts from the chat policy, a reward model (or the rule-based reward, or a
// user's FILE.mjs), a per-token KL penalty to the starting policy (fixed β or adaptive to --target-kl), a value
// head, GAE, clipped surrogate and value losses over several epochs of minibatches.
import { givenOrOwn, helpText, parseArgs, UsageError, type OptTable, SEED_RANGE } from './args.js';
import { OPTIMIZER_OPTS, optimizerOptions } from './optimizer-flags.js';
import { BACKEND_OPTS, maybeHelp, setupBackend } from './common.js';
import { ADAPT_OPTS, adaptOptions } from './lora.js';
import { REWARD_FN_HELP, rewardFnSpec, rlConfig } from './grpo.js';
import { PPO_DEFAULTS, type PPOConfig } from '../align/ppo-trainer.js';
import { MAX_ROLLOUTS } from '../align/grpo-trainer.js';
import { ruleWithData, runPPOJob } from '../align/ppo-job.node.js';
import { EVAL_INTERVAL_DEFAULT, EVAL_PROMPTS_DEFAULT } from '../align/grpo-job.node.js';
import { registerRewardModelType } from '../align/reward-type.js';
import { MAX_EVAL_PROMPTS } from '../align/rl-eval.js';

const D = PPO_DEFAULTS;
const OPTS: OptTable = {
  policy: { type: 'string', help: 'the chat (SFT) checkpoint or run folder to train' },
  reward: { type: 'string', default: 'rule', help: 'a reward-model checkpoint/run folder (gptlab rm train), rule (the built-in rule-based reward), exact, last-number, format, exact+format, or FILE.mjs exporting a reward function (see below)' },
  rewardFn: { type: 'string', help: 'a reward function FILE.mjs, the same as --reward FILE.mjs (not both)' },
  data: { type: 'string', help: 'prompts JSONL {"prompt"|"messages", "answer"?…}; "answer" may be left out with a reward model or --reward format (default: built-in SFT-world questions)' },
  out: { type: 'string', default: 'runs/ppo', help: 'run folder' },
  steps: { type: 'int', default: D.steps, min: 1, help: 'PPO steps (each one rollout batch)' },
  batchSize: { type: 'int', default: D.batchSize, min: 1, max: MAX_ROLLOUTS, help: 'prompts per rollout' },
  miniBatchSize: { type: 'int', default: D.miniBatchSize, min: 1, max: MAX_ROLLOUTS, help: 'rows per update' },
  epochs: { type: 'int', default: D.epochs, min: 1, help: 'PPO epochs per rollout' },
  maxNewTokens: { type: 'int', default: D.maxNewTokens, min: 1, help: 'completion length limit' },
  temperature: { type: 'number', default: D.temperature, above: 0, help: 'sampling temperature' },
  lr: { type: 'number', default: D.lr, above: 0, help: 'learning rate' },
  klCoef: { type: 'number', default: D.klCoef, min: 0, help: 'β, the KL penalty coefficient (0 = none)' },
  targetKl: { type: 'number', default: D.targetKl, min: 0, help: 'adapt β towards this KL per sequence (0 = fixed β)' },
  cliprange: { type: 'number', default: D.cliprange, above: 0, help: 'policy ratio clip ε' },
  cliprangeValue: { type: 'number', default: D.cliprangeValue, above: 0, help: 'value clip' },
  vfCoef: { type: 'number', default: D.vfCoef, min: 0, help: 'value loss weight' },
  vfLrScale: { type: 'number', default: D.vfLrScale, above: 0, help: "the value head's learning rate as a multiple of --lr (1 = one rate, as TRL)" },
  gamma: { type: 'number', default: D.gamma, min: 0, max: 1, help: 'discount' },
  lam: { type: 'number', default: D.lam, min: 0, max: 1, help: 'GAE λ' },
  gradClip: { type: 'number', default: D.gradClip, min: 0, help: 'gradient norm clip' },
  evalInterval: { type: 'int', default: EVAL_INTERVAL_DEFAULT, min: 1, help: 'held-out evaluation and checkpoint every N steps' },
  evalPrompts: { type: 'int', default: EVAL_PROMPTS_DEFAULT, min: 1, max: MAX_EVAL_PROMPTS, help: 'held-out prompts' },
  evalSamples: { type: 'int', default: 0, min: 0, max: 64, help: `held-out completions per prompt: 0 = one greedy, K = K sampled at --temperature (as TRL samples its evaluation); K × --eval-prompts at most ${MAX_EVAL_PROMPTS}` },
  seed: { type: 'int', ...SEED_RANGE, default: D.seed, help: 'random seed' },
  resume: { type: 'bool', help: 'continue the run in --out' },
  force: { type: 'bool', help: 'overwrite a run already in --out' },
  ...ADAPT_OPTS,
  ...OPTIMIZER_OPTS,
  ...BACKEND_OPTS,
};

const KEYS = ['steps', 'batchSize', 'miniBatchSize', 'epochs', 'maxNewTokens', 'temperature', 'lr', 'klCoef', 'targetKl', 'cliprange', 'cliprangeValue', 'vfCoef', 'vfLrScale', 'gamma', 'lam', 'gradClip', 'seed'] as const;

export async function ppoCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'ppo');
  if (maybeHelp(o, () => `${helpText('ppo', 'PPO from a reward model, the rule-based reward or a reward function', OPTS, 'gptlab ppo --policy CKPT --reward RM|rule|FILE.mjs --out DIR')}\n\n${REWARD_FN_HELP}`)) return 0;
  if (!o.policy && !o.resume) throw new UsageError('ppo: give --policy CHECKPOINT (a chat model, e.g. runs/chat from gptlab sft)');
  if (o._given.has('miniBatchSize') && !o.resume && (o.miniBatchSize as number) > (o.batchSize as number)) {
    throw new UsageError(`ppo: --mini-batch-size ${o.miniBatchSize as number} is above --batch-size ${o.batchSize as number}: a step's rollouts are split into minibatches of at most that many`);
  }
  // a resumed run keeps its own reward unless one is given now
  const reward = rewardFnSpec(o, 'ppo') ?? (givenOrOwn(o, 'reward') as string | undefined);
  if (reward === 'rule' && o.data) throw new UsageError(ruleWithData(o._given.has('reward') ? '' : ' (the default)'));
  const adapt = adaptOptions(o, 'ppo');
  process.stdout.write(`backend: ${await setupBackend(o)}\n`);
  registerRewardModelType();
  const res = await runPPOJob({
    policy: o.policy as string | undefined, data: o.data as string | undefined, reward, out: o.out as string, resume: !!o.resume, force: !!o.force,
    config: { ...rlConfig(o, KEYS), ...optimizerOptions(o, 'ppo') } as Partial<PPOConfig>, evalInterval: givenOrOwn(o, 'evalInterval') as number | undefined, evalPrompts: givenOrOwn(o, 'evalPrompts') as number | undefined,
    evalSamples: givenOrOwn(o, 'evalSamples') as number | undefined, adapt,
  });
  return res.outcome === 'interrupted' ? 130 : 0;
}
