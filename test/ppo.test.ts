// PPO: on the notes' three questions a tiny model barely fine-tuned on them gets a higher sampled reward
// after a few PPO steps with the KL penalty; the reference stays frozen; the adaptive KL controller moves β
// the right way; the rule-based reward and a reward model serve as reward functions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureBackend } from '../src/backend/index.js';
import { GPT } from '../src/models/gpt.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { Trainer } from '../src/train/trainer.js';
import { encodeChats, SupervisedFineTuning } from '../src/train/sft.js';
import { withChatVocabulary } from '../src/train/chat-vocabulary.js';
import type { VerifiablePrompt } from '../src/data/verifiable.js';
import { defaultSftData } from '../src/data/sft-default.js';
import { adaptiveKlCoef, PPOTrainer } from '../src/align/ppo-trainer.js';
import { exactMatchReward, type RewardFn } from '../src/align/rewards.js';
import { cloneModel } from '../src/align/clone.js';
import { ruleRewardPrompts, rewardModelFn } from '../src/align/reward-sources.js';
import { RewardModel } from '../src/align/reward-model.js';
import { encodePrompt, endOfTurnId } from '../src/align/pairs.js';
import { inEvalMode } from '../src/generate/decoder.js';
import { noGrad } from '../src/tensor/tensor.js';
import { evaluatePolicy } from '../src/align/rl-eval.js';
import { ppoCommand } from '../src/cli/ppo.js';
import { UsageError } from '../src/usage-error.js';

ensureBackend();
const QA: [string, string][] = [['2 + 2', '4'], ['5 * 3', '15'], ['10 / 2', '5']];
const prompts: VerifiablePrompt[] = QA.map(([q, a]) => ({ prompt: [{ role: 'user', content: `What is ${q}?` }], answer: a }));
const exact: RewardFn = (c, item) => exactMatchReward(c, item.answer);

async function warmModel(steps: number) {
  const convs = QA.map(([q, a]) => ({ messages: [{ role: 'user' as const, content: `What is ${q}?` }, { role: 'assistant' as const, content: a }] }));
  const text = convs.flatMap((c) => c.messages.map((m) => m.content)).join('') + '\n';
  const base = new GPT({ vocabSize: 3, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 32, dropout: 0, bias: false }, 11);
  const { model, tokenizer } = withChatVocabulary(base, new CharTokenizer(['a', 'b', 'c']), text);
  const ex = encodeChats(convs, tokenizer, 32).examples;
  await new Trainer(model, new SupervisedFineTuning(ex, []), { maxIters: steps, batchSize: 6, lr: 1e-2, warmupIters: 2, evalInterval: 1000, sampleAt: [] }).run();
  return { model, tokenizer };
}

function sampledReward(t: PPOTrainer, n = 4): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += [...t.rollout(1000 + i).rewards].reduce((a, b) => a + b, 0);
  return s / (n * t.config.batchSize);
}

test('PPO raises the reward; KL, entropy and value loss are logged; the reference stays frozen', async () => {
  const { model, tokenizer } = await warmModel(20);
  const ref = cloneModel(model);
  const frozen = ref.parameters().map((p) => p.data.slice());
  const t = new PPOTrainer(model, tokenizer, prompts, exact, ref, { steps: 12, batchSize: 24, miniBatchSize: 12, epochs: 2, maxNewTokens: 4, lr: 3e-3, klCoef: 0.05, seed: 3 });
  const before = sampledReward(t);
  const logs = Array.from({ length: 12 }, () => t.trainStep());
  const after = sampledReward(t);
  assert.ok(after > before + 0.2, `mean sampled reward ${before.toFixed(3)} → ${after.toFixed(3)}`);
  assert.ok(logs.every((l) => Number.isFinite(l.kl) && l.entropy > 0 && l.valueLoss >= 0 && l.clipRatio >= 0 && l.clipRatio <= 1));
  assert.ok(logs[logs.length - 1].kl > 0.1, `KL ${logs[logs.length - 1].kl}`);
  ref.parameters().forEach((p, i) => assert.deepEqual(p.data, frozen[i]));
});

test("a fresh value head starts at the first rollout's mean score and learns at vfLrScale × lr; a loaded head is kept", async () => {
  const { model, tokenizer } = await warmModel(5);
  const cfg = { steps: 1, batchSize: 6, miniBatchSize: 6, epochs: 1, maxNewTokens: 3, lr: 1e-9, seed: 5 };
  const t = new PPOTrainer(model, tokenizer, prompts, exact, cloneModel(model), cfg);
  assert.equal(t.config.vfLrScale, 30);
  const groups = t.optimizer.groups;
  const headGroup = groups.find((g) => g.params.includes(t.valueHead.v_head.weight));
  assert.equal(headGroup?.lrScale, 30);
  assert.ok(!groups.some((g) => g !== headGroup && g.params.includes(t.valueHead.v_head.weight)));
  const mean = [...t.rollout(0).rewards].reduce((a, b) => a + b, 0) / cfg.batchSize;
  t.trainStep();
  assert.ok(Math.abs(t.valueHead.v_head.bias!.data[0] - mean) < 1e-3, `bias ${t.valueHead.v_head.bias!.data[0]} vs the first rollout's mean score ${mean}`);
  t.valueHead.setBias(-7);
  const again = new PPOTrainer(model, tokenizer, prompts, exact, cloneModel(model), cfg, 'reward', t.valueHead);
  again.trainStep();
  assert.ok(Math.abs(again.valueHead.v_head.bias!.data[0] + 7) < 1e-3, 'a loaded head keeps its bias');
  assert.throws(() => new PPOTrainer(model, tokenizer, prompts, exact, cloneModel(model), { vfLrScale: 0 }), /vfLrScale > 0/);
});

test('held-out evaluation: greedy, or K samples per prompt at a temperature, repeatable from its seed', async () => {
  const { model, tokenizer } = await warmModel(5);
  const greedy = evaluatePolicy(model, tokenizer, prompts, exact, 4);
  assert.equal(greedy.completions.length, 3);
  assert.deepEqual(evaluatePolicy(model, tokenizer, prompts, exact, 4, 32, 'r', undefined, { samples: 0, temperature: 1 }).completions, greedy.completions);
  const sampling = { samples: 5, temperature: 1.5, seed: 9 };
  const a = evaluatePolicy(model, tokenizer, prompts, exact, 4, 4, 'r', undefined, sampling);
  assert.equal(a.completions.length, 15);
  assert.equal(Object.values(a.byKind).reduce((n, k) => n + k.total, 0), 15);
  assert.deepEqual(evaluatePolicy(model, tokenizer, prompts, exact, 4, 4, 'r', undefined, sampling).completions, a.completions);
  const mean = a.completions.reduce((s, c, i) => s + exact(c, prompts[Math.floor(i / 5)]), 0) / 15;
  assert.ok(Math.abs(a.meanReward - mean) < 1e-12);
  assert.ok(new Set(a.completions).size > 3, 'samples at temperature 1.5 differ');
  await assert.rejects(ppoCommand(['--policy', 'nowhere', '--eval-samples', '64', '--eval-prompts', '200']),
    (e: Error) => e instanceof UsageError && /--eval-samples 64 × --eval-prompts 200 is 12800 completions at every evaluation, above 10000/.test(e.message));
});

test('the adaptive KL controller raises β above the target KL and lowers it below (TRL AdaptiveKLController)', () => {
  assert.equal(adaptiveKlCoef(0.1, 12, 6, 256, 10000), 0.1 * (1 + 0.2 * 256 / 10000));
  assert.equal(adaptiveKlCoef(0.1, 6.6, 6, 256, 10000), 0.1 * (1 + ((6.6 / 6 - 1) * 256) / 10000));
  assert.equal(adaptiveKlCoef(0.1, 0, 6, 256, 10000), 0.1 * (1 - 0.2 * 256 / 10000));
});

test('reward sources: the rule-based reward on built-in questions, a reward model on prompt + completion', async () => {
  const sft = defaultSftData({ seed: 1, trainSize: 20, heldOutSize: 2 });
  const { prompts: ps, reward } = ruleRewardPrompts(sft.train);
  const i = sft.train.findIndex((e) => e.kind === 'add');
  const ref = sft.train[i].messages[sft.train[i].messages.length - 1].content;
  assert.equal(reward(ref, ps[i]), 1.75);
  assert.equal(reward('no idea', ps[i]), 0);
  assert.throws(() => reward('x', { prompt: [], answer: '' }), /built-in questions only/);
  const { model, tokenizer } = await warmModel(1);
  const rm = new RewardModel(model, 2);
  const fn = rewardModelFn(rm, tokenizer);
  const a = fn('4', prompts[0]), b = fn('4', prompts[0]);
  assert.ok(Number.isFinite(a) && a === b);
  // a readout that pools over the response is told where the response starts
  const rl = new RewardModel(model, 2, 'last+loglik');
  new Map(rl.namedParameters()).get('loglik.bias')!.data[0] = 0.5;
  const prompt = encodePrompt(prompts[0].prompt, tokenizer), ids = Int32Array.from([...prompt, ...tokenizer.encode('4'), endOfTurnId(tokenizer)]);
  const direct = inEvalMode(rl, () => noGrad(() => rl.rewards(ids, 1, ids.length, [ids.length - 1], [prompt.length]).data[0]));
  assert.ok(Math.abs(rewardModelFn(rl, tokenizer)('4', prompts[0]) - direct) < 1e-6);
});
