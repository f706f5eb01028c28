// Beam search with Hugging Face's semantics (BeamSearchScorer / BeamHypotheses in transformers), so that
// `num_beams`, `length_penalty`, `early_stopping` and `num_return_sequences` mean here what they mean there.
// All beams run as one batch (B = numBeams) on the generation core (decoder.ts); when the beams are re-ranked,
// its rows are index-selected to follow them.
//
// Each step, for every beam b and token t: candidate = beamScore[b] + log_softmax(logits_b)[t]. The best
// 2·numBeams candidates (more with several stop ids), best first, are walked in order:
//   - a stop token among the first numBeams candidates closes a hypothesis, scored
//       sum of its log-probabilities / (generated tokens, stop included) ^ lengthPenalty;
//     the scorer keeps the numBeams best hypotheses (a stop token ranked lower is ignored);
//   - any other token extends a beam, until numBeams beams are filled.
// The search is done once numBeams hypotheses exist and (earlyStopping true) at once, or (false) when the
// worst kept hypothesis beats the best candidate's score / current length ^ lengthPenalty (HF's heuristic),
// or ('never') when it beats the best score still attainable by maxNewTokens. Otherwise it runs to
// maxNewTokens, and then the open beams join the hypotheses as they are. Before the first step only beam 0
// is live (the others start at −1e9), as in HF.
//
// Worked example (numBeams 2, lengthPenalty 1, stop id E, maxNewTokens 2; log-probs made up):
//   step 1, from the prompt: A −0.4, B −1.2, E −2.0
//     candidates: A −0.4, B −1.2, E −2.0 (rank 2 ≥ numBeams: ignored)  → beams [A] −0.4, [B] −1.2
//   step 2, after [A]: A −1.6, B −1.9, E −0.3;  after [B]: A −0.1, B −2.5, E −3.0
//     candidates: [A E] −0.7, [B A] −1.3, [A A] −2.0, [A B] −2.3
//     [A E] closes a hypothesis: −0.7 / 2 = −0.35;  beams [B A] −1.3, [A A] −2.0
//   maxNewTokens reached: open beams join: [B A] −1.3 / 2 = −0.65 (kept), [A A] −1.0 (worse than both: dropped)
//   → sequences [A E] −0.35, [B A] −0.65
//
// Stop strings (`stop`, with the tokenizer's `decode`): a candidate whose generated text contains one is
// treated like a stop token — among the first numBeams candidates it closes a hypothesis, ranked lower it is
// dropped — and its `text` ends right before the stop string. (HF's StopStringCriteria only ends the whole
// search; a per-hypothesis end is what `gptlab sample --stop` means on the sampling path.)
//
// The context is not slid: when prompt + generated tokens would exceed blockSize, the search ends there like
// at maxNewTokens, with `contextFull: true`.
import type { LanguageModel } from '../models/model.js';
import { DecodeBatch, inEvalMode } from './decoder.js';

export interface BeamSearchOptions {
  numBeams: number;
  maxNewTokens: number;
  /** exponent on the generated length a hypothesis's log-probability sum is divided by; default 1 */
  lengthPenalty?: number;
  /** HF's early_stopping: true, false (default) or 'never' */
  earlyStopping?: boolean | 'never';
  /** how many hypotheses to return (≤ numBeams); default 1 */
  numReturnSequences?: number;
  /** end-of-sequence ids: a beam that produces one becomes a finished hypothesis */
  stopTokens?: readonly number[];
  /** forbid any n-gram of this size from occurring twice in prompt + output (HF no_repeat_ngram_size); 0 = off */
  noRepeatNgramSize?: number;
  /** stop strings: a hypothesis ends where its generated text contains one (needs `decode`) */
  stop?: readonly string[];
  /** the tokenizer's decode (generated ids → text): needed by `stop`, and fills each sequence's `text` */
  decode?: (ids: number[]) => string;
}

export interface BeamSequence {
  /** generated ids (a finished hypothesis ends with its stop id) */
  ids: number[];
  /** sum of log-probabilities / ids.length ^ lengthPenalty, as HF's sequences_scores */
  score: number;
  /** sum of the log-probabilities of ids */
  logprob: number;
  /** ended with a stop id or a stop string */
  finished: boolean;
  /** with opts.decode: the generated text, without a final stop id and cut before a stop string */
  text?: string;
  /** the stop string that ended it, if one did */
  stop?: string;
}

export interface BeamSearchResult {
  /** best first */
  sequences: BeamSequence[];
  /** 'stop': the scorer was done; 'length': maxNewTokens or the block size was reached */
  finishReason: 'stop' | 'length';
  /** the block size ended the search before maxNewTokens */
  contextFull: boolean;
}

/** HF's BeamHypotheses: the numBeams best finished hypotheses of one search */
class Hypotheses {
  readonly items: BeamSequence[] = [];
  private worst = 1e9;
  constructor(private readonly numBeams: number, private readonly lengthPenalty: number) {}

  add(ids: number[], logprob: number, finished: boolean, extra: Pick<BeamSequence, 'text' | 'stop'> = {}): void {
    const score = logprob / ids.length ** this.lengthPenalty;
    if (this.items.length < this.numBeams || score > this.worst) {
      this.items.push({ ids, score, logprob, finished, ...extra });
      if (this.items.length > this.numBeams) {
        // Python's sorted() on (score, index): the lowest score goes, the earliest added among ties
        const order = this.items.map((h, i) => [h.score, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        this.items.splice(order[0][1], 1);
        this.worst = order[1][0];
      } else {
        this.worst = Math.min(score, this.worst);
      }
    }
  }

  isDone(bestLogprob: number, generated: number, early: boolean | 'never', maxGenerated: number): boolean {
    if (this.items.length < this.numBeams) return false;
    if (early === true) return true;
    const len = early === 'never' && this.lengthPenalty > 0 ? maxGenerated : generated;
    return this.worst >= bestLogprob / len ** this.lengthPenalty;
  }
}

function checkBeamOptions(opts: BeamSearchOptions, promptIds: readonly number[], contextLength: number): void {
  const K = opts.numBeams, nReturn = opts.numReturnSequences ?? 1, ngram = opts.noRepeatNgramSize ?? 0;
  if (!Number.isInteger(K) || K < 1) throw new Error(`beamSearch: numBeams must be a positive integer, got ${K}`);
  if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 1) throw new Error(`beamSearch: maxNewTokens must be a positive integer, got ${opts.maxNewTokens}`);
  if (!Number.isInteger(nReturn) || nReturn < 1 || nReturn > K) throw new Error(`beamSearch: numReturnSequences must be in [1, numBeams = ${K}], got ${nReturn}`);
  if (!Number.isFinite(opts.lengthPenalty ?? 1)) throw new Error(`beamSearch: lengthPenalty must be finite, got ${opts.lengthPenalty}`);
  if (!Number.isInteger(ngram) || ngram < 0) throw new Error(`beamSearch: noRepeatNgramSize must be a non-negative integer, got ${ngram}`);
  if (promptIds.length === 0) throw new Error('beamSearch: generation needs at least one prompt token');
  if (opts.stop?.length && !opts.decode) throw new Error('beamSearch: stop strings need the tokenizer\'s decode (opts.decode)');
  opts.stop?.forEach((s, i) => {
    if (typeof s !== 'string' || s.length === 0) throw new Error(`beamSearch: stop string #${i} must be a non-empty string, got ${JSON.stringify(s)}`);
  });
  if (promptIds.length > contextLength) throw new Error(`beamSearch: prompt of ${promptIds.length} tokens is longer than the block size ${contextLength}`);
}

/** The beams' running state: their ids and cumulative log-probabilities. */
interface Beams {
  ids: number[][];
  scores: Float64Array;
}

/** where a candidate's text first contains a stop string: the text before it and the string, or null */
function findStop(text: string, stops: readonly string[]): { text: string; stop: string } | null {
  let at = -1, which = '';
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) [at, which] = [i, s];
  }
  return at < 0 ? null : { text: text.slice(0, at), stop: which };
}

/**
 * One step of the search: candidates = beam score + log_softmax(logits) for every beam and token, walked
 * best first; stop tokens and stop strings among the first K close hypotheses, others extend beams. Returns
 * the new beams, which old beam each came from, and the best candidate's score.
 */
function expand(logits: Float32Array, beams: Beams, promptIds: readonly number[], opts: BeamSearchOptions, hyps: Hypotheses, V: number): { next: Beams; from: number[]; best: number } {
  const K = opts.numBeams, ngram = opts.noRepeatNgramSize ?? 0, stops = new Set(opts.stopTokens ?? []);
  const scores = new Float64Array(K * V); // (K, V)
  for (let b = 0; b < K; b++) {
    const row = scores.subarray(b * V, (b + 1) * V);
    logSoftmax(logits.subarray(b * V, (b + 1) * V), row);
    if (ngram > 0) for (const t of bannedNgramTokens(promptIds, beams.ids[b], ngram)) row[t] = -Infinity;
    for (let t = 0; t < V; t++) row[t] += beams.scores[b];
  }
  // stop strings can close any number of candidates: widen the walk until K beams are filled
  for (let want = Math.max(2, 1 + stops.size) * K; ; want *= 4) {
    const cand = topK(scores, Math.min(want, K * V)); // flat indices, best first
    const ids: number[][] = [], next: number[] = [], from: number[] = [];
    const closed: [number[], number, Pick<BeamSequence, 'text' | 'stop'>][] = [];
    for (let rank = 0; rank < cand.length && ids.length < K; rank++) {
      const b = Math.floor(cand[rank] / V), t = cand[rank] % V, seq = [...beams.ids[b], t];
      let hit: Pick<BeamSequence, 'text' | 'stop'> | null = null;
      if (stops.has(t)) hit = opts.decode ? { text: opts.decode(beams.ids[b]) } : {};
      else if (opts.stop?.length) hit = findStop(opts.decode!(seq), opts.stop);
      if (hit) {
        if (rank < K) closed.push([seq, scores[cand[rank]], hit]);
      } else {
        ids.push(seq);
        next.push(scores[cand[rank]]);
        from.push(b);
      }
    }
    if (ids.length < K && want < K * V) continue;
    if (ids.length < K) throw new Error(`beamSearch: only ${ids.length} of ${K} beams could be continued (vocabulary of ${V} with ${stops.size} stop ids is too small)`);
    for (const [seq, score, extra] of closed) hyps.add(seq, score, true, extra);
    return { next: { ids, scores: Float64Array.from(next) }, from, best: scores[cand[0]] };
  }
}

/** Beam search from one prompt; see the comment at the top of this file. Synchronous. */
export function beamSearch(model: LanguageModel, promptIds: readonly number[], opts: BeamSearchOptions): BeamSearchResult {
  const K = opts.numBeams;
  checkBeamOptions(opts, promptIds, model.contextLength);
  // the last token needs no forward, so a prompt of P tokens leaves room for contextLength − P + 1 new ones
  const maxSteps = Math.min(opts.maxNewTokens, model.contextLength - promptIds.length + 1);
  const hyps = new Hypotheses(K, opts.lengthPenalty ?? 1);
  const beams: Beams = { ids: Array.from({ length: K }, () => []), scores: new Float64Array(K).fill(-1e9) };
  beams.scores[0] = 0;
  return inEvalMode(model, () => {
    const dec = new DecodeBatch(model, [promptIds]);
    try {
      return searchBeams(dec, beams, hyps, promptIds, opts, maxSteps);
    } finally {
      dec.dispose();
    }
  });
}

/** beamSearch's loop on a fresh decoder: prefill, K copies of the prompt's row, then expand until done */
function searchBeams(dec: DecodeBatch, start: Beams, hyps: Hypotheses, promptIds: readonly number[], opts: BeamSearchOptions, maxSteps: number): BeamSearchResult {
  const V = dec.model.config.vocabSize, K = opts.numBeams;
  let beams = start;
  const first = dec.prefill();
  // every beam starts as the prompt: the same logits and K copies of its state row
  let logits: Float32Array = new Float32Array(K * V); // (K, V)
  for (let b = 0; b < K; b++) logits.set(first, b * V);
  dec.selectRows(new Array<number>(K).fill(0));
  let done = false;
  for (let step = 1; step <= maxSteps && !done; step++) {
    const { next, from, best } = expand(logits, beams, promptIds, opts, hyps, V);
    done = hyps.isDone(best, step, opts.earlyStopping ?? false, maxSteps);
    beams = next;
    if (done || step === maxSteps) break;
    dec.selectRows(from);
    logits = dec.step(beams.ids.map((ids) => ids[ids.length - 1])); // (K, V)
  }
  if (!done) beams.ids.forEach((ids, b) => hyps.add(ids, beams.scores[b], false, opts.decode ? { text: opts.decode(ids) } : {}));
  // Python: sorted ascending (stable), best popped from the end
  const sorted = hyps.items.map((h, i) => [h, i] as const).sort((a, b) => a[0].score - b[0].score || a[1] - b[1]);
  const sequences = sorted.reverse().slice(0, opts.numReturnSequences ?? 1).map(([h]) => h);
  return { sequences, finishReason: done ? 'stop' : 'length', contextFull: !done && maxSteps < opts.maxNewTokens };
}

/** log_softmax of a float32 row into a float64 one */
function logSoftmax(x: Float32Array, out: Float64Array): void {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > m) m = x[i];
  let z = 0;
  for (let i = 0; i < x.length; i++) z += Math.exp(x[i] - m);
  const lse = m + Math.log(z);
  for (let i = 0; i < x.length; i++) out[i] = x[i] - lse;
}

/** flat indices of the k largest entries, best first; equal values: lower index first (NaN never taken) */
function topK(x: Float64Array, k: number): number[] {
  const idx: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (idx.length === k && !(v > val[k - 1])) continue;
    if (v !== v) continue;
    let j = idx.length < k ? idx.length : k - 1;
    while (j > 0 && v > val[j - 1]) j--;
    idx.splice(j, 0, i);
    val.splice(j, 0, v);
    if (idx.length > k) {
      idx.pop();
      val.pop();
    }
  }
  return idx;
}

/** HF NoRepeatNGramLogitsProcessor: tokens that would complete an n-gram already present in prompt + beam */
function bannedNgramTokens(prompt: readonly number[], gen: readonly number[], n: number): number[] {
  const seq = [...prompt, ...gen];
  const L = seq.length;
  if (L + 1 < n) return [];
  const prefix = seq.slice(L + 1 - n).join(',');
  const banned: number[] = [];
  for (let i = 0; i + n <= L; i++) {
    if (seq.slice(i, i + n - 1).join(',') === prefix) banned.push(seq[i + n - 1]);
  }
  return banned;
}
