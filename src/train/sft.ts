// Supervised fine-tuning on chat data as an objective: each conversation is rendered with the chat template
// and the loss is taken on the assistant's tokens only (and the end-of-turn token that closes each reply, so
// the model learns to stop). Batches are whole conversations drawn at random, padded to the longest in the
// batch; evaluation is the mean assistant-token loss over the whole dev set. Browser-safe.
import type { LanguageModel } from '../models/model.js';
import type { Rng } from '../tensor/rng.js';
import type { Tensor } from '../tensor/tensor.js';
import { stepScope } from '../backend/storage.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { chatTemplate, type Conversation } from '../data/chat.js';
import type { Evaluation, Objective, ObjectiveSettings } from './objective.js';
import { maxOf } from '../tensor/max-of.js';

export interface EncodedChat {
  ids: Int32Array;
  /** 1 where the loss applies */
  mask: Uint8Array;
}

/**
 * Conversations → token ids and loss masks; those longer than blockSize + 1 tokens are dropped and counted.
 * Message content is encoded as plain text: a special token written inside content (`<|end|>`) stays text
 * and cannot end a turn or forge one.
 */
export function encodeChats(convs: readonly Conversation[], tok: Tokenizer, blockSize: number): { examples: EncodedChat[]; tooLong: number } {
  const examples: EncodedChat[] = [];
  let tooLong = 0;
  for (const c of convs) {
    const ex = chatTemplate.renderForTraining(c.messages, tok);
    if (ex.ids.length > blockSize + 1) {
      tooLong++;
      continue;
    }
    if (!ex.mask.some((m) => m === 1)) continue; // no assistant turn: nothing to learn
    examples.push({ ids: Int32Array.from(ex.ids), mask: ex.mask });
  }
  return { examples, tooLong };
}

/** B conversations as one padded batch: x = ids[0:T], y = ids[1:T+1] (−1 where padded), weights = mask[1:T+1] */
export function chatBatch(examples: readonly EncodedChat[]): { x: Int32Array; y: Int32Array; w: Float32Array; B: number; T: number } {
  const B = examples.length;
  const T = maxOf(examples.map((e) => e.ids.length - 1));
  const x = new Int32Array(B * T), y = new Int32Array(B * T).fill(-1), w = new Float32Array(B * T);
  examples.forEach((e, b) => {
    for (let t = 0; t < e.ids.length - 1; t++) {
      x[b * T + t] = e.ids[t];
      y[b * T + t] = e.ids[t + 1];
      w[b * T + t] = e.mask[t + 1];
    }
  });
  return { x, y, w, B, T };
}

/** the mean masked loss of a padded chat batch */
function chatLoss(model: LanguageModel, batch: ReturnType<typeof chatBatch>): Tensor {
  return model.forward(batch.x, batch.B, batch.T, { targets: batch.y, lossMask: batch.w }).loss!;
}

export class SupervisedFineTuning implements Objective {
  readonly name = 'sft';
  readonly lossLabel = 'loss on assistant tokens';

  constructor(readonly train: readonly EncodedChat[], readonly dev: readonly EncodedChat[]) {}

  dataSeed(seed: number): number {
    return seed;
  }

  check(): void {
    if (!this.train.length) throw new Error('SFT: no usable training conversations (all empty, without an assistant turn, or longer than the context)');
  }

  trainLoss(model: LanguageModel, rng: Rng, s: ObjectiveSettings): { loss: Tensor; tokens: number } {
    const picks = Array.from({ length: s.batchSize }, () => this.train[rng.int(this.train.length)]);
    const batch = chatBatch(picks);
    return { loss: chatLoss(model, batch), tokens: batch.B * batch.T };
  }

  /** mean loss over a set of conversations, in batches */
  meanLoss(model: LanguageModel, set: readonly EncodedChat[], batchSize: number): number {
    let s = 0;
    for (let i = 0; i < set.length; i += batchSize) {
      const group = set.slice(i, i + batchSize);
      s += stepScope(() => chatLoss(model, chatBatch(group)).item()) * group.length;
    }
    return s / set.length;
  }

  /** dev loss over the whole dev set; without dev conversations, the loss on (up to 64) training ones, so labelled */
  evaluate(model: LanguageModel, _rng: Rng, s: ObjectiveSettings): Evaluation {
    if (!this.dev.length) return { train: this.meanLoss(model, this.train.slice(0, 64), s.batchSize) };
    return { dev: this.meanLoss(model, this.dev, s.batchSize) };
  }
}
