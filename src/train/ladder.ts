// The model ladder (issue #12): bigram → n-gram → MLP → RNN → LSTM → GRU → GPT on the same text, split and
// tokenizer, each trained under the same wall-clock budget (or for the same number of steps) and scored on the
// whole dev part the same way (src/eval/evaluate.ts: non-overlapping windows of each model's block size).
// The bigram is the n-gram of order 2; the n-gram row is the order among 2…6 with the best dev loss (both
// interpolated modified Kneser–Ney, fitted by counting, so no budget applies to them). Gradient models train
// with AdamW from Rng(seed), batches from the seed's stream: with `steps` every number is reproducible; with a
// budget the step count (and so the result) depends on the machine. In budget mode the learning rate follows a
// cosine over the budget's elapsed fraction instead of over steps. Browser-safe: files are src/cli/ladder.ts.
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
  /** n-grams: the orders tried; the best on dev is kept */
  orders?: number[];
  /** batch size and peak learning rate of gradient models */
  batchSize?: number;
  lr?: number;
}

/** the ladder, sized for a CPU: every gradient model in its registry's 'ladder' preset (GPT: cpu) */
export const LADDER_RUNGS: LadderRung[] = [
  { name: 'bigram', arch: 'ngram', orders: [2] },
  { name: 'n-gram', arch: 'ngram', orders: [2, 3, 4, 5, 6] },
  { name: 'MLP', arch: 'mlp', preset: 'ladder', batchSize: 32, lr: 3e-3 },
  { name: 'RNN', arch: 'rnn', preset: 'ladder', batchSize: 32, lr: 3e-3 },
  { name: 'LSTM', arch: 'lstm', preset: 'ladder', batchSize: 32, lr: 3e-3 },
  { name: 'GRU', arch: 'gru', preset: 'ladder', batchSize: 32, lr: 3e-3 },
  { name: 'GPT', arch: 'gpt', preset: 'cpu', batchSize: 12, lr: 1e-3 },
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
  seed?: number;
  /** rungs to run (default LADDER_RUNGS) */
  rungs?: LadderRung[];
  /** overrides every rung's preset (tests: 'tiny') */
  preset?: string;
  /** score at most this many dev tokens (0 or absent: all) */
  evalTokens?: number;
  /** progress lines */
  log?: (line: string) => void;
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
      log(`${row.name}: dev loss ${row.devLoss.toFixed(4)}, ${row.steps} steps in ${row.trainSeconds.toFixed(1)} s`);
    } catch (e) {
      throw new Error(`ladder: ${rung.name}: ${(e as Error).message}`);
    }
  }
  return rows;
}

function prepare(o: LadderOptions): Prepared {
  if (o.steps === undefined && !(o.budgetSeconds! > 0)) throw new Error('ladder: give a budget in seconds or a number of steps');
  if (o.steps !== undefined && !(Number.isInteger(o.steps) && o.steps >= 1)) throw new Error(`ladder: steps must be a positive integer, got ${o.steps}`);
  const splits = splitTokens(Int32Array.from(o.tokenizer.encode(o.text)), o.split);
  let dev = Array.from(splits.dev);
  if (o.evalTokens && dev.length > o.evalTokens + 1) dev = dev.slice(0, o.evalTokens + 1);
  if (dev.length < 2) throw new Error('ladder: the dev part has fewer than 2 tokens; use more data or a larger dev split');
  const devChars = Array.from(o.tokenizer.decode(dev)).length - Array.from(o.tokenizer.decode(dev.slice(0, 1))).length;
  return { splits, devChars };
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
  const name = rung.orders!.length > 1 ? `${rung.name} (order ${best!.order})` : rung.name;
  return { ...best!, name };
}

/** gradient rungs: trains until the budget or the step count, then scores on dev */
async function trainRung(o: LadderOptions, p: Prepared, rung: LadderRung, log: (l: string) => void): Promise<LadderRow> {
  const seed = o.seed ?? 1337;
  const model = createModel(rung.arch, presetConfig(rung.arch, o.preset ?? rung.preset, o.tokenizer.vocabSize), seed);
  log(`${rung.name}: ${model.describe()}, ${model.numParameters().toLocaleString('en')} parameters`);
  const lr = rung.lr ?? 1e-3;
  const cfg: Partial<TrainConfig> = {
    maxIters: o.steps ?? Number.MAX_SAFE_INTEGER, lrDecayIters: o.steps ?? Number.MAX_SAFE_INTEGER, batchSize: rung.batchSize ?? 12,
    lr, minLr: lr / 10, warmupIters: Math.min(20, o.steps ?? 20), evalInterval: Number.MAX_SAFE_INTEGER, evalIters: 1, sampleAt: [], seed, gradClip: 1,
  };
  const trainer = new BudgetTrainer(model, new Pretraining(p.splits), cfg, o.steps === undefined ? o.budgetSeconds! : 0);
  const t0 = performance.now();
  await trainer.run({ shouldStop: () => trainer.overBudget() });
  const trainSeconds = (performance.now() - t0) / 1000;
  return {
    name: rung.name, arch: rung.arch, describe: model.describe(), size: model.numParameters(), sizeUnit: 'parameters',
    trainSeconds, steps: trainer.state.step, ...scoreDev(o, p, model),
  };
}

/**
 * A Trainer that, given a budget in seconds, decays its learning rate over the budget's elapsed fraction
 * (cosine from lr to minLr after the warmup steps) and says when the budget is spent. Budget 0: the plain
 * step schedule.
 */
class BudgetTrainer extends Trainer {
  private start = -1;
  constructor(model: LanguageModel, objective: Pretraining, config: Partial<TrainConfig>, private readonly budgetSeconds: number) {
    super(model, objective, config);
  }

  /** the elapsed share of the budget, from the first step */
  private fraction(): number {
    if (this.start < 0) this.start = performance.now();
    return Math.min(1, (performance.now() - this.start) / 1000 / this.budgetSeconds);
  }

  override lrAt(step: number): number {
    if (!this.budgetSeconds) return super.lrAt(step);
    const c = this.config, f = this.fraction();
    if (step < c.warmupIters) return (c.lr * (step + 1)) / (c.warmupIters + 1);
    return c.minLr + 0.5 * (1 + Math.cos(Math.PI * f)) * (c.lr - c.minLr);
  }

  overBudget(): boolean {
    return this.budgetSeconds > 0 && this.fraction() >= 1;
  }
}
