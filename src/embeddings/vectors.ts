// A table of word vectors: V words, each with a D-dimensional float32 vector, stored as one flat
// row-major Float32Array [V, D] (row i is word i's vector at i*D .. i*D+D-1). This is what every method
// (word2vec, PPMI+SVD) produces and what the word2vec file formats hold.
//
// Example: new WordVectors(['a', 'b'], 2, Float32Array.of(1, 0, 0, 1)).vector('b') → [0, 1].

export class WordVectors {
  readonly words: string[];
  readonly dim: number;
  /** [V, D] row-major */
  readonly data: Float32Array;
  private readonly index = new Map<string, number>();
  private unitCache: Float32Array | null = null;

  /** Throws when data.length ≠ V·D, D < 1, or a word repeats. */
  constructor(words: string[], dim: number, data: Float32Array) {
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`WordVectors: dimension must be a whole number ≥ 1, got ${dim}`);
    if (data.length !== words.length * dim) throw new Error(`WordVectors: ${words.length} words × ${dim} dimensions need ${words.length * dim} values, got ${data.length}`);
    this.words = words;
    this.dim = dim;
    this.data = data;
    words.forEach((w, i) => {
      if (this.index.has(w)) throw new Error(`WordVectors: duplicate word ${JSON.stringify(w)} (rows ${this.index.get(w)} and ${i})`);
      this.index.set(w, i);
    });
  }

  get size(): number {
    return this.words.length;
  }

  id(word: string): number | undefined {
    return this.index.get(word);
  }

  has(word: string): boolean {
    return this.index.has(word);
  }

  /** the vector of a word (a view into data); throws for a word not in the table */
  vector(word: string): Float32Array {
    const i = this.index.get(word);
    if (i === undefined) throw new Error(`"${word}" is not in the vocabulary (${this.words.length} words)`);
    return this.row(i);
  }

  row(i: number): Float32Array {
    return this.data.subarray(i * this.dim, (i + 1) * this.dim);
  }

  /** every row scaled to length 1 ([V, D], computed once; zero rows stay zero) */
  unitRows(): Float32Array {
    if (this.unitCache) return this.unitCache;
    const { dim, data } = this;
    const out = new Float32Array(data.length);
    for (let i = 0; i < this.words.length; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += data[i * dim + j] * data[i * dim + j];
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let j = 0; j < dim; j++) out[i * dim + j] = data[i * dim + j] * inv;
    }
    this.unitCache = out;
    return out;
  }
}
