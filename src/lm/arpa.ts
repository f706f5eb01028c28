// The ARPA back-off format (SRILM, KenLM): a `\data\` header with the number of n-grams of each order, one
// `\N-grams:` section per order with lines "log10-prob <TAB> w1 … wN [<TAB> log10-backoff]", and `\end\`.
//   \data\
//   ngram 1=3
//   ngram 2=1
//
//   \1-grams:
//   -0.47712125	人工智能	-0.3
//   …
//   \2-grams:
//   -0.09691001	人工智能 让
//
//   \end\
// `writeArpa` writes any NgramLM that has a back-off table (Kneser–Ney, or one read from ARPA); `readArpa`
// reads lmplz's files (and SRILM's) into a model that scores exactly as the file says.
import { BackoffTable } from './backoff-table.js';
import { keyIds } from './counts.js';
import { NgramLM } from './ngram.js';
import { Vocabulary } from './vocab.js';

export interface ArpaWriteOptions {
  /** significant digits of the numbers; default: all (exact round trip); lmplz writes about 8 */
  digits?: number;
}

/** ARPA text of a model with a back-off table. Throws for mle / add-k models (they have none). */
export function writeArpa(model: NgramLM, opts: ArpaWriteOptions = {}): string {
  const table = model.table;
  if (!table) throw new Error(`writeArpa: a ${model.smoothing.kind} model has no back-off table; use Kneser–Ney`);
  const num = (x: number): string => {
    if (x === -Infinity) return '-99';
    return opts.digits ? String(Number(x.toPrecision(opts.digits))) : String(x);
  };
  const words = model.vocab.words;
  const parts: string[] = ['\\data\\\n'];
  table.counts().forEach((c, i) => parts.push(`ngram ${i + 1}=${c}\n`));
  for (let m = 1; m <= table.order; m++) {
    parts.push(`\n\\${m}-grams:\n`);
    const bo = table.backoff[m - 1];
    for (const [key, p] of table.prob[m - 1]) {
      const gram = keyIds(key).map((id) => words[id]).join(' ');
      parts.push(m < table.order ? `${num(p)}\t${gram}\t${num(bo.get(key) ?? 0)}\n` : `${num(p)}\t${gram}\n`);
    }
  }
  parts.push('\n\\end\\\n');
  return parts.join('');
}

/**
 * Reads an ARPA text into a model. Words get ids in the order of the 1-grams. Throws `FILE:LINE: problem` on a
 * missing `\data\`, section or `\end\`, a count that does not match the entries, a malformed line (bad number,
 * wrong number of fields), an n-gram order outside the header, a duplicate n-gram, or a word missing from the 1-grams.
 */
export function readArpa(text: string, file = 'model.arpa'): NgramLM {
  const lines = text.split('\n');
  let i = 0;
  const at = (k: number, msg: string): Error => new Error(`${file}:${k + 1}: ${msg}`);
  while (i < lines.length && lines[i].trim() !== '\\data\\') i++;
  if (i === lines.length) throw new Error(`${file}:1: missing \\data\\ header`);
  const declared = readHeader(lines, ++i, at);
  i = declared.next;
  const vocab = new Vocabulary();
  const table = new BackoffTable(declared.counts.length);
  for (let m = 1; m <= declared.counts.length; m++) {
    while (i < lines.length && lines[i].trim() === '') i++;
    const head = lines[i]?.trim();
    if (head === undefined || head === '\\end\\') throw at(Math.min(i, lines.length - 1), `missing \\${m}-grams: section`);
    const sec = /^\\(\d+)-grams:$/.exec(head);
    if (!sec) throw at(i, `expected \\${m}-grams:, found ${JSON.stringify(head.slice(0, 40))}`);
    if (Number(sec[1]) !== m) throw at(i, `\\${sec[1]}-grams: where \\${m}-grams: was expected (the header declares orders 1–${declared.counts.length})`);
    i = readSection(lines, i + 1, m, declared.counts[m - 1], vocab, table, at);
  }
  while (i < lines.length && lines[i].trim() === '') i++;
  if (i >= lines.length) throw at(lines.length - 1, 'missing \\end\\');
  if (lines[i].trim() !== '\\end\\') {
    const sec = /^\\(\d+)-grams:$/.exec(lines[i].trim());
    throw at(i, sec ? `\\${sec[1]}-grams: is not declared in \\data\\ (orders 1–${declared.counts.length})` : `expected \\end\\, found ${JSON.stringify(lines[i].slice(0, 40))}`);
  }
  return NgramLM.fromTable(vocab, table);
}

/** "ngram N=count" lines after \data\ → counts of orders 1 … n and the index of the first line after them */
function readHeader(lines: string[], start: number, at: (k: number, msg: string) => Error): { counts: number[]; next: number } {
  const counts: number[] = [];
  let i = start;
  for (; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') {
      if (counts.length > 0) break;
      continue;
    }
    if (line.startsWith('\\')) break;
    const m = /^ngram\s+(\d+)\s*=\s*(\d+)$/.exec(line);
    if (!m) throw at(i, `malformed header line ${JSON.stringify(line.slice(0, 40))} (expected "ngram N=count")`);
    const n = Number(m[1]);
    if (n !== counts.length + 1) throw at(i, `ngram ${n}= where ngram ${counts.length + 1}= was expected`);
    counts.push(Number(m[2]));
  }
  if (counts.length === 0) throw at(Math.min(i, lines.length - 1), 'the \\data\\ header declares no n-gram counts');
  return { counts, next: i };
}

/** entries of one \m-grams: section from line `start`; returns the index of the line that ends it */
function readSection(
  lines: string[], start: number, m: number, expected: number, vocab: Vocabulary, table: BackoffTable,
  at: (k: number, msg: string) => Error,
): number {
  let i = start, seen = 0;
  const maxOrder = table.order;
  for (; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('\\')) break;
    const f = line.split(/\s+/);
    const hasBackoff = f.length === m + 2;
    if (f.length !== m + 1 && !(hasBackoff && m < maxOrder)) {
      throw at(i, `a ${m}-gram line needs ${m < maxOrder ? `${m + 1} or ${m + 2}` : m + 1} fields (log10 prob, ${m} word${m > 1 ? 's' : ''}${m < maxOrder ? ', optional back-off' : ''}), found ${f.length}`);
    }
    const p = parseLog(f[0], i, 'probability', at);
    const bo = hasBackoff ? parseLog(f[m + 1], i, 'back-off', at) : undefined;
    const ids = f.slice(1, m + 1).map((w) => {
      if (m === 1) return vocab.get(w) >= 0 ? -1 : vocab.add(w);
      const id = vocab.get(w);
      if (id < 0) throw at(i, `word ${JSON.stringify(w)} is not among the 1-grams`);
      return id;
    });
    if (ids[0] === -1) throw at(i, `duplicate 1-gram ${JSON.stringify(f[1])}`);
    if (m > 1 && table.prob[m - 1].has(ids.join(' '))) throw at(i, `duplicate ${m}-gram ${JSON.stringify(f.slice(1, m + 1).join(' '))}`);
    table.set(ids, p <= -99 ? -Infinity : p, bo);
    seen++;
  }
  if (seen !== expected) throw at(i - 1 >= start ? i - 1 : start - 1, `\\${m}-grams: has ${seen} entries but \\data\\ declares ngram ${m}=${expected}`);
  return i;
}

function parseLog(s: string, line: number, what: string, at: (k: number, msg: string) => Error): number {
  const x = Number(s);
  if (s === '' || !Number.isFinite(x)) throw at(line, `${what} ${JSON.stringify(s)} is not a number`);
  if (x > 1e-6 && what === 'probability') throw at(line, `log10 probability ${s} is positive`);
  return x;
}
