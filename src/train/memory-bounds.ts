// Upper bounds on what a training run would allocate, checked before the model or a batch exists, so that a
// huge --batch-size/--block-size/--n-embd is one clear line instead of JavaScript's "Invalid typed array length"
// (a UsageError: the flags ask for more than a run can hold, exit 2).

import { UsageError } from '../usage-error.js';

/** the most bytes one tensor family of a run may need: 8 GiB */
export const MAX_RUN_BYTES = 8 * 2 ** 30;

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/**
 * Throws the one out-of-memory line when `bytes` exceed `limit`: "out of memory: WHAT would need X GiB (more
 * than Y GiB); lower FLAGS" (a UsageError: the flags ask for more than a run can hold, exit 2).
 */
export function checkBytes(what: string, bytes: number, flags: string, limit = MAX_RUN_BYTES): void {
  if (bytes > limit) throw new UsageError(`out of memory: ${what} would need ${gib(bytes)} (more than ${gib(limit)}); lower ${flags}`);
}

/**
 * Throws one line naming the flags when a run of model config `cfg` (fields blockSize, vocabSize, nEmbd,
 * nLayer, nHead where the model has them) at `batchSize` sequences per step would need more than `limit` bytes
 * for the batch's logits (B×T×vocab float32), one layer's attention weights (B×heads×T×T float32) or the
 * parameters with their gradients and the optimizer's `states` buffers (optimizerStateCount; Adam's 2 by
 * default) (≈ (2 + states) × (12·layers·width² + (vocab + T)·width) float32
 * for a transformer; for a model with nHidden, in place of 12·layers·width², at most four gates' matrices per
 * recurrent layer, or an MLP's context projection, and the output projection), or a recurrent model's gate
 * activations kept for the backward pass (B×T×layers×4·nHidden float32).
 * `batchFlags` names what lowers the batch's share (fine-tuning fixes the block size: '--batch-size').
 */
export function checkMemoryBounds(cfg: Record<string, unknown>, batchSize: number, limit = MAX_RUN_BYTES, batchFlags = '--batch-size/--block-size', states = 2): void {
  const n = (k: string): number => (typeof cfg[k] === 'number' ? (cfg[k] as number) : 0);
  const B = batchSize, T = n('blockSize'), V = n('vocabSize'), E = n('nEmbd'), L = n('nLayer'), H = n('nHead');
  checkBytes(`the logits of a batch (${B}×${T}×${V} float32)`, B * T * V * 4, batchFlags, limit);
  if (H > 0) checkBytes(`the attention weights of a batch (${B}×${H}×${T}×${T} float32)`, B * H * T * T * 4, batchFlags, limit);
  const hidden = n('nHidden'), C = n('context'), layers = Math.max(L, 1);
  const gates = C > 0 ? 0 : 4 * layers * hidden * (Math.max(E, hidden) + hidden), mixing = C * E * hidden + hidden * V;
  const params = 4 * (2 + states) * ((hidden > 0 ? gates + mixing : 12 * L * E * E) + (V + T) * E);
  const sizeFlags = hidden > 0 ? `--n-hidden/--n-embd${C > 0 ? '/--context' : '/--n-layer'}` : '--n-embd/--n-layer/--block-size';
  const kept = states === 0 ? '' : ` and ${states} optimizer buffer${states > 1 ? 's' : ''}`;
  checkBytes(`the parameters with their gradients${kept}`, params, sizeFlags, limit);
  if (C === 0) checkBytes(`the gate activations of a batch (${B}×${T}×${layers}×${4 * hidden} float32)`, B * T * layers * 4 * hidden * 4, `${batchFlags}/--n-hidden`, limit);
}
