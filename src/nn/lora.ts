// LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"), as PEFT's lora.Linear: a frozen
// Linear layer W (out, in) plus a trainable low-rank update,
//   y = x·Wᵀ + b + (dropout(x)·Aᵀ·Bᵀ) · α/r,      A (r, in), B (out, r)
// A starts as PEFT's default (kaiming-uniform with a = √5, i.e. U(−1/√in, 1/√in)) and B as zeros, so a new
// adapter leaves the model's output unchanged. merge() folds α/r·B·A into W (inference without the extra
// matmuls), unmerge() takes it out again.
//
// applyLora swaps the Linear children whose module path matches a target for LoRALinear wrappers. The wrapper
// registers the base layer's own weight and bias tensors under the same names, so state-dict keys stay as
// they were (`transformer.h.0.attn.c_attn.weight`) and gain `…c_attn.lora_A.weight` / `…lora_B.weight` — PEFT's
// names minus its `base_model.model.` prefix and adapter name (src/formats/peft.ts).
import { Tensor } from '../tensor/tensor.js';
import { add, dropout, mul } from '../tensor/elementwise.js';
import { linear } from '../tensor/matmul.js';
import { Rng } from '../tensor/rng.js';
import { Module } from './module.js';
import { Linear } from './layers.js';

/** one LoRA factor (A or B) as a module holding `weight`, so its parameter is named `lora_A.weight` as in PEFT */
class LoraFactor extends Module {
  readonly weight: Tensor;
  constructor(w: Tensor) {
    super();
    this.weight = this.param('weight', w);
  }
}

export interface LoraLayerOptions {
  /** rank r ≥ 1 */
  r: number;
  /** α: the update is scaled by α / r */
  loraAlpha: number;
  /** dropout on the adapter's input, in [0, 1) (PEFT's lora_dropout) */
  loraDropout?: number;
  /** draws A's initial values and the dropout masks */
  rng: Rng;
}

/** PEFT's default A: kaiming_uniform_(a=√5) on (r, in) = U(−bound, bound) with bound = 1/√in */
function kaimingA(r: number, inF: number, rng: Rng): Tensor {
  const bound = 1 / Math.sqrt(inF);
  return Tensor.rand([r, inF], rng, -bound, bound);
}

export class LoRALinear extends Module {
  /** the base layer's weight (out, in), frozen */
  readonly weight: Tensor;
  /** the base layer's bias (out), frozen; null without one */
  readonly bias: Tensor | null;
  readonly lora_A: LoraFactor;
  readonly lora_B: LoraFactor;
  readonly r: number;
  readonly loraAlpha: number;
  readonly loraDropout: number;
  /** α / r */
  readonly scaling: number;
  readonly inFeatures: number;
  readonly outFeatures: number;
  private mergedIn = false;
  private readonly rng: Rng;

  /** Wraps `base` (whose tensors it takes over, frozen). Throws on r < 1, α ≤ 0 or dropout outside [0, 1). */
  constructor(base: Linear, opts: LoraLayerOptions) {
    super();
    const { r, loraAlpha } = opts;
    const p = opts.loraDropout ?? 0;
    if (!(Number.isInteger(r) && r >= 1)) throw new Error(`LoRA: r must be a positive integer, got ${r}`);
    if (!(loraAlpha > 0)) throw new Error(`LoRA: loraAlpha must be > 0, got ${loraAlpha}`);
    if (!(p >= 0 && p < 1)) throw new Error(`LoRA: loraDropout must be in [0, 1), got ${p}`);
    [this.outFeatures, this.inFeatures] = base.weight.shape;
    this.r = r;
    this.loraAlpha = loraAlpha;
    this.loraDropout = p;
    this.scaling = loraAlpha / r;
    this.rng = opts.rng;
    this.weight = this.param('weight', base.weight);
    this.bias = base.bias ? this.param('bias', base.bias) : null;
    this.weight.requiresGrad = false;
    if (this.bias) this.bias.requiresGrad = false;
    this.lora_A = this.child('lora_A', new LoraFactor(kaimingA(r, this.inFeatures, opts.rng)));
    this.lora_B = this.child('lora_B', new LoraFactor(Tensor.zeros([this.outFeatures, r])));
    this.training = base.training;
  }

  get merged(): boolean {
    return this.mergedIn;
  }

  /** x (…, in) → (…, out) */
  forward(x: Tensor): Tensor {
    const y = linear(x, this.weight, this.bias); // (…, out)
    if (this.mergedIn) return y;
    const h = linear(dropout(x, this.loraDropout, this.training, this.rng), this.lora_A.weight); // (…, r)
    return add(y, mul(linear(h, this.lora_B.weight), this.scaling)); // (…, out)
  }

  /** α/r · B·A as a flat (out, in) array: the change merge() adds to W */
  deltaWeight(): Float32Array {
    const { outFeatures: O, inFeatures: I, r } = this;
    const A = this.lora_A.weight.data, B = this.lora_B.weight.data;
    const d = new Float32Array(O * I);
    for (let o = 0; o < O; o++)
      for (let i = 0; i < I; i++) {
        let s = 0;
        for (let k = 0; k < r; k++) s += B[o * r + k] * A[k * I + i];
        d[o * I + i] = s * this.scaling;
      }
    return d;
  }

  /** W += α/r·B·A; forward then uses W alone. Throws when already merged. */
  merge(): void {
    if (this.mergedIn) throw new Error('LoRA: merge() on a layer that is already merged');
    const d = this.deltaWeight(), w = this.weight.data;
    for (let i = 0; i < w.length; i++) w[i] += d[i];
    this.mergedIn = true;
  }

  /** W −= α/r·B·A, undoing merge(). Throws when not merged. */
  unmerge(): void {
    if (!this.mergedIn) throw new Error('LoRA: unmerge() on a layer that is not merged');
    const d = this.deltaWeight(), w = this.weight.data;
    for (let i = 0; i < w.length; i++) w[i] -= d[i];
    this.mergedIn = false;
  }
}

// ---- module surgery ------------------------------------------------------------------------------------
// Listing and swapping sub-modules, through Module.namedChildren / replaceChild.

/** a module's direct children with their names, in registration order */
export function namedChildren(m: Module): [string, Module][] {
  return m.namedChildren();
}

/** every module below `root` with its dotted path ('' for root itself), depth first */
export function namedModules(root: Module, prefix = ''): [string, Module][] {
  const out: [string, Module][] = [[prefix, root]];
  for (const [n, c] of namedChildren(root)) out.push(...namedModules(c, prefix ? `${prefix}.${n}` : n));
  return out;
}

/** swaps parent's child `name` for `next` (Module.replaceChild) */
export function replaceChild(parent: Module, name: string, next: Module): Module {
  return parent.replaceChild(name, next);
}

// ---- applying LoRA to a model ----------------------------------------------------------------------------

export interface LoraConfig {
  r: number;
  loraAlpha: number;
  loraDropout?: number;
  /**
   * module names to adapt, PEFT's target_modules as a list: a module matches when its dotted path equals a
   * target or ends with `.` + target (`c_attn` matches `transformer.h.0.attn.c_attn`)
   */
  targets: string[];
  /** draws A and the dropout masks; default a Rng seeded 0 */
  rng?: Rng;
}

/** PEFT's target matching for a list of names */
export function matchesTarget(path: string, targets: readonly string[]): boolean {
  return targets.some((t) => path === t || path.endsWith(`.${t}`));
}

/**
 * Replaces every Linear below `model` whose path matches `targets` by a LoRALinear and freezes every other
 * parameter (PEFT's get_peft_model with bias "none": only lora_A / lora_B train). Returns the adapted module
 * paths in order. Throws when targets is empty, matches no Linear, or a matching module is not a Linear.
 */
export function applyLora(model: Module, cfg: LoraConfig): string[] {
  if (!Array.isArray(cfg.targets) || cfg.targets.length === 0 || cfg.targets.some((t) => typeof t !== 'string' || !t)) {
    throw new Error('applyLora: targets must be a non-empty list of module names');
  }
  const rng = cfg.rng ?? new Rng(0);
  const adapted: string[] = [];
  for (const [path, parent] of namedModules(model)) {
    for (const [name, child] of namedChildren(parent)) {
      const full = path ? `${path}.${name}` : name;
      if (!matchesTarget(full, cfg.targets)) continue;
      if (child instanceof LoRALinear) throw new Error(`applyLora: module "${full}" already has LoRA`);
      if (!(child instanceof Linear)) throw new Error(`applyLora: target module "${full}" is a ${child.constructor.name}, not a Linear`);
      replaceChild(parent, name, new LoRALinear(child, { r: cfg.r, loraAlpha: cfg.loraAlpha, loraDropout: cfg.loraDropout, rng }));
      adapted.push(full);
    }
  }
  if (adapted.length === 0) throw new Error(`applyLora: targets [${cfg.targets.join(', ')}] match no Linear module`);
  for (const [n, p] of model.namedParameters()) p.requiresGrad = /(^|\.)lora_[AB]\.weight$/.test(n);
  return adapted;
}

/** the LoRA layers below `model` with their module paths */
export function loraLayers(model: Module): [string, LoRALinear][] {
  return namedModules(model).filter((e): e is [string, LoRALinear] => e[1] instanceof LoRALinear);
}

/** merges every LoRA layer's update into its base weight (see LoRALinear.merge) */
export function mergeLora(model: Module): void {
  for (const [, l] of loraLayers(model)) l.merge();
}

/** undoes mergeLora */
export function unmergeLora(model: Module): void {
  for (const [, l] of loraLayers(model)) l.unmerge();
}
