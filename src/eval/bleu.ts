// sacreBLEU-compatible corpus BLEU (Papineni et al. 2002; Post 2018, "A Call for Clarity in Reporting BLEU
// Scores"): the numbers of `sacrebleu.corpus_bleu(hypotheses, references, tokenize=…)` — by default its '13a'
// tokenizer (mteval-v13a), and 'zh' (Chinese: each CJK character a token), 'char' or 'none' when asked;
// case-sensitive, 'exp' smoothing (Chen & Cherry 2014 method 3), n-grams up to 4, score in [0, 100].
// src/eval/metrics.ts's `bleu` is the textbook form over pre-tokenised text (no smoothing, [0, 1]); this one
// takes raw strings, as translation systems are scored (test/bleu.test.ts checks it against sacreBLEU 2.6 to
// 1e-6 on the cases of scripts/fixtures/make_bleu_fixture.py).
//   corpusBleu(['the cat is on the mat'], [['the cat sat on the mat']]).score  // ≈ 48.9 (as sacreBLEU)
//   corpusBleu(['我爱中国'], [['我爱中国']], { tokenize: 'zh' }).score           // 100 (13a: 0, one token)

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
  return pySplit(applyPostRules(` ${s} `)).join(' ');
}

/** sacreBLEU's TokenizerRegexp rules (shared by '13a' and 'zh'), before the whitespace is squeezed */
function applyPostRules(s: string): string {
  for (const [re, rep] of POST_RULES) s = s.replace(re, rep);
  return s;
}

/** the characters Python's str.isspace() (so str.split() and str.strip()) takes for whitespace */
const PY_SPACE = String.raw`\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`;
const PY_SPACE_RUN = new RegExp(`[${PY_SPACE}]+`);
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');
const PY_RSTRIP = new RegExp(`[${PY_SPACE}]+$`);

/** Python's str.split(): runs of Python whitespace separate, no empty pieces (U+FEFF stays in a word) */
function pySplit(s: string): string[] {
  return s.split(PY_SPACE_RUN).filter((w) => w.length > 0);
}

/**
 * The code points sacreBLEU's 'zh' tokenizer splits off as one-character tokens, as it actually selects them
 * (sacrebleu/tokenizers/tokenizer_zh.py, `_UCODE_RANGES` tested by `start <= char <= end` on Python strings).
 * Its list names CJK Unified Ideographs and Extension A, CJK Compatibility Ideographs, CJK Radicals, Kangxi
 * Radicals, ideographic description characters, CJK punctuation (U+3000–303F), strokes, Bopomofo, enclosed
 * CJK letters, CJK compatibility, vertical and small form variants, halfwidth and fullwidth forms (U+FF00–FFEF:
 * fullwidth ，！？ and ASCII), miscellaneous symbols (U+2600–26FF) and dingbats. Two of its entries, written
 * '\u20000'–'\u2a6d6' and '\u2f800'–'\u2fa1d' for Extension B and the Compatibility Supplement, are
 * four-digit escapes followed by a character, so as string bounds they select U+2001–U+2A6D (general
 * punctuation ‐ – — ‘ ’ “ ” … ‰, currency € ₹, letterlike ℃ ™, arrows, mathematical operators, enclosed ①,
 * box drawing…) and U+2F81–U+2FA1, and no character beyond U+FFFF. sacreBLEU scores that way, so this does too:
 * the ranges below are its behaviour (test/bleu.test.ts compares them with the fixture's enumeration of
 * sacreBLEU's own test over every code point), merged and sorted.
 */
const ZH_RANGES: readonly (readonly [number, number])[] = [
  [0x2001, 0x2a6d], [0x2e80, 0x2fdf], [0x2ff0, 0x303f], [0x3100, 0x312f], [0x31a0, 0x31ef], [0x3200, 0x4db5],
  [0x4e00, 0x9fbb], [0xf900, 0xfa2d], [0xfa30, 0xfa6a], [0xfa70, 0xfad9], [0xfe10, 0xfe1f], [0xfe30, 0xfe4f],
  [0xff00, 0xffef],
];

/** whether sacreBLEU's 'zh' tokenizer makes the code point `cp` a token of its own (see ZH_RANGES) */
export function isZhTokenizerChar(cp: number): boolean {
  for (const [lo, hi] of ZH_RANGES) if (cp >= lo && cp <= hi) return true;
  return false;
}

/**
 * sacreBLEU's 'zh' tokenizer (`sacrebleu --tokenize zh`, sacrebleu/tokenizers/tokenizer_zh.py, after Shujian
 * Huang's): strips the line, puts a space on each side of every Chinese character (isZhTokenizerChar: CJK
 * ideographs, CJK and fullwidth punctuation, and the other ranges there), then applies the regular-expression
 * rules of '13a' to the whole (ASCII punctuation split off, period and comma except inside numbers) and
 * squeezes the spaces. Unlike '13a' it neither unescapes &amp; &quot; &lt; &gt; nor drops `<skipped>`, and the
 * line is not padded with spaces (so a final '3.' stays one token). Unsegmented and segmented Chinese give the
 * same tokens: `tokenizeZh("我爱中国。I love it!")` → `"我 爱 中 国 。 I love it !"`.
 */
export function tokenizeZh(line: string): string {
  let s = '';
  for (const ch of line.replace(PY_STRIP, '')) s += isZhTokenizerChar(ch.codePointAt(0)!) ? ` ${ch} ` : ch;
  return pySplit(applyPostRules(s)).join(' ');
}

/** sacreBLEU's 'char' tokenizer: every character (code point) a token, spaces dropped */
export function tokenizeChar(line: string): string {
  return [...line].join(' ');
}

/** sacreBLEU's tokenizers that this module has: '13a' (its default), 'zh', 'char', 'none' (split on whitespace only) */
export type BleuTokenize = '13a' | 'zh' | 'char' | 'none';

/** the tokenizer functions by sacreBLEU name */
export const BLEU_TOKENIZERS: Readonly<Record<BleuTokenize, (line: string) => string>> = {
  '13a': tokenize13a,
  zh: tokenizeZh,
  char: tokenizeChar,
  none: (line) => line,
};

/** a Han character (Unicode Script=Han: CJK ideographs of every block, 〇 々, radicals) */
const HAN = /\p{Script=Han}/u;

/**
 * The tokenizer to score a translation into these references with, as sacreBLEU would choose it for the target
 * language (`-l xx-zh` selects 'zh'): 'zh' when any reference line holds a Han character (Unicode Script=Han,
 * so Chinese, and Japanese kanji), else '13a', sacreBLEU's default. Chinese is written without spaces, so under
 * '13a' an unsegmented sentence is one token with no 2- to 4-grams: a set of them scores 0 even when every
 * translation equals its reference.
 * References without Han characters (English, …) keep '13a' and their numbers. Give every reference line
 * (all streams).
 */
export function autoBleuTokenize(references: readonly string[]): BleuTokenize {
  return references.some((r) => HAN.test(r)) ? 'zh' : '13a';
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

export interface CorpusBleuOptions {
  /** sacreBLEU's `tokenize` (default '13a'; autoBleuTokenize picks 'zh' for Chinese references) */
  tokenize?: BleuTokenize;
  /** highest n-gram order (default 4) */
  maxN?: number;
}

/**
 * Corpus BLEU as `sacrebleu.corpus_bleu(hypotheses, references, tokenize=options.tokenize)`. `references` are
 * reference streams, as sacreBLEU takes them: references[k][i] is the k-th reference of hypothesis i. A number
 * for `options` is maxN (as before the options). Throws when a stream's length differs from the hypotheses' or
 * there is no stream.
 */
export function corpusBleu(hypotheses: readonly string[], references: readonly (readonly string[])[], options: CorpusBleuOptions | number = {}): CorpusBleu {
  const { tokenize = '13a', maxN = 4 } = typeof options === 'number' ? { maxN: options } : options;
  const tok = BLEU_TOKENIZERS[tokenize];
  if (!tok) throw new Error(`corpusBleu: unknown tokenize ${JSON.stringify(tokenize)} (one of ${Object.keys(BLEU_TOKENIZERS).join(', ')})`);
  if (references.length === 0) throw new Error('corpusBleu: no reference stream');
  references.forEach((s, k) => {
    if (s.length !== hypotheses.length) throw new Error(`corpusBleu: reference stream ${k} has ${s.length} lines for ${hypotheses.length} hypotheses`);
  });
  const counts = new Array<number>(maxN).fill(0), totals = new Array<number>(maxN).fill(0);
  let sysLen = 0, refLen = 0;
  // sacreBLEU: tokenizer(line.rstrip()).split(), with Python's whitespace (U+FEFF is no space there)
  const prep = (s: string): string[] => pySplit(tok(s.replace(PY_RSTRIP, '')));
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
