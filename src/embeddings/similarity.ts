// Similarity between word vectors, nearest neighbours, and analogies.
//
// - cosine(u, v) = u·v / (|u| |v|) in [−1, 1] (0 when either is the zero vector); dot(u, v) = u·v.
// - nearest(vectors, query, k): the k rows most similar to a query vector, optionally excluding words
//   (the query words themselves, as the original tool's `distance` does).
// - analogy a : b :: c : ? (Mikolov, Yih & Zweig 2013, "Linguistic regularities…"; Mikolov et al. 2013a):
//   3CosAdd: argmax_d cos(d, b − a + c) over unit vectors, excluding a, b and c — word-analogy.c's rule;
//   3CosMul (Levy & Goldberg 2014, "Linguistic regularities in sparse and explicit word representations"):
//   argmax_d cos'(d,b)·cos'(d,c) / (cos'(d,a) + ε) with cos' = (cos + 1)/2 and ε = 0.001.
//   Example: analogy(v, 'france', 'paris', 'italy') → 'rome' on vectors where paris − france + italy ≈ rome.
import type { WordVectors } from './vectors.js';

export interface Neighbour {
  word: string;
  score: number;
}

export type Similarity = 'cosine' | 'dot';
export type AnalogyMethod = '3cosadd' | '3cosmul';

export function dot(u: ArrayLike<number>, v: ArrayLike<number>): number {
  if (u.length !== v.length) throw new Error(`dot: lengths differ (${u.length} and ${v.length})`);
  let s = 0;
  for (let i = 0; i < u.length; i++) s += u[i] * v[i];
  return s;
}

export function cosine(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const n = Math.sqrt(dot(u, u) * dot(v, v));
  return n > 0 ? dot(u, v) / n : 0;
}

/** scores of every row against a query: cosine (unit rows · unit query) or the raw inner product */
export function scoreAll(vectors: WordVectors, query: ArrayLike<number>, similarity: Similarity = 'cosine'): Float32Array {
  const { dim, size } = vectors;
  if (query.length !== dim) throw new Error(`query has ${query.length} dimensions, the vectors ${dim}`);
  const rows = similarity === 'cosine' ? vectors.unitRows() : vectors.data;
  let scale = 1;
  if (similarity === 'cosine') {
    const n = Math.sqrt(dot(query, query));
    scale = n > 0 ? 1 / n : 0;
  }
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += rows[i * dim + j] * query[j];
    out[i] = s * scale;
  }
  return out;
}

/**
 * The k best-scoring words, best first (ties: lower row first), skipping the rows in `exclude`. A k above the
 * number of candidates gives them all; a large k sorts them once instead of keeping a sorted list of k, so
 * k = the whole vocabulary costs V·log V, not V².
 */
export function topK(vectors: WordVectors, scores: ArrayLike<number>, k: number, exclude: ReadonlySet<number> = new Set()): Neighbour[] {
  let candidates = scores.length;
  for (const i of exclude) if (i >= 0 && i < scores.length) candidates--;
  k = Math.min(k, candidates);
  if (k > SORT_ABOVE && !Array.prototype.some.call(scores, Number.isNaN)) {
    const order: number[] = [];
    for (let i = 0; i < scores.length; i++) if (!exclude.has(i)) order.push(i);
    // the order the list below keeps: score descending, then row ascending
    order.sort((x, y) => scores[y] - scores[x] || x - y);
    return order.slice(0, k).map((i) => ({ word: vectors.words[i], score: scores[i] }));
  }
  const best: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (exclude.has(i)) continue;
    if (best.length === k && scores[i] <= scores[best[k - 1]]) continue;
    let p = best.length === k ? k - 1 : best.length;
    while (p > 0 && scores[best[p - 1]] < scores[i]) p--;
    best.splice(p, 0, i);
    if (best.length > k) best.pop();
  }
  return best.map((i) => ({ word: vectors.words[i], score: scores[i] }));
}

/** from this k on, topK sorts all candidates (V·log V) instead of inserting into a sorted list of k (V·k) */
const SORT_ABOVE = 64;

/** the k nearest words to a word (itself excluded), by cosine unless told otherwise */
export function nearestWords(vectors: WordVectors, word: string, k = 10, similarity: Similarity = 'cosine'): Neighbour[] {
  const id = requireWord(vectors, word);
  return topK(vectors, scoreAll(vectors, vectors.row(id), similarity), k, new Set([id]));
}

/**
 * a is to b as c is to ?: the k best answers, a, b and c excluded, among the first `limit` rows.
 * Throws for a word not in the vectors.
 */
export function analogy(vectors: WordVectors, a: string, b: string, c: string, k = 1, method: AnalogyMethod = '3cosadd', limit = vectors.size): Neighbour[] {
  const [ia, ib, ic] = [a, b, c].map((w) => requireWord(vectors, w));
  const exclude = new Set([ia, ib, ic]);
  const unit = vectors.unitRows();
  const { dim } = vectors;
  if (method === '3cosadd') {
    const q = new Float32Array(dim);
    for (let j = 0; j < dim; j++) q[j] = unit[ib * dim + j] - unit[ia * dim + j] + unit[ic * dim + j];
    return topK(vectors, scoreAll(vectors, q).subarray(0, limit), k, exclude);
  }
  const ca = scoreAll(vectors, unit.subarray(ia * dim, ia * dim + dim));
  const cb = scoreAll(vectors, unit.subarray(ib * dim, ib * dim + dim));
  const cc = scoreAll(vectors, unit.subarray(ic * dim, ic * dim + dim));
  const scores = new Float32Array(limit);
  for (let i = 0; i < scores.length; i++) scores[i] = (((cb[i] + 1) / 2) * ((cc[i] + 1) / 2)) / ((ca[i] + 1) / 2 + 0.001);
  return topK(vectors, scores, k, exclude);
}

function requireWord(vectors: WordVectors, word: string): number {
  const id = vectors.id(word);
  if (id === undefined) throw new Error(`"${word}" is not in the vocabulary (${vectors.size} words)`);
  return id;
}
