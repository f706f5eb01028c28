// N-gram language models (issue #12, "Before the Transformer"): counts, smoothing, ARPA files, and an adapter
// to the project's LanguageModel interface.
export { Vocabulary, UNK, BOS, EOS } from './vocab.js';
export { NgramCounts, ngramKey, keyIds, type Followers } from './counts.js';
export { BackoffTable } from './backoff-table.js';
export { kneserNey, adjustCounts, estimateDiscounts, discountOf, type Discounts, type KneserNeyOptions, type KneserNeyModel } from './kneser-ney.js';
export { NgramLM, MAX_NGRAM_ORDER, type Smoothing, type SentenceScore, type PerplexityResult } from './ngram.js';
export { readArpa, writeArpa, type ArpaWriteOptions } from './arpa.js';
export { sentencesFromText, type SentenceOptions } from './text.js';
