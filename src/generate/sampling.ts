// Choosing the next token from one row of logits, with the same knobs and the same semantics as Hugging Face
// `generate` (RepetitionPenaltyLogitsProcessor → TemperatureLogitsWarper → TopKLogitsWarper → TopPLogitsWarper
// → multinomial), so a setting such as `temperature 0.8, top_p 0.95` means here what it means there, plus
// OpenAI's `logit_bias`, `presence_penalty` and `frequency_penalty` (API reference, "Create chat completion").
//
// The order, as vLLM's sampler applies the same processors (logits processors such as logit_bias, then
// repetition → frequency → presence penalties, then temperature, then top-k/top-p):
//   1. logit bias        logit[j] += bias[j]
//   2. repetition        HF/CTRL: for each distinct id in `previous`, logit > 0 → logit / p, else logit · p
//   3. frequency         logit[j] −= c[j] · frequency_penalty      (c[j] = count of j among *generated* ids)
//   4. presence          logit[j] −= (c[j] > 0) · presence_penalty
//   5. temperature       logit / T            (T = 0, or topP = 0 as OpenAI: greedy, argmax of 1–4)
//   6. top-k, 7. top-p, 8. softmax and one draw from the Rng
//
// Worked example (vocab of 4, logits [2, 1, 0, -1], previous ids [0, 3], penalty 2, temperature 0.5, top_p 0.9):
//   repetition penalty: id 0 has logit 2 > 0 → 2/2 = 1;  id 3 has -1 ≤ 0 → -1*2 = -2   → [1, 1, 0, -2]
//   temperature 0.5:    divide by 0.5                                                  → [2, 2, 0, -4]
//   softmax:            ≈ [0.4678, 0.4678, 0.0633, 0.0012]
//   top_p 0.9:          descending cumulative 0.468, 0.936 ≥ 0.9 → keep ids 0 and 1     → [2, 2, -inf, -inf]
//   sample:             id 0 or 1 with probability ½ each
//
// Worked example of the OpenAI knobs (logits [2, 1, 0, -1], logit_bias {3: 5}, generated ids [1, 1, 2],
// frequency_penalty 0.5, presence_penalty 0.25):
//   bias:       [2, 1, 0, 4];   counts c = [0, 2, 1, 0]
//   frequency:  − [0, 1, 0.5, 0]   → [2, 0, -0.5, 4]
//   presence:   − [0, 0.25, 0.25, 0] → [2, -0.25, -0.75, 4]   → greedy picks id 3
//
// Everything works on a single row (Float32Array of vocab size) and modifies it in place: a generation loop
// produces a fresh logits row each step, and copying 50k floats per token for nothing adds up.

import type { Rng } from '../tensor/rng.js';

export interface SamplingOptions {
  /** divide logits by this before softmax; default 1; 0 means greedy (argmax after the repetition penalty) */
  temperature?: number;
  /** keep only the k highest logits (and any tied with the k-th); 0 or undefined = off */
  topK?: number;
  /** nucleus sampling: keep the smallest set of most likely tokens whose probability sums to ≥ topP; 1 = off */
  topP?: number;
  /** CTRL-style penalty on every id already in `previous`; 1 = off; > 1 discourages repeats */
  repetitionPenalty?: number;
  /**
   * OpenAI logit_bias: token id → a bias in [-100, 100] added to that id's logit before anything else
   * (−100 in effect bans the id, 100 forces it). JSON objects (string keys) and Maps are accepted.
   */
  logitBias?: Readonly<Record<string, number>> | ReadonlyMap<number, number>;
  /** OpenAI presence_penalty in [-2, 2]: subtracted once from the logit of every id already generated; 0 = off */
  presencePenalty?: number;
  /** OpenAI frequency_penalty in [-2, 2]: subtracted from an id's logit once per time it was generated; 0 = off */
  frequencyPenalty?: number;
}

/**
 * Checks every sampling option once, before any work, and throws one line naming the first bad one:
 * temperature ≥ 0, topK a non-negative integer, topP in [0, 1], repetitionPenalty > 0, penalties in
 * [-2, 2], logitBias ids in [0, vocabSize) with biases in [-100, 100] (vocabSize unknown: ids unchecked).
 */
export function checkSamplingOptions(opts: SamplingOptions, vocabSize?: number): void {
  const { temperature = 1, topK = 0, topP = 1, repetitionPenalty = 1, presencePenalty = 0, frequencyPenalty = 0 } = opts;
  if (typeof temperature !== 'number' || !(temperature >= 0) || !Number.isFinite(temperature)) throw new Error(`sampling: temperature must be a finite number ≥ 0 (0 = greedy), got ${temperature}`);
  if (!Number.isInteger(topK) || topK < 0) throw new Error(`sampling: topK must be a non-negative integer (0 = off), got ${topK}`);
  if (typeof topP !== 'number' || !(topP >= 0 && topP <= 1)) throw new Error(`sampling: topP must be in [0, 1] (0 = greedy, 1 = off), got ${topP}`);
  if (typeof repetitionPenalty !== 'number' || !(repetitionPenalty > 0) || !Number.isFinite(repetitionPenalty)) throw new Error(`sampling: repetitionPenalty must be a positive finite number (1 = off), got ${repetitionPenalty}`);
  if (typeof presencePenalty !== 'number' || !(presencePenalty >= -2 && presencePenalty <= 2)) throw new Error(`sampling: presencePenalty must be in [-2, 2], got ${presencePenalty}`);
  if (typeof frequencyPenalty !== 'number' || !(frequencyPenalty >= -2 && frequencyPenalty <= 2)) throw new Error(`sampling: frequencyPenalty must be in [-2, 2], got ${frequencyPenalty}`);
  if (opts.logitBias !== undefined) logitBiasEntries(opts.logitBias, vocabSize ?? Infinity);
}

const biasCache = new WeakMap<object, { V: number; entries: [number, number][] }>();

/**
 * logitBias as checked [id, bias] pairs. Throws `sampling: logitBias …` naming the bad id or value.
 * Example: logitBiasEntries({ "3": 5, "0": -100 }, 4) → [[3, 5], [0, -100]].
 */
export function logitBiasEntries(bias: NonNullable<SamplingOptions['logitBias']>, vocabSize: number): [number, number][] {
  if (typeof bias !== 'object' || bias === null) throw new Error(`sampling: logitBias must be an object mapping token ids to biases, got ${JSON.stringify(bias)}`);
  const hit = biasCache.get(bias);
  if (hit && hit.V === vocabSize) return hit.entries;
  const raw: [string | number, unknown][] = bias instanceof Map ? [...bias.entries()] : Object.entries(bias);
  const entries = raw.map(([k, v]): [number, number] => {
    const id = typeof k === 'number' ? k : /^\d+$/.test(k) ? Number(k) : NaN;
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new Error(`sampling: logitBias token id ${JSON.stringify(k)} is not an id in the vocabulary [0, ${vocabSize})`);
    if (typeof v !== 'number' || !(v >= -100 && v <= 100)) throw new Error(`sampling: logitBias for token ${id} must be a number in [-100, 100], got ${JSON.stringify(v)}`);
    return [id, v];
  });
  biasCache.set(bias, { V: vocabSize, entries });
  return entries;
}

/** OpenAI logit_bias: logit[id] += bias for every entry. In place; returns `logits`. */
export function applyLogitBias(logits: Float32Array, bias: NonNullable<SamplingOptions['logitBias']>): Float32Array {
  for (const [id, b] of logitBiasEntries(bias, logits.length)) logits[id] += b;
  return logits;
}

/**
 * OpenAI presence and frequency penalties over the *generated* ids (the prompt does not count):
 * logit[j] −= c[j] · frequency + (c[j] > 0) · presence. In place; returns `logits`.
 * Example: logits [2, 1, 0, -1], generated [1, 1, 2], frequency 0.5, presence 0.25 → [2, -0.25, -0.75, -1].
 */
export function applyPresenceFrequencyPenalty(logits: Float32Array, generated: ArrayLike<number>, presence: number, frequency: number): Float32Array {
  if (generated.length === 0 || (presence === 0 && frequency === 0)) return logits;
  const counts = new Map<number, number>();
  for (let i = 0; i < generated.length; i++) {
    const id = generated[i];
    if (!Number.isInteger(id) || id < 0 || id >= logits.length) throw new Error(`sampling: generated token id ${id} at position ${i} is outside the vocabulary [0, ${logits.length})`);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  for (const [id, c] of counts) logits[id] -= c * frequency + presence;
  return logits;
}

/**
 * Hugging Face RepetitionPenaltyLogitsProcessor: for each *distinct* previous id, a positive logit is divided by
 * the penalty and a negative (or zero) one is multiplied, so with penalty > 1 the token always becomes less likely.
 * An id repeated many times is penalised once. Modifies `logits` in place and returns it.
 */
export function applyRepetitionPenalty(
  logits: Float32Array,
  previousIds: ArrayLike<number>,
  penalty: number,
): Float32Array {
  if (!(penalty > 0) || !Number.isFinite(penalty)) {
    throw new Error(`sampling: repetitionPenalty must be a positive finite number, got ${penalty}`);
  }
  if (penalty === 1 || previousIds.length === 0) return logits;
  const seen = new Set<number>();
  for (let i = 0; i < previousIds.length; i++) {
    const id = previousIds[i];
    if (seen.has(id)) continue;
    seen.add(id);
    if (!Number.isInteger(id) || id < 0 || id >= logits.length) {
      throw new Error(`sampling: previous token id ${id} at position ${i} is outside the vocabulary [0, ${logits.length})`);
    }
    const v = logits[id];
    logits[id] = v < 0 ? v * penalty : v / penalty;
  }
  return logits;
}

/** Divide every logit by `temperature` (> 0). Modifies in place and returns `logits`. */
export function applyTemperature(logits: Float32Array, temperature: number): Float32Array {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new Error(`sampling: temperature must be a positive finite number here (0 means greedy in sampleNext), got ${temperature}`);
  }
  if (temperature === 1) return logits;
  const inv = 1 / temperature;
  for (let i = 0; i < logits.length; i++) logits[i] *= inv;
  return logits;
}

/**
 * Hugging Face TopKLogitsWarper: every logit strictly below the k-th largest becomes -Infinity. Logits tied with
 * the k-th largest survive (HF compares with `<`), so more than k tokens can remain; that is deterministic and
 * fair to tied tokens. k ≥ vocab size or k ≤ 0 leaves the row alone. In place; returns `logits`.
 */
export function topKFilter(logits: Float32Array, k: number): Float32Array {
  if (!Number.isInteger(k) || k < 0) throw new Error(`sampling: topK must be a non-negative integer, got ${k}`);
  if (k === 0 || k >= logits.length) return logits;
  const kth = kthLargest(logits, k);
  for (let i = 0; i < logits.length; i++) if (logits[i] < kth) logits[i] = -Infinity;
  return logits;
}

/**
 * Hugging Face TopPLogitsWarper (nucleus): sort by probability, keep the smallest prefix whose cumulative
 * probability reaches `topP`, always keep at least one token, set the rest to -Infinity.
 * Ties are broken by token id (lower id counts as more likely), so the result never depends on sort stability.
 * A 1e-7 slack makes a cut that lands exactly on `topP` in exact arithmetic (e.g. 0.5 + 0.3 with top_p 0.8)
 * stop there instead of drifting either way with float rounding. topP 0 keeps the single most likely token
 * (OpenAI: top_p 0 is greedy). In place; returns `logits`.
 */
export function topPFilter(logits: Float32Array, topP: number): Float32Array {
  if (!(topP >= 0 && topP <= 1)) throw new Error(`sampling: topP must be in [0, 1], got ${topP}`);
  if (topP === 1) return logits;
  // Sort the values only (a native typed-array sort: ~10× faster than sorting indices with a comparator on a
  // 50k vocabulary), find the cut value, then keep ids above it plus the lowest ids among those equal to it.
  let finite = 0;
  for (let i = 0; i < logits.length; i++) if (logits[i] > -Infinity) finite++;
  if (finite <= 1) return logits;
  const sorted = new Float32Array(finite);
  for (let i = 0, j = 0; i < logits.length; i++) if (logits[i] > -Infinity) sorted[j++] = logits[i];
  sorted.sort(); // ascending; walk it from the end
  const max = sorted[finite - 1];
  let z = 0;
  for (let j = 0; j < finite; j++) z += Math.exp(sorted[j] - max);
  let cum = 0;
  let cut = finite - 1; // index in `sorted` of the last kept value
  for (let j = finite - 1; j >= 0; j--) {
    cum += Math.exp(sorted[j] - max) / z;
    cut = j;
    if (cum >= topP - 1e-7) break;
  }
  const cutValue = sorted[cut];
  // how many tokens equal to the cut value are inside the nucleus
  let tiesKept = 0;
  for (let j = cut; j < finite && sorted[j] === cutValue; j++) tiesKept++;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (v > cutValue) continue;
    if (v === cutValue && tiesKept > 0) {
      tiesKept--;
      continue;
    }
    logits[i] = -Infinity;
  }
  return logits;
}

/** Numerically stable softmax, in place. -Infinity entries become 0. Throws if every entry is -Infinity/NaN. */
export function softmaxInPlace(x: Float32Array): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  if (max === -Infinity) throw new Error('sampling: cannot take softmax of a row with no finite logit');
  if (max === Infinity) {
    // +Infinity logits win outright; share the mass among them
    let n = 0;
    for (let i = 0; i < x.length; i++) n += x[i] === Infinity ? 1 : 0;
    for (let i = 0; i < x.length; i++) x[i] = x[i] === Infinity ? 1 / n : 0;
    return x;
  }
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const e = x[i] > -Infinity ? Math.exp(x[i] - max) : 0; // NaN > -Inf is false → 0
    x[i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = 0; i < x.length; i++) x[i] *= inv;
  return x;
}

/** Index of the largest value; the lowest index wins ties; NaN never wins. Throws on an empty row. */
export function argmax(x: ArrayLike<number>): number {
  if (x.length === 0) throw new Error('sampling: argmax of an empty row');
  let best = -1;
  let bestV = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v > bestV || (best < 0 && v === -Infinity)) {
      best = i;
      bestV = v;
    }
  }
  return best < 0 ? 0 : best;
}

/**
 * Draw one index from a probability row with a single `rng.random()` call (inverse CDF). The row need not sum
 * exactly to 1 (it is scaled by its sum), so float32 rounding never makes the walk run off the end; zero-probability
 * entries are never returned.
 */
export function sampleFromProbs(probs: ArrayLike<number>, rng: Rng): number {
  let total = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    if (p > 0) {
      total += p;
      last = i;
    }
  }
  if (last < 0 || !Number.isFinite(total)) throw new Error('sampling: probability row has no positive finite mass');
  const r = rng.random() * total;
  let cum = 0;
  for (let i = 0; i <= last; i++) {
    const p = probs[i];
    if (p > 0) {
      cum += p;
      if (r < cum) return i;
    }
  }
  return last;
}

/**
 * Pick the next token id from one row of logits. Applies, in the order documented at the top of this file:
 * logit bias → repetition penalty (over `previous`, typically prompt + generated ids) → frequency and
 * presence penalties (over `generated`, the ids generated so far) → temperature → top-k → top-p → softmax →
 * one draw from `rng`. temperature 0 or topP 0 is greedy: argmax after bias and penalties, no randomness
 * consumed. The result depends only on the logits, the options, the ids and the Rng state, so a seeded Rng
 * reproduces a run. Throws one line naming a bad option (checkSamplingOptions).
 *
 * NOTE: modifies `logits` in place (it ends up holding the filtered probabilities). Pass a copy if you need it.
 */
export function sampleNext(
  logits: Float32Array,
  opts: SamplingOptions,
  rng: Rng,
  previous?: ArrayLike<number>,
  generated?: ArrayLike<number>,
): number {
  if (logits.length === 0) throw new Error('sampling: empty logits row');
  checkSamplingOptions(opts, logits.length);
  const { temperature = 1, topK = 0, topP = 1, repetitionPenalty = 1 } = opts;
  if (opts.logitBias) applyLogitBias(logits, opts.logitBias);
  if (previous && previous.length > 0 && repetitionPenalty !== 1) applyRepetitionPenalty(logits, previous, repetitionPenalty);
  if (generated) applyPresenceFrequencyPenalty(logits, generated, opts.presencePenalty ?? 0, opts.frequencyPenalty ?? 0);
  if (temperature === 0 || topP === 0) return argmax(logits);
  applyTemperature(logits, temperature);
  topKFilter(logits, topK);
  topPFilter(logits, topP);
  softmaxInPlace(logits);
  return sampleFromProbs(logits, rng);
}

export { topLogprobs, type TopLogprob } from './logprobs.js';

/** the k-th largest value (k ≥ 1) of a row, by quickselect on a copy: O(V) instead of a full sort */
function kthLargest(x: Float32Array, k: number): number {
  const a = Float32Array.from(x);
  // NaN would break the partition; treat it as -Infinity
  for (let i = 0; i < a.length; i++) if (a[i] !== a[i]) a[i] = -Infinity;
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1; // index in descending order
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return a[target];
}
