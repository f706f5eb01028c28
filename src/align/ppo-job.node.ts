// A PPO job on disk (`gptlab ppo`): a chat policy, prompts (the built-in SFT-world questions, or a JSONL of
// prompt records), a reward (a reward-model checkpoint, `rule`, a named verifiable reward, or FILE.mjs), the
// frozen reference, the PPOTrainer in a run folder (src/align/rl-job.node.ts) with the value head saved beside
// the policy (value_head.safetensors), and the held-out mean reward before and after.
import fs from 'node:fs';
import path from 'node:path';
import type { LanguageModel } from '../models/model.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { defaultSftData } from '../data/sft-default.js';
import type { VerifiablePrompt } from '../data/verifiable.js';
import { readSafetensors, toFloat32, writeSafetensors } from '../formats/safetensors.js';
import { checkpointFiles } from '../train/checkpoint.js';
import { resolveCheckpointDir } from '../train/checkpoint.node.js';
import { namingData, recordedInput, recordedPath, resumeDataNote, RunFolder } from '../train/run-folder.node.js';
import { fitPrompts } from './rollout.js';
import { PPO_DEFAULTS, PPOTrainer, ValueHead, type PPOConfig } from './ppo-trainer.js';
import { runRLLoop, type RLRunResult } from './rl-job.node.js';
import { evaluatePolicy, byKindLine, noHeldOutNote, droppedPromptsNote, longCompletionNote, checkBuiltinPrompts, MAX_EVAL_PROMPTS, type RewardEval } from './rl-eval.js';
import { cloneModel } from './clone.js';
import { adaptModel, checkAdaptOptions, type AdaptOptions } from './adapt.js';
import { sameTokenizer } from '../tokenizers/tokenizer.js';
import { loadAnyCheckpoint } from './lora-checkpoint.node.js';
import { evalSettings, loadPolicy, loadPrompts, resumeRL, saveLora } from './grpo-job.node.js';
import { ruleRewardPrompts, rewardModelFn } from './reward-sources.js';
import { RewardModel } from './reward-model.js';
import { isRewardPath, resolveReward, sameReward } from './reward-module.node.js';
import type { RewardFn } from './rewards.js';
import { UsageError } from '../usage-error.js';

export interface PPOJob {
  policy?: string;
  data?: string;
  /** a reward-model folder, rule, exact, last-number or FILE.mjs; a resumed run's own when absent (new runs: rule) */
  reward?: string;
  out: string;
  resume: boolean;
  force?: boolean;
  config: Partial<PPOConfig>;
  /** held-out evaluation and checkpoint every N steps; a resumed run's own when absent (new runs: 10) */
  evalInterval?: number;
  /** held-out prompts; a resumed run's own when absent (new runs: 100) */
  evalPrompts?: number;
  /** held-out completions per prompt: 0 = one greedy, K = K sampled at the rollouts' temperature; a resumed run's own when absent (new runs: 0) */
  evalSamples?: number;
  adapt?: AdaptOptions;
  quiet?: boolean;
}

/** the refusal of the rule-based reward with --data (a flag clash, exit 2); `which` says where the rule came from */
export function ruleWithData(which = ''): string {
  return `ppo: --reward rule${which} scores the built-in SFT-world questions; with --data give a reward model, exact, last-number, format or FILE.mjs`;
}

/** prompts and the reward function for a job */
async function promptsAndReward(job: PPOJob & { evalPrompts: number }, tok: Tokenizer, log: (l: string) => void): Promise<{ train: VerifiablePrompt[]; dev: VerifiablePrompt[]; reward: RewardFn; name: string }> {
  const builtin = (): { train: VerifiablePrompt[]; dev: VerifiablePrompt[]; reward: RewardFn } => {
    const sft = defaultSftData({ seed: 1, trainSize: 1000, heldOutSize: job.evalPrompts });
    const tr = ruleRewardPrompts(sft.train), dv = ruleRewardPrompts(sft.heldOut);
    log(`data: built-in SFT-world questions: ${tr.prompts.length} train, ${dv.prompts.length} held out`);
    return { train: tr.prompts, dev: dv.prompts, reward: (c, it) => { try { return tr.reward(c, it); } catch { return dv.reward(c, it); } } };
  };
  const spec = job.reward ?? 'rule';
  if (spec === 'rule') {
    if (job.data) throw new UsageError(ruleWithData(job.resume ? ' (the run\'s reward)' : ''));
    return { ...builtin(), name: 'rule-based reward' };
  }
  const isCheckpoint = !/\.(m?js|cjs)$/.test(spec) && fs.existsSync(spec);
  let reward: RewardFn, name: string;
  if (isCheckpoint) {
    const ck = loadAnyCheckpoint(spec);
    if (!(ck.model instanceof RewardModel)) throw new Error(`${spec}: a ${ck.model.type} model, not a reward model (train one with gptlab rm train)`);
    if (ck.tokenizer.vocabSize !== tok.vocabSize) throw new Error(`${spec}: the reward model's vocabulary (${ck.tokenizer.vocabSize}) differs from the policy's (${tok.vocabSize})`);
    if (!sameTokenizer(ck.tokenizer, tok)) throw new Error(`${spec}: the reward model's tokenizer differs from the policy's (same size, other tokens or ids), so it would read the policy's ids as other text; train it from the policy's chat model (gptlab rm train --base …)`);
    reward = rewardModelFn(ck.model, tok);
    name = `reward model ${resolveCheckpointDir(spec)}`;
  } else ({ fn: reward, name } = await resolveReward(spec, 'a reward-model folder, rule, exact, last-number, format, exact+format or FILE.mjs'));
  // a reward model scores prompt + completion and the format reward the completion alone: neither reads "answer"
  const answers = isCheckpoint || spec === 'format' ? { optional: true } : { neededBy: /\.(m?js|cjs)$/.test(spec) ? `the reward function ${spec} is given each record's answer` : `--reward ${spec} compares each completion with its record's answer` };
  const data = job.data ? loadPrompts(job.data, job.evalPrompts, log, answers) : builtin();
  return { train: data.train, dev: data.dev, reward, name };
}

/** refuses more than MAX_EVAL_PROMPTS held-out completions per evaluation (a flag clash: UsageError) */
function checkEvalDraws(s: { evalPrompts: number; evalSamples: number }): void {
  const draws = s.evalSamples * s.evalPrompts;
  if (draws > MAX_EVAL_PROMPTS) throw new UsageError(`ppo: --eval-samples ${s.evalSamples} × --eval-prompts ${s.evalPrompts} is ${draws} completions at every evaluation, above ${MAX_EVAL_PROMPTS}: give fewer of either`);
}

/** the held-out sampled evaluation's seed: the same draws before, during and after training */
const EVAL_SEED = 20_240_901;

/** value_head.safetensors beside the policy's checkpoint files */
function valueHeadFile(h: ValueHead): Uint8Array {
  return writeSafetensors(Object.fromEntries(h.namedParameters().map(([n, p]) => [n, { dtype: 'F32' as const, shape: p.shape.slice(), data: p.data }])));
}

function loadValueHead(dir: string, V: number): ValueHead | undefined {
  const f = path.join(dir, 'value_head.safetensors');
  if (!fs.existsSync(f)) return undefined;
  const h = new ValueHead(V);
  const st = readSafetensors(new Uint8Array(fs.readFileSync(f)), f);
  h.loadStateDict(new Map([...st.tensors].map(([n, e]) => [n, { shape: e.shape, data: toFloat32(e) }])), f);
  return h;
}

/** Runs a PPO job; returns the loop's result and the held-out reward before and after. */
export async function runPPOJob(job: PPOJob, log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<RLRunResult & { before?: RewardEval; after?: RewardEval }> {
  const fresh = job.resume ? undefined : evalSettings(job); // a new run's, checked before anything loads
  if (fresh) checkEvalDraws(fresh);
  const folder = new RunFolder(job.out, true, { resume: job.resume, force: job.force, inputs: [job.policy, job.reward, job.data], command: 'ppo' });
  const pol = loadPolicy(job.policy, folder, job.resume, 'ppo');
  if (!pol.resume) checkAdaptOptions(pol.model, job.adapt);
  const recorded = rewardPath(pol.resume?.meta.rewardSpec);
  if (recorded !== undefined && job.reward !== undefined && !sameReward(job.reward, recorded)) {
    throw new UsageError(`ppo --resume: the run was trained with the reward ${recorded}; ${job.reward} (--reward or --reward-fn) cannot change it (start a new run)`);
  }
  job = { ...job, reward: recorded ?? job.reward ?? 'rule' }; // a resumed run's own (one given now names it too)
  const own = pol.resume ? resumeRL(folder, pol, job.config, PPO_DEFAULTS, job, log, 'ppo') : undefined;
  if (own) checkEvalDraws(own);
  const { evalPrompts, evalInterval, evalSamples } = own ?? fresh!;
  const recordedData = pol.resume?.meta.data, dataGiven = job.data !== undefined;
  const dataNote = pol.resume ? resumeDataNote(recordedData, job.data) : null;
  if (dataNote) log(dataNote);
  if (job.data === undefined && typeof recordedData === 'string' && recordedData !== 'built-in') job = { ...job, data: recordedInput(recordedData) };
  const config = { ...(pol.resume?.meta.rl as Partial<PPOConfig> | undefined), ...job.config };
  const maxNew = config.maxNewTokens ?? PPO_DEFAULTS.maxNewTokens;
  const long = longCompletionNote(maxNew, pol.model.contextLength);
  if (long) log(long);
  const all = await promptsAndReward({ ...job, evalPrompts }, pol.tokenizer, log);
  if (job.data === undefined) checkBuiltinPrompts('ppo', 'the SFT-world questions', [...all.train, ...all.dev], pol.tokenizer, job.policy);
  const room = Math.min(maxNew, 16);
  const fit = (ps: VerifiablePrompt[]): ReturnType<typeof fitPrompts> => fitPrompts(ps, pol.tokenizer, pol.model.contextLength, room);
  const [tr, dv] = namingData('ppo', job.data, dataGiven, () => [fit(all.train), fit(all.dev)]);
  const dropped = droppedPromptsNote(tr, dv, room, pol.model.contextLength);
  if (dropped) log(dropped);
  const { reward, name } = all, train = tr.kept, dev = dv.kept;
  if (!dev.length) log(noHeldOutNote(dv));
  log(`reward: ${name}`);
  const reference = pol.resume ? referenceFrom(pol.resume.meta.base, log) : cloneModel(pol.model);
  if (job.adapt && !pol.resume) log(adaptModel(pol.model, job.adapt));
  const sampling = { samples: evalSamples, temperature: config.temperature ?? PPO_DEFAULTS.temperature, seed: EVAL_SEED };
  const evalNow = (): RewardEval => evaluatePolicy(pol.model, pol.tokenizer, dev, reward, maxNew, 32, name, undefined, sampling);
  const how = evalSamples ? ` (${evalSamples} samples per prompt at temperature ${sampling.temperature})` : '';
  const before = pol.resume || !dev.length ? undefined : evalNow();
  if (before) log(`held-out before${how}: mean reward ${before.meanReward.toFixed(3)}, positive ${(100 * before.accuracy).toFixed(1)}% (${byKindLine(before)})`);
  const head = pol.resume ? loadValueHead(folder.checkpointDir, pol.model.config.vocabSize) : undefined;
  const trainer = new PPOTrainer(pol.model, pol.tokenizer, train, reward, reference, config, name, head);
  if (pol.resume) {
    trainer.optimizer.loadStateTensors(pol.resume.moments, trainer.nameOf, pol.resume.step);
    trainer.step = pol.resume.step;
    const last = pol.resume.history[pol.resume.history.length - 1];
    if (last && typeof last.klCoef === 'number') trainer.klCoef = last.klCoef;
  }
  const lora = job.adapt?.lora ?? pol.resume?.meta.lora;
  // inputs recorded absolute, so the run resumes from any folder
  const meta = {
    base: pol.resume ? pol.resume.meta.base : job.policy !== undefined ? recordedPath(job.policy) : undefined, data: job.data !== undefined ? recordedPath(job.data) : 'built-in',
    reward: name, rewardSpec: isRewardPath(job.reward) ? recordedPath(job.reward) : job.reward, evalPrompts, evalInterval, evalSamples, rl: trainer.config, ...(lora ? { lora } : {}) };
  const res = await runRLLoop({
    get step() { return trainer.step; }, set step(v) { trainer.step = v; }, optimizer: trainer.optimizer, nameOf: trainer.nameOf, rng: pol.model.rng,
    trainStep: () => trainer.trainStep(),
    modelFiles: (m) => ({ ...checkpointFiles(pol.model, pol.tokenizer, { meta: { kind: 'ppo', ...m } }), 'value_head.safetensors': valueHeadFile(trainer.valueHead) }),
  }, folder, {
    steps: trainer.config.steps, evalInterval, meta, label: 'ppo', quiet: job.quiet, log, history: pol.resume?.history, bestScore: pol.resume?.bestScore,
    evaluate: (): Record<string, number> => {
      if (!dev.length) return {};
      const e = evalNow();
      return { score: e.meanReward, 'mean reward': e.meanReward, 'positive share': e.accuracy };
    },
  });
  const after = dev.length ? evalNow() : undefined;
  if (lora && res.steps > 0) saveLora(folder, log); // a resume with nothing to train writes nothing
  if (after) log(`held-out after${how}: mean reward ${after.meanReward.toFixed(3)}, positive ${(100 * after.accuracy).toFixed(1)}% (${byKindLine(after)})`);
  return { ...res, before, after };
}

/** a run's recorded --reward as used now: a path as recordedInput shows it, a name as it is */
function rewardPath(spec: unknown): string | undefined {
  return typeof spec === 'string' && path.isAbsolute(spec) ? recordedInput(spec) : typeof spec === 'string' ? spec : undefined;
}

function referenceFrom(base: unknown, log: (l: string) => void): LanguageModel {
  base = recordedInput(base);
  if (typeof base !== 'string') throw new Error('ppo --resume: the run does not record its --policy, which the reference is');
  log(`reference policy: ${base}`);
  return loadPolicy(base, null as unknown as RunFolder, false, 'ppo').model;
}

