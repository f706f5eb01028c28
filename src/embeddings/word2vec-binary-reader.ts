// Reading word2vec's binary vector format (layout in word2vec-format.ts), with validation: every error names
// the byte offset where the problem is: `NAME: byte N: problem`.
//
// A record is [optional "\n"] word-bytes " " float32×D. The original tool ends each record with "\n" (and its
// own reader, distance.c, skips newlines before a word); gensim does not. We accept either, but once the first
// record shows which, every record must follow it: a missing newline in a file that has them means the
// header's dimension is wrong, and we say so instead of reading floats as words.
import { WordVectors } from './vectors.js';

const SPACE = 0x20;
const NEWLINE = 0x0a;
const MAX_WORD_BYTES = 10_000;

/** header line "V D\n" → [V, D, offset after the newline] */
function readHeader(bytes: Uint8Array, name: string): [number, number, number] {
  const nl = bytes.subarray(0, 64).indexOf(NEWLINE);
  if (nl < 0) throw new Error(`${name}: byte 0: no header line "WORDS DIMENSIONS" (${bytes.length === 0 ? 'the file is empty' : 'no newline in the first 64 bytes'})`);
  const line = String.fromCharCode(...bytes.subarray(0, nl));
  const m = /^\s*(\d+)[ \t]+(\d+)\s*$/.exec(line);
  if (!m || Number(m[2]) < 1) throw new Error(`${name}: byte 0: the header must be "WORDS DIMENSIONS" (two whole numbers), got ${JSON.stringify(line)}`);
  const V = Number(m[1]), D = Number(m[2]);
  // each word takes its D floats (4 bytes each) and a space at least: a header far larger than the file is the
  // file's mistake, not memory's, said before the V×D floats are allocated (small ones: word by word below)
  if (V * D > 2 ** 24 && V * (4 * D + 2) > bytes.length - nl - 1) throw new Error(`${name}: byte 0: the header announces ${V} words × ${D} dimensions (at least ${(V * (4 * D + 2)).toLocaleString('en')} bytes), the file has ${(bytes.length - nl - 1).toLocaleString('en')} bytes after it`);
  return [V, D, nl + 1];
}

/**
 * Parses the binary format. Throws for a bad header, a word without its space, a truncated vector, a
 * missing record newline (wrong dimension), a word that is not UTF-8 or repeats, or bytes after the last word.
 */
export function readWord2VecBinary(bytes: Uint8Array, name = 'vectors'): WordVectors {
  const [V, D, start] = readHeader(bytes, name);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const words: string[] = [];
  const seen = new Set<string>();
  const data = new Float32Array(V * D);
  const raw = new Uint8Array(data.buffer);
  let p = start;
  let newlines: boolean | null = null;
  for (let i = 0; i < V; i++) {
    const hasNl = bytes[p] === NEWLINE;
    if (i > 0 && newlines === null) newlines = hasNl;
    if (i > 0 && newlines && !hasNl && p < bytes.length) throw new Error(`${name}: byte ${p}: expected a newline after the ${D} floats of word ${i} (${JSON.stringify(words[i - 1])}); is the header's dimension ${D} right?`);
    if (hasNl) p++;
    if (p >= bytes.length) throw new Error(`${name}: byte ${p}: the header announces ${V} words, the file ends after ${i}`);
    const sp = bytes.subarray(p, p + MAX_WORD_BYTES).indexOf(SPACE);
    if (sp < 0) throw new Error(`${name}: byte ${p}: word ${i + 1} of ${V} has no space after it (${bytes.length - p < MAX_WORD_BYTES ? 'truncated file' : 'longer than 10,000 bytes'})`);
    if (sp === 0) throw new Error(`${name}: byte ${p}: word ${i + 1} of ${V} is empty`);
    if (bytes.subarray(p, p + sp).some((b) => b < SPACE)) throw new Error(`${name}: byte ${p}: word ${i + 1} of ${V} contains control bytes; is the header's dimension ${D} right?`);
    let word: string;
    try {
      word = decoder.decode(bytes.subarray(p, p + sp));
    } catch {
      throw new Error(`${name}: byte ${p}: word ${i + 1} of ${V} is not valid UTF-8`);
    }
    if (seen.has(word)) throw new Error(`${name}: byte ${p}: word ${JSON.stringify(word)} appears twice`);
    seen.add(word);
    words.push(word);
    p += sp + 1;
    const left = bytes.length - p;
    if (left < 4 * D) throw new Error(`${name}: byte ${p}: truncated: word ${i + 1} of ${V} (${JSON.stringify(word)}) needs ${4 * D} bytes of vector, ${left} left`);
    raw.set(bytes.subarray(p, p + 4 * D), i * 4 * D);
    p += 4 * D;
  }
  if (p < bytes.length && bytes[p] === NEWLINE && newlines !== false) p++;
  if (p < bytes.length) throw new Error(`${name}: byte ${p}: ${bytes.length - p} bytes after the ${V} words the header announces`);
  checkFinite(data, words, D, name);
  return new WordVectors(words, D, data);
}

function checkFinite(data: Float32Array, words: string[], D: number, name: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new Error(`${name}: word ${JSON.stringify(words[Math.floor(i / D)])} has a value that is not finite (${data[i]})`);
  }
}
