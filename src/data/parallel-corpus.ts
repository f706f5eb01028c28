// Parallel corpora for translation (src/models/seq2seq.ts): a built-in Chinese→English phrase grammar the
// project generates, and user pair files (TSV: source<TAB>target; JSONL: {"src": …, "tgt": …}) read with
// validation. Browser-safe (the caller reads the file).
//   builtinParallelCorpus().train   // ~4,800 pairs: {src: '我爱中国', tgt: 'I love China'}, …
//   parseParallelPairs('我爱中国\tI love China\n', 'pairs.tsv')
// The grammar: subject (+ 也/经常/每天, or 不) + verb + object, with English verb agreement (I love / he loves,
// I do not like / she does not like), adverb placement (he often reads books, I drink tea every day) and
// verb-specific objects (去 → go to Beijing, 看 → watch movies).
import { notValidJson } from './jsonl.js';

export interface ParallelPair {
  src: string;
  tgt: string;
  /** 1-based line in the file it came from (0 for built-in pairs) */
  line: number;
}

export interface ParallelCorpus {
  train: ParallelPair[];
  dev: ParallelPair[];
}

type Person = 'first' | 'third' | 'plural';
const SUBJECTS: [string, string, Person][] = [
  ['我', 'I', 'first'], ['你', 'you', 'first'], ['他', 'he', 'third'], ['她', 'she', 'third'], ['我们', 'we', 'plural'],
  ['你们', 'you', 'plural'], ['他们', 'they', 'plural'], ['她们', 'they', 'plural'], ['我的朋友', 'my friend', 'third'],
  ['老师', 'the teacher', 'third'], ['学生们', 'the students', 'plural'], ['我妈妈', 'my mother', 'third'],
  ['我爸爸', 'my father', 'third'], ['孩子们', 'the children', 'plural'],
];

const PLACES: [string, string][] = [
  ['中国', 'China'], ['北京', 'Beijing'], ['上海', 'Shanghai'], ['美国', 'America'], ['日本', 'Japan'], ['英国', 'England'],
];
const LIKED: [string, string][] = [
  ...PLACES, ['音乐', 'music'], ['书', 'books'], ['电影', 'movies'], ['猫', 'cats'], ['狗', 'dogs'], ['茶', 'tea'],
  ['咖啡', 'coffee'], ['运动', 'sports'], ['中文', 'Chinese'],
];
const DESTINATIONS: [string, string][] = [...PLACES, ['公园', 'the park'], ['商店', 'the store'], ['学校', 'school'], ['医院', 'the hospital']];

/** Chinese verb, English base form, third-person singular form, objects */
const VERBS: [string, string, string, [string, string][]][] = [
  ['爱', 'love', 'loves', LIKED],
  ['喜欢', 'like', 'likes', LIKED],
  ['看', 'watch', 'watches', [['电影', 'movies'], ['电视', 'TV'], ['比赛', 'the game'], ['新闻', 'the news']]],
  ['读', 'read', 'reads', [['书', 'books'], ['报纸', 'the newspaper'], ['小说', 'novels']]],
  ['去', 'go to', 'goes to', DESTINATIONS],
  ['想去', 'want to go to', 'wants to go to', DESTINATIONS],
  ['学习', 'study', 'studies', [['中文', 'Chinese'], ['英语', 'English'], ['数学', 'math'], ['历史', 'history'], ['音乐', 'music']]],
  ['吃', 'eat', 'eats', [['米饭', 'rice'], ['面条', 'noodles'], ['苹果', 'apples'], ['饺子', 'dumplings']]],
  ['喝', 'drink', 'drinks', [['茶', 'tea'], ['咖啡', 'coffee'], ['水', 'water'], ['牛奶', 'milk']]],
  ['买', 'buy', 'buys', [['书', 'books'], ['苹果', 'apples'], ['牛奶', 'milk'], ['花', 'flowers']]],
];

/** '' plain, or a modifier: Chinese word before the verb, English before the verb / after the object */
const MODIFIERS: [string, string, string][] = [['', '', ''], ['不', 'not', ''], ['也', 'also', ''], ['经常', 'often', ''], ['每天', '', 'every day']];

/** one English sentence of the grammar */
function english(subj: string, person: Person, base: string, third: string, obj: string, mod: [string, string, string]): string {
  const [zh, before, after] = mod;
  const verb = zh === '不' ? `${person === 'third' ? 'does' : 'do'} not ${base}` : `${before ? before + ' ' : ''}${person === 'third' ? third : base}`;
  const s = `${subj} ${verb} ${obj}${after ? ' ' + after : ''}`;
  return s[0].toUpperCase() + s.slice(1);
}

/** every sentence pair of the grammar, in a fixed order (14 subjects × 76 verb–object pairs × 5 modifiers) */
export function grammarPairs(): ParallelPair[] {
  const out: ParallelPair[] = [];
  for (const [zs, es, person] of SUBJECTS) {
    for (const [zv, base, third, objects] of VERBS) {
      for (const [zo, eo] of objects) {
        for (const mod of MODIFIERS) out.push({ src: `${zs}${mod[0]}${zv}${zo}`, tgt: english(es, person, base, third, eo, mod), line: 0 });
      }
    }
  }
  return out;
}

/** pairs that always stay in the training part (the README's examples) */
const KEEP_IN_TRAIN = new Set(['我爱中国', '他喜欢音乐']);

/**
 * The built-in corpus: the grammar's pairs shuffled with a fixed seed, `devFraction` of them held out (default
 * 10%), capped at `max` pairs in all when given. Deterministic.
 */
export function builtinParallelCorpus(devFraction = 0.1, max?: number): ParallelCorpus {
  let all = grammarPairs();
  let seed = 20240607;
  const rand = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  if (max !== undefined) all = all.slice(0, Math.max(1, max));
  const nDev = Math.floor(all.length * devFraction);
  const dev = all.filter((p) => !KEEP_IN_TRAIN.has(p.src)).slice(0, nDev);
  const devSet = new Set(dev);
  return { train: all.filter((p) => !devSet.has(p)), dev };
}

/**
 * Pairs of a TSV (source<TAB>target per line) or JSONL ({"src", "tgt"} — also "source"/"target") text;
 * JSONL when `file` ends in .jsonl or the first non-blank line starts with '{'. Blank lines are skipped (in TSV,
 * a blank line with a tab is a pair with both sides empty). Throws `FILE:LINE: problem` for a wrong column count,
 * an empty side (or both), bad JSON or a missing field.
 */
export function parseParallelPairs(text: string, file: string): ParallelPair[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const first = lines.find((l) => l.trim() !== '') ?? '';
  const jsonl = /\.jsonl$/i.test(file) || first.trimStart().startsWith('{');
  const out: ParallelPair[] = [];
  lines.forEach((raw, i) => {
    if (raw.trim() === '' && (jsonl || !raw.includes('\t'))) return;
    const where = `${file}:${i + 1}`;
    const [src, tgt] = jsonl ? jsonPair(raw, where) : tsvPair(raw, where);
    checkSides(src, tgt, where);
    out.push({ src: src.trim(), tgt: tgt.trim(), line: i + 1 });
  });
  if (!out.length) throw new Error(`${file}: no sentence pairs (expected source<TAB>target lines, or JSONL {"src": …, "tgt": …})`);
  return out;
}

/** throws `WHERE: empty … side(s)` when the source, the target or both are blank */
function checkSides(src: string, tgt: string, where: string): void {
  const noSrc = src.trim() === '', noTgt = tgt.trim() === '';
  if (noSrc && noTgt) throw new Error(`${where}: empty source and target sides`);
  if (noSrc) throw new Error(`${where}: empty source side`);
  if (noTgt) throw new Error(`${where}: empty target side`);
}

function tsvPair(line: string, where: string): [string, string] {
  const cols = line.split('\t');
  if (cols.length !== 2) throw new Error(`${where}: expected 2 tab-separated columns (source, target), got ${cols.length}`);
  return [cols[0], cols[1]];
}

/** a JSON value's kind as a message names it: a number, an array, null… */
function jsonTypeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function jsonPair(line: string, where: string): [string, string] {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch (e) {
    throw new Error(`${where}: ${notValidJson(e, line)}`);
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new Error(`${where}: expected an object {"src": …, "tgt": …}`);
  const r = o as Record<string, unknown>;
  const src = r.src ?? r.source, tgt = r.tgt ?? r.target;
  const check = (v: unknown, name: string, alt: string): void => {
    if (v === undefined) throw new Error(`${where}: missing text field "${name}" (or "${alt}")`);
    if (typeof v !== 'string') throw new Error(`${where}: field ${r[name] !== undefined ? name : alt}: expected a string, got ${jsonTypeName(v)}`);
  };
  check(src, 'src', 'source');
  check(tgt, 'tgt', 'target');
  return [src as string, tgt as string];
}

/** 'char' when most non-space characters of the texts are CJK ideographs (Chinese is read by character), else 'word' */
export function guessLevel(texts: readonly string[]): 'char' | 'word' {
  let cjk = 0, other = 0;
  for (const t of texts) for (const ch of t) if (/\p{Script=Han}/u.test(ch)) cjk++; else if (!/\s/.test(ch)) other++;
  return cjk > other ? 'char' : 'word';
}
