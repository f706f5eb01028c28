// A GRPO / REINFORCE job on disk (`gptlab grpo`): a chat policy checkpoint, verifiable prompts (a JSONL file
// or the built-in arithmetic set), a reward by name or from a user's module, the frozen reference (when
// β > 0), the GRPOTrainer driven into a run folder (src/align/rl-job.node.ts), and held-out exact-match
// accuracy per kind of question before and after. On the built-in arithmetic the policy first gets a short
// cold-start SFT on worked solutions of the training questions (src/align/cold-start.ts), saved as
// <out>/start: "before" is measured on that model, the one RL starts from.
import { counted } from '../data/jsonl.js';
import { refuseCountedModel } from '../train/model-kinds.js';
import path from 'node:path';
import type { LanguageModel } from '../models/model.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { skippedLines } from '../data/chat.js';
import { parseVerifiableData, type VerifiablePrompt } from '../data/verifiable.js';
import { allArithmeticQuestions, arithmeticPrompt, splitArithmetic, workedSolutionChats } from '../data/arithmetic.js';
import type { ChatMessage } from '../data/chat.js';
import { readTextFile } from '../formats/text-file.node.js';
import { checkpointFiles } from '../train/checkpoint.js';
import { saveCheckpoint } from '../train/checkpoint.node.js';
import { coldStart } from './cold-start.js';
import { checkStepLimit, resumeChangeNotes } from '../train/trainer.js';
import { UsageError } from '../usage-error.js';
import { resolveReward, sameReward } from './reward-module.node.js';
import { withChatVocabulary } from '../train/chat-vocabulary.js';
import { checkRunKind, checkSameInput, namingData, recordedInput, recordedPath, resumeDataNote, RunFolder, StopSignal } from '../train/run-folder.node.js';
import { fitPrompts } from './rollout.js';
import { checkGRPOConfig, GRPO_DEFAULTS, GRPOTrainer, type GRPOConfig, type RLStepLog } from './grpo-trainer.js';
import { runRLLoop, type RLRunResult } from './rl-job.node.js';
import { evaluatePolicy, byKindLine, gainLine, noHeldOutNote, droppedPromptsNote, longCompletionNote, checkBuiltinPrompts, type RewardEval } from './rl-eval.js';
import { cloneModel } from './clone.js';
import { hasLora, mergedCopy, adaptModel, checkAdaptOptions, type AdaptOptions } from './adapt.js';
import { loadAnyCheckpoint, saveLoraOutputs } from './lora-checkpoint.node.js';
import { ruleRewardPrompts } from './reward-sources.js';
import { defaultSftData } from '../data/sft-default.js';
import { RULE_WEIGHTS } from '../data/rule-reward.js';
import type { RewardFn } from './rewards.js';
import { checkResumedOptimizer, type OptimizerConfig } from '../train/resumed-optimizer.js';

export interface GRPOJob {
  policy?: string;
  data?: string;
  out: string;
  resume: boolean;
  force?: boolean;
  config: Partial<GRPOConfig>;
  /**
   * the reward function and its name (the --reward spec, recorded in the run); absent only when resuming: the
   * run's own. A resumed run given another one refuses it.
   */
  reward?: RewardFn;
  rewardName?: string;
  /** held-out evaluation and checkpoint every N steps; a resumed run's own when absent (new runs: 10) */
  evalInterval?: number;
  /** held-out prompts for the accuracy report (built-in set: 100); a resumed run's own when absent */
  evalPrompts?: number;
  /** cold-start SFT steps on the built-in arithmetic's worked solutions before RL (0 or absent: none) */
  coldStart?: number;
  /**
   * wall-clock budget for the whole job in minutes (cold start, evaluations and RL steps): the loop starts
   * no step that would not leave time for the final evaluation; absent: only `steps` bounds it
   */
  maxMinutes?: number;
  adapt?: AdaptOptions;
  quiet?: boolean;
}

/** held-out prompts generated together (one batch on the generation core: the built-in 100 at once) */
const EVAL_BATCH = 100;

/** prompts to train on and to hold out, with the cold start's worked solutions where the data has them */
export interface PromptSets {
  train: VerifiablePrompt[];
  dev: VerifiablePrompt[];
  reward?: RewardFn;
  coldStart?: { messages: ChatMessage[] }[];
}

/** what a prompt file's "answer" is to the reward: optional (a reward model reads none), or needed by `neededBy` (a missing one is refused in one line) */
export interface PromptAnswers {
  optional?: boolean;
  neededBy?: string;
}

/**
 * training and held-out prompts: a file (first evalPrompts held out) or the built-in arithmetic, split by
 * question (no held-out question is trained on, in RL or in the cold start)
 */
export function loadPrompts(file: string | undefined, nEval: number, log: (l: string) => void, answers: PromptAnswers = {}): PromptSets {
  if (!file) {
    const total = allArithmeticQuestions().length;
    if (nEval >= total) throw new UsageError(`--eval-prompts ${nEval}: the built-in arithmetic has ${total} questions; hold out fewer (at most ${total - 1}), so some are left to train on`);
    const s = splitArithmetic({ seed: 1, heldOut: nEval });
    log(`data: built-in arithmetic (sums and differences of 0..20): ${s.train.length} training questions, ${s.dev.length} held out (none of them trained on)`);
    return { train: s.train.map(arithmeticPrompt), dev: s.dev.map(arithmeticPrompt), coldStart: workedSolutionChats(s.train) };
  }
  const parsed = parseVerifiableData(readTextFile(file, 'prompt file'), file, { answerOptional: answers.optional });
  const noAnswer = answers.neededBy ? parsed.errors.find((e) => e.field === 'answer' && e.message === 'missing') : undefined;
  if (noAnswer) throw new Error(`${noAnswer.file}:${noAnswer.line}: answer: missing; ${answers.neededBy} (prompt-only records need a reward model: --reward RM)`);
  for (const l of skippedLines(parsed.errors)) process.stderr.write(`${l}\n`);
  log(`data: ${file}: kept ${counted(parsed.summary.kept, 'prompt')}, skipped ${parsed.summary.skipped}`);
  if (!parsed.prompts.length) {
    const allNoAnswer = parsed.errors.length > 0 && parsed.errors.every((e) => e.field === 'answer' && e.message === 'missing');
    throw new Error(`${file}: no valid prompts to train on${allNoAnswer ? ' (no record has an "answer", which the verifiable rewards compare completions with)' : ''}`);
  }
  const n = Math.min(nEval, Math.floor(parsed.prompts.length / 5));
  if (n < nEval && n > 0) log(`note: ${n} of the ${parsed.prompts.length} prompts held out for evaluation (a fifth of the file at most; --eval-prompts ${nEval})`);
  return { dev: parsed.prompts.slice(0, n), train: parsed.prompts.slice(n) };
}

interface Policy {
  model: LanguageModel;
  tokenizer: Tokenizer;
  resume?: { step: number; history: RLStepLog[]; bestScore: number; moments: Map<string, Float32Array>; meta: Record<string, unknown> };
}

/**
 * The --policy a run started from, as its meta records it: grpo's `policy` (its `base`, the reference, is
 * <out>/start after a cold start), ppo's `base`. Undefined for a grpo run from before `policy` was recorded.
 */
export function startingPolicy(meta: Record<string, unknown>, command: string): unknown {
  return command === 'ppo' ? meta.base : meta.policy;
}

/**
 * The policy: the run's checkpoint when resuming (a --policy other than the one the run started from is
 * refused), else the given checkpoint (LoRA merged) with the chat vocabulary.
 */
export function loadPolicy(p: string | undefined, folder: RunFolder, resume: boolean, command: string): Policy {
  if (resume) {
    const ck = loadAnyCheckpoint(folder.checkpointDir, true);
    const st = ck.trainerState as unknown as { step: number; rlHistory?: RLStepLog[]; bestScore?: number | null } | undefined;
    if (!st || !ck.moments) throw new Error(`${folder.checkpointDir}: has no optimizer/trainer state, so it cannot resume`);
    checkRunKind(folder.dir, ck.model.type, ck.config.meta ?? {}, command);
    checkSameInput(command, '--policy', p, startingPolicy(ck.config.meta ?? {}, command));
    return { model: ck.model, tokenizer: ck.tokenizer, resume: { step: st.step, history: st.rlHistory ?? [], bestScore: st.bestScore ?? -Infinity, moments: ck.moments, meta: ck.config.meta ?? {} } };
  }
  if (!p) throw new Error(`${command}: give --policy CHECKPOINT (a chat model, e.g. runs/chat from gptlab sft)`);
  const ck = loadAnyCheckpoint(p);
  refuseCountedModel(ck.model.type, command, '--policy', p, 'a chat (SFT) model, e.g. runs/chat from gptlab sft');
  if (ck.model.type === 'reward') throw new Error(`${command}: --policy ${p} is a reward model (gptlab rm train), not a chat policy; give an SFT model (e.g. runs/chat)`);
  const plain = hasLora(ck.model) ? mergedCopy(ck.model) : ck.model;
  const { model, tokenizer } = withChatVocabulary(plain, ck.tokenizer, '', `${command}: --policy ${p}`);
  return { model, tokenizer };
}

/** held-out prompts when neither the flag nor the run says (the option's default) */
export const EVAL_PROMPTS_DEFAULT = 100;
/** held-out evaluation (and checkpoint) every this many steps, when not given */
export const EVAL_INTERVAL_DEFAULT = 10;

/** a run's held-out evaluation: prompts, interval (steps) and completions per prompt (0: one greedy; grpo always 0) */
export interface EvalSettings {
  evalPrompts: number;
  evalInterval: number;
  evalSamples: number;
}
/** the evaluation settings given now; absent ones are the run's own on resume, else the defaults */
export type EvalSettingsGiven = Partial<EvalSettings>;

/** new runs: the given settings or the defaults */
export function evalSettings(given: EvalSettingsGiven): EvalSettings {
  return { evalPrompts: given.evalPrompts ?? EVAL_PROMPTS_DEFAULT, evalInterval: given.evalInterval ?? EVAL_INTERVAL_DEFAULT, evalSamples: given.evalSamples ?? 0 };
}

/**
 * What a resumed RL run (grpo, ppo) says and checks before its data: a --steps below the run's step is refused
 * (exit 2), then `resuming <checkpoint> at step N` and a note for each setting given now that changes the run's
 * (the loop's config; --eval-prompts, whose change moves prompts between the held-out and training sets;
 * --eval-interval; ppo's --eval-samples). Returns the evaluation settings: each the one given, else the run's
 * recorded one, else the default (older runs recorded only --eval-prompts).
 */
export function resumeRL(folder: RunFolder, pol: Policy, given: { steps?: number } & OptimizerConfig, defaults: { steps: number }, evals: EvalSettingsGiven, log: (l: string) => void, command = 'grpo'): EvalSettings {
  const r = pol.resume!;
  const saved = (r.meta.rl as { steps?: number } & OptimizerConfig | undefined) ?? {};
  const steps = given.steps ?? saved.steps ?? defaults.steps;
  checkStepLimit('--steps', steps, r.step);
  const changed = checkResumedOptimizer(given, saved, command); // the run's own optimizer, or a refusal
  log(`resuming ${folder.checkpointDir} at step ${r.step}`);
  for (const note of resumeChangeNotes(saved, changed, defaults)) log(note);
  const setting = (key: keyof EvalSettings, flag: string, dflt: number, effect: string): number => {
    const had = typeof r.meta[key] === 'number' ? (r.meta[key] as number) : dflt, now = evals[key];
    if (now !== undefined && now !== had) log(`note: resuming with ${flag} ${had} → ${now} (given now)${effect}`);
    return now ?? had;
  };
  const incomparable = ', so held-out scores from here on (and best/) do not compare with earlier ones';
  return {
    evalPrompts: setting('evalPrompts', '--eval-prompts', EVAL_PROMPTS_DEFAULT, `: the held-out prompts change, and prompts move between them and the training set${incomparable}`),
    evalInterval: setting('evalInterval', '--eval-interval', EVAL_INTERVAL_DEFAULT, ''),
    evalSamples: setting('evalSamples', '--eval-samples', 0, `: the held-out completions are drawn another way${incomparable}`),
  };
}

/**
 * A resumed grpo run keeps the reward it was trained with (meta.reward: the --reward spec): another one given
 * now is refused in one line, as ppo does; none given resolves the run's own. Returns the job with its reward.
 */
async function resumedReward(job: GRPOJob, meta: Record<string, unknown>, log: (l: string) => void): Promise<GRPOJob> {
  const recorded = meta.reward;
  if (typeof recorded !== 'string' || (job.rewardName !== undefined && sameReward(job.rewardName, recorded))) return job;
  if (job.rewardName !== undefined) throw new UsageError(`grpo --resume: the run was trained with the reward ${recorded}; ${job.rewardName} (--reward or --reward-fn) cannot change it (start a new run)`);
  const fn = recorded === 'rule' ? (): number => 0 : (await resolveReward(recorded)).fn;
  log(`reward: ${recorded} (the run's own)`);
  return { ...job, reward: fn, rewardName: recorded };
}

/**
 * What the share of held-out completions with a positive reward measures: the right answer for the rewards that
 * score it (exact, last-number, exact+format; the rule reward counts its correctness part), else only that share.
 */
export function heldOutMetric(rewardName: string): string {
  return ['exact', 'last-number', 'exact+format', 'rule'].includes(rewardName) ? 'exact match' : 'share with reward > 0';
}

function report(label: string, e: RewardEval, metric: string, log: (l: string) => void): void {
  log(`held-out ${metric} ${label}: ${(100 * e.accuracy).toFixed(1)}% (${byKindLine(e)}), mean reward ${e.meanReward.toFixed(3)}`);
}

/** the built-in SFT-world questions with the rule-based reward (right answer +1, format +0.5, sentence +0.25) */
function ruleQuestions(nEval: number, log: (l: string) => void): { train: VerifiablePrompt[]; dev: VerifiablePrompt[]; reward: RewardFn } {
  const sft = defaultSftData({ seed: 1, trainSize: 1000, heldOutSize: nEval });
  const tr = ruleRewardPrompts(sft.train), dv = ruleRewardPrompts(sft.heldOut);
  log(`data: built-in SFT-world questions with the rule-based reward: ${tr.prompts.length} train, ${dv.prompts.length} held out (right = the answer is correct)`);
  const reward: RewardFn = (c, it) => (tr.prompts.includes(it) ? tr.reward(c, it) : dv.reward(c, it));
  return { train: tr.prompts, dev: dv.prompts, reward };
}

/** what runGRPOJob returns: the loop's result, held-out accuracy before and after RL (absent without held-out prompts), and the loop's CPU time */
export type GRPOJobResult = RLRunResult & { before?: RewardEval; after?: RewardEval; cpuSeconds: number };

/** Runs a GRPO / REINFORCE job; returns the loop's result and the held-out accuracy before and after. */
export async function runGRPOJob(job: GRPOJob, log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<GRPOJobResult> {
  const t0 = performance.now();
  const folder = new RunFolder(job.out, true, { resume: job.resume, force: job.force, inputs: [job.policy, job.data], command: 'grpo' });
  const pol = loadPolicy(job.policy, folder, job.resume, 'grpo');
  if (!pol.resume) checkAdaptOptions(pol.model, job.adapt); // before the cold start
  if (pol.resume) job = await resumedReward(job, pol.resume.meta, log);
  if (!job.reward || job.rewardName === undefined) throw new UsageError('grpo: give a reward (--reward exact, last-number, format, rule or FILE.mjs)');
  const { rewardName, reward: given } = job;
  const config = { ...(pol.resume?.meta.rl as Partial<GRPOConfig> | undefined), ...job.config };
  checkGRPOConfig({ ...GRPO_DEFAULTS, ...config }); // before the data, the cold start and the first evaluation
  const { evalPrompts, evalInterval } = pol.resume ? resumeRL(folder, pol, job.config, GRPO_DEFAULTS, job, log) : evalSettings(job);
  job = { ...job, evalPrompts, evalInterval };
  const recorded = pol.resume?.meta.data;
  const rule = rewardName === 'rule';
  if (rule && (job.data || (typeof recorded === 'string' && recorded !== 'built-in'))) throw new Error('grpo: --reward rule scores the built-in SFT-world questions; with --data give exact, last-number, format or FILE.mjs');
  const dataFile = rule ? undefined : job.data ?? (typeof recorded === 'string' && recorded !== 'built-in' ? recordedInput(recorded) : undefined);
  const dataNote = pol.resume ? resumeDataNote(recorded, job.data) : null;
  if (dataNote) log(dataNote);
  const all = rule ? ruleQuestions(evalPrompts, log) : loadPrompts(dataFile, evalPrompts, log);
  const reward = rule ? all.reward! : given;
  if (dataFile === undefined) checkBuiltinPrompts('grpo', rule ? 'the SFT-world questions' : 'the arithmetic questions', [...all.train, ...all.dev], pol.tokenizer, job.policy);
  const maxNew = config.maxNewTokens ?? GRPO_DEFAULTS.maxNewTokens;
  const long = longCompletionNote(maxNew, pol.model.contextLength);
  if (long) log(long);
  let base = job.policy;
  if (job.coldStart && !pol.resume) {
    const start = await runColdStart(pol, all, job, folder.dir, maxNew, reward, rewardName, log);
    if (start === null) return { outcome: 'interrupted', steps: 0, seconds: (performance.now() - t0) / 1000, history: [], evals: [], cpuSeconds: 0 };
    base = start;
  }
  const room = Math.min(config.maxNewTokens ?? GRPO_DEFAULTS.maxNewTokens, 16);
  const fit = (ps: VerifiablePrompt[]): ReturnType<typeof fitPrompts> => fitPrompts(ps, pol.tokenizer, pol.model.contextLength, room);
  const [tr, dv] = namingData('grpo', dataFile, job.data !== undefined, () => [fit(all.train), fit(all.dev)]);
  const dropped = droppedPromptsNote(tr, dv, room, pol.model.contextLength);
  if (dropped) log(dropped);
  const data = { train: tr.kept, dev: dv.kept };
  if (!data.dev.length) log(noHeldOutNote(dv));
  const reference = (config.beta ?? GRPO_DEFAULTS.beta) > 0 ? referenceFor(pol, log) : null;
  if (job.adapt && !pol.resume) log(adaptModel(pol.model, job.adapt));
  let last: { step: number; e: RewardEval } | undefined;
  const evalNow = (step: number): RewardEval => {
    if (last?.step !== step) last = { step, e: evaluatePolicy(pol.model, pol.tokenizer, data.dev, reward, maxNew, EVAL_BATCH, rewardName, rule ? RULE_WEIGHTS.correct : Number.MIN_VALUE) };
    return last.e;
  };
  const te = performance.now();
  const before = pol.resume || !data.dev.length ? undefined : evalNow(0);
  const evalSeconds = (performance.now() - te) / 1000;
  const metric = heldOutMetric(rewardName);
  if (before) report('before', before, metric, log);
  const trainer = new GRPOTrainer(pol.model, pol.tokenizer, data.train, reward, config, reference, rewardName);
  if (pol.resume) {
    trainer.optimizer.loadStateTensors(pol.resume.moments, trainer.nameOf, pol.resume.step);
    trainer.step = pol.resume.step;
  }
  const lora = job.adapt?.lora ?? pol.resume?.meta.lora;
  // policy: the --policy given, which base (the reference) is not after a cold start; --resume checks against it
  // (inputs recorded absolute, so the run resumes from any folder; a resumed run's as recorded)
  const policy = pol.resume ? pol.resume.meta.policy : job.policy !== undefined ? recordedPath(job.policy) : undefined;
  const meta = {
    base: pol.resume?.meta.base ?? (base !== undefined ? recordedPath(base) : undefined), ...(typeof policy === 'string' ? { policy } : {}),
    data: job.data !== undefined ? recordedPath(job.data) : pol.resume?.meta.data ?? 'built-in', reward: rewardName, evalPrompts, evalInterval, rl: trainer.config, ...(lora ? { lora } : {}) };
  const cpu0 = process.cpuUsage();
  const res = await runRLLoop({
    get step() { return trainer.step; }, set step(v) { trainer.step = v; }, optimizer: trainer.optimizer, nameOf: trainer.nameOf, rng: pol.model.rng,
    trainStep: () => trainer.trainStep(), modelFiles: (m) => checkpointFiles(pol.model, pol.tokenizer, { meta: { kind: trainer.config.algo, ...m } }),
  }, folder, {
    steps: trainer.config.steps, evalInterval, meta, label: trainer.config.algo, quiet: job.quiet, log, keepOnFailure: base !== job.policy,
    history: pol.resume?.history, bestScore: pol.resume?.bestScore,
    // kept free: the final evaluation, twice the first one's time on a shared machine, and the saves
    ...(job.maxMinutes !== undefined ? { deadline: t0 + job.maxMinutes * 60_000, reserveSeconds: 2 * evalSeconds + 2 } : {}),
    evaluate: (): Record<string, number> => {
      if (!data.dev.length) return {};
      const e = evalNow(trainer.step);
      return { score: e.accuracy, [metric]: e.accuracy, 'mean reward': e.meanReward };
    },
  });
  const cpu = process.cpuUsage(cpu0), cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const after = data.dev.length ? evalNow(trainer.step) : undefined;
  if (lora && res.steps > 0) saveLora(folder, log); // a resume with nothing to train writes nothing
  if (after) report('after', after, metric, log);
  if (before && after) log(`${trainer.config.algo}: held-out ${metric} ${gainLine(before, after)}; ${res.steps} steps in ${res.seconds.toFixed(0)} s (${cpuSeconds.toFixed(0)} CPU s, ${(res.steps / Math.max(cpuSeconds, 1e-9)).toFixed(2)} steps per CPU s); whole job ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return { ...res, before, after, cpuSeconds };
}

/**
 * The cold start on the built-in arithmetic: SFT on worked solutions, held-out accuracy before and after it,
 * the result saved as <out>/start (the reference and --resume's base). Returns that folder, or null when a
 * signal (Ctrl-C, SIGTERM) stopped it: nothing is saved then, as no run exists before RL begins.
 */
async function runColdStart(pol: Policy, all: PromptSets, job: GRPOJob, out: string, maxNew: number, reward: RewardFn, rewardName: string, log: (l: string) => void): Promise<string | null> {
  if (!all.coldStart) throw new Error('grpo: --cold-start trains on the built-in arithmetic\'s worked solutions; with --data or --reward rule give --cold-start 0');
  const given = evaluatePolicy(pol.model, pol.tokenizer, all.dev, reward, maxNew, 32, rewardName);
  const t0 = performance.now();
  const stop = new StopSignal(log, 'stopping the cold start at this step');
  const cs = await coldStart(pol.model, pol.tokenizer, all.coldStart, { steps: job.coldStart!, seed: job.config.seed, shouldStop: () => stop.requested })
    .finally(() => stop.release());
  if (cs.interrupted) {
    log(`grpo: interrupted during the cold start at step ${cs.step} of ${job.coldStart}; nothing saved (RL had not begun): run the command again to start over`);
    return null;
  }
  Object.assign(pol, { model: cs.model, tokenizer: cs.tokenizer });
  const dir = path.join(out, 'start');
  saveCheckpoint(dir, checkpointFiles(pol.model, pol.tokenizer, { meta: { kind: 'sft', base: job.policy !== undefined ? recordedPath(job.policy) : undefined, coldStartSteps: job.coldStart } }));
  log(`cold start: ${job.coldStart} SFT steps on worked solutions of the training questions (loss ${cs.loss.toFixed(3)}, ${((performance.now() - t0) / 1000).toFixed(0)} s); held-out ${heldOutMetric(rewardName)} of ${job.policy} as given: ${(100 * given.accuracy).toFixed(1)}% (${byKindLine(given)}); saved ${dir}`);
  return dir;
}

/** the frozen reference: the starting policy (a fresh run's copy, or the recorded base when resuming) */
function referenceFor(pol: Policy, log: (l: string) => void): LanguageModel {
  if (!pol.resume) return cloneModel(pol.model);
  const base = recordedInput(pol.resume.meta.base);
  if (base === undefined) throw new Error('grpo --resume: the run does not record its --policy, which the reference is');
  log(`reference policy: ${base}`);
  return loadPolicy(base, null as unknown as RunFolder, false, 'grpo').model;
}

/** a LoRA run's best policy as a PEFT adapter and a merged plain checkpoint in the run folder (grpo, ppo) */
export function saveLora(folder: RunFolder, log: (l: string) => void): void {
  if (!folder.save) return;
  const best = loadAnyCheckpoint(folder.bestDir);
  saveLoraOutputs(folder.dir, best.model, best.tokenizer, best.config.meta ?? {});
  log(`LoRA: adapter in ${folder.dir}/adapter (PEFT layout), merged policy in ${folder.dir}/merged`);
}
