// Held-out accuracy of a chat model on the built-in Q&A set: greedy answers to questions it did not train
// on, scored mechanically (src/data/sft-default.ts scoreAnswer), overall and per kind of question.
import type { LanguageModel } from '../models/model.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { chatTemplate } from '../data/chat.js';
import { promptMessages, scoreAnswer, type SftExample } from '../data/sft-default.js';
import { generateText } from '../generate/generate.js';

export interface ChatAccuracy {
  /** right / total, in [0, 1] */
  accuracy: number;
  answers: string[];
  byKind: Record<string, { right: number; total: number }>;
}

/** Greedy answers (up to maxTokens) to held-out questions, scored; a prompt the tokenizer cannot encode counts as wrong. */
export async function heldOutAccuracy(model: LanguageModel, tok: Tokenizer, examples: readonly SftExample[], maxTokens = 32): Promise<ChatAccuracy> {
  const endId = tok.specialTokens.get(chatTemplate.endOfTurn);
  const answers: string[] = [];
  const byKind: Record<string, { right: number; total: number }> = {};
  let ok = 0;
  for (const ex of examples) {
    const prompt = chatTemplate.render(promptMessages(ex), { addGenerationPrompt: true });
    let answer = '';
    try {
      const r = await generateText(model, tok, prompt, {
        maxNewTokens: maxTokens, temperature: 0, stopTokens: endId !== undefined ? [endId] : [],
        stop: [...chatTemplate.stopStrings, '\n'], yieldEvery: 0,
      });
      answer = r.text;
    } catch {
      answer = '';
    }
    answers.push(answer);
    const k = (byKind[ex.kind] ??= { right: 0, total: 0 });
    k.total++;
    if (scoreAnswer(ex, answer)) ok++, k.right++;
  }
  return { accuracy: examples.length ? ok / examples.length : 0, answers, byKind };
}
