// safetensors: Hugging Face's "just tensors" file format, read and written from plain bytes so the
// same code runs in Node and in a browser (no fs here; see atomic.node.ts for writing to disk).
//
// Layout (https://github.com/huggingface/safetensors, README "Format"):
//
//   [ 8 bytes ]  N, the header size, unsigned 64-bit little-endian
//   [ N bytes ]  UTF-8 JSON object, starting with '{', may be right-padded with spaces (0x20)
//   [ rest    ]  the byte buffer: every tensor's raw little-endian, C-order (row-major) data
//
// The header maps each tensor name to { dtype, shape, data_offsets: [begin, end] } where the offsets are
// relative to the start of the byte buffer, plus an optional "__metadata__" object of string -> string.
// The buffer must be covered exactly: no holes, no overlaps, nothing after the last tensor.
//
// Worked example: one F32 tensor "w" of shape [2] holding [1, 2] with metadata {"format":"pt"}:
//
//   header JSON  {"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}
//                (85 bytes) padded with 3 spaces to 88 so the buffer starts 8-byte aligned
//   file         58 00 00 00 00 00 00 00 | 88 header bytes | 00 00 80 3f 00 00 00 40    (104 bytes total)
//
// The writer puts tensors with the widest dtype first (then by name, like the reference implementation),
// so with the 8-aligned header every tensor lands on a multiple of its own element size and a reader
// could view it in place. Our reader copies anyway: the input may be a view at any byteOffset (a Node
// Buffer from readFileSync or Buffer.from often is a view into a larger, pooled ArrayBuffer), an
// ArrayBuffer or a DataView; only the bytes the view covers are read, never `.buffer` as a whole.
//
// Assumes a little-endian host (every browser and Node platform in practice).

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64' | 'U8' | 'I8';

/** F16 and BF16 hold raw 16-bit patterns in a Uint16Array; use toFloat32() to get numbers. */
export type SafetensorsData = Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array;

export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data: SafetensorsData;
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

interface DtypeInfo {
  bytes: number;
  // The typed-array class a tensor of this dtype must use (F16/BF16 keep raw bits in a Uint16Array).
  ctor: { new (buf: ArrayBuffer): SafetensorsData; name: string };
}

const DTYPES: Record<SafetensorsDtype, DtypeInfo> = {
  I64: { bytes: 8, ctor: BigInt64Array },
  F32: { bytes: 4, ctor: Float32Array },
  I32: { bytes: 4, ctor: Int32Array },
  F16: { bytes: 2, ctor: Uint16Array },
  BF16: { bytes: 2, ctor: Uint16Array },
  U8: { bytes: 1, ctor: Uint8Array },
  I8: { bytes: 1, ctor: Int8Array },
};

const SUPPORTED = Object.keys(DTYPES).join(', ');

// The reference implementation refuses headers over 100 MB so a hostile length can't make us allocate
// or parse gigabytes before noticing anything is wrong.
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

function isDtype(s: unknown): s is SafetensorsDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, s);
}

/** Bytes per element of a dtype, e.g. dtypeBytes('BF16') === 2. */
export function dtypeBytes(dtype: SafetensorsDtype): number {
  return DTYPES[dtype].bytes;
}

function numel(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function shapeStr(shape: number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Serialize tensors (and optional string metadata) into a safetensors byte image.
 * Throws on an unknown dtype, a typed array that does not match the dtype, or data.length != prod(shape).
 */
export function writeSafetensors(
  tensors: Record<string, SafetensorsEntry>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name]!;
    const where = `writeSafetensors: tensor "${name}"`;
    if (name === METADATA_KEY) throw new Error(`writeSafetensors: "${METADATA_KEY}" is reserved and cannot be a tensor name`);
    if (name.length === 0) throw new Error('writeSafetensors: tensor names must be non-empty');
    if (!isDtype(t.dtype)) throw new Error(`${where}: unknown dtype ${JSON.stringify(t.dtype)} (supported: ${SUPPORTED})`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`);
    }
    const info = DTYPES[t.dtype];
    if (!(t.data instanceof info.ctor)) {
      throw new Error(`${where}: dtype ${t.dtype} needs a ${info.ctor.name}, got ${t.data?.constructor?.name ?? typeof t.data}`);
    }
    if (t.data.length !== numel(t.shape)) {
      throw new Error(`${where}: shape ${shapeStr(t.shape)} has ${numel(t.shape)} elements but data has ${t.data.length}`);
    }
  }
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`writeSafetensors: metadata "${k}" must be a string, got ${typeof v}`);
    }
  }

  // Widest element first, then by name: keeps every tensor naturally aligned and the output deterministic.
  names.sort((a, b) => {
    const d = DTYPES[tensors[b]!.dtype].bytes - DTYPES[tensors[a]!.dtype].bytes;
    return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
  });

  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    const end = offset + t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const name of names) {
    const d = tensors[name]!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

/** what readSafetensors accepts: a Uint8Array (a Node Buffer included) at any byteOffset, an ArrayBuffer, a DataView */
export type SafetensorsBytes = Uint8Array | ArrayBufferLike | ArrayBufferView;

/** the bytes `input` covers as a Uint8Array view (no copy); throws naming `name` for anything else */
function asBytes(input: SafetensorsBytes, name: string): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && input instanceof SharedArrayBuffer)) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const what = input === null ? 'null' : typeof input === 'object' ? (input as object).constructor?.name ?? 'object' : typeof input;
  throw new Error(`${name}: safetensors input must be bytes (Uint8Array, Buffer, ArrayBuffer or DataView), got ${what}`);
}

type Fail = (msg: string) => never;
interface RawEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** the 8-byte length and the JSON header after it; returns the header object and where the data starts */
function readHeader(bytes: Uint8Array, fail: Fail): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, need at least 8 for the header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) fail(`header length ${n64} runs past the end of the file (${bytes.length} bytes, so at most ${bytes.length - 8})`);
  const n = Number(n64);
  if (n > MAX_HEADER_BYTES) fail(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (n < 2 || bytes[8] !== 0x7b) fail(`header must be a JSON object starting with '{'`);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header JSON must be an object');
  return { header: header as Record<string, unknown>, dataStart: 8 + n };
}

function readMetadata(raw: unknown, fail: Fail): Record<string, string> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(`"${METADATA_KEY}" must be an object of strings`);
  const metadata: Record<string, string> = {};
  for (const [mk, mv] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof mv !== 'string') fail(`"${METADATA_KEY}.${mk}" must be a string, got ${JSON.stringify(mv)}`);
    metadata[mk] = mv as string;
  }
  return metadata;
}

/** one tensor's header entry, checked: dtype, shape, offsets inside the data section and matching the size */
function readEntry(key: string, raw: unknown, dataLen: number, fail: Fail): RawEntry {
  const where = `tensor "${key}"`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(`${where}: entry must be an object`);
  const { dtype, shape, data_offsets } = raw as Record<string, unknown>;
  if (!isDtype(dtype)) fail(`${where}: unknown dtype ${JSON.stringify(dtype)} (supported: ${SUPPORTED})`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`${where}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(data_offsets)}`);
  }
  const [begin, end] = data_offsets as number[];
  if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] has begin after end`);
  if (end > dataLen) fail(`${where}: data_offsets [${begin}, ${end}] out of range (the data section is ${dataLen} bytes; file truncated?)`);
  const sh = shape as number[];
  const want = numel(sh) * DTYPES[dtype as SafetensorsDtype].bytes;
  if (want !== end - begin) fail(`${where}: shape ${shapeStr(sh)} × ${dtype} needs ${want} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
  return { name: key, dtype: dtype as SafetensorsDtype, shape: sh, begin, end };
}

/** the data section must be tiled exactly: sorted by begin, each tensor starts where the previous one ended */
function checkTiling(entries: RawEntry[], dataLen: number, fail: Fail): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0, prev = '';
  for (const e of sorted) {
    if (e.begin < cursor) fail(`tensor "${e.name}" [${e.begin}, ${e.end}] overlaps tensor "${prev}" (which ends at ${cursor})`);
    if (e.begin > cursor) fail(`hole in the data section: bytes [${cursor}, ${e.begin}) belong to no tensor (before "${e.name}")`);
    (cursor = e.end), (prev = e.name);
  }
  if (cursor !== dataLen) fail(`data section is ${dataLen} bytes but the tensors cover only ${cursor} (trailing bytes)`);
}

/**
 * Parse and validate a safetensors byte image. `name` (a path, URL, ...) prefixes every error message.
 * Returned tensors own fresh copies of their data (safe to keep after `bytes` is reused).
 * Throws `NAME: invalid safetensors file: …` (one line) for anything malformed.
 */
export function readSafetensors(input: SafetensorsBytes, name = '<buffer>'): SafetensorsFile {
  const bytes = asBytes(input, name);
  const fail: Fail = (msg) => {
    throw new Error(`${name}: invalid safetensors file: ${msg}`);
  };
  const { header, dataStart } = readHeader(bytes, fail);
  const dataLen = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: RawEntry[] = [];
  for (const [key, raw] of Object.entries(header)) {
    if (key === METADATA_KEY) metadata = readMetadata(raw, fail);
    else entries.push(readEntry(key, raw, dataLen, fail));
  }
  checkTiling(entries, dataLen, fail);
  const tensors = new Map<string, SafetensorsEntry>();
  for (const e of entries) {
    // A fresh, aligned copy of exactly the tensor's bytes. Not bytes.slice(…).buffer: a Node Buffer's
    // slice() is a view, whose .buffer is the whole (possibly pooled) ArrayBuffer.
    const copy = new Uint8Array(e.end - e.begin);
    copy.set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: new DTYPES[e.dtype].ctor(copy.buffer) });
  }
  return { tensors, metadata };
}

// --- float conversions -----------------------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half bits -> number. e.g. 0x3c00 -> 1, 0xc000 -> -2, 0x7c00 -> Infinity, 0x0001 -> 2^-24. */
export function f16ToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero / subnormal
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bits -> number: bf16 is simply the top half of a float32. e.g. 0x3f80 -> 1. */
export function bf16ToNumber(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0]!;
}

/** number -> bfloat16 bits, rounding to nearest even (like torch). e.g. 1 -> 0x3f80. */
export function numberToBF16(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return ((bits >>> 16) | 0x40) & 0xffff; // keep NaN a NaN
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** number -> IEEE half bits, rounding to nearest even; overflow -> ±Infinity. e.g. 1 -> 0x3c00, 65520 -> 0x7c00. */
export function numberToF16(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // too small even for a subnormal: ±0
    mant |= 0x800000; // make the implicit 1 explicit, then shift into subnormal position
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m; // m may carry into the exponent field, which is exactly the right answer
  }
  let out = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && out & 1)) out++; // carry may round up into Infinity: correct
  return sign | out;
}

/** Float32 -> F16 or BF16 bit patterns, ready to be written as a Uint16Array tensor. */
export function fromFloat32(data: Float32Array, dtype: 'F16' | 'BF16'): Uint16Array {
  const conv = dtype === 'F16' ? numberToF16 : numberToBF16;
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = conv(data[i]!);
  return out;
}

/**
 * Any entry's values as a Float32Array: F32 is returned as is (no copy), F16/BF16 are decoded,
 * integer dtypes are converted (I64 beyond 2^24 loses precision, as float32 must).
 */
export function toFloat32(entry: SafetensorsEntry): Float32Array {
  const { dtype, data } = entry;
  if (dtype === 'F32') return data as Float32Array;
  const out = new Float32Array(data.length);
  if (dtype === 'BF16') {
    const src = data as Uint16Array;
    const dst = new Uint32Array(out.buffer);
    for (let i = 0; i < src.length; i++) dst[i] = src[i]! << 16;
  } else if (dtype === 'F16') {
    const src = data as Uint16Array;
    for (let i = 0; i < src.length; i++) out[i] = f16ToNumber(src[i]!);
  } else if (dtype === 'I64') {
    const src = data as BigInt64Array;
    for (let i = 0; i < src.length; i++) out[i] = Number(src[i]!);
  } else {
    out.set(data as Int32Array | Uint8Array | Int8Array);
  }
  return out;
}
