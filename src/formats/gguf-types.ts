// Which ggml type each tensor gets when a model is written as GGUF with a given `--type`: the plain types
// put every 2-D weight in that type (1-D norms and biases stay F32, as llama.cpp's convert and quantize
// do), and the mixes q4_k_m and q5_k_m follow llama.cpp's llama_tensor_get_type for
// LLAMA_FTYPE_MOSTLY_Q4_K_M / _Q5_K_M (src/llama-quant.cpp): output (or a tied token_embd) Q6_K; attn_v and
// ffn_down Q6_K in the layers use_more_bits picks (the first and last eighth, and every third in between),
// the rest Q4_K (Q5_K); gpt2's fused attn_qkv Q5_K (Q6_K). A row length that is not a multiple of the block
// size falls back as llama.cpp's tensor_type_fallback does (Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0, and F16
// when even 32 does not divide the row), and the export says so (fallbackNotes). position_embd is never
// quantized: F16 in quantized files, as llama.cpp's quantize leaves convert's F16.
import { GGMLType, ggmlTypeInfo, ggmlTypeName } from '../quant/types.js';
import { FILE_TYPE } from './gguf-names.js';

/** the export types `gptlab export --type` accepts */
export const GGUF_EXPORT_TYPES = ['f32', 'f16', 'q8_0', 'q4_0', 'q4_1', 'q5_0', 'q5_1', 'q4_k', 'q5_k', 'q6_k', 'q4_k_m', 'q5_k_m'] as const;
export type GGUFExportType = (typeof GGUF_EXPORT_TYPES)[number];

const BASE: Record<GGUFExportType, number> = {
  f32: GGMLType.F32, f16: GGMLType.F16, q8_0: GGMLType.Q8_0, q4_0: GGMLType.Q4_0, q4_1: GGMLType.Q4_1,
  q5_0: GGMLType.Q5_0, q5_1: GGMLType.Q5_1, q4_k: GGMLType.Q4_K, q5_k: GGMLType.Q5_K, q6_k: GGMLType.Q6_K,
  q4_k_m: GGMLType.Q4_K, q5_k_m: GGMLType.Q5_K,
};

/** general.file_type (llama_ftype) of an export type */
export const FILE_TYPES: Record<GGUFExportType, number> = {
  f32: FILE_TYPE.ALL_F32, f16: FILE_TYPE.MOSTLY_F16, q8_0: FILE_TYPE.MOSTLY_Q8_0, q4_0: FILE_TYPE.MOSTLY_Q4_0,
  q4_1: FILE_TYPE.MOSTLY_Q4_1, q5_0: FILE_TYPE.MOSTLY_Q5_0, q5_1: FILE_TYPE.MOSTLY_Q5_1, q4_k: FILE_TYPE.MOSTLY_Q4_K_S,
  q5_k: FILE_TYPE.MOSTLY_Q5_K_S, q6_k: FILE_TYPE.MOSTLY_Q6_K, q4_k_m: FILE_TYPE.MOSTLY_Q4_K_M, q5_k_m: FILE_TYPE.MOSTLY_Q5_K_M,
};

/** Throws `--type: …` for a name that is not an export type. */
export function checkExportType(t: string): GGUFExportType {
  if (!(GGUF_EXPORT_TYPES as readonly string[]).includes(t)) throw new Error(`--type: "${t}" is not one of ${GGUF_EXPORT_TYPES.join(', ')}`);
  return t as GGUFExportType;
}

/** llama.cpp's use_more_bits(i_layer, n_layers) */
export function useMoreBits(i: number, n: number): boolean {
  return i < Math.floor(n / 8) || i >= Math.floor((7 * n) / 8) || (i - Math.floor(n / 8)) % 3 === 2;
}

/** llama.cpp's tensor_type_fallback targets for the 256-value super-block types */
const FALLBACK: Partial<Record<number, number>> = { [GGMLType.Q4_K]: GGMLType.Q5_0, [GGMLType.Q5_K]: GGMLType.Q5_1, [GGMLType.Q6_K]: GGMLType.Q8_0 };

/** `type` if rows of rowLength are whole blocks of it, else llama.cpp's fallback (F16 when that does not fit either) */
function fitRow(type: number, rowLength: number): number {
  if (rowLength % ggmlTypeInfo(type)!.blockSize === 0) return type;
  const next = FALLBACK[type];
  return next !== undefined && rowLength % ggmlTypeInfo(next)!.blockSize === 0 ? next : GGMLType.F16;
}

export interface TensorTypeContext {
  /** GGUF tensor name, e.g. blk.3.ffn_down.weight */
  name: string;
  /** row-major shape */
  shape: readonly number[];
  nLayer: number;
  /** the file has no separate output.weight (token_embd serves as the head) */
  tiedOutput: boolean;
}

/** What tensorTypeChoice picked: the type written, and the type wanted when the row length forced a fallback. */
export interface TensorTypeChoice {
  type: number;
  /** the type the export type asked for, when `type` is its fallback */
  wanted?: number;
}

// The type a K-quant mix asks for, before the row-length check.
function mixType(t: 'q4_k_m' | 'q5_k_m', ctx: TensorTypeContext): number {
  const layer = /^blk\.(\d+)\./.exec(ctx.name);
  const i = layer ? Number(layer[1]) : -1;
  if (ctx.name === 'output.weight' || (ctx.tiedOutput && ctx.name === 'token_embd.weight')) return GGMLType.Q6_K;
  if (/\.(attn_v|ffn_down)\.weight$/.test(ctx.name) && useMoreBits(i, ctx.nLayer)) return GGMLType.Q6_K;
  if (ctx.name.endsWith('.attn_qkv.weight')) return t === 'q4_k_m' ? GGMLType.Q5_K : GGMLType.Q6_K;
  return BASE[t];
}

/** The ggml type tensor `ctx.name` is written in for export type `t`, and what was wanted if it fell back. */
export function tensorTypeChoice(t: GGUFExportType, ctx: TensorTypeContext): TensorTypeChoice {
  if (ctx.shape.length < 2 || !ctx.name.endsWith('.weight')) return { type: GGMLType.F32 };
  // llama.cpp's quantize never quantizes positional embeddings; they keep convert's F16 (F32 in f32 files)
  if (ctx.name === 'position_embd.weight') return { type: t === 'f32' ? GGMLType.F32 : GGMLType.F16 };
  const wanted = t === 'q4_k_m' || t === 'q5_k_m' ? mixType(t, ctx) : BASE[t];
  const type = fitRow(wanted, ctx.shape[ctx.shape.length - 1]!);
  return type === wanted ? { type } : { type, wanted };
}

/** The ggml type tensor `ctx.name` is written in for export type `t`. */
export function tensorTypeFor(t: GGUFExportType, ctx: TensorTypeContext): number {
  return tensorTypeChoice(t, ctx).type;
}

/**
 * One line per (wanted → written) pair of the fallbacks among `tensors` (name, row length, choice), naming the
 * tensors (the first 4, then a count) and why, e.g. `Q4_K → Q5_0 for blk.0.attn_qkv.weight, … (rows of 96
 * values are not whole 256-value super-blocks; llama.cpp's quantize falls back the same way)`. Empty without fallbacks.
 */
export function fallbackNotes(tensors: { name: string; row: number; choice: TensorTypeChoice }[]): string[] {
  const groups = new Map<string, { names: string[]; rows: Set<number>; block: number }>();
  for (const { name, row, choice } of tensors) {
    if (choice.wanted === undefined) continue;
    const key = `${ggmlTypeName(choice.wanted)} → ${ggmlTypeName(choice.type)}`;
    const g = groups.get(key) ?? { names: [], rows: new Set<number>(), block: ggmlTypeInfo(choice.wanted)!.blockSize };
    g.names.push(name);
    g.rows.add(row);
    groups.set(key, g);
  }
  return [...groups].map(([key, g]) => {
    const shown = g.names.slice(0, 4).join(', ') + (g.names.length > 4 ? `, … ${g.names.length - 4} more` : '');
    return `${key} for ${g.names.length} tensor${g.names.length > 1 ? 's' : ''} (${shown}): rows of ${[...g.rows].join(' / ')} values are not whole ${g.block}-value blocks; llama.cpp's quantize falls back the same way`;
  });
}
