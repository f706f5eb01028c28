// UTF-8 helpers shared by the byte-level tokenizers. Browser-safe (no Buffer).
//
// Byte strings are kept as "binary strings": one JS char per byte (char code 0–255). They are cheap Map keys,
// `atob` produces them directly from base64, and for ASCII text the binary string IS the text, which lets the
// BPE encoder skip UTF-8 encoding entirely on its hottest path.

const decoder = new TextDecoder('utf-8');
const fatalDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * UTF-8 bytes of s[start, end) written into out from offset `at` (out must hold 3 bytes per UTF-16 unit);
 * returns the offset after the last byte written (the length when at = 0).
 * A lone surrogate becomes U+FFFD (EF BF BD), exactly as TextEncoder and tiktoken do.
 */
export function utf8EncodeInto(s: string, start: number, end: number, out: Uint8Array, at = 0): number {
  let n = at;
  for (let i = start; i < end; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 63);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < end ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out[n++] = 0xf0 | (c >> 18);
          out[n++] = 0x80 | ((c >> 12) & 63);
          out[n++] = 0x80 | ((c >> 6) & 63);
          out[n++] = 0x80 | (c & 63);
          continue;
        }
        c = 0xfffd;
      }
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 63);
      out[n++] = 0x80 | (c & 63);
    }
  }
  return n;
}

export function utf8Encode(s: string): Uint8Array {
  const buf = new Uint8Array(s.length * 3);
  return buf.slice(0, utf8EncodeInto(s, 0, s.length, buf));
}

/** lenient decode: invalid sequences become U+FFFD (what every byte-level tokenizer's decode does) */
export function utf8Decode(bytes: Uint8Array | ArrayBufferLike | ArrayBufferView): string {
  return decoder.decode(asBytes(bytes, 'utf8Decode'));
}

/**
 * The text a binary string's bytes spell, or null when they are not well-formed UTF-8 (overlong forms,
 * surrogates and code points past U+10FFFF included), so that text ↔ bytes stays one-to-one.
 */
export function binaryToText(bin: string): string | null {
  let out = '';
  for (let i = 0; i < bin.length; ) {
    const c = bin.charCodeAt(i);
    let need: number, min: number, cp: number;
    if (c < 0x80) { out += bin[i++]; continue; }
    else if (c >= 0xc2 && c <= 0xdf) { need = 1; min = 0x80; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { need = 2; min = 0x800; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 3; min = 0x10000; cp = c & 0x07; }
    else return null;
    if (i + need >= bin.length) return null; // truncated sequence
    for (let k = 1; k <= need; k++) {
      const d = bin.charCodeAt(i + k);
      if ((d & 0xc0) !== 0x80) return null;
      cp = (cp << 6) | (d & 63);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
    out += String.fromCodePoint(cp);
    i += need + 1;
  }
  return out;
}

export function binaryToBytes(bin: string): Uint8Array {
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesToBinary(bytes: ArrayLike<number>, start = 0, end = bytes.length): string {
  let s = '';
  // chunks keep String.fromCharCode's argument count well under engine limits
  for (let i = start; i < end; i += 8192) {
    s += String.fromCharCode.apply(null, Array.prototype.slice.call(bytes, i, Math.min(end, i + 8192)) as number[]);
  }
  return s;
}

/**
 * Strict decode for input files: invalid UTF-8 is an error that names the file, line and byte offset,
 * rather than silently turning into U+FFFD and poisoning a vocabulary.
 */
export function decodeUtf8Strict(input: Uint8Array | ArrayBufferLike | ArrayBufferView, name = 'input'): string {
  const bytes = asBytes(input, name);
  try {
    let start = 0;
    if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3; // BOM
    return fatalDecoder.decode(bytes.subarray(start));
  } catch {
    const at = firstInvalidUtf8(bytes);
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 10) line++;
    throw new Error(
      `${name}: invalid UTF-8 at byte ${at} (line ${line}): 0x${bytes[at]?.toString(16).padStart(2, '0')}; ` +
        `convert the file to UTF-8 first (e.g. iconv -f GB18030 -t UTF-8)`,
    );
  }
}

/**
 * The bytes `input` covers as a Uint8Array view, without copying: a Uint8Array (a Node Buffer included,
 * whatever its byteOffset into a pooled ArrayBuffer) as is, an ArrayBuffer whole, any other view (DataView,
 * typed arrays) over exactly its byteOffset/byteLength. Throws naming `name` for anything else.
 */
export function asBytes(input: Uint8Array | ArrayBufferLike | ArrayBufferView, name = 'input'): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && input instanceof SharedArrayBuffer)) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const what = input === null ? 'null' : typeof input === 'object' ? (input as object).constructor?.name ?? 'object' : typeof input;
  throw new Error(`${name}: expected bytes (Uint8Array, Buffer, ArrayBuffer or DataView), got ${what}`);
}

/** offset of the first byte that starts an invalid UTF-8 sequence, or -1 */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let need = 0;
    let min = 0;
    if (c < 0x80) { i++; continue; }
    else if (c >= 0xc2 && c <= 0xdf) { need = 1; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { need = 2; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 3; min = 0x10000; }
    else return i;
    if (i + need >= b.length) return i;
    let cp = c & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if ((d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 63);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}
