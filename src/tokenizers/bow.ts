// Bag-of-words vectorizer: a vocabulary of (lower-cased) words and, per document, a vector of their counts.
// Word order is thrown away, which is the point: it is the baseline a language model has to beat.
//
// Example: fit(["the cat sat", "the dog"]) → vocab [the, cat, sat, dog] (by frequency, then first seen);
//          transform("the the dog") → [2, 0, 0, 1]
import { splitWords } from './word.js';

export interface BagOfWordsJSON {
  type: 'bow';
  vocab: string[];
  lowercase: boolean;
}

export class BagOfWords {
  readonly vocab: string[];
  readonly lowercase: boolean;
  private readonly index = new Map<string, number>();

  constructor(vocab: string[], lowercase = true) {
    this.vocab = vocab;
    this.lowercase = lowercase;
    vocab.forEach((w, i) => this.index.set(w, i));
  }

  static fit(docs: string[], opts: { maxFeatures?: number; lowercase?: boolean; minCount?: number } = {}): BagOfWords {
    const lowercase = opts.lowercase ?? true;
    const counts = new Map<string, number>();
    for (const d of docs) for (const w of BagOfWords.words(d, lowercase)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const vocab = [...counts.entries()]
      .filter(([, c]) => c >= (opts.minCount ?? 1))
      .sort((a, b) => b[1] - a[1])
      .slice(0, opts.maxFeatures ?? Infinity)
      .map((e) => e[0]);
    return new BagOfWords(vocab, lowercase);
  }

  private static words(doc: string, lowercase: boolean): string[] {
    return splitWords(lowercase ? doc.toLowerCase() : doc).filter((w) => /[\p{L}\p{N}]/u.test(w));
  }

  /** count vector of one document; unknown words are ignored */
  transform(doc: string): Float32Array {
    const v = new Float32Array(this.vocab.length);
    for (const w of BagOfWords.words(doc, this.lowercase)) {
      const i = this.index.get(w);
      if (i !== undefined) v[i]++;
    }
    return v;
  }

  /** (N, V) row-major count matrix */
  transformAll(docs: string[]): Float32Array {
    const V = this.vocab.length;
    const out = new Float32Array(docs.length * V);
    docs.forEach((d, r) => out.set(this.transform(d), r * V));
    return out;
  }

  toJSON(): BagOfWordsJSON {
    return { type: 'bow', vocab: this.vocab, lowercase: this.lowercase };
  }
}
