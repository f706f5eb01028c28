// A second model type through the same code: a bigram model written only for this test (makemore's first
// model: a V×V table of logits) registers itself, then trains with the one Trainer, samples, is evaluated
// and round-trips through checkpoints and `gptlab`'s training job — with no change outside this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBackend } from '../src/backend/index.js';
import { Module } from '../src/nn/module.js';
import { Embedding } from '../src/nn/layers.js';
import { Rng } from '../src/tensor/rng.js';
import type { ForwardOptions, LanguageModel, ModelConfig, ModelOutput, ModelState } from '../src/models/model.js';
import { checkForwardShape } from '../src/models/model.js';
import { languageModelLoss } from '../src/models/loss.js';
import { registerModelType } from '../src/models/registry.js';
import { slice } from '../src/tensor/shape.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { splitTokens } from '../src/data/dataset.js';
import { Trainer } from '../src/train/trainer.js';
import { Pretraining } from '../src/train/pretraining.js';
import { checkpointFiles } from '../src/train/checkpoint.js';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint.node.js';
import { runTrainJob } from '../src/train/pretrain-job.node.js';
import { generateText } from '../src/generate/generate.js';
import { generateBatch } from '../src/generate/batch.js';
import { evaluateText } from '../src/eval/evaluate.js';

interface BigramConfig extends ModelConfig {}

/** the bigram's generation state: it needs nothing but a position count */
class Position implements ModelState {
  length = 0;
  selectRows(): void {}
  dropPrefix(n: number): void {
    this.length -= n;
  }
}

class Bigram extends Module implements LanguageModel {
  readonly type = 'bigram';
  readonly contextLength = Infinity;
  readonly rng: Rng;
  readonly table: Embedding;
  constructor(readonly config: BigramConfig, seed: number) {
    super();
    this.rng = new Rng(seed);
    this.table = this.child('table', new Embedding(config.vocabSize, config.vocabSize, this.rng));
  }
  forward(idx: Int32Array, B: number, T: number, opts: ForwardOptions = {}): ModelOutput {
    checkForwardShape(this, idx, B, T, opts.state);
    let logits = this.table.forward(idx, [B, T]); // (B, T, V): row idx of the table
    if (opts.state) (opts.state as Position).length += T;
    if (opts.lastOnly && !opts.targets) logits = slice(logits, 1, T - 1, T);
    return { logits, loss: languageModelLoss(logits, opts) };
  }
  createState(): ModelState {
    return new Position();
  }
  numParams(): number {
    return this.numParameters();
  }
  decayedParameterNames(): Set<string> {
    return new Set();
  }
  describe(): string {
    return `bigram, vocab ${this.config.vocabSize}`;
  }
}

registerModelType<BigramConfig>({
  type: 'bigram', description: 'a table of next-token logits', presets: { tiny: { blockSize: 8 } }, defaultPreset: 'tiny', overridable: {},
  validate: (c) => ({ vocabSize: c.vocabSize as number, blockSize: c.blockSize as number }),
  create: (c, seed) => new Bigram(c, seed), vocabParameters: ['table.weight'],
});

ensureBackend();
const text = 'abcabcabcabcabd '.repeat(200);
const tok = CharTokenizer.fromText(text);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-bigram-'));

test('a bigram model trains, samples, evaluates and checkpoints through the shared code', async () => {
  const splits = splitTokens(Int32Array.from(tok.encode(text)), { train: 0.9, dev: 0.1, test: 0 });
  const model = new Bigram({ vocabSize: tok.vocabSize, blockSize: 8 }, 1);
  const trainer = new Trainer(model, new Pretraining(splits), { maxIters: 150, batchSize: 8, lr: 0.1, evalInterval: 50, evalIters: 4, warmupIters: 5, sampleAt: [] }, { tokenizer: tok });
  const before = trainer.evaluate().dev!;
  await trainer.run();
  assert.ok(trainer.state.bestDevLoss < before / 2, `dev loss ${before} → ${trainer.state.bestDevLoss}`);
  const { text: out } = await generateText(model, tok, 'a', { maxNewTokens: 6, temperature: 0 });
  assert.equal(out, 'bcabca');
  const rows = generateBatch(model, [tok.encode('a'), tok.encode('bc')], { maxNewTokens: 3, temperature: 0 });
  assert.deepEqual(rows.map((r) => tok.decode(r.ids)), ['bca', 'abc']);
  const ev = evaluateText(model, tok, text.slice(0, 400));
  assert.ok(ev.perplexity < 2, `perplexity ${ev.perplexity}`);
  const dir = path.join(tmp, 'ck');
  saveCheckpoint(dir, checkpointFiles(model, tok, { trainer }));
  const ck = loadCheckpoint(dir, true);
  assert.equal(ck.model.type, 'bigram');
  assert.deepEqual(Array.from(ck.model.stateDict().get('table.weight')!.data), Array.from(model.table.weight.data));
});

test('the training job takes a registered model type by name (--arch)', async () => {
  const res = await runTrainJob({
    text, source: 'test text', out: path.join(tmp, 'run'), model: { arch: 'bigram' }, split: '90/10',
    train: { maxIters: 20, batchSize: 4, evalInterval: 10, evalIters: 2, lr: 0.1, sampleAt: [10], sampleTokens: 5 },
    resume: false, save: true, quiet: true,
  }, () => {});
  assert.equal(res.outcome, 'done');
  assert.equal(loadCheckpoint(path.join(tmp, 'run')).model.type, 'bigram');
});

test('a model type from outside the repository reaches every command through GPTLAB_PLUGINS', async () => {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath, pathToFileURL } = await import('node:url');
  const lib = pathToFileURL(fileURLToPath(new URL('../src/index.js', import.meta.url))).href;
  const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const plugin = path.join(tmp, 'unigram.mjs');
  // a unigram model in plain JavaScript: one learned logit per token, whatever came before
  fs.writeFileSync(plugin, `import { Module, Embedding, Rng, languageModelLoss, checkForwardShape, registerModelType, slice } from '${lib}';
class Unigram extends Module {
  type = 'unigram'; contextLength = Infinity;
  constructor(config, seed) { super(); this.config = config; this.rng = new Rng(seed); this.table = this.child('table', new Embedding(1, config.vocabSize, this.rng)); }
  forward(idx, B, T, opts = {}) {
    checkForwardShape(this, idx, B, T, opts.state);
    let logits = this.table.forward(new Int32Array(B * T), [B, T]);
    if (opts.state) opts.state.length += T;
    if (opts.lastOnly && !opts.targets) logits = slice(logits, 1, T - 1, T);
    return { logits, loss: languageModelLoss(logits, opts) };
  }
  createState() { return { length: 0, selectRows() {}, dropPrefix(n) { this.length -= n; } }; }
  numParams() { return this.numParameters(); }
  decayedParameterNames() { return new Set(); }
  describe() { return 'unigram, vocab ' + this.config.vocabSize; }
}
registerModelType({ type: 'unigram', description: 'one logit per token', presets: { tiny: { blockSize: 8 } }, defaultPreset: 'tiny', overridable: {},
  validate: (c) => ({ vocabSize: c.vocabSize, blockSize: c.blockSize }), create: (c, seed) => new Unigram(c, seed), vocabParameters: [] });
`);
  const env = { ...process.env, GPTLAB_PLUGINS: plugin };
  const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  const out = path.join(tmp, 'uni');
  const t = run(['train', '--demo', '--arch', 'unigram', '--out', out, '--max-iters', '10', '--eval-interval', '5', '--eval-iters', '1', '--sample-at', '', '--threads', '1']);
  assert.equal(t.status, 0, t.stderr);
  const s = run(['sample', out, '--prompt', 'a', '-n', '5', '--threads', '1']);
  assert.equal(s.status, 0, s.stderr);
  assert.match(run(['info', out]).stdout, /unigram, vocab \d+/);
  const bad = spawnSync(process.execPath, [cli, 'info', out], { encoding: 'utf8', env: { ...process.env, GPTLAB_PLUGINS: path.join(tmp, 'missing.mjs') } });
  assert.match(bad.stderr, /GPTLAB_PLUGINS: cannot load .*missing\.mjs/);
});
