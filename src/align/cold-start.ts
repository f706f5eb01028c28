// The "cold start" before RL (DeepSeek-R1, Guo et al. 2025): a short supervised fine-tuning of the policy on
// worked solutions in the format the reward reads, so that some of its G samples per prompt are right and the
// group-relative advantages have something to compare. `gptlab grpo` runs it on the built-in arithmetic's
// training questions (src/data/arithmetic.ts); held-out accuracy before RL is measured after it, so RL's gain
// is against the exact model RL starts from. Browser-safe.
import type { LanguageModel } from '../models/model.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import type { ChatMessage } from '../data/chat.js';
import { Trainer } from '../train/trainer.js';
import { encodeChats, SupervisedFineTuning } from '../train/sft.js';
import { withChatVocabulary } from '../train/chat-vocabulary.js';

export interface ColdStartOptions {
  /** SFT steps (≥ 1) */
  steps: number;
  /** conversations per step (default 16) */
  batchSize?: number;
  /** peak learning rate, cosine to lr/10 after 10 warmup steps (default 1e-3, the SFT default) */
  lr?: number;
  seed?: number;
  /** polled between steps: true stops the cold start there (a signal), and the result says interrupted */
  shouldStop?: () => boolean;
}

/**
 * SFT of `model` on `chats` (loss on the assistant's tokens) for o.steps steps; the model is trained in place
 * unless the chats need characters its vocabulary lacks (then a grown copy is returned). Returns the model,
 * its tokenizer, the last training loss, the steps taken and whether o.shouldStop ended it early. Throws when
 * no conversation fits the context.
 */
export async function coldStart(model: LanguageModel, tok: Tokenizer, chats: readonly { messages: ChatMessage[] }[], o: ColdStartOptions): Promise<{ model: LanguageModel; tokenizer: Tokenizer; loss: number; step: number; interrupted: boolean }> {
  if (!(Number.isInteger(o.steps) && o.steps >= 1)) throw new Error(`cold start: steps must be a positive integer, got ${o.steps}`);
  const text = chats.flatMap((c) => c.messages.map((m) => m.content)).join('');
  const grown = withChatVocabulary(model, tok, text);
  const ex = encodeChats(chats, grown.tokenizer, grown.model.contextLength).examples;
  if (!ex.length) throw new Error('cold start: no worked solution fits the context');
  const lr = o.lr ?? 1e-3;
  const trainer = new Trainer(grown.model, new SupervisedFineTuning(ex, []), {
    maxIters: o.steps, batchSize: o.batchSize ?? 16, lr, minLr: lr / 10, warmupIters: Math.min(10, o.steps - 1), evalInterval: o.steps, sampleAt: [], seed: o.seed ?? 1,
  });
  let loss = NaN;
  const outcome = await trainer.run({ onStep: (s) => void (loss = s.loss), shouldStop: o.shouldStop });
  grown.model.eval();
  return { model: grown.model, tokenizer: grown.tokenizer, loss, step: trainer.state.step, interrupted: outcome === 'interrupted' };
}
