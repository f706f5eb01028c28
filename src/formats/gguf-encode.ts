// Writing GGUF metadata values: a growable little-endian byte builder and a validating value encoder.
// Source: ggml/docs/gguf.md (the same layouts gguf-values.ts reads).

import { GGUFValueType, type GGUFArray, type GGUFValue, type GGUFValueTypeName } from './gguf-values.js';

const utf8 = new TextEncoder();

/** Append-only little-endian byte buffer (doubles its capacity as it grows). */
export class GGUFBuilder {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): number {
    if (this.length + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const p = this.length;
    this.length += n;
    return p;
  }
  u8(v: number): this {
    const p = this.reserve(1); // reserve first: it may replace this.view
    this.view.setUint8(p, v);
    return this;
  }
  i8(v: number): this {
    const p = this.reserve(1); // reserve first: it may replace this.view
    this.view.setInt8(p, v);
    return this;
  }
  u16(v: number): this {
    const p = this.reserve(2); // reserve first: it may replace this.view
    this.view.setUint16(p, v, true);
    return this;
  }
  i16(v: number): this {
    const p = this.reserve(2); // reserve first: it may replace this.view
    this.view.setInt16(p, v, true);
    return this;
  }
  u32(v: number): this {
    const p = this.reserve(4); // reserve first: it may replace this.view
    this.view.setUint32(p, v, true);
    return this;
  }
  i32(v: number): this {
    const p = this.reserve(4); // reserve first: it may replace this.view
    this.view.setInt32(p, v, true);
    return this;
  }
  f32(v: number): this {
    const p = this.reserve(4); // reserve first: it may replace this.view
    this.view.setFloat32(p, v, true);
    return this;
  }
  f64(v: number): this {
    const p = this.reserve(8); // reserve first: it may replace this.view
    this.view.setFloat64(p, v, true);
    return this;
  }
  u64(v: bigint): this {
    const p = this.reserve(8);
    this.view.setBigUint64(p, v, true);
    return this;
  }
  i64(v: bigint): this {
    const p = this.reserve(8);
    this.view.setBigInt64(p, v, true);
    return this;
  }
  bytes(b: Uint8Array): this {
    const p = this.reserve(b.length);
    this.buf.set(b, p);
    return this;
  }
  string(s: string): this {
    const b = utf8.encode(s);
    return this.u64(BigInt(b.length)).bytes(b);
  }
  /** Zero bytes up to the next multiple of `alignment`. */
  pad(alignment: number): this {
    this.reserve((alignment - (this.length % alignment)) % alignment); // the buffer is zero-filled
    return this;
  }
  finish(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

const INT_RANGE: Partial<Record<GGUFValueTypeName, [number, number]>> = {
  uint8: [0, 0xff], int8: [-0x80, 0x7f], uint16: [0, 0xffff], int16: [-0x8000, 0x7fff],
  uint32: [0, 0xffffffff], int32: [-0x80000000, 0x7fffffff],
};
const BIG_RANGE: Partial<Record<GGUFValueTypeName, [bigint, bigint]>> = {
  uint64: [0n, 0xffffffffffffffffn], int64: [-(1n << 63n), (1n << 63n) - 1n],
};

// Writes the body of one value (no type tag) after checking it fits its type.
function encodeBody(b: GGUFBuilder, type: GGUFValueTypeName, v: unknown, where: string, depth: number): void {
  const bad = (what: string): never => {
    throw new Error(`${where}: ${type} value ${what}`);
  };
  const ir = INT_RANGE[type];
  const br = BIG_RANGE[type];
  if (ir) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < ir[0] || v > ir[1]) bad(`must be an integer in [${ir[0]}, ${ir[1]}], got ${String(v)}`);
    const n = v as number;
    if (type === 'uint8') b.u8(n); else if (type === 'int8') b.i8(n); else if (type === 'uint16') b.u16(n);
    else if (type === 'int16') b.i16(n); else if (type === 'uint32') b.u32(n); else b.i32(n);
  } else if (br) {
    const big = typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v;
    if (typeof big !== 'bigint' || big < br[0] || big > br[1]) bad(`must be a bigint in [${br[0]}, ${br[1]}], got ${String(v)}`);
    if (type === 'uint64') b.u64(big as bigint); else b.i64(big as bigint);
  } else if (type === 'float32' || type === 'float64') {
    if (typeof v !== 'number') bad(`must be a number, got ${typeof v}`);
    if (type === 'float32') b.f32(v as number); else b.f64(v as number);
  } else if (type === 'bool') {
    if (typeof v !== 'boolean') bad(`must be a boolean, got ${typeof v}`);
    b.u8(v ? 1 : 0);
  } else if (type === 'string') {
    if (typeof v !== 'string') bad(`must be a string, got ${typeof v}`);
    b.string(v as string);
  } else if (type === 'array') {
    encodeArray(b, v as GGUFArray, where, depth + 1);
  } else {
    throw new Error(`${where}: unknown value type "${String(type)}"`);
  }
}

function encodeArray(b: GGUFBuilder, a: GGUFArray, where: string, depth: number): void {
  if (depth > 16) throw new Error(`${where}: arrays nested deeper than 16 levels`);
  if (!a || typeof a !== 'object' || !Array.isArray(a.items)) throw new Error(`${where}: array value must be { itemType, items: [...] }`);
  if (!Object.prototype.hasOwnProperty.call(GGUFValueType, a.itemType)) throw new Error(`${where}: unknown array item type "${String(a.itemType)}"`);
  b.u32(GGUFValueType[a.itemType]).u64(BigInt(a.items.length));
  a.items.forEach((item: unknown, i: number) => encodeBody(b, a.itemType, item, `${where}[${i}]`, depth));
}

/** Writes a value's type tag and body. Throws `${where}: ...` when the value does not fit its type. */
export function encodeValue(b: GGUFBuilder, v: GGUFValue, where: string, depth: number): void {
  if (!v || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(GGUFValueType, v.type)) {
    throw new Error(`${where}: value must be { type, value } with a GGUF value type, got ${JSON.stringify(v)}`);
  }
  b.u32(GGUFValueType[v.type]);
  encodeBody(b, v.type, v.value, where, depth);
}
