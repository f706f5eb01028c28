// SiLU (Hendrycks & Gimpel 2016; Elfwing et al. 2018: "swish") and the SwiGLU product of LLaMA's MLP
// (Shazeer 2020, "GLU Variants Improve Transformer"):
//   silu(x) = x·σ(x)                 silu'(x) = σ(x)·(1 + x·(1 − σ(x)))
//   swiglu(a, b) = silu(a) · b       LlamaMLP: down_proj(swiglu(gate_proj(x), up_proj(x)))
// The product is fused so the MLP's hidden activation is one tensor, not three.
import { alloc } from '../backend/storage.js';
import { Tensor } from './tensor.js';

/** σ(x), stable for large |x| */
function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** element-wise x·σ(x), any shape */
export function silu(a: Tensor): Tensor {
  const n = a.size, A = a.data;
  const out = alloc(n);
  for (let i = 0; i < n; i++) out[i] = A[i] * sigmoid(A[i]);
  return Tensor.fromOp(out, a.shape.slice(), [a], (o) => {
    const g = o.grad!, ga = a.gradBuf();
    for (let i = 0; i < n; i++) {
      const s = sigmoid(A[i]);
      ga[i] += g[i] * s * (1 + A[i] * (1 - s));
    }
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
  const n = gate.size, G = gate.data, U = up.data;
  const out = alloc(n);
  for (let i = 0; i < n; i++) out[i] = G[i] * sigmoid(G[i]) * U[i];
  return Tensor.fromOp(out, gate.shape.slice(), [gate, up], (o) => {
    const g = o.grad!;
    const gg = gate.requiresGrad ? gate.gradBuf() : null;
    const gu = up.requiresGrad ? up.gradBuf() : null;
    for (let i = 0; i < n; i++) {
      const s = sigmoid(G[i]);
      if (gg) gg[i] += g[i] * U[i] * s * (1 + G[i] * (1 - s));
      if (gu) gu[i] += g[i] * G[i] * s;
    }
  });
}
