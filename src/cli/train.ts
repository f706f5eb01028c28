// gptlab train: pretraining from a text file, or the built-in demo corpus.
import path from 'node:path';
import { helpText, parseArgs, UsageError, type OptTable } from './args.js';
import { BACKEND_OPTS, maybeHelp, setupBackend } from './common.js';
import { runTrainJob } from '../train/run.node.js';
import { readTextFile } from '../formats/text-file.node.js';
import { demoCorpus } from '../data/corpus.js';
import { GPT_PRESETS } from '../models/gpt.js';
import { TRAIN_DEFAULTS } from '../train/trainer.js';

const D = TRAIN_DEFAULTS;

/** `--demo` without other choices: the demo preset (block 128) for about two minutes on two cores */
const DEMO_DEFAULTS = { maxIters: 700, batchSize: 8, lr: 2e-3, sampleAt: [0, 200, 400, 700], evalInterval: 200 };
export const TRAIN_OPTS: OptTable = {
  data: { type: 'string', help: 'training text file (UTF-8)' },
  demo: { type: 'bool', help: 'train on the built-in demo corpus (English-like sentences and sums), ~2 minutes' },
  out: { type: 'string', help: 'run folder (default runs/<data name> or runs/demo)' },
  resume: { type: 'bool', help: 'continue the run in --out from its last checkpoint (same trajectory)' },
  tokenizer: { type: 'string', help: 'tokenizer JSON file (default: a character vocabulary built from the data)' },
  preset: { type: 'string', help: `model size: ${Object.keys(GPT_PRESETS).join(', ')} (default: cpu; demo with --demo)` },
  nLayer: { type: 'int', help: 'transformer blocks (overrides the preset)' },
  nHead: { type: 'int', help: 'attention heads' },
  nEmbd: { type: 'int', help: 'embedding width' },
  blockSize: { type: 'int', help: 'context length T' },
  dropout: { type: 'number', help: 'dropout probability' },
  bias: { type: 'bool', help: 'biases in Linear layers and LayerNorms' },
  batchSize: { type: 'int', default: D.batchSize, help: 'sequences per step B' },
  maxIters: { type: 'int', default: D.maxIters, help: 'training steps' },
  lr: { type: 'number', default: D.lr, help: 'peak learning rate' },
  minLr: { type: 'number', default: D.minLr, help: 'learning rate at the end of the cosine decay' },
  warmupIters: { type: 'int', default: D.warmupIters, help: 'linear warmup steps' },
  lrDecayIters: { type: 'int', help: 'cosine decay length (default: max-iters)' },
  weightDecay: { type: 'number', default: D.weightDecay, help: 'AdamW decoupled weight decay (Linear weights only)' },
  decayEmbeddings: { type: 'bool', help: "also decay the embeddings (nanoGPT's rule: every ≥2-D parameter)" },
  beta1: { type: 'number', default: D.beta1, help: 'AdamW β1' },
  beta2: { type: 'number', default: D.beta2, help: 'AdamW β2' },
  gradClip: { type: 'number', default: D.gradClip, help: 'clip the global gradient norm (0 = off)' },
  evalInterval: { type: 'int', default: D.evalInterval, help: 'evaluate (and checkpoint) every N steps' },
  evalIters: { type: 'int', default: D.evalIters, help: 'batches per loss estimate' },
  patience: { type: 'int', default: D.patience, help: 'early stopping: evaluations without a better dev loss (0 = off)' },
  split: { type: 'string', default: '90/5/5', help: 'train/dev/test split by position, in percent' },
  sampleAt: { type: 'ints', default: D.sampleAt, help: 'steps at which to print a sample' },
  sampleTokens: { type: 'int', default: D.sampleTokens, help: 'tokens per sample' },
  prompt: { type: 'string', default: D.samplePrompt, help: 'prompt of the samples' },
  temperature: { type: 'number', default: D.sampleTemperature, help: 'temperature of the samples' },
  seed: { type: 'int', default: D.seed, help: 'random seed (weights, batches, dropout)' },
  ...BACKEND_OPTS,
};

export async function trainCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, TRAIN_OPTS, 'train');
  if (maybeHelp(o, () => helpText('train', 'train a GPT on text', TRAIN_OPTS, 'gptlab train (--data FILE | --demo) [options]'))) return 0;
  if (o._.length) throw new UsageError(`train: unexpected argument "${o._[0]}" (did you mean --data ${o._[0]}?)`);
  if (!o.data && !o.demo && !o.resume) throw new UsageError('train: give --data FILE, or --demo for the built-in corpus');
  if (o.data && o.demo) throw new UsageError('train: give either --data or --demo, not both');
  const positive = ['batchSize', 'maxIters', 'evalInterval', 'evalIters', 'sampleTokens'] as const;
  for (const k of positive) if ((o[k] as number) < 1) throw new UsageError(`train: --${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} must be at least 1, got ${o[k]}`);
  if ((o.lr as number) <= 0) throw new UsageError(`train: --lr must be positive, got ${o.lr}`);
  const demo = !!o.demo;
  const source = demo ? 'built-in demo corpus' : (o.data as string | undefined) ?? '';
  const out = (o.out as string | undefined) ?? path.join('runs', demo ? 'demo' : path.basename(source || 'run').replace(/\.[^.]*$/, ''));
  let text: string;
  if (demo) text = demoCorpus(o.seed as number);
  else if (o.data) text = readTextFile(o.data as string);
  else throw new UsageError('train --resume: give --data (the same text the run was trained on) or --demo');
  const backendName = await setupBackend(o);
  process.stdout.write(`backend: ${backendName}\n`);
  if (demo) {
    // the demo's own defaults, where the user did not choose: about two minutes on two cores
    for (const [k, v] of Object.entries(DEMO_DEFAULTS)) if (!o._given.has(k)) o[k] = v;
  }
  const train = {
      maxIters: o.maxIters as number, batchSize: o.batchSize as number, lr: o.lr as number,
      minLr: o.minLr as number, warmupIters: o.warmupIters as number, lrDecayIters: (o.lrDecayIters as number | undefined) ?? 0,
      weightDecay: o.weightDecay as number, decayEmbeddings: !!o.decayEmbeddings, beta1: o.beta1 as number, beta2: o.beta2 as number,
      gradClip: o.gradClip as number, evalInterval: o.evalInterval as number, evalIters: o.evalIters as number,
      patience: o.patience as number, sampleAt: o.sampleAt as number[],
      sampleTokens: o.sampleTokens as number, samplePrompt: o.prompt as string, sampleTemperature: o.temperature as number,
      seed: o.seed as number,
  };
  if (o.resume) {
    // a resumed run keeps its own settings; only options given now change them (e.g. a larger --max-iters)
    const alias: Record<string, string> = { samplePrompt: 'prompt', sampleTemperature: 'temperature' };
    for (const k of Object.keys(train) as (keyof typeof train)[]) if (!o._given.has(alias[k] ?? k)) delete train[k];
  }
  const res = await runTrainJob({
    text, source, out, resume: !!o.resume, save: true, split: o.split as string,
    tokenizerFile: o.tokenizer as string | undefined,
    model: {
      preset: (o.preset as string | undefined) ?? (demo ? 'demo' : 'cpu'), nLayer: o.nLayer as number | undefined, nHead: o.nHead as number | undefined,
      nEmbd: o.nEmbd as number | undefined, blockSize: o.blockSize as number | undefined,
      dropout: o.dropout as number | undefined, bias: o.bias as boolean | undefined,
    },
    train,
  });
  return res.outcome === 'interrupted' ? 130 : 0;
}
