// Which ggml type each tensor gets when a model is written as GGUF with a given `--type`: the plain types
// put every 2-D weight in that type (1-D norms and biases stay F32, as llama.cpp's convert and quantize
// do), and q4_k_m follows llama.cpp's llama_tensor_get_type for LLAMA_FTYPE_MOSTLY_Q4_K_M
// (src/llama-quant.cpp): output (or a tied token_embd) Q6_K; attn_v and ffn_down Q6_K in the layers
// use_more_bits picks (the first and last eighth, and every third in between), the rest Q4_K; gpt2's fused
// attn_qkv Q5_K in llama.cpp, Q6_K here (Q5_K is not implemented). A row length that is not a multiple of
// the block size falls back as llama.cpp does for K-quants; position_embd stays F16 (to Q8_0 here where llama.cpp picks Q5_0/Q5_1).
import { GGMLType, ggmlTypeInfo } from '../quant/types.js';
import { FILE_TYPE } from './gguf-names.js';

/** the export types `gptlab export --type` accepts */
export const GGUF_EXPORT_TYPES = ['f32', 'f16', 'q8_0', 'q4_0', 'q4_1', 'q4_k', 'q6_k', 'q4_k_m'] as const;
export type GGUFExportType = (typeof GGUF_EXPORT_TYPES)[number];

const BASE: Record<GGUFExportType, number> = {
  f32: GGMLType.F32, f16: GGMLType.F16, q8_0: GGMLType.Q8_0, q4_0: GGMLType.Q4_0, q4_1: GGMLType.Q4_1,
  q4_k: GGMLType.Q4_K, q6_k: GGMLType.Q6_K, q4_k_m: GGMLType.Q4_K,
};

/** general.file_type (llama_ftype) of an export type */
export const FILE_TYPES: Record<GGUFExportType, number> = {
  f32: FILE_TYPE.ALL_F32, f16: FILE_TYPE.MOSTLY_F16, q8_0: FILE_TYPE.MOSTLY_Q8_0, q4_0: FILE_TYPE.MOSTLY_Q4_0,
  q4_1: FILE_TYPE.MOSTLY_Q4_1, q4_k: FILE_TYPE.MOSTLY_Q4_K_S, q6_k: FILE_TYPE.MOSTLY_Q6_K, q4_k_m: FILE_TYPE.MOSTLY_Q4_K_M,
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

function fitRow(type: number, rowLength: number): number {
  const info = ggmlTypeInfo(type)!;
  if (rowLength % info.blockSize === 0) return type;
  return rowLength % 32 === 0 ? GGMLType.Q8_0 : GGMLType.F16;
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

/** The ggml type tensor `ctx.name` is written in for export type `t`. */
export function tensorTypeFor(t: GGUFExportType, ctx: TensorTypeContext): number {
  if (ctx.shape.length < 2 || !ctx.name.endsWith('.weight')) return GGMLType.F32;
  // llama.cpp's quantize never quantizes positional embeddings; they keep convert's F16 (F32 in f32 files)
  if (ctx.name === 'position_embd.weight') return t === 'f32' ? GGMLType.F32 : GGMLType.F16;
  const row = ctx.shape[ctx.shape.length - 1]!;
  let type = BASE[t];
  if (t === 'q4_k_m') {
    const layer = /^blk\.(\d+)\./.exec(ctx.name);
    const i = layer ? Number(layer[1]) : -1;
    if (ctx.name === 'output.weight' || (ctx.tiedOutput && ctx.name === 'token_embd.weight')) type = GGMLType.Q6_K;
    else if (/\.(attn_v|ffn_down)\.weight$/.test(ctx.name) && useMoreBits(i, ctx.nLayer)) type = GGMLType.Q6_K;
    else if (ctx.name.endsWith('.attn_qkv.weight')) type = GGMLType.Q6_K;
  }
  return fitRow(type, row);
}
