// Re-estimates the BatchNorm running statistics of a network for its current weights, as PyTorch's
// torch.optim.swa_utils.update_bn does: reset them, switch every BatchNorm layer to a cumulative average
// (momentum None), run forward passes in training mode, restore. During GAN training the generator changes
// faster than momentum-0.1 running statistics follow, so eval-mode samples lag it; after this they show the
// current generator (Wu & Johnson 2021, "Rethinking 'Batch' in BatchNorm", call this precise BN).
// Browser-safe.
import type { Module } from '../nn/module.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/batchnorm.js';
import { noGrad } from '../tensor/tensor.js';
import { stepScope } from '../backend/storage.js';

type BatchNorm = BatchNorm1d | BatchNorm2d;

/** every BatchNorm layer below (and including) m that keeps running statistics */
function batchNorms(m: Module): BatchNorm[] {
  const own = (m instanceof BatchNorm1d || m instanceof BatchNorm2d) && m.runningMean ? [m] : [];
  return [...own, ...m.namedChildren().flatMap(([, c]) => batchNorms(c))];
}

/**
 * Sets the running statistics of m's BatchNorm layers to the average of `batches` training-mode forward
 * passes `forward(i)` (i = 0 … batches − 1, without gradients); leaves m's mode and the layers' momentum as
 * they were. Returns the number of layers updated (0: nothing to do, forward is not called).
 */
export function updateBatchNorm(m: Module, batches: number, forward: (i: number) => void): number {
  const layers = batchNorms(m);
  if (!layers.length) return 0;
  if (!(Number.isInteger(batches) && batches >= 1)) throw new Error(`updateBatchNorm: batches must be a whole number ≥ 1, got ${batches}`);
  const was = m.training, momenta = layers.map((l) => l.momentum);
  for (const l of layers) {
    (l as { momentum: number | null }).momentum = null; // cumulative average over the passes below
    l.runningMean!.data.fill(0);
    l.runningVar!.data.fill(1);
    l.numBatchesTracked!.data[0] = 0;
  }
  m.train();
  try {
    for (let i = 0; i < batches; i++) noGrad(() => stepScope(() => forward(i)));
  } finally {
    layers.forEach((l, k) => ((l as { momentum: number | null }).momentum = momenta[k]));
    m.train(was);
  }
  return layers.length;
}
