// Evaluation numbers for language models and the small tasks built on them. All plain functions over arrays so
// that the CLI, the server and the web lab report the same values.

/**
 * exp(mean cross-entropy in nats per token). A uniform guess over V tokens has loss ln V and perplexity V,
 * so perplexity reads as "as uncertain as choosing among this many tokens".
 */
export function perplexity(meanLoss: number): number {
  return Math.exp(meanLoss);
}

/**
 * Total cross-entropy in nats over a text → bits per UTF-8 byte of that text. Unlike per-token loss this does
 * not depend on the tokenizer, so a char model and a BPE model on the same text are comparable.
 * Example: 1000 tokens at mean loss 1.2 nats over 4000 bytes → 1200 / (4000 · ln 2) ≈ 0.433 bits/byte.
 */
export function bitsPerByte(totalNats: number, totalBytes: number): number {
  if (!(totalBytes > 0)) throw new Error(`bitsPerByte: totalBytes must be positive, got ${totalBytes}`);
  return totalNats / (totalBytes * Math.LN2);
}

/**
 * How much of a hit the target of one row is for top-k accuracy, in [0, 1]. With `greater` logits strictly
 * larger than the target's and `tied` logits equal to it (the target included), the target is in the top k
 * with probability  clamp((k − greater) / tied, 0, 1)  when ties are broken uniformly at random: a hit when
 * fewer than k beat it and all ties fit, a miss when k or more beat it, and the fitting share of the ties
 * otherwise. So a model with uniform logits over V tokens scores exactly k/V, not 100%, and no ordering of
 * token ids can make a tie count as more than its share. `row` holds the logits at [off, off + cols).
 * Throws (naming `where`) for a NaN logit, which has no rank.
 */
export function topKHit(row: ArrayLike<number>, off: number, cols: number, target: number, k: number, where = 'topKHit'): number {
  const v = row[off + target];
  let greater = 0, tied = 0;
  for (let c = 0; c < cols; c++) {
    const x = row[off + c];
    if (x > v) greater++;
    else if (x === v) tied++;
    else if (x !== x) throw new Error(`${where}: logit ${c} is NaN`);
  }
  if (v !== v) throw new Error(`${where}: the target's logit ${target} is NaN`);
  return topKShare(greater, tied, k);
}

/** the hit share of topKHit from the counts: clamp((k − greater) / tied, 0, 1); tied ≥ 1 counts the target */
export function topKShare(greater: number, tied: number, k: number): number {
  return Math.max(0, Math.min(1, (k - greater) / tied));
}

/**
 * Mean top-k accuracy over rows: `logitsRows` is (rows, cols) row-major, `targets` one id per row. Ties
 * count as fractional hits (see topKHit), so uniform logits give k/cols. Throws for mismatched sizes, a
 * target outside [0, cols), k not a positive integer, a NaN logit, or no rows (accuracy of nothing).
 * Example: logits [1, 1, 1, 1], target 3 → top-1 0.25, top-2 0.5, top-4 1.
 */
export function topKAccuracy(
  logitsRows: Float32Array,
  rows: number,
  cols: number,
  targets: ArrayLike<number>,
  k: number,
): number {
  if (logitsRows.length !== rows * cols) {
    throw new Error(`topKAccuracy: logits has ${logitsRows.length} values, expected rows*cols = ${rows}*${cols}`);
  }
  if (targets.length !== rows) throw new Error(`topKAccuracy: ${targets.length} targets for ${rows} rows`);
  if (!Number.isInteger(k) || k < 1) throw new Error(`topKAccuracy: k must be a positive integer, got ${k}`);
  if (rows === 0) throw new Error('topKAccuracy: no rows to score (the accuracy of nothing is undefined)');
  let hits = 0;
  for (let r = 0; r < rows; r++) {
    const t = targets[r];
    if (!Number.isInteger(t) || t < 0 || t >= cols) throw new Error(`topKAccuracy: target ${t} in row ${r} is outside [0, ${cols})`);
    hits += topKHit(logitsRows, r * cols, cols, t, k, `topKAccuracy: row ${r}`);
  }
  return hits / rows;
}

/**
 * Fraction of predictions exactly equal to their reference (after the optional normalisation).
 * Throws for mismatched lengths or no predictions (the accuracy of nothing is undefined, not 0).
 */
export function exactMatch(preds: readonly string[], refs: readonly string[], normalize?: (s: string) => string): number {
  if (preds.length !== refs.length) throw new Error(`exactMatch: ${preds.length} predictions for ${refs.length} references`);
  if (preds.length === 0) throw new Error('exactMatch: no predictions to score (the accuracy of nothing is undefined)');
  const f = normalize ?? ((s: string) => s);
  let n = 0;
  for (let i = 0; i < preds.length; i++) if (f(preds[i]) === f(refs[i])) n++;
  return n / preds.length;
}

export interface BleuDetails {
  /** corpus BLEU in [0, 1] */
  bleu: number;
  /** modified n-gram precisions p_1 … p_N */
  precisions: number[];
  /** brevity penalty */
  brevityPenalty: number;
  /** total candidate length c */
  candidateLength: number;
  /** effective reference length r (closest reference length per sentence, shorter on ties) */
  referenceLength: number;
}

/**
 * Corpus-level BLEU (Papineni et al., 2002) without smoothing, over pre-tokenised text.
 * `candidates[i]` is one hypothesis as tokens; `references[i]` its list of reference token lists.
 *   p_n = Σ_sentences Σ_ngrams min(count_cand, max_ref count_ref) / Σ_sentences (number of candidate n-grams)
 *   BP  = 1 if c > r else exp(1 − r/c)
 *   BLEU = BP · exp(Σ_n (1/N) log p_n)        (0 if any p_n is 0)
 */
export function bleuDetails(candidates: readonly string[][], references: readonly string[][][], maxN = 4): BleuDetails {
  if (candidates.length !== references.length) {
    throw new Error(`bleu: ${candidates.length} candidates but ${references.length} reference sets`);
  }
  if (!Number.isInteger(maxN) || maxN < 1) throw new Error(`bleu: maxN must be a positive integer, got ${maxN}`);
  const matched = new Array<number>(maxN).fill(0);
  const total = new Array<number>(maxN).fill(0);
  let c = 0;
  let r = 0;
  for (let i = 0; i < candidates.length; i++) {
    const cand = candidates[i];
    const refs = references[i];
    if (refs.length === 0) throw new Error(`bleu: candidate ${i} has no references`);
    c += cand.length;
    // closest reference length; the shorter one on ties (as NLTK and sacrebleu do)
    let best = refs[0].length;
    for (const ref of refs) {
      const d = Math.abs(ref.length - cand.length);
      const bd = Math.abs(best - cand.length);
      if (d < bd || (d === bd && ref.length < best)) best = ref.length;
    }
    r += best;
    for (let n = 1; n <= maxN; n++) {
      const candCounts = ngramCounts(cand, n);
      const maxRef = new Map<string, number>();
      for (const ref of refs) {
        for (const [g, k] of ngramCounts(ref, n)) if (k > (maxRef.get(g) ?? 0)) maxRef.set(g, k);
      }
      for (const [g, k] of candCounts) {
        matched[n - 1] += Math.min(k, maxRef.get(g) ?? 0);
        total[n - 1] += k;
      }
    }
  }
  const precisions = matched.map((m, i) => (total[i] > 0 ? m / total[i] : 0));
  const brevityPenalty = c === 0 ? 0 : c > r ? 1 : Math.exp(1 - r / c);
  let bleu = 0;
  if (precisions.every((p) => p > 0)) {
    const logMean = precisions.reduce((s, p) => s + Math.log(p), 0) / maxN;
    bleu = brevityPenalty * Math.exp(logMean);
  }
  return { bleu, precisions, brevityPenalty, candidateLength: c, referenceLength: r };
}

/** Corpus BLEU in [0, 1]; see `bleuDetails`. */
export function bleu(candidates: readonly string[][], references: readonly string[][][], maxN = 4): number {
  return bleuDetails(candidates, references, maxN).bleu;
}

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    // \u0001 cannot appear in sensible tokens, so joined keys are unambiguous
    const g = tokens.slice(i, i + n).join('\u0001');
    m.set(g, (m.get(g) ?? 0) + 1);
  }
  return m;
}

export interface PRF {
  precision: number;
  recall: number;
  f1: number;
  /** number of gold items with this label */
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  /** per label, in order of first appearance (gold first, then predictions) */
  perClass: Map<string | number, PRF>;
  /** unweighted mean over classes */
  macro: PRF;
  /** from pooled counts; equals accuracy for single-label classification */
  micro: PRF;
}

/**
 * Precision, recall and F1 for label arrays. Division by zero (a class never predicted, or never present) gives 0,
 * as scikit-learn's default `zero_division` warning value does. Throws for mismatched lengths or no labels.
 */
export function precisionRecallF1(
  pred: readonly (string | number)[],
  gold: readonly (string | number)[],
): ClassificationReport {
  if (pred.length !== gold.length) throw new Error(`precisionRecallF1: ${pred.length} predictions for ${gold.length} gold labels`);
  if (pred.length === 0) throw new Error('precisionRecallF1: no labels to score (the accuracy of nothing is undefined)');
  const labels: (string | number)[] = [];
  const seen = new Set<string | number>();
  for (const l of [...gold, ...pred]) if (!seen.has(l)) (seen.add(l), labels.push(l));
  const tp = new Map<string | number, number>();
  const fp = new Map<string | number, number>();
  const fn = new Map<string | number, number>();
  let correct = 0;
  for (let i = 0; i < pred.length; i++) {
    if (pred[i] === gold[i]) {
      correct++;
      tp.set(gold[i], (tp.get(gold[i]) ?? 0) + 1);
    } else {
      fp.set(pred[i], (fp.get(pred[i]) ?? 0) + 1);
      fn.set(gold[i], (fn.get(gold[i]) ?? 0) + 1);
    }
  }
  const perClass = new Map<string | number, PRF>();
  let sp = 0, sr = 0, sf = 0;
  let TP = 0, FP = 0, FN = 0;
  for (const l of labels) {
    const t = tp.get(l) ?? 0, p = fp.get(l) ?? 0, n = fn.get(l) ?? 0;
    TP += t; FP += p; FN += n;
    const prf = prfFromCounts(t, p, n);
    perClass.set(l, prf);
    sp += prf.precision; sr += prf.recall; sf += prf.f1;
  }
  const k = labels.length || 1;
  return {
    accuracy: correct / pred.length,
    perClass,
    macro: { precision: sp / k, recall: sr / k, f1: sf / k, support: gold.length },
    micro: prfFromCounts(TP, FP, FN),
  };
}

function prfFromCounts(tp: number, fp: number, fn: number): PRF {
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, support: tp + fn };
}
