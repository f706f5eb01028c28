// PEFT's LoRA adapter layout (huggingface/peft, `PeftModel.save_pretrained` / `from_pretrained`): a folder with
//   adapter_config.json         {"peft_type": "LORA", "r", "lora_alpha", "lora_dropout", "target_modules",
//                                "bias": "none", "fan_in_fan_out", "task_type": "CAUSAL_LM", …}
//   adapter_model.safetensors   `base_model.model.<module path>.lora_A.weight` (r, in) and `.lora_B.weight`
//                               (out, r), float32, metadata {"format": "pt"}
// Module paths are the base model's: for our GPT, nanoGPT's (`transformer.h.0.attn.c_attn`), which are also
// Hugging Face GPT-2's. HF's GPT-2 implements those layers as Conv1D with the weight stored (in, out), so
// PEFT wants fan_in_fan_out true there; the adapter tensors are the same either way (fan_in_fan_out only
// transposes the merged delta), and our Linear layers store W as (out, in) like nn.Linear: fan_in_fan_out
// false. This file works on bytes and strings (no fs), so it runs in a browser too.
import { readSafetensors, toFloat32, writeSafetensors, type SafetensorsEntry } from './safetensors.js';
import type { Module } from '../nn/module.js';
import { Linear } from '../nn/layers.js';
import { LoRALinear, applyLora, loraLayers, matchesTarget, namedModules } from '../nn/lora.js';
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
  const targets = opts.targetModules ?? [...new Set(layers.map(([p]) => p.split('.').pop()!))].sort();
  const config: PeftLoraConfig = {
    alpha_pattern: {}, auto_mapping: null, base_model_name_or_path: opts.baseModelNameOrPath ?? null, bias: 'none',
    fan_in_fan_out: opts.fanInFanOut ?? false, inference_mode: true, init_lora_weights: true, layers_pattern: null,
    layers_to_transform: null, lora_alpha: loraAlpha, lora_dropout: loraDropout, modules_to_save: null, peft_type: 'LORA',
    r, rank_pattern: {}, revision: null, target_modules: targets, task_type: opts.taskType === undefined ? 'CAUSAL_LM' : opts.taskType, use_dora: false, use_rslora: false,
  };
  return { config, configJson: JSON.stringify(config, null, 2) + '\n', weights: writeSafetensors(tensors, { format: 'pt' }) };
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
  return { ...c, lora_dropout: p, bias: 'none', fan_in_fan_out: c.fan_in_fan_out === true } as PeftLoraConfig;
}

/** the adapter's tensors by module path: A (r, in) and B (out, r) */
export function parsePeftWeights(bytes: Uint8Array, r: number): Map<string, { A: { shape: number[]; data: Float32Array }; B: { shape: number[]; data: Float32Array } }> {
  const f = readSafetensors(bytes, 'adapter_model.safetensors');
  const parts = new Map<string, { A?: { shape: number[]; data: Float32Array }; B?: { shape: number[]; data: Float32Array } }>();
  for (const [key, e] of f.tensors) {
    const m = /^base_model\.model\.(.+)\.lora_([AB])(?:\.default)?\.weight$/.exec(key);
    if (!m) throw new Error(`adapter_model.safetensors: unexpected tensor "${key}" (want base_model.model.<module>.lora_A/lora_B.weight)`);
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
  return cfg;
}
