// Which models a fine-tuning command can start from: an n-gram model (gptlab train --arch ngram) is counted,
// not trained by gradient steps, and has no weights to fine-tune or to grow for the chat markers, so sft,
// dpo, rm train, ppo and grpo refuse it up front in one line naming the model type. Browser-safe.

/** Throws one line when `type` (a checkpoint's model type) is an n-gram model; `what` says what the command needs. */
export function refuseCountedModel(type: string, command: string, flag: string, p: string, what = 'a GPT or LLaMA (transformer) model, e.g. runs/demo from gptlab train --demo or runs/chat from gptlab sft'): void {
  if (type !== 'ngram') return;
  throw new Error(`${command}: ${flag} ${p} is an n-gram model (gptlab train --arch ngram): it is counted, not trained by gradient steps, so ${command} cannot fine-tune it; give ${what}`);
}
