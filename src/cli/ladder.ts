// gptlab ladder: bigram, n-gram, MLP, RNN, LSTM, GRU and GPT on the same text, split and tokenizer under the
// same budget each (src/train/ladder.ts); prints the table and writes ladder.json, ladder.md and ladder.svg.
import fs from 'node:fs';
import path from 'node:path';
import { helpText, parseArgs, UsageError, type ParsedArgs, type OptTable, SEED_RANGE } from './args.js';
import { OPTIMIZER_OPTS, optimizerOptions } from './optimizer-flags.js';
import type { TrainConfig } from '../train/trainer.js';
import { BACKEND_OPTS, checkSplitFlag, setupBackend } from './common.js';
import { modelType } from '../models/registry.js';
import { outputDirProblem } from './output.js';
import { readTextFile } from '../formats/text-file.node.js';
import { makeDirs, writeFileAtomicSync } from '../formats/atomic.node.js';
import { ProgressBar } from '../train/progress.node.js';
import { demoCorpus } from '../data/corpus.js';
import { parseSplit } from '../data/dataset.js';
import { CharTokenizer } from '../tokenizers/char.js';
import { parseTokenizerFile } from '../tokenizers/file.node.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { LADDER_OPTIONAL_RUNGS, LADDER_RUNGS, runLadder, rungStepsString, type LadderRow } from '../train/ladder.js';
import { ladderMarkdown, ladderSVG, ladderTable } from '../train/ladder-report.js';
import { signalExitCode } from '../train/run-folder.node.js';

/** every rung --only and --rung-steps can name: the ladder's, then the optional ones */
const ALL_RUNGS = [...LADDER_RUNGS, ...LADDER_OPTIONAL_RUNGS];
/** other names --only takes for a rung (the n-gram rung by its --arch name and its default order) */
const RUNG_ALIASES: Record<string, string> = { ngram: 'n-gram', trigram: 'n-gram' };

export const LADDER_OPTS: OptTable = {
  data: { type: 'string', help: 'text file (UTF-8); default: the built-in demo corpus' },
  budget: { type: 'string', default: '2m', help: 'training time per model: 90, 90s, 2m, 1h' },
  steps: { type: 'int', min: 1, help: 'train each model exactly N steps instead of a time budget (reproducible)' },
  rungSteps: { type: 'string', help: 'exact steps per model, as a budget run reports them: MLP=4000,RNN=1500,… (reproduces that run)' },
  ngramOrders: { type: 'string', default: '3', help: 'orders of the n-gram rung, the best on dev kept: 3, 2-6 or 3,5' },
  tokenizer: { type: 'string', default: 'char', help: 'char (a character vocabulary of the data) or a tokenizer file' },
  split: { type: 'string', default: '90/10', help: 'train/dev split by position, in percent' },
  only: { type: 'string', help: `comma-separated rungs to run (of ${ALL_RUNGS.map((r) => r.name).join(', ')}; ngram or trigram name the n-gram rung; GPT-2 is the transformer with nanoGPT's GPT-2 blocks, not run by default)` },
  preset: { type: 'string', help: "one preset for every model instead of each rung's own (e.g. tiny)" },
  evalTokens: { type: 'int', default: 0, min: 0, help: 'score at most N dev tokens (0 = the whole dev part)' },
  seed: { type: 'int', ...SEED_RANGE, default: 1337, help: 'random seed of every model and its batches' },
  out: { type: 'string', default: 'runs/ladder', help: 'folder for ladder.json, ladder.md, ladder.svg (a new or empty one, unless --force)' },
  force: { type: 'bool', help: 'write into an --out folder that already has files (replacing an earlier ladder\'s results)' },
  ...OPTIMIZER_OPTS,
  optimizer: { ...OPTIMIZER_OPTS.optimizer, default: 'muon', help: 'optimizer of every gradient rung, at the rung\'s own lr (default muon, which the rungs were tuned with)' },
  ...BACKEND_OPTS,
};

/** the longest --budget: a week per model */
const MAX_BUDGET_SECONDS = 7 * 24 * 3600;

/** "90", "90s", "2m", "1.5h" → seconds (at least 1, at most a week); throws a UsageError naming --budget */
export function parseDuration(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$/.exec(s);
  const v = m ? Number(m[1]) * { s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 's' | 'm' | 'h'] : NaN;
  if (!(v > 0)) throw new UsageError(`ladder: --budget must be a duration above 0 like 90, 90s, 2m or 1h, got "${s}"`);
  if (v < 1) throw new UsageError(`ladder: --budget ${s.trim()} is less than a second per model, the least it takes (for fewer steps give --steps N)`);
  if (v > MAX_BUDGET_SECONDS) throw new UsageError(`ladder: --budget ${s.trim()} is more than a week per model (${MAX_BUDGET_SECONDS} s), the most it takes`);
  return v;
}

function ladderTokenizer(spec: string, text: string): Tokenizer {
  if (spec === 'char') return CharTokenizer.fromText(text);
  return parseTokenizerFile(readTextFile(spec, 'tokenizer file'), spec);
}

/** "3", "2-6", "3,5" → orders of the n-gram rung; throws a UsageError naming --ngram-orders */
export function parseOrders(s: string): number[] {
  const bad = (): never => { throw new UsageError(`ladder: --ngram-orders must be orders from 1 to 10 like 3, 2-6 or 3,5, got "${s}"`); };
  const out: number[] = [];
  for (const part of s.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part) ?? bad();
    const a = Number(m[1]), b = Number(m[2] ?? m[1]);
    if (a < 1 || b > 10 || b < a) bad();
    for (let k = a; k <= b; k++) if (!out.includes(k)) out.push(k);
  }
  return out;
}

/** "MLP=4000,rnn=1500" → steps by rung name (case-insensitive); throws a UsageError naming --rung-steps */
export function parseRungSteps(s: string): Record<string, number> {
  const out: Record<string, number> = {};
  if (!s.trim()) throw new UsageError('ladder: --rung-steps is empty; give MODEL=STEPS pairs, e.g. MLP=2411,GPT=2187');
  for (const part of s.split(',').filter((x) => x.trim())) {
    const m = /^\s*([^=\s]+)\s*=\s*(\d+)\s*$/.exec(part);
    const rung = m && ALL_RUNGS.find((r) => !r.orders && r.name.toLowerCase() === m[1].toLowerCase());
    if (!m || !rung || Number(m[2]) < 1) {
      throw new UsageError(`ladder: --rung-steps: "${part.trim()}" must be MODEL=STEPS with STEPS ≥ 1 and MODEL one of ${ALL_RUNGS.filter((r) => !r.orders).map((r) => r.name).join(', ')}`);
    }
    if (out[rung.name] !== undefined) throw new UsageError(`ladder: --rung-steps gives ${rung.name} twice`);
    out[rung.name] = Number(m[2]);
  }
  return out;
}

/** the rungs --only names, in the ladder's order; throws naming an unknown one */
function chosenRungs(o: ParsedArgs): typeof LADDER_RUNGS {
  if (o.only === undefined) return LADDER_RUNGS;
  const names = (o.only as string).split(',').map((s) => RUNG_ALIASES[s.trim().toLowerCase()] ?? s.trim().toLowerCase()).filter(Boolean);
  if (!names.length) throw new UsageError(`ladder: --only names no rung (choose from ${ALL_RUNGS.map((r) => r.name).join(', ')})`);
  for (const n of names) {
    if (!ALL_RUNGS.some((r) => r.name.toLowerCase() === n)) throw new UsageError(`ladder: --only: unknown rung "${n}" (choose from ${ALL_RUNGS.map((r) => r.name).join(', ')})`);
  }
  return ALL_RUNGS.filter((r) => names.includes(r.name.toLowerCase()));
}

/** the chosen rungs, the n-gram rung with the orders of --ngram-orders */
function withOrders(rungs: typeof LADDER_RUNGS, orders: number[]): typeof LADDER_RUNGS {
  return rungs.map((r) => (r.name === 'n-gram' ? { ...r, orders } : r));
}

/** the command; `print` receives each output line (default stdout) */
export async function ladderCommand(argv: string[], print: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<number> {
  const o = parseArgs(argv, LADDER_OPTS, 'ladder');
  if (o.help) {
    print(helpText('ladder', 'train the model ladder (bigram → GPT) under one budget and compare dev losses', LADDER_OPTS, 'gptlab ladder [--data FILE] [--budget 2m | --steps N] [options]'));
    return 0;
  }
  if (o._.length) throw new UsageError(`ladder: unexpected argument "${o._[0]}" (did you mean --data ${o._[0]}?)`);
  const steps = o.steps as number | undefined;
  if (steps !== undefined && steps < 1) throw new UsageError(`ladder: --steps must be at least 1, got ${steps}`);
  if (steps !== undefined && o._given.has('budget')) throw new UsageError('ladder: give --budget or --steps, not both (--steps trains every model exactly that many steps)');
  const budgetSeconds = steps === undefined ? parseDuration(o.budget as string) : undefined;
  checkSplitFlag(o.split as string, 'ladder');
  const split = parseSplit(o.split as string);
  if (split.dev === 0) throw new UsageError(`ladder: --split ${o.split} leaves no dev part, and the ladder compares the models on it; give one, e.g. 90/10`);
  const rungSteps = o.rungSteps !== undefined ? parseRungSteps(o.rungSteps as string) : undefined;
  // without --only, --rung-steps naming an optional rung (GPT-2) adds it, so a printed --rung-steps line reruns as it is
  const named = o.only === undefined ? LADDER_OPTIONAL_RUNGS.filter((r) => rungSteps?.[r.name] !== undefined) : [];
  const rungs = withOrders([...chosenRungs(o), ...named], parseOrders(o.ngramOrders as string));
  if (o._given.has('ngramOrders') && !rungs.some((r) => r.name === 'n-gram')) throw new UsageError('ladder: --ngram-orders sets the n-gram rung, which --only leaves out; add n-gram to --only, or drop --ngram-orders');
  for (const name of Object.keys(rungSteps ?? {})) {
    if (!rungs.some((r) => r.name === name)) throw new UsageError(`ladder: --rung-steps gives steps for ${name}, which --only leaves out; add it to --only`);
  }
  if (o.preset !== undefined) {
    // every gradient rung's model type must have the preset (the n-gram rung takes none)
    const lacking = rungs.filter((r) => !r.orders && !Object.hasOwn(modelType(r.arch).presets, o.preset as string));
    if (lacking.length) {
      const common = Object.keys(modelType(rungs.find((r) => !r.orders)?.arch ?? 'gpt').presets).filter((p) => rungs.every((r) => r.orders || Object.hasOwn(modelType(r.arch).presets, p)));
      throw new UsageError(`ladder: --preset ${o.preset as string} is not a preset of ${lacking.map((r) => r.name).join(', ')} (every rung has: ${common.join(', ') || 'none'})`);
    }
  }
  const out = o.out as string;
  const optimizer: Partial<TrainConfig> = { optimizer: o.optimizer as string, ...optimizerOptions(o, 'ladder') }; // flags checked before any work
  const problem = outputDirProblem(out, '--out', 'ladder', { force: !!o.force, ...(o.data ? { input: o.data as string } : {}) });
  if (problem) throw new UsageError(problem);
  const source = (o.data as string | undefined) ?? 'built-in demo corpus';
  const text = o.data ? readTextFile(o.data as string) : demoCorpus(o.seed as number);
  const tokenizer = ladderTokenizer(o.tokenizer as string, text);
  const backend = await setupBackend(o);
  const say = print;
  const per = rungSteps ? `steps as given by --rung-steps${steps !== undefined ? `, else ${steps}` : budgetSeconds ? `, else ${budgetSeconds} s` : ''}` : steps !== undefined ? `${steps} steps` : `${budgetSeconds} s`;
  say(`backend: ${backend}; data: ${source}; ${tokenizer.type} tokenizer (vocab ${tokenizer.vocabSize}); ${per} per model`);
  const bars = new Map<string, ProgressBar>();
  const onStep = (rung: string, u: { step: number; total: number; loss: number; tokensPerSec: number }): void => {
    if (!bars.has(rung)) bars.set(rung, new ProgressBar({ label: `  ${rung}` }));
    const bar = bars.get(rung)!;
    bar.update(u);
    if (u.step >= u.total) bar.done();
  };
  // the files are rewritten after every rung, so a run stopped with Ctrl-C keeps the rungs it finished
  const write = (rows: LadderRow[]): void => {
    const settings = { data: source, tokenizer: o.tokenizer, vocab: tokenizer.vocabSize, split: o.split, budgetSeconds, steps, rungSteps: rungStepsString(rows) || undefined, ngramOrders: o.ngramOrders, seed: o.seed, backend, preset: o.preset, evalTokens: o.evalTokens || undefined, optimizer: optimizer.optimizer, ...(Object.keys(optimizer.optimizerOptions ?? {}).length ? { optimizerOptions: optimizer.optimizerOptions } : {}) };
    makeDirs(out);
    writeFileAtomicSync(path.join(out, 'ladder.json'), JSON.stringify({ settings, rows }, null, 2) + '\n');
    writeFileAtomicSync(path.join(out, 'ladder.md'), ladderMarkdown(rows, settings));
    writeFileAtomicSync(path.join(out, 'ladder.svg'), ladderSVG(rows));
  };
  // Ctrl-C (or a closed output, main.ts): the files hold the rungs finished so far (rewritten after each), so stop at once saying so
  let finished = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    for (const bar of bars.values()) bar.done();
    process.stderr.write(`ladder interrupted: ${finished ? `kept the ${finished} finished rung${finished > 1 ? 's' : ''} in ${path.join(out, 'ladder.json')}, ladder.md, ladder.svg` : 'no rung finished, nothing written'}\n`);
    process.exit(signalExitCode(signal));
  };
  process.on('SIGINT', onSignal), process.on('SIGTERM', onSignal);
  const rows = await runLadder({ text, tokenizer, split, budgetSeconds, steps, rungSteps, seed: o.seed as number, rungs, train: optimizer, preset: o.preset as string | undefined, evalTokens: o.evalTokens as number, log: say, onStep, onRow: (r) => (write(r), (finished = r.length)) })
    .catch((e: Error) => {
      // too little data for a dev part: name the file and the split that made it so
      throw /dev part has fewer than/.test(e.message) ? new Error(`${source} with --split ${o.split as string}: ${e.message}`) : e;
    })
    .finally(() => (process.off('SIGINT', onSignal), process.off('SIGTERM', onSignal)));
  const reproduce = rungStepsString(rows);
  say('\n' + ladderTable(rows));
  const preset = (o.preset ? ` --preset ${o.preset as string}` : '') + (o._given.has('ngramOrders') ? ` --ngram-orders ${o.ngramOrders as string}` : '');
  if (reproduce) say(`\nthe same numbers again (any machine): gptlab ladder …${preset} --seed ${o.seed} --rung-steps ${reproduce}`);
  say(`\nwrote ${path.join(out, 'ladder.json')}, ladder.md, ladder.svg`);
  return 0;
}
