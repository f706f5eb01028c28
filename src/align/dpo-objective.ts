// DPO as an objective for the one Trainer (Rafailov et al. 2023; TRL DPOTrainer, loss_type 'sigmoid'): the
// policy is the model being trained, the reference a frozen copy of the starting model. Each batch of pairs
// runs as 2B rows [chosen…, rejected…] (TRL's concatenated_forward); sequence log-probabilities sum the
// response tokens' log p; the loss is −logσ(β·((π_c − ref_c) − (π_r − ref_r))). The reference's log-probs
// never change, so each pair's are computed once and kept (TRL's precompute_ref_log_probs). Evaluation:
// the mean DPO loss over held-out pairs, with the implicit reward accuracy (β(π_c − ref_c) > β(π_r − ref_r))
// and mean margin as metrics. Browser-safe.
import type { LanguageModel } from '../models/model.js';
import type { Rng } from '../tensor/rng.js';
import { noGrad, Tensor } from '../tensor/tensor.js';
import { stepScope } from '../backend/storage.js';
import type { Evaluation, Objective, ObjectiveSettings } from '../train/objective.js';
import { chunkPairs, sequenceLogProbs } from './logprobs.js';
import { dpoLoss, type DPOOptions, type DPOOutput } from './dpo.js';
import { pairBatch, type EncodedPair } from './pairs.js';

/** (2B) summed response log-probabilities of a pair batch under `model` (differentiable) */
export function pairLogProbs(model: LanguageModel, pairs: readonly EncodedPair[]): { logps: Tensor; tokens: number } {
  const b = pairBatch(pairs);
  const nll = model.forward(b.x, b.rows, b.T, { targets: b.y, reduction: 'none' }).loss!; // (2B, T)
  return { logps: sequenceLogProbs(nll, b.mask), tokens: b.rows * b.T };
}

export class DPOObjective implements Objective {
  readonly name = 'dpo';
  readonly lossLabel = 'DPO loss −logσ(βΔ)';
  private readonly refCache = new Map<EncodedPair, [number, number]>();

  /** reference: a frozen copy of the starting policy (never trained; used in eval mode without gradients) */
  constructor(readonly reference: LanguageModel, readonly train: readonly EncodedPair[], readonly dev: readonly EncodedPair[], readonly opts: DPOOptions = {}) {
    for (const p of reference.parameters()) p.requiresGrad = false;
    reference.eval();
  }

  dataSeed(seed: number): number {
    return seed;
  }

  check(model: LanguageModel): void {
    if (!this.train.length) throw new Error('DPO: no usable training pairs (all malformed or longer than the context)');
    if (model.config.vocabSize !== this.reference.config.vocabSize) throw new Error(`DPO: the policy's vocabulary (${model.config.vocabSize}) differs from the reference's (${this.reference.config.vocabSize})`);
  }

  /** reference log-probs (B) of chosen and rejected, computed once per pair */
  refLogProbs(pairs: readonly EncodedPair[]): [Tensor, Tensor] {
    const missing = [...new Set(pairs.filter((p) => !this.refCache.has(p)))];
    if (missing.length) {
      const lp = stepScope(() => noGrad(() => pairLogProbs(this.reference, missing).logps.data.slice()));
      missing.forEach((p, i) => this.refCache.set(p, [lp[i], lp[missing.length + i]]));
    }
    const c = pairs.map((p) => this.refCache.get(p)![0]), r = pairs.map((p) => this.refCache.get(p)![1]);
    return [new Tensor(Float32Array.from(c), [c.length]), new Tensor(Float32Array.from(r), [r.length])];
  }

  /** the DPO output of one batch */
  batchLoss(model: LanguageModel, pairs: readonly EncodedPair[]): DPOOutput & { tokens: number } {
    const [refC, refR] = this.refLogProbs(pairs);
    const { logps, tokens } = pairLogProbs(model, pairs);
    const [pc, pr] = chunkPairs(logps);
    return { ...dpoLoss(pc, pr, refC, refR, this.opts), tokens };
  }

  trainLoss(model: LanguageModel, rng: Rng, s: ObjectiveSettings): { loss: Tensor; tokens: number } {
    const picks = Array.from({ length: s.batchSize }, () => this.train[rng.int(this.train.length)]);
    const r = this.batchLoss(model, picks);
    return { loss: r.loss, tokens: r.tokens };
  }

  /** mean loss, implicit-reward accuracy and margin over a set of pairs */
  score(model: LanguageModel, set: readonly EncodedPair[], batchSize: number): { loss: number; accuracy: number; margin: number } {
    let loss = 0, acc = 0, margin = 0;
    for (let i = 0; i < set.length; i += batchSize) {
      const group = set.slice(i, i + batchSize);
      const r = stepScope(() => {
        const o = this.batchLoss(model, group);
        return { loss: o.loss.item(), acc: o.rewardAccuracy, margin: o.rewardMargin };
      });
      loss += r.loss * group.length;
      acc += r.acc * group.length;
      margin += r.margin * group.length;
    }
    return { loss: loss / set.length, accuracy: acc / set.length, margin: margin / set.length };
  }

  evaluate(model: LanguageModel, _rng: Rng, s: ObjectiveSettings): Evaluation {
    const dev = this.dev.length > 0;
    const r = this.score(model, dev ? this.dev : this.train.slice(0, 64), s.batchSize);
    const metrics = { 'reward accuracy': r.accuracy, 'reward margin': r.margin };
    return dev ? { dev: r.loss, metrics } : { train: r.loss, metrics };
  }
}
