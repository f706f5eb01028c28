// The engine's per-token log-probabilities in OpenAI's two shapes: chat's `logprobs.content[]` and the legacy
// completions `logprobs` (parallel arrays). Browser-safe.
import type { TokenLogprob } from '../generate/text-engine.js';
import type { ChatLogprobs, CompletionLogprobs } from './openai-types.js';

/** chat: each token with its bytes and its top alternatives */
export function chatLogprobs(tokens: readonly TokenLogprob[]): ChatLogprobs {
  return {
    content: tokens.map((t) => ({
      token: t.token, logprob: t.logprob, bytes: t.bytes,
      top_logprobs: t.top.map((a) => ({ token: a.token, logprob: a.logprob, bytes: a.bytes })),
    })),
    refusal: null,
  };
}

/**
 * legacy completions: tokens, their logprobs, a {token: logprob} map of alternatives per position (the
 * first of equal token texts wins), and each token's offset in the text; `offset` is where these tokens
 * start (a stream's earlier text, or an echoed prompt).
 */
export function completionLogprobs(tokens: readonly TokenLogprob[], offset = 0): CompletionLogprobs {
  const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  let at = offset;
  for (const t of tokens) {
    out.tokens.push(t.token);
    out.token_logprobs.push(t.logprob);
    const top: Record<string, number> = {};
    for (const a of t.top) if (!Object.hasOwn(top, a.token)) Object.defineProperty(top, a.token, { value: a.logprob, enumerable: true, writable: true, configurable: true });
    out.top_logprobs.push(top);
    out.text_offset.push(at);
    at += t.token.length;
  }
  return out;
}
