// Sentence-classification data: reading CSV or JSONL files of (text, label), the label set, encoding for BERT
// ([CLS] text [SEP], right-padded batches with an attention mask), and a built-in task the project generates
// (short sentences about four topics) so that `gptlab classify` runs with no user data. Errors name
// file:line and the field. Browser-safe (files are read by the caller).
import { notValidJson } from './jsonl.js';
import { Rng } from '../tensor/rng.js';
import type { WordPieceTokenizer } from '../tokenizers/wordpiece.js';
import { maxOf } from '../tensor/max-of.js';

export interface LabeledText {
  text: string;
  label: string;
  /** 1-based line in its file (0 for generated data) */
  line: number;
}

/** One CSV record's fields (RFC 4180: quoted fields, "" for a quote inside); throws on an unclosed quote. */
export function parseCsvLine(line: string, where: string): string[] {
  const out: string[] = [];
  let cur = '', i = 0, quoted = false;
  while (i < line.length) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), (i += 2);
      else if (ch === '"') (quoted = false), i++;
      else (cur += ch), i++;
    } else if (ch === '"' && cur === '') (quoted = true), i++;
    else if (ch === ',') (out.push(cur), (cur = ''), i++);
    else (cur += ch), i++;
  }
  if (quoted) throw new Error(`${where}: unclosed quote (quoted fields cannot span lines)`);
  out.push(cur);
  return out;
}

/** one JSONL record {"text": …, "label": …} */
function jsonlRecord(line: string, where: string): { text: unknown; label: unknown } {
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch (e) {
    throw new Error(`${where}: ${notValidJson(e, line)}`);
  }
  if (!rec || typeof rec !== 'object' || Array.isArray(rec)) throw new Error(`${where}: a record must be an object {"text": …, "label": …}`);
  return rec as { text: unknown; label: unknown };
}

/** column names read as a CSV header: the text column's and the label column's (compared lower-cased) */
export const TEXT_COLUMNS = ['text', 'sentence', 'content', 'review', 'document', 'input'];
export const LABEL_COLUMNS = ['label', 'category', 'class', 'target', 'output'];

/**
 * The column order a CSV header row gives: 'text-label' or 'label-text' when its fields name a text column
 * (TEXT_COLUMNS) and a label column (LABEL_COLUMNS) in either order — or a text column alone — else null
 * (a data row).
 */
export function csvHeaderOrder(fields: readonly string[]): 'text-label' | 'label-text' | null {
  const f = fields.map((x) => x.trim().toLowerCase());
  const isText = (x: string | undefined) => x !== undefined && TEXT_COLUMNS.includes(x);
  const isLabel = (x: string | undefined) => x !== undefined && LABEL_COLUMNS.includes(x);
  if (f.length === 1) return isText(f[0]) ? 'text-label' : null;
  if (isText(f[0]) && isLabel(f[1])) return 'text-label';
  if (isLabel(f[0]) && isText(f[1])) return 'label-text';
  return null;
}

/**
 * Parses (text, label) examples: JSONL (one {"text", "label"} object a line; a number label is taken as its
 * text) when `file` ends in .jsonl/.json or the first line starts with `{`, else CSV with exactly two fields a
 * row. A first CSV row naming a text and a label column (text/sentence/content/review/document/input and
 * label/category/class/target/output, either order, any case) is a header: the columns are read in its order.
 * Blank lines are skipped; quoted fields cannot span lines. With `requireLabel` false (prediction input) a CSV
 * row may be the text alone and a JSONL record may omit "label" (label ''). Throws `file:line: …` for a row of
 * the wrong width, a missing or non-string field, or an empty text or label.
 */
export function parseClassificationData(content: string, file: string, requireLabel = true): LabeledText[] {
  const lines = content.split(/\r?\n/);
  const firstLine = lines.find((l) => l.trim() !== '') ?? '';
  const jsonl = /\.jsonl?$/i.test(file) || firstLine.trimStart().startsWith('{');
  const out: LabeledText[] = [];
  let order: 'text-label' | 'label-text' = 'text-label';
  lines.forEach((raw, i) => {
    const where = `${file}:${i + 1}`;
    if (raw.trim() === '') return;
    let text: unknown, label: unknown;
    if (jsonl) ({ text, label } = jsonlRecord(raw, where));
    else {
      const f = parseCsvLine(raw, where);
      const header = i === lines.indexOf(firstLine) ? csvHeaderOrder(f) : null;
      if (header) return void (order = header);
      if (f.length !== 2 && !(f.length === 1 && !requireLabel)) throw new Error(`${where}: expected 2 fields (${order.replace('-', ',')}), got ${f.length}`);
      [text, label] = order === 'label-text' && f.length === 2 ? [f[1], f[0]] : f;
    }
    if (text === undefined) throw new Error(`${where}: field "text" is missing`);
    if (label === undefined && !requireLabel) label = '';
    else if (label === undefined) throw new Error(`${where}: field "label" is missing`);
    else if (typeof label === 'string' && label.trim() === '') throw new Error(`${where}: field "label" is empty`);
    if (typeof label === 'number') label = String(label);
    if (typeof text !== 'string') throw new Error(`${where}: field "text" must be a string, got ${JSON.stringify(text)}`);
    if (typeof label !== 'string') throw new Error(`${where}: field "label" must be a string, got ${JSON.stringify(label)}`);
    if (text.trim() === '') throw new Error(`${where}: field "text" is empty`);
    out.push({ text, label: label.trim(), line: i + 1 });
  });
  if (!out.length) throw new Error(`${file}: no examples`);
  return out;
}

/** the sorted distinct labels of `examples`; throws when there are fewer than 2 classes */
export function labelSet(examples: readonly { label: string }[], file: string): string[] {
  const labels = [...new Set(examples.map((e) => e.label))].sort();
  if (labels.length < 2) throw new Error(`${file}: needs at least 2 classes, found ${labels.length} (${labels.join(', ')})`);
  return labels;
}

/**
 * Each example's index in `labels`. Throws `file:line: label "x" is not in the label set (…)` for an unknown
 * label, and names a class with no example when `requireAll` (training data must have every class).
 */
export function labelIndices(examples: readonly LabeledText[], labels: readonly string[], file: string, requireAll = false): Int32Array {
  const index = new Map(labels.map((l, i) => [l, i]));
  const out = Int32Array.from(examples, (e) => {
    const k = index.get(e.label);
    if (k === undefined) throw new Error(`${file}:${e.line}: label ${JSON.stringify(e.label)} is not in the label set (${labels.join(', ')})`);
    return k;
  });
  if (requireAll) {
    const seen = new Set(out);
    const empty = labels.filter((_, k) => !seen.has(k));
    if (empty.length) throw new Error(`${file}: class ${empty.map((l) => JSON.stringify(l)).join(', ')} has no examples`);
  }
  return out;
}

export interface EncodedText {
  /** [CLS] pieces [SEP], cut to maxLen (the last kept piece replaced by [SEP]) */
  ids: number[];
  label: number;
}

/** [CLS] text [SEP] ids cut to maxLen, with their label indices */
export function encodeTexts(examples: readonly LabeledText[], labels: Int32Array, tok: WordPieceTokenizer, maxLen: number): EncodedText[] {
  return examples.map((e, i) => {
    let ids = tok.encodeForBert(e.text);
    if (ids.length > maxLen) ids = [...ids.slice(0, maxLen - 1), ids[ids.length - 1]];
    return { ids, label: labels[i] };
  });
}

/** right-padded (B, T) ids and attention mask of rows of different lengths */
export function padBatch(rows: readonly (readonly number[])[], padId: number): { ids: Int32Array; mask: Uint8Array; B: number; T: number } {
  const B = rows.length, T = maxOf(rows.map((r) => r.length));
  const ids = new Int32Array(B * T).fill(padId), mask = new Uint8Array(B * T);
  rows.forEach((r, b) => r.forEach((id, t) => ((ids[b * T + t] = id), (mask[b * T + t] = 1))));
  return { ids, mask, B, T };
}

const TOPICS: Record<string, { subjects: string[]; verbs: string[]; objects: string[] }> = {
  sports: { subjects: ['the team', 'our striker', 'the coach', 'the goalkeeper', 'the captain', 'the runner'], verbs: ['won', 'lost', 'played', 'scored in', 'trained for', 'drew'], objects: ['the match', 'the final', 'the league game', 'the derby', 'the cup tie', 'the race'] },
  weather: { subjects: ['the forecast', 'the sky', 'the wind', 'the storm', 'the morning fog', 'the heat'], verbs: ['brought', 'promised', 'turned into', 'ended with', 'cleared before', 'warned of'], objects: ['heavy rain', 'a cold front', 'sunshine', 'thunder', 'snow showers', 'a humid evening'] },
  food: { subjects: ['the chef', 'my aunt', 'the bakery', 'the cook', 'the waiter', 'the kitchen'], verbs: ['baked', 'served', 'cooked', 'tasted', 'seasoned', 'fried'], objects: ['fresh bread', 'a spicy soup', 'the noodles', 'a lemon cake', 'roast chicken', 'the salad'] },
  music: { subjects: ['the band', 'the singer', 'the orchestra', 'the drummer', 'the choir', 'the pianist'], verbs: ['performed', 'recorded', 'rehearsed', 'sang', 'played', 'released'], objects: ['a new album', 'the symphony', 'an old ballad', 'the concert', 'a jazz tune', 'the chorus'] },
};
const TAILS = ['yesterday', 'last night', 'this week', 'on sunday', 'again', 'at last', ''];

/**
 * The built-in sentence-classification task: `n` short sentences about sports, weather, food or music
 * ("the coach won the final last night."), labels balanced at random, generated from `seed`; 80/20 train/dev.
 */
export function builtinClassificationTask(n = 600, seed = 7): { train: LabeledText[]; dev: LabeledText[]; labels: string[] } {
  const rng = new Rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];
  const labels = Object.keys(TOPICS).sort();
  const all: LabeledText[] = [];
  for (let i = 0; i < n; i++) {
    const label = labels[i % labels.length], t = TOPICS[label];
    const tail = pick(TAILS);
    all.push({ text: `${pick(t.subjects)} ${pick(t.verbs)} ${pick(t.objects)}${tail ? ' ' + tail : ''}.`, label, line: 0 });
  }
  for (let i = all.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [all[i], all[j]] = [all[j], all[i]];
  }
  const cut = Math.floor(n * 0.8);
  return { train: all.slice(0, cut), dev: all.slice(cut), labels };
}
