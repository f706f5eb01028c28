// Preference pairs as token ids, and batches of them: the prompt rendered with the chat template up to the
// assistant marker, each response as the assistant's turn closed by <|end|> (what SFT taught the model to
// say). A batch lays out 2B right-padded rows, [chosen₁ … chosen_B, rejected₁ … rejected_B] as TRL's
// concatenated_forward, with next-token targets, the response mask (TRL's completion mask shifted by one:
// position t scores token t + 1) and each row's last-token index (where a reward model reads its score).
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { chatTemplate, END_OF_TURN } from '../data/chat.js';
import type { PreferencePair } from '../data/preference.js';
import { maxOf } from '../tensor/max-of.js';

export interface EncodedPair {
  prompt: Int32Array;
  /** response ids including the closing <|end|> */
  chosen: Int32Array;
  rejected: Int32Array;
  /** the pair's labels, when the data has them (built-in set: question kind, comparison) */
  kind?: string;
  comparison?: string;
}

/** the prompt's ids: the rendered conversation ending with the assistant marker */
export function encodePrompt(messages: PreferencePair['prompt'], tok: Tokenizer): number[] {
  return tok.encode(chatTemplate.render(messages, { addGenerationPrompt: true }), { allowedSpecial: 'all' });
}

/** the end-of-turn id; throws when the tokenizer lacks the chat template's special tokens */
export function endOfTurnId(tok: Tokenizer): number {
  const id = tok.specialTokens.get(END_OF_TURN);
  if (id === undefined) throw new Error(`the tokenizer has no ${END_OF_TURN} token: start from a chat (SFT) checkpoint or let the command add the chat vocabulary`);
  return id;
}

/** Encodes pairs; those whose prompt + longer response exceed `maxLen` tokens are dropped and counted. */
export function encodePairs(pairs: readonly PreferencePair[], tok: Tokenizer, maxLen: number): { pairs: EncodedPair[]; tooLong: number } {
  const end = endOfTurnId(tok);
  const out: EncodedPair[] = [];
  let tooLong = 0;
  for (const p of pairs) {
    const prompt = encodePrompt(p.prompt, tok);
    const chosen = [...tok.encode(p.chosen), end], rejected = [...tok.encode(p.rejected), end];
    if (prompt.length + Math.max(chosen.length, rejected.length) > maxLen) {
      tooLong++;
      continue;
    }
    out.push({ prompt: Int32Array.from(prompt), chosen: Int32Array.from(chosen), rejected: Int32Array.from(rejected), kind: p.kind, comparison: p.comparison });
  }
  return { pairs: out, tooLong };
}

export interface PairBatch {
  /** (2B, T) ids, right-padded with 0 */
  x: Int32Array;
  /** (2B, T) next-token targets, −1 past each row's end */
  y: Int32Array;
  /** (2B·T) 1 where the position predicts a response token */
  mask: Float32Array;
  /** (2B) index of each row's last token */
  last: Int32Array;
  /** rows = 2B */
  rows: number;
  T: number;
}

/** 2B rows: chosen then rejected; T = the longest row (prompt + response) */
export function pairBatch(pairs: readonly EncodedPair[]): PairBatch {
  const seqs = [...pairs.map((p) => [p.prompt, p.chosen] as const), ...pairs.map((p) => [p.prompt, p.rejected] as const)];
  const rows = seqs.length;
  const T = maxOf(seqs.map(([p, r]) => p.length + r.length));
  const x = new Int32Array(rows * T), y = new Int32Array(rows * T).fill(-1), mask = new Float32Array(rows * T), last = new Int32Array(rows);
  seqs.forEach(([p, r], b) => {
    const n = p.length + r.length;
    x.set(p, b * T);
    x.set(r, b * T + p.length);
    for (let t = 0; t < n - 1; t++) {
      y[b * T + t] = x[b * T + t + 1];
      if (t >= p.length - 1) mask[b * T + t] = 1;
    }
    last[b] = n - 1;
  });
  return { x, y, mask, last, rows, T };
}

/**
 * Comparisons whose responses are scored once each (InstructGPT §3.5 puts all K(K−1)/2 comparisons of a
 * prompt's K ranked responses in one batch element, so each response needs one forward pass, not K − 1).
 * The rows are the distinct (prompt, response) sequences of the pairs, right-padded with 0; pair k compares
 * row chosen[k] with row rejected[k].
 */
export interface RankingBatch {
  /** (rows, T) ids */
  x: Int32Array;
  /** (rows) index of each row's last token */
  last: Int32Array;
  /** (rows) index of each row's first response token */
  first: Int32Array;
  rows: number;
  T: number;
  /** (pairs) the row of each pair's chosen response */
  chosen: Int32Array;
  /** (pairs) the row of each pair's rejected response */
  rejected: Int32Array;
}

/** the rows of `pairs` with shared (prompt, response) sequences laid out once (see RankingBatch) */
export function rankingBatch(pairs: readonly EncodedPair[]): RankingBatch {
  const seqs: [Int32Array, Int32Array][] = [], rowOf = new Map<string, number>();
  const row = (p: Int32Array, r: Int32Array): number => {
    const key = `${p.join(',')}|${r.join(',')}`;
    let i = rowOf.get(key);
    if (i === undefined) rowOf.set(key, (i = seqs.push([p, r]) - 1));
    return i;
  };
  const chosen = Int32Array.from(pairs, (p) => row(p.prompt, p.chosen));
  const rejected = Int32Array.from(pairs, (p) => row(p.prompt, p.rejected));
  const rows = seqs.length, T = maxOf(seqs.map(([p, r]) => p.length + r.length));
  const x = new Int32Array(rows * T), last = new Int32Array(rows), first = new Int32Array(rows);
  seqs.forEach(([p, r], b) => {
    x.set(p, b * T);
    x.set(r, b * T + p.length);
    last[b] = p.length + r.length - 1;
    first[b] = p.length;
  });
  return { x, last, first, rows, T, chosen, rejected };
}

/** pairs grouped by prompt (first-seen order), so a batch can take every comparison of a prompt at once */
export function groupByPrompt(pairs: readonly EncodedPair[]): EncodedPair[][] {
  const groups = new Map<string, EncodedPair[]>();
  for (const p of pairs) {
    const key = p.prompt.join(',');
    const g = groups.get(key);
    if (g) g.push(p);
    else groups.set(key, [p]);
  }
  return [...groups.values()];
}
