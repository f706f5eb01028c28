// PEFT's LoRA adapter layout (huggingface/peft, `PeftModel.save_pretrained` / `from_pretrained`): a folder with
//   adapter_config.json         {"peft_type": "LORA", "r", "lora_alpha", "lora_dropout", "target_modules",
//                                "bias": "none", "fan_in_fan_out", "task_type": "CAUSAL_LM", …}
//   adapter_model.safetensors   `base_model.model.<module path>.lora_A.weight` (r, in) and `.lora_B.weight`
//                               (out, r), float32, metadata {"format": "pt"}
// Module paths are the base model's: for our GPT, nanoGPT's (`transformer.h.0.attn.c_attn`), which are also
// Hugging Face GPT-2's. HF's GPT-2 implements those layers as Conv1D with the weight stored (in, out), so
// PEFT wants fan_in_fan_out true there; the adapter tensors are the same either way (fan_in_fan_out only
// transposes the merged delta), and our Linear layers store W as (out, in) like nn.Linear: fan_in_fan_out
// false. Trained token rows (LoraConfig's trainable_token_indices, src/nn/trainable-tokens.ts) are saved as
//   `base_model.model.<table path>.token_adapter.trainable_tokens_delta` (n, C): the rows' values, replacing
// the base table's rows on load; the config lists their ids (a plain list: the input embedding, whose tied
// output head PEFT ties to it; or a {module: ids} object). This file works on bytes and strings (no fs), so
// it runs in a browser too.
import { readSafetensors, toFloat32, writeSafetensors, type SafetensorsEntry } from './safetensors.js';
import type { Module } from '../nn/module.js';
import { Linear } from '../nn/layers.js';
import { LoRALinear, applyLora, loraLayers, matchesTarget, namedModules } from '../nn/lora.js';
import { Embedding } from '../nn/layers.js';
import { applyTrainableTokens, trainableTokenLayers, TrainableTokens } from '../nn/trainable-tokens.js';
import type { Rng } from '../tensor/rng.js';

export const PEFT_PREFIX = 'base_model.model.';

export interface PeftLoraConfig {
  peft_type: 'LORA';
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: string[] | string;
  bias: 'none';
  fan_in_fan_out: boolean;
  task_type: string | null;
  base_model_name_or_path: string | null;
  /** token ids whose rows train: a list (the input embedding) or {module path or name: ids} */
  trainable_token_indices?: number[] | Record<string, number[]> | null;
  [key: string]: unknown;
}

export interface PeftWriteOptions {
  /** recorded as base_model_name_or_path (PEFT loads the base from it unless given a model) */
  baseModelNameOrPath?: string | null;
  /** true for an adapter meant for HF GPT-2's Conv1D layers (see the header); default false */
  fanInFanOut?: boolean;
  /** default: the distinct last path segments of the adapted modules, sorted */
  targetModules?: string[];
  /** PEFT's task_type, which picks the PeftModel class on load; default 'CAUSAL_LM', null for a plain module */
  taskType?: string | null;
}

/** adapter_config.json's text and adapter_model.safetensors' bytes for the LoRA layers of `model` */
export function writePeftAdapter(model: Module, opts: PeftWriteOptions = {}): { config: PeftLoraConfig; configJson: string; weights: Uint8Array } {
  const layers = loraLayers(model);
  if (layers.length === 0) throw new Error('writePeftAdapter: the model has no LoRA layers (applyLora first)');
  const { r, loraAlpha, loraDropout } = layers[0][1];
  const tensors: Record<string, SafetensorsEntry> = {};
  for (const [path, l] of layers) {
    if (l.r !== r || l.loraAlpha !== loraAlpha || l.loraDropout !== loraDropout) {
      throw new Error(`writePeftAdapter: layer "${path}" has r/alpha/dropout ${l.r}/${l.loraAlpha}/${l.loraDropout}, others ${r}/${loraAlpha}/${loraDropout}`);
    }
    tensors[`${PEFT_PREFIX}${path}.lora_A.weight`] = { dtype: 'F32', shape: [r, l.inFeatures], data: l.lora_A.weight.data.slice() };
    tensors[`${PEFT_PREFIX}${path}.lora_B.weight`] = { dtype: 'F32', shape: [l.outFeatures, r], data: l.lora_B.weight.data.slice() };
  }
  const tokenLayers = trainableTokenLayers(model);
  for (const [path, t] of tokenLayers) {
    tensors[`${PEFT_PREFIX}${path}.token_adapter.trainable_tokens_delta`] = { dtype: 'F32', shape: t.delta.shape.slice(), data: t.delta.data.slice() };
  }
  const targets = opts.targetModules ?? [...new Set(layers.map(([p]) => p.split('.').pop()!))].sort();
  const config: PeftLoraConfig = {
    alpha_pattern: {}, auto_mapping: null, base_model_name_or_path: opts.baseModelNameOrPath ?? null, bias: 'none',
    fan_in_fan_out: opts.fanInFanOut ?? false, inference_mode: true, init_lora_weights: true, layers_pattern: null,
    layers_to_transform: null, lora_alpha: loraAlpha, lora_dropout: loraDropout, modules_to_save: null, peft_type: 'LORA',
    r, rank_pattern: {}, revision: null, target_modules: targets, task_type: opts.taskType === undefined ? 'CAUSAL_LM' : opts.taskType,
    ...(tokenLayers.length ? { trainable_token_indices: tokenIndicesConfig(tokenLayers) } : {}), use_dora: false, use_rslora: false,
  };
  return { config, configJson: JSON.stringify(config, null, 2) + '\n', weights: writeSafetensors(tensors, { format: 'pt' }) };
}

/** trainable_token_indices as PEFT writes it: a list for the input embedding alone, else {module path: ids} */
function tokenIndicesConfig(layers: [string, TrainableTokens][]): number[] | Record<string, number[]> {
  if (layers.length === 1 && layers[0][1].isEmbeddingTable) return [...layers[0][1].tokenIndices];
  return Object.fromEntries(layers.map(([p, t]) => [p, [...t.tokenIndices]]));
}

const isEmpty = (v: unknown): boolean => v === undefined || v === null || (typeof v === 'object' && Object.keys(v as object).length === 0);

/** parses and checks adapter_config.json: a LoRA adapter this implementation can apply. One-line errors. */
export function parsePeftConfig(json: string): PeftLoraConfig {
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(json) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`adapter_config.json: not valid JSON (${(e as Error).message})`);
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new Error('adapter_config.json: not a JSON object');
  const bad = (field: string, want: string): never => {
    throw new Error(`adapter_config.json: ${field} must be ${want}, got ${JSON.stringify(c[field])}`);
  };
  if (c.peft_type !== 'LORA') bad('peft_type', '"LORA"');
  if (!(Number.isInteger(c.r) && (c.r as number) >= 1)) bad('r', 'a positive integer');
  if (!(typeof c.lora_alpha === 'number' && c.lora_alpha > 0)) bad('lora_alpha', 'a positive number');
  const p = c.lora_dropout ?? 0;
  if (!(typeof p === 'number' && p >= 0 && p < 1)) bad('lora_dropout', 'a number in [0, 1)');
  const t = c.target_modules;
  if (!(typeof t === 'string' || (Array.isArray(t) && t.length > 0 && t.every((s) => typeof s === 'string')))) bad('target_modules', 'a list of module names or a regex string');
  if ((c.bias ?? 'none') !== 'none') bad('bias', '"none" (bias training is not supported)');
  if (c.use_rslora === true) bad('use_rslora', 'false (rank-stabilised scaling is not supported)');
  if (c.use_dora === true) bad('use_dora', 'false (DoRA is not supported)');
  for (const f of ['rank_pattern', 'alpha_pattern', 'modules_to_save', 'layers_to_transform']) if (!isEmpty(c[f])) bad(f, 'empty (not supported)');
  const ti = c.trainable_token_indices ?? null;
  const ids = (v: unknown): boolean => Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && x >= 0);
  if (ti !== null && !(ids(ti) || (typeof ti === 'object' && !Array.isArray(ti) && Object.values(ti).length > 0 && Object.values(ti).every(ids)))) {
    bad('trainable_token_indices', 'a list of token ids or an object of module name → token ids');
  }
  return { ...c, lora_dropout: p, bias: 'none', fan_in_fan_out: c.fan_in_fan_out === true } as PeftLoraConfig;
}

const TOKEN_KEY = /^base_model\.model\.(.+)\.token_adapter\.trainable_tokens_delta(?:\.default)?$/;

/** the adapter's trained token rows by table path (n, C) */
export function peftTokenRows(bytes: Uint8Array): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [key, e] of readSafetensors(bytes, 'adapter_model.safetensors').tensors) {
    const m = TOKEN_KEY.exec(key);
    if (!m) continue;
    if (e.shape.length !== 2) throw new Error(`adapter_model.safetensors: "${key}" has shape [${e.shape}], expected (tokens, width)`);
    out.set(m[1], { shape: e.shape, data: toFloat32(e) });
  }
  return out;
}

/** the adapter's tensors by module path: A (r, in) and B (out, r) */
export function parsePeftWeights(bytes: Uint8Array, r: number): Map<string, { A: { shape: number[]; data: Float32Array }; B: { shape: number[]; data: Float32Array } }> {
  const f = readSafetensors(bytes, 'adapter_model.safetensors');
  const parts = new Map<string, { A?: { shape: number[]; data: Float32Array }; B?: { shape: number[]; data: Float32Array } }>();
  for (const [key, e] of f.tensors) {
    if (TOKEN_KEY.test(key)) continue; // trained token rows: peftTokenRows
    const m = /^base_model\.model\.(.+)\.lora_([AB])(?:\.default)?\.weight$/.exec(key);
    if (!m) throw new Error(`adapter_model.safetensors: unexpected tensor "${key}" (want base_model.model.<module>.lora_A/lora_B.weight or …token_adapter.trainable_tokens_delta)`);
    const [, path, which] = m;
    const rank = which === 'A' ? e.shape[0] : e.shape[1];
    if (e.shape.length !== 2 || rank !== r) throw new Error(`adapter_model.safetensors: "${key}" has shape [${e.shape}], expected rank ${r} in ${which === 'A' ? '[r, in]' : '[out, r]'}`);
    const entry = parts.get(path) ?? {};
    entry[which as 'A' | 'B'] = { shape: e.shape, data: toFloat32(e) };
    parts.set(path, entry);
  }
  const out = new Map<string, { A: { shape: number[]; data: Float32Array }; B: { shape: number[]; data: Float32Array } }>();
  for (const [path, { A, B }] of parts) {
    if (!A || !B) throw new Error(`adapter_model.safetensors: module "${path}" has lora_${A ? 'A' : 'B'} but no lora_${A ? 'B' : 'A'}`);
    out.set(path, { A, B });
  }
  if (out.size === 0) throw new Error('adapter_model.safetensors: no LoRA tensors');
  return out;
}

/** the module paths of `model` that a config's target_modules selects (list: PEFT's suffix match; string: regex full match) */
function targetPaths(model: Module, targets: string[] | string): Map<string, Linear | LoRALinear> {
  const re = typeof targets === 'string' ? new RegExp(`^(?:${targets})$`) : null;
  const out = new Map<string, Linear | LoRALinear>();
  for (const [path, m] of namedModules(model)) {
    if (!(m instanceof Linear || m instanceof LoRALinear) || !path) continue;
    if (re ? re.test(path) : matchesTarget(path, targets as string[])) out.set(path, m);
  }
  return out;
}

/**
 * Loads a PEFT LoRA adapter into `model`: checks that its modules are Linear layers of the base with matching
 * shapes, applies LoRA to them (unless the model already has exactly those LoRA layers with the same r and α)
 * and copies A and B in. Returns the parsed config. Throws a one-line error naming the file and field on any
 * mismatch, before changing the model.
 */
export function loadPeftAdapter(model: Module, configJson: string, weights: Uint8Array, rng?: Rng): PeftLoraConfig {
  const cfg = parsePeftConfig(configJson);
  const tensors = parsePeftWeights(weights, cfg.r);
  const targets = targetPaths(model, cfg.target_modules);
  for (const [path, { A, B }] of tensors) {
    const m = targets.get(path);
    if (!m) throw new Error(`adapter_model.safetensors: module "${path}" is not a ${JSON.stringify(cfg.target_modules)} Linear layer of the base model`);
    const [out, inF] = m.weight.shape;
    if (A.shape[1] !== inF || B.shape[0] !== out) {
      throw new Error(`adapter_model.safetensors: module "${path}" has A [${A.shape}] and B [${B.shape}], the base layer is (${out}, ${inF})`);
    }
  }
  for (const path of targets.keys()) if (!tensors.has(path)) throw new Error(`adapter_model.safetensors: no lora_A/lora_B for target module "${path}"`);
  const tokenRows = checkTokenRows(model, cfg, peftTokenRows(weights));
  if (loraLayers(model).length === 0) {
    applyLora(model, { r: cfg.r, loraAlpha: cfg.lora_alpha, loraDropout: cfg.lora_dropout, targets: [...targets.keys()], rng });
  }
  const layers = new Map(loraLayers(model));
  for (const path of tensors.keys()) {
    const l = layers.get(path);
    if (!l || l.r !== cfg.r || l.loraAlpha !== cfg.lora_alpha) throw new Error(`adapter_config.json: the model's LoRA layer "${path}" does not match r=${cfg.r}, lora_alpha=${cfg.lora_alpha}`);
    if (l.merged) throw new Error(`loadPeftAdapter: LoRA layer "${path}" is merged; unmerge it first`);
  }
  for (const [path, { A, B }] of tensors) {
    layers.get(path)!.lora_A.weight.data.set(A.data);
    layers.get(path)!.lora_B.weight.data.set(B.data);
  }
  for (const { path, ids } of tokenRows.tables) if (!trainableTokenLayers(model).some(([p]) => p === path)) applyTrainableTokens(model, [path], ids);
  const wrapped = new Map(trainableTokenLayers(model));
  for (const { path, rows } of tokenRows.tables) wrapped.get(path)!.delta.data.set(rows);
  return cfg;
}

const INPUT_EMBEDDING_NAMES = ['wte', 'embed_tokens', 'word_embeddings'];

/**
 * The token tables a config's trainable_token_indices names, each with its ids and rows from the file,
 * checked against the model (table exists, ids in range, rows (ids, width), no rows for other tables, an
 * already wrapped table has the same ids). A plain list names the input embedding (`wte`, `embed_tokens`).
 */
function checkTokenRows(model: Module, cfg: PeftLoraConfig, rows: Map<string, { shape: number[]; data: Float32Array }>): { tables: { path: string; ids: number[]; rows: Float32Array }[] } {
  const spec = cfg.trainable_token_indices ?? null;
  if (spec === null) {
    if (rows.size) throw new Error(`adapter_model.safetensors: has trained token rows ("${[...rows.keys()][0]}") but adapter_config.json has no trainable_token_indices`);
    return { tables: [] };
  }
  const modules = namedModules(model).filter(([p, m]) => p && (m instanceof Embedding || m instanceof Linear || m instanceof TrainableTokens));
  const find = (name: string, embeddingOnly: boolean): string | undefined =>
    modules.find(([p, m]) => (p === name || p.endsWith(`.${name}`)) && (!embeddingOnly || m instanceof Embedding || (m instanceof TrainableTokens && m.isEmbeddingTable)))?.[0];
  const entries: [string, number[]][] = Array.isArray(spec)
    ? [[INPUT_EMBEDDING_NAMES.map((n) => find(n, true)).find((p) => p !== undefined) ?? '', spec]]
    : Object.entries(spec).map(([name, ids]) => [find(name, false) ?? '', ids]);
  const tables = entries.map(([path, ids], i) => {
    const label = Array.isArray(spec) ? 'the input embedding' : `"${Object.keys(spec)[i]}"`;
    if (!path) throw new Error(`adapter_config.json: trainable_token_indices names ${label}, which the base model has no token table for`);
    const m = modules.find(([p]) => p === path)![1] as Embedding | Linear | TrainableTokens;
    const table = m instanceof TrainableTokens ? m.baseWeight : m.weight;
    const [V, C] = table.shape;
    const bad = ids.find((id) => id >= V);
    if (bad !== undefined) throw new Error(`adapter_config.json: trainable_token_indices: token ${bad} is outside "${path}"'s ${V} rows`);
    if (m instanceof TrainableTokens && m.tokenIndices.join() !== ids.join()) throw new Error(`loadPeftAdapter: "${path}" already trains tokens [${m.tokenIndices.join(', ')}], not [${ids.join(', ')}]`);
    const r = rows.get(path);
    if (!r) throw new Error(`adapter_model.safetensors: no token_adapter.trainable_tokens_delta for "${path}"`);
    if (r.shape[0] !== ids.length || r.shape[1] !== C) throw new Error(`adapter_model.safetensors: "${path}" token rows have shape [${r.shape}], expected [${ids.length},${C}]`);
    return { path, ids, rows: r.data };
  });
  const extra = [...rows.keys()].find((p) => !tables.some((t) => t.path === p));
  if (extra) throw new Error(`adapter_model.safetensors: token rows for "${extra}", which trainable_token_indices does not name`);
  return { tables };
}
