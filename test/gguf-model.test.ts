import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelToGGUF, ggufToModel, permuteRopeRows } from '../src/formats/gguf-model.js';
import { readGGUF, writeGGUF, type GGUFTensorInput } from '../src/formats/gguf.js';
import { GGUFValues, type GGUFValue } from '../src/formats/gguf-values.js';
import { metaNumber, metaString } from '../src/formats/gguf-meta.js';
import { fallbackNotes, tensorTypeChoice, tensorTypeFor, useMoreBits } from '../src/formats/gguf-types.js';
import { GPTLAB_CHAT_TEMPLATE, GPTLAB_TOKENIZER_KEY, tokenizerFromGGUF } from '../src/formats/gguf-tokenizer.js';
import { GGMLType, ggmlTypeName } from '../src/quant/types.js';
import { quantize } from '../src/quant/index.js';
import { checkFiniteGGML } from '../src/formats/finite-weights.js';
import { QuantizedLinear } from '../src/quant/quantized-linear.js';
import { GPT } from '../src/models/gpt.js';
import type { LanguageModel } from '../src/models/model.js';
import { noGrad } from '../src/tensor/tensor.js';
import { bpeTokenizer, charTokenizer, generatedText, tinyGPT, tinyLlama } from './gguf-model-helpers.js';

function logits(m: LanguageModel, ids: number[]): Float32Array {
  return noGrad(() => m.forward(Int32Array.from(ids), 1, ids.length).logits.data);
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

function top1Agreement(a: Float32Array, b: Float32Array, V: number): number {
  let same = 0;
  const argmax = (x: Float32Array, o: number) => { let k = 0; for (let v = 1; v < V; v++) if (x[o + v]! > x[o + k]!) k = v; return k; };
  for (let o = 0; o < a.length; o += V) if (argmax(a, o) === argmax(b, o)) same++;
  return same / (a.length / V);
}

/** rewrites a file through the reader and writer: edit metadata and tensors */
function rewrite(bytes: Uint8Array, edit: (meta: Map<string, GGUFValue>, tensors: GGUFTensorInput[]) => void): Uint8Array {
  const f = readGGUF(bytes);
  const meta = new Map(f.metadata);
  const tensors: GGUFTensorInput[] = f.tensors.map((t) => ({ name: t.name, type: t.type, dims: t.dims, data: t.data() }));
  edit(meta, tensors);
  return writeGGUF(meta, tensors);
}

const charTok = charTokenizer();
const ids = charTok.encode('the quick brown fox');

test('f32 round trip: GPT (biases, no biases) and LLaMA (tied, untied, GQA) give identical logits', () => {
  const withBiases = tinyGPT(charTok.vocabSize, 64);
  for (const [n, p] of withBiases.namedParameters()) if (n.endsWith('.bias')) p.data.forEach((_, i) => (p.data[i] = Math.sin(i + n.length)));
  const models: LanguageModel[] = [
    withBiases,
    new GPT({ vocabSize: charTok.vocabSize, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 32, dropout: 0, bias: false }, 9).eval(),
    tinyLlama(charTok.vocabSize, 64, 4, false),
    tinyLlama(charTok.vocabSize, 64, 5, true),
  ];
  for (const m of models) {
    const { bytes } = modelToGGUF(m, charTok);
    const back = ggufToModel(readGGUF(bytes, 'x.gguf'));
    assert.equal(back.model.type, m.type);
    assert.deepEqual(back.model.config, m.config);
    assert.equal(maxDiff(logits(m, ids), logits(back.model, ids)), 0, m.describe());
  }
});

test('metadata: architecture, hyperparameters, chat template, BOS/EOS, file type', () => {
  const m = tinyLlama(charTok.vocabSize, 64);
  const f = readGGUF(modelToGGUF(m, charTok, { type: 'q8_0' }).bytes, 'x.gguf');
  assert.equal(metaString(f, 'general.architecture'), 'llama');
  assert.equal(metaNumber(f, 'llama.context_length'), 128);
  assert.equal(metaNumber(f, 'llama.attention.head_count_kv'), 2);
  assert.equal(metaNumber(f, 'llama.rope.dimension_count'), 16);
  assert.equal(metaNumber(f, 'general.file_type'), 7);
  assert.equal(metaNumber(f, 'general.quantization_version'), 2);
  assert.equal(metaString(f, 'tokenizer.ggml.model'), 'llama');
  assert.equal(metaString(f, 'tokenizer.chat_template'), GPTLAB_CHAT_TEMPLATE);
  assert.equal(metaNumber(f, 'tokenizer.ggml.eos_token_id'), charTok.specialTokens.get('<|end|>'));
  assert.equal(f.tensor('blk.0.attn_norm.weight')!.type, GGMLType.F32);
  assert.equal(f.tensor('blk.0.attn_q.weight')!.type, GGMLType.Q8_0);
});

test('tokenizers rebuilt from tokenizer.ggml.* alone (as in llama.cpp files) encode as the originals', () => {
  const text = generatedText(60, 9) + ' <|endoftext|> é';
  for (const tok of [charTokenizer(), bpeTokenizer('gpt2'), bpeTokenizer('gpt4')]) {
    const m = tinyGPT(tok.vocabSize, 32);
    const bytes = rewrite(modelToGGUF(m, tok).bytes, (meta) => meta.delete(GPTLAB_TOKENIZER_KEY));
    const back = tokenizerFromGGUF(readGGUF(bytes, 'x.gguf'));
    const sample = tok.type === 'char' ? generatedText(60, 9) : text;
    assert.deepEqual(back.encode(sample), tok.encode(sample), tok.type);
    assert.deepEqual([...back.specialTokens], [...tok.specialTokens]);
  }
});

test('RoPE row permutation: interleaves each head\'s halves, and its inverse undoes it', () => {
  const w = Float32Array.from({ length: 2 * 4 * 3 }, (_, i) => i); // 2 heads of 4 rows, 3 columns
  const p = permuteRopeRows(w, 2, 3);
  const rowOrder = Array.from({ length: 8 }, (_, r) => p[r * 3]! / 3);
  assert.deepEqual(rowOrder, [0, 2, 1, 3, 4, 6, 5, 7]);
  assert.deepEqual(permuteRopeRows(p, 2, 3, true), w);
});

test('q4_k_m: llama.cpp\'s mix (Q6_K for output, attn_v and ffn_down where use_more_bits, Q4_K else); row fallbacks', () => {
  assert.deepEqual([...Array(8).keys()].filter((i) => useMoreBits(i, 8)), [0, 3, 6, 7]);
  const ctx = (name: string, shape = [512, 256]) => ({ name, shape, nLayer: 8, tiedOutput: false });
  const name = (t: number) => ggmlTypeName(t);
  assert.equal(name(tensorTypeFor('q4_k_m', ctx('output.weight'))), 'Q6_K');
  assert.equal(name(tensorTypeFor('q4_k_m', ctx('token_embd.weight'))), 'Q4_K');
  assert.equal(name(tensorTypeFor('q4_k_m', { ...ctx('token_embd.weight'), tiedOutput: true })), 'Q6_K');
  assert.equal(name(tensorTypeFor('q4_k_m', ctx('blk.0.attn_v.weight'))), 'Q6_K');
  assert.equal(name(tensorTypeFor('q4_k_m', ctx('blk.1.attn_v.weight'))), 'Q4_K');
  assert.equal(name(tensorTypeFor('q4_k_m', ctx('blk.3.ffn_down.weight'))), 'Q6_K');
  assert.equal(name(tensorTypeFor('q4_k_m', ctx('blk.2.ffn_up.weight'))), 'Q4_K');
  assert.equal(name(tensorTypeFor('q4_k_m', ctx('blk.2.attn_norm.weight', [256]))), 'F32');
  assert.equal(name(tensorTypeFor('q4_k_m', ctx('blk.2.attn_qkv.weight'))), 'Q5_K');
  // rows that are not whole 256-value super-blocks: llama.cpp's tensor_type_fallback (Q4_K→Q5_0, Q5_K→Q5_1, Q6_K→Q8_0, else F16)
  assert.equal(name(tensorTypeFor('q4_k', ctx('blk.2.ffn_up.weight', [256, 64]))), 'Q5_0');
  assert.equal(name(tensorTypeFor('q5_k', ctx('blk.2.ffn_up.weight', [256, 64]))), 'Q5_1');
  assert.equal(name(tensorTypeFor('q6_k', ctx('blk.2.ffn_up.weight', [256, 64]))), 'Q8_0');
  assert.equal(name(tensorTypeFor('q4_k', ctx('blk.2.ffn_up.weight', [256, 48]))), 'F16');
  assert.equal(name(tensorTypeFor('q4_0', ctx('blk.2.ffn_up.weight', [256, 48]))), 'F16');
  assert.equal(name(tensorTypeFor('f16', ctx('blk.2.ffn_up.weight'))), 'F16');
  assert.equal(name(tensorTypeFor('q4_0', ctx('position_embd.weight'))), 'F16'); // llama.cpp never quantizes it
});

test('q5_k_m: Q6_K for output, qkv, attn_v and ffn_down where use_more_bits, Q5_K else; plain Q5 types', () => {
  const ctx = (name: string, shape = [512, 256]) => ({ name, shape, nLayer: 8, tiedOutput: false });
  const name = (t: number) => ggmlTypeName(t);
  assert.equal(name(tensorTypeFor('q5_k_m', ctx('output.weight'))), 'Q6_K');
  assert.equal(name(tensorTypeFor('q5_k_m', ctx('token_embd.weight'))), 'Q5_K');
  assert.equal(name(tensorTypeFor('q5_k_m', ctx('blk.2.attn_qkv.weight'))), 'Q6_K');
  assert.equal(name(tensorTypeFor('q5_k_m', ctx('blk.7.ffn_down.weight'))), 'Q6_K');
  assert.equal(name(tensorTypeFor('q5_k_m', ctx('blk.1.ffn_down.weight'))), 'Q5_K');
  assert.equal(name(tensorTypeFor('q5_0', ctx('blk.1.ffn_down.weight'))), 'Q5_0');
  assert.equal(name(tensorTypeFor('q5_1', ctx('blk.1.ffn_down.weight'))), 'Q5_1');
});

test('export notes every row-length fallback in one line per type pair, naming the tensors and why', () => {
  const choice = (name: string, row: number, t: 'q4_k_m' | 'q4_k' = 'q4_k_m') => ({ name, row, choice: tensorTypeChoice(t, { name, shape: [3 * row, row], nLayer: 8, tiedOutput: true }) });
  assert.deepEqual(tensorTypeChoice('q4_k', { name: 'blk.0.ffn_up.weight', shape: [256, 64], nLayer: 1, tiedOutput: true }), { type: GGMLType.Q5_0, wanted: GGMLType.Q4_K });
  assert.deepEqual(fallbackNotes([choice('blk.0.ffn_up.weight', 256)]), []);
  const notes = fallbackNotes(['blk.0.ffn_up', 'blk.1.ffn_up', 'blk.2.ffn_up', 'blk.4.ffn_up', 'blk.5.ffn_up'].map((n) => choice(`${n}.weight`, 96)).concat(choice('token_embd.weight', 96)));
  assert.deepEqual(notes, [
    'Q4_K → Q5_0 for 5 tensors (blk.0.ffn_up.weight, blk.1.ffn_up.weight, blk.2.ffn_up.weight, blk.4.ffn_up.weight, … 1 more): rows of 96 values are not whole 256-value blocks; llama.cpp\'s quantize falls back the same way',
    'Q6_K → Q8_0 for 1 tensor (token_embd.weight): rows of 96 values are not whole 256-value blocks; llama.cpp\'s quantize falls back the same way',
  ]);
  const m = tinyGPT(charTok.vocabSize, 64);
  const { notes: exportNotes } = modelToGGUF(m, charTok, { type: 'q4_k_m' });
  assert.equal(exportNotes.filter((n) => n.startsWith('--type q4_k_m: ')).length, 3, exportNotes.join('\n')); // Q4_K, Q5_K (qkv), Q6_K (tied head) fall back
  assert.ok(exportNotes.some((n) => /^--type q4_k_m: Q4_K → Q5_0 for \d+ tensors \(blk\.0\.attn_output\.weight/.test(n)), exportNotes.join('\n'));
  assert.deepEqual(modelToGGUF(tinyLlama(charTok.vocabSize, 256), charTok, { type: 'q4_k_m' }).notes.filter((n) => n.startsWith('--type')), []);
});

test('quantized files load into QuantizedLinear layers (or float32 with dequantize), close to f32', () => {
  const m = tinyLlama(charTok.vocabSize, 256);
  const ref = logits(m, ids);
  for (const type of ['q8_0', 'q4_0', 'q4_1', 'q5_0', 'q5_1', 'q4_k', 'q5_k', 'q6_k', 'q4_k_m', 'q5_k_m'] as const) {
    const f = readGGUF(modelToGGUF(m, charTok, { type }).bytes, `${type}.gguf`);
    const q = ggufToModel(f);
    const layers = (q.model as unknown as { model: { layers: { self_attn: { q_proj: unknown } }[] } }).model.layers;
    assert.ok(layers[0]!.self_attn.q_proj instanceof QuantizedLinear, type);
    const d = ggufToModel(f, { dequantize: true });
    const a = logits(q.model, ids), b = logits(d.model, ids);
    assert.ok(maxDiff(a, b) < 1e-2 * (1 + Math.max(...b.map(Math.abs))), `${type}: quantized layers vs dequantized`);
    assert.ok(top1Agreement(a, ref, charTok.vocabSize) >= (type.startsWith('q4') ? 0.5 : type.startsWith('q5') ? 0.7 : 0.8), `${type}: top-1 agreement with f32 ${top1Agreement(a, ref, charTok.vocabSize)}`);
  }
});

test('a quantized file loads without float32 matrices: only embeddings, norms and biases are tensors; counts include the blocks', () => {
  for (const m of [tinyGPT(charTok.vocabSize, 256), tinyLlama(charTok.vocabSize, 256)]) {
    const f = readGGUF(modelToGGUF(m, charTok, { type: 'q5_k' }).bytes, 'q.gguf');
    const q = ggufToModel(f).model;
    const tensorNames = q.namedParameters().map(([n]) => n);
    assert.ok(tensorNames.every((n) => !/(c_attn|c_proj|c_fc|_proj)\.weight$/.test(n)), `${m.type}: ${tensorNames.join(' ')}`);
    const d = ggufToModel(f, { dequantize: true }).model; // (tinyGPT's biases are all zero: read back bias-less)
    assert.equal(q.numParameters(), d.numParameters(), `${m.type}: parameter count with the quantized matrices`);
    const own = m.namedParameters().filter(([n, p]) => !n.endsWith('.bias') || p.data.some((v) => v !== 0));
    assert.deepEqual(d.namedParameters().map(([n, p]) => [n, p.shape]), own.map(([n, p]) => [n, p.shape]), `${m.type}: dequantized layout`);
  }
  const { model: untied, notes } = ggufToModel(readGGUF(modelToGGUF(tinyLlama(charTok.vocabSize, 256), charTok, { type: 'q4_k_m' }).bytes, 'u.gguf'));
  assert.ok(notes.includes('14 matrices kept quantized (Q4_K × 12, Q6_K × 2); embeddings and norms read as float32'), notes.join('; '));
  assert.ok(untied.namedParameters().some(([n, p]) => n === 'lm_head.weight' && p.size === charTok.vocabSize * 256), 'the untied head is read as floats');
});

// ---- bad input: one line naming the file and the field ----

const good = modelToGGUF(tinyGPT(charTok.vocabSize, 64), charTok, { type: 'q4_0' }).bytes;

function loadError(bytes: Uint8Array, re: RegExp): void {
  assert.throws(() => ggufToModel(readGGUF(bytes, 'bad.gguf')), (e: Error) => {
    assert.match(e.message, /^bad\.gguf: /);
    assert.ok(!e.message.includes('\n'), e.message);
    assert.match(e.message, re);
    return true;
  });
}

function infoOffset(bytes: Uint8Array, name: string): number {
  const needle = new TextEncoder().encode(name);
  outer: for (let i = 0; i < bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    if (bytes[i - 8] === needle.length) return i + needle.length; // after the name: n_dims, dims, type, offset
  }
  throw new Error(`no tensor info ${name}`);
}

test('bad files: truncation, magic, version, out-of-bounds data, misaligned offset, unknown type', () => {
  loadError(good.slice(0, 20), /truncated/);
  loadError(good.slice(0, good.length - 200), /past the end of the file/);
  const magic = good.slice(); magic[0] = 0x47 ^ 1; loadError(magic, /not a GGUF file/);
  const version = good.slice(); version[4] = 9; loadError(version, /unsupported GGUF version 9/);
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const at = infoOffset(good, 'blk.0.ffn_up.weight'); // n_dims u32 | 2 dims u64 | type u32 | offset u64
  const mis = good.slice(); dv(mis).setBigUint64(at + 4 + 16 + 4, dv(good).getBigUint64(at + 4 + 16 + 4, true) + 4n, true);
  loadError(mis, /not a multiple of the alignment/);
  const oob = good.slice(); dv(oob).setBigUint64(at + 4 + 16 + 4, 1n << 40n, true); loadError(oob, /past the end of the file/);
  const unk = good.slice(); dv(unk).setUint32(at + 4 + 16, 99, true); loadError(unk, /unknown ggml type 99/);
  const iq = good.slice(); dv(iq).setUint32(at + 4 + 16, GGMLType.IQ4_NL, true); // same block size as Q4_0
  loadError(iq, /tensor "blk\.0\.ffn_up\.weight": .*IQ4_NL is not supported/);
});

test('bad models: unknown architecture, mistyped metadata, missing tensor, shape against metadata', () => {
  loadError(rewrite(good, (m) => m.set('general.architecture', GGUFValues.string('falcon'))), /metadata "general.architecture": "falcon" is not an architecture gptlab implements/);
  loadError(rewrite(good, (m) => m.set('gpt2.block_count', GGUFValues.string('2'))), /metadata "gpt2.block_count": expected a number, got string/);
  loadError(rewrite(good, (m) => m.delete('gpt2.embedding_length')), /metadata "gpt2.embedding_length": missing/);
  loadError(rewrite(good, (m) => m.set('gpt2.block_count', GGUFValues.uint32(3))), /tensor "blk\.2\.attn_norm\.weight": missing/);
  loadError(rewrite(good, (m) => m.set('gpt2.context_length', GGUFValues.uint32(100))), /tensor "position_embd\.weight": shape \[128, 64\] but the metadata says \[100, 64\]/);
  loadError(rewrite(good, (_m, t) => t.splice(t.findIndex((x) => x.name === 'output_norm.weight'), 1)), /tensor "output_norm\.weight": missing/);
  loadError(rewrite(good, (m) => { m.delete(GPTLAB_TOKENIZER_KEY); m.set('tokenizer.ggml.model', GGUFValues.string('bert')); }), /metadata "tokenizer.ggml.model": tokenizer model "bert" is not supported/);
  loadError(rewrite(good, (m) => { m.delete(GPTLAB_TOKENIZER_KEY); m.set('tokenizer.ggml.tokens', GGUFValues.array('int32', [1])); }), /metadata "tokenizer.ggml.tokens": expected an array of strings/);
});

test('gptlab export: checkpoint → gguf (q8_0) and → hf folder; loadModelFile reads all three back', async () => {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const { checkpointFiles } = await import('../src/train/checkpoint.js');
  const { saveCheckpoint } = await import('../src/train/checkpoint.node.js');
  const { exportCommand, ggufInfoText } = await import('../src/cli/export.js');
  const { loadModelFile } = await import('../src/train/model-file.node.js');
  const dir = mkdtempSync(path.join(tmpdir(), 'gptlab-export-'));
  const out = process.stdout.write.bind(process.stdout), err = process.stderr.write.bind(process.stderr);
  try {
    const tok = bpeTokenizer('gpt2');
    const m = tinyLlama(tok.vocabSize, 64, 3, true); // tied: checkpoints of untied LLaMAs drop lm_head (reported)
    saveCheckpoint(path.join(dir, 'ck'), checkpointFiles(m, tok));
    const bpeIds = tok.encode('the quick brown fox');
    process.stdout.write = (() => true) as never;
    process.stderr.write = (() => true) as never;
    assert.equal(await exportCommand([path.join(dir, 'ck'), '--type', 'q8_0', '--out', path.join(dir, 'm.gguf')]), 0);
    assert.equal(await exportCommand([path.join(dir, 'ck'), '--format', 'hf', '--out', path.join(dir, 'hf')]), 0);
    await assert.rejects(exportCommand([path.join(dir, 'ck'), '--type', 'q3_k', '--out', path.join(dir, 'x.gguf')]), /q3_k/);
    process.stdout.write = out;
    process.stderr.write = err;
    const ref = logits(m, bpeIds);
    const ck = loadModelFile(path.join(dir, 'ck'));
    const hf = loadModelFile(path.join(dir, 'hf'));
    const gg = loadModelFile(path.join(dir, 'm.gguf'));
    assert.deepEqual([ck.kind, hf.kind, gg.kind], ['checkpoint', 'hf', 'gguf']);
    assert.equal(maxDiff(logits(hf.model, bpeIds), ref), 0);
    assert.deepEqual(hf.tokenizer.encode('the quick brown fox'), bpeIds);
    assert.ok(top1Agreement(logits(gg.model, bpeIds), ref, tok.vocabSize) >= 0.8);
    assert.match(ggufInfoText(path.join(dir, 'm.gguf')), /general\.architecture[\s\S]*gptlab reads it as: LLaMA: 2 layers/);
    const params = m.numParameters(), inMatrices = 2 * (64 * 64 * 2 + 64 * 32 * 2 + 3 * 64 * 64); // q, o; k, v (2 kv heads of 16); gate, up, down
    assert.match(ggufInfoText(path.join(dir, 'm.gguf')), new RegExp(`; ${params.toLocaleString('en')} parameters \\(${inMatrices.toLocaleString('en')} of them in 14 quantized matrices\\); tokenizer`));
    writeFileSync(path.join(dir, 'junk.gguf'), 'GGUF');
    assert.throws(() => loadModelFile(path.join(dir, 'junk.gguf')), /junk\.gguf: truncated/);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    rmSync(dir, { recursive: true, force: true });
  }
});

test("GPT-2's own tokenizer (50257 tokens) survives tokenizer.ggml.* alone, as in llama.cpp's converted gpt2 files", async () => {
  const { loadEncoding } = await import('../src/tokenizers/tiktoken.node.js');
  const { tokenizerToGGUF } = await import('../src/formats/gguf-tokenizer.js');
  const tok = await loadEncoding('gpt2');
  const meta = new Map(tokenizerToGGUF(tok).entries.filter(([k]) => k !== GPTLAB_TOKENIZER_KEY));
  assert.equal((meta.get('tokenizer.ggml.pre')!.value as string), 'gpt-2');
  const back = tokenizerFromGGUF(readGGUF(writeGGUF(meta, []), 'gpt2.gguf'));
  const text = "Hello world! It's 2024, naïve café 😀 — and    spaces\n\n\tcode: x = y + 1;";
  assert.deepEqual(back.encode(text), tok.encode(text));
  assert.deepEqual(back.encode('<|endoftext|>', { allowedSpecial: 'all' }), [50256]);
});

test('bad models: hyperparameters are checked against the tensors before any model is allocated', () => {
  // a 2^24-wide, 10^6-layer claim would allocate terabytes if believed: the shape check refuses it first
  loadError(rewrite(good, (m) => m.set('gpt2.embedding_length', GGUFValues.uint32(1 << 24))), /metadata "gpt2.feed_forward_length": 256; gptlab's GPT has a 4×16777216/);
  loadError(rewrite(good, (m) => { m.set('gpt2.embedding_length', GGUFValues.uint32(1 << 22)); m.set('gpt2.feed_forward_length', GGUFValues.uint32(1 << 24)); }), /tensor "token_embd\.weight": shape \[\d+, 64\] but the metadata says \[\d+, 4194304\]/);
  loadError(rewrite(good, (m) => m.set('gpt2.block_count', GGUFValues.uint32(1000000))), /metadata "gpt2.block_count": 1000000 blocks need at least 6000000 tensors, the file has \d+/);
  loadError(rewrite(good, (_m, t) => t.push({ name: 'output.weight', type: GGMLType.F32, shape: [charTok.vocabSize, 64], data: new Uint8Array(charTok.vocabSize * 64 * 4) })), /tensor "output\.weight": differs from token_embd\.weight/);
  const extra = rewrite(good, (_m, t) => t.push({ name: 'rope_freqs.weight', type: GGMLType.F32, shape: [8], data: new Uint8Array(32) }));
  assert.match(ggufToModel(readGGUF(extra, 'x.gguf')).notes.join('\n'), /ignored tensors .*rope_freqs\.weight/);
});

/** a copy of tensor `name`'s bytes with `edit` applied */
function editTensor(bytes: Uint8Array, name: string, edit: (data: Uint8Array) => void): Uint8Array {
  return rewrite(bytes, (_m, t) => {
    const x = t.find((u) => u.name === name)!;
    x.data = x.data.slice();
    edit(x.data);
  });
}
const setF32 = (i: number, v: number) => (d: Uint8Array) => new DataView(d.buffer, d.byteOffset).setFloat32(4 * i, v, true);
const setF16Bits = (off: number, bits: number) => (d: Uint8Array) => { d[off] = bits & 0xff; d[off + 1] = bits >> 8; };

test('bad weights: NaN / Inf in float tensors and in quantized block scales are refused at load, naming the file and tensor', () => {
  loadError(editTensor(good, 'blk.0.attn_norm.weight', setF32(3, NaN)), /^bad\.gguf: tensor "blk\.0\.attn_norm\.weight" holds NaN at index 3: refusing to load it$/);
  loadError(editTensor(good, 'blk.1.ffn_norm.bias', setF32(7, -Infinity)), /tensor "blk\.1\.ffn_norm\.bias" holds -Infinity at index 7: refusing to load it$/);
  loadError(editTensor(good, 'position_embd.weight', setF16Bits(2 * 5, 0x7c00)), /tensor "position_embd\.weight" holds Infinity at index 5: refusing to load it$/); // F16
  loadError(editTensor(good, 'token_embd.weight', setF16Bits(18, 0x7e00)), /tensor "token_embd\.weight" holds NaN in the scale d of block 1: refusing to load it$/); // Q4_0
  // Q4_0 block 2 of ffn_up: its f16 d (bytes 0–1 of the 18-byte block) set to +Inf, then to NaN
  loadError(editTensor(good, 'blk.0.ffn_up.weight', setF16Bits(2 * 18, 0x7c00)), /tensor "blk\.0\.ffn_up\.weight" holds Infinity in the scale d of block 2: refusing to load it$/);
  loadError(editTensor(good, 'blk.1.attn_qkv.weight', setF16Bits(0, 0x7e00)), /tensor "blk\.1\.attn_qkv\.weight" holds NaN in the scale d of block 0/);
  const f16 = modelToGGUF(tinyGPT(charTok.vocabSize, 64), charTok, { type: 'f16' }).bytes;
  loadError(editTensor(f16, 'blk.0.attn_output.weight', setF16Bits(2 * 9, 0xfc00)), /tensor "blk\.0\.attn_output\.weight" holds -Infinity at index 9: refusing/);
  // every quantized type's scales: d (and dmin / m), where ggml-common.h puts them
  const x = new Float32Array(512).map((_, i) => Math.sin(i));
  const cases: [number, number, string][] = [
    [GGMLType.Q4_1, 20 + 2, 'm of block 1'], [GGMLType.Q5_0, 22, 'd of block 1'], [GGMLType.Q5_1, 2, 'm of block 0'],
    [GGMLType.Q8_0, 34, 'd of block 1'], [GGMLType.Q4_K, 144 + 2, 'dmin of block 1'], [GGMLType.Q5_K, 0, 'd of block 0'],
    [GGMLType.Q6_K, 210 + 208, 'd of block 1'],
  ];
  for (const [type, off, what] of cases) {
    const q = quantize(type, x);
    checkFiniteGGML(type, q, x.length, 'q'); // a clean tensor passes
    setF16Bits(off, 0x7e00)(q);
    assert.throws(() => checkFiniteGGML(type, q, x.length, `t.gguf: tensor "w" (${ggmlTypeName(type)})`), new RegExp(`holds NaN in the scale ${what}: refusing to load it$`), ggmlTypeName(type));
  }
});

test('bad metadata: RoPE scaling, special token ids outside the vocabulary, vocab_size against the tensors, NaN / negative epsilons', () => {
  const llama = modelToGGUF(tinyLlama(charTok.vocabSize, 64), charTok).bytes;
  const V = charTok.vocabSize;
  assert.ok(ggufToModel(readGGUF(rewrite(llama, (m) => m.set('llama.rope.scaling.type', GGUFValues.string('none'))), 'ok.gguf')));
  loadError(rewrite(llama, (m) => m.set('llama.rope.scaling.type', GGUFValues.string('linear'))), /^bad\.gguf: metadata "llama\.rope\.scaling\.type": rope type "linear" is not supported/);
  loadError(rewrite(llama, (m) => m.set('llama.rope.scaling.type', GGUFValues.string('yarn'))), /rope type "yarn" is not supported/);
  loadError(rewrite(llama, (m) => m.set('llama.rope.scaling.factor', GGUFValues.float32(4))), /metadata "llama\.rope\.scaling\.factor": rope scaling by 4 is not supported/);
  for (const key of ['tokenizer.ggml.eos_token_id', 'tokenizer.ggml.bos_token_id', 'tokenizer.ggml.padding_token_id', 'tokenizer.ggml.unknown_token_id']) {
    loadError(rewrite(llama, (m) => m.set(key, GGUFValues.uint32(1000000))), new RegExp(`metadata "${key.replace(/\./g, '\\.')}": token id 1000000 is outside the vocabulary of ${V} tokens`));
  }
  loadError(rewrite(good, (m) => m.set('tokenizer.ggml.eos_token_id', GGUFValues.uint32(V))), /metadata "tokenizer\.ggml\.eos_token_id": token id \d+ is outside/);
  loadError(rewrite(llama, (m) => m.set('llama.vocab_size', GGUFValues.uint32(V + 5))), new RegExp(`metadata "llama\\.vocab_size": ${V + 5} but tensor "token_embd\\.weight" has ${V} rows`));
  loadError(rewrite(good, (m) => m.set('gpt2.vocab_size', GGUFValues.uint32(3))), /metadata "gpt2\.vocab_size": 3 but tensor "token_embd\.weight" has \d+ rows/);
  loadError(rewrite(llama, (m) => m.set('llama.attention.layer_norm_rms_epsilon', GGUFValues.float32(NaN))), /metadata "llama\.attention\.layer_norm_rms_epsilon": must be a positive finite number, got NaN/);
  loadError(rewrite(llama, (m) => m.set('llama.attention.layer_norm_rms_epsilon', GGUFValues.float32(-1e-5))), /layer_norm_rms_epsilon": must be a positive finite number, got -0\.0000/);
  loadError(rewrite(good, (m) => m.set('gpt2.attention.layer_norm_epsilon', GGUFValues.float32(-1))), /metadata "gpt2\.attention\.layer_norm_epsilon": must be a positive finite number, got -1/);
});
