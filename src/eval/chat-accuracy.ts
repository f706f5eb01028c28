// Held-out accuracy of a chat model on the built-in Q&A set: greedy answers to questions it did not train
// on (prompts rendered to ids with content as plain text), scored mechanically (src/data/sft-default.ts scoreAnswer), overall and per kind of question.
import type { LanguageModel } from '../models/model.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { chatTemplate } from '../data/chat.js';
import { promptMessages, scoreAnswer, type SftExample } from '../data/sft-default.js';
import { generateTokens } from '../generate/generate.js';
import { StopStringMatcher, StreamDecoder } from '../generate/stop.js';

export interface ChatAccuracy {
  /** right / total, in [0, 1] */
  accuracy: number;
  answers: string[];
  byKind: Record<string, { right: number; total: number }>;
}

/** the greedy reply to prompt ids, ending at end-of-turn, a newline or a template marker's text */
function greedyAnswer(model: LanguageModel, tok: Tokenizer, prompt: number[], maxTokens: number, endId: number | undefined): string {
  const dec = new StreamDecoder((ids) => tok.decode(ids.filter((i) => i !== endId)));
  const matcher = new StopStringMatcher([...chatTemplate.stopStrings, '\n']);
  let text = '';
  const gen = generateTokens(model, prompt, { maxNewTokens: maxTokens, temperature: 0, stopTokens: endId !== undefined ? [endId] : [] });
  for (let r = gen.next(); !r.done; r = gen.next()) {
    const res = matcher.push(dec.push(r.value.id));
    text += res.text;
    if (res.stopped) return text; // generation stops here, as generateText's does
  }
  const res = matcher.push(dec.flush());
  return text + res.text + (res.stopped ? '' : matcher.flush());
}

/** Greedy answers (up to maxTokens) to held-out questions, scored; a prompt the tokenizer cannot encode counts as wrong. */
export async function heldOutAccuracy(model: LanguageModel, tok: Tokenizer, examples: readonly SftExample[], maxTokens = 32): Promise<ChatAccuracy> {
  const endId = tok.specialTokens.get(chatTemplate.endOfTurn);
  const answers: string[] = [];
  const byKind: Record<string, { right: number; total: number }> = {};
  let ok = 0;
  for (const ex of examples) {
    let answer = '';
    try {
      answer = greedyAnswer(model, tok, chatTemplate.renderIds(promptMessages(ex), tok, { addGenerationPrompt: true }), maxTokens, endId);
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
