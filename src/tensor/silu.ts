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
  return Tensor.fromOp(out, a.shape.slice(), [a], (o) => backend().swigluBackward(a.data, null, o.grad!, a.gradBuf(), null, n));
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
    const gg = gate.requiresGrad ? gate.gradBuf() : null;
    const gu = up.requiresGrad ? up.gradBuf() : null;
    backend().swigluBackward(gate.data, up.data, o.grad!, gg, gu, n);
  });
}
