// The sliding context window shared by every path that generates past the model's context length C
// (generateTokens with and without the KV cache, the continuous batcher): a sequence of n tokens is read
// from its window start ws, so the model sees ctx[ws, n). While n − ws ≤ C the window only grows and the
// cache just takes the next token. Once it would hold C + 1 tokens it slides by a chunk: it keeps the last
// ⌈C/2⌉ tokens, which are recomputed once (a prefill), and grows again from there. So past the window a
// token costs one cached step, plus one prefill of C/2 tokens every C/2 tokens — not a full recompute of C
// tokens per token as restarting from the last C tokens each time would (issue #9 §6).
//
// Worked example, C = 8 (keep 4), prompt of 6 tokens, ws = 0:
//   n = 6, 7, 8: window [0, n) fits           → prefill 6, then two cached steps
//   n = 9: 9 − 0 > 8 → ws = 9 − 4 = 5         → prefill ctx[5, 9)
//   n = 10..13: fits; n = 14: ws = 10         → prefill ctx[10, 14), ...
// A prompt longer than C starts from its last C tokens (ws = n − C), as nanoGPT crops its context.

/** how many tokens a slide keeps: ⌈C/2⌉ (at least 1) */
export function slideKeep(contextLength: number): number {
  return Math.max(1, Math.ceil(contextLength / 2));
}

/** the first window of a prompt of n tokens: its last C tokens */
export function initialWindowStart(n: number, contextLength: number): number {
  return Math.max(0, n - contextLength);
}

/**
 * The window start for reading ctx[ws, n) (the next token's logits) given the current start ws: ws itself
 * while n − ws ≤ C, else n − ⌈C/2⌉ (a slide; the caller recomputes the window). Example: C 8, ws 0, n 9 → 5.
 */
export function nextWindowStart(ws: number, n: number, contextLength: number): number {
  return n - ws <= contextLength ? ws : n - slideKeep(contextLength);
}
