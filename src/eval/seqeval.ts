// Entity-level precision, recall and F1 for sequence tagging, as seqeval computes them (chakki-works/seqeval,
// metrics/sequence_labeling.py and metrics/v1.py, scheme.py). Tags are per token, like B-PER I-PER O.
//   default mode  conlleval-compatible chunking (get_entities): lenient, an I-X after O starts an entity, a
//                 type change ends one; any prefix letter is read, untyped tags ("B", "O") get type "_"
//   strict mode   entities are read with one scheme's rules (IOB1, IOB2, IOE1, IOE2, IOBES, BILOU): only
//                 well-formed chunks count, and a tag whose prefix the scheme does not allow is an error
// An entity is (sentence, type, start, end); a predicted entity is correct when all four match a gold one.
// Per type: precision = tp/predicted, recall = tp/gold, F1 their harmonic mean (0 where undefined, seqeval's
// zero_division default); micro pools the counts, macro averages the types, weighted weighs them by support.
// The notes' begin/end/other character tagging (中国的首都是北京 → B E O O O O B E) is IOBES without S and I:
// seqeval's auto-detection picks IOBES for it, and untyped tags make entities of type "_".
import type { PRF } from './metrics.js';

export interface Entity {
  /** index of the sentence */
  sentence: number;
  type: string;
  /** first token */
  start: number;
  /** last token (inclusive) */
  end: number;
}

export type TagScheme = 'IOB1' | 'IOB2' | 'IOE1' | 'IOE2' | 'IOBES' | 'BILOU';

/** prefix letter and type of one tag in default mode (seqeval's get_entities); throws for an empty tag */
function splitDefault(tag: string, suffix: boolean): [string, string] {
  if (tag.length === 0) throw new Error('seqeval: an empty tag');
  if (suffix) {
    const s = tag.slice(0, -1), k = s.lastIndexOf('-');
    return [tag[tag.length - 1], (k >= 0 ? s.slice(0, k) : s) || '_'];
  }
  const s = tag.slice(1), k = s.indexOf('-');
  return [tag[0], (k >= 0 ? s.slice(k + 1) : s) || '_'];
}

function endOfChunk(prev: string, tag: string, prevType: string, type: string): boolean {
  if (prev === 'E' || prev === 'S') return true;
  if ((prev === 'B' || prev === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return prev !== 'O' && prev !== '.' && prevType !== type;
}

function startOfChunk(prev: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((prev === 'E' || prev === 'S' || prev === 'O') && (tag === 'E' || tag === 'I')) return true;
  return tag !== 'O' && tag !== '.' && prevType !== type;
}

/**
 * Entities of one sentence in default (conlleval) mode.
 * Example: [B-PER, I-PER, O, B-LOC] → PER 0–1, LOC 3–3.
 */
export function entitiesDefault(tags: readonly string[], sentence = 0, suffix = false): Entity[] {
  const out: Entity[] = [];
  let prev = 'O', prevType = '', begin = 0;
  for (let i = 0; i <= tags.length; i++) {
    const [tag, type] = i < tags.length ? splitDefault(tags[i], suffix) : ['O', '_'];
    if (endOfChunk(prev, tag, prevType, type)) out.push({ sentence, type: prevType, start: begin, end: i - 1 });
    if (startOfChunk(prev, tag, prevType, type)) begin = i;
    prev = tag;
    prevType = type;
  }
  return out;
}

type Cond = 'any' | 'same' | 'diff';
/** (previous prefixes, current prefixes, type condition); '*' = any prefix */
type Pattern = [string, string, Cond];

interface SchemeRules { allowed: string; start: Pattern[]; inside: Pattern[]; end: Pattern[] }

/** seqeval's scheme.py pattern tables, one row per (previous, current, type) rule */
const SCHEMES: Record<TagScheme, SchemeRules> = {
  IOB1: { allowed: 'IOB', start: [['O', 'I', 'any'], ['I', 'I', 'diff'], ['B', 'I', 'any'], ['I', 'B', 'same'], ['B', 'B', 'same']],
    inside: [['B', 'I', 'same'], ['I', 'I', 'same']],
    end: [['I', 'I', 'diff'], ['I', 'O', 'any'], ['I', 'B', 'any'], ['B', 'O', 'any'], ['B', 'I', 'diff'], ['B', 'B', 'same']] },
  IOB2: { allowed: 'IOB', start: [['*', 'B', 'any']], inside: [['B', 'I', 'same'], ['I', 'I', 'same']],
    end: [['I', 'O', 'any'], ['I', 'I', 'diff'], ['I', 'B', 'any'], ['B', 'O', 'any'], ['B', 'I', 'diff'], ['B', 'B', 'any']] },
  IOE1: { allowed: 'IOE', start: [['O', 'I', 'any'], ['I', 'I', 'diff'], ['E', 'I', 'any'], ['E', 'E', 'same']],
    inside: [['I', 'I', 'same'], ['I', 'E', 'same']],
    end: [['I', 'I', 'diff'], ['I', 'O', 'any'], ['I', 'E', 'diff'], ['E', 'I', 'same'], ['E', 'E', 'same']] },
  IOE2: { allowed: 'IOE', start: [['O', 'I', 'any'], ['O', 'E', 'any'], ['E', 'I', 'any'], ['E', 'E', 'any'], ['I', 'I', 'diff'], ['I', 'E', 'diff']],
    inside: [['I', 'E', 'same'], ['I', 'I', 'same']], end: [['E', '*', 'any']] },
  IOBES: { allowed: 'IOBES', start: [['*', 'B', 'any'], ['*', 'S', 'any']],
    inside: [['B', 'I', 'same'], ['B', 'E', 'same'], ['I', 'I', 'same'], ['I', 'E', 'same']], end: [['S', '*', 'any'], ['E', '*', 'any']] },
  BILOU: { allowed: 'BILOU', start: [['*', 'B', 'any'], ['*', 'U', 'any']],
    inside: [['B', 'I', 'same'], ['B', 'L', 'same'], ['I', 'I', 'same'], ['I', 'L', 'same']], end: [['U', '*', 'any'], ['L', '*', 'any']] },
};

interface StrictTag { prefix: string; type: string }

/** prefix and type in strict mode (scheme.py's Token: the type is the rest with '-' stripped at both ends) */
function splitStrict(tag: string, suffix: boolean): StrictTag {
  if (tag.length === 0 || !'IOBESUL'.includes(suffix ? tag[tag.length - 1] : tag[0])) throw new Error(`seqeval: tag ${JSON.stringify(tag)} has no prefix I, O, B, E, S, U or L`);
  const rest = suffix ? tag.slice(0, -1) : tag.slice(1);
  return { prefix: suffix ? tag[tag.length - 1] : tag[0], type: rest.replace(/^-+|-+$/g, '') || '_' };
}

function matches(rules: Pattern[], prev: StrictTag, cur: StrictTag): boolean {
  return rules.some(([p, c, cond]) => (p === '*' || p.includes(prev.prefix)) && (c === '*' || c.includes(cur.prefix)) &&
    (cond === 'any' || (cond === 'same') === (prev.type === cur.type)));
}

/**
 * Entities of one sentence in strict mode under `scheme` (seqeval's Tokens.entities). Throws
 * `seqeval: sentence S, token I: …` for a tag whose prefix the scheme does not allow.
 */
export function entitiesStrict(tags: readonly string[], scheme: TagScheme, sentence = 0, suffix = false): Entity[] {
  const r = SCHEMES[scheme];
  const O: StrictTag = { prefix: 'O', type: '_' };
  const ext = [...tags.map((t) => splitStrict(t, suffix)), O];
  ext.forEach((t, i) => {
    if (!r.allowed.includes(t.prefix)) throw new Error(`seqeval: sentence ${sentence}, token ${i}: tag ${JSON.stringify(tags[i])} is not allowed in ${scheme} (prefixes ${r.allowed.split('').join(', ')})`);
  });
  const out: Entity[] = [];
  let i = 0, prev = O;
  while (i < ext.length) {
    const tok = ext[i];
    if (matches(r.start, prev, tok)) {
      let end = i + 1, p = tok;
      while (end < ext.length && matches(r.inside, p, ext[end])) p = ext[end++];
      if (end >= ext.length) end = tags.length - 1; // (seqeval's fall-through; the closing O makes it unreachable)
      if (matches(r.end, ext[end - 1], ext[end])) out.push({ sentence, type: tok.type, start: i, end: end - 1 });
      i = end;
    } else i++;
    prev = ext[i - 1];
  }
  return out;
}

/**
 * seqeval's auto_detect: IOB2, IOE2, IOBES or BILOU from the set of prefixes used (strict prefix parsing);
 * throws when the set fits none.
 */
export function detectScheme(sequences: readonly (readonly string[])[], suffix = false): TagScheme {
  const used = new Set<string>();
  for (const s of sequences) for (const t of s) used.add(splitStrict(t, suffix).prefix);
  const key = [...used].sort().join('');
  const fits = (sets: string[]): boolean => sets.some((s) => s.split('').sort().join('') === key);
  if (fits(['IOB', 'IB', 'BO', 'B'])) return 'IOB2';
  if (fits(['IOE', 'IE', 'EO', 'E'])) return 'IOE2';
  if (fits(['IOBES', 'IBES', 'IOBE', 'OBES', 'IBE', 'BES', 'OBE', 'BE', 'S'])) return 'IOBES';
  if (fits(['IOBLU', 'IBLU', 'IOBL', 'OBLU', 'IBL', 'BLU', 'OBL', 'BL', 'U'])) return 'BILOU';
  throw new Error(`seqeval: the tag prefixes {${[...used].join(', ')}} fit no scheme (IOB2, IOE2, IOBES, BILOU)`);
}

export interface SeqevalOptions {
  /** 'default' (conlleval-compatible, seqeval's default) or 'strict' */
  mode?: 'default' | 'strict';
  /** strict mode's scheme; detected from the tags when absent */
  scheme?: TagScheme;
  /** tags are written TYPE-B rather than B-TYPE */
  suffix?: boolean;
}

export interface SeqevalReport {
  /** per entity type, sorted by type name */
  perType: Map<string, PRF>;
  micro: PRF;
  macro: PRF;
  weighted: PRF;
  /** token-level accuracy (seqeval's accuracy_score) */
  accuracy: number;
  /** the scheme strict mode used */
  scheme?: TagScheme;
}

/** Throws naming the first sentence whose lengths differ (seqeval's check_consistent_length). */
function checkLengths(gold: readonly (readonly string[])[], pred: readonly (readonly string[])[]): void {
  if (gold.length !== pred.length) throw new Error(`seqeval: ${gold.length} gold sentences but ${pred.length} predicted`);
  gold.forEach((g, i) => {
    if (g.length !== pred[i].length) throw new Error(`seqeval: sentence ${i} has ${g.length} gold tags but ${pred[i].length} predicted`);
  });
}

/** the entities of every sentence under the chosen mode */
export function extractEntities(seqs: readonly (readonly string[])[], o: SeqevalOptions & { scheme?: TagScheme }): Entity[] {
  const suffix = o.suffix ?? false;
  return seqs.flatMap((s, i) => (o.mode === 'strict' ? entitiesStrict(s, o.scheme!, i, suffix) : entitiesDefault(s, i, suffix)));
}

/**
 * seqeval's classification report for gold and predicted tag sequences. Throws for mismatched lengths,
 * no tokens, or (strict mode) a tag the scheme forbids.
 */
export function seqevalReport(gold: readonly (readonly string[])[], pred: readonly (readonly string[])[], o: SeqevalOptions = {}): SeqevalReport {
  checkLengths(gold, pred);
  const tokens = gold.reduce((s, g) => s + g.length, 0);
  if (tokens === 0) throw new Error('seqeval: no tags to score');
  const scheme = o.mode === 'strict' ? (o.scheme ?? detectScheme([...gold, ...pred], o.suffix)) : undefined;
  const key = (e: Entity): string => `${e.sentence}\u0001${e.type}\u0001${e.start}\u0001${e.end}`;
  const g = extractEntities(gold, { ...o, scheme }), p = extractEntities(pred, { ...o, scheme });
  const goldKeys = new Set(g.map(key));
  const types = [...new Set([...g, ...p].map((e) => e.type))].sort();
  const count = (es: Entity[], t: string): number => new Set(es.filter((e) => e.type === t).map(key)).size;
  const perType = new Map<string, PRF>();
  let TP = 0, PRED = 0, GOLD = 0;
  for (const t of types) {
    const tp = new Set(p.filter((e) => e.type === t && goldKeys.has(key(e))).map(key)).size;
    const np = count(p, t), ng = count(g, t);
    perType.set(t, prf(tp, np, ng));
    (TP += tp), (PRED += np), (GOLD += ng);
  }
  let correct = 0;
  gold.forEach((s, i) => s.forEach((t, j) => t === pred[i][j] && correct++));
  return { perType, micro: prf(TP, PRED, GOLD), ...averages(perType), accuracy: correct / tokens, scheme };
}

function prf(tp: number, predicted: number, gold: number): PRF {
  const precision = predicted > 0 ? tp / predicted : 0, recall = gold > 0 ? tp / gold : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, support: gold };
}

/** macro (unweighted) and support-weighted means over types: with no types the macro mean is NaN (numpy's mean of nothing, as seqeval), with no support the weighted one 0 */
function averages(perType: Map<string, PRF>): { macro: PRF; weighted: PRF } {
  const rows = [...perType.values()];
  const support = rows.reduce((s, r) => s + r.support, 0);
  const mean = (f: (r: PRF) => number, w: (r: PRF) => number, total: number): number =>
    total > 0 ? rows.reduce((s, r) => s + f(r) * w(r), 0) / total : 0;
  const avg = (w: (r: PRF) => number, total: number): PRF => ({
    precision: mean((r) => r.precision, w, total), recall: mean((r) => r.recall, w, total), f1: mean((r) => r.f1, w, total), support,
  });
  const macro = rows.length ? avg(() => 1, rows.length) : { precision: NaN, recall: NaN, f1: NaN, support };
  return { macro, weighted: avg((r) => r.support, support) };
}

/** seqeval's printed classification report: one row per type, then micro, macro and weighted averages */
export function formatSeqevalReport(r: SeqevalReport, digits = 2): string {
  const names = [...r.perType.keys(), 'micro avg', 'macro avg', 'weighted avg'];
  const w = Math.max(12, ...names.map((n) => n.length));
  const row = (n: string, m: PRF): string =>
    `${n.padStart(w)} ${m.precision.toFixed(digits).padStart(9)} ${m.recall.toFixed(digits).padStart(9)} ${m.f1.toFixed(digits).padStart(9)} ${String(m.support).padStart(9)}`;
  const head = `${''.padStart(w)} ${'precision'.padStart(9)} ${'recall'.padStart(9)} ${'f1-score'.padStart(9)} ${'support'.padStart(9)}`;
  return [head, '', ...[...r.perType].map(([n, m]) => row(n, m)), '', row('micro avg', r.micro), row('macro avg', r.macro), row('weighted avg', r.weighted)].join('\n');
}
