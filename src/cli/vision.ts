// gptlab vision train|predict: image classification (an MLP or a LeNet-style CNN) on the built-in digit
// glyphs or a pixel CSV (label + H·W grey values per row), into a run folder with checkpoints, loss.svg,
// confusion.svg and misclassified.png; predict scores a checkpoint on a labelled CSV.
import fs from 'node:fs';
import path from 'node:path';
import { helpText, parseArgs, UsageError, type OptTable, type ParsedArgs, SEED_RANGE } from './args.js';
import { BACKEND_OPTS, maybeHelp, runSubcommand, setupBackend } from './common.js';
import { nonMuonOptimizerOpts, nonMuonOptimizerOptions } from './optimizer-flags.js';
import { runVisionPredict, runVisionTrain, VISION_DATA_DEFAULTS } from '../train/vision-job.node.js';
import { isRunFolder } from '../train/model-folder.node.js';
import type { PixelsCSVOptions } from '../data/pixels-csv.js';
import type { TrainConfig } from '../train/trainer.js';

const CSV_OPTS: OptTable = {
  imageSize: { type: 'int', min: 1, help: 'image side H = W (default: inferred from the row width)' },
  labelColumn: { type: 'string', default: 'first', choices: ['first', 'last'], help: 'where each row keeps its label' },
  maxValue: { type: 'number', above: 0, help: 'pixel value that means full ink (default: the largest in the file)' },
};

const TRAIN_OPTS: OptTable = {
  data: { type: 'string', help: 'pixel CSV (default: the built-in digit glyphs)' },
  model: { type: 'string', default: 'cnn', choices: ['mlp', 'cnn'], help: 'MLP or LeNet-style CNN' },
  out: { type: 'string', default: 'runs/vision', help: 'run folder' },
  resume: { type: 'bool', help: 'continue the run in --out' },
  force: { type: 'bool', help: 'overwrite a run already in --out' },
  testFraction: { type: 'number', default: VISION_DATA_DEFAULTS.testFraction, min: 0, below: 1, help: 'share of --data held out as the test set' },
  glyphSize: { type: 'int', default: VISION_DATA_DEFAULTS.glyphSize, min: 8, max: 64, help: 'built-in glyphs: image side' },
  trainPerClass: { type: 'int', default: VISION_DATA_DEFAULTS.glyphTrainPerClass, min: 1, help: 'built-in glyphs: training images per digit' },
  testPerClass: { type: 'int', default: VISION_DATA_DEFAULTS.glyphTestPerClass, min: 1, help: 'built-in glyphs: test images per digit' },
  hidden: { type: 'ints', default: [128], min: 1, help: 'MLP hidden widths, e.g. 256,128' },
  channels: { type: 'ints', default: [8, 16], min: 1, help: 'CNN channels of the two convolutions' },
  fc: { type: 'int', default: 64, min: 1, help: 'CNN fully connected width' },
  kernel: { type: 'int', min: 1, help: 'CNN kernel side (default 5 for images ≥ 16 px, else 3)' },
  maxIters: { type: 'int', default: 1500, min: 1, help: 'training steps' },
  batchSize: { type: 'int', default: 32, min: 1, help: 'images per step' },
  lr: { type: 'number', default: 3e-3, above: 0, help: 'peak learning rate' },
  minLr: { type: 'number', default: 1e-4, min: 0, help: 'final learning rate' },
  warmupIters: { type: 'int', default: 50, min: 0, help: 'warmup steps' },
  weightDecay: { type: 'number', default: 1e-4, min: 0, help: 'weight decay of the weight matrices (optimizers other than AdamW: 0 unless given, as PyTorch)' },
  ...nonMuonOptimizerOpts('adamw', 'the classifier'),
  evalInterval: { type: 'int', default: 250, min: 1, help: 'test scores and checkpoint every N steps' },
  seed: { type: 'int', ...SEED_RANGE, default: 1, help: 'random seed (data, split, initialisation, batches)' },
  ...CSV_OPTS,
  ...BACKEND_OPTS,
};

const PREDICT_OPTS: OptTable = {
  checkpoint: { type: 'string', positional: true, help: 'checkpoint or run folder (uses best/)' },
  data: { type: 'string', help: 'labelled pixel CSV to score' },
  out: { type: 'string', help: 'folder for confusion.svg and misclassified.png (default: predict/ in the run folder; never the run\'s own files)' },
  ...CSV_OPTS,
  imageSize: { type: 'int', min: 1, help: "image side (default: the model's)" },
  ...BACKEND_OPTS,
};

const USAGE = 'gptlab vision train [--data pixels.csv] [--model mlp|cnn] [--out DIR] [options]\n       gptlab vision predict CKPT --data pixels.csv [--out DIR]';

const csvOptions = (o: ParsedArgs): PixelsCSVOptions => ({ imageSize: o.imageSize as number | undefined, labelColumn: o.labelColumn as 'first' | 'last', maxValue: o.maxValue as number | undefined });

/**
 * Checks vision train's flags before any data is read: --resume with --force, --resume without a run in --out,
 * and a --kernel larger than the built-in glyphs are refused. Returns notes for flags the --model ignores.
 */
function checkVisionFlags(o: ParsedArgs): string[] {
  const out = o.out as string;
  if (o.resume && o.force) throw new UsageError('vision train: --resume continues the run in --out and --force overwrites it; give one of them');
  if (o.resume && !fs.existsSync(path.join(out, 'checkpoint'))) throw new UsageError(`vision train: nothing to resume in ${out} (no checkpoint/ there); drop --resume to start a run`);
  if (!o.data && o.model === 'cnn' && o.kernel !== undefined && (o.kernel as number) > (o.glyphSize as number)) {
    throw new UsageError(`vision train: --kernel ${o.kernel as number} is larger than the ${o.glyphSize as number}×${o.glyphSize as number} glyphs`);
  }
  const ignored = (o.model === 'cnn' ? ['hidden'] : ['channels', 'fc', 'kernel']).filter((k) => o._given.has(k));
  return ignored.length ? [`note: ${ignored.map((k) => `--${k}`).join(', ')} ${ignored.length > 1 ? 'do' : 'does'} not apply to --model ${o.model as string}; ignored`] : [];
}

async function train(o: ParsedArgs): Promise<number> {
  const notes = checkVisionFlags(o);
  const channels = o.channels as number[];
  if (channels.length !== 2) throw new UsageError(`vision train: --channels needs two numbers (first and second convolution), got ${channels.join(',')}`);
  const trainKeys = ['maxIters', 'batchSize', 'lr', 'minLr', 'warmupIters', 'weightDecay', 'evalInterval', 'seed'] as const;
  const tc: Partial<TrainConfig> = { gradClip: 1, beta1: 0.9, beta2: 0.999 };
  for (const k of trainKeys) if (!o.resume || o._given.has(k)) (tc as Record<string, unknown>)[k] = o[k];
  Object.assign(tc, nonMuonOptimizerOptions(o, 'vision train'));
  const now = (k: string): number | undefined => (o.resume && !o._given.has(k) ? undefined : (o[k] as number));
  process.stdout.write(`backend: ${await setupBackend(o)}\n`);
  for (const n of notes) process.stdout.write(n + '\n');
  const res = await runVisionTrain({
    // a resumed run keeps its own data settings for those not given now
    data: o.data as string | undefined, csv: !o.resume || ['imageSize', 'labelColumn', 'maxValue'].some((k) => o._given.has(k)) ? csvOptions(o) : undefined,
    testFraction: now('testFraction'), glyphSize: now('glyphSize'), glyphTrainPerClass: now('trainPerClass'), glyphTestPerClass: now('testPerClass'),
    model: { arch: o.model as 'mlp' | 'cnn', hidden: o.hidden as number[], channels: [channels[0], channels[1]], fc: o.fc as number, ...(o.kernel ? { kernel: o.kernel as number } : {}) },
    train: tc, out: o.out as string, resume: !!o.resume, force: !!o.force,
  });
  return res.outcome === 'interrupted' ? 130 : 0;
}

/** refuses a --out that is a file, has no parent folder, or holds a training run (whose files predict would replace) */
function checkPredictOut(out: string): void {
  const st = fs.statSync(out, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) throw new UsageError(`vision predict: --out ${out}: exists and is not a folder (--out names a folder)`);
  if (!st && !fs.existsSync(path.dirname(path.resolve(out)))) throw new UsageError(`vision predict: --out ${out}: folder ${path.dirname(out)} does not exist`);
  if (st && isRunFolder(out)) throw new UsageError(`vision predict: --out ${out} holds a training run; give another folder (default: ${path.join(out, 'predict')})`);
}

/** `gptlab vision …`; returns the exit code */
export async function visionCommand(argv: string[]): Promise<number> {
  return runSubcommand('vision', argv, `gptlab vision — image classification (MLP, LeNet-style CNN)\n\nusage: ${USAGE}`, { train: trainSub, predict: predictSub }, 'train or predict');
}

/** `gptlab vision train …` */
async function trainSub(rest: string[]): Promise<number> {
  const o = parseArgs(rest, TRAIN_OPTS, 'vision train');
  if (maybeHelp(o, () => helpText('vision train', 'train an image classifier (built-in digit glyphs without --data)', TRAIN_OPTS, USAGE))) return 0;
  return train(o);
}

/** `gptlab vision predict …` */
async function predictSub(rest: string[]): Promise<number> {
  const o = parseArgs(rest, PREDICT_OPTS, 'vision predict');
  if (maybeHelp(o, () => helpText('vision predict', 'score an image classifier on a labelled pixel CSV', PREDICT_OPTS, USAGE))) return 0;
  if (!o.checkpoint) throw new UsageError('vision predict: give a checkpoint (e.g. runs/vision from gptlab vision train)');
  if (!o.data) throw new UsageError('vision predict: give --data pixels.csv');
  const out = o.out as string | undefined;
  if (out !== undefined) checkPredictOut(out);
  await setupBackend(o);
  runVisionPredict(o.checkpoint as string, o.data as string, csvOptions(o), undefined, out);
  return 0;
}
