// Joining two generation states along the batch axis, for continuous batching (continuous-batcher.ts): the
// newcomers' prefill runs in its own DecodeBatch, then its state is appended below the running one. The
// ModelState interface (models/model.ts) has no such operation, so this works on the states that are KV
// caches — GPT's KVCache and LLaMA's LlamaCache: per layer, k and v tensors of shape (B, heads, L, head size).
// The shorter state is left-padded with zero columns so both end at the same column; the caller adds those
// columns to its rows' left-pad counts, which masks them (attention never reads a pad key) and keeps each
// row's positions counting from its first real token.
//
//   a: (2, H, 5, hs)  b: (1, H, 3, hs)   →   (3, H, 5, hs): rows of a as they were; b's row after 2 zero columns
//
// Other states (n-gram contexts, recurrent hidden states) are not joinable here; callers rebuild those by
// prefilling every row again (the batcher does).
import type { ModelState } from '../models/model.js';
import { Tensor } from '../tensor/tensor.js';

interface KVState extends ModelState {
  k: (Tensor | null)[];
  v: (Tensor | null)[];
}

/** true for KV-cache states (arrays `k` and `v` of (B, heads, L, head size) tensors or nulls), which joinStates takes */
export function isJoinableState(s: ModelState): boolean {
  const kv = s as Partial<KVState>;
  return Array.isArray(kv.k) && Array.isArray(kv.v) && kv.k.length === kv.v.length;
}

/**
 * Appends the rows of `b` (Bb rows, Lb positions) after the rows of `a` (Ba rows, La positions), in place on
 * `a`: the result has Ba + Bb rows and max(La, Lb) positions, the shorter side left-padded with zeros.
 * Returns the pad columns added to a's rows and to b's rows. Throws when the states are not KV caches of the
 * same class and shape (layers, heads, head size).
 */
export function joinStates(a: ModelState, b: ModelState): { padA: number; padB: number } {
  if (!isJoinableState(a) || !isJoinableState(b) || a.constructor !== b.constructor) {
    throw new Error(`joinStates: only KV-cache states of the same model can be joined, got ${a.constructor.name} and ${b.constructor.name}`);
  }
  const A = a as KVState, B = b as KVState;
  if (A.k.length !== B.k.length) throw new Error(`joinStates: ${A.k.length} layers vs ${B.k.length}`);
  const La = a.length, Lb = b.length, L = Math.max(La, Lb);
  if (!A.k.every((x, l) => x && B.k[l] && A.v[l] && B.v[l])) throw new Error('joinStates: both states must hold a prefill (every layer cached)');
  A.k = A.k.map((x, l) => padConcat(x!, B.k[l]!, L));
  A.v = A.v.map((x, l) => padConcat(x!, B.v[l]!, L));
  return { padA: L - La, padB: L - Lb };
}

/** (Ba, H, La, hs) and (Bb, H, Lb, hs) → (Ba + Bb, H, L, hs), each row right-aligned at column L */
function padConcat(x: Tensor, y: Tensor, L: number): Tensor {
  const [Ba, H, lx, hs] = x.shape, [Bb, Hy, ly, hsy] = y.shape;
  if (H !== Hy || hs !== hsy) throw new Error(`joinStates: cache shapes [${x.shape}] and [${y.shape}] differ in heads or head size`);
  const out = new Float32Array((Ba + Bb) * H * L * hs);
  const put = (t: Tensor, rows: number, len: number, rowOffset: number): void => {
    for (let o = 0; o < rows * H; o++) {
      out.set(t.data.subarray(o * len * hs, (o + 1) * len * hs), ((rowOffset * H + o) * L + (L - len)) * hs);
    }
  };
  put(x, Ba, lx, 0);
  put(y, Bb, ly, Ba);
  return new Tensor(out, [Ba + Bb, H, L, hs]);
}
