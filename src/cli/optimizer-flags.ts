// --optimizer and its options, the flags of every command that trains by gradient steps (train, sft, dpo, rm,
// distill, ppo, grpo, seq2seq, classify, tag, gan, vision, ladder; gan and vision without Muon): the
// optimizers of src/optim/registry.ts with PyTorch's update rules, e.g. `--optimizer sgd --momentum 0.9 --nesterov`, `--optimizer rmsprop --centered`.
import { kebab, UsageError, type OptTable, type ParsedArgs } from './args.js';
import { createOptimizer, OPTIMIZER_NAMES, OPTIMIZER_OPTIONS, isOptimizerName, type OptimizerName } from '../optim/registry.js';
import type { TrainConfig } from '../train/trainer.js';

/** --optimizer (default adamw) and the options of each optimizer; β1/β2 are separate train-config flags where a command has them */
export const OPTIMIZER_OPTS: OptTable = {
  optimizer: { type: 'string', default: 'adamw', help: `optimizer: ${OPTIMIZER_NAMES.join(', ')}` },
  momentum: { type: 'number', min: 0, help: 'sgd, rmsprop: momentum (default 0); muon: μ, below 1 (default 0.95)' },
  dampening: { type: 'number', min: 0, max: 1, help: 'sgd: dampening of the momentum (default 0)' },
  nesterov: { type: 'bool', help: 'sgd: Nesterov momentum; muon: on unless --no-nesterov' },
  nsSteps: { type: 'int', min: 1, max: 99, help: 'muon: Newton–Schulz iterations (default 5)' },
  adjustLrFn: { type: 'string', choices: ['match_rms_adamw', 'original'], help: "muon: lr per matrix shape: match_rms_adamw (default; AdamW's lr and weight decay carry over) or original (Keller Jordan's)" },
  adamEps: { type: 'number', min: 0, help: "muon: eps of its AdamW part (default 1e-8)" },
  alpha: { type: 'number', min: 0, max: 1, help: 'rmsprop: smoothing constant (default 0.99)' },
  centered: { type: 'bool', help: 'rmsprop: centered (divide by the estimated variance)' },
  amsgrad: { type: 'bool', help: 'adam: the AMSGrad variant' },
  eps: { type: 'number', min: 0, help: 'adamw, adam, rmsprop: term added to the denominator (default 1e-8; adagrad 1e-10); muon: floor of the gradient norm, above 0 (default 1e-7)' },
  lrDecay: { type: 'number', min: 0, help: 'adagrad: learning-rate decay (default 0)' },
  initialAccumulatorValue: { type: 'number', min: 0, help: 'adagrad: initial accumulator value (default 0)' },
};

/** the optimizers of models that are not language models (GANs, image classifiers): Muon's groups follow a language model's hidden matrices */
export const NON_MUON_OPTIMIZERS: readonly OptimizerName[] = ['adamw', 'adam', 'sgd', 'rmsprop', 'adagrad'];

/**
 * OPTIMIZER_OPTS for a command that does not offer Muon (gan train, vision train): Muon's own options and
 * mentions left out, --optimizer with the command's default (`dflt`) and `what` it optimizes.
 */
export function nonMuonOptimizerOpts(dflt: OptimizerName, what: string): OptTable {
  return {
    ...Object.fromEntries(Object.entries(OPTIMIZER_OPTS).filter(([k]) => !['nsSteps', 'adjustLrFn', 'adamEps'].includes(k))),
    optimizer: { ...OPTIMIZER_OPTS.optimizer, default: dflt, help: `optimizer of ${what}: ${NON_MUON_OPTIMIZERS.join(', ')}` },
    momentum: { ...OPTIMIZER_OPTS.momentum, help: 'sgd, rmsprop: momentum (default 0)' },
    nesterov: { ...OPTIMIZER_OPTS.nesterov, help: 'sgd: Nesterov momentum' },
    eps: { ...OPTIMIZER_OPTS.eps, help: 'adamw, adam, rmsprop: term added to the denominator (default 1e-8; adagrad 1e-10)' },
  };
}

/**
 * optimizerOptions for a command that does not offer Muon: the optimizer named even when it is AdamW (the
 * command's default may be another), and --optimizer muon refused naming the command.
 */
export function nonMuonOptimizerOptions(o: ParsedArgs, command: string): Partial<Pick<TrainConfig, 'optimizer' | 'optimizerOptions' | 'weightDecay'>> {
  const name = o.optimizer as string;
  if ((!o.resume || o._given.has('optimizer')) && !(NON_MUON_OPTIMIZERS as readonly string[]).includes(name)) {
    throw new UsageError(`${command}: --optimizer must be one of ${NON_MUON_OPTIMIZERS.join(', ')}, got "${name}"`);
  }
  const chosen = optimizerOptions(o, command);
  return o.resume ? chosen : { ...chosen, optimizer: chosen.optimizer ?? name };
}

/** optimizer flags and the optimizers that take them (beta1/beta2 are train-config fields Adam and AdamW read) */
const OPTIMIZER_FLAGS = ['momentum', 'dampening', 'nesterov', 'alpha', 'centered', 'amsgrad', 'eps', 'lrDecay', 'initialAccumulatorValue', 'nsSteps', 'adjustLrFn', 'adamEps', 'beta1', 'beta2'];

/**
 * --optimizer and its options as the train config stores them. Flags the chosen optimizer does not take are
 * refused, naming it; a resumed run keeps the optimizer it was trained with (its moments are that one's), so
 * with --resume they may only repeat the run's own settings (the job checks them against the checkpoint).
 * Optimizers other than AdamW and Muon get weight decay 0 unless --weight-decay is given (PyTorch's default).
 * `own`: flags the command uses for something else (distill's --alpha), left out.
 */
export function optimizerOptions(o: ParsedArgs, command: string, own: readonly string[] = []): Partial<Pick<TrainConfig, 'optimizer' | 'optimizerOptions' | 'weightDecay'>> {
  const flags = OPTIMIZER_FLAGS.filter((k) => !own.includes(k));
  const given = flags.filter((k) => o._given.has(k) && k !== 'beta1' && k !== 'beta2');
  if (o.resume) {
    // passed on as given: the job accepts them only when they equal the run's own (checkResumedOptimizer)
    const options = Object.fromEntries(given.map((k) => [k, o[k] as number | boolean | string]));
    return { ...(o._given.has('optimizer') ? { optimizer: o.optimizer as string } : {}), ...(given.length ? { optimizerOptions: options } : {}) };
  }
  const name = o.optimizer as string;
  if (!isOptimizerName(name)) throw new UsageError(`${command}: --optimizer must be one of ${OPTIMIZER_NAMES.join(', ')}, got "${name}"`);
  const takes = OPTIMIZER_OPTIONS[name];
  for (const k of flags) {
    if (o._given.has(k) && !(k in takes)) throw new UsageError(`${command}: --${o[k] === false ? 'no-' : ''}${kebab(k)} does not apply to --optimizer ${name} (${takenFlags(o, takes)})`);
  }
  if (name === 'adamw' && !given.length) return {}; // the trainer's own AdamW, as before
  const options: Record<string, number | boolean | string> = {};
  for (const k of given) options[k] = o[k] as number | boolean | string;
  checkOptimizerFlags(name, options, command);
  const decoupled = name === 'adamw' || name === 'muon';
  return { optimizer: name, optimizerOptions: options, ...(!decoupled && !o._given.has('weightDecay') ? { weightDecay: 0 } : {}) };
}

/**
 * "it takes --eps, --amsgrad": the optimizer's options that this command has flags for (β1/β2 only where the
 * command has --beta1/--beta2; the learning rate is the command's --lr), or "it takes no options here".
 */
function takenFlags(o: ParsedArgs, takes: Record<string, string>): string {
  const flags = Object.keys(takes).filter((t) => t !== 'lr' && (t === 'beta1' || t === 'beta2' ? t in o : true)).map(kebab);
  return flags.length ? `it takes ${flags.join(', ')}` : 'it takes no options here';
}

/**
 * The optimizer's own range checks on the flags given, before any work: its one-line error comes back naming
 * the flag ("train: --ns-steps (muon) must be an integer in 1–99, got 0") as a usage error.
 */
function checkOptimizerFlags(name: OptimizerName, options: Record<string, number | boolean | string>, command: string): void {
  try {
    createOptimizer(name, [], options);
  } catch (e) {
    const msg = (e as Error).message.replace(/^(\w+): (\w+)/, (_m, opt: string, key: string) => (key in OPTIMIZER_OPTIONS[name] ? `--${kebab(key)} (${opt})` : `${opt}: ${key}`));
    throw new UsageError(`${command}: ${msg}`);
  }
}

