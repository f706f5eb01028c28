// Joining two generation states along the batch axis, for continuous batching (continuous-batcher.ts): the
// newcomers' prefill runs in its own DecodeBatch, then its state is appended below the running one. The
// ModelState interface (models/model.ts) has no such operation, so this works on the states that are KV
// caches — GPT's KVCache and LLaMA's LlamaCache (models/kv-cache.ts), which join in place.
// The shorter state is left-padded with zero columns so both end at the same column; the caller adds those
// columns to its rows' left-pad counts, which masks them (attention never reads a pad key) and keeps each
// row's positions counting from its first real token.
//
//   a: (2, H, 5, hs)  b: (1, H, 3, hs)   →   (3, H, 5, hs): rows of a as they were; b's row after 2 zero columns
//
// Other states (n-gram contexts, recurrent hidden states) are not joinable here; callers rebuild those by
// prefilling every row again (the batcher does).
import type { ModelState } from '../models/model.js';
import { KVCache } from '../models/kv-cache.js';

/** true for KV-cache states, which joinStates takes */
export function isJoinableState(s: ModelState): boolean {
  return s instanceof KVCache;
}

/**
 * Appends the rows of `b` (Bb rows, Lb positions) after the rows of `a` (Ba rows, La positions), in place on
 * `a`: the result has Ba + Bb rows and max(La, Lb) positions, the shorter side left-padded with zeros.
 * Returns the pad columns added to a's rows and to b's rows. Throws when the states are not KV caches of the
 * same class and shape (layers, heads, head size).
 */
export function joinStates(a: ModelState, b: ModelState): { padA: number; padB: number } {
  if (!(a instanceof KVCache) || !(b instanceof KVCache) || a.constructor !== b.constructor) {
    throw new Error(`joinStates: only KV-cache states of the same model can be joined, got ${a.constructor.name} and ${b.constructor.name}`);
  }
  return a.join(b);
}
