// Parameter-efficient training for SFT and the alignment commands: LoRA on chosen Linear layers (Hu et al.
// 2021, as PEFT's get_peft_model), optionally with the rows of chosen tokens of the token tables trainable
// (PEFT's trainable_token_indices: SFT's new chat tokens), and/or freezing parameters by glob
// (src/nn/freeze.ts), with PEFT's print_trainable_parameters line. The Trainer leaves parameters with
// requiresGrad false out of its optimizer, so nothing else changes. Also: a plain copy of an adapted model
// with its updates merged in.
import type { LanguageModel } from '../models/model.js';
import { createModel, modelType } from '../models/registry.js';
import { Module } from '../nn/module.js';
import { Embedding, Linear } from '../nn/layers.js';
import { applyLora, loraLayers, matchesTarget, mergeLora, namedModules, unmergeLora } from '../nn/lora.js';
import { applyTrainableTokens, trainableTokenLayers, TRAINABLE_TOKENS_NAME } from '../nn/trainable-tokens.js';
import { countParameters, freezeParameters, globToRegExp } from '../nn/freeze.js';
import { UsageError } from '../usage-error.js';
import { Rng } from '../tensor/rng.js';

export interface LoraOptions {
  r: number;
  alpha: number;
  dropout: number;
  /** module names, PEFT's target_modules (c_attn, c_proj, …), or ['all-linear'] (PEFT's shorthand: every Linear but the output head) */
  targets: string[];
  /** token ids whose rows of the token tables (embedding, untied output head) train too (PEFT's trainable_token_indices) */
  trainableTokens?: number[];
}

export interface AdaptOptions {
  lora?: LoraOptions;
  /** globs over parameter names to freeze (`transformer.h.0.*`, `**.ln_*`) */
  freeze?: string[];
}

const LORA_NAME = /(^|\.)lora_[AB]\.weight$/;

/** PEFT's `all-linear` shorthand */
export const ALL_LINEAR = 'all-linear';

/** the dotted module paths of a model's token tables (its type's vocabParameters that are Embedding or Linear weights) */
export function tokenTablePaths(model: LanguageModel & Module): string[] {
  const modules = new Map(namedModules(model));
  return modelType(model.type).vocabParameters
    .filter((n) => n.endsWith('.weight'))
    .map((n) => n.slice(0, -'.weight'.length))
    .filter((p) => modules.get(p) instanceof Embedding || modules.get(p) instanceof Linear);
}

/** the target names LoRA gets: the list as given, or for `all-linear` the names of every Linear layer but the token tables */
function resolveTargets(model: LanguageModel & Module, targets: string[]): string[] {
  if (!(targets.length === 1 && targets[0] === ALL_LINEAR)) return targets;
  const heads = new Set(tokenTablePaths(model));
  const names = namedModules(model).filter(([p, m]) => m instanceof Linear && !heads.has(p)).map(([p]) => p.split('.').pop()!);
  return [...new Set(names)];
}

/**
 * Applies LoRA (with trainable token rows if asked) and/or freezing to `model` (a Module: GPT, LLaMA, a
 * reward model's backbone); `keep` names parameters outside it that stay trainable, for the summary. Returns
 * PEFT's one-line summary: `trainable params: 8,192 || all params: 110,000 || trainable%: 7.45`. Throws for a
 * non-Module model, a target matching no Linear, or a glob matching no parameter.
 */
export function adaptModel(lm: LanguageModel, o: AdaptOptions, keep: string[] = []): string {
  const model = adaptable(lm);
  if (!(model instanceof Module)) throw new Error(`LoRA/--freeze: a ${model.type} model has no module tree to adapt`);
  const tree = model as LanguageModel & Module;
  const parts: string[] = [];
  if (o.lora) {
    const targets = resolveTargets(tree, o.lora.targets);
    const linears = `this model's Linear modules: ${resolveTargets(tree, [ALL_LINEAR]).join(', ')}`;
    checkLoraRank(tree, targets, o.lora.r);
    const paths = flagged('--lora-targets', () => applyLora(tree, { r: o.lora!.r, loraAlpha: o.lora!.alpha, loraDropout: o.lora!.dropout, targets, rng: new Rng(4321) }), linears);
    parts.push(`LoRA r=${o.lora.r} α=${o.lora.alpha} on ${paths.length} layers (${targets.join(', ')})`);
    const ids = o.lora.trainableTokens ?? [];
    if (ids.length) {
      const tables = applyTrainableTokens(tree, tokenTablePaths(tree), ids);
      parts.push(`rows of ${ids.length} new tokens in ${tables.join(', ')}`);
    }
  }
  const names = tree.namedParameters().map(([n]) => n);
  const some = `the model's names look like ${names.slice(0, 3).join(', ')}, …`;
  if (o.freeze?.length) parts.push(`froze ${flagged('--freeze', () => freezeParameters(tree, o.freeze!), some).length} tensors`);
  const c = countParameters(tree);
  if (c.trainable === 0) throw new Error(`--freeze ${o.freeze?.join(',') ?? ''}: leaves no trainable parameter; freeze fewer (${some})`);
  return `${parts.join('; ')}: trainable params: ${c.trainable.toLocaleString('en')} || all params: ${c.total.toLocaleString('en')} || trainable%: ${c.percent.toFixed(2)}${keep.length ? ` (plus ${keep.join(', ')})` : ''}`;
}

/**
 * Checks LoRA and --freeze options against a model before any work (adaptModel applies them later): targets that
 * match no Linear layer, a rank above what the adapted layers allow, a --freeze glob that matches no parameter
 * are refused here, in one line naming the flag (a UsageError, exit 2), rather than after data loading, an
 * evaluation or a cold start.
 */
export function checkAdaptOptions(lm: LanguageModel, o: AdaptOptions | undefined): void {
  const model = adaptable(lm);
  if (!(o?.lora || o?.freeze?.length) || !(model instanceof Module)) return;
  const tree = model as LanguageModel & Module;
  if (o.lora) {
    const targets = resolveTargets(tree, o.lora.targets);
    if (!namedModules(tree).some(([p, m]) => m instanceof Linear && matchesTarget(p, targets))) {
      throw new UsageError(`--lora-targets ${o.lora.targets.join(',')}: matches no Linear module of this model (its Linear modules: ${resolveTargets(tree, [ALL_LINEAR]).join(', ')})`);
    }
    checkLoraRank(tree, targets, o.lora.r);
  }
  // patterns are checked against the model's own parameters (LoRA's lora_A/lora_B come later, so those are left to adaptModel)
  const names = tree.namedParameters().map(([n]) => n);
  for (const glob of o.freeze ?? []) {
    if (/lora_|trainable_tokens/.test(glob)) continue;
    const re = globToRegExp(glob);
    if (!names.some((n) => re.test(n))) throw new UsageError(`--freeze: pattern "${glob}" matches no parameter of this model (its names look like ${names.slice(0, 3).join(', ')}, …)`);
  }
}

/**
 * Throws `--lora-r R: at most N for this model, …` when the rank is above min(in, out) of an adapted Linear layer:
 * the update B·A cannot have a higher rank than that, so a larger r only adds parameters (and a huge one
 * exhausts memory).
 */
function checkLoraRank(tree: LanguageModel & Module, targets: string[], r: number): void {
  let small: { path: string; out: number; in: number } | null = null;
  for (const [p, m] of namedModules(tree)) {
    if (!(m instanceof Linear) || !matchesTarget(p, targets)) continue;
    const [out, inF] = m.weight.shape;
    if (!small || Math.min(out, inF) < Math.min(small.out, small.in)) small = { path: p, out, in: inF };
  }
  const limit = small ? Math.min(small.out, small.in) : Infinity;
  if (r > limit) throw new UsageError(`--lora-r ${r}: at most ${limit} for this model, the smaller side of ${small!.path} (${small!.out}×${small!.in}); a larger rank adds parameters, not expressiveness`);
}

/** runs `f`, naming `flag` instead of the library function in its one-line error (`applyLora: targets …` → `--lora-targets: targets …`), plus `hint` */
function flagged<T>(flag: string, f: () => T, hint?: string): T {
  try {
    return f();
  } catch (e) {
    throw new Error(`${flag}: ${(e as Error).message.replace(/^(applyLora|freezeParameters): /, '')}${hint ? ` (${hint})` : ''}`);
  }
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
 * A plain model of the same type with W + α/r·B·A in place of every LoRA layer's weight and the trained
 * token rows written into their tables (PEFT's merge_and_unload); `model` itself is left unmerged. Loads in
 * every command like any checkpoint.
 */
export function mergedCopy(model: LanguageModel): LanguageModel {
  const tree = adaptable(model);
  if (!(tree instanceof Module)) throw new Error(`merge: a ${model.type} model has no LoRA layers`);
  const tokens = trainableTokenLayers(tree).map(([, l]) => l);
  mergeLora(tree);
  tokens.forEach((l) => l.merge());
  try {
    const plain = createModel(model.type, model.config as unknown as Record<string, unknown>, 1);
    const state = [...model.stateDict()].filter(([n]) => !isLoraTensor(n)).map(([n, t]) => [n, { shape: t.shape, data: t.data.slice() }] as const);
    plain.loadStateDict(new Map(state), 'merge');
    return plain;
  } finally {
    unmergeLora(tree);
    tokens.forEach((l) => l.unmerge());
  }
}

/** true for an adapter tensor: LoRA's A and B, and trained token rows */
export function isLoraTensor(name: string): boolean {
  return LORA_NAME.test(name) || TRAINABLE_TOKENS_NAME.test(name);
}
