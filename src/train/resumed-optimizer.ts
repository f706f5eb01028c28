// A resumed run keeps the optimizer it was trained with: its saved moments are that optimizer's.
import { isOptimizerName, OPTIMIZER_DEFAULTS, OPTIMIZER_OPTIONS } from '../optim/registry.js';
import { UsageError } from '../usage-error.js';
import { kebab, type TrainConfig } from './trainer.js';

/** the optimizer settings of a train config (given now, or saved with a run); β1/β2 are its own fields */
export type OptimizerConfig = Partial<Pick<TrainConfig, 'optimizer' | 'optimizerOptions' | 'beta1' | 'beta2'>>;

/** a flag as typed: --nesterov, --no-nesterov, --momentum 0.9 */
const flagText = (k: string, v: unknown): string => (v === true ? `--${kebab(k)}` : v === false ? `--no-${kebab(k)}` : `--${kebab(k)} ${String(v)}`);

/**
 * A resumed run keeps its optimizer (its moments are that optimizer's): --optimizer and optimizer options given
 * with --resume must repeat the run's own, and are then dropped; --beta1/--beta2 (which may change, as --lr) only
 * for a run whose optimizer has them (Adam, AdamW, Muon). Throws one line naming the flag otherwise (`command`:
 * the command typed, e.g. 'sft').
 */
export function checkResumedOptimizer<C extends OptimizerConfig>(given: C, saved: OptimizerConfig, command: string): Omit<C, 'optimizer' | 'optimizerOptions'> {
  const { optimizer, optimizerOptions, ...rest } = given;
  const name = saved.optimizer ?? 'adamw';
  if (optimizer !== undefined && optimizer !== name) throw new UsageError(`${command} --resume: the run trains with --optimizer ${name}; --optimizer ${optimizer} cannot change it (its moments are ${name}'s)`);
  const beta = (['beta1', 'beta2'] as const).find((k) => given[k] !== undefined);
  if (beta && isOptimizerName(name) && !(beta in OPTIMIZER_OPTIONS[name])) throw new UsageError(`${command} --resume: --${beta} does not apply to the run's --optimizer ${name}`);
  for (const [k, v] of Object.entries(optimizerOptions ?? {})) {
    // an option the run never set trains at the optimizer's default, which may be repeated
    const was = saved.optimizerOptions?.[k] ?? (isOptimizerName(name) ? (OPTIMIZER_DEFAULTS[name] as Record<string, unknown>)[k] : undefined);
    if (was === v) continue;
    const had = was === undefined ? `no ${kebab(k)} setting` : flagText(k, was);
    throw new UsageError(`${command} --resume: the run keeps its optimizer (${name}, ${had}); ${flagText(k, v)} cannot change it`);
  }
  return rest;
}
