// Word-vector files on disk: the original word2vec tool's text and binary formats (word2vec-format.ts).
// The format comes from the extension (.bin → binary; .txt, .vec → text) or, for any other name, from
// the content: a file that is valid UTF-8 without NUL bytes is text, anything else binary.
import { readFileBytes } from '../formats/text-file.node.js';
import { writeFileAtomicSync } from '../formats/atomic.node.js';
import { decodeUtf8Strict } from '../tokenizers/utf8.js';
import { readWord2VecText, writeWord2VecBinary, writeWord2VecText } from './word2vec-format.js';
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

/** Loads a vector file; errors name the file and the line (text) or byte (binary). */
export function loadVectors(file: string, format?: VectorFormat): WordVectors {
  const bytes = readFileBytes(file, 'vector file');
  if (bytes.length === 0) throw new Error(`${file}: the vector file is empty`);
  const f = format ?? formatFromName(file) ?? sniff(bytes);
  return f === 'binary' ? readWord2VecBinary(bytes, file) : readWord2VecText(decodeUtf8Strict(bytes, file), file);
}

/** Writes vectors atomically in the given format (default: by extension, text unless .bin). */
export function saveVectors(file: string, vectors: WordVectors, format?: VectorFormat): void {
  const f = format ?? formatFromName(file) ?? 'text';
  writeFileAtomicSync(file, f === 'binary' ? writeWord2VecBinary(vectors) : writeWord2VecText(vectors));
}
