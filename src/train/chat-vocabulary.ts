// Growing a base model's vocabulary for chat: SFT needs one id for each special token of the chat template
// (and, for a character vocabulary, every character of the chat data). Works for any registered model type:
// the rows of its token-indexed parameters (src/models/registry.ts vocabParameters) follow the tokens.
import type { LanguageModel } from '../models/model.js';
import { createModel, modelType } from '../models/registry.js';
import { CharTokenizer } from '../tokenizers/char.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { Rng } from '../tensor/rng.js';
import { SPECIAL_TOKENS } from '../data/chat.js';

/**
 * Makes sure the tokenizer has one id for each chat special token (and, for a character vocabulary, every
 * character of `text`), growing the model's token-indexed parameters to match. Existing tokens keep their
 * learned rows; new rows start as N(0, 0.02) like a fresh embedding. `addedIds` are the new tokens' ids (the rows
 * LoRA fine-tuning must train, see src/nn/trainable-tokens.ts). Throws for a non-character tokenizer
 * that lacks the special tokens (its merges cannot be extended here), naming the checkpoint by `source`
 * (`--base runs/x`) when given.
 */
export function withChatVocabulary(model: LanguageModel, tok: Tokenizer, text: string, source?: string): { model: LanguageModel; tokenizer: Tokenizer; added: string[]; addedIds: number[] } {
  const missingSpecial = SPECIAL_TOKENS.filter((s) => !tok.specialTokens.has(s));
  const missingChars = tok instanceof CharTokenizer ? [...new Set(text)].filter((c) => !tok.chars.includes(c)).sort() : [];
  if (!missingSpecial.length && !missingChars.length) return { model, tokenizer: tok, added: [], addedIds: [] };
  if (!(tok instanceof CharTokenizer)) {
    throw new Error(
      `${source ? `${source}: ` : ''}the checkpoint's ${tok.type} tokenizer lacks the chat special tokens ${missingSpecial.join(' ')}; ` +
        'train its tokenizer with them (gptlab tokenizer train … ) or start from a character-level checkpoint',
    );
  }
  const chars = [...tok.chars, ...missingChars];
  const specials: Record<string, number> = {};
  [...tok.specialTokens.keys(), ...missingSpecial].forEach((s, i) => (specials[s] = chars.length + i));
  const newTok = new CharTokenizer(chars, specials);
  const grown = createModel(model.type, { ...model.config, vocabSize: newTok.vocabSize }, 4242);
  const map = copyWithNewRows(model, grown, tok, newTok);
  const addedIds = [...map.keys()].filter((id) => map[id] < 0);
  return { model: grown, tokenizer: newTok, added: [...missingChars.map((c) => JSON.stringify(c)), ...missingSpecial], addedIds };
}

/** the old id of each new token, or −1 for a token the old vocabulary lacks */
function oldIds(oldTok: Tokenizer, newTok: Tokenizer): Int32Array {
  return Int32Array.from({ length: newTok.vocabSize }, (_, id) => {
    const token = newTok.idToToken(id);
    const special = oldTok.specialTokens.get(token);
    if (special !== undefined) return special;
    try {
      const old = oldTok.encode(token);
      return old.length === 1 && oldTok.idToToken(old[0]) === token ? old[0] : -1;
    } catch {
      return -1;
    }
  });
}

/** copies every parameter of `from` into `to`, remapping the rows of token-indexed ones; returns the old id of each new id (−1: new token) */
function copyWithNewRows(from: LanguageModel, to: LanguageModel, oldTok: Tokenizer, newTok: Tokenizer): Int32Array {
  const vocabParams = new Set(modelType(from.type).vocabParameters);
  const old = from.stateDict();
  const map = oldIds(oldTok, newTok);
  const rng = new Rng(4243);
  for (const [name, p] of to.namedParameters()) {
    const src = old.get(name)!;
    if (!vocabParams.has(name)) {
      p.data.set(src.data);
      continue;
    }
    const C = p.size / newTok.vocabSize; // (V, C)
    for (let id = 0; id < newTok.vocabSize; id++) {
      if (map[id] >= 0) p.data.set(src.data.subarray(map[id] * C, (map[id] + 1) * C), id * C);
      else for (let j = 0; j < C; j++) p.data[id * C + j] = 0.02 * rng.normal();
    }
  }
  return map;
}
