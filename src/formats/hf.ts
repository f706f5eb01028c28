// The Hugging Face layout: our models ↔ transformers' GPT2LMHeadModel and LlamaForCausalLM folders
// (config.json, generation_config.json, model.safetensors). Pure functions over configs and state dicts;
// no files, no network, browser-safe.
//
// GPT (nanoGPT's names) ↔ GPT2LMHeadModel (transformers' modeling_gpt2.py). The names are the same
// (`transformer.h.0.attn.c_attn.weight`, `transformer.wte.weight`, …), but GPT-2's projections are Conv1D
// layers storing weights [in, out], ours are Linear [out, in]: c_attn, attn.c_proj, c_fc and mlp.c_proj are
// transposed both ways. GPT-2 always has biases: a bias-less GPT exports zeros for them, and importing
// nonzero ones into a bias-less config is refused. lm_head is tied to wte in both (transformers does not
// write it). Activation: nanoGPT's MLP uses nn.GELU(), the exact x·Φ(x), as ours does; OpenAI's GPT-2 uses
// the tanh approximation ("gelu_new"). We export activation_function "gelu" (exact, so transformers
// computes what we compute); importing a "gelu_new" checkpoint runs it with the exact GELU — what nanoGPT's
// from_pretrained does too — and says so in the import's notes (logits move by ~1e-3 on GPT-2 small).
//
// LLaMA ↔ LlamaForCausalLM (modeling_llama.py): the same names and layouts (src/models/llama.ts), so the
// state dict passes through; the config maps field by field. Only the default RoPE is supported (no
// rope_scaling such as LLaMA 3.1's "llama3").
import { GPT, type GPTConfig } from '../models/gpt.js';
import { Llama, type LlamaConfig } from '../models/llama.js';
import { fromFloat32, readSafetensors, toFloat32, writeSafetensors, type SafetensorsEntry } from './safetensors.js';
import { checkFiniteState, checkGptConfigAgainstState, checkLlamaConfigAgainstState, type HfSources } from './hf-checks.js';

/** a tensor as state dicts hold it */
export interface HfTensor {
  shape: number[];
  data: Float32Array;
}
export type StateLike = ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>;
export type HfConfigJson = Record<string, unknown>;

/** special token ids written into config.json and generation_config.json (null: the model has none) */
export interface HfTokenIds {
  bosTokenId?: number | null;
  eosTokenId?: number | null;
  padTokenId?: number | null;
}

const HF_DTYPE = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' } as const;

// --- small checks -------------------------------------------------------------------------------------

function int(json: HfConfigJson, key: string, fallback?: number): number {
  const v = json[key] ?? fallback;
  if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`hf config: ${key} must be a positive integer, got ${JSON.stringify(json[key])}`);
  return v as number;
}

function num(json: HfConfigJson, key: string, fallback: number): number {
  const v = json[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`hf config: ${key} must be a number, got ${JSON.stringify(json[key])}`);
  return v;
}

function flag(json: HfConfigJson, key: string, fallback: boolean): boolean {
  const v = json[key] ?? fallback;
  if (typeof v !== 'boolean') throw new Error(`hf config: ${key} must be true or false, got ${JSON.stringify(json[key])}`);
  return v;
}

function tensor(state: StateLike, name: string, shape: readonly number[], source: string): HfTensor {
  const t = state.get(name);
  if (!t) throw new Error(`${source}: missing tensor "${name}" (expected shape [${shape}])`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${source}: tensor "${name}" has shape [${t.shape}], expected [${shape}]`);
  }
  return { shape: t.shape.slice(), data: t.data };
}

/** [r, c] → [c, r] */
function transpose2d(t: HfTensor): HfTensor {
  const [r, c] = t.shape;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j];
  return { shape: [c, r], data: out };
}

const isZero = (t: { data: Float32Array }): boolean => t.data.every((v) => v === 0);
const same = (a: { data: Float32Array }, b: { data: Float32Array }): boolean =>
  a.data.length === b.data.length && a.data.every((v, i) => v === b.data[i]);

function ids(t: HfTokenIds): HfConfigJson {
  return { bos_token_id: t.bosTokenId ?? null, eos_token_id: t.eosTokenId ?? null, pad_token_id: t.padTokenId ?? null };
}

/** generation_config.json: the special ids and, optionally, default sampling settings */
export function generationConfig(t: HfTokenIds = {}, sampling: { temperature?: number; topP?: number; topK?: number; maxNewTokens?: number } = {}): HfConfigJson {
  const out: HfConfigJson = { _from_model_config: true, ...ids(t) };
  if (sampling.temperature !== undefined) Object.assign(out, { do_sample: sampling.temperature > 0, temperature: sampling.temperature });
  if (sampling.topP !== undefined) out.top_p = sampling.topP;
  if (sampling.topK !== undefined) out.top_k = sampling.topK;
  if (sampling.maxNewTokens !== undefined) out.max_new_tokens = sampling.maxNewTokens;
  return out;
}

// --- GPT ↔ GPT2LMHeadModel ----------------------------------------------------------------------------

/** GPT-2's Conv1D weights, stored [in, out] there and [out, in] here */
const CONV1D = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'] as const;

/** one block's parameters in our GPT (nanoGPT's names, Linear [out, in]), biases only with `bias` */
function gptBlockShapes(C: number, bias: boolean): [string, number[]][] {
  const out: [string, number[]][] = [];
  const add = (name: string, w: number[], b: number): void => {
    out.push([`${name}.weight`, w]);
    if (bias) out.push([`${name}.bias`, [b]]);
  };
  add('ln_1', [C], C);
  add('attn.c_attn', [3 * C, C], 3 * C);
  add('attn.c_proj', [C, C], C);
  add('ln_2', [C], C);
  add('mlp.c_fc', [4 * C, C], 4 * C);
  add('mlp.c_proj', [C, 4 * C], C);
  return out;
}

/** every bias GPT2LMHeadModel has, with its shape */
function gpt2Biases(c: GPTConfig): [string, number[]][] {
  const out: [string, number[]][] = [];
  for (let i = 0; i < c.nLayer; i++) {
    for (const [n, shape] of gptBlockShapes(c.nEmbd, true)) if (n.endsWith('.bias')) out.push([`transformer.h.${i}.${n}`, shape]);
  }
  out.push(['transformer.ln_f.bias', [c.nEmbd]]);
  return out;
}

/** GPT2LMHeadModel's config.json for our GPT; activation "gelu" is the exact GELU we compute */
export function gptToHfConfig(c: GPTConfig, t: HfTokenIds = {}, dtype: keyof typeof HF_DTYPE = 'F32'): HfConfigJson {
  return {
    architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', vocab_size: c.vocabSize, n_positions: c.blockSize,
    n_embd: c.nEmbd, n_layer: c.nLayer, n_head: c.nHead, n_inner: null, activation_function: 'gelu',
    layer_norm_epsilon: 1e-5, resid_pdrop: c.dropout, embd_pdrop: c.dropout, attn_pdrop: 0, initializer_range: 0.02,
    scale_attn_weights: true, scale_attn_by_inverse_layer_idx: false, reorder_and_upcast_attn: false,
    tie_word_embeddings: true, use_cache: true, torch_dtype: HF_DTYPE[dtype], ...ids(t),
  };
}

/**
 * Our GPTConfig from GPT-2's config.json (n_embd, n_layer, n_head, n_positions, vocab_size). `bias` is not
 * in GPT-2's config (it always has biases): pass what the state dict says (importHf: any nonzero bias). Returns notes
 * for what is approximated. Throws one line naming the field on anything we cannot compute the same way.
 */
export function gptFromHfConfig(json: HfConfigJson, bias: boolean): { config: GPTConfig; notes: string[] } {
  if (json.model_type !== 'gpt2') throw new Error(`hf config: model_type must be "gpt2", got ${JSON.stringify(json.model_type)}`);
  const notes: string[] = [];
  const nEmbd = int(json, 'n_embd');
  if (json.n_inner != null && json.n_inner !== 4 * nEmbd) throw new Error(`hf config: n_inner must be null or 4·n_embd (${4 * nEmbd}), got ${json.n_inner}`);
  if (num(json, 'layer_norm_epsilon', 1e-5) !== 1e-5) throw new Error(`hf config: layer_norm_epsilon must be 1e-5, got ${json.layer_norm_epsilon}`);
  const act = json.activation_function ?? 'gelu_new';
  if (act === 'gelu_new' || act === 'gelu_pytorch_tanh' || act === 'gelu_fast') {
    notes.push(`activation_function "${act}" (tanh approximation) runs as the exact GELU, as nanoGPT's from_pretrained does`);
  } else if (act !== 'gelu') throw new Error(`hf config: activation_function must be "gelu" or "gelu_new", got ${JSON.stringify(act)}`);
  if (!flag(json, 'scale_attn_weights', true)) throw new Error('hf config: scale_attn_weights must be true');
  if (flag(json, 'scale_attn_by_inverse_layer_idx', false)) throw new Error('hf config: scale_attn_by_inverse_layer_idx must be false');
  if (!flag(json, 'tie_word_embeddings', true)) throw new Error('hf config: tie_word_embeddings must be true (our GPT ties lm_head to wte)');
  const config: GPTConfig = {
    vocabSize: int(json, 'vocab_size'), blockSize: int(json, 'n_positions'), nLayer: int(json, 'n_layer'),
    nHead: int(json, 'n_head'), nEmbd, dropout: 0, bias,
  };
  return { config, notes };
}

/** Our GPT's state dict (nanoGPT names, Linear [out, in]) → GPT2LMHeadModel's (Conv1D [in, out], all biases). */
export function gptToHfState(c: GPTConfig, state: StateLike): Map<string, HfTensor> {
  const out = new Map<string, HfTensor>();
  for (const [name, t] of state) {
    if (name === 'lm_head.weight') continue; // tied: transformers writes none
    const conv = CONV1D.some((k) => name.endsWith(`.${k}.weight`));
    const v = { shape: t.shape.slice(), data: t.data };
    out.set(name, conv ? transpose2d(v) : v);
  }
  for (const [name, shape] of gpt2Biases(c)) if (!out.has(name)) out.set(name, { shape, data: new Float32Array(shape[0]) });
  return out;
}

/** old GPT-2 checkpoints' causal-mask buffers `h.0.attn.bias`, `h.0.attn.masked_bias` (not c_attn.bias) */
const isMaskBuffer = (name: string): boolean => /(^|\.)attn\.(bias|masked_bias)$/.test(name);

/** transformers' GPT-2 names, with or without the `transformer.` prefix (GPT2Model vs GPT2LMHeadModel) */
function gpt2Name(name: string): string | null {
  if (isMaskBuffer(name)) return null;
  return name.startsWith('transformer.') || name === 'lm_head.weight' ? name : `transformer.${name}`;
}

/**
 * GPT2LMHeadModel's state dict → our GPT's for config c (from gptFromHfConfig). Conv1D weights are
 * transposed; with c.bias false every bias must be zero. Throws naming the tensor on a missing, misshapen,
 * unexpected or (bias-less) nonzero one, and on an lm_head.weight that differs from wte.
 */
export function gptFromHfState(c: GPTConfig, state: StateLike, source = 'hf state'): Map<string, HfTensor> {
  const src = new Map<string, HfTensor>();
  for (const [n, t] of state) {
    const m = gpt2Name(n);
    if (m) src.set(m, { shape: t.shape.slice(), data: t.data });
  }
  const out = new Map<string, HfTensor>();
  const take = (name: string, shape: number[]): void => {
    const conv = CONV1D.some((k) => name.endsWith(`.${k}.weight`));
    const t = tensor(src, name, conv ? [shape[1], shape[0]] : shape, source);
    out.set(name, conv ? transpose2d(t) : t);
    src.delete(name);
  };
  const C = c.nEmbd;
  take('transformer.wte.weight', [c.vocabSize, C]);
  take('transformer.wpe.weight', [c.blockSize, C]);
  for (let i = 0; i < c.nLayer; i++) for (const [n, shape] of gptBlockShapes(C, c.bias)) take(`transformer.h.${i}.${n}`, shape);
  take('transformer.ln_f.weight', [C]);
  if (c.bias) take('transformer.ln_f.bias', [C]);
  else {
    for (const [name, shape] of gpt2Biases(c)) {
      const b = tensor(src, name, shape, source);
      if (!isZero(b)) throw new Error(`${source}: "${name}" is nonzero but the config has no biases (bias: false)`);
      src.delete(name);
    }
  }
  const head = src.get('lm_head.weight');
  if (head && !same(head, out.get('transformer.wte.weight')!)) throw new Error(`${source}: "lm_head.weight" differs from "transformer.wte.weight"; our GPT ties them`);
  src.delete('lm_head.weight');
  for (const name of src.keys()) throw new Error(`${source}: unexpected tensor "${name}"`);
  return out;
}

// --- LLaMA ↔ LlamaForCausalLM -------------------------------------------------------------------------

/** LlamaForCausalLM's config.json for our LlamaConfig (rope_theta at the top level, as transformers 4 wrote it) */
export function llamaToHfConfig(c: LlamaConfig, t: HfTokenIds = {}, dtype: keyof typeof HF_DTYPE = 'F32'): HfConfigJson {
  return {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: c.vocabSize, hidden_size: c.nEmbd,
    intermediate_size: c.intermediateSize, num_hidden_layers: c.nLayer, num_attention_heads: c.nHead,
    num_key_value_heads: c.nKvHead, head_dim: c.nEmbd / c.nHead, max_position_embeddings: c.blockSize,
    rope_theta: c.ropeTheta, rope_scaling: null, rms_norm_eps: c.rmsNormEps, tie_word_embeddings: c.tieWordEmbeddings,
    hidden_act: 'silu', attention_bias: false, mlp_bias: false, attention_dropout: 0, initializer_range: 0.02,
    pretraining_tp: 1, use_cache: true, torch_dtype: HF_DTYPE[dtype], ...ids(t),
  };
}

/** rope_theta from transformers 4's top-level key or transformers 5's rope_parameters; only default RoPE */
function ropeTheta(json: HfConfigJson): number {
  const params = (json.rope_parameters ?? null) as HfConfigJson | null;
  const scaling = (json.rope_scaling ?? null) as HfConfigJson | null;
  for (const p of [params, scaling]) {
    const type = p?.rope_type ?? p?.type ?? 'default';
    if (type !== 'default') throw new Error(`hf config: rope type ${JSON.stringify(type)} is not supported (only the default RoPE)`);
  }
  const theta = json.rope_theta ?? params?.rope_theta ?? 10000;
  if (typeof theta !== 'number' || !(theta > 0)) throw new Error(`hf config: rope_theta must be a positive number, got ${JSON.stringify(theta)}`);
  return theta;
}

/** Our LlamaConfig from LlamaForCausalLM's config.json; throws one line naming an unsupported field. */
export function llamaFromHfConfig(json: HfConfigJson): LlamaConfig {
  if (json.model_type !== 'llama') throw new Error(`hf config: model_type must be "llama", got ${JSON.stringify(json.model_type)}`);
  const nEmbd = int(json, 'hidden_size'), nHead = int(json, 'num_attention_heads');
  if (json.head_dim != null && json.head_dim !== nEmbd / nHead) throw new Error(`hf config: head_dim must be hidden_size/num_attention_heads (${nEmbd / nHead}), got ${json.head_dim}`);
  if ((json.hidden_act ?? 'silu') !== 'silu') throw new Error(`hf config: hidden_act must be "silu", got ${JSON.stringify(json.hidden_act)}`);
  if (flag(json, 'attention_bias', false)) throw new Error('hf config: attention_bias must be false');
  if (flag(json, 'mlp_bias', false)) throw new Error('hf config: mlp_bias must be false');
  return {
    vocabSize: int(json, 'vocab_size'), blockSize: int(json, 'max_position_embeddings'), nLayer: int(json, 'num_hidden_layers'),
    nHead, nKvHead: int(json, 'num_key_value_heads', nHead), nEmbd, intermediateSize: int(json, 'intermediate_size'),
    ropeTheta: ropeTheta(json), rmsNormEps: num(json, 'rms_norm_eps', 1e-6),
    tieWordEmbeddings: flag(json, 'tie_word_embeddings', false), dropout: 0,
  };
}

/** Our Llama's state dict → transformers' (the same names; a tied lm_head is left out, as transformers does) */
export function llamaToHfState(c: LlamaConfig, state: StateLike): Map<string, HfTensor> {
  const out = new Map<string, HfTensor>();
  for (const [name, t] of state) if (!(c.tieWordEmbeddings && name === 'lm_head.weight')) out.set(name, { shape: t.shape.slice(), data: t.data });
  return out;
}

/**
 * transformers' LlamaForCausalLM state dict → ours: old checkpoints' rotary_emb.inv_freq buffers are
 * dropped, a tied lm_head.weight must equal the embedding. Names and shapes are checked on load.
 */
export function llamaFromHfState(c: LlamaConfig, state: StateLike, source = 'hf state'): Map<string, HfTensor> {
  const out = new Map<string, HfTensor>();
  for (const [name, t] of state) {
    if (name.endsWith('.rotary_emb.inv_freq')) continue;
    out.set(name, { shape: t.shape.slice(), data: t.data });
  }
  const head = out.get('lm_head.weight'), emb = out.get('model.embed_tokens.weight');
  if (c.tieWordEmbeddings && head) {
    if (emb && !same(head, emb)) throw new Error(`${source}: "lm_head.weight" differs from "model.embed_tokens.weight" but tie_word_embeddings is true`);
    out.delete('lm_head.weight');
  }
  return out;
}

// --- whole folders ------------------------------------------------------------------------------------

export interface HfFiles {
  'config.json': string;
  'generation_config.json': string;
  'model.safetensors': Uint8Array;
}

/** A model's Hugging Face folder, as file name → contents (F32, or F16/BF16 weights). */
export function exportHf(model: GPT | Llama, t: HfTokenIds = {}, dtype: keyof typeof HF_DTYPE = 'F32'): HfFiles {
  const sd = model.stateDict();
  const [config, state] = model instanceof GPT
    ? [gptToHfConfig(model.config, t, dtype), gptToHfState(model.config, sd)]
    : [llamaToHfConfig(model.config, t, dtype), llamaToHfState(model.config, sd)];
  const tensors: Record<string, SafetensorsEntry> = {};
  for (const [name, v] of state) tensors[name] = dtype === 'F32' ? { dtype, shape: v.shape, data: v.data } : { dtype, shape: v.shape, data: fromFloat32(v.data, dtype) };
  return {
    'config.json': JSON.stringify(config, null, 2) + '\n',
    'generation_config.json': JSON.stringify(generationConfig(t), null, 2) + '\n',
    'model.safetensors': writeSafetensors(tensors, { format: 'pt' }),
  };
}

/** `fn`'s error with the generic `hf config:` / `model config:` prefix replaced by the config file's name */
function naming<T>(configSource: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const msg = (e as Error).message.replace(/^(hf|model|llama) config: /, '').replace(/ \(flags [^)]*\)$/, '');
    throw new Error(`${configSource}: ${msg}`);
  }
}

/**
 * A model from a Hugging Face folder's config.json (parsed) and model.safetensors (bytes, any float dtype).
 * GPT-2: `bias` comes from the checkpoint (true when any bias is nonzero) unless given. The config is checked
 * against the tensors (layer count, widths) and every weight must be finite, all before the model is
 * allocated. Returns notes on what is approximated. Throws one line naming opts.configSource (default
 * "hf config") and the field, or opts.source and the tensor, on an unsupported model_type or field, a config
 * the tensors disagree with, a tensor that does not fit, or a NaN / infinite weight.
 */
export function importHf(config: HfConfigJson, safetensors: Uint8Array, opts: { bias?: boolean; source?: string; configSource?: string } = {}): { model: GPT | Llama; notes: string[] } {
  const src: HfSources = { config: opts.configSource ?? 'hf config', weights: opts.source ?? 'model.safetensors' };
  if (config.model_type !== 'gpt2' && config.model_type !== 'llama') {
    throw new Error(`${src.config}: model_type must be "gpt2" or "llama", got ${JSON.stringify(config.model_type)}`);
  }
  const source = src.weights;
  const state = new Map<string, HfTensor>();
  for (const [name, e] of readSafetensors(safetensors, source).tensors) state.set(name, { shape: e.shape, data: toFloat32(e) });
  if (config.model_type === 'llama') {
    const c = naming(src.config, () => llamaFromHfConfig(config));
    checkLlamaConfigAgainstState(c, state, src);
    checkFiniteState(state, source);
    const weights = llamaFromHfState(c, state, source);
    const model = naming(src.config, () => new Llama(c));
    model.loadStateDict(weights, source);
    return { model, notes: [] };
  }
  const bias = opts.bias ?? [...state].some(([n, t]) => n.endsWith('.bias') && !isMaskBuffer(n) && !isZero(t));
  const { config: c, notes } = naming(src.config, () => gptFromHfConfig(config, bias));
  checkGptConfigAgainstState(c, state, src);
  checkFiniteState(state, source);
  const weights = gptFromHfState(c, state, source);
  const model = naming(src.config, () => new GPT(c));
  model.loadStateDict(weights, source);
  return { model, notes };
}
