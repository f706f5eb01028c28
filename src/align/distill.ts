// Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural Network"): the
// student matches the teacher's softened distribution, KL(p_t^τ ‖ p_s^τ) with p^τ = softmax(z/τ), scaled by
// τ² so its gradients keep their size as τ changes, mixed with the ordinary cross-entropy on the data:
//   loss = α·τ²·mean_positions KL(p_t^τ ‖ p_s^τ) + (1 − α)·CE(student, targets)
// d(τ²·KL)/dz_s = τ·(p_s^τ − p_t^τ). As an Objective on the one Trainer: random B×T windows of a token stream
// (like pretraining), the teacher frozen and run without gradients; evaluation reports the student's plain
// cross-entropy on held-out text (comparable with a student trained without a teacher) and the KD term.
import type { LanguageModel } from '../models/model.js';
import type { Rng } from '../tensor/rng.js';
import { noGrad, Tensor } from '../tensor/tensor.js';
import { add, mul } from '../tensor/elementwise.js';
import { stepScope } from '../backend/storage.js';
import { randomBatch, type TokenSplits } from '../data/dataset.js';
import type { Evaluation, Objective, ObjectiveSettings } from '../train/objective.js';

/** softmax(row/τ) of n rows of V into out */
function softmaxRows(z: Float32Array, n: number, V: number, tau: number, out: Float32Array): void {
  for (let r = 0; r < n; r++) {
    const o = r * V;
    let m = -Infinity;
    for (let j = 0; j < V; j++) m = Math.max(m, z[o + j] / tau);
    let s = 0;
    for (let j = 0; j < V; j++) s += (out[o + j] = Math.exp(z[o + j] / tau - m));
    for (let j = 0; j < V; j++) out[o + j] /= s;
  }
}

/**
 * τ²·mean over positions of KL(softmax(teacher/τ) ‖ softmax(student/τ)): student (…, V) logits,
 * differentiable; teacher the same shape, constants. → scalar. Throws on mismatched shapes or τ ≤ 0.
 */
export function distillationKl(student: Tensor, teacher: Float32Array, tau: number): Tensor {
  if (!(tau > 0)) throw new Error(`distillationKl: temperature must be > 0, got ${tau}`);
  if (teacher.length !== student.size) throw new Error(`distillationKl: teacher logits have ${teacher.length} values, the student's ${student.size}`);
  const V = student.shape[student.ndim - 1], n = student.size / V;
  const ps = new Float32Array(student.size), pt = new Float32Array(student.size);
  softmaxRows(student.data, n, V, tau, ps);
  softmaxRows(teacher, n, V, tau, pt);
  let kl = 0;
  for (let i = 0; i < ps.length; i++) if (pt[i] > 0) kl += pt[i] * (Math.log(pt[i]) - Math.log(Math.max(ps[i], 1e-30)));
  const out = new Float32Array([(tau * tau * kl) / n]);
  return Tensor.fromOp(out, [], [student], (o) => {
    const g = student.gradBuf(), k = (o.grad![0] * tau) / n;
    for (let i = 0; i < ps.length; i++) g[i] += k * (ps[i] - pt[i]);
  });
}

export interface DistillOptions {
  /** τ (default 2) */
  temperature?: number;
  /** weight of the KD term, α in [0, 1] (default 0.5); 0 = plain training without the teacher */
  alpha?: number;
}

export class DistillationObjective implements Objective {
  readonly name = 'distill';
  readonly lossLabel = 'α·τ²·KL + (1 − α)·CE';
  readonly tau: number;
  readonly alpha: number;

  constructor(readonly teacher: LanguageModel, readonly splits: TokenSplits, o: DistillOptions = {}) {
    this.tau = o.temperature ?? 2;
    this.alpha = o.alpha ?? 0.5;
    if (!(this.tau > 0)) throw new Error(`distill: temperature must be > 0, got ${this.tau}`);
    if (!(this.alpha >= 0 && this.alpha <= 1)) throw new Error(`distill: alpha must be in [0, 1], got ${this.alpha}`);
    for (const p of teacher.parameters()) p.requiresGrad = false;
    teacher.eval();
  }

  dataSeed(seed: number): number {
    return seed ^ 0x5bd1e995;
  }

  check(model: LanguageModel): void {
    const T = model.config.blockSize;
    if (model.config.vocabSize !== this.teacher.config.vocabSize) throw new Error(`distill: the student's vocabulary (${model.config.vocabSize}) differs from the teacher's (${this.teacher.config.vocabSize})`);
    if (T > this.teacher.contextLength) throw new Error(`distill: the student's block size ${T} exceeds the teacher's context ${this.teacher.contextLength}`);
    if (this.splits.train.length < T + 1) throw new Error(`distill: the training split has ${this.splits.train.length} tokens, too few for block size ${T}`);
  }

  /** the mixed loss of one batch, and its two parts */
  batchLoss(model: LanguageModel, x: Int32Array, y: Int32Array, B: number, T: number): { loss: Tensor; ce: number; kd: number } {
    const out = model.forward(x, B, T, { targets: y });
    if (this.alpha === 0) return { loss: out.loss!, ce: out.loss!.item(), kd: NaN };
    const t = noGrad(() => this.teacher.forward(x, B, T).logits.data.slice());
    const kd = distillationKl(out.logits, t, this.tau);
    return { loss: add(mul(kd, this.alpha), mul(out.loss!, 1 - this.alpha)), ce: out.loss!.item(), kd: kd.item() };
  }

  trainLoss(model: LanguageModel, rng: Rng, s: ObjectiveSettings): { loss: Tensor; tokens: number } {
    const T = model.config.blockSize, B = s.batchSize;
    const b = randomBatch(this.splits.train, B, T, rng);
    return { loss: this.batchLoss(model, b.x, b.y, B, T).loss, tokens: B * T };
  }

  /** the student's plain cross-entropy (train and dev) over evalIters random batches, and the mean KD term */
  evaluate(model: LanguageModel, rng: Rng, s: ObjectiveSettings): Evaluation {
    const T = model.config.blockSize, B = s.batchSize;
    const est = (data: Int32Array): { ce: number; kd: number } => {
      let ce = 0, kd = 0;
      for (let i = 0; i < s.evalIters; i++) {
        const b = randomBatch(data, B, T, rng);
        const r = stepScope(() => this.batchLoss(model, b.x, b.y, B, T));
        (ce += r.ce), (kd += r.kd);
      }
      return { ce: ce / s.evalIters, kd: kd / s.evalIters };
    };
    const train = est(this.splits.train);
    const metrics = (kd: number): Record<string, number> | undefined => (this.alpha > 0 ? { kd } : undefined);
    if (this.splits.dev.length < T + 1) return { train: train.ce, metrics: metrics(train.kd) };
    const dev = est(this.splits.dev);
    return { train: train.ce, dev: dev.ce, metrics: metrics(dev.kd) };
  }
}
