// sacreBLEU-compatible corpus BLEU (Papineni et al. 2002; Post 2018, "A Call for Clarity in Reporting BLEU
// Scores"): the numbers of `sacrebleu.corpus_bleu(hypotheses, references)` with its defaults — the '13a'
// tokenizer (mteval-v13a), case-sensitive, 'exp' smoothing (Chen & Cherry 2014 method 3), n-grams up to 4,
// score in [0, 100]. src/eval/metrics.ts's `bleu` is the textbook form over pre-tokenised text (no smoothing,
// [0, 1]); this one takes raw strings, as translation systems are scored (test/bleu.test.ts checks it
// against sacreBLEU 2.6 to 1e-6 on the cases of scripts/fixtures/make_bleu_fixture.py).
//   corpusBleu(['the cat is on the mat'], [['the cat sat on the mat']]).score  // ≈ 48.9 (as sacreBLEU)

/** sacreBLEU's BLEUScore fields */
export interface CorpusBleu {
  /** BLEU in [0, 100] */
  score: number;
  /** matched n-grams per order 1…4 */
  counts: number[];
  /** hypothesis n-grams per order 1…4 */
  totals: number[];
  /** smoothed precisions per order in [0, 100] */
  precisions: number[];
  /** brevity penalty */
  bp: number;
  /** total hypothesis length in tokens */
  sysLen: number;
  /** total closest-reference length (ties: the shorter) */
  refLen: number;
}

const POST_RULES: [RegExp, string][] = [
  // language-dependent part (Western languages): most ASCII punctuation and symbols become tokens
  [/([\{-\~\[-\` -\&\(-\+\:-\@\/])/g, ' $1 '],
  // period and comma unless preceded by a digit
  [/([^0-9])([\.,])/g, '$1 $2 '],
  // period and comma unless followed by a digit
  [/([\.,])([^0-9])/g, ' $1 $2'],
  // dash when preceded by a digit
  [/([0-9])(-)/g, '$1 $2 '],
];

/**
 * sacreBLEU's '13a' tokenizer (mteval-v13a.pl): drops `<skipped>`, joins `-\n`, unescapes &quot; &amp; &lt;
 * &gt;, splits punctuation off, squeezes spaces. `tokenize13a("Hello, world!")` → `"Hello , world !"`.
 */
export function tokenize13a(line: string): string {
  let s = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (s.includes('&')) s = s.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  s = ` ${s} `;
  for (const [re, rep] of POST_RULES) s = s.replace(re, rep);
  return splitWords(s).join(' ');
}

/** Python's str.split(): runs of whitespace separate, no empty pieces */
function splitWords(s: string): string[] {
  return s.split(/\s+/).filter((w) => w.length > 0);
}

/** n-gram counts of orders 1…maxN, keyed "n\u0001w1\u0001w2…" */
function ngrams(words: readonly string[], maxN: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let n = 1; n <= maxN; n++) {
    for (let i = 0; i + n <= words.length; i++) {
      const k = `${n}\u0001${words.slice(i, i + n).join('\u0001')}`;
      m.set(k, (m.get(k) ?? 0) + 1);
    }
  }
  return m;
}

/** the reference length closest to hypLen, the shorter on ties (sacreBLEU's _get_closest_ref_len) */
function closestRefLen(hypLen: number, refLens: readonly number[]): number {
  let bestDiff = -1, best = -1;
  for (const r of refLens) {
    const d = Math.abs(hypLen - r);
    if (bestDiff === -1 || d < bestDiff) (bestDiff = d), (best = r);
    else if (d === bestDiff && r < best) best = r;
  }
  return best;
}

/**
 * Corpus BLEU as `sacrebleu.corpus_bleu(hypotheses, references)`. `references` are reference streams, as
 * sacreBLEU takes them: references[k][i] is the k-th reference of hypothesis i. Throws when a stream's length
 * differs from the hypotheses' or there is no stream.
 */
export function corpusBleu(hypotheses: readonly string[], references: readonly (readonly string[])[], maxN = 4): CorpusBleu {
  if (references.length === 0) throw new Error('corpusBleu: no reference stream');
  references.forEach((s, k) => {
    if (s.length !== hypotheses.length) throw new Error(`corpusBleu: reference stream ${k} has ${s.length} lines for ${hypotheses.length} hypotheses`);
  });
  const counts = new Array<number>(maxN).fill(0), totals = new Array<number>(maxN).fill(0);
  let sysLen = 0, refLen = 0;
  const prep = (s: string): string[] => splitWords(tokenize13a(s.trimEnd()));
  hypotheses.forEach((h, i) => {
    const refNgrams = new Map<string, number>(), refLens: number[] = [];
    for (const stream of references) {
      const words = prep(stream[i]);
      refLens.push(words.length);
      for (const [g, c] of ngrams(words, maxN)) if (c > (refNgrams.get(g) ?? 0)) refNgrams.set(g, c);
    }
    const hw = prep(h);
    sysLen += hw.length;
    refLen += closestRefLen(hw.length, refLens);
    for (const [g, c] of ngrams(hw, maxN)) {
      const n = Number(g.slice(0, g.indexOf('\u0001'))) - 1;
      totals[n] += c;
      counts[n] += Math.min(c, refNgrams.get(g) ?? 0);
    }
  });
  return bleuFromStats(counts, totals, sysLen, refLen);
}

/** sacreBLEU's compute_bleu with smooth_method 'exp' (no effective order) */
export function bleuFromStats(counts: readonly number[], totals: readonly number[], sysLen: number, refLen: number): CorpusBleu {
  const maxN = counts.length;
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(maxN).fill(0);
  const base = { counts: counts.slice(), totals: totals.slice(), precisions, bp, sysLen, refLen };
  if (!counts.some((c) => c > 0)) return { score: 0, ...base };
  let smooth = 1;
  for (let n = 0; n < maxN; n++) {
    if (totals[n] === 0) break;
    if (counts[n] === 0) {
      smooth *= 2;
      precisions[n] = 100 / (smooth * totals[n]);
    } else precisions[n] = (100 * counts[n]) / totals[n];
  }
  // sacreBLEU's my_log: log(0) is −9999999999, which makes the score 0
  const logSum = precisions.reduce((s, p) => s + (p === 0 ? -9999999999 : Math.log(p)), 0);
  return { score: bp * Math.exp(logSum / maxN), ...base };
}
