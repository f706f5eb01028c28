// gptlab export: a model (checkpoint, run folder, Hugging Face folder or GGUF file) as a GGUF file for
// llama.cpp / Ollama / LM Studio (`--format gguf --type f32|f16|q8_0|q4_0|q4_1|q5_0|q5_1|q4_k|q5_k|q6_k|q4_k_m|q5_k_m`),
// or as a Hugging Face folder (`--format hf`: config.json, generation_config.json, model.safetensors, tokenizer.json).
// Also `ggufInfoText`, what `gptlab info FILE.gguf` prints.
import fs from 'node:fs';
import { helpText, parseArgs, UsageError, type OptTable, type ParsedArgs } from './args.js';
import { BACKEND_OPTS, checkOutputFile, maybeHelp, setupBackend } from './common.js';
import { loadModelFile } from '../train/model-file.node.js';
import { modelToGGUF } from '../formats/gguf-model.js';
import { GGUF_EXPORT_TYPES, checkExportType } from '../formats/gguf-types.js';
import { exportHf } from '../formats/hf.js';
import { checkOutputDir, dirTargets, protectedFileProblem, removeTempsOnStop, writeOutputDir, writeOutputFile } from './output.js';
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
  type: { type: 'string', default: 'f16', help: `GGUF tensor type: ${GGUF_EXPORT_TYPES.join(', ')} (q4_k_m, q5_k_m: llama.cpp's mixes)` },
  dtype: { type: 'string', default: 'F32', help: 'hf: weight dtype in model.safetensors: F32, F16 or BF16' },
  out: { type: 'string', help: 'output file (gguf) or folder (hf)' },
  name: { type: 'string', help: 'gguf: general.name' },
  force: { type: 'bool', help: 'gguf: overwrite an existing file; hf: write the files into an existing folder (other files are kept; a gptlab run or checkpoint folder is always refused)' },
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

/** --type / --dtype as given, in the case the tables use (Q8_0 = q8_0, f16 = F16); the other format's flag is refused */
function exportFlags(o: ParsedArgs): { type: string; dtype: 'F32' | 'F16' | 'BF16' } {
  const other = o.format === 'hf' ? 'type' : 'dtype';
  if (o._given.has(other)) throw new UsageError(`export: --${other} is for --format ${other === 'type' ? 'gguf' : 'hf'}; --format ${o.format as string} ${other === 'type' ? 'takes --dtype' : 'takes --type'}`);
  const type = (o.type as string).toLowerCase(), dtype = (o.dtype as string).toUpperCase();
  if (!['F32', 'F16', 'BF16'].includes(dtype)) throw new UsageError(`export: --dtype must be one of F32, F16, BF16, got ${JSON.stringify(o.dtype)}`);
  return { type, dtype: dtype as 'F32' | 'F16' | 'BF16' };
}

/** the model's files for --format, and where they go (atomically, temp output removed on a signal or error) */
async function writeExport(o: ParsedArgs, out: string, type: string, dtype: 'F32' | 'F16' | 'BF16'): Promise<void> {
  const loaded = loadModelFile(o.checkpoint as string, { dequantize: true });
  const notes = [...loaded.notes], m = loaded.model;
  if (o.format === 'gguf') {
    const t = checkExportType(type);
    if (m.type !== 'gpt' && m.type !== 'llama') throw new UsageError(`export: ${article(m.type)} ${m.type} model has no llama.cpp (GGUF) form (gpt, llama do)`);
    const { bytes, notes: n } = modelToGGUF(m, loaded.tokenizer, { type: t, name: o.name as string | undefined });
    notes.push(...n);
    await removeTempsOnStop('export', () => [out], async () => {
      await new Promise(setImmediate); // a Ctrl-C during the conversion is handled here, before anything is written
      await writeOutputFile(out, bytes, '--out', 'export');
    });
    process.stdout.write(`wrote ${out}: ${m.describe()}, ${t}, ${(bytes.length / 2 ** 20).toFixed(2)} MiB\n`);
  } else {
    if (m.type !== 'gpt' && m.type !== 'llama') throw new UsageError(`export: ${article(m.type)} ${m.type} model has no Hugging Face form (gpt, llama do)`);
    const files = hfFiles(m as Parameters<typeof exportHf>[0], loaded.tokenizer, dtype, notes);
    await removeTempsOnStop('export', () => dirTargets(out, Object.keys(files)), async () => {
      await new Promise(setImmediate);
      await writeOutputDir(out, files, '--out', 'export');
    });
    process.stdout.write(`wrote ${out}/: ${Object.keys(files).join(', ')}\n`);
  }
  for (const n of notes) process.stderr.write(`note: ${n}\n`);
}

/** "a" or "an" before a model type's name (an ngram, an rnn, a gpt) */
function article(word: string): string {
  return /^[aeiou]/i.test(word) || /^(ngram|rnn|lstm|mlp)$/i.test(word) ? 'an' : 'a';
}

export async function exportCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'export');
  if (maybeHelp(o, () => helpText('export', 'write a model as GGUF (llama.cpp) or a Hugging Face folder', OPTS, 'gptlab export CKPT --format gguf --type q4_k_m --out model.gguf | --format hf --out DIR'))) return 0;
  if (!o.checkpoint) throw new UsageError('export: give a checkpoint folder, run folder, Hugging Face folder or .gguf file');
  if (!o.out) throw new UsageError('export: give --out (a .gguf file, or a folder for --format hf)');
  const out = o.out as string;
  const { type, dtype } = exportFlags(o);
  if (o.format === 'gguf') {
    if (!(GGUF_EXPORT_TYPES as readonly string[]).includes(type)) throw new UsageError(`export: --type must be one of ${GGUF_EXPORT_TYPES.join(', ')}, got ${JSON.stringify(o.type)}`);
    const protectedFile = protectedFileProblem(out, '--out', 'export', o.checkpoint as string);
    if (protectedFile) throw new UsageError(protectedFile);
    checkOutputFile(out, '--out', 'export', { parentMayBeMissing: true, regularOnly: true, refuseExisting: !o.force });
  } else checkOutputDir(out, '--out', 'export', { force: !!o.force, input: o.checkpoint as string });
  await setupBackend(o); // quantize() runs on its kernels (wasm: assembly/quantize.ts, quantize-k.ts)
  await writeExport(o, out, type, dtype);
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
