// The optimizer interface: what the trainer and the optimization step need of any optimizer (AdamW, SGD,
// RMSProp, Adam, Adagrad, …). An optimizer owns parameter groups (each with its own weight decay) and
// per-parameter state (moments), which it saves and restores by parameter name for checkpoints. The
// learning rate is handed to every update by the caller, so schedules (src/optim/schedule.ts) live apart.
import type { Tensor } from '../tensor/tensor.js';

export interface ParamGroup {
  params: Tensor[];
  weightDecay: number;
  /** multiplies the learning rate given to update() for this group (default 1; LoRA+'s B matrices, loraPlusGroups) */
  lrScale?: number;
  /** hidden-layer weight matrices whose updates Muon orthogonalises (muonGroups); other optimizers ignore it */
  muon?: boolean;
}

export interface Optimizer {
  /** 'adamw', 'sgd', … as `--optimizer` names it */
  readonly name: string;
  readonly groups: ParamGroup[];
  /** updates taken so far (Adam's bias correction counts from it) */
  step: number;
  /** one update of every parameter that has a gradient, at learning rate lr */
  update(lr: number): void;
  zeroGrad(): void;
  /** per-parameter state as flat arrays keyed `<slot>.<parameter name>` (e.g. `m.transformer.wte.weight`) */
  stateTensors(nameOf: (p: Tensor) => string): Record<string, Float32Array>;
  /** restores what stateTensors saved; throws naming the parameter whose state is missing or misshapen */
  loadStateTensors(state: ReadonlyMap<string, Float32Array>, nameOf: (p: Tensor) => string, step: number): void;
}

/**
 * nanoGPT's two groups: parameters named in `decayed` (or, with `decayAllMatrices`, every ≥2-D one) get
 * weight decay `weightDecay`; the rest (biases, norms, by default embeddings) get none.
 */
export function weightDecayGroups(
  named: readonly [string, Tensor][], decayed: ReadonlySet<string>, weightDecay: number, decayAllMatrices = false,
): ParamGroup[] {
  const decays = (n: string, p: Tensor): boolean => decayed.has(n) || (decayAllMatrices && p.ndim >= 2);
  return [
    { params: named.filter(([n, p]) => decays(n, p)).map(([, p]) => p), weightDecay },
    { params: named.filter(([n, p]) => !decays(n, p)).map(([, p]) => p), weightDecay: 0 },
  ];
}

/**
 * LoRA+ (Hayou, Ghosh & Yu 2024, "LoRA+: Efficient Low Rank Adaptation of Large Models"; PEFT's
 * create_loraplus_optimizer and its loraplus_lr_ratio): the B factor of every LoRA adapter (a parameter named
 * `….lora_B.weight`) learns `ratio` times faster than the A factor and everything else. Moves those parameters
 * out of each group into a group of their own with lrScale = ratio and the same weight decay. Returns the groups
 * unchanged when ratio is 1; throws when ratio is not 1 but no trainable parameter is a LoRA B factor. Only the
 * learning rate differs: the update rule and the saved optimizer state (by parameter name) are plain LoRA's.
 */
export function loraPlusGroups(groups: ParamGroup[], named: readonly [string, Tensor][], ratio: number): ParamGroup[] {
  if (ratio === 1) return groups;
  const isB = new Set(named.filter(([n]) => /(^|\.)lora_B\./.test(n)).map(([, p]) => p));
  if (!isB.size) throw new Error(`loraplusLrRatio (--loraplus-lr-ratio) ${ratio} needs LoRA adapters, and this model trains none`);
  const out: ParamGroup[] = [];
  for (const g of groups) {
    const rest = g.params.filter((p) => !isB.has(p)), b = g.params.filter((p) => isB.has(p));
    if (rest.length) out.push({ ...g, params: rest });
    if (b.length) out.push({ ...g, params: b, lrScale: (g.lrScale ?? 1) * ratio });
  }
  return out;
}

/** Saves and restores per-parameter slots (moments, momentum buffers) for any optimizer. */
export class SlotState {
  readonly slots = new Map<string, Map<Tensor, Float32Array>>();
  constructor(names: readonly string[], groups: readonly ParamGroup[], alloc: (n: number) => Float32Array) {
    for (const s of names) {
      const m = new Map<Tensor, Float32Array>();
      for (const g of groups) for (const p of g.params) m.set(p, alloc(p.size));
      this.slots.set(s, m);
    }
  }
  get(slot: string, p: Tensor): Float32Array {
    return this.slots.get(slot)!.get(p)!;
  }
  toTensors(nameOf: (p: Tensor) => string): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const [s, m] of this.slots) for (const [p, a] of m) out[`${s}.${nameOf(p)}`] = a;
    return out;
  }
  load(state: ReadonlyMap<string, Float32Array>, nameOf: (p: Tensor) => string, what = 'optimizer state'): void {
    for (const [s, m] of this.slots)
      for (const [p, a] of m) {
        const src = state.get(`${s}.${nameOf(p)}`);
        if (!src || src.length !== p.size) throw new Error(`${what}: "${s}" for "${nameOf(p)}" is missing or has the wrong size`);
        a.set(src);
      }
  }
}

/**
 * What every optimizer with per-parameter slots shares: the groups, the step count, zeroGrad, and saving and
 * restoring its slots by parameter name. A subclass names its slots in `super(groups, slotNames)` and writes
 * `update(lr)`.
 */
export abstract class SlotOptimizer implements Optimizer {
  abstract readonly name: string;
  step = 0;
  protected readonly slots: SlotState;

  constructor(readonly groups: ParamGroup[], slotNames: readonly string[], alloc: (n: number) => Float32Array) {
    this.slots = new SlotState(slotNames, groups, alloc);
  }

  abstract update(lr: number): void;

  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.zeroGrad();
  }

  /** slots keyed `<slot>.<parameter name>`, for checkpoints */
  stateTensors(nameOf: (p: Tensor) => string): Record<string, Float32Array> {
    return this.slots.toTensors(nameOf);
  }

  loadStateTensors(state: ReadonlyMap<string, Float32Array>, nameOf: (p: Tensor) => string, step: number): void {
    this.slots.load(state, nameOf);
    this.step = step;
  }
}
