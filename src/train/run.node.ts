// Runs a pretraining job on disk: reads the text, builds or restores model + tokenizer, drives the Trainer,
// and keeps a run folder up to date:
//   <out>/checkpoint/   latest state, resumable (written atomically at every evaluation and at the end)
//   <out>/best/         the model with the best dev loss so far (what `sample`/`eval` pick by default)
//   <out>/loss.svg      train and dev loss curves
//   <out>/log.jsonl     one JSON line per evaluation and sample
import fs from 'node:fs';
import path from 'node:path';
import { GPT, GPT_PRESETS, type GPTConfig } from '../models/gpt.js';
import { CharTokenizer } from '../tokenizers/char.js';
import { parseTokenizerFile } from '../tokenizers/file.node.js';
import { readTextFile } from '../formats/text-file.node.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { parseSplit, splitTokens } from '../data/dataset.js';
import { lossCurveSVG } from '../eval/plot.js';
import { writeFileAtomicSync } from '../formats/atomic.node.js';
import { ProgressBar } from './progress.node.js';
import { Trainer, TRAIN_DEFAULTS, type TrainConfig, type TrainState } from './trainer.js';
import { checkpointFiles } from './checkpoint.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.node.js';

export interface TrainJob {
  text: string;
  /** where the text came from, for messages and checkpoint metadata */
  source: string;
  out: string;
  model: Partial<GPTConfig> & { preset: string };
  train: Partial<TrainConfig>;
  split: string;
  tokenizerFile?: string;
  resume: boolean;
  /** write checkpoints at all (tests may turn it off) */
  save: boolean;
  quiet?: boolean;
}

export interface TrainJobResult {
  outcome: 'done' | 'early-stopped' | 'interrupted';
  steps: number;
  bestDevLoss: number;
  lastDevLoss: number;
  seconds: number;
  tokensPerSec: number;
  out: string;
}

export async function runTrainJob(job: TrainJob, log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<TrainJobResult> {
  let model: GPT;
  let tokenizer: Tokenizer;
  let restored: { state: TrainState; moments: Map<string, Float32Array> } | null = null;
  const ckptDir = path.join(job.out, 'checkpoint');
  if (job.resume) {
    const ck = loadCheckpoint(ckptDir, true);
    if (!ck.trainerState || !ck.moments) throw new Error(`${ckptDir}: has no optimizer/trainer state, so it cannot resume`);
    model = ck.model;
    tokenizer = ck.tokenizer;
    restored = { state: ck.trainerState, moments: ck.moments };
    // the run's own settings win over defaults, flags given now win over both
    job.train = { ...(ck.config.train ?? {}), ...job.train };
  } else {
    if (job.tokenizerFile) {
      tokenizer = parseTokenizerFile(readTextFile(job.tokenizerFile, 'tokenizer file'), job.tokenizerFile);
    } else tokenizer = CharTokenizer.fromText(job.text);
    const preset = GPT_PRESETS[job.model.preset];
    if (!preset) throw new Error(`unknown preset "${job.model.preset}" (choose from ${Object.keys(GPT_PRESETS).join(', ')})`);
    const cfg: GPTConfig = { ...preset, vocabSize: tokenizer.vocabSize };
    for (const k of ['nLayer', 'nHead', 'nEmbd', 'blockSize', 'dropout', 'bias'] as const) {
      if (job.model[k] !== undefined) (cfg as unknown as Record<string, unknown>)[k] = job.model[k];
    }
    model = new GPT(cfg, job.train.seed ?? 1337);
  }

  let ids: number[];
  try {
    ids = tokenizer.encode(job.text);
  } catch (e) {
    throw new Error(`${job.source}: cannot be tokenized with this tokenizer: ${(e as Error).message}`);
  }
  const tokens = Int32Array.from(ids);
  const splits = splitTokens(tokens, parseSplit(job.split));
  const T = model.config.blockSize;
  if (splits.train.length < T + 1) {
    throw new Error(
      `${job.source}: the training split has ${splits.train.length} tokens, fewer than block size ${T} + 1; ` +
        'use more data or a smaller --block-size',
    );
  }
  const prompt = job.train.samplePrompt ?? TRAIN_DEFAULTS.samplePrompt;
  try {
    tokenizer.encode(prompt, { allowedSpecial: 'all' });
  } catch {
    // a sample prompt the vocabulary cannot spell (the default '\n' in a text without newlines) must not stop
    // a run at its first sample: start samples from the data's first token instead
    job.train = { ...job.train, samplePrompt: tokenizer.decode([tokens[0]]) };
    log(`note: the sample prompt ${JSON.stringify(prompt)} is not in the vocabulary; samples start from ${JSON.stringify(job.train.samplePrompt)}`);
  }
  const trainer = new Trainer(model, tokenizer, splits, job.train);
  if (restored) trainer.restore(restored.state, restored.moments);
  const c = trainer.config;
  const meta = { source: job.source, split: job.split, kind: 'pretrain' };
  log(
    `model: ${model.config.nLayer} layers, ${model.config.nHead} heads, ${model.config.nEmbd} wide, block ${T}, ` +
      `vocab ${model.config.vocabSize} (${tokenizer.type}) — ${(model.numParams() / 1e6).toFixed(2)}M parameters`,
  );
  log(
    `data: ${job.source} — ${tokens.length.toLocaleString('en')} tokens (train ${splits.train.length.toLocaleString('en')}, ` +
      `dev ${splits.dev.length.toLocaleString('en')}, test ${splits.test.length.toLocaleString('en')})`,
  );
  if (restored) log(`resuming ${ckptDir} at step ${restored.state.step}`);
  log(`training ${c.maxIters} steps of ${c.batchSize}×${T} tokens, lr ${c.lr} → ${c.minLr}, out ${job.out}`);

  if (job.save) fs.mkdirSync(job.out, { recursive: true });
  const logFile = path.join(job.out, 'log.jsonl');
  const appendLog = (o: object): void => {
    if (job.save) fs.appendFileSync(logFile, JSON.stringify(o) + '\n');
  };
  const writePlot = (): void => {
    if (!job.save) return;
    const h = trainer.state.history;
    const train = h.filter((p) => p.train !== undefined && p.dev === undefined).map((p) => [p.step, p.train!] as [number, number]);
    const dev = h.filter((p) => p.dev !== undefined).map((p) => [p.step, p.dev!] as [number, number]);
    const evalTrain = h.filter((p) => p.dev !== undefined).map((p) => [p.step, p.train!] as [number, number]);
    const svg = lossCurveSVG(
      [{ name: 'train (batch)', points: train }, { name: 'train (eval)', points: evalTrain }, { name: 'dev', points: dev }],
      { title: `gptlab — ${path.basename(job.out)}`, xLabel: 'step', yLabel: 'loss (nats/token)' },
    );
    writeFileAtomicSync(path.join(job.out, 'loss.svg'), svg);
  };

  const bar = job.quiet ? null : new ProgressBar({ label: 'train' });
  const say = (line: string): void => (bar ? bar.log(line) : log(line));
  let lastDev = NaN;
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say('interrupt: finishing this step and saving a checkpoint (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  const t0 = performance.now();
  const startStep = trainer.state.step;
  let outcome: TrainJobResult['outcome'];
  try {
    outcome = await trainer.run({
      onStep: (s) => bar?.update({ step: s.step, total: c.maxIters, loss: s.loss, devLoss: lastDev, tokensPerSec: s.tokensPerSec, extra: { lr: s.lr.toExponential(1) } }),
      onEval: ({ step, train, dev, improved }) => {
        lastDev = dev;
        bar?.pause();
        say(`step ${step}: train loss ${train.toFixed(4)}, dev loss ${dev.toFixed(4)}${improved ? ' (best)' : ''}`);
        appendLog({ step, train, dev, time: (performance.now() - t0) / 1000 });
        if (job.save) {
          saveCheckpoint(ckptDir, checkpointFiles(model, tokenizer, { trainer, meta }));
          if (improved) saveCheckpoint(path.join(job.out, 'best'), checkpointFiles(model, tokenizer, { meta: { ...meta, step, devLoss: dev } }));
          writePlot();
        }
      },
      onSample: ({ step, text }) => {
        bar?.pause();
        say(`--- sample at step ${step} ---\n${text}\n---`);
        appendLog({ step, sample: text });
      },
      shouldStop: () => interrupted,
    });
  } finally {
    process.off('SIGINT', onSigint);
    bar?.done();
  }
  const seconds = (performance.now() - t0) / 1000;
  if (job.save) {
    saveCheckpoint(ckptDir, checkpointFiles(model, tokenizer, { trainer, meta }));
    if (!fs.existsSync(path.join(job.out, 'best'))) saveCheckpoint(path.join(job.out, 'best'), checkpointFiles(model, tokenizer, { meta }));
    writePlot();
  }
  const steps = trainer.state.step - startStep;
  const tokensPerSec = (steps * c.batchSize * T) / seconds;
  const what = outcome === 'early-stopped' ? `early-stopped (no dev improvement in ${c.patience} evaluations)` : outcome;
  log(
    `${what} at step ${trainer.state.step} in ${seconds.toFixed(1)} s (${Math.round(tokensPerSec).toLocaleString('en')} tokens/s); ` +
      `best dev loss ${trainer.state.bestDevLoss.toFixed(4)}` + (job.save ? `; saved ${job.out}/{checkpoint,best,loss.svg}` : ''),
  );
  return { outcome, steps: trainer.state.step, bestDevLoss: trainer.state.bestDevLoss, lastDevLoss: lastDev, seconds, tokensPerSec, out: job.out };
}
