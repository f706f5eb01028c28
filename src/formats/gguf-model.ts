// gptlab models as GGUF files llama.cpp runs: a GPT as arch `gpt2`, a LLaMA as arch `llama`, with the
// tokenizer (gguf-tokenizer.ts), hyperparameters, and each tensor in the type gguf-types.ts picks.
//
// gpt2 (llama.cpp src/llama-model.cpp LLM_ARCH_GPT2; convert_hf_to_gguf.py GPT2Model): token_embd,
// position_embd, per block attn_norm (+bias), attn_qkv (+bias, q|k|v rows as nanoGPT's c_attn), attn_output,
// ffn_norm, ffn_up, ffn_down (all with biases: llama.cpp requires them, a bias-less GPT writes zeros),
// output_norm (+bias); no output tensor (llama.cpp uses token_embd, as our tied head). Matrices are stored
// [out, in] row-major = GGUF dims [in, out], as the convert script writes after transposing HF's Conv1D.
//
// llama (LlamaModel in convert_hf_to_gguf.py): token_embd, attn_norm, attn_q/k/v/output, ffn_norm,
// ffn_gate/up/down, output_norm, output (untied only). The convert script permutes q_proj and k_proj rows:
// within each head the rotate_half layout (first half, second half) becomes interleaved pairs (row 2i = old
// row i, row 2i+1 = old row i + hs/2), since llama.cpp's LLAMA rope (mode NORM) rotates adjacent pairs.
// We do the same (permuteRopeRows), and undo it when reading (gguf-model-read.ts).
import type { LanguageModel } from '../models/model.js';
import type { GPTConfig } from '../models/gpt.js';
import type { LlamaConfig } from '../models/llama-config.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { quantize } from '../quant/index.js';
import { GGMLType } from '../quant/types.js';
import { writeGGUF, type GGUFTensorInput } from './gguf.js';
import { GGUFValues, type GGUFValue } from './gguf-values.js';
import { GENERAL, QUANTIZATION_VERSION, archKeys } from './gguf-names.js';
import { FILE_TYPES, fallbackNotes, tensorTypeChoice, type GGUFExportType } from './gguf-types.js';
import { tokenizerToGGUF } from './gguf-tokenizer.js';
import { permuteRopeRows } from './gguf-rope.js';

export { permuteRopeRows } from './gguf-rope.js';
export { ggufToModel, type GGUFModelLoad, type GGUFLoadOptions } from './gguf-model-read.js';

export interface GGUFExportOptions {
  /** tensor types (default f32) */
  type?: GGUFExportType;
  /** general.name */
  name?: string;
}

export interface GGUFExport {
  bytes: Uint8Array;
  /** what llama.cpp will see differently (tokenizer caveats, type fallbacks) */
  notes: string[];
}

interface FloatTensor { name: string; shape: number[]; data: Float32Array }

function getter(model: LanguageModel): (name: string) => Float32Array | undefined {
  const sd = model.stateDict();
  return (name) => sd.get(name)?.data;
}

function gptTensors(c: GPTConfig, get: (n: string) => Float32Array | undefined): FloatTensor[] {
  const C = c.nEmbd;
  const need = (n: string) => get(n) ?? (() => { throw new Error(`GGUF export: the model has no "${n}"`); })();
  const bias = (n: string, len: number) => get(n) ?? new Float32Array(len);
  const out: FloatTensor[] = [
    { name: 'token_embd.weight', shape: [c.vocabSize, C], data: need('transformer.wte.weight') },
    { name: 'position_embd.weight', shape: [c.blockSize, C], data: need('transformer.wpe.weight') },
  ];
  const lin = (gg: string, ours: string, o: number, i: number) => {
    out.push({ name: `${gg}.weight`, shape: [o, i], data: need(`${ours}.weight`) }, { name: `${gg}.bias`, shape: [o], data: bias(`${ours}.bias`, o) });
  };
  const norm = (gg: string, ours: string) => {
    out.push({ name: `${gg}.weight`, shape: [C], data: need(`${ours}.weight`) }, { name: `${gg}.bias`, shape: [C], data: bias(`${ours}.bias`, C) });
  };
  for (let i = 0; i < c.nLayer; i++) {
    const p = `transformer.h.${i}`, b = `blk.${i}`;
    norm(`${b}.attn_norm`, `${p}.ln_1`);
    lin(`${b}.attn_qkv`, `${p}.attn.c_attn`, 3 * C, C);
    lin(`${b}.attn_output`, `${p}.attn.c_proj`, C, C);
    norm(`${b}.ffn_norm`, `${p}.ln_2`);
    lin(`${b}.ffn_up`, `${p}.mlp.c_fc`, 4 * C, C);
    lin(`${b}.ffn_down`, `${p}.mlp.c_proj`, C, 4 * C);
  }
  norm('output_norm', 'transformer.ln_f');
  return out;
}

function gptMeta(c: GPTConfig): [string, GGUFValue][] {
  const k = archKeys('gpt2');
  return [
    [k.contextLength, GGUFValues.uint32(c.blockSize)], [k.embeddingLength, GGUFValues.uint32(c.nEmbd)],
    [k.feedForwardLength, GGUFValues.uint32(4 * c.nEmbd)], [k.blockCount, GGUFValues.uint32(c.nLayer)],
    [k.headCount, GGUFValues.uint32(c.nHead)], [k.layerNormEpsilon, GGUFValues.float32(1e-5)],
  ];
}

function llamaTensors(c: LlamaConfig, get: (n: string) => Float32Array | undefined): FloatTensor[] {
  const C = c.nEmbd, hs = C / c.nHead, kv = hs * c.nKvHead, I = c.intermediateSize;
  const need = (n: string) => get(n) ?? (() => { throw new Error(`GGUF export: the model has no "${n}"`); })();
  const out: FloatTensor[] = [{ name: 'token_embd.weight', shape: [c.vocabSize, C], data: need('model.embed_tokens.weight') }];
  for (let i = 0; i < c.nLayer; i++) {
    const p = `model.layers.${i}`, b = `blk.${i}`;
    out.push(
      { name: `${b}.attn_norm.weight`, shape: [C], data: need(`${p}.input_layernorm.weight`) },
      { name: `${b}.attn_q.weight`, shape: [C, C], data: permuteRopeRows(need(`${p}.self_attn.q_proj.weight`), c.nHead, C) },
      { name: `${b}.attn_k.weight`, shape: [kv, C], data: permuteRopeRows(need(`${p}.self_attn.k_proj.weight`), c.nKvHead, C) },
      { name: `${b}.attn_v.weight`, shape: [kv, C], data: need(`${p}.self_attn.v_proj.weight`) },
      { name: `${b}.attn_output.weight`, shape: [C, C], data: need(`${p}.self_attn.o_proj.weight`) },
      { name: `${b}.ffn_norm.weight`, shape: [C], data: need(`${p}.post_attention_layernorm.weight`) },
      { name: `${b}.ffn_gate.weight`, shape: [I, C], data: need(`${p}.mlp.gate_proj.weight`) },
      { name: `${b}.ffn_up.weight`, shape: [I, C], data: need(`${p}.mlp.up_proj.weight`) },
      { name: `${b}.ffn_down.weight`, shape: [C, I], data: need(`${p}.mlp.down_proj.weight`) },
    );
  }
  out.push({ name: 'output_norm.weight', shape: [C], data: need('model.norm.weight') });
  if (!c.tieWordEmbeddings) out.push({ name: 'output.weight', shape: [c.vocabSize, C], data: need('lm_head.weight') });
  return out;
}

function llamaMeta(c: LlamaConfig): [string, GGUFValue][] {
  const k = archKeys('llama');
  return [
    [k.contextLength, GGUFValues.uint32(c.blockSize)], [k.embeddingLength, GGUFValues.uint32(c.nEmbd)],
    [k.blockCount, GGUFValues.uint32(c.nLayer)], [k.feedForwardLength, GGUFValues.uint32(c.intermediateSize)],
    [k.ropeDimensionCount, GGUFValues.uint32(c.nEmbd / c.nHead)], [k.headCount, GGUFValues.uint32(c.nHead)],
    [k.headCountKv, GGUFValues.uint32(c.nKvHead)], [k.ropeFreqBase, GGUFValues.float32(c.ropeTheta)],
    [k.layerNormRmsEpsilon, GGUFValues.float32(c.rmsNormEps)], [k.vocabSize, GGUFValues.uint32(c.vocabSize)],
  ];
}

function encodeTensors(floats: FloatTensor[], type: GGUFExportType, nLayer: number): { tensors: GGUFTensorInput[]; quantized: boolean; notes: string[] } {
  const tiedOutput = !floats.some((t) => t.name === 'output.weight');
  let quantized = false;
  const choices = floats.map((t) => ({ name: t.name, row: t.shape[t.shape.length - 1]!, choice: tensorTypeChoice(type, { name: t.name, shape: t.shape, nLayer, tiedOutput }) }));
  const tensors = floats.map((t, i) => {
    const ggml = choices[i]!.choice.type;
    if (ggml !== GGMLType.F32 && ggml !== GGMLType.F16) quantized = true;
    return { name: t.name, type: ggml, shape: t.shape, data: quantize(ggml, t.data) };
  });
  return { tensors, quantized, notes: fallbackNotes(choices).map((n) => `--type ${type}: ${n}`) };
}

/**
 * The model and tokenizer as a complete GGUF v3 file (bytes, in memory; write it with writeFileAtomicSync).
 * Supports model types 'gpt' (arch gpt2) and 'llama'. Throws `GGUF export: …` for another model type, a
 * tokenizer llama.cpp cannot represent, or a tokenizer larger than the model's vocabulary.
 */
export function modelToGGUF(model: LanguageModel, tok: Tokenizer, opts: GGUFExportOptions = {}): GGUFExport {
  const type = opts.type ?? 'f32';
  const get = getter(model);
  let arch: string, floats: FloatTensor[], meta: [string, GGUFValue][];
  if (model.type === 'gpt') {
    const c = model.config as GPTConfig;
    [arch, floats, meta] = ['gpt2', gptTensors(c, get), gptMeta(c)];
  } else if (model.type === 'llama') {
    const c = model.config as LlamaConfig;
    [arch, floats, meta] = ['llama', llamaTensors(c, get), llamaMeta(c)];
  } else {
    throw new Error(`GGUF export: model type "${model.type}" has no llama.cpp architecture (gpt, llama do)`);
  }
  const nLayer = (model.config as unknown as { nLayer: number }).nLayer;
  const tokMeta = tokenizerToGGUF(tok, model.config.vocabSize);
  const { tensors, quantized, notes } = encodeTensors(floats, type, nLayer);
  const entries: [string, GGUFValue][] = [
    [GENERAL.architecture, GGUFValues.string(arch)],
    [GENERAL.name, GGUFValues.string(opts.name ?? `gptlab ${model.type}`)],
    [GENERAL.fileType, GGUFValues.uint32(FILE_TYPES[type])],
    ...(quantized ? [[GENERAL.quantizationVersion, GGUFValues.uint32(QUANTIZATION_VERSION)] as [string, GGUFValue]] : []),
    ...meta,
    ...tokMeta.entries,
  ];
  return { bytes: writeGGUF(new Map(entries), tensors), notes: [...notes, ...tokMeta.notes] };
}
