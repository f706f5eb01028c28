// gptlab classify train|predict: fine-tune BERT for sentence classification (CSV or JSONL of text,label; the
// built-in topic task without --data) and predict with the result. Also holds the option table and flag
// handling gptlab tag shares.
import { helpText, kebab, parseArgs, UsageError, type OptTable, type ParsedArgs, SEED_RANGE } from './args.js';
import { OPTIMIZER_OPTS, optimizerOptions } from './optimizer-flags.js';
import { BACKEND_OPTS, checkOutputFile, maybeHelp, setupBackend } from './common.js';
import { FINETUNE_DEFAULTS } from '../train/finetune-job.node.js';
import { runClassifyPredict, runClassifyTrain } from '../train/classify-job.node.js';
import type { TrainConfig } from '../train/trainer.js';
import { BERT_PRESETS, type BertConfig } from '../models/bert-config.js';

const D = FINETUNE_DEFAULTS;

/** options of `classify train` and `tag train` */
export const FINETUNE_OPTS: OptTable = {
  data: { type: 'string', help: 'training data file (default: the built-in task)' },
  dev: { type: 'string', help: 'dev data file (default: the last --dev-fraction of --data)' },
  devFraction: { type: 'number', default: 0.1, min: 0, below: 1, help: 'share of --data held out for dev scores' },
  out: { type: 'string', help: 'run folder' },
  base: { type: 'string', help: 'pretrained BERT checkpoint to start from (gptlab train --arch bert); default a fresh model' },
  resume: { type: 'bool', help: 'continue the run in --out from its last checkpoint' },
  force: { type: 'bool', help: 'overwrite a run already in --out' },
  preset: { type: 'string', default: 'tiny', help: 'fresh model size: tiny, mini, base' },
  nLayer: { type: 'int', min: 1, help: 'encoder layers (overrides the preset)' },
  nHead: { type: 'int', min: 1, help: 'attention heads' },
  nEmbd: { type: 'int', min: 1, help: 'hidden width' },
  intermediateSize: { type: 'int', min: 1, help: 'feed-forward width' },
  dropout: { type: 'number', min: 0, below: 1, help: 'hidden dropout' },
  vocabSize: { type: 'int', default: 1000, min: 16, help: 'WordPiece vocabulary size of a fresh model' },
  maxLen: { type: 'int', default: 64, min: 3, help: 'longest input in pieces ([CLS] and [SEP] included)' },
  maxIters: { type: 'int', default: D.maxIters, min: 1, help: 'training steps' },
  batchSize: { type: 'int', default: D.batchSize, min: 1, help: 'examples per step' },
  lr: { type: 'number', default: D.lr, above: 0, help: 'peak learning rate' },
  minLr: { type: 'number', default: D.minLr, min: 0, help: 'final learning rate' },
  warmupIters: { type: 'int', default: D.warmupIters, min: 0, help: 'warmup steps' },
  weightDecay: { type: 'number', default: D.weightDecay, min: 0, help: 'weight decay: decoupled for adamw and muon, L2 for the other optimizers (whose default is 0)' },
  evalInterval: { type: 'int', default: D.evalInterval, min: 1, help: 'dev scores and checkpoint every N steps' },
  patience: { type: 'int', default: D.patience, min: 0, help: 'early stopping patience in evaluations (0 = off)' },
  seed: { type: 'int', ...SEED_RANGE, default: D.seed, help: 'random seed' },
  ...OPTIMIZER_OPTS,
  ...BACKEND_OPTS,
};

const TRAIN_KEYS = ['maxIters', 'batchSize', 'lr', 'minLr', 'warmupIters', 'weightDecay', 'evalInterval', 'patience', 'seed'] as const;
const MODEL_KEYS = ['nLayer', 'nHead', 'nEmbd', 'intermediateSize', 'dropout'] as const;

/** the flags that size a fresh model, which a --base checkpoint (or a resumed run) fixes */
const SIZE_KEYS = ['preset', 'nLayer', 'nHead', 'nEmbd', 'intermediateSize', 'dropout', 'vocabSize'] as const;


/**
 * Checks the model-size flags before any data is read: an unknown --preset and a --n-embd that --n-head does
 * not divide are refused (UsageError naming the flags). Returns the notes to print: with --base, the size
 * flags given are ignored, since the base checkpoint fixes the model's shape.
 */
export function checkModelFlags(o: ParsedArgs, command: string): string[] {
  const given = SIZE_KEYS.filter((k) => o._given.has(k));
  if (o.base || o.resume) {
    return given.length ? [`note: ${given.map((k) => `--${kebab(k)}`).join(', ')} ${given.length > 1 ? 'are' : 'is'} ignored: ${o.base ? `--base ${o.base as string}` : 'the resumed run'} fixes the model's size`] : [];
  }
  const preset = BERT_PRESETS[o.preset as string];
  if (!preset) throw new UsageError(`${command}: --preset must be one of ${Object.keys(BERT_PRESETS).join(', ')}, got "${o.preset as string}"`);
  const nEmbd = (o.nEmbd as number | undefined) ?? preset.nEmbd, nHead = (o.nHead as number | undefined) ?? preset.nHead;
  if (nEmbd % nHead !== 0) throw new UsageError(`${command}: --n-head ${nHead} must divide --n-embd ${nEmbd}${o._given.has('nEmbd') ? '' : ` (preset ${o.preset as string})`}`);
  return [];
}

/** the fine-tuning job fields every train subcommand shares; a resumed run keeps its settings unless given now */
export function finetuneFields(o: ParsedArgs, command: string, defaultOut: string) {
  const train: Record<string, unknown> = {}, overrides: Record<string, unknown> = {};
  for (const k of TRAIN_KEYS) if (!o.resume || o._given.has(k)) train[k] = o[k];
  for (const k of MODEL_KEYS) if (o[k] !== undefined) overrides[k] = o[k];
  if (o.resume && o.base) throw new UsageError(`${command}: --resume continues the run in --out; --base cannot change its start`);
  return {
    data: o.data as string | undefined, dev: o.dev as string | undefined, devFraction: o.devFraction as number, out: (o.out as string | undefined) ?? defaultOut,
    base: o.base as string | undefined, resume: !!o.resume, force: !!o.force, preset: o.preset as string, overrides: overrides as Partial<BertConfig>,
    vocabSize: o.vocabSize as number, maxLen: o.maxLen as number, train: { ...(train as Partial<TrainConfig>), ...optimizerOptions(o, command) },
  };
}

const PREDICT_OPTS: OptTable = {
  checkpoint: { type: 'string', positional: true, help: 'fine-tuned checkpoint or run folder (uses best/)' },
  data: { type: 'string', help: 'CSV or JSONL to classify (with labels: also scored)' },
  svg: { type: 'string', help: 'write the confusion matrix SVG here (labelled --data)' },
  ...BACKEND_OPTS,
};

const USAGE = 'gptlab classify train [--data FILE.csv|.jsonl] [--out DIR] [options]\n       gptlab classify predict CHECKPOINT ("text" … | --data FILE)';

export async function classifyCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'train') {
    const o = parseArgs(rest, FINETUNE_OPTS, 'classify train');
    if (maybeHelp(o, () => helpText('classify train', 'fine-tune BERT to classify sentences (built-in topic task without --data)', FINETUNE_OPTS, USAGE))) return 0;
    const notes = checkModelFlags(o, 'classify train');
    process.stdout.write(`backend: ${await setupBackend(o)}\n`);
    for (const n of notes) process.stdout.write(n + '\n');
    const res = await runClassifyTrain(finetuneFields(o, 'classify train', 'runs/classify'));
    return res.outcome === 'interrupted' ? 130 : 0;
  }
  if (sub === 'predict') {
    const o = parseArgs(rest, PREDICT_OPTS, 'classify predict', { rest: true });
    if (maybeHelp(o, () => helpText('classify predict', 'classify texts with a fine-tuned BERT', PREDICT_OPTS, USAGE))) return 0;
    if (!o.checkpoint) throw new UsageError('classify predict: give a checkpoint (e.g. runs/classify from gptlab classify train)');
    if (!o.data && !o._.length) throw new UsageError('classify predict: give texts to classify, or --data FILE');
    if (o.svg !== undefined) checkOutputFile(o.svg as string, '--svg', 'classify predict');
    await setupBackend(o);
    runClassifyPredict(o.checkpoint as string, { texts: o._, file: o.data as string | undefined, svg: o.svg as string | undefined });
    return 0;
  }
  if (sub === '--help' || sub === '-h') {
    process.stdout.write(`gptlab classify — fine-tune BERT for sentence classification\n\nusage: ${USAGE}\n`);
    return 0;
  }
  throw new UsageError(`classify: give a subcommand, train or predict (got ${sub === undefined ? 'none' : JSON.stringify(sub)})`);
}
