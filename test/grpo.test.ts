// GRPO / REINFORCE: the notes' three questions (2 + 2 → 4, 5 * 3 → 15, 10 / 2 → 5; +1 on an exact match of
// the stripped answer, −1 otherwise) on a tiny model barely fine-tuned on them — GRPO raises the sampled
// reward; rollouts lay out the completion mask; a bad reward function stops with one line; a run resumed
// from its checkpoint takes the same steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBackend } from '../src/backend/index.js';
import { GPT } from '../src/models/gpt.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { Trainer } from '../src/train/trainer.js';
import { encodeChats, SupervisedFineTuning } from '../src/train/sft.js';
import { withChatVocabulary } from '../src/train/chat-vocabulary.js';
import { RunFolder } from '../src/train/run-folder.node.js';
import { checkpointFiles } from '../src/train/checkpoint.js';
import type { VerifiablePrompt } from '../src/data/verifiable.js';
import { GRPOTrainer, withSignal } from '../src/align/grpo-trainer.js';
import { grpoAdvantages, grpoLoss, type GRPOLossType } from '../src/align/grpo.js';
import { rolloutLogProbs } from '../src/align/rollout.js';
import { mul } from '../src/tensor/elementwise.js';
import { rolloutLogProbsData, sampleRollout } from '../src/align/rollout.js';
import { exactMatchReward, type RewardFn } from '../src/align/rewards.js';
import { runRLLoop } from '../src/align/rl-job.node.js';
import { loadAnyCheckpoint } from '../src/align/lora-checkpoint.node.js';
import { cloneModel } from '../src/align/clone.js';
import { saveCheckpoint } from '../src/train/checkpoint.node.js';
import { runGRPOJob } from '../src/align/grpo-job.node.js';
import { grpoCommand } from '../src/cli/grpo.js';

ensureBackend();
const QA: [string, string][] = [['2 + 2', '4'], ['5 * 3', '15'], ['10 / 2', '5']];
const prompts: VerifiablePrompt[] = QA.map(([q, a]) => ({ prompt: [{ role: 'user', content: `What is ${q}?` }], answer: a }));
const exact: RewardFn = (c, item) => exactMatchReward(c, item.answer);

/** a tiny chat model given a few SFT steps on the three answers: right some of the time when sampling */
async function warmModel(steps: number) {
  const convs = QA.map(([q, a]) => ({ messages: [{ role: 'user' as const, content: `What is ${q}?` }, { role: 'assistant' as const, content: a }] }));
  const text = convs.flatMap((c) => c.messages.map((m) => m.content)).join('') + '\n';
  const base = new GPT({ vocabSize: 3, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 32, dropout: 0, bias: false }, 11);
  const { model, tokenizer } = withChatVocabulary(base, new CharTokenizer(['a', 'b', 'c']), text);
  const ex = encodeChats(convs, tokenizer, 32).examples;
  await new Trainer(model, new SupervisedFineTuning(ex, []), { maxIters: steps, batchSize: 6, lr: 1e-2, warmupIters: 2, evalInterval: 1000, sampleAt: [] }).run();
  return { model, tokenizer };
}

function sampledReward(t: GRPOTrainer, n = 4): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += [...t.rollout(1000 + i).rewards].reduce((a, b) => a + b, 0);
  return s / (n * t.config.promptsPerStep * t.config.groupSize);
}

test("GRPO raises the reward on the notes' three questions", async () => {
  const { model, tokenizer } = await warmModel(20);
  const t = new GRPOTrainer(model, tokenizer, prompts, exact, { steps: 16, promptsPerStep: 3, groupSize: 8, maxNewTokens: 4, lr: 3e-3, beta: 0.04, seed: 3 }, cloneModel(model));
  const before = sampledReward(t);
  const logs = [];
  for (let i = 0; i < 16; i++) logs.push(t.trainStep());
  const after = sampledReward(t);
  assert.ok(after > before + 0.2, `mean sampled reward ${before.toFixed(3)} → ${after.toFixed(3)}`);
  assert.ok(logs.every((l) => Number.isFinite(l.kl) && l.kl >= 0 && l.clipRatio === 0));
  assert.ok(logs[logs.length - 1].kl > 0);
});

test('a rollout: G completions per prompt, mask on completion tokens only, rewards per row', async () => {
  const { model, tokenizer } = await warmModel(5);
  const r = sampleRollout(model, tokenizer, prompts.slice(0, 2), exact, { groupSize: 3, maxNewTokens: 4, temperature: 1, seed: 1 });
  assert.equal(r.B, 6);
  assert.deepEqual(r.items.map((i) => i.answer), ['4', '4', '4', '15', '15', '15']);
  for (let b = 0; b < r.B; b++) {
    let m = 0;
    for (let t = 0; t < r.T; t++) m += r.mask[b * r.T + t];
    assert.equal(m, r.lengths[b]);
    assert.equal(r.rewards[b], exactMatchReward(r.texts[b], r.items[b].answer));
  }
});

test('a reward function returning NaN stops the step with one clear line', async () => {
  const { model, tokenizer } = await warmModel(2);
  const t = new GRPOTrainer(model, tokenizer, prompts, () => NaN, { steps: 1, promptsPerStep: 1, groupSize: 2, maxNewTokens: 2, beta: 0 }, null, 'my.mjs');
  assert.throws(() => t.trainStep(), /^Error: my\.mjs returned NaN for completion .*; a reward must be a finite number$/);
});

test('a GRPO run resumed from its checkpoint takes the same steps', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-grpo-'));
  const cfg = { steps: 4, promptsPerStep: 2, groupSize: 4, maxNewTokens: 3, lr: 3e-3, beta: 0, seed: 5 };
  const run = async (folder: RunFolder, t: GRPOTrainer, steps: number, history = []) => runRLLoop({
    get step() { return t.step; }, set step(v) { t.step = v; }, optimizer: t.optimizer, nameOf: t.nameOf, rng: t.policy.rng, trainStep: () => t.trainStep(),
    modelFiles: (meta) => checkpointFiles(t.policy, t.tokenizer, { meta }),
  }, folder, { steps, evalInterval: 2, evaluate: () => ({ score: 0 }), meta: {}, label: 'grpo', quiet: true, log: () => {}, history });
  const a = await warmModel(3);
  const straight = await run(new RunFolder(path.join(dir, 'a')), new GRPOTrainer(a.model, a.tokenizer, prompts, exact, cfg), 4);
  const b = await warmModel(3);
  await run(new RunFolder(path.join(dir, 'b')), new GRPOTrainer(b.model, b.tokenizer, prompts, exact, cfg), 2);
  const ck = loadAnyCheckpoint(path.join(dir, 'b'), true);
  const t2 = new GRPOTrainer(ck.model, ck.tokenizer, prompts, exact, cfg);
  t2.optimizer.loadStateTensors(ck.moments!, t2.nameOf, ck.trainerState!.step);
  t2.step = ck.trainerState!.step;
  const resumed = await run(new RunFolder(path.join(dir, 'b'), true, { resume: true }), t2, 4, (ck.trainerState as never as { rlHistory: never[] }).rlHistory);
  assert.deepEqual(resumed.history.map((h) => [h.reward, h.loss]), straight.history.map((h) => [h.reward, h.loss]));
  assert.ok(fs.existsSync(path.join(dir, 'b', 'reward.svg')));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('with a sampling temperature the loss uses log softmax(logits/τ), as TRL', async () => {
  const { model, tokenizer } = await warmModel(2);
  const r = sampleRollout(model, tokenizer, prompts.slice(0, 1), exact, { groupSize: 2, maxNewTokens: 3, temperature: 0.5, seed: 1 });
  const lp1 = rolloutLogProbsData(model, r), lp2 = rolloutLogProbsData(model, r, 0.5);
  const logits = model.forward(r.x, r.B, r.T).logits.data, V = model.config.vocabSize;
  for (let i = 0; i < r.B * r.T; i++) {
    if (r.y[i] < 0) continue;
    const row = Array.from(logits.subarray(i * V, (i + 1) * V), (z) => z / 0.5);
    const m = Math.max(...row), lse = m + Math.log(row.reduce((s, z) => s + Math.exp(z - m), 0));
    assert.ok(Math.abs(lp2[i] - (row[r.y[i]] - lse)) < 1e-4);
    assert.ok(Math.abs(lp1[i] - lp2[i]) > 0 || row[r.y[i]] === m);
  }
});

test('rows with zero advantage are left out of the backward pass, with the loss and gradients of the whole batch', async () => {
  const { model, tokenizer } = await warmModel(6);
  const r = sampleRollout(model, tokenizer, prompts, exact, { groupSize: 4, maxNewTokens: 4, temperature: 1, seed: 2 });
  r.rewards.set([1, -1, -1, 1, -1, -1, -1, -1, 1, -1, 1, -1]); // the middle group carries no signal
  const adv = grpoAdvantages(r.rewards, 4);
  const params = model.parameters();
  const lossAndGrads = (rr: typeof r, a: Float32Array, scale: number, lossType: GRPOLossType): [number, Float32Array[]] => {
    for (const p of params) p.grad = null;
    const l = mul(grpoLoss(rolloutLogProbs(model, rr).logp, { advantages: a, mask: rr.mask, lossType, maxCompletionLength: 4 }).loss, scale);
    l.backward();
    return [l.item(), params.map((p) => Float32Array.from(p.grad ?? new Float32Array(p.size)))];
  };
  for (const lossType of ['grpo', 'bnpo', 'dr_grpo', 'dapo'] as const) {
    const sub = withSignal(r, adv, 0, lossType);
    assert.equal(sub.r.B, 8);
    assert.deepEqual(sub.r.items.map((i) => i.answer), ['4', '4', '4', '4', '5', '5', '5', '5']);
    const [lf, gf] = lossAndGrads(r, adv, 1, lossType), [ls, gs] = lossAndGrads(sub.r, sub.adv, sub.scale, lossType);
    assert.ok(Math.abs(lf - ls) < 1e-6, `${lossType}: loss ${lf} vs ${ls}`);
    gf.forEach((g, i) => g.forEach((v, j) => assert.ok(Math.abs(v - gs[i][j]) < 1e-6, `${lossType}: gradient ${v} vs ${gs[i][j]}`)));
  }
  assert.equal(withSignal(r, adv, 0.04, 'grpo').r, r, 'with a KL term every row has a gradient');
});

test('a time budget stops the loop before --steps, evaluates and saves the step it ended on', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-grpo-'));
  const { model, tokenizer } = await warmModel(3);
  const t = new GRPOTrainer(model, tokenizer, prompts, exact, { steps: 50, promptsPerStep: 2, groupSize: 4, maxNewTokens: 3, lr: 3e-3, beta: 0, seed: 5 });
  const evaluated: number[] = [];
  const res = await runRLLoop({
    get step() { return t.step; }, set step(v) { t.step = v; }, optimizer: t.optimizer, nameOf: t.nameOf, rng: t.policy.rng,
    // each step reports 10 s: with 12 s left and 5 s kept free, a second step would not fit
    trainStep: () => ({ ...t.trainStep(), seconds: 10 }),
    modelFiles: (meta) => checkpointFiles(t.policy, t.tokenizer, { meta }),
  }, new RunFolder(path.join(dir, 'r')), {
    steps: 50, evalInterval: 100, evaluate: () => (evaluated.push(t.step), { score: t.step }), meta: {}, label: 'grpo', quiet: true, log: () => {},
    deadline: performance.now() + 12_000, reserveSeconds: 5,
  });
  assert.equal(res.outcome, 'budget');
  assert.equal(res.steps, 1);
  assert.deepEqual(evaluated, [1]);
  assert.equal((loadAnyCheckpoint(path.join(dir, 'r'), true).trainerState as { step: number }).step, 1);
  const none = await runRLLoop({
    get step() { return t.step; }, set step(v) { t.step = v; }, optimizer: t.optimizer, nameOf: t.nameOf, rng: t.policy.rng, trainStep: () => t.trainStep(),
    modelFiles: (meta) => checkpointFiles(t.policy, t.tokenizer, { meta }),
  }, new RunFolder(path.join(dir, 's')), { steps: 50, evalInterval: 100, evaluate: () => ({ score: 0 }), meta: {}, label: 'grpo', quiet: true, log: () => {}, deadline: performance.now() - 1 });
  assert.equal(none.outcome, 'budget');
  assert.equal(none.steps, 0);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('--warmup-steps ramps the learning rate linearly; --max-minutes bounds the whole job and still reports after', async () => {
  const { model, tokenizer } = await warmModel(3);
  const t = new GRPOTrainer(model, tokenizer, prompts, exact, { lr: 1e-3, warmupSteps: 4, beta: 0 });
  assert.deepEqual([0, 1, 3, 4, 10].map((s) => t.lrAt(s)), [2.5e-4, 5e-4, 1e-3, 1e-3, 1e-3]);
  assert.throws(() => new GRPOTrainer(model, tokenizer, prompts, exact, { warmupSteps: -1 }), /warmupSteps must be an integer ≥ 0, got -1/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-grpo-'));
  saveCheckpoint(path.join(dir, 'policy'), checkpointFiles(model, tokenizer, { meta: { kind: 'sft' } }));
  const data = path.join(dir, 'p.jsonl');
  fs.writeFileSync(data, Array.from({ length: 10 }, (_, i) => JSON.stringify({ prompt: `What is ${i % 5} + 1?`, answer: String((i % 5) + 1) })).join('\n') + '\n');
  const lines: string[] = [];
  const res = await runGRPOJob({
    policy: path.join(dir, 'policy'), data, out: path.join(dir, 'run'), resume: false, reward: exact, rewardName: 'exact', evalInterval: 10, evalPrompts: 2, quiet: true,
    config: { steps: 100, promptsPerStep: 2, groupSize: 2, maxNewTokens: 3, beta: 0 }, maxMinutes: 1e-6,
  }, (l) => lines.push(l));
  assert.equal(res.outcome, 'budget');
  assert.equal(res.steps, 0);
  assert.ok(res.before && res.after);
  assert.ok(lines.some((l) => /time budget reached: stopped at step 0/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /held-out exact match after: /.test(l)));
  await assert.rejects(grpoCommand(['--policy', path.join(dir, 'policy'), '--max-minutes', '0']), /--max-minutes/);
  await assert.rejects(grpoCommand(['--policy', path.join(dir, 'policy'), '--warmup-steps', '-2']), /--warmup-steps/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('coldStart: shouldStop ends it between steps and says so (grpo then saves nothing and exits 130)', async () => {
  await ensureBackend();
  const { coldStart } = await import('../src/align/cold-start.js');
  const chats = [{ messages: [{ role: 'user' as const, content: 'ab' }, { role: 'assistant' as const, content: 'ba' }] }];
  const base = new GPT({ vocabSize: 4, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: false }, 3);
  let polls = 0;
  const stopped = await coldStart(base, new CharTokenizer(['a', 'b', 'c', '\n']), chats, { steps: 50, batchSize: 2, shouldStop: () => ++polls > 3 });
  assert.equal(stopped.interrupted, true);
  assert.ok(stopped.step > 0 && stopped.step < 50, `stopped at step ${stopped.step}`);
  const done = await coldStart(new GPT({ vocabSize: 4, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: false }, 3), new CharTokenizer(['a', 'b', 'c', '\n']), chats, { steps: 3, batchSize: 2 });
  assert.deepEqual([done.interrupted, done.step], [false, 3]);
});
