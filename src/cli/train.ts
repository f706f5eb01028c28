// gptlab train: pretraining from a text file, or the built-in demo corpus, for every registered model type
// (--arch gpt|llama|mlp|rnn|lstm|gru|ngram …) and optimizer (--optimizer adamw|sgd|rmsprop|adam|adagrad).
import path from 'node:path';
import fs from 'node:fs';
import { givenOrOwn, helpText, kebab, parseArgs, UsageError, type OptTable, type ParsedArgs, SEED_RANGE } from './args.js';
import { BACKEND_OPTS, checkSplitFlag, maybeHelp, setupBackend } from './common.js';
import { trainRange } from './lora.js';
import { runTrainJob, type JobTrainConfig, type TrainJob } from '../train/pretrain-job.node.js';
import { OPTIMIZER_OPTS, optimizerOptions } from './optimizer-flags.js';
import { readTextFile } from '../formats/text-file.node.js';
import { demoCorpus } from '../data/corpus.js';
import { recordedInput, refuseNoRun, runConfig } from '../train/run-folder.node.js';
import { parseSplit } from '../data/dataset.js';
import { modelType, modelTypes, presetConfig } from '../models/registry.js';
import { TRAIN_DEFAULTS, type TrainConfig } from '../train/trainer.js';
import { MAX_NGRAM_ORDER } from '../lm/ngram.js';

const D = TRAIN_DEFAULTS;

/** `--demo` without other choices: the demo preset (block 128) for about two minutes on two cores */
const DEMO_DEFAULTS = { maxIters: 700, batchSize: 8, lr: 2e-3, sampleAt: [0, 200, 400, 700], evalInterval: 200 };
/** the model types `train` pretrains: those with presets, not the BERT task heads (classify/tag train them) */
function pretrainTypes(): string[] {
  return modelTypes().filter((t) => !t.startsWith('bert-') && Object.keys(modelType(t).presets).length > 0);
}

export const TRAIN_OPTS: OptTable = {
  data: { type: 'string', help: 'training text file (UTF-8)' },
  demo: { type: 'bool', help: 'train on the built-in demo corpus (English-like sentences and sums), 30–80 s (see README)' },
  out: { type: 'string', help: 'run folder (default runs/<data name> or runs/demo)' },
  resume: { type: 'bool', help: 'continue the run in --out from its last checkpoint (same trajectory)' },
  force: { type: 'bool', help: 'overwrite a run already in --out' },
  vocabSize: { type: 'int', default: 1000, min: 10, help: 'bert: WordPiece vocabulary size trained on the data (without --tokenizer)' },
  wholeWord: { type: 'bool', help: 'bert: whole-word masking (## pieces masked with their word)' },
  maskProb: { type: 'number', default: 0.15, above: 0, below: 1, help: 'bert: share of tokens selected for masking' },
  arch: { type: 'string', default: 'gpt', help: `model type: ${pretrainTypes().join(', ')}` },
  tokenizer: { type: 'string', help: 'tokenizer JSON file (default: a character vocabulary built from the data)' },
  preset: { type: 'string', help: `model size: ${pretrainTypes().map((t) => `${t}: ${Object.keys(modelType(t).presets).join('|')}`).join('; ')} (default: cpu, trigram for ngram; demo with --demo)` },
  nLayer: { type: 'int', min: 1, max: 1000, help: 'transformer blocks, or recurrent layers (overrides the preset)' },
  nHead: { type: 'int', min: 1, help: 'attention heads' },
  nKvHead: { type: 'int', min: 1, help: 'llama: key/value heads (grouped-query attention; must divide --n-head)' },
  intermediateSize: { type: 'int', help: 'llama: SwiGLU hidden width' },
  ropeTheta: { type: 'number', help: 'llama: rotary base θ' },
  rmsNormEps: { type: 'number', help: 'llama: RMSNorm ε' },
  tieWordEmbeddings: { type: 'bool', help: 'llama: share the token embedding with the output head' },
  nEmbd: { type: 'int', help: 'embedding width' },
  nHidden: { type: 'int', help: 'hidden units (mlp, rnn, lstm, gru)' },
  context: { type: 'int', help: 'mlp: how many previous tokens predict the next' },
  order: { type: 'int', min: 1, max: MAX_NGRAM_ORDER, help: 'ngram: the order n (each token predicted from the n − 1 before it)' },
  blockSize: { type: 'int', help: 'context length T (the training window; BPTT length for recurrent models)' },
  dropout: { type: 'number', help: 'dropout probability' },
  bias: { type: 'bool', help: 'biases in Linear layers and LayerNorms' },
  batchSize: { type: 'int', default: D.batchSize, ...trainRange('batchSize'), help: 'sequences per step B' },
  maxIters: { type: 'int', default: D.maxIters, ...trainRange('maxIters'), help: 'training steps' },
  lr: { type: 'number', default: D.lr, ...trainRange('lr'), help: 'peak learning rate' },
  minLr: { type: 'number', default: D.minLr, ...trainRange('minLr'), help: 'learning rate at the end of the cosine decay' },
  warmupIters: { type: 'int', default: D.warmupIters, ...trainRange('warmupIters'), help: 'linear warmup steps' },
  lrDecayIters: { type: 'int', ...trainRange('lrDecayIters'), help: 'cosine decay length (default, or 0: max-iters)' },
  ...OPTIMIZER_OPTS,
  weightDecay: { type: 'number', default: D.weightDecay, ...trainRange('weightDecay'), help: 'weight decay (Linear weights only): decoupled for adamw and muon; L2 for the others, whose default is 0' },
  decayEmbeddings: { type: 'bool', help: "also decay the embeddings (nanoGPT's rule: every ≥2-D parameter)" },
  beta1: { type: 'number', default: D.beta1, ...trainRange('beta1'), help: "adamw, adam, muon's AdamW part: β1" },
  beta2: { type: 'number', default: D.beta2, ...trainRange('beta2'), help: "adamw, adam, muon's AdamW part: β2" },
  gradClip: { type: 'number', default: D.gradClip, ...trainRange('gradClip'), help: 'clip the global gradient norm (0 = off)' },
  evalInterval: { type: 'int', default: D.evalInterval, ...trainRange('evalInterval'), help: 'evaluate (and checkpoint) every N steps' },
  evalIters: { type: 'int', default: D.evalIters, ...trainRange('evalIters'), help: 'batches per loss estimate' },
  patience: { type: 'int', default: D.patience, ...trainRange('patience'), help: 'early stopping: evaluations without a better dev loss (0 = off)' },
  split: { type: 'string', default: '90/5/5', help: 'train/dev/test split by position, in percent' },
  sampleAt: { type: 'ints', default: D.sampleAt, ...trainRange('sampleAt'), help: 'steps at which to print a sample' },
  sampleTokens: { type: 'int', default: D.sampleTokens, ...trainRange('sampleTokens'), help: 'tokens per sample' },
  prompt: { type: 'string', default: D.samplePrompt, help: 'prompt of the samples' },
  temperature: { type: 'number', default: D.sampleTemperature, ...trainRange('sampleTemperature'), help: 'temperature of the samples' },
  seed: { type: 'int', ...SEED_RANGE, default: D.seed, help: 'random seed (weights, batches, dropout)' },
  ...BACKEND_OPTS,
};

/** the training options of a run from parsed flags; when resuming, only the ones given now */
function trainOptions(o: ParsedArgs): Partial<TrainConfig> {
  const keys: (keyof TrainConfig)[] = [
    'maxIters', 'batchSize', 'lr', 'minLr', 'warmupIters', 'lrDecayIters', 'weightDecay', 'decayEmbeddings', 'beta1', 'beta2',
    'gradClip', 'evalInterval', 'evalIters', 'patience', 'sampleAt', 'sampleTokens', 'seed',
  ];
  const flag: Partial<Record<keyof TrainConfig, string>> = { samplePrompt: 'prompt', sampleTemperature: 'temperature' };
  const train: Record<string, unknown> = {};
  for (const k of [...keys, 'samplePrompt', 'sampleTemperature'] as (keyof TrainConfig)[]) {
    const name = flag[k] ?? k;
    // a resumed run keeps its own settings; only options given now change them (e.g. a larger --max-iters)
    if (o.resume && !o._given.has(name)) continue;
    if (o[name] !== undefined) train[k] = o[name];
  }
  if (!o.resume) train.decayEmbeddings = !!o.decayEmbeddings;
  // an n-gram run is counted: its optimizer flags are ignored with a note (checkModelFlags), not recorded
  return { ...(train as Partial<TrainConfig>), ...(o.arch === 'ngram' ? {} : optimizerOptions(o, 'train')) };
}

/** --arch, --preset and the config overrides the chosen model type allows */
function modelOptions(o: ParsedArgs, demo: boolean): TrainJob['model'] {
  const anyType = modelTypes().flatMap((n) => Object.keys(modelType(n).overridable)); // every model-shape flag
  if (o.resume) {
    // a resumed run keeps its model: only the model flags given now, which must describe it (pretrain-job)
    const given: TrainJob['model'] = {};
    for (const k of ['arch', 'preset', ...anyType]) if (o._given.has(k)) given[k] = o[k];
    return given;
  }
  const arch = o.arch as string;
  const t = modelType(arch);
  const model: TrainJob['model'] = { arch, preset: (o.preset as string | undefined) ?? (demo && t.presets.demo ? 'demo' : t.defaultPreset) };
  for (const k of Object.keys(t.overridable)) if (o[k] !== undefined) model[k] = o[k];
  const foreign = anyType.find((k) => o._given.has(k) && !(k in t.overridable));
  if (foreign) throw new UsageError(`train: --${kebab(foreign)} does not apply to --arch ${arch} (it takes ${Object.keys(t.overridable).map(kebab).join(', ')})`);
  return model;
}

function checkTrainFlags(o: ParsedArgs): void {
  if (o._.length) throw new UsageError(`train: unexpected argument "${o._[0]}" (did you mean --data ${o._[0]}?)`);
  if (!o.data && !o.demo && !o.resume) throw new UsageError('train: give --data FILE, or --demo for the built-in corpus');
  if (o.data && o.demo) throw new UsageError('train: give either --data or --demo, not both');
  if (o.arch === 'bert-seq-cls' || o.arch === 'bert-token-cls') throw new UsageError(`train: --arch ${o.arch} is fine-tuned with gptlab ${o.arch === 'bert-seq-cls' ? 'classify' : 'tag'} train`);
  if (!pretrainTypes().includes(o.arch as string)) {
    const hint = o.arch === 'reward' ? ' (a reward model is trained with gptlab rm train)' : modelTypes().includes(o.arch as string) ? ` (${o.arch as string} is trained by its own command)` : '';
    throw new UsageError(`train: --arch must be one of ${pretrainTypes().join(', ')}, got "${o.arch}"${hint}`);
  }
}

/** the gradient-training flags a count-based model (--arch ngram) has no use for */
const COUNTED_IGNORES = ['maxIters', 'lr', 'minLr', 'warmupIters', 'lrDecayIters', 'optimizer', 'momentum', 'dampening', 'nesterov', 'nsSteps', 'adjustLrFn',
  'adamEps', 'alpha', 'centered', 'amsgrad', 'eps', 'lrDecay', 'initialAccumulatorValue', 'weightDecay', 'decayEmbeddings', 'gradClip', 'evalInterval', 'patience'];

/**
 * Checks the model's shape before any data is read: an unknown --preset for --arch, and a width --n-head does not
 * divide, are refused naming the flags. Returns notes for flags that do not apply (--whole-word without bert).
 */
function checkModelFlags(o: ParsedArgs): string[] {
  const notes: string[] = [];
  if (o.arch !== 'bert') for (const k of ['wholeWord', 'maskProb', 'vocabSize']) if (o._given.has(k)) notes.push(`note: --${kebab(k)} applies to --arch bert only; ignored for --arch ${o.arch as string}`);
  if (o.arch === 'ngram') {
    const ignored = COUNTED_IGNORES.filter((k) => o._given.has(k)).map((k) => `--${kebab(k)}`);
    if (ignored.length) notes.push(`note: ${ignored.join(', ')} ${ignored.length === 1 ? 'is' : 'are'} ignored for --arch ngram: an n-gram model is counted from the training split in one pass, not trained by gradient steps`);
  }
  if (o.resume) return notes;
  const { arch, preset, ...overrides } = modelOptions(o, !!o.demo);
  let cfg: Record<string, unknown>;
  try {
    cfg = presetConfig(arch!, preset, 256, overrides);
  } catch {
    throw new UsageError(`train: --preset must be one of ${Object.keys(modelType(arch!).presets).join(', ')} for --arch ${arch!}, got "${preset!}"`);
  }
  const { nEmbd, nHead } = cfg as { nEmbd?: number; nHead?: number };
  if (typeof nEmbd === 'number' && typeof nHead === 'number' && nHead > 0 && nEmbd % nHead !== 0) throw new UsageError(`train: --n-head ${nHead} must divide --n-embd ${nEmbd}`);
  try {
    modelType(arch!).validate(cfg);
  } catch (e) {
    // "llama config: nKvHead (3) must divide nHead (4)" → "train: llama config: --n-kv-head (3) must divide --n-head (4)"
    const named = (e as Error).message.replace(/\b[a-z]+[A-Z]\w*\b/g, (w) => (w in TRAIN_OPTS ? `--${kebab(w)}` : w));
    throw new UsageError(`train: ${named}`);
  }
  // an MLP's context slots beyond the training window only ever see the start slot, then real tokens when sampling
  const { context, blockSize } = cfg as { context?: number; blockSize?: number };
  if (arch === 'mlp' && typeof context === 'number' && typeof blockSize === 'number' && context >= blockSize) {
    throw new UsageError(`train: --context ${context} must be less than --block-size ${blockSize}: a training window gives at most ${blockSize - 1} previous tokens, so the farther context slots would never be trained`);
  }
  return notes;
}

export async function trainCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, TRAIN_OPTS, 'train');
  if (maybeHelp(o, () => helpText('train', 'train a language model on text', TRAIN_OPTS, 'gptlab train (--data FILE | --demo) [options]'))) return 0;
  // a resumed BERT run is masked-LM pretraining whether or not --arch bert is repeated (other types' jobs read the run's model)
  const run = o.resume && typeof o.out === 'string' ? (runConfig(o.out) as RunConfig | null) : null;
  if (o.resume && !o._given.has('arch') && isMlmRun(run)) o.arch = 'bert';
  checkTrainFlags(o);
  checkSplitFlag(o.split as string, 'train');
  const notes = checkModelFlags(o);
  // the schedule decays from --lr down to --min-lr: a given --min-lr above the lr that applies (given, the demo's or the default) is a mistake
  const lrNow = o._given.has('lr') ? (o.lr as number) : o.resume ? undefined : o.demo ? DEMO_DEFAULTS.lr : (o.lr as number);
  if (o._given.has('minLr') && lrNow !== undefined && (o.minLr as number) > lrNow) {
    throw new UsageError(`train: --min-lr ${o.minLr as number} is above --lr ${lrNow}; the schedule decays from --lr down to --min-lr`);
  }
  if (o.resume && o._given.has('tokenizer')) {
    throw new UsageError(`train --resume: the run keeps the tokenizer in its checkpoint; --tokenizer ${o.tokenizer as string} cannot change it (leave --tokenizer out)`);
  }
  if (o.resume && !o.data && !o.demo) {
    if (o.out === undefined) throw new UsageError('train --resume: give --out, the folder of the run to continue');
    refuseNoRun(o.out as string, 'train');
    const recorded = resumedTrainData(o.out as string, run);
    if (recorded === 'demo') o.demo = true;
    else if (recorded !== null) o.data = recorded;
  }
  const demo = !!o.demo;
  const source = demo ? 'built-in demo corpus' : (o.data as string | undefined) ?? '';
  const out = (o.out as string | undefined) ?? path.join('runs', demo ? 'demo' : path.basename(source || 'run').replace(/\.[^.]*$/, ''));
  let text: string;
  const corpusSeed = demo ? demoCorpusSeed(o, out) : undefined;
  if (demo) text = demoCorpus(corpusSeed!);
  else if (o.data) text = readTextFile(o.data as string);
  else throw new UsageError(`train --resume: ${out as string} records no data file to continue on; give --data (the text the run was trained on) or --demo`);
  const backendName = await setupBackend(o);
  process.stdout.write(`backend: ${backendName}\n`);
  for (const n of notes) process.stdout.write(n + '\n');
  if (demo) {
    // the demo's own defaults, where the user did not choose: about two minutes on two cores
    for (const [k, v] of Object.entries(DEMO_DEFAULTS)) if (!o._given.has(k)) o[k] = v;
  }
  const res = o.arch === 'bert' ? await runBertPretraining(o, text, source, out, demo, corpusSeed) : await runTrainJob({
    text, source, out, resume: !!o.resume, force: !!o.force, save: true, ...(corpusSeed !== undefined ? { corpusSeed } : {}), split: givenOrOwn(o, 'split') as string | undefined,
    tokenizerFile: o.tokenizer as string | undefined, model: modelOptions(o, demo), train: trainOptions(o),
  });
  return res.outcome === 'interrupted' ? res.exitCode ?? 130 : 0;
}

/** what train --resume reads of a run's checkpoint/config.json before the job loads it */
interface RunConfig { model_type?: unknown; meta?: { source?: unknown; kind?: unknown; objective?: unknown } }

/** whether a run's config is a BERT model pretrained by masked language modelling (not a classify or tag run) */
function isMlmRun(cfg: RunConfig | null): boolean {
  return cfg?.model_type === 'bert' && (cfg.meta?.kind === 'mlm' || cfg.meta?.objective === 'mlm');
}

/**
 * The text the run in `out` (its config `run`, runConfig) trained on, for `train --resume` without --data or
 * --demo: 'demo' for the built-in corpus, else the data file its meta records (an absolute path; refused when it
 * is gone, naming it), or null when the folder holds no readable run (the job then says what is wrong with it).
 */
function resumedTrainData(out: string, run: RunConfig | null): string | 'demo' | null {
  const source = run?.meta?.source;
  if (source === 'built-in demo corpus') return 'demo';
  if (typeof source !== 'string' || !path.isAbsolute(source)) return null;
  if (!fs.existsSync(source)) throw new Error(`train --resume: the run in ${out} trained on ${source}, which is gone; give --data (the same text) to continue it`);
  return recordedInput(source)!;
}

/**
 * The seed the built-in demo corpus is drawn with: --seed for a new run; a resumed run's own (its recorded seed,
 * the one its corpus was drawn with), so a --seed given with --resume changes the batches, not the text.
 */
function demoCorpusSeed(o: ParsedArgs, out: string): number {
  if (!o.resume) return o.seed as number;
  const cfg = runConfig(out) as { train?: { seed?: unknown }; meta?: { corpusSeed?: unknown } } | null; // null: no run there, the job says so
  if (typeof cfg?.meta?.corpusSeed === 'number') return cfg.meta.corpusSeed;
  if (typeof cfg?.train?.seed === 'number') return cfg.train.seed; // a run from before corpusSeed was recorded
  return o._given.has('seed') ? TRAIN_DEFAULTS.seed : (o.seed as number);
}

/**
 * --arch bert: masked-language-model pretraining (src/train/mlm-job.node.ts), not next-token prediction. A
 * resumed run keeps its split, masking, model and training settings: only the flags given now go to the job.
 */
async function runBertPretraining(o: ParsedArgs, text: string, source: string, out: string, demo: boolean, corpusSeed: number | undefined): Promise<{ outcome: string; exitCode?: number }> {
  const { runMlmJob } = await import('../train/mlm-job.node.js');
  const { arch: _arch, preset, ...overrides } = modelOptions(o, demo);
  const given = (k: string): boolean => !o.resume || o._given.has(k);
  return runMlmJob({
    text, source, out, ...(preset !== undefined && given('preset') ? { preset } : o.resume ? {} : { preset: 'tiny' }), overrides: overrides as never, vocabSize: o.vocabSize as number,
    tokenizerFile: o.tokenizer as string | undefined, ...(given('split') ? { split: o.split as string } : {}),
    ...(given('wholeWord') ? { wholeWord: !!o.wholeWord } : {}), ...(given('maskProb') ? { maskProb: o.maskProb as number } : {}),
    ...(corpusSeed !== undefined ? { corpusSeed } : {}), train: trainOptions(o), resume: !!o.resume, force: !!o.force,
  });
}
