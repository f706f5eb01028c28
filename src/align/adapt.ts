// Parameter-efficient training for the alignment commands: LoRA on chosen Linear layers (Hu et al. 2021, as
// PEFT's get_peft_model) and/or freezing parameters by glob (src/nn/freeze.ts), with PEFT's
// print_trainable_parameters line. The Trainer leaves parameters with requiresGrad false out of its
// optimizer, so nothing else changes. Also: a plain copy of a LoRA model with its updates merged in.
import type { LanguageModel } from '../models/model.js';
import { createModel } from '../models/registry.js';
import { Module } from '../nn/module.js';
import { applyLora, loraLayers, mergeLora, unmergeLora } from '../nn/lora.js';
import { countParameters, freezeParameters } from '../nn/freeze.js';
import { Rng } from '../tensor/rng.js';

export interface LoraOptions {
  r: number;
  alpha: number;
  dropout: number;
  /** module names, PEFT's target_modules (c_attn, c_proj, …) */
  targets: string[];
}

export interface AdaptOptions {
  lora?: LoraOptions;
  /** globs over parameter names to freeze (`transformer.h.0.*`, `**.ln_*`) */
  freeze?: string[];
}

const LORA_NAME = /(^|\.)lora_[AB]\.weight$/;

/**
 * Applies LoRA and/or freezing to `model` (a Module: GPT, LLaMA, a reward model's backbone); `keep` names
 * parameters outside it that stay trainable, for the summary. Returns PEFT's one-line summary:
 * `trainable params: 8,192 || all params: 110,000 || trainable%: 7.45`. Throws for a non-Module model,
 * a target matching no Linear, or a glob matching no parameter.
 */
export function adaptModel(lm: LanguageModel, o: AdaptOptions, keep: string[] = []): string {
  const model = adaptable(lm);
  if (!(model instanceof Module)) throw new Error(`LoRA/--freeze: a ${model.type} model has no module tree to adapt`);
  const parts: string[] = [];
  if (o.lora) {
    const paths = applyLora(model, { r: o.lora.r, loraAlpha: o.lora.alpha, loraDropout: o.lora.dropout, targets: o.lora.targets, rng: new Rng(4321) });
    parts.push(`LoRA r=${o.lora.r} α=${o.lora.alpha} on ${paths.length} layers (${o.lora.targets.join(', ')})`);
  }
  if (o.freeze?.length) parts.push(`froze ${freezeParameters(model, o.freeze).length} tensors`);
  const c = countParameters(model);
  return `${parts.join('; ')}: trainable params: ${c.trainable.toLocaleString('en')} || all params: ${c.total.toLocaleString('en')} || trainable%: ${c.percent.toFixed(2)}${keep.length ? ` (plus ${keep.join(', ')})` : ''}`;
}

/** true when the model carries LoRA layers */
export function hasLora(lm: LanguageModel): boolean {
  const model = adaptable(lm);
  return model instanceof Module && loraLayers(model).length > 0;
}

/** the module tree LoRA and freezing work on: the model itself, or a wrapper's `backbone` (reward model) */
export function adaptable(model: LanguageModel): LanguageModel {
  const inner = (model as { backbone?: LanguageModel }).backbone;
  return inner ?? model;
}

/**
 * A plain model of the same type with W + α/r·B·A in place of every LoRA layer's weight (PEFT's
 * merge_and_unload); `model` itself is left unmerged. Loads in every command like any checkpoint.
 */
export function mergedCopy(model: LanguageModel): LanguageModel {
  const tree = adaptable(model);
  if (!(tree instanceof Module)) throw new Error(`merge: a ${model.type} model has no LoRA layers`);
  mergeLora(tree);
  try {
    const plain = createModel(model.type, model.config as unknown as Record<string, unknown>, 1);
    const state = [...model.stateDict()].filter(([n]) => !LORA_NAME.test(n)).map(([n, t]) => [n, { shape: t.shape, data: t.data.slice() }] as const);
    plain.loadStateDict(new Map(state), 'merge');
    return plain;
  } finally {
    unmergeLora(tree);
  }
}

export function isLoraTensor(name: string): boolean {
  return LORA_NAME.test(name);
}
