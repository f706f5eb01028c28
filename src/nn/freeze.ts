// Freezing parameters by name: a glob over dotted parameter names (`transformer.h.*.attn.*`,
// `**.ln_*.weight`) turns requiresGrad off, so no gradient is computed or stored for them and the optimizer
// (which skips parameters without a gradient) leaves them alone — what PEFT's mark_only_lora_as_trainable and
// `param.requires_grad = False` loops do in PyTorch.
import type { Tensor } from '../tensor/tensor.js';

/** anything with named parameters: a Module, a LanguageModel */
export interface HasNamedParameters {
  namedParameters(): [string, Tensor][];
}

/**
 * A glob over dotted names as a RegExp: `*` matches within one segment (no dots), `**` any run of characters
 * including dots, `?` one non-dot character; everything else is literal. The whole name must match.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^.]*';
    else if (c === '?') re += '[^.]';
    else re += c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function setTrainable(model: HasNamedParameters, patterns: string[], on: boolean, who: string): string[] {
  if (!Array.isArray(patterns) || patterns.some((p) => typeof p !== 'string' || p === '')) {
    throw new Error(`${who}: patterns must be non-empty strings`);
  }
  const res = patterns.map(globToRegExp);
  const hit = new Array<boolean>(patterns.length).fill(false);
  const names: string[] = [];
  for (const [name, p] of model.namedParameters()) {
    let any = false;
    res.forEach((r, i) => r.test(name) && ((hit[i] = true), (any = true)));
    if (!any) continue;
    p.requiresGrad = on;
    if (!on) p.zeroGrad();
    names.push(name);
  }
  const miss = hit.indexOf(false);
  if (miss >= 0) throw new Error(`${who}: pattern "${patterns[miss]}" matches no parameter`);
  return names;
}

/** Freezes every parameter whose name matches one of the globs; returns their names. Throws for a glob matching nothing. */
export function freezeParameters(model: HasNamedParameters, patterns: string[]): string[] {
  return setTrainable(model, patterns, false, 'freezeParameters');
}

/** The reverse of freezeParameters. */
export function unfreezeParameters(model: HasNamedParameters, patterns: string[]): string[] {
  return setTrainable(model, patterns, true, 'unfreezeParameters');
}

/** the parameters that still require a gradient, with their names (what an optimizer should get) */
export function trainableParameters(model: HasNamedParameters): [string, Tensor][] {
  return model.namedParameters().filter(([, p]) => p.requiresGrad);
}

/** element counts: trainable, all, and trainable as a percentage (PEFT's print_trainable_parameters) */
export function countParameters(model: HasNamedParameters): { trainable: number; total: number; percent: number } {
  let trainable = 0, total = 0;
  for (const [, p] of model.namedParameters()) {
    total += p.size;
    if (p.requiresGrad) trainable += p.size;
  }
  return { trainable, total, percent: total ? (100 * trainable) / total : 0 };
}
