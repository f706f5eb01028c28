// Analogy evaluation (Mikolov et al. 2013a, the "semantic-syntactic word relationship test" and its
// questions-words.txt; the original tool's compute-accuracy.c): each question a b c d asks for d from
// a : b :: c : ?, answered by 3CosAdd or 3CosMul with a, b and c excluded; accuracy is the share answered
// exactly. Questions with a word missing from the vectors (or outside the first `restrict` rows, the
// original's threshold) are not covered and do not count, as in compute-accuracy.
//
// File format (questions-words.txt): lines ": section-name" open a section; other lines hold four words
// separated by whitespace; blank lines are skipped. Example:
//   : capital-common-countries
//   athens greece baghdad iraq
import { analogy, type AnalogyMethod } from './similarity.js';
import type { WordVectors } from './vectors.js';

export interface AnalogyQuestion {
  a: string;
  b: string;
  c: string;
  /** the expected answer */
  d: string;
  section?: string;
}

export interface AnalogyScore {
  questions: number;
  /** questions whose four words are all in the (restricted) vocabulary */
  covered: number;
  correct: number;
  /** correct / covered (0 when nothing is covered) */
  accuracy: number;
  bySection: Record<string, { covered: number; correct: number; accuracy: number }>;
}

/**
 * Parses questions-words.txt-style text; `name` prefixes errors: `NAME:LINE: expected four words, got 3`.
 * With `lowercase`, words are lower-cased (the original file is capitalized).
 */
export function parseAnalogyQuestions(text: string, name = 'questions', lowercase = false): AnalogyQuestion[] {
  const out: AnalogyQuestion[] = [];
  let section = '';
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    if (line.startsWith(':')) {
      section = line.slice(1).trim();
      return;
    }
    const w = line.split(/\s+/).map((x) => (lowercase ? x.toLowerCase() : x));
    if (w.length !== 4) throw new Error(`${name}:${i + 1}: expected four words, got ${w.length}`);
    out.push({ a: w[0], b: w[1], c: w[2], d: w[3], ...(section ? { section } : {}) });
  });
  return out;
}

export interface EvaluateAnalogyOptions {
  method?: AnalogyMethod;
  /** only the first N rows (the N most frequent words for word2vec output) take part; default all */
  restrict?: number;
}

/** scores a list of analogy questions (see the header) */
export function evaluateAnalogies(vectors: WordVectors, questions: readonly AnalogyQuestion[], opts: EvaluateAnalogyOptions = {}): AnalogyScore {
  const limit = Math.min(opts.restrict ?? vectors.size, vectors.size);
  const inVocab = (w: string): boolean => {
    const id = vectors.id(w);
    return id !== undefined && id < limit;
  };
  const score: AnalogyScore = { questions: questions.length, covered: 0, correct: 0, accuracy: 0, bySection: {} };
  for (const q of questions) {
    if (![q.a, q.b, q.c, q.d].every(inVocab)) continue;
    const sec = (score.bySection[q.section ?? ''] ??= { covered: 0, correct: 0, accuracy: 0 });
    score.covered++;
    sec.covered++;
    const best = analogy(vectors, q.a, q.b, q.c, 1, opts.method ?? '3cosadd', limit)[0];
    if (best?.word === q.d) (score.correct++, sec.correct++);
  }
  score.accuracy = score.covered ? score.correct / score.covered : 0;
  for (const s of Object.values(score.bySection)) s.accuracy = s.covered ? s.correct / s.covered : 0;
  return score;
}
