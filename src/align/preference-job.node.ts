// Reward-model and DPO jobs on disk (`gptlab rm train`, `gptlab dpo`): preference data (a JSONL file, or the
// built-in set ranked by the rule-based reward), a base checkpoint given the chat vocabulary, the objective
// on the one Trainer in a run folder (checkpoints, best/, loss.svg, log.jsonl, Ctrl-C saves, --resume).
// The reward model's checkpoint has model type 'reward' (its head saved with the backbone); DPO's is a
// plain language model, usable by sample, chat and serve.
import { counted } from '../data/jsonl.js';
import { refuseCountedModel } from '../train/model-kinds.js';
import type { LanguageModel } from '../models/model.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { skippedLines } from '../data/chat.js';
import { defaultPreferenceData, parsePreferenceData, type PreferencePair } from '../data/preference.js';
import { readTextFile } from '../formats/text-file.node.js';
import { resumeChangeNotes, Trainer, type TrainConfig, type TrainState } from '../train/trainer.js';
import { withChatVocabulary } from '../train/chat-vocabulary.js';
import { checkMemoryBounds, MAX_RUN_BYTES } from '../train/memory-bounds.js';
import { namingData, recordedInput, recordedPath, resumeDataNote, RunFolder, runTrainer, type RunResult } from '../train/run-folder.node.js';
import type { Objective } from '../train/objective.js';
import { RewardModel } from './reward-model.js';
import type { RewardReadout } from './reward-readout.js';
import { registerRewardModelType } from './reward-type.js';
import { accuracyLine, RewardModelObjective, type AccuracyByLabel } from './reward-objective.js';
import { DPOObjective } from './dpo-objective.js';
import { encodePairs } from './pairs.js';
import { cloneModel } from './clone.js';
import { adaptModel, checkAdaptOptions, hasLora, mergedCopy, type AdaptOptions, type LoraOptions } from './adapt.js';
import { loadAnyCheckpoint, saveLoraOutputs } from './lora-checkpoint.node.js';
import { resumableCheckpoint } from '../train/resume.node.js';
import { UsageError } from '../usage-error.js';
import { checkResumedOptimizer } from '../train/resumed-optimizer.js';
import { optimizerStateCount } from '../optim/registry.js';

export const PREFERENCE_DEFAULTS: Partial<TrainConfig> = {
  maxIters: 300, batchSize: 16, lr: 1e-4, minLr: 1e-5, warmupIters: 20, weightDecay: 0, gradClip: 1.0,
  evalInterval: 50, patience: 0, seed: 1337, sampleAt: [],
};

/**
 * The reward model's: a step draws `batchSize` prompts with all their comparisons (RewardModelObjective), so 8
 * built-in questions (≈ 12 comparisons and 6 responses each) cost about what 24 pairs scored apart did. 300
 * steps with the 'last+loglik' readout: on the built-in set, held-out accuracy 82.4 % (the last-token head
 * needed 600 steps for 80.2 %, and had 73 % at step 300; issue #10).
 */
export const RM_DEFAULTS: Partial<TrainConfig> = { ...PREFERENCE_DEFAULTS, maxIters: 300, lr: 3e-4, batchSize: 8 };

/** the reward model's default readout (src/align/reward-readout.ts): with it facts are learnt in half the steps */
export const RM_READOUT: RewardReadout = 'last+loglik';

export interface PreferenceJob {
  kind: 'rm' | 'dpo';
  base?: string;
  data?: string;
  out: string;
  resume: boolean;
  force?: boolean;
  /** share of --data pairs held out; absent: a resumed run's own, else PREFERENCE_DEV_FRACTION */
  devFraction?: number;
  /** DPO's β */
  beta?: number;
  /** the reward model's readout (default RM_READOUT) */
  readout?: RewardReadout;
  /** the reward model's language-model loss weight on preferred responses (RewardObjectiveOptions.lmCoefficient; default 0) */
  lmCoef?: number;
  adapt?: AdaptOptions;
  train: Partial<TrainConfig>;
  quiet?: boolean;
}

/** pairs from a file (errors printed, kept/skipped logged) or the built-in set */
export function loadPreferencePairs(file: string | undefined, devFraction: number, log: (l: string) => void): { train: PreferencePair[]; dev: PreferencePair[] } {
  if (!file) {
    const d = defaultPreferenceData({ seed: 1 });
    log(`data: built-in preferences (SFT-world questions, answers ranked by the rule-based reward): ${d.train.length} train pairs, ${d.dev.length} held-out pairs`);
    return d;
  }
  const parsed = parsePreferenceData(readTextFile(file, 'preference data file'), file);
  for (const l of skippedLines(parsed.errors)) process.stderr.write(`${l}\n`);
  log(`data: ${file}: kept ${counted(parsed.summary.kept, 'record')} (${counted(parsed.summary.pairs, 'pair')}), skipped ${parsed.summary.skipped}`);
  if (!parsed.pairs.length) throw new Error(`${file}: no valid preference pairs to train on`);
  const nDev = Math.floor(parsed.pairs.length * devFraction);
  return { dev: parsed.pairs.slice(0, nDev), train: parsed.pairs.slice(nDev) };
}

interface Start {
  model: LanguageModel;
  tokenizer: Tokenizer;
  state?: { trainer: TrainState; moments: Map<string, Float32Array> };
  data?: string;
  /** DPO: the starting policy of the run (kept in the run's meta so a resumed run rebuilds the reference) */
  base?: string;
  /** a resumed LoRA run's adapter settings */
  lora?: LoraOptions;
  /** a resumed run's base as its meta records it */
  recordedBase?: unknown;
}

/** the objective's own setting a run records and a resume keeps: DPO's β, the reward model's lmCoef */
/** the share of a --data file's pairs rm train and dpo hold out where a new run is given none */
export const PREFERENCE_DEV_FRACTION = 0.1;

/** the command a job is, as its lines and refusals name it: 'rm train' or 'dpo' */
function commandOf(job: PreferenceJob): 'rm train' | 'dpo' {
  return job.kind === 'rm' ? 'rm train' : 'dpo';
}

function objectiveKey(job: PreferenceJob): 'beta' | 'lmCoef' {
  return job.kind === 'dpo' ? 'beta' : 'lmCoef';
}

/** the line refusing a reward model as --base: DPO needs a chat policy; a new reward model starts from the chat model, not another's backbone */
function rewardBaseRefusal(job: PreferenceJob, itsBase: unknown): string {
  if (job.kind === 'dpo') return `dpo: --base ${job.base} is a reward model (gptlab rm train), not a chat policy; give an SFT model (e.g. runs/chat)`;
  const from = typeof itsBase === 'string' ? ` (${itsBase})` : '';
  return `rm train: --base ${job.base} is a reward model already; give the chat (SFT) model a new one starts from${from}, or continue that run with --resume --out`;
}

function startingPoint(job: PreferenceJob, folder: RunFolder, text: () => string, log: (l: string) => void): Start {
  registerRewardModelType();
  if (job.resume) {
    const ck = resumableCheckpoint(folder, commandOf(job), job.train.maxIters, { flag: '--base', given: job.base, key: 'base' });
    // the held-out share of --data is the run's own unless given now (as sft's)
    const savedMeta = ck.config.meta ?? {};
    const split = { devFraction: typeof savedMeta.devFraction === 'number' ? savedMeta.devFraction : PREFERENCE_DEV_FRACTION };
    job.train = checkResumedOptimizer(job.train, ck.config.train ?? {}, commandOf(job));
    const notes = resumeChangeNotes({ ...(ck.config.train ?? {}), ...split }, { ...job.train, devFraction: job.devFraction });
    job.devFraction ??= split.devFraction;
    job.train = { ...(ck.config.train ?? {}), ...job.train };
    const had = ck.model instanceof RewardModel ? ck.model.readout : undefined;
    if (job.readout && had && job.readout !== had) throw new UsageError(`${folder.checkpointDir}: the run reads its score with '${had}', not '${job.readout}'; resume without --readout, or start a new run`);
    log(`resuming ${folder.checkpointDir} at step ${ck.trainerState.step}`);
    for (const note of notes) log(note);
    const meta = ck.config.meta ?? {};
    const dataNote = resumeDataNote(meta.data, job.data);
    if (dataNote) log(dataNote);
    const key = objectiveKey(job);
    if (typeof meta[key] === 'number') {
      // DPO's β, the reward model's lmCoef: the run's objective, kept unless given, and a change is said
      for (const note of resumeChangeNotes({ [key]: meta[key] }, { [key]: job[key] })) log(note);
      job[key] ??= meta[key] as number;
    }
    const data = job.data ?? (typeof meta.data === 'string' && meta.data !== 'built-in' ? recordedInput(meta.data) : undefined);
    return { model: ck.model, tokenizer: ck.tokenizer, state: { trainer: ck.trainerState, moments: ck.moments }, data, base: recordedInput(meta.base), recordedBase: meta.base, lora: ck.lora };
  }
  if (!job.base) throw new Error(`${commandOf(job)}: give --base CHECKPOINT (an SFT model, e.g. runs/chat from gptlab sft)`);
  const ck = loadAnyCheckpoint(job.base);
  refuseCountedModel(ck.model.type, commandOf(job), '--base', job.base, 'a chat (SFT) model, e.g. runs/chat from gptlab sft');
  if (ck.model.type === 'reward') throw new Error(rewardBaseRefusal(job, ck.config.meta?.base));
  const plain = hasLora(ck.model) ? mergedCopy(ck.model) : ck.model;
  const grown = withChatVocabulary(plain, ck.tokenizer, text(), `${commandOf(job)}: --base ${job.base}`);
  if (grown.added.length) log(`vocabulary: added ${grown.added.join(' ')} (${grown.tokenizer.vocabSize} tokens now)`);
  const model = job.kind === 'rm' ? new RewardModel(grown.model, job.train.seed ?? 1337, job.readout ?? RM_READOUT) : grown.model;
  return { model, tokenizer: grown.tokenizer, data: job.data, base: job.base };
}

/**
 * The reference of a DPO run: a copy of the base (fresh run), or the base reloaded (resumed run), grown by the
 * same chat tokens and data characters as the run was (`text`: the pairs' text).
 */
function dpoReference(start: Start, text: () => string, log: (l: string) => void): LanguageModel {
  if (!start.state) return cloneModel(start.model);
  if (!start.base) throw new Error('dpo --resume: the run does not record its --base, which the reference policy is');
  const ck = loadAnyCheckpoint(start.base);
  const ref = withChatVocabulary(hasLora(ck.model) ? mergedCopy(ck.model) : ck.model, ck.tokenizer, text(), `dpo --resume: --base ${start.base}`).model;
  if (ref.config.vocabSize !== start.model.config.vocabSize) throw new Error(`${start.base}: its vocabulary differs from the run's; give the same --base`);
  log(`reference policy: ${start.base}`);
  return ref;
}

/** Runs a reward-model or DPO job; returns the run's result with the last held-out metrics. */
export async function runPreferenceJob(job: PreferenceJob, log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<RunResult & { metrics?: Record<string, number>; heldOut: boolean; before?: Record<string, number>; byKind?: AccuracyByLabel; byComparison?: AccuracyByLabel }> {
  const folder = new RunFolder(job.out, true, { resume: job.resume, force: job.force, inputs: [job.base, job.data], command: commandOf(job) });
  let pairs: { train: PreferencePair[]; dev: PreferencePair[] } | undefined;
  const loadPairs = (file: string | undefined): { train: PreferencePair[]; dev: PreferencePair[] } => (pairs ??= loadPreferencePairs(file, job.devFraction ?? PREFERENCE_DEV_FRACTION, log));
  const start = startingPoint(job, folder, () => allText(loadPairs(job.data)), log);
  if (!start.state) checkAdaptOptions(start.model, job.adapt);
  const tc = { ...(job.kind === 'rm' ? RM_DEFAULTS : PREFERENCE_DEFAULTS), ...job.train };
  checkMemoryBounds({ ...start.model.config }, tc.batchSize!, MAX_RUN_BYTES, '--batch-size', optimizerStateCount(tc.optimizer, tc.optimizerOptions));
  const data = loadPairs(start.data);
  const { model, tokenizer } = start;
  const reference = job.kind === 'dpo' ? dpoReference(start, () => allText(data), log) : null; // before LoRA: the reference has none
  if (job.adapt && !start.state) log(adaptModel(model, job.adapt, model instanceof RewardModel ? model.headParameterNames() : []));
  const lora = start.state ? start.lora : job.adapt?.lora;
  const T = model.config.blockSize;
  const [tr, dv] = namingData(commandOf(job), start.data, job.data !== undefined, () => [encodePairs(data.train, tokenizer, T), encodePairs(data.dev, tokenizer, T)]);
  if (tr.tooLong + dv.tooLong) log(`note: ${tr.tooLong + dv.tooLong} pairs are longer than the context (${T} tokens) and were left out${dv.tooLong ? ` (${dv.tooLong} of them held out: ${dv.pairs.length} held-out pairs are scored)` : ''}`);
  const objective: Objective = job.kind === 'rm' ? new RewardModelObjective(tr.pairs, dv.pairs, { lmCoefficient: job.lmCoef ?? 0 }) : new DPOObjective(reference!, tr.pairs, dv.pairs, { beta: job.beta ?? 0.1 });
  const trainer = new Trainer(model, objective, tc, { tokenizer });
  if (start.state) trainer.restore(start.state.trainer, start.state.moments);
  let metrics: Record<string, number> | undefined;
  // inputs recorded absolute, so the run resumes from any folder (an older run's relative base, when the reference
  // has not read it from here, stays as it was)
  const base = start.base === undefined ? undefined : job.kind === 'dpo' || !start.state ? recordedPath(start.base) : start.recordedBase;
  const meta = { base, data: start.data !== undefined ? recordedPath(start.data) : 'built-in', devFraction: job.devFraction ?? PREFERENCE_DEV_FRACTION, ...(job.kind === 'dpo' ? { beta: job.beta ?? 0.1 } : { lmCoef: job.lmCoef ?? 0 }), ...(lora ? { lora } : {}) };
  const first = trainer.evaluate();
  if (!start.state) log(`before training: ${Object.entries({ loss: first.dev ?? first.train!, ...first.metrics }).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}`);
  const res = await runTrainer(trainer, folder, {
    model, tokenizer, meta, quiet: job.quiet, log, label: job.kind,
  });
  const before = start.state ? undefined : { loss: first.dev ?? first.train!, ...first.metrics };
  // a stopped run ends at once (its checkpoint is saved): the held-out report is for finished runs
  if (res.outcome === 'interrupted') return { ...res, heldOut: dv.pairs.length > 0, before };
  metrics = trainer.evaluate().metrics;
  const breakdown = objective instanceof RewardModelObjective && dv.pairs.some((p) => p.comparison || p.kind) ? objective.breakdown(model, trainer.config.batchSize) : undefined;
  if (breakdown) {
    if (Object.keys(breakdown.byComparison).length) log(`held-out pairwise accuracy by comparison: ${accuracyLine(breakdown.byComparison)}`);
    if (Object.keys(breakdown.byKind).length) log(`held-out pairwise accuracy by question kind: ${accuracyLine(breakdown.byKind)}`);
  }
  if (lora) {
    const best = loadAnyCheckpoint(folder.bestDir);
    saveLoraOutputs(folder.dir, best.model, best.tokenizer, meta);
    log(`LoRA: adapter in ${folder.dir}/adapter (PEFT layout), merged model in ${folder.dir}/merged`);
  }
  return { ...res, metrics, heldOut: dv.pairs.length > 0, ...breakdown, before };
}

function allText(d: { train: PreferencePair[]; dev: PreferencePair[] }): string {
  return [...d.train, ...d.dev].flatMap((p) => [...p.prompt.map((m) => m.content), p.chosen, p.rejected]).join('') + '\n';
}
