// OpenAI's `logprobs` / `top_logprobs`: the log-probabilities the model itself gives the next token, before any
// sampling transform (temperature, top-k/p, penalties, bias), as the API reference defines them ("the log
// probability of this token" under the model). tokenLogprob (decoder.ts) gives the chosen token's; this gives
// the k most likely alternatives.
//
// Worked example: logits [0, ln 3, ln 4] → softmax [1/8, 3/8, 4/8] → topLogprobs(row, 2) =
//   [{ id: 2, logprob: ln 0.5 ≈ -0.693 }, { id: 1, logprob: ln 0.375 ≈ -0.981 }]

export interface TopLogprob {
  id: number;
  /** natural log of the model's probability of `id` */
  logprob: number;
}

/**
 * The k most likely ids of one logits row (V) with their log-probabilities log_softmax(row)[id], most
 * likely first; ties go to the lower id; NaN logits are never listed. k = 0 → []; k > V → all V.
 * Throws when k is not a non-negative integer. O(V·k), meant for OpenAI's k ≤ 20.
 */
export function topLogprobs(row: ArrayLike<number>, k: number): TopLogprob[] {
  if (!Number.isInteger(k) || k < 0) throw new Error(`topLogprobs: k must be a non-negative integer, got ${k}`);
  if (k === 0 || row.length === 0) return [];
  let m = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > m) m = row[i];
  let z = 0;
  for (let i = 0; i < row.length; i++) if (row[i] > -Infinity) z += Math.exp(row[i] - m);
  const lse = m + Math.log(z);
  const ids: number[] = [];
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (v !== v) continue;
    if (ids.length === k && !(v > row[ids[k - 1]])) continue;
    let j = ids.length < k ? ids.length : k - 1;
    while (j > 0 && v > row[ids[j - 1]]) j--;
    ids.splice(j, 0, i);
    if (ids.length > k) ids.pop();
  }
  return ids.map((id) => ({ id, logprob: row[id] - lse }));
}
