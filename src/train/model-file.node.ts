// One loader for every model file gptlab reads: a checkpoint folder or a run folder (best/ or checkpoint/),
// a Hugging Face folder (config.json with model_type gpt2 or llama, model.safetensors, tokenizer.json), or
// a .gguf file (ours or llama.cpp's, gpt2 / llama). sample, chat, serve, eval and info route through it.
import fs from 'node:fs';
import path from 'node:path';
import type { LanguageModel } from '../models/model.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { tokenizerFromJSON } from '../tokenizers/index.js';
import { loadAnyCheckpoint } from './lora-checkpoint.node.js';
import { hasLora, mergedCopy } from './adapt.js';
import { CHECKPOINT_FORMAT } from './checkpoint.js';
import type { QuantizedLinearMode } from '../quant/quantized-linear.js';
import { readGGUF, GGUF_MAGIC, type GGUFFile } from '../formats/gguf.js';
import { ggufToModel } from '../formats/gguf-model-read.js';
import { importHf } from '../formats/hf.js';

export interface LoadedModelFile {
  model: LanguageModel;
  tokenizer: Tokenizer;
  /** what was approximated or assumed while loading, one line each */
  notes: string[];
  kind: 'checkpoint' | 'hf' | 'gguf';
  /** the file or folder the weights came from */
  source: string;
  /** the parsed GGUF (kind 'gguf'), for `gptlab info` */
  gguf?: GGUFFile;
}

export interface LoadModelFileOptions {
  /** GGUF: dequantize every matrix to float32 (default: keep quantized blocks) */
  dequantize?: boolean;
  /** GGUF: QuantizedLinear's mode (default 'tiled') */
  mode?: QuantizedLinearMode;
}

function readBytes(file: string): Uint8Array {
  try {
    const b = fs.readFileSync(file);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${file}: ${code === 'ENOENT' ? 'no such file' : code ?? (e as Error).message}`);
  }
}

/** whether file `p` is a GGUF model: a .gguf name or GGUF's magic in its first 4 bytes */
export function isGGUFFile(p: string): boolean {
  if (p.toLowerCase().endsWith('.gguf')) return true;
  const fd = fs.openSync(p, 'r');
  try {
    const b = Buffer.alloc(4);
    return fs.readSync(fd, b, 0, 4, 0) === 4 && b.readUInt32LE(0) === GGUF_MAGIC;
  } finally {
    fs.closeSync(fd);
  }
}

function readJson(file: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readBytes(file)));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${file}: expected a JSON object`);
  return json as Record<string, unknown>;
}

function loadHf(dir: string, config: Record<string, unknown>): LoadedModelFile {
  const st = path.join(dir, 'model.safetensors');
  const { model, notes } = importHf(config, readBytes(st), { source: st, configSource: path.join(dir, 'config.json') });
  // gptlab's export writes tokenizers HF has no form for (character-level, Chinese) as gptlab_tokenizer.json
  const tf = ['tokenizer.json', 'gptlab_tokenizer.json'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (!tf) throw new Error(`${dir}: a Hugging Face folder needs tokenizer.json (or gptlab_tokenizer.json)`);
  const tokenizer = tokenizerFromJSON(readJson(tf), tf);
  return { model, tokenizer, notes, kind: 'hf', source: dir };
}

/**
 * The model and tokenizer at `p`: a .gguf file (or any file starting with the GGUF magic), a Hugging Face
 * folder (config.json with model_type gpt2/llama and no gptlab format tag), or a checkpoint / run folder.
 * Errors are one line naming the file and what is wrong with it.
 */
export function loadModelFile(p: string, opts: LoadModelFileOptions = {}): LoadedModelFile {
  if (!fs.existsSync(p)) throw new Error(`${p}: no such checkpoint folder or model file`);
  if (fs.statSync(p).isFile()) {
    if (!isGGUFFile(p)) throw new Error(`${p}: not a GGUF file (a model is a .gguf file, a checkpoint folder or a Hugging Face folder)`);
    const gguf = readGGUF(readBytes(p), p);
    const { model, tokenizer, notes } = ggufToModel(gguf, opts);
    return { model, tokenizer, notes, kind: 'gguf', source: p, gguf };
  }
  const cfgFile = path.join(p, 'config.json');
  if (fs.existsSync(cfgFile)) {
    const cfg = readJson(cfgFile);
    if (cfg.format !== CHECKPOINT_FORMAT && (cfg.model_type === 'gpt2' || cfg.model_type === 'llama')) return loadHf(p, cfg);
  }
  const ck = loadAnyCheckpoint(p);
  if (ck.lora && hasLora(ck.model)) {
    return { model: mergedCopy(ck.model), tokenizer: ck.tokenizer, notes: [`a LoRA run's checkpoint (r ${ck.lora.r}, alpha ${ck.lora.alpha}): its adapter is merged into the base weights`], kind: 'checkpoint', source: p };
  }
  return { model: ck.model, tokenizer: ck.tokenizer, notes: [], kind: 'checkpoint', source: p };
}
