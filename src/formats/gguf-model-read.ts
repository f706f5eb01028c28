// A GGUF file (ours, or one from llama.cpp's convert / quantize tools) as a gptlab model + tokenizer, for
// the architectures gptlab implements: gpt2 → GPT, llama → Llama. Hyperparameters come from the metadata,
// shapes are checked against them tensor by tensor, and quantized matrices (Q8_0, Q4_0, Q4_1, Q4_K, Q6_K)
// stay in their blocks inside QuantizedLinear layers unless `dequantize` is asked for. Embeddings, norms,
// biases and F16/F32 matrices are read as float32; a quantized token_embd is dequantized (the embedding
// lookup and the tied head need floats). Every error is one line naming the file and the key or tensor.
import type { LanguageModel } from '../models/model.js';
import { createModel } from '../models/registry.js';
import { GPT } from '../models/gpt.js';
import type { Module } from '../nn/module.js';
import { Linear } from '../nn/layers.js';
import { withoutWeights } from '../nn/skip-init.js';
import { toPersistent } from '../backend/storage.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { dequantize } from '../quant/index.js';
import { GGMLType, ggmlTypeName } from '../quant/types.js';
import { QuantizedLinear, QUANTIZED_LINEAR_TYPES, type QuantizedLinearMode } from '../quant/quantized-linear.js';
import type { GGUFFile, GGUFTensorInfo } from './gguf.js';
import { metaNumber, requireNumber, requireString } from './gguf-meta.js';
import { GENERAL, archKeys } from './gguf-names.js';
import { permuteRopeRows } from './gguf-rope.js';
import { tokenizerFromGGUF } from './gguf-tokenizer.js';
import { checkModelMetadata } from './gguf-model-checks.js';
import { checkFiniteGGML } from './finite-weights.js';

export interface GGUFLoadOptions {
  /** dequantize every matrix to float32 Linear layers (default false: QuantizedLinear) */
  dequantize?: boolean;
  /** QuantizedLinear's mode (default 'tiled') */
  mode?: QuantizedLinearMode;
}

export interface GGUFModelLoad {
  model: LanguageModel;
  tokenizer: Tokenizer;
  notes: string[];
}

/** one GGUF tensor → one gptlab parameter; `perm` = heads whose RoPE row order must be undone */
interface Mapping { gguf: string; ours: string; shape: number[]; optional?: 'zeros' | 'skip'; perm?: number; linear?: boolean }

function fail(f: GGUFFile, what: string, msg: string): never {
  throw new Error(`${f.name}: ${what}: ${msg}`);
}

function positive(f: GGUFFile, key: string): number {
  const v = requireNumber(f, key);
  if (!Number.isInteger(v) || v < 1 || v > 1 << 24) fail(f, `metadata "${key}"`, `must be a positive integer, got ${v}`);
  return v;
}

/** a block count the file's tensors can hold (perBlock tensors each), checked before any per-block work */
function checkBlocks(f: GGUFFile, key: string, L: number, perBlock: number): void {
  if (L * perBlock > f.tensors.length) fail(f, `metadata "${key}"`, `${L} blocks need at least ${L * perBlock} tensors, the file has ${f.tensors.length}`);
}

function vocabOf(f: GGUFFile): number {
  const t = f.tensor('token_embd.weight') ?? fail(f, 'tensor "token_embd.weight"', 'missing');
  if (t.shape.length !== 2) fail(f, 'tensor "token_embd.weight"', `expected 2 dimensions, got [${t.shape.join(', ')}]`);
  return t.shape[0]!;
}

function gptPlan(f: GGUFFile): { config: Record<string, unknown>; maps: Mapping[] } {
  const k = archKeys('gpt2');
  const C = positive(f, k.embeddingLength), L = positive(f, k.blockCount), H = positive(f, k.headCount);
  const ff = positive(f, k.feedForwardLength), ctx = positive(f, k.contextLength);
  checkBlocks(f, k.blockCount, L, 6);
  if (ff !== 4 * C) fail(f, `metadata "${k.feedForwardLength}"`, `${ff}; gptlab's GPT has a 4×${C} = ${4 * C} MLP`);
  if (C % H !== 0) fail(f, `metadata "${k.headCount}"`, `${H} does not divide the width ${C}`);
  const V = vocabOf(f);
  const bias = f.tensors.some((t) => t.name.endsWith('.bias') && ggufFloats(f, t).some((x) => x !== 0));
  const maps: Mapping[] = [
    { gguf: 'token_embd.weight', ours: 'transformer.wte.weight', shape: [V, C] },
    { gguf: 'position_embd.weight', ours: 'transformer.wpe.weight', shape: [ctx, C] },
  ];
  const add = (g: string, o: string, shape: number[], linear = false) => {
    maps.push({ gguf: `${g}.weight`, ours: `${o}.weight`, shape, linear });
    maps.push({ gguf: `${g}.bias`, ours: `${o}.bias`, shape: [shape[0]!], optional: bias ? 'zeros' : 'skip' });
  };
  for (let i = 0; i < L; i++) {
    const b = `blk.${i}`, p = `transformer.h.${i}`;
    add(`${b}.attn_norm`, `${p}.ln_1`, [C]);
    add(`${b}.attn_qkv`, `${p}.attn.c_attn`, [3 * C, C], true);
    add(`${b}.attn_output`, `${p}.attn.c_proj`, [C, C], true);
    add(`${b}.ffn_norm`, `${p}.ln_2`, [C]);
    add(`${b}.ffn_up`, `${p}.mlp.c_fc`, [4 * C, C], true);
    add(`${b}.ffn_down`, `${p}.mlp.c_proj`, [C, 4 * C], true);
  }
  add('output_norm', 'transformer.ln_f', [C]);
  const out = f.tensor('output.weight');
  if (out) {
    const emb = f.tensor('token_embd.weight')!, a = out.data(), b = emb.data();
    if (out.type !== emb.type || a.length !== b.length || a.some((x, i) => x !== b[i])) fail(f, 'tensor "output.weight"', 'differs from token_embd.weight; gptlab\'s GPT ties its head to the embedding');
    maps.push({ gguf: 'output.weight', ours: 'transformer.wte.weight', shape: [V, C], optional: 'skip' });
  }
  return { config: { vocabSize: V, blockSize: ctx, nLayer: L, nHead: H, nEmbd: C, dropout: 0, bias }, maps };
}

function llamaPlan(f: GGUFFile): { config: Record<string, unknown>; maps: Mapping[] } {
  const k = archKeys('llama');
  const C = positive(f, k.embeddingLength), L = positive(f, k.blockCount), H = positive(f, k.headCount);
  const KV = metaNumber(f, k.headCountKv) ?? H, I = positive(f, k.feedForwardLength), ctx = positive(f, k.contextLength);
  checkBlocks(f, k.blockCount, L, 9);
  if (C % H !== 0 || H % KV !== 0) fail(f, `metadata "${k.headCountKv}"`, `${KV} kv heads do not fit ${H} heads of width ${C}`);
  const rot = metaNumber(f, k.ropeDimensionCount);
  if (rot !== undefined && rot !== C / H) fail(f, `metadata "${k.ropeDimensionCount}"`, `${rot}; gptlab rotates whole heads (${C / H})`);
  const V = vocabOf(f), hs = C / H, kv = hs * KV;
  const tied = !f.tensor('output.weight');
  const maps: Mapping[] = [{ gguf: 'token_embd.weight', ours: 'model.embed_tokens.weight', shape: [V, C] }];
  for (let i = 0; i < L; i++) {
    const b = `blk.${i}`, p = `model.layers.${i}`;
    maps.push(
      { gguf: `${b}.attn_norm.weight`, ours: `${p}.input_layernorm.weight`, shape: [C] },
      { gguf: `${b}.attn_q.weight`, ours: `${p}.self_attn.q_proj.weight`, shape: [C, C], perm: H, linear: true },
      { gguf: `${b}.attn_k.weight`, ours: `${p}.self_attn.k_proj.weight`, shape: [kv, C], perm: KV, linear: true },
      { gguf: `${b}.attn_v.weight`, ours: `${p}.self_attn.v_proj.weight`, shape: [kv, C], linear: true },
      { gguf: `${b}.attn_output.weight`, ours: `${p}.self_attn.o_proj.weight`, shape: [C, C], linear: true },
      { gguf: `${b}.ffn_norm.weight`, ours: `${p}.post_attention_layernorm.weight`, shape: [C] },
      { gguf: `${b}.ffn_gate.weight`, ours: `${p}.mlp.gate_proj.weight`, shape: [I, C], linear: true },
      { gguf: `${b}.ffn_up.weight`, ours: `${p}.mlp.up_proj.weight`, shape: [I, C], linear: true },
      { gguf: `${b}.ffn_down.weight`, ours: `${p}.mlp.down_proj.weight`, shape: [C, I], linear: true },
    );
  }
  maps.push({ gguf: 'output_norm.weight', ours: 'model.norm.weight', shape: [C] });
  if (!tied) maps.push({ gguf: 'output.weight', ours: 'lm_head.weight', shape: [V, C] });
  const config = {
    vocabSize: V, blockSize: ctx, nLayer: L, nHead: H, nKvHead: KV, nEmbd: C, intermediateSize: I,
    ropeTheta: shortest(metaNumber(f, k.ropeFreqBase) ?? 10000), rmsNormEps: shortest(metaNumber(f, k.layerNormRmsEpsilon) ?? 1e-5),
    tieWordEmbeddings: tied, dropout: 0,
  };
  return { config, maps };
}

/** the shortest decimal with the same float32 value (float32 metadata 1e-5 reads back as 1e-5) */
function shortest(v: number): number {
  for (let p = 1; p <= 9; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === Math.fround(v)) return s;
  }
  return v;
}

function ggufFloats(f: GGUFFile, t: GGUFTensorInfo): Float32Array {
  try {
    return dequantize(t.type, t.data(), t.nElements);
  } catch (e) {
    return fail(f, `tensor "${t.name}"`, (e as Error).message.replace(/^dequantize: /, ''));
  }
}

function checkShape(f: GGUFFile, t: GGUFTensorInfo, want: number[]): void {
  if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
    fail(f, `tensor "${t.name}"`, `shape [${t.shape.join(', ')}] but the metadata says [${want.join(', ')}]`);
  }
}

function moduleAt(root: Module, path: string[]): Module {
  let m = root;
  for (const p of path) m = m.namedChildren().find(([n]) => n === p)?.[1] ?? (() => { throw new Error(`no module ${path.join('.')}`); })();
  return m;
}

/** the Linear placeholder (built withoutWeights) that owns parameter `ours` (path.weight / path.bias), if any */
function placeholderOwner(model: LanguageModel, ours: string): { parent: Module; name: string; layer: Linear } | null {
  const path = ours.split('.').slice(0, -1);
  const parent = moduleAt(model as unknown as Module, path.slice(0, -1));
  const name = path[path.length - 1]!;
  const layer = parent.namedChildren().find(([n]) => n === name)?.[1];
  return layer instanceof Linear && layer.isPlaceholder ? { parent, name, layer } : null;
}

/** a QuantizedLinear over the tensor's blocks (RoPE rows put back in gptlab's order for q/k) */
function quantizedLinear(f: GGUFFile, m: Mapping, t: GGUFTensorInfo, bias: Float32Array | null, mode: QuantizedLinearMode): QuantizedLinear {
  const rowBytes = t.nBytes / t.shape[0]!;
  const data = m.perm ? permuteRopeRows(t.data(), m.perm, rowBytes, true) : t.data();
  try {
    return new QuantizedLinear(t.type, data, t.shape[0]!, t.shape[1]!, bias, mode);
  } catch (e) {
    return fail(f, `tensor "${t.name}"`, (e as Error).message);
  }
}

/**
 * Every planned tensor present (unless optional) with the shape the metadata implies and finite values (float
 * elements, quantized block scales), checked before any model is allocated: the file's own tensors then bound the allocation. Returns the file's tensors that no
 * plan entry uses.
 */
function verifyPlan(f: GGUFFile, maps: Mapping[]): string[] {
  for (const m of maps) {
    const t = f.tensor(m.gguf);
    if (!t) {
      if (m.optional) continue;
      fail(f, `tensor "${m.gguf}"`, 'missing');
    }
    checkShape(f, t, m.shape);
    checkFiniteGGML(t.type, t.data(), t.nElements, `${f.name}: tensor "${t.name}"`);
  }
  const used = new Set(maps.map((m) => m.gguf));
  return f.tensors.map((t) => t.name).filter((n) => !used.has(n));
}

/** the tensor's values as float32 in gptlab's layout (RoPE rows put back in order) */
function floatsOf(f: GGUFFile, m: Mapping, t: GGUFTensorInfo): Float32Array {
  const data = ggufFloats(f, t);
  return m.perm ? permuteRopeRows(data, m.perm, t.shape[1]!, true) : data;
}

/**
 * Reads every planned tensor into the model built withoutWeights: a Linear placeholder becomes a
 * QuantizedLinear over the file's blocks (quantized matrices, unless opts.dequantize) or gets its float32
 * weight and bias; every other parameter is filled in place. Returns the ggml types of the quantized layers.
 */
function loadTensors(model: LanguageModel, f: GGUFFile, maps: Mapping[], opts: GGUFLoadOptions): number[] {
  const sd = model.stateDict();
  const byOurs = new Map(maps.map((m) => [m.ours, m]));
  const biasOf = (weight: string): Float32Array | null => {
    const bm = byOurs.get(weight.replace(/\.weight$/, '.bias')), bt = bm && bm.optional !== 'skip' ? f.tensor(bm.gguf) : undefined;
    return bm && bt ? floatsOf(f, bm, bt) : null;
  };
  const quantized: number[] = [];
  for (const m of maps) {
    const t = f.tensor(m.gguf);
    if (!t || m.optional === 'skip') continue;
    const owner = placeholderOwner(model, m.ours);
    if (owner && m.ours.endsWith('.weight')) {
      if (m.linear && !opts.dequantize && QUANTIZED_LINEAR_TYPES.includes(t.type)) {
        owner.parent.replaceChild(owner.name, quantizedLinear(f, m, t, biasOf(m.ours), opts.mode ?? 'tiled'));
        quantized.push(t.type);
      } else {
        owner.layer.materialize(floatsOf(f, m, t), biasOf(m.ours));
      }
      continue;
    }
    if (owner || !sd.has(m.ours) && m.ours.endsWith('.bias')) continue; // read with its weight
    const target = sd.get(m.ours) ?? fail(f, `tensor "${m.gguf}"`, `gptlab's model has no "${m.ours}"`);
    // the decoded array becomes the parameter's storage (no second copy; the zero-filled placeholder from
    // withoutWeights is never touched, so its pages are never resident)
    target.data = toPersistent(floatsOf(f, m, t));
  }
  return quantized;
}

/** throws naming the first Linear no tensor of the file filled (a plan that misses a layer) */
function checkAllLoaded(f: GGUFFile, root: Module, prefix = ''): void {
  for (const [n, c] of root.namedChildren()) {
    if (c instanceof Linear && c.isPlaceholder) fail(f, `layer "${prefix}${n}"`, 'no tensor in the file gives its weight');
    checkAllLoaded(f, c, `${prefix}${n}.`);
  }
}

/**
 * The model and tokenizer in a parsed GGUF file. Throws one line naming the file and the metadata key or
 * tensor for: an architecture gptlab does not implement, a missing or mistyped hyperparameter, a missing
 * tensor, a NaN or infinite weight (or quantized block scale), unsupported RoPE scaling, a special token id
 * outside the vocabulary, a vocab_size against the embedding, a NaN or negative norm epsilon, a shape that disagrees with the metadata, a tensor type that cannot be decoded, an unsupported
 * tokenizer. Notes say what was approximated (dequantized embeddings, the tied head, bias-less GPT).
 */
export function ggufToModel(f: GGUFFile, opts: GGUFLoadOptions = {}): GGUFModelLoad {
  const arch = requireString(f, GENERAL.architecture);
  if (arch !== 'gpt2' && arch !== 'llama') fail(f, `metadata "${GENERAL.architecture}"`, `"${arch}" is not an architecture gptlab implements (gpt2, llama)`);
  const plan = arch === 'gpt2' ? gptPlan(f) : llamaPlan(f);
  const tokenizer = tokenizerFromGGUF(f);
  if (tokenizer.vocabSize > (plan.config.vocabSize as number)) {
    fail(f, 'tensor "token_embd.weight"', `${plan.config.vocabSize} rows for a tokenizer of ${tokenizer.vocabSize} tokens`);
  }
  checkModelMetadata(f, arch, plan.config.vocabSize as number, tokenizer.vocabSize);
  const unused = verifyPlan(f, plan.maps);
  let model: LanguageModel;
  try {
    model = withoutWeights(() => createModel(arch === 'gpt2' ? 'gpt' : 'llama', plan.config));
  } catch (e) {
    return fail(f, 'hyperparameters', (e as Error).message);
  }
  const qTypes = loadTensors(model, f, plan.maps, opts);
  checkAllLoaded(f, model as unknown as Module);
  const emb = f.tensor('token_embd.weight')!;
  // GPT's tied head reads token_embd's blocks as llama.cpp does (a third of a 124M model's weights)
  const quantizedHead = model instanceof GPT && !opts.dequantize && QUANTIZED_LINEAR_TYPES.includes(emb.type);
  if (quantizedHead) (model as GPT).tiedHead = quantizedLinear(f, { gguf: emb.name, ours: 'transformer.wte.weight', shape: emb.shape }, emb, null, opts.mode ?? 'tiled');
  const notes: string[] = [];
  if (unused.length) notes.push(`ignored tensors gptlab's ${arch} has no place for: ${unused.slice(0, 5).join(', ')}${unused.length > 5 ? `, … ${unused.length - 5} more` : ''}`);
  const types = [...new Set(qTypes)].map((t) => `${ggmlTypeName(t)} × ${qTypes.filter((u) => u === t).length}`);
  if (qTypes.length > 0) notes.push(`${qTypes.length} matrices kept quantized (${types.join(', ')}); embeddings and norms read as float32`);
  if (emb.type !== GGMLType.F32 && emb.type !== GGMLType.F16) {
    notes.push(`token_embd (${ggmlTypeName(emb.type)}) dequantized to float32 for the embedding${quantizedHead ? '; the tied head reads its blocks' : ' and the tied head'}`);
  }
  if (arch === 'gpt2' && !plan.config.bias) notes.push('all biases are zero: loaded as a bias-less GPT');
  return { model, tokenizer, notes };
}
