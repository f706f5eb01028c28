// On-policy RL runs (GRPO, REINFORCE, PPO) in a run folder, like every training run:
//   checkpoint/   latest policy + optimizer moments + trainer_state.json (step, history): --resume continues
//   best/         the policy with the best held-out score so far (a plain chat model: sample, chat, serve)
//   reward.svg    mean reward and KL per step;   log.jsonl  one line per step and per evaluation
// Ctrl-C / SIGTERM finish the step and save first. Each step's randomness derives from (seed, step), so a
// resumed run takes the same steps as an uninterrupted one.
import path from 'node:path';
import { lossCurveSVG } from '../eval/plot.js';
import { writeFileAtomicSync } from '../formats/atomic.node.js';
import type { Optimizer } from '../optim/optimizer.js';
import { RunFolder } from '../train/run-folder.node.js';
import { optimizerStateBytes } from '../train/checkpoint.js';
import { ProgressBar } from '../train/progress.node.js';
import { tick } from '../generate/generate.js';
import type { RLStepLog } from './grpo-trainer.js';

export interface RLLoop {
  step: number;
  /** the policy's generator (dropout), saved as trainer_state.json's rng */
  readonly rng: { getState(): unknown };
  readonly optimizer: Optimizer;
  nameOf(p: object): string;
  trainStep(): RLStepLog;
  /** checkpoint files of the policy (and any head), without trainer state */
  modelFiles(meta: Record<string, unknown>): Record<string, Uint8Array | string>;
}

export interface RLRunOptions {
  steps: number;
  evalInterval: number;
  /** held-out evaluation: numbers to log; `score` (higher is better) picks best/; without held-out data {} (best/ is then the latest policy) */
  evaluate: () => Record<string, number>;
  meta: Record<string, unknown>;
  label: string;
  quiet?: boolean;
  log?: (line: string) => void;
  /** history of earlier steps (resume) */
  history?: RLStepLog[];
  bestScore?: number;
  /**
   * time budget: a performance.now() instant (ms). No step starts unless the last step's time plus
   * reserveSeconds still fits before it; the step that ends the run is evaluated and saved as usual.
   */
  deadline?: number;
  /** seconds kept free before the deadline for what follows the loop (a final evaluation); default 0 */
  reserveSeconds?: number;
  /** save the run when a step fails even before the first step ends (its folder already holds work: a cold start) */
  keepOnFailure?: boolean;
}

export interface RLRunResult {
  /** 'budget': stopped by the time budget (RLRunOptions.deadline) before `steps` */
  outcome: 'done' | 'interrupted' | 'budget';
  steps: number;
  seconds: number;
  history: RLStepLog[];
  evals: Record<string, number>[];
}

/** trainer_state.json and optimizer.safetensors for resuming */
function stateFiles(loop: RLLoop, history: RLStepLog[], best: number, rng: unknown): Record<string, Uint8Array | string> {
  return {
    'optimizer.safetensors': optimizerStateBytes(loop.optimizer, (p) => loop.nameOf(p)),
    // the Trainer's fields (checkpoint loading checks them), the RL history and best held-out score beside them
    'trainer_state.json': JSON.stringify({
      step: loop.step, rng, modelRng: rng, bestDevLoss: null, evalsWithoutImprovement: 0, history: [], tokensSeen: 0,
      rlHistory: history, bestScore: Number.isFinite(best) ? best : null,
    }) + '\n',
  };
}

/** reward.svg: mean reward and KL per step */
export function writeRewardPlot(file: string, history: readonly RLStepLog[], title: string): void {
  const svg = lossCurveSVG([
    { name: 'mean reward', points: history.map((h) => [h.step, h.reward]) },
    { name: 'KL to reference', points: history.map((h) => [h.step, h.kl]) },
  ], { title, xLabel: 'step', yLabel: 'reward / KL' });
  writeFileAtomicSync(file, svg);
}

/** Runs `loop` to `steps` in `folder`, evaluating every evalInterval steps and at the end. */
export async function runRLLoop(loop: RLLoop, folder: RunFolder, o: RLRunOptions): Promise<RLRunResult> {
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  if (loop.step >= o.steps) { // a resumed run at its end: settings given now are not saved, as no step uses them
    log(`note: the run is already at step ${loop.step} of ${o.steps}: nothing to train, nothing saved (give a larger --steps to continue it)`);
    return { outcome: 'done', steps: 0, seconds: 0, history: (o.history ?? []).slice(), evals: [] };
  }
  const bar = o.quiet ? null : new ProgressBar({ label: o.label });
  const say = (l: string): void => (bar ? (bar.pause(), bar.log(l)) : log(l));
  const history = (o.history ?? []).slice(), evals: Record<string, number>[] = [];
  let best = o.bestScore ?? -Infinity, stop = false;
  const onSignal = (): void => {
    if (stop) process.exit(130);
    stop = true;
    say('interrupt: finishing this step and saving a checkpoint (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const t0 = performance.now(), start = loop.step;
  // the next step (as long as the last one) and the reserve would not end before the deadline
  const outOfTime = (): boolean => o.deadline !== undefined && performance.now() + 1000 * ((history[history.length - 1]?.seconds ?? 0) + (o.reserveSeconds ?? 0)) > o.deadline;
  let timeUp = outOfTime();
  const save = (): void => folder.saveCheckpoint({ ...loop.modelFiles(o.meta), ...stateFiles(loop, history, best, loop.rng.getState()) });
  try {
    while (loop.step < o.steps && !stop && !timeUp) {
      const s = loop.trainStep();
      history.push(s);
      folder.appendLog({ ...s, time: (performance.now() - t0) / 1000 });
      bar?.update({ step: s.step, total: o.steps, loss: s.loss, devLoss: NaN, extra: { reward: s.reward.toFixed(3), kl: s.kl.toFixed(4), 's/step': s.seconds.toFixed(2) } }); // no tok/s: a step's cost is its rollouts
      timeUp = outOfTime();
      if (s.step % o.evalInterval === 0 || s.step === o.steps || timeUp) {
        const ev = o.evaluate(), scored = ev.score !== undefined;
        evals.push({ step: s.step, ...ev });
        const improved = scored && ev.score > best;
        if (improved) best = ev.score;
        if (scored) folder.appendLog({ step: s.step, eval: ev }); // before the checkpoint (RunFolder.appendLog)
        if (improved || !scored) folder.saveBest(loop.modelFiles({ ...o.meta, step: s.step, ...ev }));
        save();
        if (folder.started) writeRewardPlot(path.join(folder.dir, 'reward.svg'), history, `gptlab ${o.label} — ${path.basename(path.resolve(folder.dir))}`);
        const parts = [`reward ${s.reward.toFixed(3)}`, `KL ${s.kl.toFixed(4)}`, `clip ${s.clipRatio.toFixed(3)}`, ...Object.entries(ev).map(([k, v]) => `${k} ${v.toFixed(3)}`)];
        say(`step ${s.step}: ${parts.join(', ')}${improved ? ' (best)' : ''}`);
      }
      await tick();
    }
  } catch (e) {
    // a step that failed: a reward that throws fails in the rollout, before any update, and a loss gone NaN before
    // its own (a PPO step's earlier minibatches may have moved the weights): keep the run as it stands, once it
    // holds work (a step, or o.keepOnFailure: a cold start); a run that failed at its first step leaves nothing
    if (folder.save && e instanceof Error && (loop.step > 0 || o.keepOnFailure)) {
      save();
      if (!folder.hasBest()) folder.saveBest(loop.modelFiles(o.meta));
      e.message += `; the run is saved as it stood before that step (step ${loop.step}): fix the cause and continue with --resume`;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    bar?.done();
  }
  save();
  if (folder.save && !folder.hasBest()) folder.saveBest(loop.modelFiles(o.meta));
  if (folder.started) writeRewardPlot(path.join(folder.dir, 'reward.svg'), history, `gptlab ${o.label} — ${path.basename(path.resolve(folder.dir))}`);
  const seconds = (performance.now() - t0) / 1000;
  const outcome = stop ? 'interrupted' : timeUp && loop.step < o.steps ? 'budget' : 'done';
  log(`${outcome === 'budget' ? 'time budget reached: stopped' : outcome} at step ${loop.step} in ${seconds.toFixed(1)} s${folder.save ? `; saved ${folder.dir}/{checkpoint,best,reward.svg,log.jsonl}` : ''}`);
  return { outcome, steps: loop.step - start, seconds, history, evals };
}
