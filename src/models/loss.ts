// The language-model loss every model returns from forward: next-token cross-entropy over (B, T) positions,
// averaged (optionally weighted by a loss mask, SFT's assistant-only loss) or per token (reduction 'none').
import { Tensor } from '../tensor/tensor.js';
import { crossEntropy, crossEntropyPerToken } from '../tensor/nnops.js';
import { reshape } from '../tensor/shape.js';
import type { ForwardOptions } from './model.js';

/**
 * logits (B, T, V), opts.targets (B·T, −1 = ignore) → the scalar mean loss (weighted by opts.lossMask), or
 * with reduction 'none' the (B, T) negative log-likelihoods (lossMask multiplies them). Null without targets.
 */
export function languageModelLoss(logits: Tensor, opts: ForwardOptions): Tensor | null {
  const { targets, lossMask } = opts;
  if (!targets) return null;
  if (lossMask && lossMask.length !== targets.length) {
    throw new Error(`loss: lossMask has ${lossMask.length} weights for ${targets.length} targets`);
  }
  if ((opts.reduction ?? 'mean') === 'mean') return crossEntropy(logits, targets, -1, lossMask);
  const [B, T] = logits.shape;
  const nll = crossEntropyPerToken(logits, targets, -1); // (B·T)
  return reshape(lossMask ? maskMul(nll, lossMask) : nll, [B, T]);
}

/** x · w element-wise with constant weights w (no gradient to w) */
function maskMul(x: Tensor, w: Float32Array): Tensor {
  const out = new Float32Array(x.size);
  for (let i = 0; i < out.length; i++) out[i] = x.data[i] * w[i];
  return Tensor.fromOp(out, x.shape.slice(), [x], (o) => {
    const g = x.gradBuf();
    for (let i = 0; i < out.length; i++) g[i] += o.grad![i] * w[i];
  });
}
