// llama.cpp agreement (#11 §6): node-llama-cpp (llama.cpp's CPU build) loads the GGUF files we write —
// gpt2 and llama architectures, character-level (SentencePiece form) and byte-level BPE tokenizers — and
//   f32, f16: tokenizes prompts to the same ids and continues them greedily with the same 64 tokens as
//             our model read back from the same file;
//   q8_0, q4_0, q5_0, q5_1, q4_k, q5_k, q5_k_m: teacher-forced top-1 agreement and the largest log-probability difference (a logit
//             difference up to a per-position shift) against our model on that file, reported as diagnostics.
// Skips with a message when node-llama-cpp or its prebuilt binary cannot load here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { modelToGGUF, ggufToModel } from '../src/formats/gguf-model.js';
import { readGGUF } from '../src/formats/gguf.js';
import type { GGUFExportType } from '../src/formats/gguf-types.js';
import type { LanguageModel } from '../src/models/model.js';
import type { Tokenizer } from '../src/tokenizers/tokenizer.js';
import { ChineseTokenizer } from '../src/tokenizers/chinese.js';
import { bpeTokenizer, charTokenizer, generatedText, greedy, logProbs, tinyGPT, tinyLlama } from './gguf-model-helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

async function loadLlamaCpp(): Promise<{ llama: Any } | { skip: string }> {
  try {
    const mod: Any = await import('node-llama-cpp');
    const llama = await mod.getLlama({ gpu: false, build: 'never', logLevel: 'error', maxThreads: 2 });
    return { llama };
  } catch (e) {
    return { skip: `node-llama-cpp cannot load here (${String((e as Error).message ?? e).split('\n')[0]})` };
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'gptlab-llamacpp-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function open(llama: Any, model: LanguageModel, tok: Tokenizer, type: GGUFExportType) {
  const { bytes } = modelToGGUF(model, tok, { type });
  const file = path.join(dir, `m${n++}-${type}.gguf`);
  writeFileSync(file, bytes);
  const ours = ggufToModel(readGGUF(bytes, file));
  const lm = await llama.loadModel({ modelPath: file });
  const ctx = await lm.createContext({ contextSize: 128, threads: 1, sequences: 1 });
  return { ours, lm, ctx, dispose: async () => { await ctx.dispose(); await lm.dispose(); } };
}

async function llamaGreedy(ctx: Any, ids: number[], count: number): Promise<number[]> {
  const seq = ctx.getSequence();
  const got: number[] = [];
  for await (const t of seq.evaluate(ids, { temperature: 0, yieldEogToken: true })) {
    got.push(t);
    if (got.length >= count) break;
  }
  seq.dispose();
  return got;
}

// width: 64 for the exact checks (fast), 256 where K-quants need 256-element rows
const CASES: { name: string; make: (width: number) => { model: LanguageModel; tok: Tokenizer }; prompts: string[] }[] = [
  { name: 'gpt2 + char', make: (w) => { const tok = charTokenizer(); return { tok, model: tinyGPT(tok.vocabSize, w) }; }, prompts: ['the qu', 'Hello World', 'fox\nover the lazy'] },
  { name: 'gpt2 + BPE (gpt2 split)', make: (w) => { const tok = bpeTokenizer('gpt2'); return { tok, model: tinyGPT(tok.vocabSize, w) }; }, prompts: ['the quick brown', "it's 12345 <|endoftext|>", 'Hello,  World!\n\n  x'] },
  { name: 'llama + char', make: (w) => { const tok = charTokenizer(); return { tok, model: tinyLlama(tok.vocabSize, w) }; }, prompts: ['the qu', 'Hello World', 'on the mat.\nthe'] },
  { name: 'llama + BPE (gpt4 split)', make: (w) => { const tok = bpeTokenizer('gpt4'); return { tok, model: tinyLlama(tok.vocabSize, w) }; }, prompts: ['the quick brown', "it's 12345!", 'dog  and\n\ncat'] },
];

/** our top-1 minus top-2 log-probability after `ids` */
function margin(model: LanguageModel, ids: number[]): number {
  const rows = logProbs(model, ids);
  const r = Array.from(rows[rows.length - 1]!).sort((a, b) => b - a);
  return r[0]! - r[1]!;
}

/**
 * Greedy continuations must be identical; a divergence is accepted only at a near-tie, where our top two
 * are within `tie` (1e-3 for f32, where float summation order decides; 2e-2 for f16, since llama.cpp
 * rounds the activations to f16 for F16 matrices), and the rest is then not compared.
 */
function sameGreedy(model: LanguageModel, ids: number[], want: number[], got: number[], what: string, t: { diagnostic(s: string): void }, tie: number): void {
  let k = 0;
  while (k < want.length && got[k] === want[k]) k++;
  if (k === want.length) return;
  const m = margin(model, [...ids, ...want.slice(0, k)]);
  t.diagnostic(`${what}: diverges at token ${k} where our top-2 margin is ${m.toExponential(2)}`);
  assert.ok(m < tie, `${what}: greedy continuations differ at token ${k} (margin ${m}): ours ${want.slice(k, k + 5)} llama.cpp ${got.slice(k, k + 5)}`);
}

test('llama.cpp: same token ids and the same 64 greedy tokens for f32 and f16 files', async (t) => {
  const r = await loadLlamaCpp();
  if ('skip' in r) return t.skip(r.skip);
  for (const c of CASES) {
    const { model, tok } = c.make(64);
    for (const type of ['f32', 'f16'] as const) {
      const m = await open(r.llama, model, tok, type);
      for (const p of c.prompts) {
        const ids = tok.encode(p);
        assert.deepEqual(Array.from(m.lm.tokenize(p, false)), ids, `${c.name} ${type}: tokens of ${JSON.stringify(p)}`);
        const want = greedy(m.ours.model, ids, 64);
        const got = await llamaGreedy(m.ctx, ids, 64);
        sameGreedy(m.ours.model, ids, want, got, `${c.name} ${type}: ${JSON.stringify(p)}`, t, type === 'f32' ? 1e-3 : 2e-2);
        if (type === 'f32') assert.deepEqual(want, greedy(model, ids, 64), `${c.name}: our model read back from f32 continues as the original`);
      }
      await m.dispose();
    }
  }
});

async function llamaLogProbs(ctx: Any, ids: number[]): Promise<Map<number, number>[]> {
  const seq = ctx.getSequence();
  const items = ids.map((id) => [id, { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } }]);
  const res = await seq.controlledEvaluate(items);
  seq.dispose();
  return res.map((x: Any) => x.next.probabilities as Map<number, number>);
}

test('llama.cpp: top-1 agreement and log-probability differences for quantized files', async (t) => {
  const r = await loadLlamaCpp();
  if ('skip' in r) return t.skip(r.skip);
  for (const c of [CASES[1]!, CASES[2]!]) {
    const { model, tok } = c.make(256);
    const ids = tok.encode('the quick brown fox jumps over the lazy dog and the cat sat on the mat with a hat in the sun');
    for (const type of ['q8_0', 'q4_0', 'q5_0', 'q5_1', 'q4_k', 'q5_k', 'q5_k_m'] as const) {
      const m = await open(r.llama, model, tok, type);
      const ours = logProbs(m.ours.model, ids);
      const theirs = await llamaLogProbs(m.ctx, ids);
      let agree = 0, maxDiff = 0;
      ours.forEach((row, i) => {
        let best = 0;
        for (let v = 1; v < row.length; v++) if (row[v]! > row[best]!) best = v;
        const probs = theirs[i]!;
        let lBest = -1, lp = -1;
        for (const [tokId, p] of probs) if (p > lp) { lp = p; lBest = tokId; }
        if (lBest === best) agree++;
        for (const [tokId, p] of probs) if (row[tokId]! > Math.log(1e-3)) maxDiff = Math.max(maxDiff, Math.abs(Math.log(p) - row[tokId]!));
      });
      const rate = agree / ids.length;
      t.diagnostic(`${c.name} ${type}: top-1 agreement ${(100 * rate).toFixed(1)}% of ${ids.length} positions, largest log-prob difference ${maxDiff.toFixed(4)}`);
      assert.ok(rate >= 0.75, `${c.name} ${type}: top-1 agreement ${rate}`);
      await m.dispose();
    }
  }
});

test('llama.cpp: a byte-fallback (chinese) vocabulary tokenizes the same, unknown characters as bytes', async (t) => {
  const r = await loadLlamaCpp();
  if ('skip' in r) return t.skip(r.skip);
  const tok = ChineseTokenizer.train('我们喜欢学习中文。你好世界！我们 hello', 300);
  const model = tinyLlama(tok.vocabSize, 64);
  const m = await open(r.llama, model, tok, 'f32');
  for (const p of ['我们喜欢中文', '你好, 世界! 鑫', 'hello 😀']) {
    assert.deepEqual(Array.from(m.lm.tokenize(p, false)), tok.encode(p), `tokens of ${JSON.stringify(p)}`);
  }
  await m.dispose();
});

test("llama.cpp: GPT-2's own tokenizer (50257 tokens, gpt-2 pre-tokenizer) gives the same ids", async (t) => {
  const r = await loadLlamaCpp();
  if ('skip' in r) return t.skip(r.skip);
  const { loadEncoding } = await import('../src/tokenizers/tiktoken.node.js');
  const tok = await loadEncoding('gpt2');
  const m = await open(r.llama, tinyGPT(tok.vocabSize, 32), tok, 'f16');
  for (const p of ["Hello world! It's 2024, naïve café 😀 — and    spaces\n\n\tcode: x = y + 1;", ' leading space', 'ÄÖÜ 中文 1234567 <|endoftext|>']) {
    assert.deepEqual(Array.from(m.lm.tokenize(p, false)), tok.encode(p), `tokens of ${JSON.stringify(p)}`);
  }
  assert.deepEqual(Array.from(m.lm.tokenize('<|endoftext|>', true)), [50256]);
  await m.dispose();
});

test("llama.cpp: a SentencePiece vocabulary with multi-character pieces (LLaMA-2 style) tokenizes the same", async (t) => {
  const r = await loadLlamaCpp();
  if ('skip' in r) return t.skip(r.skip);
  const { SpmTokenizer } = await import('../src/tokenizers/spm.js');
  const tokens = ['<unk>', '<s>', '</s>', ...Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`)];
  const types = [2, 3, 3, ...Array(256).fill(6)];
  const pieces = new Set<string>();
  for (const w of generatedText(200).split(/\s+/)) {
    const p = '▁' + w;
    for (let i = 0; i < p.length; i++) for (let j = i + 1; j <= Math.min(p.length, i + 4); j++) pieces.add(p.slice(i, j));
  }
  const list = [...pieces].sort();
  tokens.push(...list);
  types.push(...list.map(() => 1));
  const scores = tokens.map((tk, i) => (i < 259 ? 0 : -((i * 7919) % 1000) / 10 - 1 / tk.length)); // arbitrary, with ties broken
  for (const addSpacePrefix of [true, false]) {
    const tok = new SpmTokenizer({ tokens, scores, types, addSpacePrefix });
    const m = await open(r.llama, tinyLlama(tok.vocabSize, 32), tok, 'f32');
    assert.equal(ggufTokenizerType(m.ours.tokenizer), 'spm');
    for (const p of ['the quick brown fox', 'Hello  World, lazy dogs!\nover', 'ünïcode 中 ok']) {
      assert.deepEqual(Array.from(m.lm.tokenize(p, false)), tok.encode(p), `prefix ${addSpacePrefix}: tokens of ${JSON.stringify(p)}`);
      assert.deepEqual(m.ours.tokenizer.encode(p), tok.encode(p));
    }
    await m.dispose();
  }
});

function ggufTokenizerType(tok: Tokenizer): string {
  return tok.type;
}
