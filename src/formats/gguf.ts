// GGUF: llama.cpp's model file format (version 3; version 2 has the same layout), read and written on
// plain bytes so the same code runs in Node and in a browser. Source: ggml/docs/gguf.md ("File Structure").
//
// Layout (all little-endian):
//   magic "GGUF" (47 47 55 46) | version u32 | tensor_count u64 | metadata_kv_count u64
//   metadata_kv × count:  key (string) | value_type u32 | value
//   tensor_info × count:  name (string) | n_dims u32 | dims u64 × n_dims (ne[0] first: the fastest-varying
//                         dimension, i.e. the reverse of a row-major shape) | ggml_type u32 | offset u64
//   zero padding to a multiple of ALIGNMENT (general.alignment, a uint32 power of two, default 32)
//   tensor data: each tensor at data_start + offset, offset a multiple of ALIGNMENT, zero padding between
//   string = len u64 | UTF-8 bytes;  array value = item_type u32 | len u64 | items (arrays may nest)
//
// Worked example: no metadata, one F32 tensor "w" of shape [2] holding [1, 2]:
//   47475546 03000000 | 01000000 00000000 | 00000000 00000000          header (24 bytes)
//   01000000 00000000 77 | 01000000 | 02000000 00000000 | 00000000 | 00000000 00000000   tensor info (33)
//   7 zero bytes (57 -> 64) | 0000803f 00000040 | 24 zero bytes       data at 64, padded: 96 bytes total
//
// The reader validates every count and length against the bytes that remain before allocating, and
// returns lazy views into the input (no copy of the data section). Errors are one line naming the file
// and the field. The writer builds a complete file in memory; callers write it atomically.

import { ggmlTypeInfo, ggmlTypeName } from '../quant/types.js';
import { dequantize } from '../quant/index.js';
import { GGUFCursor, GGUFValueType, readValue, valueTypeName, type GGUFValue } from './gguf-values.js';
import { encodeValue, GGUFBuilder } from './gguf-encode.js';

export { GGUFValueType, GGUFValues, valueTypeName, type GGUFValue, type GGUFArray, type GGUFValueTypeName } from './gguf-values.js';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_MAX_DIMS: tensors have at most 4 dimensions. */
export const GGUF_MAX_DIMS = 4;

/** One tensor's entry: where its data lies and what it holds. */
export interface GGUFTensorInfo {
  name: string;
  /** Dimensions as stored, ne[0] first (fastest-varying), e.g. a [rows, cols] matrix has dims [cols, rows]. */
  dims: number[];
  /** Row-major shape (dims reversed), as numpy / PyTorch would write it. */
  shape: number[];
  /** ggml type id (see quant/types.ts GGMLType). */
  type: number;
  typeName: string;
  nElements: number;
  nBytes: number;
  /** Offset relative to the start of the data section, as stored. */
  offset: number;
  /** Absolute byte offset of the data in the file. */
  fileOffset: number;
  /** A view (no copy) of the tensor's bytes in the file. */
  data(): Uint8Array;
}

/** A parsed GGUF file. Tensor data stays in the input bytes and is viewed lazily. */
export interface GGUFFile {
  /** The name given to readGGUF (a path, URL, ...), used in error messages. */
  name: string;
  version: number;
  alignment: number;
  metadata: Map<string, GGUFValue>;
  tensors: GGUFTensorInfo[];
  /** Absolute offset of the data section (after the infos and padding). */
  dataOffset: number;
  byteLength: number;
  tensor(name: string): GGUFTensorInfo | undefined;
}

function alignUp(n: number, a: number): number {
  return n + ((a - (n % a)) % a);
}

// Header and metadata: returns the cursor positioned at the first tensor info.
function readHeader(c: GGUFCursor): { version: number; tensorCount: number; metadata: Map<string, GGUFValue> } {
  if (c.bytes.length < 24) c.fail(`truncated: ${c.bytes.length} bytes, a GGUF header needs 24`);
  const magic = c.u32('magic');
  if (magic !== GGUF_MAGIC) {
    const got = Array.from(c.bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    c.fail(`not a GGUF file: magic is ${got}, expected 47 47 55 46 ("GGUF")`);
  }
  const version = c.u32('version');
  if (version !== 2 && version !== 3) c.fail(`unsupported GGUF version ${version} (supported: 2, 3)`);
  const tensorCount = c.count('tensor_count', 24); // a tensor info takes at least 24 bytes
  const kvCount = c.count('metadata_kv_count', 13); // a key-value pair takes at least 13 bytes
  const metadata = new Map<string, GGUFValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = c.string(`metadata key #${i}`, 65535);
    if (metadata.has(key)) c.fail(`metadata key "${key}" appears twice`);
    const type = c.u32(`metadata "${key}": value type`);
    metadata.set(key, readValue(c, type, `metadata "${key}"`, 0));
  }
  return { version, tensorCount, metadata };
}

function readAlignment(c: GGUFCursor, metadata: Map<string, GGUFValue>): number {
  const a = metadata.get('general.alignment');
  if (a === undefined) return GGUF_DEFAULT_ALIGNMENT;
  if (a.type !== 'uint32') c.fail(`metadata "general.alignment" must be a uint32, got ${a.type}`);
  const v = a.value as number;
  if (v === 0 || (v & (v - 1)) !== 0) c.fail(`metadata "general.alignment" must be a non-zero power of two, got ${v}`);
  return v;
}

interface RawInfo { name: string; dims: number[]; type: number; offset: number; nElements: number; nBytes: number }

function readTensorInfo(c: GGUFCursor, i: number, alignment: number): RawInfo {
  const name = c.string(`tensor #${i}: name`, 65535);
  const where = `tensor "${name}"`;
  const nDims = c.u32(`${where}: n_dimensions`);
  if (nDims > GGUF_MAX_DIMS) c.fail(`${where}: ${nDims} dimensions, at most ${GGUF_MAX_DIMS} are allowed`);
  const dims: number[] = [];
  let nElements = 1;
  for (let d = 0; d < nDims; d++) {
    const v = c.u64(`${where}: dimension ${d}`);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) c.fail(`${where}: dimension ${d} is ${v}, too large`);
    dims.push(Number(v));
    nElements *= Number(v);
    if (nElements > Number.MAX_SAFE_INTEGER) c.fail(`${where}: ${dims.join(' x ')}... elements overflow`);
  }
  const type = c.u32(`${where}: type`);
  const info = ggmlTypeInfo(type);
  if (!info) c.fail(`${where}: unknown ggml type ${type}`);
  const offset64 = c.u64(`${where}: offset`);
  if (offset64 > BigInt(Number.MAX_SAFE_INTEGER)) c.fail(`${where}: offset ${offset64} is past any file this reader can hold`);
  const offset = Number(offset64);
  if (offset % alignment !== 0) c.fail(`${where}: offset ${offset} is not a multiple of the alignment ${alignment}`);
  const ne0 = dims[0] ?? 1;
  if (ne0 % info!.blockSize !== 0) {
    c.fail(`${where}: first dimension ${ne0} is not a multiple of the ${info!.name} block size ${info!.blockSize}`);
  }
  return { name, dims, type, offset, nElements, nBytes: (nElements / info!.blockSize) * info!.typeSize };
}

/**
 * Parse and validate a GGUF (v2/v3) image. `name` (a path, URL, ...) starts every error message, e.g.
 * `model.gguf: tensor "blk.0.attn_q.weight": data ends at byte 9000, past the end of the file (8000 bytes)`.
 * Throws on: truncation, wrong magic, unsupported version, counts or lengths larger than the file can hold,
 * invalid UTF-8, unknown value or ggml types, bad booleans, duplicate keys or tensor names, a bad
 * general.alignment, misaligned, overlapping or out-of-bounds tensor data.
 */
export function readGGUF(bytes: Uint8Array, name = '<buffer>'): GGUFFile {
  const c = new GGUFCursor(bytes, name);
  const { version, tensorCount, metadata } = readHeader(c);
  const alignment = readAlignment(c, metadata);
  const raw: RawInfo[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const t = readTensorInfo(c, i, alignment);
    if (seen.has(t.name)) c.fail(`tensor "${t.name}" appears twice`);
    seen.add(t.name);
    raw.push(t);
  }
  const dataOffset = alignUp(c.pos, alignment);
  if (tensorCount > 0 && dataOffset > bytes.length) {
    c.fail(`truncated: the data section starts at byte ${dataOffset}, past the end of the file (${bytes.length} bytes)`);
  }
  checkData(c, raw, dataOffset);
  const tensors = raw.map((t) => makeInfo(t, bytes, dataOffset));
  const byName = new Map(tensors.map((t) => [t.name, t]));
  return { name, version, alignment, metadata, tensors, dataOffset, byteLength: bytes.length, tensor: (n) => byName.get(n) };
}

function checkData(c: GGUFCursor, raw: RawInfo[], dataOffset: number): void {
  for (const t of raw) {
    const end = dataOffset + t.offset + t.nBytes;
    if (end > c.bytes.length) {
      c.fail(`tensor "${t.name}": data ends at byte ${end}, past the end of the file (${c.bytes.length} bytes)`);
    }
  }
  const sorted = [...raw].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const p = sorted[i - 1]!;
    if (sorted[i]!.offset < p.offset + p.nBytes) {
      c.fail(`tensor "${sorted[i]!.name}" (offset ${sorted[i]!.offset}) overlaps tensor "${p.name}" (bytes ${p.offset}..${p.offset + p.nBytes})`);
    }
  }
}

function makeInfo(t: RawInfo, bytes: Uint8Array, dataOffset: number): GGUFTensorInfo {
  const fileOffset = dataOffset + t.offset;
  return {
    ...t,
    shape: [...t.dims].reverse(),
    typeName: ggmlTypeName(t.type),
    fileOffset,
    data: () => bytes.subarray(fileOffset, fileOffset + t.nBytes),
  };
}

/** A tensor to write: dims in GGUF order (ne[0] first) or a row-major shape, one of the two. */
export interface GGUFTensorInput {
  name: string;
  type: number;
  data: Uint8Array;
  dims?: number[];
  shape?: number[];
}

/**
 * Build a complete GGUF v3 file in memory: header, metadata in the given order, tensor infos, padding and
 * tensor data at aligned offsets (in the given order), each tensor padded to the alignment. The alignment is metadata's general.alignment
 * (uint32, a power of two) or 32. Throws (`writeGGUF: ...`) on a bad value, a tensor whose data length does
 * not match its type and dims, a duplicate tensor name or more than 4 dimensions.
 */
export function writeGGUF(metadata: Map<string, GGUFValue> | Record<string, GGUFValue>, tensors: GGUFTensorInput[] = []): Uint8Array {
  const entries = metadata instanceof Map ? [...metadata.entries()] : Object.entries(metadata);
  const b = new GGUFBuilder();
  b.u32(GGUF_MAGIC).u32(GGUF_VERSION).u64(BigInt(tensors.length)).u64(BigInt(entries.length));
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  for (const [key, value] of entries) {
    if (key === 'general.alignment') alignment = checkAlignmentValue(value);
    b.string(key);
    encodeValue(b, value, `writeGGUF: metadata "${key}"`, 0);
  }
  const infos = tensors.map((t) => checkTensor(t));
  const seen = new Set<string>();
  let offset = 0;
  const offsets: number[] = [];
  for (const t of infos) {
    if (seen.has(t.name)) throw new Error(`writeGGUF: tensor "${t.name}" appears twice`);
    seen.add(t.name);
    b.string(t.name).u32(t.dims.length);
    for (const d of t.dims) b.u64(BigInt(d));
    b.u32(t.type).u64(BigInt(offset));
    offsets.push(offset);
    offset = alignUp(offset + t.data.length, alignment);
  }
  b.pad(alignment);
  const dataStart = b.length;
  // Every tensor, the last one included, is followed by zero padding to the alignment (as ggml and the
  // gguf package write), so files from both writers are byte-identical.
  const out = new Uint8Array(dataStart + offset);
  out.set(b.finish(), 0);
  infos.forEach((t, i) => out.set(t.data, dataStart + offsets[i]!));
  return out;
}

function checkAlignmentValue(v: GGUFValue): number {
  if (v.type !== 'uint32') throw new Error(`writeGGUF: metadata "general.alignment" must be a uint32, got ${v.type}`);
  const a = v.value as number;
  if (!Number.isInteger(a) || a <= 0 || (a & (a - 1)) !== 0) {
    throw new Error(`writeGGUF: metadata "general.alignment" must be a non-zero power of two, got ${a}`);
  }
  return a;
}

function checkTensor(t: GGUFTensorInput): { name: string; type: number; dims: number[]; data: Uint8Array } {
  const where = `writeGGUF: tensor "${t.name}"`;
  if (typeof t.name !== 'string' || t.name.length === 0) throw new Error('writeGGUF: tensor names must be non-empty strings');
  const dims = t.dims ?? (t.shape ? [...t.shape].reverse() : undefined);
  if (!dims || (t.dims && t.shape)) throw new Error(`${where}: give exactly one of dims or shape`);
  if (dims.length > GGUF_MAX_DIMS) throw new Error(`${where}: ${dims.length} dimensions, at most ${GGUF_MAX_DIMS} are allowed`);
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`${where}: dims must be non-negative integers, got ${JSON.stringify(dims)}`);
  const info = ggmlTypeInfo(t.type);
  if (!info) throw new Error(`${where}: unknown ggml type ${t.type}`);
  const n = dims.reduce((a, d) => a * d, 1);
  if ((dims[0] ?? 1) % info.blockSize !== 0) {
    throw new Error(`${where}: first dimension ${dims[0]} is not a multiple of the ${info.name} block size ${info.blockSize}`);
  }
  const want = (n / info.blockSize) * info.typeSize;
  if (!(t.data instanceof Uint8Array)) throw new Error(`${where}: data must be a Uint8Array`);
  if (t.data.length !== want) throw new Error(`${where}: ${info.name} dims [${dims.join(', ')}] need ${want} bytes, data has ${t.data.length}`);
  return { name: t.name, type: t.type, dims, data: t.data };
}

/**
 * A tensor's values as float32 (a new array of nElements, row-major), decoded with src/quant for the
 * types it supports (F32, F16, Q4_0, Q4_1, Q8_0, Q4_K, Q6_K, ...). Throws for other types.
 */
export function ggufTensorFloat32(t: GGUFTensorInfo): Float32Array {
  return dequantize(t.type, t.data(), t.nElements);
}
