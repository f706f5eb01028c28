// GGUF metadata values: the 13 value types, their in-memory form, and the bounds-checked reader.
// Source: ggml/docs/gguf.md (enum gguf_metadata_value_type, union gguf_metadata_value_t).

/** Value type ids as stored in a file (GGUF_METADATA_VALUE_TYPE_*). */
export const GGUFValueType = {
  uint8: 0, int8: 1, uint16: 2, int16: 3, uint32: 4, int32: 5, float32: 6, bool: 7, string: 8, array: 9,
  uint64: 10, int64: 11, float64: 12,
} as const;

export type GGUFValueTypeName = keyof typeof GGUFValueType;
type NumberTypeName = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

/** An array value: every item has itemType (nested arrays are GGUFArray items). */
export interface GGUFArray {
  itemType: GGUFValueTypeName;
  items: number[] | bigint[] | boolean[] | string[] | GGUFArray[];
}

/** A metadata value with its GGUF type. 64-bit integers are bigints; other numbers are numbers. */
export type GGUFValue =
  | { type: NumberTypeName; value: number }
  | { type: 'uint64' | 'int64'; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; value: GGUFArray };

const NAMES = Object.keys(GGUFValueType) as GGUFValueTypeName[];

/** Name of a value type id, e.g. 8 -> 'string'; undefined for an unknown id. */
export function valueTypeName(id: number): GGUFValueTypeName | undefined {
  return NAMES.find((n) => GGUFValueType[n] === id);
}

/** Constructors for typed metadata values: GGUFValues.uint32(2048), GGUFValues.array('string', ['a']). */
export const GGUFValues = {
  uint8: (value: number): GGUFValue => ({ type: 'uint8', value }),
  int8: (value: number): GGUFValue => ({ type: 'int8', value }),
  uint16: (value: number): GGUFValue => ({ type: 'uint16', value }),
  int16: (value: number): GGUFValue => ({ type: 'int16', value }),
  uint32: (value: number): GGUFValue => ({ type: 'uint32', value }),
  int32: (value: number): GGUFValue => ({ type: 'int32', value }),
  float32: (value: number): GGUFValue => ({ type: 'float32', value }),
  float64: (value: number): GGUFValue => ({ type: 'float64', value }),
  uint64: (value: bigint | number): GGUFValue => ({ type: 'uint64', value: BigInt(value) }),
  int64: (value: bigint | number): GGUFValue => ({ type: 'int64', value: BigInt(value) }),
  bool: (value: boolean): GGUFValue => ({ type: 'bool', value }),
  string: (value: string): GGUFValue => ({ type: 'string', value }),
  array: (itemType: GGUFValueTypeName, items: GGUFArray['items']): GGUFValue => ({ type: 'array', value: { itemType, items } }),
};

// Bytes an item of each type takes at least (arrays: type + length; strings: the length).
const MIN_SIZE: Record<GGUFValueTypeName, number> = {
  uint8: 1, int8: 1, bool: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4,
  uint64: 8, int64: 8, float64: 8, string: 8, array: 12,
};

/** Deepest nesting of arrays the reader accepts (a hostile file could otherwise exhaust the stack). */
export const GGUF_MAX_ARRAY_DEPTH = 16;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A bounds-checked little-endian reader over a file's bytes; every failure names the file. */
export class GGUFCursor {
  pos = 0;
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array, readonly name: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  fail(msg: string): never {
    throw new Error(`${this.name}: ${msg}`);
  }
  get remaining(): number {
    return this.bytes.length - this.pos;
  }
  need(n: number, field: string): number {
    if (n > this.remaining) this.fail(`truncated: ${field} needs ${n} bytes at offset ${this.pos}, but the file ends at ${this.bytes.length}`);
    const p = this.pos;
    this.pos += n;
    return p;
  }
  u8(f: string): number { return this.view.getUint8(this.need(1, f)); }
  i8(f: string): number { return this.view.getInt8(this.need(1, f)); }
  u16(f: string): number { return this.view.getUint16(this.need(2, f), true); }
  i16(f: string): number { return this.view.getInt16(this.need(2, f), true); }
  u32(f: string): number { return this.view.getUint32(this.need(4, f), true); }
  i32(f: string): number { return this.view.getInt32(this.need(4, f), true); }
  f32(f: string): number { return this.view.getFloat32(this.need(4, f), true); }
  f64(f: string): number { return this.view.getFloat64(this.need(8, f), true); }
  u64(f: string): bigint { return this.view.getBigUint64(this.need(8, f), true); }
  i64(f: string): bigint { return this.view.getBigInt64(this.need(8, f), true); }

  /** A u64 count of items taking at least minItemBytes each, refused if the rest of the file can't hold them. */
  count(field: string, minItemBytes: number): number {
    const n = this.u64(field);
    if (n * BigInt(minItemBytes) > BigInt(this.remaining)) {
      this.fail(`${field} is ${n}, more than the ${this.remaining} bytes left in the file can hold`);
    }
    return Number(n);
  }

  /** A GGUF string (u64 length + UTF-8), refused if longer than the file or maxBytes, or not UTF-8. */
  string(field: string, maxBytes = Number.MAX_SAFE_INTEGER): string {
    const n = this.u64(`${field} (length)`);
    if (n > BigInt(this.remaining)) this.fail(`${field}: string length ${n} is larger than the ${this.remaining} bytes left in the file`);
    if (n > BigInt(maxBytes)) this.fail(`${field}: string length ${n} exceeds the limit of ${maxBytes} bytes`);
    const p = this.need(Number(n), field);
    try {
      return utf8.decode(this.bytes.subarray(p, p + Number(n)));
    } catch {
      return this.fail(`${field}: string is not valid UTF-8 (at byte ${p})`);
    }
  }
}

function readArray(c: GGUFCursor, where: string, depth: number): GGUFArray {
  if (depth >= GGUF_MAX_ARRAY_DEPTH) c.fail(`${where}: arrays nested deeper than ${GGUF_MAX_ARRAY_DEPTH} levels`);
  const id = c.u32(`${where}: array item type`);
  const itemType = valueTypeName(id);
  if (!itemType) c.fail(`${where}: unknown array item type ${id}`);
  const n = c.count(`${where}: array length`, MIN_SIZE[itemType!]);
  const items: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) items[i] = readValue(c, id, `${where}[${i}]`, depth + 1).value;
  return { itemType: itemType!, items: items as GGUFArray['items'] };
}

/** Reads one value of type id at the cursor. `where` names it in errors; depth counts array nesting. */
export function readValue(c: GGUFCursor, id: number, where: string, depth: number): GGUFValue {
  switch (id) {
    case 0: return { type: 'uint8', value: c.u8(where) };
    case 1: return { type: 'int8', value: c.i8(where) };
    case 2: return { type: 'uint16', value: c.u16(where) };
    case 3: return { type: 'int16', value: c.i16(where) };
    case 4: return { type: 'uint32', value: c.u32(where) };
    case 5: return { type: 'int32', value: c.i32(where) };
    case 6: return { type: 'float32', value: c.f32(where) };
    case 7: {
      const b = c.u8(where);
      if (b > 1) c.fail(`${where}: bool must be 0 or 1, got ${b}`);
      return { type: 'bool', value: b === 1 };
    }
    case 8: return { type: 'string', value: c.string(where) };
    case 9: return { type: 'array', value: readArray(c, where, depth) };
    case 10: return { type: 'uint64', value: c.u64(where) };
    case 11: return { type: 'int64', value: c.i64(where) };
    case 12: return { type: 'float64', value: c.f64(where) };
    default: return c.fail(`${where}: unknown value type ${id}`);
  }
}
