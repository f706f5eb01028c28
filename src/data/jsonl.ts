// JSONL records checked one by one, as every data file of gptlab is read: blank lines are skipped, a line
// that is not JSON or whose record fails validation is skipped and reported as `file:line: field: problem`.
import type { ChatDataError } from './chat.js';

/** the records `validate` accepted, the problems of the rest, and how many lines were skipped */
export interface JsonlRecords<T> {
  items: T[];
  errors: ChatDataError[];
  skipped: number;
}

/**
 * Parses `text` line by line. `validate(value, report)` returns the record (or null) and calls
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
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      errors.push({ file, line: i + 1, field: '', message: `invalid JSON: ${(e as Error).message}` });
      skipped++;
      return;
    }
    const errs: ChatDataError[] = [];
    const got = validate(value, (field, message) => errs.push({ file, line: i + 1, field, message }));
    if (got !== null && !errs.length) items.push(got);
    else (skipped++, errors.push(...errs));
  });
  return { items, errors, skipped };
}
