// The model ladder (issue #12): bigram → n-gram → MLP → RNN → LSTM → GRU → GPT on the same text, split and
// tokenizer, each trained under the same wall-clock budget (or for the same number of steps) and scored on the
// whole dev part the same way (src/eval/evaluate.ts: non-overlapping windows of each model's block size).
// The bigram is the n-gram of order 2; the n-gram row is the classic trigram, or the best on dev of the orders
// given (both interpolated modified Kneser–Ney, fitted by counting, so no budget applies to them). Gradient
// models train with Muon (AdamW for embeddings, heads, norms and biases) from Rng(seed), batches from the seed's
// stream, for a number of steps with a cosine schedule over them: given (`steps`, or `rungSteps` per rung), or
// calibrated from a time budget by timing a few steps first. Either way the row reports its step count, and the same counts reproduce every number.
// Browser-safe: files are src/cli/ladder.ts.
import type { LanguageModel } from '../models/model.js';
import { createModel, presetConfig } from '../models/registry.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { splitTokens, type SplitFractions, type TokenSplits } from '../data/dataset.js';
import { evaluateText } from '../eval/evaluate.js';
import { Trainer, type TrainConfig } from './trainer.js';
import { Pretraining } from './pretraining.js';
import { isFittable } from './fittable.js';

/** one rung: a model type with its size and training settings */
export interface LadderRung {
  /** row name: 'bigram', 'n-gram', 'MLP', … */
  name: string;
  arch: string;
  /** registry preset (ignored by n-grams) */
  preset?: string;
  /** fields over the preset's (e.g. GPT's nLayer) */
  config?: Record<string, unknown>;
  /** n-grams: the orders tried; the best on dev is kept */
  orders?: number[];
  /** batch size and peak learning rate of gradient models */
  batchSize?: number;
  lr?: number;
  /** warm-up steps (default 20, at most the step count) */
  warmup?: number;
  /** other trainer settings over the ladder's (e.g. minLr, weightDecay, beta2) */
  train?: Partial<TrainConfig>;
}

/**
 * The ladder. The rungs were sized so that each gradient model cost about the same per step on 2 cores
 * before the recurrent layers were fused: MLP, RNN (2 × 256), GRU (1 × 256) and LSTM (1 × 192: a gated layer costs
 * 3–4 plain ones) in their registry's 'ladder' preset, and a decoder-only transformer of 3 layers × 80 with
 * LLaMA's blocks (RoPE, RMSNorm, SwiGLU of width 320, 2 key/value heads, an lm_head of its own as the recurrent
 * rungs have; `--arch llama`), which reached a lower dev loss than nanoGPT's GPT-2 blocks at the same budget
 * (`--only GPT-2` still runs those; LADDER_OPTIONAL_RUNGS). Every step sees 2,048 characters: the sequence rungs
 * read blocks of 128 at batch 16 (blocks of 64 at batch 32 left every one of them worse at a 2-minute budget on
 * tinyshakespeare: RNN 1.534 → 1.516, LSTM 1.519 → 1.491, GRU 1.517 → 1.497, GPT 1.546 → 1.503), the MLP
 * windows of 64 at batch 32. Every gradient rung trains with Muon (src/optim/muon.ts), which lowered every one's
 * dev loss at the same budget against AdamW. Learning rates were tuned at that budget: RNN and GRU 1e-2 (of 3e-3,
 * 1e-2, 2e-2), LSTM 2e-2 (of 3e-3, 1e-2, 2e-2), the GPT's 4.5e-3 decaying to 0 (of 3.5e-3, 4.5e-3, 6e-3; to lr/10
 * was 0.001 worse); the MLP keeps 3e-3. The README lists what else was tried for the transformer. The n-gram rung
 * is the classic trigram; higher orders (the CLI's --ngram-orders) are a strong character baseline.
 */
const MUON: Partial<TrainConfig> = { optimizer: 'muon' };

export const LADDER_RUNGS: LadderRung[] = [
  { name: 'bigram', arch: 'ngram', orders: [2] },
  { name: 'n-gram', arch: 'ngram', orders: [3] },
  { name: 'MLP', arch: 'mlp', preset: 'ladder', batchSize: 32, lr: 3e-3, train: MUON },
  { name: 'RNN', arch: 'rnn', preset: 'ladder', config: { blockSize: 128 }, batchSize: 16, lr: 1e-2, train: MUON },
  { name: 'LSTM', arch: 'lstm', preset: 'ladder', config: { nLayer: 1, nHidden: 192, blockSize: 128 }, batchSize: 16, lr: 2e-2, train: MUON },
  { name: 'GRU', arch: 'gru', preset: 'ladder', config: { nLayer: 1, blockSize: 128 }, batchSize: 16, lr: 1e-2, train: MUON },
  { name: 'GPT', arch: 'llama', preset: 'cpu', config: { nLayer: 3, nEmbd: 80, nHead: 4, nKvHead: 2, intermediateSize: 320, tieWordEmbeddings: false, blockSize: 128 }, batchSize: 16, lr: 4.5e-3, train: { ...MUON, minLr: 0 } },
];

/**
 * Rungs `--only` can add to the ladder: 'GPT-2' is the transformer rung with nanoGPT's GPT-2 blocks (learned
 * positions, LayerNorm, GELU MLP; `--arch gpt`) at the same size, at its own best learning rate.
 */
export const LADDER_OPTIONAL_RUNGS: LadderRung[] = [
  { name: 'GPT-2', arch: 'gpt', preset: 'cpu', config: { nLayer: 3, nEmbd: 80, nHead: 4 }, batchSize: 32, lr: 1e-2, train: MUON },
];

export interface LadderOptions {
  text: string;
  tokenizer: Tokenizer;
  /** train/dev by position (test unused) */
  split: SplitFractions;
  /** seconds of training per gradient model; ignored when `steps` is given */
  budgetSeconds?: number;
  /** exact steps per gradient model (reproducible) */
  steps?: number;
  /** exact steps of named rungs (overrides `steps` and the budget for those rungs): what a budget run reports */
  rungSteps?: Record<string, number>;
  seed?: number;
  /** settings over every gradient rung's own (e.g. { optimizer: 'sgd', optimizerOptions: { momentum: 0.9 } }) */
  train?: Partial<TrainConfig>;
  /** rungs to run (default LADDER_RUNGS) */
  rungs?: LadderRung[];
  /** overrides every rung's preset (tests: 'tiny') */
  preset?: string;
  /** score at most this many dev tokens (0 or absent: all) */
  evalTokens?: number;
  /** progress lines */
  log?: (line: string) => void;
  /** called with the rows so far after each rung finishes (the CLI writes its files there, so a stop keeps them) */
  onRow?: (rows: LadderRow[]) => void;
  /** called after every training step of a gradient rung (the CLI draws a progress bar from it) */
  onStep?: (rung: string, u: { step: number; total: number; loss: number; tokensPerSec: number }) => void;
}

export interface LadderRow {
  name: string;
  arch: string;
  describe: string;
  /** trainable parameters, or stored n-grams for count models (`sizeUnit`) */
  size: number;
  sizeUnit: 'parameters' | 'n-grams';
  /** seconds spent training (or fitting the chosen order) */
  trainSeconds: number;
  steps: number;
  devLoss: number;
  perplexity: number;
  bitsPerChar: number;
  /** n-grams: the chosen order */
  order?: number;
}

/** the ladder's inputs, tokenized once */
interface Prepared {
  splits: TokenSplits;
  /** the dev ids scored (cut to evalTokens + 1) and their characters after the first token */
  devChars: number;
}

/** Runs every rung in order; throws one line naming the rung that fails. */
export async function runLadder(o: LadderOptions): Promise<LadderRow[]> {
  const log = o.log ?? (() => {});
  const p = prepare(o);
  const rows: LadderRow[] = [];
  const fitted = new Map<number, LadderRow>(); // n-gram rows by order, shared by the bigram and n-gram rungs
  for (const rung of o.rungs ?? LADDER_RUNGS) {
    try {
      const row = rung.orders ? fitNgram(o, p, rung, fitted, log) : await trainRung(o, p, rung, log);
      rows.push(row);
      o.onRow?.(rows.slice());
      log(`${row.name}: dev loss ${row.devLoss.toFixed(4)}, ${row.steps} step${row.steps === 1 ? '' : 's'} in ${row.trainSeconds.toFixed(1)} s`);
    } catch (e) {
      throw new Error(`ladder: ${rung.name}: ${(e as Error).message}`);
    }
  }
  return rows;
}

function prepare(o: LadderOptions): Prepared {
  for (const [name, n] of Object.entries(o.rungSteps ?? {})) {
    if (!(Number.isInteger(n) && n >= 1)) throw new Error(`ladder: steps of ${name} must be a positive integer, got ${n}`);
  }
  const allGiven = (o.rungs ?? LADDER_RUNGS).every((r) => r.orders || o.rungSteps?.[r.name] !== undefined);
  if (o.steps === undefined && !allGiven && !(o.budgetSeconds! > 0)) throw new Error('ladder: give a budget in seconds or a number of steps');
  if (o.steps !== undefined && !(Number.isInteger(o.steps) && o.steps >= 1)) throw new Error(`ladder: steps must be a positive integer, got ${o.steps}`);
  const splits = splitTokens(Int32Array.from(o.tokenizer.encode(o.text)), o.split);
  let dev = Array.from(splits.dev);
  if (o.evalTokens && dev.length > o.evalTokens + 1) dev = dev.slice(0, o.evalTokens + 1);
  if (dev.length < 2) throw new Error('ladder: the dev part has fewer than 2 tokens; use more data or a larger dev split');
  const devChars = Array.from(o.tokenizer.decode(dev)).length - Array.from(o.tokenizer.decode(dev.slice(0, 1))).length;
  checkRungs(o, splits);
  return { splits, devChars };
}

/** builds every gradient rung's model once before any training, so a bad preset or too little text fails first */
function checkRungs(o: LadderOptions, splits: TokenSplits): void {
  for (const rung of o.rungs ?? LADDER_RUNGS) {
    if (rung.orders) continue;
    try {
      const T = createRungModel(o, rung).config.blockSize;
      if (splits.train.length < T + 1) {
        throw new Error(`the train part has ${splits.train.length} tokens, too few for its block size ${T}; use more text${o.preset ? '' : ', or --preset tiny (smaller blocks)'}`);
      }
    } catch (e) {
      throw new Error(`ladder: ${rung.name}: ${(e as Error).message}`);
    }
  }
}

/** scores a model on the dev part: loss, perplexity, bits per character */
function scoreDev(o: LadderOptions, p: Prepared, model: LanguageModel): Pick<LadderRow, 'devLoss' | 'perplexity' | 'bitsPerChar'> {
  const ev = evaluateText(model, o.tokenizer, o.text, { split: o.split, part: 'dev', maxTokens: o.evalTokens ?? 0, batchSize: 32, source: 'ladder data' });
  return { devLoss: ev.loss, perplexity: ev.perplexity, bitsPerChar: (ev.loss * ev.tokens) / (p.devChars * Math.LN2) };
}

/** n-gram rungs: fits each order (once per ladder) and keeps the best on dev */
function fitNgram(o: LadderOptions, p: Prepared, rung: LadderRung, fitted: Map<number, LadderRow>, log: (l: string) => void): LadderRow {
  let best: LadderRow | null = null;
  for (const order of rung.orders!) {
    if (!fitted.has(order)) {
      const model = createModel('ngram', presetConfig('ngram', 'bigram', o.tokenizer.vocabSize, { order, blockSize: 1024 }), o.seed ?? 1337);
      if (!isFittable(model)) throw new Error('the ngram model type has no fit()');
      const t0 = performance.now();
      model.fit(p.splits.train);
      const seconds = (performance.now() - t0) / 1000;
      const row: LadderRow = {
        name: rung.name, arch: 'ngram', describe: model.describe(), size: model.numParams(), sizeUnit: 'n-grams',
        trainSeconds: seconds, steps: 0, order, ...scoreDev(o, p, model),
      };
      fitted.set(order, row);
      log(`  order ${order}: dev loss ${row.devLoss.toFixed(4)} (${row.size.toLocaleString('en')} n-grams, fitted in ${seconds.toFixed(1)} s)`);
    }
    const row = fitted.get(order)!;
    if (!best || row.devLoss < best.devLoss) best = row;
  }
  const name = rung.orders!.length > 1 || rung.orders![0] !== 2 ? `${rung.name} (order ${best!.order})` : rung.name;
  return { ...best!, name };
}

/** the training settings of a gradient rung run for `steps` steps (cosine from lr to lr/10 over the steps, unless the rung's `train` says otherwise) */
function rungConfig(o: LadderOptions, rung: LadderRung, steps: number): Partial<TrainConfig> {
  const lr = rung.lr ?? 1e-3;
  return {
    maxIters: steps, lrDecayIters: steps, batchSize: rung.batchSize ?? 12, lr, minLr: lr / 10, warmupIters: Math.min(rung.warmup ?? 20, steps),
    evalInterval: Number.MAX_SAFE_INTEGER, evalIters: 1, sampleAt: [], seed: o.seed ?? 1337, gradClip: 1,
    ...rung.train,
    ...o.train,
  };
}

function createRungModel(o: LadderOptions, rung: LadderRung): LanguageModel {
  const config = o.preset ? {} : rung.config;
  return createModel(rung.arch, presetConfig(rung.arch, o.preset ?? rung.preset, o.tokenizer.vocabSize, config), o.seed ?? 1337);
}

/**
 * Turns a time budget into a step count: after a warm-up (at least two steps and CALIBRATION_WARMUP_SECONDS, so
 * JIT compilation and first allocations are not timed), times CALIBRATION_SECONDS of steps on a throwaway copy
 * of the rung and divides. Step rates drift ±5–8 % over 2-second windows on these machines, so the window is
 * long enough to average that out. The count, not the clock, then drives training, so a budget run is reproduced
 * exactly by `rungSteps` with the counts it reports.
 */
async function calibrateSteps(o: LadderOptions, p: Prepared, rung: LadderRung, budgetSeconds: number): Promise<number> {
  const trainer = new Trainer(createRungModel(o, rung), new Pretraining(p.splits), rungConfig(o, rung, Number.MAX_SAFE_INTEGER));
  const start = performance.now();
  const warmup = Math.min(CALIBRATION_WARMUP_SECONDS, budgetSeconds / 20), limit = Math.min(CALIBRATION_SECONDS, budgetSeconds / 4);
  let t0 = 0, timed = 0;
  await trainer.run({
    onStep: ({ step }) => {
      const now = performance.now();
      if (t0) timed++;
      else if (step >= 2 && (now - start) / 1000 >= warmup) t0 = now;
    },
    shouldStop: () => t0 > 0 && (performance.now() - t0) / 1000 >= limit && timed >= 2,
  });
  const secondsPerStep = (performance.now() - t0) / 1000 / Math.max(1, timed);
  return Math.max(1, Math.floor(budgetSeconds / secondsPerStep));
}

/** seconds of untimed warm-up, then of timed steps, per rung to turn a budget into a step count */
const CALIBRATION_WARMUP_SECONDS = 2;
const CALIBRATION_SECONDS = 10;

/** gradient rungs: trains for the rung's steps (given, or calibrated from the budget), then scores on dev */
async function trainRung(o: LadderOptions, p: Prepared, rung: LadderRung, log: (l: string) => void): Promise<LadderRow> {
  const model = createRungModel(o, rung);
  const c = rungConfig(o, rung, 1);
  // what ladder.md and ladder.json record of the rung: the model, then how it trains
  const describe = `${model.describe()}; ${c.optimizer ?? 'adamw'}, lr ${c.lr}, batch ${c.batchSize}`;
  log(`${rung.name}: ${describe}, ${model.numParameters().toLocaleString('en')} parameters`);
  const given = o.rungSteps?.[rung.name] ?? o.steps;
  const steps = given ?? (await calibrateSteps(o, p, rung, o.budgetSeconds!));
  if (given === undefined) log(`  ${steps.toLocaleString('en')} steps fill the ${o.budgetSeconds} s budget on this machine`);
  const trainer = new Trainer(model, new Pretraining(p.splits), rungConfig(o, rung, steps));
  const t0 = performance.now();
  await trainer.run({ onStep: (i) => o.onStep?.(rung.name, { step: i.step, total: steps, loss: i.loss, tokensPerSec: i.tokensPerSec }) });
  const trainSeconds = (performance.now() - t0) / 1000;
  return {
    name: rung.name, arch: rung.arch, describe, size: model.numParameters(), sizeUnit: 'parameters',
    trainSeconds, steps: trainer.state.step, ...scoreDev(o, p, model),
  };
}

/** a ladder run's gradient rows → `MLP=1200,RNN=800`, what `rungSteps` (the CLI's --rung-steps) takes to reproduce them */
export function rungStepsString(rows: readonly LadderRow[]): string {
  return rows.filter((r) => r.steps > 0).map((r) => `${r.name}=${r.steps}`).join(',');
}
