// Checkpoints of runs trained with LoRA: their model.safetensors holds the base tensors under their usual
// names plus `…lora_A.weight` / `…lora_B.weight` (and `…token_adapter.trainable_tokens_delta` for trained
// token rows), and config.json's meta.lora records r, α, dropout, targets and the trained token ids. Loading rebuilds the base model, applies the same LoRA layers and copies the adapter in, keeping
// the optimizer and trainer state for --resume. The run also leaves `adapter/` (PEFT layout: adapter_config.json,
// adapter_model.safetensors) and `merged/` (a plain checkpoint with the updates merged, for sample/chat/serve).
import fs from 'node:fs';
import path from 'node:path';
import type { Module } from '../nn/module.js';
import { readSafetensors, toFloat32, writeSafetensors, type SafetensorsEntry } from '../formats/safetensors.js';
import { writePeftAdapter } from '../formats/peft.js';
import { writeDirAtomicSync } from '../formats/atomic.node.js';
import { checkpointFiles, checkpointFromFiles, parseJSON, type Checkpoint } from './checkpoint.js';
import { resolveCheckpointDir } from './checkpoint.node.js';
import { adaptable, adaptModel, isLoraTensor, mergedCopy, type LoraOptions } from './adapt.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import type { LanguageModel } from '../models/model.js';

function checkLoraMeta(v: unknown, where: string): LoraOptions {
  const o = v as Partial<LoraOptions>;
  if (!o || !Number.isInteger(o.r) || !(typeof o.alpha === 'number') || !Array.isArray(o.targets)) throw new Error(`${where}/config.json: meta.lora must hold r, alpha, dropout and targets`);
  const tokens = o.trainableTokens;
  if (tokens !== undefined && !(Array.isArray(tokens) && tokens.every((t) => Number.isInteger(t) && t >= 0))) throw new Error(`${where}/config.json: meta.lora.trainableTokens must be a list of token ids`);
  return { r: o.r!, alpha: o.alpha, dropout: o.dropout ?? 0, targets: o.targets, ...(tokens?.length ? { trainableTokens: tokens } : {}) };
}

/** Loads any checkpoint folder (or run folder); a LoRA run's comes back with its LoRA layers applied. */
export function loadAnyCheckpoint(p: string, resumable = false): Checkpoint & { lora?: LoraOptions } {
  const dir = resolveCheckpointDir(p, resumable);
  const read = (name: string): Uint8Array | null => {
    const f = path.join(dir, name);
    return fs.existsSync(f) ? new Uint8Array(fs.readFileSync(f)) : null;
  };
  const text = read('config.json');
  // a missing, damaged or odd config.json is the plain loader's to report, naming the file
  const cfg = text === null ? null : (parseJSON(new TextDecoder().decode(text), `${dir}/config.json`) as { meta?: { lora?: unknown } } | null);
  if (!cfg || typeof cfg !== 'object' || !cfg.meta || typeof cfg.meta !== 'object' || !cfg.meta.lora) return checkpointFromFiles(read, dir);
  const lora = checkLoraMeta(cfg.meta.lora, dir);
  const st = readSafetensors(read('model.safetensors') ?? new Uint8Array(), `${dir}/model.safetensors`);
  const base: Record<string, SafetensorsEntry> = {};
  const adapter = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [n, e] of st.tensors) {
    if (isLoraTensor(n)) adapter.set(n, { shape: e.shape, data: toFloat32(e) });
    else base[n] = e;
  }
  const ck = checkpointFromFiles((name) => (name === 'model.safetensors' ? writeSafetensors(base) : read(name)), dir);
  adaptModel(ck.model, { lora });
  const params = new Map(ck.model.namedParameters());
  for (const [n, t] of adapter) {
    const p = params.get(n);
    if (!p || p.size !== t.data.length) throw new Error(`${dir}/model.safetensors: LoRA tensor "${n}" does not fit the model`);
    p.data.set(t.data);
  }
  const missing = [...params.keys()].find((n) => isLoraTensor(n) && !adapter.has(n));
  if (missing) throw new Error(`${dir}/model.safetensors: missing LoRA tensor "${missing}" (config.json meta.lora asks for it)`);
  return { ...ck, lora };
}

/** Writes `<dir>/adapter/` (PEFT) and `<dir>/merged/` (plain checkpoint) from a LoRA model. */
export function saveLoraOutputs(dir: string, model: LanguageModel, tokenizer: Tokenizer, meta: Record<string, unknown>): void {
  const peft = writePeftAdapter(adaptable(model) as unknown as Module, { baseModelNameOrPath: typeof meta.base === 'string' ? meta.base : null });
  writeDirAtomicSync(path.join(dir, 'adapter'), { 'adapter_config.json': peft.configJson, 'adapter_model.safetensors': peft.weights });
  const plain = mergedCopy(model);
  const { lora: _drop, ...rest } = meta;
  writeDirAtomicSync(path.join(dir, 'merged'), checkpointFiles(plain, tokenizer, { meta: { ...rest, mergedFrom: 'lora' } }));
}
