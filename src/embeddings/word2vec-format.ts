// The two vector file formats of the original word2vec tool (word2vec.c, TrainModel: "Save the word
// vectors"), read and written from plain strings and bytes so the same code runs in Node and in a browser
// (vectors-file.node.ts does the disk I/O).
//
// Text:    "V D\n", then V lines "word v1 v2 … vD \n", each value printed with C's "%lf " (6 decimals and a
//          space, so lines end in a space). Readers must also accept lines without the trailing space (gensim).
// Binary:  "V D\n", then V records: the word's UTF-8 bytes, one space, D little-endian float32 (4·D bytes)
//          and "\n". (gensim writes no "\n" after a record; we read both, but a file must be consistent.)
//
// Worked example, two words and D = 2:
//   text    "2 2\n</s> 0.001000 -0.002000 \nparis 0.500000 0.250000 \n"
//   binary  "2 2\n" "</s> " 6f 12 83 3a 6f 12 03 bb "\n" "paris " 00 00 00 3f 00 00 80 3e "\n"
// Errors name the place: `NAME:LINE: problem` for text, `NAME: byte N: problem` for binary.
// Assumes a little-endian host (every browser and Node platform in practice).
import { WordVectors } from './vectors.js';

/** a value of the text format: a decimal number such as 0.001000, -2 or 1.5e-05 */
export const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** the header "V D" as two positive integers, or null */
function parseHeader(line: string): [number, number] | null {
  const m = /^\s*(\d+)[ \t]+(\d+)\s*$/.exec(line);
  if (!m) return null;
  const v = Number(m[1]);
  const d = Number(m[2]);
  return Number.isSafeInteger(v) && Number.isSafeInteger(d) && d >= 1 ? [v, d] : null;
}

/**
 * Parses the text format. Throws `NAME:LINE: …` for a bad header, a line with the wrong number of values,
 * a value that is not a finite number, a repeated word, or more or fewer lines than the header announces.
 */
export function readWord2VecText(text: string, name = 'vectors'): WordVectors {
  const lines = text.split('\n');
  const header = parseHeader(lines[0].replace(/\r$/, ''));
  if (!header) throw new Error(`${name}:1: the header must be "WORDS DIMENSIONS" (two whole numbers), got ${JSON.stringify(lines[0].slice(0, 60))}`);
  const [V, D] = header;
  let last = lines.length;
  while (last > 1 && lines[last - 1].trim() === '') last--;
  // a header far larger than the file is the file's mistake, not memory's: said before the V×D floats are allocated (small ones: line by line below)
  if (V * D > 2 ** 24 && last - 1 < V) throw new Error(`${name}:1: the header announces ${V} words × ${D} dimensions, the file has ${last - 1} lines of words`);
  const words: string[] = [];
  const seen = new Map<string, number>();
  const data = new Float32Array(V * D);
  for (let i = 0; i < Math.min(V, last - 1); i++) {
    const where = `${name}:${i + 2}`;
    const parts = lines[i + 1].replace(/\r$/, '').split(/[ \t]+/);
    if (parts[parts.length - 1] === '') parts.pop();
    const word = parts[0];
    if (!word) throw new Error(`${where}: expected a word and ${D} values, got ${parts.length ? 'a line starting with a space' : 'a blank line'}`);
    if (parts.length - 1 !== D) throw new Error(`${where}: word ${JSON.stringify(word)} has ${parts.length - 1} values, the header says ${D} dimensions`);
    if (seen.has(word)) throw new Error(`${where}: word ${JSON.stringify(word)} already appeared on line ${seen.get(word)! + 2}`);
    seen.set(word, i);
    words.push(word);
    for (let j = 0; j < D; j++) {
      const s = parts[j + 1];
      const v = Number(s);
      if (!NUMBER.test(s) || !Number.isFinite(v)) throw new Error(`${where}: value ${j + 1} of word ${JSON.stringify(word)} is not a finite number: ${JSON.stringify(s.slice(0, 30))}`);
      if (!Number.isFinite(Math.fround(v))) throw new Error(`${where}: value ${j + 1} of word ${JSON.stringify(word)} is ${s.slice(0, 30)}, beyond the range of a 32-bit float (±3.4e38) the vectors are kept in`);
      data[i * D + j] = v;
    }
  }
  if (last - 1 > V) throw new Error(`${name}:${V + 2}: more lines than the ${V} words the header announces`);
  if (last - 1 < V) throw new Error(`${name}:${last + 1}: the header announces ${V} words, the file has ${last - 1}`);
  return new WordVectors(words, D, data);
}

/** the text format, byte for byte as the original tool prints it ("%lf " per value) */
export function writeWord2VecText(vectors: WordVectors): string {
  const { dim, data, words } = vectors;
  const out: string[] = [`${words.length} ${dim}\n`];
  words.forEach((w, i) => {
    checkWord(w, i);
    let line = w + ' ';
    for (let j = 0; j < dim; j++) line += formatLf(data[i * dim + j], w) + ' ';
    out.push(line + '\n');
  });
  return out.join('');
}

/**
 * A float32 value as C's printf("%lf") prints it: 6 decimals, rounded exactly, ties to even (glibc).
 * For a float32 x, |x|·10⁶ is exact in a double, so a tie shows as a fraction of exactly 0.5; everything
 * else toFixed rounds exactly already. Example: 0.0078125 → "0.007812" (toFixed alone gives "0.007813").
 */
export function formatLf(x: number, word = ''): string {
  if (!Number.isFinite(x)) throw new Error(`word ${JSON.stringify(word)} has a value that is not finite (${x})`);
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  if (ax >= 1e21) return (neg ? '-' : '') + BigInt(ax).toString() + '.000000';
  const y = ax * 1e6;
  const fl = Math.floor(y);
  if (y - fl !== 0.5) return (neg ? '-' : '') + ax.toFixed(6);
  const n = fl % 2 === 0 ? fl : fl + 1;
  const int = Math.floor(n / 1e6);
  return `${neg ? '-' : ''}${int}.${String(n - int * 1e6).padStart(6, '0')}`;
}

function checkWord(w: string, i: number): void {
  if (w === '' || /[ \t\n\r]/.test(w)) throw new Error(`word ${i} (${JSON.stringify(w)}) cannot be written: words must be non-empty, without spaces, tabs or newlines`);
}

/** the binary format as the original tool writes it: header, then "word " + D float32 LE + "\n" per word */
export function writeWord2VecBinary(vectors: WordVectors): Uint8Array {
  const { dim, data, words } = vectors;
  const enc = new TextEncoder();
  const head = enc.encode(`${words.length} ${dim}\n`);
  const encoded = words.map((w, i) => (checkWord(w, i), enc.encode(w)));
  const size = head.length + encoded.reduce((s, b) => s + b.length + 2 + 4 * dim, 0);
  const out = new Uint8Array(size);
  out.set(head, 0);
  let p = head.length;
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  encoded.forEach((b, i) => {
    out.set(b, p);
    out[p + b.length] = 0x20;
    p += b.length + 1;
    out.set(raw.subarray(i * dim * 4, (i + 1) * dim * 4), p);
    p += dim * 4;
    out[p++] = 0x0a;
  });
  return out;
}
