// Typed access to GGUF metadata: each getter returns undefined for a missing key and throws a one-line
// error naming the file and key when the value has another type. The require* forms also throw when
// the key is missing. Integer widths are not distinguished: any integer type reads as a number (64-bit
// values must be below 2^53).

import type { GGUFFile } from './gguf.js';
import type { GGUFArray, GGUFValue } from './gguf-values.js';

const NUMERIC = new Set(['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64', 'uint64', 'int64']);

function fail(f: GGUFFile, key: string, msg: string): never {
  throw new Error(`${f.name}: metadata "${key}": ${msg}`);
}

function toNumber(f: GGUFFile, key: string, v: number | bigint): number {
  if (typeof v === 'number') return v;
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) fail(f, key, `${v} is too large for a number`);
  return Number(v);
}

/** The raw typed value, or undefined. */
export function metaValue(f: GGUFFile, key: string): GGUFValue | undefined {
  return f.metadata.get(key);
}

/** A string value (type string), or undefined when absent. */
export function metaString(f: GGUFFile, key: string): string | undefined {
  const v = f.metadata.get(key);
  if (v === undefined) return undefined;
  if (v.type !== 'string') fail(f, key, `expected a string, got ${v.type}`);
  return v.value as string;
}

/** Any integer or float value as a number, or undefined when absent. */
export function metaNumber(f: GGUFFile, key: string): number | undefined {
  const v = f.metadata.get(key);
  if (v === undefined) return undefined;
  if (!NUMERIC.has(v.type)) fail(f, key, `expected a number, got ${v.type}`);
  return toNumber(f, key, v.value as number | bigint);
}

/** A bool value, or undefined when absent. */
export function metaBool(f: GGUFFile, key: string): boolean | undefined {
  const v = f.metadata.get(key);
  if (v === undefined) return undefined;
  if (v.type !== 'bool') fail(f, key, `expected a bool, got ${v.type}`);
  return v.value as boolean;
}

function metaArray(f: GGUFFile, key: string): GGUFArray | undefined {
  const v = f.metadata.get(key);
  if (v === undefined) return undefined;
  if (v.type !== 'array') fail(f, key, `expected an array, got ${v.type}`);
  return v.value as GGUFArray;
}

/** An array of strings (e.g. tokenizer.ggml.tokens), or undefined when absent. */
export function metaStringArray(f: GGUFFile, key: string): string[] | undefined {
  const a = metaArray(f, key);
  if (a === undefined) return undefined;
  if (a.itemType !== 'string') fail(f, key, `expected an array of strings, got an array of ${a.itemType}`);
  return a.items as string[];
}

/** An array of any numeric type as numbers (e.g. tokenizer.ggml.scores), or undefined when absent. */
export function metaNumberArray(f: GGUFFile, key: string): number[] | undefined {
  const a = metaArray(f, key);
  if (a === undefined) return undefined;
  if (!NUMERIC.has(a.itemType)) fail(f, key, `expected an array of numbers, got an array of ${a.itemType}`);
  return (a.items as (number | bigint)[]).map((x) => toNumber(f, key, x));
}

function need<T>(f: GGUFFile, key: string, v: T | undefined): T {
  if (v === undefined) fail(f, key, 'missing');
  return v as T;
}

/** metaString, throwing when the key is missing. */
export const requireString = (f: GGUFFile, key: string): string => need(f, key, metaString(f, key));
/** metaNumber, throwing when the key is missing. */
export const requireNumber = (f: GGUFFile, key: string): number => need(f, key, metaNumber(f, key));
/** metaStringArray, throwing when the key is missing. */
export const requireStringArray = (f: GGUFFile, key: string): string[] => need(f, key, metaStringArray(f, key));
