// TensorFlow Playground as a library function: an MLP with a chosen activation trained on a 2-D toy set
// (src/data/toy2d.ts) with Adam on shuffled minibatches, and its decision regions rendered as PNG images at
// chosen epochs (src/eval/decision-boundary.ts). Browser-safe: returns the images as bytes.
import { MLPNet } from '../models/mlp-net.js';
import { createOptimizer } from '../optim/registry.js';
import { Rng } from '../tensor/rng.js';
import { noGrad, Tensor } from '../tensor/tensor.js';
import { crossEntropy, softmax } from '../tensor/nnops.js';
import { stepScope } from '../backend/storage.js';
import { permutation } from '../data/image-set.js';
import { toy2d, type Toy2d } from '../data/toy2d.js';
import { dataExtent, decisionBoundaryPNG } from '../eval/decision-boundary.js';

export interface BoundaryJob {
  dataset: string;
  /** points (default 300), jitter (default per set), classes (spirals/blobs) */
  n?: number;
  noise?: number;
  classes?: number;
  activation: string;
  /** hidden widths, e.g. [16, 16] */
  hidden: number[];
  epochs: number;
  /** epochs after which to render the regions (0 = before training) */
  snapshots: number[];
  batchSize?: number;
  lr?: number;
  seed?: number;
  /** image side (default 256) */
  size?: number;
}

export interface BoundarySnapshot {
  epoch: number;
  loss: number;
  accuracy: number;
  png: Uint8Array;
}

/** class probabilities (M, C) of M points (M, 2) */
export function mlpProbabilities(net: MLPNet, points: Float32Array): Float32Array {
  return noGrad(() => stepScope(() => Float32Array.from(softmax(net.forward(new Tensor(points, [points.length / 2, 2]))).data)));
}

/** mean loss and accuracy of `net` on the whole set */
function score(net: MLPNet, d: Toy2d): { loss: number; accuracy: number } {
  const p = mlpProbabilities(net, d.points), C = d.classes;
  let loss = 0, ok = 0;
  d.labels.forEach((l, i) => {
    let best = 0;
    for (let c = 1; c < C; c++) if (p[i * C + c] > p[i * C + best]) best = c;
    ok += best === l ? 1 : 0;
    loss -= Math.log(Math.max(p[i * C + l], 1e-12));
  });
  return { loss: loss / d.labels.length, accuracy: ok / d.labels.length };
}

/** one epoch of minibatch Adam steps over a fresh shuffle; returns the mean batch loss */
function epoch(net: MLPNet, opt: ReturnType<typeof createOptimizer>, d: Toy2d, B: number, lr: number, rng: Rng): number {
  const perm = permutation(d.labels.length, rng);
  let total = 0, batches = 0;
  for (let i = 0; i < perm.length; i += B) {
    const rows = perm.subarray(i, i + B), x = new Float32Array(rows.length * 2), y = new Int32Array(rows.length);
    rows.forEach((r, k) => ((x[2 * k] = d.points[2 * r]), (x[2 * k + 1] = d.points[2 * r + 1]), (y[k] = d.labels[r])));
    total += stepScope(() => {
      const loss = crossEntropy(net.forward(new Tensor(x, [rows.length, 2])), y); // (B, C) logits → scalar
      loss.backward();
      opt.update(lr);
      opt.zeroGrad();
      return loss.item();
    });
    batches++;
  }
  return total / batches;
}

/**
 * Trains per `job` and returns the data, the network and a snapshot (loss, accuracy, PNG) at each epoch in
 * job.snapshots (sorted; epochs beyond job.epochs are refused). `onEpoch` hears every epoch's mean loss.
 */
export function trainBoundary(job: BoundaryJob, onEpoch?: (epoch: number, loss: number) => void): { data: Toy2d; net: MLPNet; snapshots: BoundarySnapshot[] } {
  if (!(Number.isInteger(job.epochs) && job.epochs >= 1)) throw new Error(`boundary: epochs must be a whole number ≥ 1, got ${job.epochs}`);
  const bad = job.snapshots.find((e) => !(Number.isInteger(e) && e >= 0 && e <= job.epochs));
  if (bad !== undefined) throw new Error(`boundary: snapshot epoch ${bad} is outside 0 … ${job.epochs}`);
  const data = toy2d(job.dataset, { n: job.n, noise: job.noise, classes: job.classes, seed: job.seed ?? 1 });
  const rng = new Rng((job.seed ?? 1) + 101), net = new MLPNet([2, ...job.hidden, data.classes], job.activation, rng);
  const opt = createOptimizer('adam', [{ params: net.parameters(), weightDecay: 0 }], { lr: job.lr ?? 0.01 });
  const extent = dataExtent(data.points), want = new Set(job.snapshots), snapshots: BoundarySnapshot[] = [];
  const snap = (e: number): void => {
    if (!want.has(e)) return;
    const png = decisionBoundaryPNG((p) => mlpProbabilities(net, p), data.classes, data.points, data.labels, { size: job.size ?? 256, extent });
    snapshots.push({ epoch: e, ...score(net, data), png });
  };
  snap(0);
  for (let e = 1; e <= job.epochs; e++) {
    const l = epoch(net, opt, data, job.batchSize ?? 16, job.lr ?? 0.01, rng);
    onEpoch?.(e, l);
    snap(e);
  }
  return { data, net, snapshots };
}
