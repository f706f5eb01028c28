// Every decoding option on every decoding path (issue #9 §3): stop strings end beam hypotheses as they end
// samples; `gptlab sample` stops at a chat model's end-of-turn token on both paths and accepts chat-format
// prompts on both; sampler flags are checked up front and refused on beam search, one line each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureBackend } from '../src/backend/index.js';
import { GPT, type GPTConfig } from '../src/models/gpt.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { generateTokens } from '../src/generate/generate.js';
import { beamSearch } from '../src/generate/beam.js';
import { topLogprobs } from '../src/generate/logprobs.js';
import { DecodeBatch } from '../src/generate/decoder.js';
import { checkpointFiles } from '../src/train/checkpoint.js';
import { saveCheckpoint } from '../src/train/checkpoint.node.js';
import { sampleCommand } from '../src/cli/sample.js';
import { SPECIAL_TOKENS } from '../src/data/chat.js';

ensureBackend();
const tok = CharTokenizer.fromText('the quick brown fox jumps over the lazy dog.\n');
const cfg: GPTConfig = { vocabSize: tok.vocabSize, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true };

function model(seed = 7): GPT {
  const m = new GPT(cfg, seed);
  for (const p of m.parameters()) for (let i = 0; i < p.data.length; i++) p.data[i] *= 8;
  return m;
}

const greedy = (m: GPT, p: number[], n: number): number[] => [...generateTokens(m, p, { temperature: 0, maxNewTokens: n })].map((t) => t.id);

test('beam search: a stop string ends a hypothesis, its text cut before the string', () => {
  const m = model();
  const p = tok.encode('the quick');
  const ids = greedy(m, p, 15);
  const text = tok.decode(ids);
  const stop = text.slice(4, 6);
  const at = text.indexOf(stop);
  // one beam with early stopping is greedy search, ended by the stop string
  const r = beamSearch(m, p, { numBeams: 1, maxNewTokens: 15, stop: [stop], decode: (x) => tok.decode(x), earlyStopping: true });
  const s = r.sequences[0];
  assert.equal(s.text, text.slice(0, at));
  assert.equal(s.stop, stop);
  assert.equal(s.finished, true);
  assert.deepEqual(s.ids, ids.slice(0, at + stop.length)); // one character per token
  assert.equal(r.finishReason, 'stop');
  // several beams: every sequence's text is free of stop strings and cut exactly before one when it stopped
  const stops = [' ', 'o'];
  const many = beamSearch(m, p, { numBeams: 3, maxNewTokens: 12, numReturnSequences: 3, stop: stops, decode: (x) => tok.decode(x) });
  assert.ok(many.sequences.length > 0);
  for (const q of many.sequences) {
    const full = tok.decode(q.ids);
    assert.ok(!stops.some((x) => q.text!.includes(x)), JSON.stringify(q));
    if (q.stop) assert.equal(q.text, full.slice(0, full.indexOf(q.stop)));
    else assert.equal(q.text, full);
  }
  assert.throws(() => beamSearch(m, p, { numBeams: 2, maxNewTokens: 3, stop: ['x'] }), /stop strings need the tokenizer's decode/);
  assert.throws(() => beamSearch(m, p, { numBeams: 2, maxNewTokens: 3, stop: [''], decode: (x) => tok.decode(x) }), /stop string #0 must be a non-empty string/);
});

test('generateTokens: top logprobs of the model\'s distribution with every token; bad options before any work', () => {
  const m = model();
  const p = tok.encode('the');
  const [first] = generateTokens(m, p, { temperature: 0.7, maxNewTokens: 1, topLogprobs: 4, seed: 3 });
  assert.deepEqual(first.top, topLogprobs(new DecodeBatch(m, [p]).prefill(), 4));
  for (const [o, re] of [[{ temperature: -1 }, /temperature/], [{ topP: 1.2 }, /topP/], [{ topK: -2 }, /topK/], [{ topLogprobs: 30 }, /topLogprobs/], [{ stopTokens: [999] }, /stopTokens id 999/]] as const) {
    assert.throws(() => generateTokens(m, p, { maxNewTokens: 3, ...o }).next(), re);
  }
});

/** a checkpoint whose model always says `<|end|>` (or `a`): ln_f outputs its bias u, and that token's embedding is 10·u */
function forcedCheckpoint(dir: string, say: string): { tok: CharTokenizer } {
  const chat = CharTokenizer.fromText('ab <>|\n', [...SPECIAL_TOKENS]);
  const m = new GPT({ ...cfg, vocabSize: chat.vocabSize, blockSize: 16 }, 1);
  const sd = m.stateDict();
  sd.get('transformer.ln_f.weight')!.data.fill(0);
  const u = sd.get('transformer.ln_f.bias')!.data;
  u.forEach((_, i) => (u[i] = i % 2 ? 1 : -1));
  const wte = sd.get('transformer.wte.weight')!.data;
  wte.fill(0);
  const id = chat.encode(say, { allowedSpecial: 'all' })[0];
  for (let i = 0; i < cfg.nEmbd; i++) wte[id * cfg.nEmbd + i] = 10 * u[i];
  saveCheckpoint(dir, checkpointFiles(m, chat));
  return { tok: chat };
}

const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** `gptlab sample ARGV` in a child process (stdout is the test runner's in this one) */
async function sample(...argv: string[]): Promise<string> {
  const r = spawnSync(process.execPath, [main, 'sample', ...argv, '--backend', 'js'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('gptlab sample: stops at the chat end-of-turn token and takes chat prompts on both paths; flags checked up front', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-decoding-'));
  const chatCk = path.join(tmp, 'chat'), aCk = path.join(tmp, 'a');
  forcedCheckpoint(chatCk, '<|end|>');
  forcedCheckpoint(aCk, 'a');
  const prompt = '<|user|>ab<|end|>\n<|assistant|>';
  // the model's first token is <|end|>: nothing follows the prompt (it used to print <|end|> 20 times)
  assert.equal(await sample(chatCk, '--prompt', prompt, '-n', '20', '--temperature', '0'), `${prompt}\n`);
  assert.equal(await sample(chatCk, '--prompt', prompt, '-n', '20', '--num-beams', '2'), `${prompt}\n[beam score 0.0000]\n`);
  // --stop on the beam path
  assert.equal(await sample(aCk, '--prompt', 'b', '-n', '6', '--num-beams', '2'), 'baaaaaa\n[beam score 0.0000]\n');
  assert.equal(await sample(aCk, '--prompt', 'b', '-n', '6', '--num-beams', '2', '--stop', 'aaa'), 'b\n[beam score 0.0000]\n');
  assert.equal(await sample(aCk, '--prompt', 'b', '-n', '6', '--stop', 'aaa'), 'b\n');
  // one line naming the flag, before the checkpoint is even looked at
  const nowhere = path.join(tmp, 'nowhere');
  for (const [argv, re] of [
    [['--temperature', '-1'], /--temperature must be ≥ 0/],
    [['--top-p', '1.5'], /--top-p must be in \[0, 1\]/],
    [['--top-k', '-1'], /--top-k must be ≥ 0/],
    [['--presence-penalty', '3'], /--presence-penalty: presencePenalty must be in \[-2, 2\]/],
    [['--num-beams', '3', '--top-k', '5'], /--top-k does not apply to beam search \(--num-beams 3\)/],
    [['--num-beams', '3', '--temperature', '0.5', '--seed', '3'], /--temperature, --seed do not apply to beam search \(--num-beams 3\), which is deterministic; drop them or use --num-beams 1$/],
    [['--num-beams', '2', '--seed', '3'], /^Error: sample: --seed does not apply to beam search \(--num-beams 2\), which is deterministic; drop it or use --num-beams 1$/],
    [['--num-beams', '3', '--no-cache'], /^Error: sample: --no-cache does not apply to beam search \(--num-beams 3\), which always uses the KV cache; drop it or use --num-beams 1$/],
    [['--num-beams', '100000'], /^Error: sample: --num-beams must be in \[1, 64\], got 100000$/],
    // beam-only flags without beam search (Hugging Face's length_penalty, early_stopping), and more samples than beams
    [['--length-penalty', '2'], /^Error: sample: --length-penalty does not apply to sampling, only to beam search; add --num-beams N \(N > 1\) or drop it$/],
    [['--num-beams', '1', '--early-stopping'], /^Error: sample: --early-stopping does not apply to sampling, only to beam search/],
    [['--length-penalty', '0.5', '--no-early-stopping'], /sample: --length-penalty, --early-stopping do not apply to sampling, only to beam search; .* drop them$/],
    [['--num-beams', '2', '--samples', '3'], /^Error: sample: --samples 3 is more than --num-beams 2: beam search returns at most one sequence per beam$/],
    [['--samples', '0'], /sample: --samples must be at least 1, got 0/],
  ] as const) {
    await assert.rejects(sampleCommand([nowhere, ...argv]), re, argv.join(' '));
  }
  // with beam search they are taken: --samples up to --num-beams sequences
  assert.match(await sample(aCk, '--prompt', 'b', '-n', '3', '--num-beams', '2', '--samples', '2', '--length-penalty', '0.5', '--early-stopping'), /^baaa\n\[beam score [-\d.]+\]\n-+\n/);
  // top_p 0 is greedy, not an error
  assert.equal(await sample(aCk, '--prompt', 'b', '-n', '3', '--top-p', '0', '--temperature', '1'), 'baaa\n');
});
