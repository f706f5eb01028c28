// gptlab export: a model (checkpoint, run folder, Hugging Face folder or GGUF file) as a GGUF file for
// llama.cpp / Ollama / LM Studio (`--format gguf --type f32|f16|q8_0|q4_0|q4_1|q5_0|q5_1|q4_k|q5_k|q6_k|q4_k_m|q5_k_m`),
// or as a Hugging Face folder (`--format hf`: config.json, generation_config.json, model.safetensors, tokenizer.json).
// Also `ggufInfoText`, what `gptlab info FILE.gguf` prints.
import fs from 'node:fs';
import path from 'node:path';
import { helpText, parseArgs, UsageError, type OptTable } from './args.js';
import { BACKEND_OPTS, checkOutputFile, maybeHelp, setupBackend } from './common.js';
import { loadModelFile } from '../train/model-file.node.js';
import { modelToGGUF } from '../formats/gguf-model.js';
import { GGUF_EXPORT_TYPES, checkExportType } from '../formats/gguf-types.js';
import { exportHf } from '../formats/hf.js';
import { writeDirAtomicSync, writeFileAtomicSync } from '../formats/atomic.node.js';
import { bpeToHF } from '../tokenizers/huggingface.js';
import { BPETokenizer } from '../tokenizers/bpe.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { readGGUF } from '../formats/gguf.js';
import { ggufInfo } from '../formats/gguf-info.js';
import { namedModules } from '../nn/lora.js';
import type { Module } from '../nn/module.js';
import { QuantizedLinear } from '../quant/quantized-linear.js';

const OPTS: OptTable = {
  checkpoint: { type: 'string', positional: true, help: 'checkpoint folder, run folder, Hugging Face folder or .gguf file' },
  format: { type: 'string', default: 'gguf', choices: ['gguf', 'hf'], help: 'gguf (llama.cpp) or hf (Hugging Face transformers folder)' },
  type: { type: 'string', default: 'f16', choices: GGUF_EXPORT_TYPES, help: `GGUF tensor type: ${GGUF_EXPORT_TYPES.join(', ')} (q4_k_m, q5_k_m: llama.cpp's mixes)` },
  dtype: { type: 'string', default: 'F32', choices: ['F32', 'F16', 'BF16'], help: 'hf: weight dtype in model.safetensors' },
  out: { type: 'string', help: 'output file (gguf) or folder (hf)' },
  name: { type: 'string', help: 'gguf: general.name' },
  ...BACKEND_OPTS,
};

function tokenIds(tok: Tokenizer): { bosTokenId: number | null; eosTokenId: number | null } {
  const sp = tok.specialTokens;
  const eos = sp.get('<|end|>') ?? sp.get('<|endoftext|>') ?? null;
  return { bosTokenId: sp.get('<|endoftext|>') ?? eos, eosTokenId: eos };
}

/** the Hugging Face folder's files: exportHf's three plus the tokenizer */
function hfFiles(model: Parameters<typeof exportHf>[0], tok: Tokenizer, dtype: 'F32' | 'F16' | 'BF16', notes: string[]): Record<string, string | Uint8Array> {
  const files: Record<string, string | Uint8Array> = { ...exportHf(model, tokenIds(tok), dtype) };
  if (tok instanceof BPETokenizer) files['tokenizer.json'] = JSON.stringify(bpeToHF(tok)) + '\n';
  else {
    files['gptlab_tokenizer.json'] = JSON.stringify(tok.toJSON()) + '\n';
    notes.push(`the ${tok.type} tokenizer has no Hugging Face tokenizer.json form; wrote gptlab_tokenizer.json`);
  }
  return files;
}

export async function exportCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'export');
  if (maybeHelp(o, () => helpText('export', 'write a model as GGUF (llama.cpp) or a Hugging Face folder', OPTS, 'gptlab export CKPT --format gguf --type q4_k_m --out model.gguf | --format hf --out DIR'))) return 0;
  if (!o.checkpoint) throw new UsageError('export: give a checkpoint folder, run folder, Hugging Face folder or .gguf file');
  if (!o.out) throw new UsageError('export: give --out (a .gguf file, or a folder for --format hf)');
  const out = o.out as string;
  if (o.format === 'gguf') {
    checkExportType(o.type as string);
    checkOutputFile(out, '--out', 'export', { parentMayBeMissing: true });
  }
  await setupBackend(o); // quantize() runs on its kernels (wasm: assembly/quantize.ts, quantize-k.ts)
  const loaded = loadModelFile(o.checkpoint as string, { dequantize: true });
  const notes = [...loaded.notes];
  if (o.format === 'gguf') {
    const type = checkExportType(o.type as string);
    const { bytes, notes: n } = modelToGGUF(loaded.model, loaded.tokenizer, { type, name: o.name as string | undefined });
    notes.push(...n);
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    writeFileAtomicSync(out, bytes);
    process.stdout.write(`wrote ${out}: ${loaded.model.describe()}, ${type}, ${(bytes.length / 2 ** 20).toFixed(2)} MiB\n`);
  } else {
    const m = loaded.model;
    if (m.type !== 'gpt' && m.type !== 'llama') throw new UsageError(`export: a ${m.type} model has no Hugging Face form (gpt, llama do)`);
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    writeDirAtomicSync(out, hfFiles(m as Parameters<typeof exportHf>[0], loaded.tokenizer, o.dtype as 'F32' | 'F16' | 'BF16', notes));
    process.stdout.write(`wrote ${out}/: config.json, generation_config.json, model.safetensors, tokenizer\n`);
  }
  for (const n of notes) process.stderr.write(`note: ${n}\n`);
  return 0;
}

/** `N parameters (M of them in K quantized matrices)`: the count includes the quantized weights */
function parameterSummary(model: Module): string {
  const q = namedModules(model).map(([, m]) => m).filter((m): m is QuantizedLinear => m instanceof QuantizedLinear);
  const inQ = q.reduce((s, m) => s + m.outFeatures * m.inFeatures, 0);
  const n = model.numParameters().toLocaleString('en');
  return q.length ? `${n} parameters (${inQ.toLocaleString('en')} of them in ${q.length} quantized matrices)` : `${n} parameters`;
}

/**
 * What `gptlab info FILE.gguf` prints: the gguf-info listing (header, metadata, tensors, totals by type)
 * followed by the model gptlab reads from it, or the reason it cannot. Throws one line for an unreadable file.
 */
export function ggufInfoText(file: string): string {
  const b = fs.readFileSync(file);
  const f = readGGUF(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), file);
  const lines = [ggufInfo(f)];
  try {
    const { model, tokenizer, notes } = loadModelFile(file);
    lines.push(`gptlab reads it as: ${model.describe()}; ${parameterSummary(model as unknown as Module)}; tokenizer ${tokenizer.type}, ${tokenizer.vocabSize} tokens`);
    for (const n of notes) lines.push(`  note: ${n}`);
  } catch (e) {
    lines.push(`gptlab cannot run it: ${(e as Error).message}`);
  }
  return lines.join('\n');
}
