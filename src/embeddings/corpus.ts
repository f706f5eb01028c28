// A generated corpus with known structure, for trying word vectors without a download: sentences about
// sixteen countries — each with its capital, language, a second city, a dish and a continent — built from
// templates, plus generic filler sentences. Words in the same role (capitals, languages, …) share their
// template contexts, words of the same country share their topic, so a few epochs of word2vec or PPMI+SVD
// learn vectors where paris − france + italy ≈ rome. Lower case, one sentence per line, a pure function of
// the seed; `builtinAnalogies()` lists the analogy questions the structure implies.
//
// Example lines: "rome is the capital of italy", "in osaka we ate sushi", "people in poland speak polish".
import { Rng } from '../tensor/rng.js';
import type { AnalogyQuestion } from './analogy-eval.js';

export interface Country {
  country: string;
  capital: string;
  language: string;
  city: string;
  dish: string;
  continent: string;
}

export const COUNTRIES: readonly Country[] = [
  ['france', 'paris', 'french', 'lyon', 'croissants', 'europe'],
  ['italy', 'rome', 'italian', 'milan', 'pizza', 'europe'],
  ['germany', 'berlin', 'german', 'munich', 'bratwurst', 'europe'],
  ['spain', 'madrid', 'spanish', 'seville', 'paella', 'europe'],
  ['portugal', 'lisbon', 'portuguese', 'porto', 'bacalhau', 'europe'],
  ['russia', 'moscow', 'russian', 'kazan', 'borscht', 'europe'],
  ['japan', 'tokyo', 'japanese', 'osaka', 'sushi', 'asia'],
  ['china', 'beijing', 'chinese', 'shanghai', 'dumplings', 'asia'],
  ['greece', 'athens', 'greek', 'patras', 'moussaka', 'europe'],
  ['poland', 'warsaw', 'polish', 'krakow', 'pierogi', 'europe'],
  ['sweden', 'stockholm', 'swedish', 'malmo', 'meatballs', 'europe'],
  ['netherlands', 'amsterdam', 'dutch', 'utrecht', 'stroopwafels', 'europe'],
  ['hungary', 'budapest', 'hungarian', 'debrecen', 'goulash', 'europe'],
  ['finland', 'helsinki', 'finnish', 'tampere', 'salmiakki', 'europe'],
  ['turkey', 'ankara', 'turkish', 'izmir', 'kebab', 'asia'],
  ['korea', 'seoul', 'korean', 'busan', 'kimchi', 'asia'],
].map(([country, capital, language, city, dish, continent]) => ({ country, capital, language, city, dish, continent }));

/** sentence templates; {country}, {capital}, {language}, {city}, {dish}, {continent} are filled from one country */
const TEMPLATES = [
  '{capital} is the capital of {country}',
  'the capital of {country} is {capital}',
  'the government of {country} meets in {capital}',
  'the president of {country} lives in {capital}',
  '{capital} is a big capital city with many museums',
  'people in {country} speak {language}',
  'most people in {country} speak {language} at home',
  '{language} is the language of {country}',
  'in {capital} people speak {language}',
  'she moved to {capital} to learn {language}',
  'the newspapers of {capital} are written in {language}',
  '{city} is a town in {country}',
  'we took the train from {capital} to {city}',
  'in {city} we ate {dish}',
  '{dish} is a famous dish from {country}',
  'he cooked {dish} like they do in {city}',
  '{country} is a country in {continent}',
  'we spent the summer travelling across {country}',
];

const FILLERS = [
  'the weather was nice and we walked to the old market',
  'my friend bought a new bicycle last week',
  'the children played in the garden until dinner',
  'it rained all day so we stayed inside and read books',
  'the museum opens at nine in the morning',
  'we missed the last bus and walked home',
];

export interface EmbeddingCorpusOptions {
  /** number of sentences (default 4000) */
  sentences?: number;
  /** share of filler sentences (default 0.1) */
  fillerShare?: number;
  seed?: number;
}

/** the corpus text: `sentences` lines, each a template filled for a random country or a filler */
export function embeddingCorpus(opts: EmbeddingCorpusOptions = {}): string {
  const n = opts.sentences ?? 4000;
  const filler = opts.fillerShare ?? 0.1;
  if (!Number.isInteger(n) || n < 0) throw new Error(`embeddingCorpus: sentences must be a whole number ≥ 0, got ${n}`);
  const rng = new Rng(opts.seed ?? 1);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    if (rng.random() < filler) {
      lines.push(FILLERS[rng.int(FILLERS.length)]);
      continue;
    }
    const c = COUNTRIES[rng.int(COUNTRIES.length)];
    const t = TEMPLATES[rng.int(TEMPLATES.length)];
    lines.push(t.replace(/\{(\w+)\}/g, (_, k: string) => c[k as keyof Country]));
  }
  return lines.join('\n') + (n ? '\n' : '');
}

/**
 * Analogy questions the corpus supports, in sections capital-country (france paris italy rome), country-
 * language (france french italy italian) and capital-language (paris french rome italian): every ordered
 * pair of different countries, 240 questions per section.
 */
export function builtinAnalogies(): AnalogyQuestion[] {
  const out: AnalogyQuestion[] = [];
  const sections: [string, keyof Country, keyof Country][] = [
    ['capital-country', 'country', 'capital'],
    ['country-language', 'country', 'language'],
    ['capital-language', 'capital', 'language'],
  ];
  for (const [section, x, y] of sections) {
    for (const p of COUNTRIES) for (const q of COUNTRIES) if (p !== q) out.push({ a: p[x], b: p[y], c: q[x], d: q[y], section });
  }
  return out;
}
