// Masked-language-model corruption (Devlin et al. 2019, §3.1 and appendix A.1; transformers'
// DataCollatorForLanguageModeling and, for whole words, DataCollatorForWholeWordMask): each non-special token
// (or each whole word) is selected with probability 15%; a selected token becomes [MASK] 80% of the time, a
// random token 10% and stays as it is 10%. Labels hold the original id at selected positions and −100 (the
// ignore index) everywhere else, so the loss is taken on the selected tokens only.
import type { Rng } from '../tensor/rng.js';

/** the label of positions without a prediction (transformers' ignore index) */
export const MLM_IGNORE = -100;

export interface MlmMaskingOptions {
  /** id of [MASK] */
  maskId: number;
  /** random replacements are drawn uniformly from [0, vocabSize) (HF draws from the whole vocabulary) */
  vocabSize: number;
  /** ids never selected: [CLS], [SEP], [PAD], … */
  specialIds: ReadonlySet<number>;
  /** selection probability (default 0.15) */
  maskProb?: number;
  /** share of selected tokens replaced by [MASK] (default 0.8) */
  maskShare?: number;
  /** share replaced by a random token (default 0.1); the rest stay unchanged */
  randomShare?: number;
  /**
   * whole-word masking: a token for which `isContinuation(id)` is true (a WordPiece `##` piece) is selected
   * together with the word it continues
   */
  isContinuation?: (id: number) => boolean;
}

export interface MaskedBatch {
  /** the corrupted ids, same shape as the input */
  inputs: Int32Array;
  /** original ids at selected positions, MLM_IGNORE elsewhere */
  labels: Int32Array;
}

function checkOptions(o: MlmMaskingOptions): void {
  const p = o.maskProb ?? 0.15, m = o.maskShare ?? 0.8, r = o.randomShare ?? 0.1;
  if (!(p >= 0 && p <= 1)) throw new Error(`mlm masking: maskProb must be in [0, 1], got ${p}`);
  if (!(m >= 0 && r >= 0 && m + r <= 1 + 1e-12)) throw new Error(`mlm masking: maskShare ${m} and randomShare ${r} must be ≥ 0 and sum to at most 1`);
  if (!(Number.isInteger(o.vocabSize) && o.vocabSize > 0)) throw new Error(`mlm masking: vocabSize must be a positive integer, got ${o.vocabSize}`);
  if (!(Number.isInteger(o.maskId) && o.maskId >= 0 && o.maskId < o.vocabSize)) throw new Error(`mlm masking: maskId ${o.maskId} is outside [0, ${o.vocabSize})`);
}

/**
 * The selectable units of one sequence: runs of positions [start, end). Each non-special token is its own unit,
 * or with `isContinuation` a word's first piece and the continuation pieces after it form one unit.
 */
export function maskingUnits(ids: ArrayLike<number>, specialIds: ReadonlySet<number>, isContinuation?: (id: number) => boolean): [number, number][] {
  const units: [number, number][] = [];
  for (let i = 0; i < ids.length; i++) {
    if (specialIds.has(ids[i])) continue;
    const last = units[units.length - 1];
    if (isContinuation && isContinuation(ids[i]) && last && last[1] === i) last[1] = i + 1;
    else units.push([i, i + 1]);
  }
  return units;
}

/**
 * Corrupts `ids` (any shape, row-major; rows are independent, so a batch is masked at once). Draws from `rng`
 * in a fixed order: per unit one uniform for selection, then per selected token one (and one more for a
 * random replacement). Throws on invalid options.
 * Example: with maskProb 1 and maskShare 1, [CLS] a b [SEP] → [CLS] [MASK] [MASK] [SEP], labels −100 a b −100.
 */
export function maskTokens(ids: Int32Array, o: MlmMaskingOptions, rng: Rng): MaskedBatch {
  checkOptions(o);
  const p = o.maskProb ?? 0.15, m = o.maskShare ?? 0.8, r = o.randomShare ?? 0.1;
  const inputs = ids.slice();
  const labels = new Int32Array(ids.length).fill(MLM_IGNORE);
  for (const [start, end] of maskingUnits(ids, o.specialIds, o.isContinuation)) {
    if (!(rng.random() < p)) continue;
    for (let i = start; i < end; i++) {
      labels[i] = ids[i];
      const u = rng.random();
      if (u < m) inputs[i] = o.maskId;
      else if (u < m + r) inputs[i] = rng.int(o.vocabSize);
    }
  }
  return { inputs, labels };
}

/** Whole-word continuation test for a WordPiece vocabulary: pieces starting with `prefix` (`##`). */
export function wordPieceContinuation(vocab: readonly string[], prefix = '##'): (id: number) => boolean {
  return (id) => (vocab[id] ?? '').startsWith(prefix) && vocab[id].length > prefix.length;
}
