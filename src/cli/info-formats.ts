// gptlab info for the model files that are not gptlab checkpoints: a .gguf file as JSON, and a Hugging Face
// folder (config.json with model_type gpt2 or llama, model.safetensors, tokenizer.json) as text or JSON.
import fs from 'node:fs';
import path from 'node:path';
import { readGGUF } from '../formats/gguf.js';
import type { GGUFArray, GGUFValue } from '../formats/gguf-values.js';
import { readSafetensors } from '../formats/safetensors.js';
import { loadModelFile } from '../train/model-file.node.js';

/** a GGUF metadata value as JSON: 64-bit integers as numbers when exact, else as decimal strings */
function ggufJsonValue(v: GGUFValue | GGUFArray | number | bigint | boolean | string): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v !== 'object') return v;
  if ('items' in v) return (v.items as unknown[]).map((x) => ggufJsonValue(x as never));
  return ggufJsonValue(v.value as never);
}

/**
 * What `gptlab info FILE.gguf --json` prints: version, metadata (key → value), tensors (name, ggml type,
 * row-major shape) and the model gptlab reads from it (or the reason it cannot). Throws one line for an
 * unreadable file.
 */
export function ggufInfoJson(file: string): Record<string, unknown> {
  const b = fs.readFileSync(file);
  const f = readGGUF(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), file);
  const out: Record<string, unknown> = {
    file, format: 'gguf', version: f.version, alignment: f.alignment, bytes: f.byteLength,
    metadata: Object.fromEntries([...f.metadata].map(([k, v]) => [k, ggufJsonValue(v)])),
    tensors: f.tensors.map((t) => ({ name: t.name, type: t.typeName, shape: t.shape })),
  };
  try {
    const { model, tokenizer, notes } = loadModelFile(file);
    out.gptlab = { model: model.describe(), parameters: model.numParameters(), tokenizer: { type: tokenizer.type, vocabSize: tokenizer.vocabSize }, notes };
  } catch (e) {
    out.gptlab = { error: (e as Error).message };
  }
  return out;
}

/** a Hugging Face folder's summary: its config.json as written, the model gptlab builds, tensors and tokenizer */
export interface HfFolderInfo {
  folder: string;
  format: 'hf';
  modelType: string;
  architectures: unknown;
  config: Record<string, unknown>;
  model: string;
  parameters: number;
  tensors: { name: string; dtype: string; shape: number[] }[];
  dtypes: Record<string, number>;
  tokenizer: { file: string; type: string; vocabSize: number; special: Record<string, number> };
  notes: string[];
  files: { file: string; bytes: number }[];
}

/** Reads a Hugging Face folder (gpt2 or llama) for `gptlab info`; throws one line naming the file on bad input. */
export function hfFolderInfo(dir: string, config: Record<string, unknown>): HfFolderInfo {
  const { model, tokenizer, notes } = loadModelFile(dir);
  const stFile = path.join(dir, 'model.safetensors');
  const st = readSafetensors(new Uint8Array(fs.readFileSync(stFile)), stFile);
  const tensors = [...st.tensors].map(([name, e]) => ({ name, dtype: e.dtype as string, shape: e.shape }));
  const dtypes: Record<string, number> = {};
  for (const t of tensors) dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
  const tokFile = ['tokenizer.json', 'gptlab_tokenizer.json'].find((f) => fs.existsSync(path.join(dir, f))) ?? '';
  return {
    folder: dir, format: 'hf', modelType: String(config.model_type), architectures: config.architectures ?? null, config,
    model: model.describe(), parameters: model.numParameters(), tensors, dtypes,
    tokenizer: { file: tokFile, type: tokenizer.type, vocabSize: tokenizer.vocabSize, special: Object.fromEntries(tokenizer.specialTokens) },
    notes, files: fs.readdirSync(dir).map((f) => ({ file: f, bytes: fs.statSync(path.join(dir, f)).size })),
  };
}

/** `gptlab info HFDIR`'s text */
export function hfFolderText(i: HfFolderInfo): string {
  const scalar = Object.entries(i.config).filter(([, v]) => v === null || typeof v !== 'object').map(([k, v]) => `${k} ${v}`);
  return [
    `Hugging Face folder ${i.folder} (model_type ${i.modelType}${Array.isArray(i.architectures) ? `, ${i.architectures.join(' ')}` : ''})`,
    `  model      ${i.model}`,
    `  config     ${scalar.join(', ')}`,
    `  parameters ${i.parameters.toLocaleString('en')}`,
    `  tensors    ${i.tensors.length} (${Object.entries(i.dtypes).map(([d, n]) => `${n} ${d}`).join(', ')})`,
    `  tokenizer  ${i.tokenizer.file}: ${i.tokenizer.type}, ${i.tokenizer.vocabSize} tokens${Object.keys(i.tokenizer.special).length ? `, special ${Object.keys(i.tokenizer.special).join(' ')}` : ''}`,
    ...i.notes.map((n) => `  note       ${n}`),
    `  files      ${i.files.map((f) => `${f.file} (${(f.bytes / 1024).toFixed(1)} KiB)`).join(', ')}`,
  ].join('\n');
}
