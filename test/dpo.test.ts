// DPO through the one Trainer: the reference is frozen, the policy's implicit reward accuracy on held-out
// pairs rises, and the loss at step 0 is log 2 (policy = reference).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureBackend } from '../src/backend/index.js';
import { GPT } from '../src/models/gpt.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { Trainer } from '../src/train/trainer.js';
import { withChatVocabulary } from '../src/train/chat-vocabulary.js';
import type { PreferencePair } from '../src/data/preference.js';
import { DPOObjective } from '../src/align/dpo-objective.js';
import { encodePairs } from '../src/align/pairs.js';
import { cloneModel } from '../src/align/clone.js';

ensureBackend();
// a small synthetic preference: complete answers ending in '.' over fragments (learnable in a few steps)
const pair = (i: number): PreferencePair => ({ prompt: [{ role: 'user', content: `q${i % 7}` }], chosen: `Yes ${i % 5}.`, rejected: i % 2 ? `no ${i % 5}` : 'no' });
const data = { train: Array.from({ length: 40 }, (_, i) => pair(i)), dev: Array.from({ length: 12 }, (_, i) => pair(i + 100)) };
const text = [...data.train, ...data.dev].flatMap((p) => [...p.prompt.map((m) => m.content), p.chosen, p.rejected]).join('') + '\n';

test('DPO: loss log 2 at the start, the reference stays frozen, held-out reward accuracy rises', async () => {
  const base = new GPT({ vocabSize: 3, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: false }, 5);
  const { model, tokenizer } = withChatVocabulary(base, new CharTokenizer(['a', 'b', 'c']), text);
  const ref = cloneModel(model);
  const refBefore = ref.parameters().map((p) => p.data.slice());
  const tr = encodePairs(data.train, tokenizer, 32).pairs, dv = encodePairs(data.dev, tokenizer, 32).pairs;
  const objective = new DPOObjective(ref, tr, dv, { beta: 0.1 });
  const trainer = new Trainer(model, objective, { maxIters: 20, batchSize: 8, lr: 1e-2, warmupIters: 2, evalInterval: 20, sampleAt: [] });
  const before = trainer.evaluate();
  assert.ok(Math.abs(before.dev! - Math.log(2)) < 1e-5, `${before.dev}`);
  assert.equal(before.metrics!['reward margin'], 0);
  await trainer.run();
  const after = trainer.evaluate();
  assert.ok(after.dev! < before.dev!, `${before.dev} → ${after.dev}`);
  assert.ok(after.metrics!['reward accuracy'] === 1, `reward accuracy ${after.metrics!['reward accuracy']}`);
  assert.ok(after.metrics!['reward margin'] > 0);
  ref.parameters().forEach((p, i) => assert.deepEqual(p.data, refBefore[i]));
});
