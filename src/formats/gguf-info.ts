// A `gguf info`-style summary of a GGUF file: header facts, every metadata key with its type and (shortened)
// value, and a table of tensors with their ggml types, shapes, sizes and offsets. `gptlab info FILE.gguf`
// prints it.

import type { GGUFFile } from './gguf.js';
import type { GGUFArray, GGUFValue } from './gguf-values.js';

export interface GGUFInfoOptions {
  /** Array items shown before "… N more" (default 6). */
  maxArrayItems?: number;
  /** Characters of a string shown before it is cut with "…" (default 80). */
  maxStringChars?: number;
}

function quote(s: string, max: number): string {
  const cut = s.length > max ? s.slice(0, max) : s;
  const q = JSON.stringify(cut);
  return s.length > max ? `${q.slice(0, -1)}…" (${s.length} chars)` : q;
}

// The shortest decimal that reads back as the same float32, e.g. 1e-5 rather than 0.000009999999747378752.
function shortFloat32(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  for (let p = 1; p <= 9; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return String(s);
  }
  return String(v);
}

function formatArray(a: GGUFArray, o: Required<GGUFInfoOptions>): string {
  const shown = (a.items as unknown[]).slice(0, o.maxArrayItems).map((x) => formatScalar(a.itemType, x, o));
  const more = a.items.length > o.maxArrayItems ? `, … ${a.items.length - o.maxArrayItems} more` : '';
  return `[${shown.join(', ')}${more}]`;
}

function formatScalar(type: string, v: unknown, o: Required<GGUFInfoOptions>): string {
  if (type === 'string') return quote(v as string, o.maxStringChars);
  if (type === 'array') return formatArray(v as GGUFArray, o);
  if (type === 'float32') return shortFloat32(v as number);
  return String(v);
}

/** One metadata value as text: strings quoted (and cut), arrays as their first items and a count. */
export function formatGGUFValue(v: GGUFValue, opts: GGUFInfoOptions = {}): string {
  const o = { maxArrayItems: opts.maxArrayItems ?? 6, maxStringChars: opts.maxStringChars ?? 80 };
  return formatScalar(v.type, v.value, o);
}

function typeLabel(v: GGUFValue): string {
  if (v.type !== 'array') return v.type;
  const a = v.value as GGUFArray;
  return `${a.itemType}[${a.items.length}]`;
}

function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function table(rows: string[][], rightAlign: Set<number>): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => '  ' + r.map((c, i) => (rightAlign.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

/**
 * The summary as lines of text: a header line (version, size, alignment, data offset), the metadata
 * (key, type, value) and the tensors (name, type, shape, elements, bytes, offset), then totals per type.
 */
export function ggufInfo(f: GGUFFile, opts: GGUFInfoOptions = {}): string {
  const out: string[] = [];
  out.push(`${f.name}: GGUF v${f.version}, ${f.byteLength} bytes (${humanBytes(f.byteLength)}), alignment ${f.alignment}, tensor data at byte ${f.dataOffset}`);
  out.push(`metadata: ${f.metadata.size} keys`);
  if (f.metadata.size > 0) {
    const rows = [...f.metadata.entries()].map(([k, v]) => [k, typeLabel(v), formatGGUFValue(v, opts)]);
    out.push(...table(rows, new Set()));
  }
  const params = f.tensors.reduce((a, t) => a + t.nElements, 0);
  const bytes = f.tensors.reduce((a, t) => a + t.nBytes, 0);
  out.push(`tensors: ${f.tensors.length}, ${params} elements, ${bytes} bytes (${humanBytes(bytes)})`);
  if (f.tensors.length > 0) {
    const rows = [['name', 'type', 'shape', 'elements', 'bytes', 'offset']];
    for (const t of f.tensors) rows.push([t.name, t.typeName, `[${t.shape.join(', ')}]`, String(t.nElements), String(t.nBytes), String(t.offset)]);
    out.push(...table(rows, new Set([3, 4, 5])));
    const byType = new Map<string, { n: number; elements: number; bytes: number }>();
    for (const t of f.tensors) {
      const e = byType.get(t.typeName) ?? { n: 0, elements: 0, bytes: 0 };
      byType.set(t.typeName, { n: e.n + 1, elements: e.elements + t.nElements, bytes: e.bytes + t.nBytes });
    }
    const parts = [...byType.entries()].map(([k, e]) => `${k} × ${e.n} (${e.elements} elements, ${humanBytes(e.bytes)}, ${((8 * e.bytes) / Math.max(1, e.elements)).toFixed(2)} bits/element)`);
    out.push(`by type: ${parts.join('; ')}`);
  }
  return out.join('\n');
}
