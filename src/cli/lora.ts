// gptlab lora merge RUN --out DIR: a LoRA run's best model with its adapter merged into the weights, as a
// plain checkpoint every command loads (PEFT's merge_and_unload); also the LoRA and --freeze options the
// alignment commands share, and their training options.
import { helpText, kebab, parseArgs, UsageError, type OptSpec, type OptTable, type ParsedArgs, SEED_RANGE } from './args.js';
import { OPTIMIZER_OPTS, optimizerOptions } from './optimizer-flags.js';
import { maybeHelp, runSubcommand } from './common.js';
import { runConfig } from '../train/run-folder.node.js';
import { TRAIN_RANGES, type TrainConfig } from '../train/trainer.js';
import { checkpointFiles } from '../train/checkpoint.js';
import { checkOutputDir, dirTargets, removeTempsOnStop, writeOutputDir } from './output.js';
import { hasLora, mergedCopy, type AdaptOptions } from '../align/adapt.js';
import { loadAnyCheckpoint } from '../align/lora-checkpoint.node.js';
import { registerRewardModelType } from '../align/reward-type.js';

export const ADAPT_OPTS: OptTable = {
  loraR: { type: 'int', min: 1, help: 'train LoRA adapters of this rank instead of all weights (e.g. 8); adapters are saved in PEFT layout in <out>/adapter' },
  loraAlpha: { type: 'number', default: 16, above: 0, help: 'LoRA α (the update is scaled by α/r)' },
  loraDropout: { type: 'number', default: 0, min: 0, below: 1, help: 'dropout on the LoRA input' },
  loraTargets: { type: 'string', default: 'c_attn,c_proj', help: 'comma-separated module names to adapt (PEFT target_modules)' },
  freeze: { type: 'string', help: 'comma-separated globs of parameter names to freeze, e.g. "transformer.wte.*,transformer.h.0.**"' },
};

/** LoRA+ for the commands that train through the Trainer (sft, rm train, dpo); a training setting, so --resume keeps it */
export const LORAPLUS_OPTS: OptTable = {
  loraplusLrRatio: { type: 'number', above: 0, help: "LoRA+ (Hayou et al. 2024; PEFT's loraplus_lr_ratio): the adapters' B factors train at this many times --lr, everything else (A factors, new token rows, heads) at --lr (e.g. 4, measured with --lr 5e-3); needs --lora-r, or a resumed LoRA run" },
};

/** the LoRA / freeze settings from parsed flags; undefined when neither is asked for */
export function adaptOptions(o: ParsedArgs, command: string): AdaptOptions | undefined {
  if (o.resume) {
    checkResumedAdapt(o, command);
    return undefined;
  }
  const r = o.loraR as number | undefined;
  const freeze = typeof o.freeze === 'string' ? o.freeze.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  const loraOnly = ['loraTargets', 'loraAlpha', 'loraDropout', 'loraplusLrRatio'].find((k) => o._given.has(k));
  if (r === undefined && loraOnly) throw new UsageError(`${command}: --${kebab(loraOnly)} needs --lora-r (LoRA is off without it)`);
  if (r === undefined && !freeze?.length) return undefined;
  const alpha = o.loraAlpha as number, dropout = o.loraDropout as number; // ranges checked by the option table
  const targets = (o.loraTargets as string).split(',').map((s) => s.trim()).filter(Boolean);
  if (r !== undefined && !targets.length) throw new UsageError(`${command}: --lora-targets names no module`);
  return { ...(r !== undefined ? { lora: { r, alpha, dropout, targets } } : {}), ...(freeze?.length ? { freeze } : {}) };
}

/** the LoRA and freezing of the run in `out` (its checkpoint/config.json meta), or null when that file cannot be read (the loader then names the problem) */
function resumedAdapt(out: unknown): { lora?: Record<string, unknown>; freeze?: unknown } | null {
  const cfg = typeof out === 'string' ? runConfig(out) : null;
  if (!cfg) return null;
  const meta = cfg.meta && typeof cfg.meta === 'object' ? (cfg.meta as Record<string, unknown>) : {};
  const lora = meta.lora && typeof meta.lora === 'object' ? (meta.lora as Record<string, unknown>) : undefined;
  return { ...(lora ? { lora } : {}), ...(meta.freeze !== undefined ? { freeze: meta.freeze } : {}) };
}

const listOf = (v: unknown): string[] => (typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v.map(String) : []).map((s) => s.trim()).filter(Boolean);

/**
 * A resumed run keeps the LoRA and freezing it started with: --lora-r, --lora-alpha, --lora-dropout,
 * --lora-targets, --freeze (and sft's --lora-new-tokens) given now must repeat the run's own, which is fine;
 * another value, or LoRA settings for a run without LoRA, is refused (a UsageError, exit 2).
 */
function checkResumedAdapt(o: ParsedArgs, command: string): void {
  const given = ['loraR', 'loraAlpha', 'loraDropout', 'loraTargets', 'freeze', 'loraNewTokens'].filter((k) => o._given.has(k));
  if (!given.length) return;
  const run = resumedAdapt(o.out);
  if (run === null) return; // no readable run: resuming it fails with its own message
  const lora = run.lora;
  const tokens = Array.isArray(lora?.trainableTokens) && lora.trainableTokens.length > 0;
  const own: Record<string, { same: boolean; shown: string } | undefined> = {
    loraR: lora && { same: o.loraR === lora.r, shown: `--lora-r ${String(lora.r)}` },
    loraAlpha: lora && { same: o.loraAlpha === lora.alpha, shown: `--lora-alpha ${String(lora.alpha)}` },
    loraDropout: lora && { same: o.loraDropout === (lora.dropout ?? 0), shown: `--lora-dropout ${String(lora.dropout ?? 0)}` },
    loraTargets: lora && { same: listOf(o.loraTargets).join(',') === listOf(lora.targets).join(','), shown: `--lora-targets ${listOf(lora.targets).join(',')}` },
    freeze: { same: listOf(o.freeze).join(',') === listOf(run.freeze).join(','), shown: listOf(run.freeze).length ? `--freeze ${listOf(run.freeze).join(',')}` : 'no --freeze' },
    loraNewTokens: lora && { same: o.loraNewTokens === tokens, shown: tokens ? 'the new tokens\' rows trained (--lora-new-tokens)' : 'no new token rows trained (--no-lora-new-tokens)' },
  };
  for (const k of given) {
    // only sft records --freeze in its runs: elsewhere the run's own cannot be told, so none is taken
    if (k === 'freeze' && command !== 'sft') throw new UsageError(`${command}: --freeze cannot change on --resume: a resumed run keeps the LoRA and freezing it started with`);
    const mine = own[k];
    const flag = k === 'loraNewTokens' ? (o.loraNewTokens ? '--lora-new-tokens' : '--no-lora-new-tokens') : `--${kebab(k)} ${String(o[k])}`;
    if (!mine) throw new UsageError(`${command} --resume: the run trains without LoRA; ${flag} cannot change that (a resumed run keeps the LoRA and freezing it started with)`);
    if (!mine.same) throw new UsageError(`${command} --resume: the run has ${mine.shown}; ${flag} cannot change it (a resumed run keeps the LoRA and freezing it started with; leave it out or repeat the run's own)`);
  }
}

/** the range the Trainer allows for setting `key` (TRAIN_RANGES), as option-table fields: the flag is refused as the Trainer would refuse it */
export function trainRange(key: keyof TrainConfig): Pick<OptSpec, 'min' | 'above' | 'max' | 'below'> {
  const { integer: _integer, ...range } = TRAIN_RANGES[key] ?? {};
  return range;
}

/**
 * The most examples (sequences, conversations, pairs) a fine-tuning step takes: a batch is padded to its longest
 * example and held whole in the kernels' memory, and far larger batches fail deep in them ("offset is out of bounds").
 */
export const MAX_FINETUNE_BATCH = 1024;

/** the Trainer options every alignment command takes, with its own defaults */
export function trainOpts(d: Partial<TrainConfig>): OptTable {
  return {
    maxIters: { type: 'int', default: d.maxIters, ...trainRange('maxIters'), help: 'training steps' },
    batchSize: { type: 'int', default: d.batchSize, ...trainRange('batchSize'), max: MAX_FINETUNE_BATCH, help: 'examples per step' },
    lr: { type: 'number', default: d.lr, ...trainRange('lr'), help: 'peak learning rate' },
    minLr: { type: 'number', default: d.minLr, ...trainRange('minLr'), help: 'final learning rate (at most --lr)' },
    warmupIters: { type: 'int', default: d.warmupIters, ...trainRange('warmupIters'), help: 'warmup steps' },
    weightDecay: { type: 'number', default: d.weightDecay, ...trainRange('weightDecay'), help: 'weight decay: decoupled for adamw and muon, L2 for the other optimizers (whose default is 0)' },
    gradClip: { type: 'number', default: d.gradClip, ...trainRange('gradClip'), help: 'gradient norm clip (0 = off)' },
    evalInterval: { type: 'int', default: d.evalInterval, ...trainRange('evalInterval'), help: 'evaluation and checkpoint every N steps' },
    patience: { type: 'int', default: d.patience, ...trainRange('patience'), help: 'early stopping patience in evaluations (0 = off)' },
    seed: { type: 'int', ...SEED_RANGE, default: d.seed, help: 'random seed' },
    ...OPTIMIZER_OPTS,
  };
}

/** the training settings the alignment commands and sft take as flags */
export const TRAIN_KEYS = ['maxIters', 'batchSize', 'lr', 'minLr', 'warmupIters', 'weightDecay', 'gradClip', 'evalInterval', 'patience', 'seed', 'loraplusLrRatio'] as const;

/**
 * `--min-lr X is above --lr Y` when --min-lr is given above --lr (the schedule decays from --lr down to it); `lrKnown`:
 * whether o.lr is the lr the run will use (given now, or a default that applies). null otherwise.
 */
export function minLrProblem(o: ParsedArgs, lrKnown: boolean): string | null {
  if (!o._given.has('minLr') || !lrKnown || o.minLr === undefined || o.lr === undefined || (o.minLr as number) <= (o.lr as number)) return null;
  return `--min-lr ${o.minLr as number} is above --lr ${o.lr as number}; the schedule decays from --lr down to --min-lr`;
}

/**
 * The training options given, --optimizer and its options included (`command`: the command typed, for the
 * messages; `own`: flags of the command named as an optimizer option, distill's --alpha); a resumed run keeps
 * its own and takes only those set now (ranges: the table).
 */
export function trainOptions(o: ParsedArgs, command: string, own: readonly string[] = []): Partial<TrainConfig> {
  const minLr = minLrProblem(o, !o.resume || o._given.has('lr'));
  if (minLr) throw new UsageError(minLr);
  const train: Record<string, unknown> = {};
  for (const k of TRAIN_KEYS) if ((!o.resume || o._given.has(k)) && o[k] !== undefined) train[k] = o[k];
  return { ...(train as Partial<TrainConfig>), ...optimizerOptions(o, command, own) };
}

const MERGE_OPTS: OptTable = {
  ckpt: { type: 'string', positional: true, help: 'a LoRA run folder or checkpoint (its best/ by default)' },
  out: { type: 'string', help: 'folder for the merged checkpoint (a new one; an existing gptlab run or checkpoint is refused)' },
  force: { type: 'bool', help: 'write the checkpoint\'s files into an existing non-empty folder (other files are kept)' },
};

/** `gptlab lora`'s own help: what LoRA runs are and the one subcommand */
const LORA_USAGE = `gptlab lora — LoRA adapters

usage: gptlab lora merge RUN --out DIR     merge a LoRA run's adapter into its weights (gptlab lora merge --help)

A LoRA run is trained by sft, rm train, dpo, ppo or grpo with --lora-r (and --lora-alpha, --lora-dropout,
--lora-targets); it leaves adapter/ (PEFT's layout: adapter_config.json, adapter_model.safetensors) and merged/.
sample, chat and serve load a LoRA run folder directly.`;

export async function loraCommand(argv: string[]): Promise<number> {
  return runSubcommand('lora', argv, LORA_USAGE, { merge: mergeSub }, 'merge');
}

/** `gptlab lora merge RUN --out DIR` */
async function mergeSub(rest: string[]): Promise<number> {
  const o = parseArgs(rest, MERGE_OPTS, 'lora merge');
  if (maybeHelp(o, () => helpText('lora merge', 'merge a LoRA run\'s adapter into its weights', MERGE_OPTS, 'gptlab lora merge RUN --out DIR'))) return 0;
  if (!o.ckpt || !o.out) throw new UsageError('lora merge: give a LoRA run (or checkpoint) and --out DIR');
  const out = o.out as string;
  checkOutputDir(out, '--out', 'lora merge', { force: !!o.force, input: o.ckpt as string });
  registerRewardModelType();
  const ck = loadAnyCheckpoint(o.ckpt as string);
  if (!hasLora(ck.model)) throw new Error(`lora merge: ${o.ckpt as string} has no LoRA adapter (its config.json meta has no "lora")`);
  const { lora: _l, ...meta } = ck.config.meta ?? {};
  const files = checkpointFiles(mergedCopy(ck.model), ck.tokenizer, { meta: { ...meta, mergedFrom: o.ckpt } });
  await removeTempsOnStop('lora merge', () => dirTargets(out, Object.keys(files)), async () => {
    await new Promise(setImmediate); // a Ctrl-C during the merge is handled here, before anything is written
    await writeOutputDir(out, files, '--out', 'lora merge');
  });
  process.stdout.write(`merged LoRA (r=${ck.lora!.r}, α=${ck.lora!.alpha}, ${ck.lora!.targets.join(',')}) into ${out}\n`);
  return 0;
}
