// LoRA SFT beside full SFT (issue #10: "LoRA SFT (r = 8) trains ≤ 2% of the parameters and gets within 0.05 of
// full SFT's dev loss"): the same base model, the built-in SFT data, the same steps, batch and seed, through
// the job `gptlab sft` runs (src/train/sft-job.node.ts) with its own defaults for each mode (learning rate,
// LoRA's targets and α, the new chat tokens' rows trained). Dev loss is the assistant-token loss on the whole
// built-in dev set after the last step. `lora-frozen-tokens` (with --ablation) leaves the new tokens' rows
// frozen, as LoRA did before. Part of bench/align.ts (`--parts lora`); run alone:
//   node dist/bench/lora-sft.js --base runs/demo [--steps 150] [--r 8] [--targets c_attn,attn.c_proj] [--ablation] [--out runs/lora-bench]
import path from 'node:path';
import { initBackend } from '../src/backend/index.node.js';
import { runSftJob, SFT_LORA } from '../src/train/sft-job.node.js';

export interface LoraSftBenchOptions {
  base: string;
  out: string;
  steps: number;
  /** LoRA rank */
  r?: number;
  /** LoRA's target modules (default SFT's: all-linear) */
  targets?: string[];
  /** also run LoRA with the new tokens' rows frozen */
  ablation?: boolean;
  log: (line: string) => void;
}

type Mode = 'full' | 'lora' | 'lora-frozen-tokens';

interface ModeResult {
  dev: number;
  /** PEFT's trainable-parameters line (LoRA) or "all parameters" */
  share: string;
  /** trainable share in percent */
  percent: number;
  seconds: number;
}

/** one SFT run of `mode`; the dev loss after the last step */
async function runMode(mode: Mode, o: LoraSftBenchOptions): Promise<ModeResult> {
  const lines: string[] = [];
  const lora = mode === 'full' ? undefined : { adapt: { lora: { r: o.r ?? 8, ...SFT_LORA, ...(o.targets ? { targets: o.targets } : {}) } }, trainNewTokens: mode === 'lora' };
  const res = await runSftJob({
    base: o.base, out: path.join(o.out, `sft-${mode}`), resume: false, force: true, devFraction: 0, evalExamples: 0, quiet: true,
    train: { maxIters: o.steps, batchSize: 16, warmupIters: Math.min(15, o.steps - 1), evalInterval: o.steps, seed: 1337 }, ...lora,
  }, (l) => lines.push(l));
  const share = lines.find((l) => l.includes('trainable params')) ?? 'all parameters';
  const percent = Number(/trainable%: ([\d.]+)/.exec(share)?.[1] ?? 100);
  return { dev: res.lastDevLoss, share, percent, seconds: res.seconds };
}

/** Full SFT, then LoRA SFT (and the ablation); logs each and the gap; returns the numbers. */
export async function benchLoraSft(o: LoraSftBenchOptions): Promise<Record<string, unknown>> {
  const modes: Mode[] = ['full', 'lora', ...(o.ablation ? ['lora-frozen-tokens' as const] : [])];
  const out: Record<string, ModeResult> = {};
  for (const mode of modes) {
    out[mode] = await runMode(mode, o);
    o.log(`sft ${mode}: ${out[mode].share}; dev loss after ${o.steps} steps ${out[mode].dev.toFixed(4)} (${out[mode].seconds.toFixed(0)} s)`);
  }
  const gap = out.lora.dev - out.full.dev;
  o.log(`sft lora r=${o.r ?? 8} vs full: dev loss ${out.lora.dev.toFixed(4)} vs ${out.full.dev.toFixed(4)} (gap ${gap >= 0 ? '+' : ''}${gap.toFixed(4)}, target ≤ 0.05), ` +
    `trains ${out.lora.percent.toFixed(2)}% of the parameters (target ≤ 2%), wall ${out.lora.seconds.toFixed(0)} s vs ${out.full.seconds.toFixed(0)} s`);
  return { ...out, gap, steps: o.steps };
}

function arg(name: string, dflt?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('bench', 'lora-sft.js'))) {
  const b = await initBackend({ backend: arg('backend', 'auto') as 'auto', threads: arg('threads') ? Number(arg('threads')) : undefined });
  const log = (l: string): void => void process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${l}\n`);
  log(`backend ${b.name}`);
  await benchLoraSft({ base: arg('base', 'runs/demo')!, out: arg('out', 'runs/lora-bench')!, steps: Number(arg('steps', '150')), r: Number(arg('r', '8')), targets: arg('targets')?.split(','), ablation: process.argv.includes('--ablation'), log });
}
