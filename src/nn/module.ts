// Module: a tree of named parameters and sub-modules, as torch.nn.Module. Names join with dots, giving
// state-dict keys like `transformer.h.0.attn.c_attn.weight` that match nanoGPT's checkpoints.
import { Tensor } from '../tensor/tensor.js';
import { toPersistent } from '../backend/storage.js';

export abstract class Module {
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  protected param(name: string, t: Tensor): Tensor {
    t.data = toPersistent(t.data);
    t.requiresGrad = true;
    t.name = name;
    this.params.set(name, t);
    return t;
  }

  /**
   * A tensor that belongs to the state dict but is not trained (BatchNorm's running statistics): it is saved
   * and loaded with the parameters, moved to the backend's storage with them, and never given to an optimizer.
   */
  protected buffer(name: string, t: Tensor): Tensor {
    t.data = toPersistent(t.data);
    t.requiresGrad = false;
    t.name = name;
    this.buffers.set(name, t);
    return t;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** direct sub-modules with their names, in registration order */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /**
   * Swaps the child registered as `name` for `m` — also in any own field or array element that held it, so
   * forward passes use the new one (LoRA wraps Linear layers this way). Returns the old child; throws for an
   * unknown name.
   */
  replaceChild(name: string, m: Module): Module {
    const old = this.children.get(name);
    if (!old) throw new Error(`replaceChild: no child module "${name}"`);
    this.children.set(name, m);
    const fields = this as unknown as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      const v = fields[key];
      if (v === old) fields[key] = m;
      else if (Array.isArray(v)) v.forEach((e, i) => e === old && (v[i] = m));
    }
    return old;
  }

  /** every buffer with its dotted name */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...this.buffers].map(([n, b]) => [prefix + n, b] as [string, Tensor]);
    for (const [n, c] of this.children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  /** every parameter with its dotted name, in registration order; a shared (tied) tensor appears once */
  namedParameters(prefix = '', seen = new Set<Tensor>()): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, p] of this.params) {
      if (seen.has(p)) continue;
      seen.add(p);
      out.push([prefix + n, p]);
    }
    for (const [n, c] of this.children) out.push(...c.namedParameters(`${prefix}${n}.`, seen));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /**
   * Parameter values: the elements of every parameter tensor, plus the values layers keep outside tensors
   * (a QuantizedLinear's weight blocks and bias, see packedValues), so a loaded quantized model counts as
   * many parameters as its float32 original.
   */
  numParameters(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0) + this.packedValuesBelow();
  }

  /** values this module itself holds outside parameter tensors (quantized weights); 0 unless overridden */
  protected packedValues(): number {
    return 0;
  }

  private packedValuesBelow(): number {
    let n = this.packedValues();
    for (const c of this.children.values()) n += c.packedValuesBelow();
    return n;
  }

  /** train/eval mode for this module and all below (dropout reads it) */
  train(on = true): this {
    this.training = on;
    for (const c of this.children.values()) c.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /**
   * Moves every parameter's data into the active backend's tensor storage (src/backend/storage.ts), where its
   * kernels use it in place. Parameters are put there when created; this is for a model built before the
   * backend was chosen. Values are unchanged.
   */
  toStorage(): this {
    for (const p of this.parameters()) p.data = toPersistent(p.data);
    for (const [, b] of this.namedBuffers()) b.data = toPersistent(b.data);
    return this;
  }

  /** name → tensor (shared data, not copies): parameters, then buffers */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /** copies values in; every parameter must be present with the same shape, and no unknown names */
  loadStateDict(state: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>, source = 'state dict'): void {
    const own = this.stateDict();
    for (const [name, p] of own) {
      const s = state.get(name);
      if (!s) throw new Error(`${source}: missing tensor "${name}" (expected shape [${p.shape}])`);
      if (s.shape.length !== p.shape.length || s.shape.some((d, i) => d !== p.shape[i])) {
        throw new Error(`${source}: tensor "${name}" has shape [${s.shape}], expected [${p.shape}]`);
      }
      p.data.set(s.data);
    }
    for (const name of state.keys()) {
      if (!own.has(name)) throw new Error(`${source}: unexpected tensor "${name}"`);
    }
  }
}
