// The alignment report (issue #10's targets), from a pretrained demo model and its SFT chat model:
//   rm       reward model on the built-in preferences (rm train's defaults): held-out pairwise accuracy before/after;
//            the 90 % target: --chat from `sft --bare-answers 0.3 --max-iters 5000`, --parts rm --scale 2 (600 steps)
//   dpo      DPO on the same pairs: held-out implicit reward accuracy and margin
//   ppo      PPO with the rule-based reward at β = 0 and β > 0 (400 steps): held-out reward rise and KL against
//            PPO_KL_TARGET (ppo-kl.svg); from --ppo-chat (default --chat): a chat model with something left to learn,
//            `sft --bare-answers 1` (answers bare half the time, which the rule reward scores 0.75 below the sentence)
//   grpo     GRPO on built-in arithmetic after a cold start: held-out exact match per kind before/after, wall and CPU time
//   lora     SFT with LoRA r = 8 (LoRA+) vs full SFT from a 256-wide base it pretrains once (2000 steps), same steps: trainable share, dev loss, wall time
//   distill  a tiny student from the demo model with the teacher (α 0.5, τ 2) and without (α 0): dev loss
// Run: node dist/bench/align.js --base runs/demo --chat runs/chat [--ppo-chat DIR] [--out runs/align-bench] [--parts rm,ppo] [--scale 1] [--threads N] [--rm-readout last]
// Every part is one short run; numbers come out as lines and as <out>/report.json.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.node.js';
import { lossCurveSVG } from '../src/eval/plot.js';
import { loadCheckpoint } from '../src/train/checkpoint.node.js';
import { RM_DEFAULTS, RM_READOUT, runPreferenceJob } from '../src/align/preference-job.node.js';
import { accuracyLine } from '../src/align/reward-objective.js';
import { REWARD_READOUTS, type RewardReadout } from '../src/align/reward-readout.js';
import { runPPOJob } from '../src/align/ppo-job.node.js';
import { runGRPOJob } from '../src/align/grpo-job.node.js';
import { runDistillJob } from '../src/align/distill-job.node.js';
import { benchLoraSft } from './lora-sft.js';
import { namedReward } from '../src/align/rewards.js';
import { registerRewardModelType } from '../src/align/reward-type.js';
import { gainLine } from '../src/align/rl-eval.js';

export interface AlignBenchOptions {
  base: string;
  chat: string;
  /** PPO's policy (default chat) */
  ppoChat?: string;
  out: string;
  parts: string[];
  /** multiplies every run's steps */
  scale: number;
  /** the reward model's readout (default rm train's, RM_READOUT) */
  rmReadout?: RewardReadout;
  log: (line: string) => void;
}

type Report = Record<string, unknown>;
const quietLog = (): void => {};
const steps = (n: number, o: AlignBenchOptions): number => Math.max(2, Math.round(n * o.scale));

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, (performance.now() - t0) / 1000];
}

async function benchRm(o: AlignBenchOptions): Promise<Report> {
  const readout = o.rmReadout ?? RM_READOUT;
  const [r, s] = await timed(() => runPreferenceJob({ kind: 'rm', readout, base: o.chat, out: path.join(o.out, 'rm'), resume: false, force: true, devFraction: 0, quiet: true, train: { maxIters: steps(RM_DEFAULTS.maxIters!, o), evalInterval: steps(50, o) } }, quietLog)); // rm train's defaults
  o.log(`rm (readout ${readout}): held-out pairwise accuracy ${(100 * r.before!.accuracy).toFixed(1)}% → ${(100 * r.metrics!.accuracy).toFixed(1)}% (loss ${r.before!.loss.toFixed(3)} → ${r.lastDevLoss.toFixed(3)}), ${r.steps} steps, ${s.toFixed(0)} s`);
  o.log(`rm: by comparison: ${accuracyLine(r.byComparison ?? {})}; by question kind: ${accuracyLine(r.byKind ?? {})}`);
  return { readout, before: r.before, after: r.metrics, byComparison: r.byComparison, byKind: r.byKind, steps: r.steps, seconds: s };
}

async function benchDpo(o: AlignBenchOptions): Promise<Report> {
  const [r, s] = await timed(() => runPreferenceJob({ kind: 'dpo', base: o.chat, out: path.join(o.out, 'dpo'), resume: false, force: true, devFraction: 0, beta: 0.1, quiet: true, train: { maxIters: steps(100, o), lr: 1e-4, batchSize: 16, evalInterval: steps(50, o), warmupIters: 10 } }, quietLog));
  o.log(`dpo (β 0.1): held-out implicit reward accuracy ${(100 * r.before!['reward accuracy']).toFixed(1)}% → ${(100 * r.metrics!['reward accuracy']).toFixed(1)}%, margin ${r.metrics!['reward margin'].toFixed(3)}, ${r.steps} steps, ${s.toFixed(0)} s`);
  return { before: r.before, after: r.metrics, steps: r.steps, seconds: s };
}

/** the KL budget of the PPO report (nats per sequence, TRL's sampled estimate): β > 0 must keep the final KL under it */
export const PPO_KL_TARGET = 5;

/** PPO's bench settings: 400 steps of 16 rollouts, held-out reward from 4 samples per prompt every 50 steps */
export const PPO_BENCH = { steps: 400, batchSize: 16, miniBatchSize: 8, epochs: 4, maxNewTokens: 40, lr: 1e-5, seed: 7, evalInterval: 50, evalPrompts: 100, evalSamples: 4 };

async function benchPpo(o: AlignBenchOptions): Promise<Report> {
  const out: Report = {};
  const series = [];
  const P = PPO_BENCH;
  for (const beta of [0, 0.1]) {
    const [r, s] = await timed(() => runPPOJob({ policy: o.ppoChat ?? o.chat, reward: 'rule', out: path.join(o.out, `ppo-beta${beta}`), resume: false, force: true,
      evalInterval: steps(P.evalInterval, o), evalPrompts: P.evalPrompts, evalSamples: P.evalSamples, quiet: true,
      config: { steps: steps(P.steps, o), batchSize: P.batchSize, miniBatchSize: P.miniBatchSize, epochs: P.epochs, maxNewTokens: P.maxNewTokens, lr: P.lr, klCoef: beta, seed: P.seed } }, quietLog));
    const h = r.history, k = Math.max(1, Math.floor(h.length / 5));
    const first = h.slice(0, k).reduce((a, x) => a + x.reward, 0) / k, last = h.slice(-k).reduce((a, x) => a + x.reward, 0) / k;
    const held = r.evals.filter((e) => e['mean reward'] !== undefined), evals = held.map((e) => e['mean reward']);
    o.log(`ppo β=${beta}: mean rollout reward ${first.toFixed(3)} (first ${k} steps) → ${last.toFixed(3)} (last ${k}), final KL ${h[h.length - 1].kl.toFixed(3)} nats/seq (${h[h.length - 1].kl <= PPO_KL_TARGET ? 'under' : 'over'} the target ${PPO_KL_TARGET}); held-out reward (${P.evalSamples} samples per prompt) ${r.before!.meanReward.toFixed(3)} → ${r.after!.meanReward.toFixed(3)} (every ${steps(P.evalInterval, o)} steps: ${evals.map((v) => v.toFixed(3)).join(', ')}); ${s.toFixed(0)} s`);
    out[`beta${beta}`] = { rewardFirst: first, rewardLast: last, klLast: h[h.length - 1].kl, heldOutBefore: r.before!.meanReward, heldOutAfter: r.after!.meanReward, heldOutEvals: evals, seconds: s };
    series.push({ name: `reward β=${beta}`, points: h.map((x) => [x.step, x.reward] as [number, number]) }, { name: `KL β=${beta}`, points: h.map((x) => [x.step, x.kl] as [number, number]) },
      { name: `held-out reward β=${beta}`, points: [[0, r.before!.meanReward] as [number, number], ...held.map((e) => [e.step, e['mean reward']] as [number, number])] });
  }
  fs.writeFileSync(path.join(o.out, 'ppo-kl.svg'), lossCurveSVG(series, { title: 'PPO, rule-based reward: β = 0 vs β = 0.1', xLabel: 'step', yLabel: 'reward / KL (nats per sequence)' }));
  return out;
}

/** GRPO's settings on the built-in arithmetic: cold start, then RL with β = 0 (TRL's default) for at most 10 minutes (the budget) */
export const GRPO_ARITHMETIC = { coldStart: 200, steps: 1000, promptsPerStep: 16, groupSize: 8, maxNewTokens: 32, lr: 3e-5, warmupSteps: 5, beta: 0, maxMinutes: 10 };

async function benchGrpo(o: AlignBenchOptions): Promise<Report> {
  const out: Report = {};
  const A = GRPO_ARITHMETIC;
  const runs = [
    { name: 'rule', what: 'SFT-world questions, rule-based reward', reward: () => 0, coldStart: 0, config: { steps: steps(60, o), promptsPerStep: 4, groupSize: 8, maxNewTokens: 40, lr: 5e-5, beta: 0.04 } },
    { name: 'last-number', what: `arithmetic, last-number reward, after a ${A.coldStart}-step cold start`, reward: namedReward('last-number'), coldStart: A.coldStart,
      maxMinutes: A.maxMinutes * o.scale, config: { steps: steps(A.steps, o), promptsPerStep: A.promptsPerStep, groupSize: A.groupSize, maxNewTokens: A.maxNewTokens, lr: A.lr, warmupSteps: A.warmupSteps, beta: A.beta } },
  ];
  for (const g of runs) {
    const [r, s] = await timed(() => runGRPOJob({ policy: o.chat, out: path.join(o.out, `grpo-${g.name}`), resume: false, force: true, reward: g.reward, rewardName: g.name, coldStart: g.coldStart, maxMinutes: g.maxMinutes,
      evalInterval: g.config.steps, evalPrompts: 100, quiet: true, config: { ...g.config, seed: 7 } }, quietLog));
    const alone = r.steps / Math.max(r.cpuSeconds, 1e-9);
    o.log(`grpo (${g.what}): held-out exact match ${gainLine(r.before!, r.after!)}; ${r.steps} steps in ${r.seconds.toFixed(0)} s wall, ${r.cpuSeconds.toFixed(0)} CPU s ` +
      `(${alone.toFixed(2)} steps per CPU s: alone on one core ≈ ${r.cpuSeconds.toFixed(0)} s, 10 minutes ≈ ${Math.floor(600 * alone)} steps); ${s.toFixed(0)} s with cold start and evaluations`);
    out[g.name] = { before: r.before!.byKind, after: r.after!.byKind, accuracyBefore: r.before!.accuracy, accuracyAfter: r.after!.accuracy, steps: r.steps, trainSeconds: r.seconds, cpuSeconds: r.cpuSeconds, seconds: s };
  }
  return out;
}

async function benchLora(o: AlignBenchOptions): Promise<Report> {
  // its own 256-wide base (pretrained once under out/lora): the demo model is too narrow for r = 8 to be ≤ 2 %
  return benchLoraSft({ out: path.join(o.out, 'lora'), steps: steps(150, o), r: 8, log: o.log });
}

async function benchDistill(o: AlignBenchOptions): Promise<Report> {
  const out: Report = {};
  for (const alpha of [0.5, 0]) {
    const [r, s] = await timed(() => runDistillJob({ teacher: o.base, studentArch: 'gpt', studentPreset: 'tiny', data: undefined, split: '90/10', out: path.join(o.out, `distill-alpha${alpha}`), resume: false, force: true, quiet: true,
      distill: { temperature: 2, alpha }, train: { maxIters: steps(300, o), evalInterval: steps(100, o), evalIters: 10 } }, quietLog));
    o.log(`distill α=${alpha}${alpha === 0 ? ' (no teacher)' : ', τ=2'}: student best dev loss ${r.bestDevLoss.toFixed(4)} after ${r.steps} steps (${s.toFixed(0)} s)`);
    out[`alpha${alpha}`] = { dev: r.bestDevLoss, seconds: s };
  }
  const ck = loadCheckpoint(o.base);
  o.log(`distill: teacher ${ck.model.describe()}, best dev loss ${String(ck.config.meta?.devLoss ?? '?')}`);
  return out;
}

const PARTS: Record<string, (o: AlignBenchOptions) => Promise<Report>> = { rm: benchRm, dpo: benchDpo, ppo: benchPpo, grpo: benchGrpo, lora: benchLora, distill: benchDistill };

/** Runs the chosen parts in order; returns their numbers (also written to <out>/report.json). */
export async function benchAlign(o: AlignBenchOptions): Promise<Record<string, Report>> {
  registerRewardModelType();
  const bad = o.parts.find((p) => !PARTS[p]);
  if (bad !== undefined) throw new Error(`bench align: unknown part "${bad}" (choose from ${Object.keys(PARTS).join(', ')})`);
  fs.mkdirSync(o.out, { recursive: true });
  const report: Record<string, Report> = {};
  for (const p of o.parts) {
    report[p] = await PARTS[p](o);
    fs.writeFileSync(path.join(o.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  }
  return report;
}

const USAGE = 'usage: node dist/bench/align.js --base runs/demo --chat runs/chat [--ppo-chat DIR] [--out runs/align-bench] [--parts rm,dpo,ppo,grpo,lora,distill] [--scale 1] [--threads N] [--backend auto] [--rm-readout last]';
const FLAGS = ['base', 'chat', 'ppo-chat', 'out', 'parts', 'scale', 'threads', 'backend', 'rm-readout', 'help'] as const;

/** the model folders each part reads: distill the pretrained --base, the others the chat model (ppo: --ppo-chat when given) */
function foldersOf(o: AlignBenchOptions): [string, string][] {
  const needs: [string, string][] = [];
  if (o.parts.includes('distill')) needs.push(['--base', o.base]);
  if (o.parts.some((p) => ['rm', 'dpo', 'grpo'].includes(p)) || (o.parts.includes('ppo') && !o.ppoChat)) needs.push(['--chat', o.chat]);
  if (o.parts.includes('ppo') && o.ppoChat) needs.push(['--ppo-chat', o.ppoChat]);
  return needs;
}

/** the options of a command-line run (node:util parseArgs: no stray words, no unknown flag, each flag once), checked before any work */
function cliOptions(argv: string[], log: (l: string) => void): AlignBenchOptions & { threads?: number; backend: string; help: boolean } {
  const { values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: Object.fromEntries(FLAGS.map((f) => [f, f === 'help' ? { type: 'boolean', short: 'h', multiple: true } : { type: 'string', multiple: true }])) });
  const one = (f: (typeof FLAGS)[number], dflt?: string): string | undefined => {
    const v = values[f] as string[] | undefined;
    if (v && v.length > 1) throw new Error(`--${f} is given ${v.length} times; give it once`);
    return v?.[0] ?? dflt;
  };
  const help = (values.help as boolean[] | undefined)?.length ? true : false;
  const parts = one('parts', Object.keys(PARTS).join(','))!.split(',').map((p) => p.trim());
  if (!parts.some(Boolean)) throw new Error(`--parts is empty (choose from ${Object.keys(PARTS).join(', ')})`);
  const bad = parts.find((p) => !PARTS[p]);
  if (bad !== undefined) throw new Error(`unknown part "${bad}" in --parts (choose from ${Object.keys(PARTS).join(', ')})`);
  const scale = Number(one('scale', '1'));
  if (!(scale > 0 && Number.isFinite(scale))) throw new Error(`--scale must be a positive number, got ${one('scale')}`);
  const threads = one('threads') === undefined ? undefined : Number(one('threads'));
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new Error(`--threads must be a positive integer, got ${one('threads')}`);
  const readout = one('rm-readout');
  if (readout !== undefined && !(REWARD_READOUTS as readonly string[]).includes(readout)) throw new Error(`--rm-readout must be one of ${REWARD_READOUTS.join(', ')}, got "${readout}"`);
  const o = { base: one('base', 'runs/demo')!, chat: one('chat', 'runs/chat')!, ppoChat: one('ppo-chat'), out: one('out', 'runs/align-bench')!, parts, scale, log,
    rmReadout: readout as RewardReadout | undefined, threads, backend: one('backend', 'auto')!, help };
  if (!help) for (const [flag, dir] of foldersOf(o)) if (!fs.existsSync(dir)) throw new Error(`${flag} ${dir}: no such folder (see the header of bench/align.ts for how to make it)`);
  return o;
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('bench', 'align.js'))) {
  const log = (l: string): void => void process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${l}\n`);
  try {
    const o = cliOptions(process.argv.slice(2), log);
    if (o.help) {
      process.stdout.write(`${USAGE}\nThe alignment report (issue #10's targets); each part and the models it needs are described at the top of bench/align.ts.\n`);
      process.exit(0);
    }
    const b = await initBackend({ backend: o.backend as 'auto', threads: o.threads });
    log(`backend ${b.name}`);
    await benchAlign(o);
  } catch (e) {
    process.stderr.write(`bench align: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
