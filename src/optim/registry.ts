// The optimizers by name, for `--optimizer` on the training commands: createOptimizer('sgd', groups,
// { lr: 0.1, momentum: 0.9 }). Options are checked here — unknown names and wrong types get one line naming
// the option — and ranges by each optimizer's constructor. Weight decay is not an option: it belongs to the
// parameter groups (ParamGroup.weightDecay, see weightDecayGroups), L2 for SGD/RMSProp/Adam/Adagrad and
// decoupled for AdamW and Muon.
import { AdamW, ADAMW_DEFAULTS, type AdamWOptions } from './adamw.js';
import { SGD, SGD_DEFAULTS } from './sgd.js';
import { RMSProp, RMSPROP_DEFAULTS } from './rmsprop.js';
import { Adam, ADAM_DEFAULTS } from './adam.js';
import { Adagrad, ADAGRAD_DEFAULTS } from './adagrad.js';
import { Muon, MUON_DEFAULTS, type MuonOptions } from './muon.js';
import type { Optimizer, ParamGroup } from './optimizer.js';

export type OptimizerName = 'adamw' | 'sgd' | 'rmsprop' | 'adam' | 'adagrad' | 'muon';

type Kind = 'number' | 'boolean' | 'string';

/** every optimizer's options (camelCase) and their types, e.g. for --help */
export const OPTIMIZER_OPTIONS: Readonly<Record<OptimizerName, Readonly<Record<string, Kind>>>> = {
  adamw: { lr: 'number', beta1: 'number', beta2: 'number', eps: 'number' },
  sgd: { lr: 'number', momentum: 'number', dampening: 'number', nesterov: 'boolean' },
  rmsprop: { lr: 'number', alpha: 'number', eps: 'number', momentum: 'number', centered: 'boolean' },
  adam: { lr: 'number', beta1: 'number', beta2: 'number', eps: 'number', amsgrad: 'boolean' },
  adagrad: { lr: 'number', lrDecay: 'number', initialAccumulatorValue: 'number', eps: 'number' },
  muon: { lr: 'number', momentum: 'number', nesterov: 'boolean', nsSteps: 'number', eps: 'number', adjustLrFn: 'string', beta1: 'number', beta2: 'number', adamEps: 'number' },
};

/** each optimizer's value of an option not given (what a run without the flag trains with) */
export const OPTIMIZER_DEFAULTS: Readonly<Record<OptimizerName, object>> = {
  adamw: ADAMW_DEFAULTS, sgd: SGD_DEFAULTS, rmsprop: RMSPROP_DEFAULTS, adam: ADAM_DEFAULTS, adagrad: ADAGRAD_DEFAULTS, muon: MUON_DEFAULTS,
};

export const OPTIMIZER_NAMES = Object.keys(OPTIMIZER_OPTIONS) as OptimizerName[];

/**
 * The most buffers of its own, each the size of the parameters, the optimizer `name` keeps with `options` (an
 * unknown name: AdamW's 2): SGD a momentum buffer if any; RMSProp the square average, plus the momentum buffer
 * and the centered mean; Adam and AdamW two moments, plus AMSGrad's maximum; Adagrad the sum; Muon a momentum
 * buffer for its matrices and AdamW's two moments for the rest (2 at most). For memory estimates.
 */
export function optimizerStateCount(name: string | undefined, options: Readonly<Record<string, unknown>> = {}): number {
  const on = (k: string): number => (options[k] ? 1 : 0);
  switch (name) {
    case 'sgd': return on('momentum');
    case 'rmsprop': return 1 + on('momentum') + on('centered');
    case 'adam': return 2 + on('amsgrad');
    case 'adagrad': return 1;
    default: return 2;
  }
}

export function isOptimizerName(s: string): s is OptimizerName {
  return Object.prototype.hasOwnProperty.call(OPTIMIZER_OPTIONS, s);
}

/** lr_decay and lr-decay → lrDecay */
const camel = (k: string): string => k.replace(/[_-]([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * Checks opts against the optimizer's options: keys in camelCase, snake_case or kebab-case; undefined values
 * are left out. Throws a one-line Error naming the option that is unknown or of the wrong type.
 */
export function checkOptimizerOptions(name: OptimizerName, opts: Readonly<Record<string, unknown>>): Record<string, number | boolean | string> {
  const spec = OPTIMIZER_OPTIONS[name];
  const out: Record<string, number | boolean | string> = {};
  for (const [raw, v] of Object.entries(opts)) {
    if (v === undefined) continue;
    const k = camel(raw);
    if (k === 'weightDecay') throw new Error(`${name}: weightDecay is set per parameter group (ParamGroup.weightDecay), not as an optimizer option`);
    const kind = spec[k];
    if (!kind) throw new Error(`${name}: unknown option "${raw}" (options: ${Object.keys(spec).join(', ')})`);
    if (kind === 'number' && (typeof v !== 'number' || !Number.isFinite(v))) throw new Error(`${name}: ${k} must be a finite number, got ${String(v)}`);
    if (kind === 'boolean' && typeof v !== 'boolean') throw new Error(`${name}: ${k} must be true or false, got ${String(v)}`);
    if (kind === 'string' && typeof v !== 'string') throw new Error(`${name}: ${k} must be a word, got ${String(v)}`);
    out[k] = v as number | boolean | string;
  }
  return out;
}

/** AdamW's ranges (its class takes options as given). */
function checkAdamW(o: Partial<AdamWOptions>): Partial<AdamWOptions> {
  if (o.lr !== undefined && !(o.lr >= 0)) throw new Error(`adamw: lr must be ≥ 0, got ${o.lr}`);
  for (const k of ['beta1', 'beta2'] as const) {
    const v = o[k];
    if (v !== undefined && !(v >= 0 && v < 1)) throw new Error(`adamw: ${k} must be in [0, 1), got ${v}`);
  }
  if (o.eps !== undefined && !(o.eps >= 0)) throw new Error(`adamw: eps must be ≥ 0, got ${o.eps}`);
  return o;
}

/**
 * The optimizer called `name` ('adamw' | 'sgd' | 'rmsprop' | 'adam' | 'adagrad' | 'muon') over `groups`, with
 * PyTorch's defaults for options not given (AdamW: the project's ADAMW_DEFAULTS, nanoGPT's β2 = 0.99; Muon:
 * MUON_DEFAULTS, which scale its lr as Moonshot's match_rms_adamw; it orthogonalises the groups muonGroups marks). Throws a one-line Error naming the optimizer or option at fault.
 */
export function createOptimizer(name: string, groups: ParamGroup[], opts: Readonly<Record<string, unknown>> = {}): Optimizer {
  if (!isOptimizerName(name)) throw new Error(`optimizer must be one of ${OPTIMIZER_NAMES.join(', ')}; got "${name}"`);
  const o = checkOptimizerOptions(name, opts);
  switch (name) {
    case 'adamw':
      return new AdamW(groups, checkAdamW(o as Partial<AdamWOptions>));
    case 'sgd':
      return new SGD(groups, o);
    case 'rmsprop':
      return new RMSProp(groups, o);
    case 'adam':
      return new Adam(groups, o);
    case 'adagrad':
      return new Adagrad(groups, o);
    case 'muon':
      return new Muon(groups, o as Partial<MuonOptions>);
  }
}
