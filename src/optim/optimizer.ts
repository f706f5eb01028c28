// The optimizer interface: what the trainer and the optimization step need of any optimizer (AdamW, SGD,
// RMSProp, Adam, Adagrad, …). An optimizer owns parameter groups (each with its own weight decay) and
// per-parameter state (moments), which it saves and restores by parameter name for checkpoints. The
// learning rate is handed to every update by the caller, so schedules (src/optim/schedule.ts) live apart.
import type { Tensor } from '../tensor/tensor.js';

export interface ParamGroup {
  params: Tensor[];
  weightDecay: number;
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
