// Word-vector files on disk: the original word2vec tool's text and binary formats (word2vec-format.ts).
// Reading goes by the content, since both formats share the header "V D\n" and files are often misnamed:
// text when the first record after the header is a word and D decimal numbers up to a newline, binary when
// it holds control bytes (raw float32s), else by the extension (.bin → binary; .txt, .vec → text) or, for
// any other name, text when the file is valid UTF-8 without NUL bytes. When that guess fails to parse and the
// other format parses, the other is used; when both fail, the guess's error (naming line or byte) is thrown.
// Writing goes by the extension.
import { readFileBytes } from '../formats/text-file.node.js';
import { writeFileAtomicSync } from '../formats/atomic.node.js';
import { decodeUtf8Strict } from '../tokenizers/utf8.js';
import { NUMBER, readWord2VecText, writeWord2VecBinary, writeWord2VecText } from './word2vec-format.js';
import { readWord2VecBinary } from './word2vec-binary-reader.js';
import type { WordVectors } from './vectors.js';

export type VectorFormat = 'text' | 'binary';

/** the format a file name implies, or null when the extension says nothing */
export function formatFromName(file: string): VectorFormat | null {
  const lower = file.toLowerCase();
  if (lower.endsWith('.bin')) return 'binary';
  if (lower.endsWith('.txt') || lower.endsWith('.vec')) return 'text';
  return null;
}

function sniff(bytes: Uint8Array): VectorFormat {
  if (bytes.includes(0)) return 'binary';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return 'text';
  } catch {
    return 'binary';
  }
}

/** what the first record after the header "V D\n" shows: 'text' (a word, D numbers, a newline), 'binary' (control bytes), or null */
function firstRecordFormat(bytes: Uint8Array): VectorFormat | null {
  const nl = bytes.subarray(0, 64).indexOf(0x0a);
  const m = nl < 0 ? null : /^\s*\d+[ \t]+(\d+)\s*$/.exec(String.fromCharCode(...bytes.subarray(0, nl)));
  if (!m || Number(m[1]) < 1) return null;
  const D = Number(m[1]);
  const end = bytes.indexOf(0x0a, nl + 1);
  const line = bytes.subarray(nl + 1, end < 0 ? bytes.length : end);
  const parts = Buffer.from(line.buffer, line.byteOffset, line.length).toString('latin1').split(/[ \t\r]+/).filter((p) => p !== '');
  if (end >= 0 && parts.length === D + 1 && parts.slice(1).every((p) => NUMBER.test(p))) return 'text';
  const record = bytes.subarray(nl + 1, nl + 1 + 4 * D + 64);
  return record.some((b) => b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) ? 'binary' : null;
}

function readAs(format: VectorFormat, bytes: Uint8Array, file: string): WordVectors {
  return format === 'binary' ? readWord2VecBinary(bytes, file) : readWord2VecText(decodeUtf8Strict(bytes, file), file);
}

/**
 * Loads a vector file in the given format, or (without one) in the format its content shows, falling back on
 * the other format when that one parses (header comment). Errors name the file and the line (text) or byte (binary).
 */
export function loadVectors(file: string, format?: VectorFormat): WordVectors {
  const bytes = readFileBytes(file, 'vector file');
  if (bytes.length === 0) throw new Error(`${file}: the vector file is empty`);
  if (format) return readAs(format, bytes, file);
  const guess = firstRecordFormat(bytes) ?? formatFromName(file) ?? sniff(bytes);
  try {
    return readAs(guess, bytes, file);
  } catch (e) {
    try {
      return readAs(guess === 'binary' ? 'text' : 'binary', bytes, file);
    } catch {
      throw e;
    }
  }
}

/** The bytes (binary) or text saveVectors writes to `file`: in the given format, else by extension (text unless .bin). */
export function encodeVectors(file: string, vectors: WordVectors, format?: VectorFormat): Uint8Array | string {
  const f = format ?? formatFromName(file) ?? 'text';
  return f === 'binary' ? writeWord2VecBinary(vectors) : writeWord2VecText(vectors);
}

/** Writes vectors atomically in the given format (default: by extension, text unless .bin). */
export function saveVectors(file: string, vectors: WordVectors, format?: VectorFormat): void {
  writeFileAtomicSync(file, encodeVectors(file, vectors, format));
}
