// The vocabulary word vectors are trained over, built the way the original word2vec tool builds it
// (Mikolov et al. 2013a, word2vec.c: ReadWord, LearnVocabFromTrainFile, SortVocab):
//
// - words are maximal runs of bytes other than space, tab and newline; '\r' is ignored;
// - every newline is a token of its own, `</s>`, which ends a sentence (windows never cross it);
// - `</s>` is word 0 whatever its count; the other words are sorted by count, most frequent first
//   (ties: first appearance, where the C tool's qsort leaves them in no particular order);
// - words seen fewer than `minCount` times are dropped from the vocabulary and from the training text
//   (the window then spans the gap, as in the original).
//
// Worked example: "the cat\nthe dog\n" with minCount 1 → tokens [the, cat, </s>, the, dog, </s>],
// words [</s>, the, cat, dog] with counts [2, 2, 1, 1], encoded ids [1, 2, 0, 1, 3, 0].

/** the sentence-end token the original tool writes as word 0 */
export const SENTENCE_END = '</s>';

/**
 * Splits text into word2vec tokens: whitespace-separated words, and `</s>` for every newline.
 * Example: "a b\n\nc" → ["a", "b", "</s>", "</s>", "c"].
 */
export function corpusTokens(text: string): string[] {
  const out: string[] = [];
  const re = /[^ \t\n\r]+|\n/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push(m[0] === '\n' ? SENTENCE_END : m[0].replace(/\r/g, ''));
  return out;
}

/**
 * A note when `tokens` (from corpusTokens) look like text whose words are not separated by spaces (Chinese,
 * Japanese, Thai…): each run between spaces became one "word", so the median "word" is longer than 10
 * characters, or (20 words or more) 90 % of them are distinct. null for ordinary space-separated text.
 * `command`: the command the note names (embed train, ngram train), which splits text at spaces.
 */
export function unsegmentedTextNote(tokens: readonly string[], source: string, command = 'embed train'): string | null {
  const words = tokens.filter((t) => t !== SENTENCE_END);
  if (!words.length) return null;
  const lengths = words.map((w) => [...w].length).sort((a, b) => a - b);
  const median = lengths[Math.floor(lengths.length / 2)];
  const distinct = new Set(words).size;
  const long = median > 10, unique = words.length >= 20 && distinct >= 0.9 * words.length;
  if (!long && !unique) return null;
  const why = long ? `the median "word" is ${median} characters long` : `${distinct.toLocaleString('en')} of its ${words.length.toLocaleString('en')} "words" are distinct`;
  return `note: ${source}: ${why}; ${command} splits text at spaces, so text written without spaces between words (Chinese, Japanese, Thai…) makes each run of it one "word": give pre-segmented text, with words separated by spaces (e.g. by a word segmenter)`;
}

export class Word2VecVocabulary {
  /** words by id; words[0] is `</s>` */
  readonly words: string[];
  /** occurrences of each word in the training text (Float64Array: counts may pass 2^31) */
  readonly counts: Float64Array;
  private readonly index = new Map<string, number>();

  constructor(words: string[], counts: ArrayLike<number>) {
    if (words.length !== counts.length) throw new Error(`Word2VecVocabulary: ${words.length} words but ${counts.length} counts`);
    this.words = words;
    this.counts = Float64Array.from(counts);
    words.forEach((w, i) => {
      if (this.index.has(w)) throw new Error(`Word2VecVocabulary: duplicate word ${JSON.stringify(w)}`);
      this.index.set(w, i);
    });
  }

  /** counts tokens, keeps words seen at least `minCount` times (and always `</s>` as word 0) */
  static fromTokens(tokens: readonly string[], minCount = 5): Word2VecVocabulary {
    if (!Number.isInteger(minCount) || minCount < 1) throw new Error(`Word2VecVocabulary: minCount must be a positive whole number, got ${minCount}`);
    const counts = new Map<string, number>([[SENTENCE_END, 0]]);
    for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
    const end = counts.get(SENTENCE_END)!;
    counts.delete(SENTENCE_END);
    // Map iteration order is first appearance, and Array.prototype.sort is stable: ties keep that order
    const kept = [...counts.entries()].filter(([, c]) => c >= minCount).sort((a, b) => b[1] - a[1]);
    return new Word2VecVocabulary([SENTENCE_END, ...kept.map((e) => e[0])], [end, ...kept.map((e) => e[1])]);
  }

  get size(): number {
    return this.words.length;
  }

  /** tokens in the vocabulary, `</s>` included: the C tool's train_words */
  get totalCount(): number {
    let s = 0;
    for (let i = 0; i < this.counts.length; i++) s += this.counts[i];
    return s;
  }

  id(word: string): number | undefined {
    return this.index.get(word);
  }

  /** token ids with out-of-vocabulary tokens dropped; id 0 marks a sentence end */
  encode(tokens: readonly string[]): Int32Array {
    const out = new Int32Array(tokens.length);
    let n = 0;
    for (const t of tokens) {
      const id = this.index.get(t);
      if (id !== undefined) out[n++] = id;
    }
    return out.slice(0, n);
  }
}
