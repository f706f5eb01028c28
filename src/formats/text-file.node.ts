// Reading text files the way every command needs them: strict UTF-8 (a BOM is skipped), and one-line errors
// that name the file — missing, a folder, empty, or invalid UTF-8 with its byte offset and line.
import fs from 'node:fs';
import { decodeUtf8Strict } from '../tokenizers/utf8.js';

/** a file's bytes, with errors that name it (`what` says what kind of file was expected) */
export function readFileBytes(file: string, what = 'file'): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? `no such ${what}` : err.code === 'EISDIR' ? 'is a folder, not a file'
      : err.code === 'EACCES' ? 'permission denied' : err.code ?? err.message;
    throw new Error(`${file}: ${why}`);
  }
}

/**
 * Reads a UTF-8 text file. Throws `FILE: no such data file`, `FILE: is a folder, not a file`,
 * `FILE: the data file is empty`, or the decoder's `FILE: invalid UTF-8 at byte N (line L)`.
 */
export function readTextFile(file: string, what = 'data file'): string {
  const buf = readFileBytes(file, what);
  if (buf.length === 0) throw new Error(`${file}: the ${what} is empty`);
  return decodeUtf8Strict(buf, file);
}
