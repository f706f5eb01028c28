// Where PPO's scores come from, each as a RewardFn (completion, prompt record) → number: the rule-based
// reward on the built-in SFT-world questions (src/data/rule-reward.ts), or a trained reward model scoring
// prompt + completion at its last token. (A user's function from FILE.mjs: src/align/reward-module.node.ts.)
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { noGrad } from '../tensor/tensor.js';
import { stepScope } from '../backend/storage.js';
import { inEvalMode } from '../generate/decoder.js';
import { promptMessages, type SftExample } from '../data/sft-default.js';
import { ruleReward } from '../data/rule-reward.js';
import type { VerifiablePrompt } from '../data/verifiable.js';
import type { RewardModel } from './reward-model.js';
import { encodePrompt, endOfTurnId } from './pairs.js';
import type { RewardFn } from './rewards.js';

/** SFT examples as prompt records (answer: the expected fact; kind: the question's kind) with the rule reward over them */
export function ruleRewardPrompts(examples: readonly SftExample[]): { prompts: VerifiablePrompt[]; reward: RewardFn } {
  const source = new Map<VerifiablePrompt, SftExample>();
  const prompts = examples.map((ex) => {
    const p: VerifiablePrompt = { prompt: promptMessages(ex), answer: ex.expected, kind: ex.kind };
    source.set(p, ex);
    return p;
  });
  const reward: RewardFn = (completion, item) => {
    const ex = source.get(item);
    if (!ex) throw new Error('the rule-based reward scores the built-in questions only (no --data with --reward rule)');
    return ruleReward(ex, completion);
  };
  return { prompts, reward };
}

/**
 * A reward model as a RewardFn: the prompt rendered with the chat template, the completion and <|end|>,
 * scored by the model's readout (eval mode, no gradients). The reward model must share the policy's tokenizer
 * vocabulary; a sequence longer than its context is cut from the left.
 */
export function rewardModelFn(rm: RewardModel, tok: Tokenizer): RewardFn {
  const end = endOfTurnId(tok);
  return (completion, item) => {
    // the completion is the policy's own output: chat markers it produced are its special tokens again
    const prompt = encodePrompt(item.prompt, tok);
    let ids = [...prompt, ...tok.encode(completion, { allowedSpecial: 'all' }), end];
    const cut = Math.max(0, ids.length - rm.contextLength);
    ids = ids.slice(cut);
    const first = Math.min(Math.max(prompt.length - cut, 1), ids.length - 1); // the response's first token (the readouts that pool need it)
    return inEvalMode(rm, () => stepScope(() => noGrad(() => rm.rewards(Int32Array.from(ids), 1, ids.length, [ids.length - 1], [first]).data[0])));
  };
}
