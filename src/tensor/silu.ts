// SiLU (Hendrycks & Gimpel 2016; Elfwing et al. 2018: "swish") and the SwiGLU product of LLaMA's MLP
// (Shazeer 2020, "GLU Variants Improve Transformer"):
//   silu(x) = x·σ(x)                 silu'(x) = σ(x)·(1 + x·(1 − σ(x)))
//   swiglu(a, b) = silu(a) · b       LlamaMLP: down_proj(swiglu(gate_proj(x), up_proj(x)))
// The product is fused so the MLP's hidden activation is one tensor, not three.
// The arithmetic is the active backend's (swiglu/swigluBackward: src/backend/js.ts is the reference).
import { backend } from '../backend/backend.js';
import { allocUninit } from '../backend/storage.js';
import { Tensor } from './tensor.js';

/** element-wise x·σ(x), any shape */
export function silu(a: Tensor): Tensor {
  const n = a.size;
  const out = allocUninit(n);
  backend().swiglu(a.data, null, out, n);
  return Tensor.fromOp(out, a.shape.slice(), [a], (o) => {
    const t = a.gradTarget();
    backend().swigluBackward(a.data, null, o.grad!, t.grad, null, n, t.accumulate);
  });
}

/**
 * silu(gate) · up, element-wise; gate and up have the same shape, e.g. (B, T, intermediateSize).
 * Backward: d gate = dy·up·silu'(gate), d up = dy·silu(gate). Throws when the shapes differ.
 */
export function swiglu(gate: Tensor, up: Tensor): Tensor {
  if (gate.ndim !== up.ndim || gate.shape.some((d, i) => d !== up.shape[i])) {
    throw new Error(`swiglu: gate [${gate.shape}] and up [${up.shape}] must have the same shape`);
  }
  const n = gate.size;
  const out = allocUninit(n);
  backend().swiglu(gate.data, up.data, out, n);
  return Tensor.fromOp(out, gate.shape.slice(), [gate, up], (o) => {
    // fresh gradients (the usual case: gate and up are projections used once) are overwritten, not zeroed
    const tg = gate.requiresGrad ? gate.gradTarget() : null;
    const tu = up.requiresGrad ? up.gradTarget() : null;
    const accumulate = !!(tg?.accumulate || tu?.accumulate);
    if (accumulate && tg && !tg.accumulate) tg.grad.fill(0);
    if (accumulate && tu && !tu.accumulate) tu.grad.fill(0);
    const dg = tg?.grad ?? null, du = tu?.grad ?? null;
    if (dg !== null && dg === du) {
      // swiglu(x, x): one gradient buffer, so the two terms are added one after the other
      backend().swigluBackward(gate.data, up.data, o.grad!, dg, null, n, true);
      backend().swigluBackward(gate.data, up.data, o.grad!, null, du, n, true);
    } else backend().swigluBackward(gate.data, up.data, o.grad!, dg, du, n, accumulate);
  });
}
