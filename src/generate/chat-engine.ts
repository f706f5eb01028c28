// A checkpoint as a TextEngine: the chat REPL, the HTTP server and the web page talk to this. Generation
// runs on the KV cache and stops at the end-of-turn token (or its text, for tokenizers without specials).
import type { LanguageModel } from '../models/model.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { chatTemplate } from '../data/chat.js';
import type { ChatMessage, GenerateParams, GenerateResult, TextEngine } from '../generate/text-engine.js';
import { generateText } from './generate.js';

export class ChatEngine implements TextEngine {
  readonly contextLength: number;
  private readonly endId: number | undefined;

  constructor(readonly model: LanguageModel, readonly tokenizer: Tokenizer, readonly modelId = 'gptlab') {
    this.contextLength = model.contextLength;
    this.endId = tokenizer.specialTokens.get(chatTemplate.endOfTurn);
  }

  countTokens(text: string): number {
    return this.tokenizer.encode(text, { allowedSpecial: 'all' }).length;
  }

  renderChat(messages: ChatMessage[]): string {
    return chatTemplate.render(messages, { addGenerationPrompt: true });
  }

  async generate(prompt: string, p: GenerateParams, onText: (piece: string) => void, signal?: AbortSignal): Promise<GenerateResult> {
    // the model only sees its last blockSize tokens; generation may continue past that by sliding
    const r = await generateText(this.model, this.tokenizer, prompt, {
      maxNewTokens: p.maxTokens, temperature: p.temperature, topP: p.topP, topK: p.topK, repetitionPenalty: p.repetitionPenalty,
      seed: p.seed ?? Math.floor(Math.random() * 2 ** 31), stop: [...(p.stop ?? []), ...chatTemplate.stopStrings],
      stopTokens: this.endId !== undefined ? [this.endId] : [], onText, signal, yieldEvery: 1,
    });
    return {
      text: r.text, finishReason: r.finishReason === 'stop' ? 'stop' : 'length',
      promptTokens: r.promptTokens, completionTokens: r.completionTokens,
    };
  }
}
