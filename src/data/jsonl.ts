// JSONL records checked one by one, as every data file of gptlab is read: blank lines are skipped, a line
// that is not JSON or whose record fails validation is skipped and reported as `file:line: field: problem`.
import type { ChatDataError } from './chat.js';

/** the records `validate` accepted, the problems of the rest, and how many lines were skipped */
export interface JsonlRecords<T> {
  items: T[];
  errors: ChatDataError[];
  skipped: number;
}

/** JavaScript literals JSON lacks, by the character JSON.parse stops at */
const NOT_JSON: [RegExp, string][] = [
  [/(^|[^\w"])NaN\b/, 'NaN is not a JSON value'], [/(^|[^\w"])-?Infinity\b/, 'Infinity is not a JSON value'],
  [/(^|[^\w"])undefined\b/, 'undefined is not a JSON value'],
];

/**
 * JSON.parse's complaint about `text` as one clean clause, without V8's raw excerpt of the text:
 * `not valid JSON (NaN is not a JSON value)`, `not valid JSON (unexpected character 'x' at column 9)`,
 * `not valid JSON (it ends before the value is complete)`. Columns (from 1) are given for a one-line `text` only.
 */
export function notValidJson(e: unknown, text: string): string {
  const msg = e instanceof Error ? e.message : String(e);
  const pos = /at position (\d+)/.exec(msg);
  const at = pos ? Number(pos[1]) : undefined;
  const col = at !== undefined && !text.includes('\n') ? at + 1 : undefined; // a column means something on one line only
  const token = /^Unexpected token '(.)'/.exec(msg)?.[1] ?? (at !== undefined ? text[at] : undefined);
  for (const [re, why] of NOT_JSON) if (token !== undefined && 'NIu-'.includes(token) && re.test(text)) return `not valid JSON (${why})`;
  if (/Unexpected end of JSON input|Unterminated string/.test(msg)) return 'not valid JSON (it ends before the value is complete: a missing quote, bracket or brace?)';
  if (token === "'") return `not valid JSON (strings and field names take double quotes, not single ones${col !== undefined ? `; column ${col}` : ''})`;
  const detail = msg.replace(/,?\s*"[\s\S]*" is not valid JSON$/, '').replace(/ in JSON at position \d+.*$/, '').replace(/\s*\(line \d+ column \d+\)$/, '').replace(/^Unexpected token '(.)'$/, "unexpected character '$1'");
  const clause = detail.charAt(0).toLowerCase() + detail.slice(1);
  return `not valid JSON (${clause}${col !== undefined ? ` at column ${col}` : ''})`;
}

/** `1 prompt`, `3 prompts`: a count with its noun (plural by adding s) */
export function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** added to the problems of a first line that opens a JSON array: the whole file is one array, not JSONL */
export const JSONL_HINT = ' (the file must be JSONL: one JSON object per line, not one JSON array)';

/** JSONL_HINT for the problems of line `index` (from 0) when it is the first and opens a JSON array, else '' */
export function jsonArrayHint(index: number, line: string): string {
  return index === 0 && line.trimStart().startsWith('[') ? JSONL_HINT : '';
}

/**
 * Parses `text` line by line; the problems of a first line starting with `[` add JSONL_HINT (jsonArrayHint). `validate(value, report)` returns the record (or null) and calls
 * `report(field, message)` for each problem; a record with any problem is skipped.
 */
export function parseJsonlRecords<T>(
  text: string, file: string, validate: (value: unknown, report: (field: string, message: string) => void) => T | null,
): JsonlRecords<T> {
  const items: T[] = [];
  const errors: ChatDataError[] = [];
  let skipped = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const hint = jsonArrayHint(i, line);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      errors.push({ file, line: i + 1, field: '', message: notValidJson(e, line) + hint });
      skipped++;
      return;
    }
    const errs: ChatDataError[] = [];
    const got = validate(value, (field, message) => errs.push({ file, line: i + 1, field, message: message + hint }));
    if (got !== null && !errs.length) items.push(got);
    else (skipped++, errors.push(...errs));
  });
  return { items, errors, skipped };
}
