// Sequence-tagging data: JSONL files of pre-split tokens with one tag each, encoding for BERT token
// classification (each token's WordPiece pieces; its tag on the first piece, −100 on the rest and on [CLS] /
// [SEP], as transformers' token-classification examples align labels), and a built-in character-tagging task
// the project generates, like the notes' 中国的首都是北京: every character tagged B (begins a place name), I
// (inside one), E (ends it) or O (other). Errors name file:line and the field. Browser-safe.
import { notValidJson } from './jsonl.js';
import { Rng } from '../tensor/rng.js';
import type { WordPieceTokenizer } from '../tokenizers/wordpiece.js';
import { MLM_IGNORE } from './mlm-masking.js';

export interface TaggedSentence {
  tokens: string[];
  tags: string[];
  /** 1-based line in its file (0 for generated data) */
  line: number;
}

function stringArray(v: unknown, field: string, where: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`${where}: field "${field}" must be an array of strings`);
  return v as string[];
}

/** prefix letters a tag may carry: IOB/BIO (B, I), IOE (E), IOBES (S), BILOU (L, U) */
const TAG_PREFIXES = 'BIESLU';

/**
 * Why `tag` is not a tagging-scheme tag, or null when it is: `O`, a prefix letter alone (the notes'
 * begin/inside/end/other character tagging: B, I, E, O), or `<PREFIX>-<TYPE>` with a prefix of BIO, IOBES or
 * BILOU (B-PER, I-LOC, E-ORG, S-MISC, L-X, U-X) and a non-empty type.
 */
export function tagSchemeError(tag: string): string | null {
  if (tag === 'O' || (tag.length === 1 && TAG_PREFIXES.includes(tag))) return null;
  const k = tag.indexOf('-');
  if (k === 1 && TAG_PREFIXES.includes(tag[0]) && tag.length > 2) return null;
  return `tag ${JSON.stringify(tag)} is not O or <PREFIX>-<TYPE> with a prefix B, I, E, S, L or U (like B-PER, I-PER, O)`;
}

/**
 * Parses JSONL, one {"tokens": [...], "tags": [...]} object a line (blank lines skipped). With `requireTags`
 * false a record may omit "tags" (prediction input). Throws `file:line: …` for invalid JSON, a missing or
 * mistyped field, an empty token list or an empty token, tags whose count differs from the tokens', or a tag
 * outside the tagging schemes (see tagSchemeError).
 */
export function parseTaggingData(content: string, file: string, requireTags = true): TaggedSentence[] {
  const out: TaggedSentence[] = [];
  content.split(/\r?\n/).forEach((raw, i) => {
    const where = `${file}:${i + 1}`;
    if (raw.trim() === '') return;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(raw);
    } catch (e) {
      throw new Error(`${where}: ${notValidJson(e, raw)}`);
    }
    if (!rec || typeof rec !== 'object' || Array.isArray(rec)) throw new Error(`${where}: a record must be an object {"tokens": [...], "tags": [...]}`);
    const tokens = stringArray(rec.tokens, 'tokens', where);
    if (!tokens.length) throw new Error(`${where}: field "tokens" is empty`);
    const bad = tokens.findIndex((t) => t.trim() === '');
    if (bad >= 0) throw new Error(`${where}: field "tokens": token ${bad} is empty`);
    const tags = rec.tags === undefined && !requireTags ? [] : stringArray(rec.tags, 'tags', where);
    if (tags.length && tags.length !== tokens.length) throw new Error(`${where}: ${tags.length} tags for ${tokens.length} tokens`);
    if (tags.some((t) => t.trim() === '')) throw new Error(`${where}: field "tags" holds an empty tag`);
    for (const t of tags) {
      const bad = tagSchemeError(t);
      if (bad) throw new Error(`${where}: ${bad}`);
    }
    out.push({ tokens, tags, line: i + 1 });
  });
  if (!out.length) throw new Error(`${file}: no sentences`);
  return out;
}

/** sorted distinct tags, 'O' first when present; throws for fewer than 2 */
export function tagSet(sents: readonly TaggedSentence[], file: string): string[] {
  const tags = [...new Set(sents.flatMap((s) => s.tags))].sort((a, b) => (a === 'O' ? -1 : b === 'O' ? 1 : a < b ? -1 : a > b ? 1 : 0));
  if (tags.length < 2) throw new Error(`${file}: needs at least 2 tags, found ${tags.length} (${tags.join(', ')})`);
  return tags;
}

export interface EncodedTagging {
  /** [CLS] pieces of every token [SEP] */
  ids: number[];
  /** tag index at each token's first piece, −100 elsewhere */
  labels: number[];
  /** position in `ids` of each token's first piece, −1 for a token without pieces or cut off by maxLen */
  first: number[];
}

/**
 * Encodes one sentence for token classification; `tagIndex` maps a tag to its class (unknown tags throw
 * `file:line: tag "x" is not in the tag set`). Sentences longer than maxLen pieces are cut (their last tokens
 * get no prediction: `first` −1).
 */
export function encodeTagged(s: TaggedSentence, tok: WordPieceTokenizer, tagIndex: ReadonlyMap<string, number> | null, maxLen: number, file = 'data'): EncodedTagging {
  const cls = tok.tokenToId('[CLS]'), sep = tok.tokenToId('[SEP]');
  if (cls === undefined || sep === undefined) throw new Error('tagging: the WordPiece vocabulary has no [CLS]/[SEP]');
  const ids = [cls], labels = [MLM_IGNORE], first: number[] = [];
  s.tokens.forEach((t, i) => {
    const pieces = tok.tokenize(t).map((p) => tok.tokenToId(p)!);
    let k = -1;
    if (tagIndex && s.tags.length) {
      k = tagIndex.get(s.tags[i]) ?? -1;
      if (k < 0) throw new Error(`${file}:${s.line}: tag ${JSON.stringify(s.tags[i])} is not in the tag set (${[...tagIndex.keys()].join(', ')})`);
    }
    if (!pieces.length || ids.length + pieces.length > maxLen - 1) return void first.push(-1);
    first.push(ids.length);
    pieces.forEach((p, j) => (ids.push(p), labels.push(j === 0 ? k : MLM_IGNORE)));
  });
  ids.push(sep);
  labels.push(MLM_IGNORE);
  return { ids, labels, first };
}

const COUNTRIES: [string, string][] = [
  ['中国', '北京'], ['日本', '东京'], ['法国', '巴黎'], ['英国', '伦敦'], ['德国', '柏林'], ['意大利', '罗马'], ['俄罗斯', '莫斯科'],
  ['美国', '华盛顿'], ['韩国', '首尔'], ['埃及', '开罗'], ['印度', '新德里'], ['泰国', '曼谷'], ['越南', '河内'], ['巴西', '巴西利亚'],
  ['西班牙', '马德里'], ['希腊', '雅典'], ['加拿大', '渥太华'], ['澳大利亚', '堪培拉'], ['荷兰', '阿姆斯特丹'], ['瑞典', '斯德哥尔摩'],
];
const TEMPLATES = ['{c}的首都是{k}', '{k}是{c}的首都', '我去过{k}', '{c}的首都在哪里', '{k}在{c}', '我想去{c}看看', '{c}和{k}都很美', '他住在{k}'];

/** B I… E over a name's characters (a one-character name is B) */
function nameTags(name: string): string[] {
  const n = [...name].length;
  return [...name].map((_, i) => (i === 0 ? 'B' : i === n - 1 ? 'E' : 'I'));
}

/**
 * The built-in character-tagging task: sentences like 中国的首都是北京 from templates over 20 countries and
 * their capitals, one token per character, place names tagged B/I/E and the rest O; 80/20 train/dev by seed.
 */
export function builtinTaggingTask(n = 500, seed = 11): { train: TaggedSentence[]; dev: TaggedSentence[]; tags: string[] } {
  const rng = new Rng(seed);
  const make = (): TaggedSentence => {
    const [c, k] = COUNTRIES[rng.int(COUNTRIES.length)];
    const tpl = TEMPLATES[rng.int(TEMPLATES.length)];
    const tokens: string[] = [], tags: string[] = [];
    for (const part of tpl.split(/(\{[ck]\})/)) {
      if (part === '{c}' || part === '{k}') {
        const name = part === '{c}' ? c : k;
        tokens.push(...name);
        tags.push(...nameTags(name));
      } else for (const ch of part) (tokens.push(ch), tags.push('O'));
    }
    return { tokens, tags, line: 0 };
  };
  const nTrain = Math.floor(n * 0.8);
  const train = Array.from({ length: nTrain }, make);
  const dev = Array.from({ length: n - nTrain }, make);
  return { train, dev, tags: ['O', 'B', 'E', 'I'] };
}
