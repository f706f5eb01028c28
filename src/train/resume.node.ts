// The checkpoint a `--resume` continues, with the refusals every resuming command makes before it prints any
// note: the run was trained by this command, the step limit given now is not below its step, and an input
// model flag given now (--base, --teacher) names the checkpoint the run started from.
import { loadAnyCheckpoint } from './lora-checkpoint.node.js';
import { checkRunKind, checkSameInput, type RunFolder } from './run-folder.node.js';
import { checkStepLimit, type TrainState } from './trainer.js';

/** a loaded checkpoint with the state a resume needs */
export type ResumableCheckpoint = ReturnType<typeof loadAnyCheckpoint> & { trainerState: TrainState; moments: Map<string, Float32Array> };

/**
 * Loads `folder`'s checkpoint/ (a LoRA run's too) for `command --resume` (as typed after gptlab: 'sft',
 * 'rm train') and checks, in this order: it holds optimizer and trainer state; `command` trained it
 * (checkRunKind); `maxIters` (the --max-iters given now, if any) is not below its step (checkStepLimit, exit 2);
 * `input.given` (the flag `input.flag` given now, if any) names the checkpoint its meta records under
 * `input.key` (checkSameInput). Throws one line for each.
 */
export function resumableCheckpoint(folder: RunFolder, command: string, maxIters: number | undefined, input?: { flag: string; given: string | undefined; key: string }): ResumableCheckpoint {
  const ck = loadAnyCheckpoint(folder.checkpointDir, true);
  if (!ck.trainerState || !ck.moments) throw new Error(`${folder.checkpointDir}: has no optimizer/trainer state, so it cannot resume`);
  const meta = ck.config.meta ?? {};
  checkRunKind(folder.dir, ck.model.type, meta, command);
  checkStepLimit('--max-iters', maxIters, ck.trainerState.step);
  if (input) checkSameInput(command, input.flag, input.given, meta[input.key]);
  return ck as ResumableCheckpoint;
}
