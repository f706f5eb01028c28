// Issue #9: BPE training breaks ties between equally frequent pairs exactly as minbpe does (the pair that
// occurs first in the current, partly merged text; with a split pattern, over the chunks in text order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainBPE, CL100K_PATTERN } from '../src/tokenizers/index.js';

/**
 * minbpe's training loop, written out naively (O(merges × text)): stats are a Map filled in order of first
 * occurrence, and the winner is the first entry with the maximal count — Python's max(stats, key=stats.get).
 */
function minbpeMerges(text: string, vocabSize: number, pattern: string | null): number[] {
  const chunks = pattern === null ? [text] : text.match(new RegExp(pattern, 'gu')) ?? [];
  let ids = chunks.map((c) => Array.from(new TextEncoder().encode(c)));
  const merges: number[] = [];
  for (let idx = 256; idx < vocabSize; idx++) {
    const stats = new Map<string, number>();
    for (const c of ids) for (let i = 0; i + 1 < c.length; i++) { const k = `${c[i]},${c[i + 1]}`; stats.set(k, (stats.get(k) ?? 0) + 1); }
    let best = '', bestCount = 0;
    for (const [k, n] of stats) if (n > bestCount) { best = k; bestCount = n; }
    if (bestCount === 0) break;
    const [a, b] = best.split(',').map(Number);
    merges.push(a, b);
    ids = ids.map((c) => {
      const out: number[] = [];
      for (let i = 0; i < c.length; i++) {
        if (i + 1 < c.length && c[i] === a && c[i + 1] === b) { out.push(idx); i++; } else out.push(c[i]);
      }
      return out;
    });
  }
  return merges;
}

// merges printed by karpathy/minbpe's training loop (BasicTokenizer for null, RegexTokenizer with
// GPT4_SPLIT_PATTERN for 'gpt4'; these texts have no line breaks, where the two GPT-4 patterns differ)
const MINBPE: [string, number, 'gpt4' | null, number[]][] = [
  ['aaabdaaabac', 259, null, [97, 97, 256, 97, 257, 98]],
  ['abcdcdabab cdcd abab xyxy zz', 276, null, [97, 98, 99, 100, 257, 257, 256, 256, 259, 32, 120, 121, 256, 258, 262, 260, 263, 258, 264, 32, 265, 260, 266, 261, 267, 261, 268, 32, 269, 122, 270, 122]],
  ['ab ab cd cd ef ef ba ba dc dc fe fe abcdef fedcba', 280, 'gpt4', [97, 98, 99, 100, 101, 102, 98, 97, 100, 99, 32, 102, 261, 101, 32, 256, 32, 257, 32, 258, 32, 259, 32, 260, 263, 257, 268, 258, 262, 260, 270, 259]],
  ['the then they them thee their theirs tether', 275, 'gpt4', [116, 104, 256, 101, 32, 257, 258, 105, 259, 114, 258, 110, 258, 121, 258, 109, 258, 101, 260, 115, 32, 116, 266, 101, 267, 257, 268, 114]],
  ['ééàà 中中文文 😀😀 ab😀ab', 285, null, [240, 159, 256, 152, 257, 128, 195, 169, 195, 160, 228, 184, 261, 173, 230, 150, 263, 135, 97, 98, 259, 259, 266, 260, 267, 260, 268, 32, 269, 262, 270, 262, 271, 264, 272, 264, 273, 32, 274, 258, 275, 258, 276, 32, 277, 265, 278, 258, 279, 265]],
];

test('BPE training ties: merges identical to minbpe (literal reference values)', () => {
  for (const [text, vocab, pat, want] of MINBPE) {
    const t = trainBPE(text, { vocabSize: vocab, pattern: pat, minFrequency: 1 });
    assert.deepEqual(t.merges, want, `${JSON.stringify(text)} pattern ${pat}`);
  }
});

/** a small deterministic generator (LCG) for tie-heavy texts over a tiny alphabet */
function tieText(seed: number, n: number, alphabet: string): string {
  let x = seed;
  let s = '';
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s += alphabet[(x >>> 16) % alphabet.length];
  }
  return s;
}

test('BPE training ties: random tie-heavy texts, with and without a split pattern, match minbpe', () => {
  const alphabets = ['ab', 'abc', 'ab ', 'abc d', 'xé中 ', "a'b c1"];
  for (let seed = 1; seed <= 24; seed++) {
    const text = tieText(seed, 60 + seed * 7, alphabets[seed % alphabets.length]);
    for (const pattern of [null, CL100K_PATTERN]) {
      const want = minbpeMerges(text, 256 + 40, pattern);
      const got = trainBPE(text, { vocabSize: 256 + 40, pattern, minFrequency: 1 }).merges;
      assert.deepEqual(got, want, `seed ${seed} pattern ${pattern ? 'cl100k' : 'none'} text ${JSON.stringify(text)}`);
    }
  }
});

test('BPE training ties: repeated chunks count in order of first appearance', () => {
  // chunk "ba" appears first, "ab" later but more often as a chunk: counts tie 2–2 within chunks → "ba" wins
  const text = 'ba ab ba ab';
  const want = minbpeMerges(text, 260, CL100K_PATTERN);
  assert.deepEqual(trainBPE(text, { vocabSize: 260, pattern: CL100K_PATTERN, minFrequency: 1 }).merges, want);
  assert.deepEqual(want.slice(0, 2), [98, 97]);
});

test('BPE training ties: longer texts and more merges (first occurrences merged away many times) match minbpe', () => {
  const words = ['the', 'then', 'there', 'he', 'her', 'here', 'ere', 'a', 'an', 'and', 'nd', 'th'];
  let x = 7;
  const parts: string[] = [];
  for (let i = 0; i < 700; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; parts.push(words[(x >>> 16) % words.length]); }
  const text = parts.join(' ');
  for (const pattern of [null, CL100K_PATTERN]) {
    const want = minbpeMerges(text, 256 + 120, pattern);
    assert.deepEqual(trainBPE(text, { vocabSize: 256 + 120, pattern, minFrequency: 1 }).merges, want, pattern ? 'cl100k' : 'none');
  }
  const long = tieText(99, 3000, 'abc');
  assert.deepEqual(trainBPE(long, { vocabSize: 256 + 150, pattern: null, minFrequency: 1 }).merges, minbpeMerges(long, 256 + 150, null));
});
