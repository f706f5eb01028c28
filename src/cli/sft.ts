// gptlab sft: continue a pretrained checkpoint on chat data (or the built-in Q&A set), loss on assistant
// tokens only; reports held-out accuracy before and after on the built-in set. Resumable with --resume.
// --lora-r trains LoRA adapters (and the new chat tokens' rows) instead of all weights; --freeze freezes by glob.
import { givenOrOwn, helpText, parseArgs, UsageError, type OptTable, type ParsedArgs, SEED_RANGE } from './args.js';
import { OPTIMIZER_OPTS, optimizerOptions } from './optimizer-flags.js';
import { BACKEND_OPTS, maybeHelp, setupBackend } from './common.js';
import { runSftJob, SFT_DEFAULTS, SFT_LORA, SFT_LORA_DEFAULTS, SFT_SPLIT } from '../train/sft-job.node.js';
import { ADAPT_OPTS, adaptOptions, LORAPLUS_OPTS, MAX_FINETUNE_BATCH, minLrProblem, TRAIN_KEYS, trainRange } from './lora.js';
import type { TrainConfig } from '../train/trainer.js';

const D = SFT_DEFAULTS;
const OPTS: OptTable = {
  base: { type: 'string', help: 'pretrained checkpoint, run folder (e.g. runs/demo) or Hugging Face folder (gpt2, llama)' },
  data: { type: 'string', help: 'chat data: JSON or JSONL conversations of {role, content} messages (default: built-in Q&A)' },
  out: { type: 'string', default: 'runs/chat', help: 'run folder for the fine-tuned model' },
  resume: { type: 'bool', help: 'continue the run in --out from its last checkpoint (same trajectory)' },
  force: { type: 'bool', help: 'overwrite a run already in --out' },
  devFraction: { type: 'number', default: SFT_SPLIT.devFraction, min: 0, below: 1, help: 'share of --data conversations held out for dev loss' },
  evalExamples: { type: 'int', default: SFT_SPLIT.evalExamples, min: 0, help: 'held-out questions for the accuracy check (built-in set)' },
  bareAnswers: { type: 'number', default: 0, min: 0, max: 1, help: 'built-in set: share of its conversations that also appear with the bare answer ("47" for "12+35=47."), so the chat model writes and reads both forms; a reward model trained from it judges bare answers (0.3 with 5000 steps: see README)' },
  maxIters: { type: 'int', default: D.maxIters, ...trainRange('maxIters'), help: 'training steps' },
  batchSize: { type: 'int', default: D.batchSize, ...trainRange('batchSize'), max: MAX_FINETUNE_BATCH, help: 'conversations per step' },
  lr: { type: 'number', default: D.lr, ...trainRange('lr'), help: `peak learning rate (with --lora-r: ${SFT_LORA_DEFAULTS.lr})` },
  minLr: { type: 'number', default: D.minLr, ...trainRange('minLr'), help: `final learning rate (with --lora-r: ${SFT_LORA_DEFAULTS.minLr})` },
  warmupIters: { type: 'int', default: D.warmupIters, ...trainRange('warmupIters'), help: 'warmup steps' },
  weightDecay: { type: 'number', default: D.weightDecay, ...trainRange('weightDecay'), help: `weight decay, decoupled for adamw and muon, L2 for the others (with --lora-r: ${SFT_LORA_DEFAULTS.weightDecay})` },
  gradClip: { type: 'number', default: D.gradClip, ...trainRange('gradClip'), help: 'gradient norm clip (0 = off)' },
  evalInterval: { type: 'int', default: D.evalInterval, ...trainRange('evalInterval'), help: 'dev loss and checkpoint every N steps' },
  patience: { type: 'int', default: D.patience, ...trainRange('patience'), help: 'early stopping patience in evaluations (0 = off)' },
  seed: { type: 'int', ...SEED_RANGE, default: D.seed, help: 'random seed' },
  ...OPTIMIZER_OPTS,
  ...ADAPT_OPTS,
  ...LORAPLUS_OPTS,
  loraTargets: { ...ADAPT_OPTS.loraTargets, default: SFT_LORA.targets.join(','), help: 'comma-separated module names to adapt (PEFT target_modules); all-linear: every Linear layer of the blocks' },
  loraNewTokens: { type: 'bool', default: true, help: 'with --lora-r, also train the rows of the tokens SFT adds to the vocabulary (PEFT trainable_token_indices); --no-lora-new-tokens leaves them frozen' },
  ...BACKEND_OPTS,
};

/** the training options; a resumed run keeps its own and takes only those given now; LoRA has its own defaults */
function trainOptions(o: ParsedArgs, lora: boolean): Partial<TrainConfig> {
  // with LoRA the default lr is LoRA's own, so only a given --lr is compared
  const minLr = minLrProblem(o, o._given.has('lr'));
  if (minLr) throw new UsageError(`sft: ${minLr}`);
  const train: Record<string, unknown> = {};
  for (const k of TRAIN_KEYS) {
    if (!o._given.has(k) && (o.resume || (lora && k in SFT_LORA_DEFAULTS))) continue;
    if (o[k] !== undefined) train[k] = o[k];
  }
  return { ...(train as Partial<TrainConfig>), ...optimizerOptions(o, 'sft') };
}

export async function sftCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'sft');
  if (maybeHelp(o, () => helpText('sft', 'supervised fine-tuning on chat data', OPTS, 'gptlab sft --base CKPT [--data FILE] --out DIR | gptlab sft --out DIR --resume'))) return 0;
  if (!o.base && !o.resume) throw new UsageError('sft: give --base CHECKPOINT (a pretrained model, e.g. runs/demo from gptlab train --demo)');
  const adapt = adaptOptions(o, 'sft');
  // the lr a new run starts from when --lr is not given: SFT's default, or LoRA's
  const lrNow = o._given.has('lr') ? (o.lr as number) : o.resume ? undefined : adapt?.lora ? SFT_LORA_DEFAULTS.lr : D.lr;
  if (o._given.has('minLr') && lrNow !== undefined && (o.minLr as number) > lrNow) {
    throw new UsageError(`sft: --min-lr ${o.minLr as number} is above --lr ${lrNow}; the schedule decays from --lr down to --min-lr`);
  }
  process.stdout.write(`backend: ${await setupBackend(o)}\n`);
  const res = await runSftJob({
    base: o.base as string | undefined, data: o.data as string | undefined, out: o.out as string, resume: !!o.resume, force: !!o.force,
    // a resumed run keeps its own split unless given now
    devFraction: givenOrOwn(o, 'devFraction') as number | undefined, evalExamples: givenOrOwn(o, 'evalExamples') as number | undefined,
    bareAnswers: givenOrOwn(o, 'bareAnswers') as number | undefined, train: trainOptions(o, !!adapt?.lora), adapt, trainNewTokens: o.loraNewTokens !== false,
  });
  return res.outcome === 'interrupted' ? res.exitCode ?? 130 : 0;
}
