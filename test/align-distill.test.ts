// Distillation: the τ²-scaled KL's value and gradient (finite differences), zero when the student equals the
// teacher; a student trained with the teacher through the one Trainer lowers its loss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureBackend } from '../src/backend/index.js';
import { Tensor } from '../src/tensor/tensor.js';
import { Rng } from '../src/tensor/rng.js';
import { GPT } from '../src/models/gpt.js';
import { Trainer } from '../src/train/trainer.js';
import { splitTokens } from '../src/data/dataset.js';
import { Pretraining } from '../src/train/pretraining.js';
import { distillationKl, DistillationObjective } from '../src/align/distill.js';

ensureBackend();

test('τ²·KL(p_t ‖ p_s): value, zero at equality, gradient τ(p_s − p_t)/n against finite differences', () => {
  const rng = new Rng(1);
  const s = Tensor.randn([2, 3, 5], rng, 1, 0, true);
  const t = Float32Array.from({ length: 30 }, () => rng.normal());
  const tau = 2;
  const f = (z: Float32Array): number => distillationKl(new Tensor(z, [2, 3, 5]), t, tau).item();
  // by hand for row 0
  const sm = (z: number[]) => { const e = z.map((v) => Math.exp(v / tau)); const S = e.reduce((a, b) => a + b); return e.map((v) => v / S); };
  let kl = 0;
  for (let r = 0; r < 6; r++) {
    const ps = sm([...s.data.slice(r * 5, r * 5 + 5)]), pt = sm([...t.slice(r * 5, r * 5 + 5)]);
    kl += pt.reduce((a, p, j) => a + p * Math.log(p / ps[j]), 0);
  }
  assert.ok(Math.abs(f(s.data) - (tau * tau * kl) / 6) < 1e-5);
  assert.ok(Math.abs(distillationKl(new Tensor(t.slice(), [6, 5]), t, tau).item()) < 1e-6);
  distillationKl(s, t, tau).backward();
  for (const i of [0, 7, 29]) {
    const e = 1e-2, p = s.data.slice(), m = s.data.slice();
    p[i] += e;
    m[i] -= e;
    assert.ok(Math.abs((f(p) - f(m)) / (2 * e) - s.grad![i]) < 2e-3, `grad ${i}`);
  }
  assert.throws(() => distillationKl(s, t, 0), /temperature must be > 0/);
});

test('a student distilled from a teacher lowers its loss; α 0 is plain training', async () => {
  const rng = new Rng(3);
  const tokens = Int32Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? rng.int(5) : (i * 3) % 5));
  const splits = splitTokens(tokens, { train: 0.9, dev: 0.1, test: 0 });
  const teacher = new GPT({ vocabSize: 5, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: false }, 1);
  const student = new GPT({ vocabSize: 5, blockSize: 16, nLayer: 1, nHead: 1, nEmbd: 8, dropout: 0, bias: false }, 2);
  await new Trainer(teacher, new Pretraining(splits), { maxIters: 40, batchSize: 8, lr: 1e-2, warmupIters: 3, evalInterval: 40, evalIters: 2, sampleAt: [] }).run();
  const obj = new DistillationObjective(teacher, splits, { temperature: 2, alpha: 0.5 });
  const trainer = new Trainer(student, obj, { maxIters: 30, batchSize: 8, lr: 1e-2, warmupIters: 3, evalInterval: 30, evalIters: 4, sampleAt: [] });
  const before = trainer.evaluate();
  await trainer.run();
  const after = trainer.evaluate();
  assert.ok(after.dev! < before.dev!, `${before.dev} → ${after.dev}`);
  assert.ok(after.metrics!.kd < before.metrics!.kd, `kd ${before.metrics!.kd} → ${after.metrics!.kd}`);
  assert.equal(new DistillationObjective(teacher, splits, { alpha: 0 }).evaluate(student, new Rng(1), { batchSize: 2, evalIters: 1 }).metrics, undefined);
  assert.throws(() => new DistillationObjective(teacher, splits, { alpha: 2 }), /alpha must be in \[0, 1\]/);
});
