// The reward model: a scalar head on a GPT's last-token logits, trained with the Bradley–Terry loss through
// the one Trainer; it learns the rule-based preferences of the built-in set, and saves and loads as a
// 'reward' checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureBackend } from '../src/backend/index.js';
import { GPT } from '../src/models/gpt.js';
import { CharTokenizer } from '../src/tokenizers/char.js';
import { Trainer } from '../src/train/trainer.js';
import { withChatVocabulary } from '../src/train/chat-vocabulary.js';
import { checkpointFiles, checkpointFromFiles } from '../src/train/checkpoint.js';
import { parsePreferenceData, type PreferencePair } from '../src/data/preference.js';
import { RewardModel } from '../src/align/reward-model.js';
import { centralDifference } from './helpers/gradcheck.js';
import { registerRewardModelType } from '../src/align/reward-type.js';
import { accuracyLine, pairLoss, RewardModelObjective } from '../src/align/reward-objective.js';
import { encodePairs, groupByPrompt, pairBatch, rankingBatch } from '../src/align/pairs.js';
import { chunkPairs } from '../src/align/logprobs.js';
import { rewardModelLoss } from '../src/align/reward.js';
import { pickPositions } from '../src/align/gather.js';
import { pairLogProbs } from '../src/align/dpo-objective.js';
import { responseTargets, type RewardReadout } from '../src/align/reward-readout.js';
import { Tensor } from '../src/tensor/tensor.js';
import { sum } from '../src/tensor/shape.js';
import { mul } from '../src/tensor/elementwise.js';

ensureBackend();
registerRewardModelType();
// a small synthetic preference: complete answers ending in '.' over fragments (learnable in a few steps)
const pair = (i: number): PreferencePair => ({ prompt: [{ role: 'user', content: `q${i % 7}` }], chosen: `Yes ${i % 5}.`, rejected: i % 2 ? `no ${i % 5}` : 'no' });
const data = { train: Array.from({ length: 40 }, (_, i) => pair(i)), dev: Array.from({ length: 12 }, (_, i) => pair(i + 100)) };
const text = [...data.train, ...data.dev].flatMap((p) => [...p.prompt.map((m) => m.content), p.chosen, p.rejected]).join('') + '\n';

function setup(seed = 3, readout: RewardReadout = 'last') {
  const base = new GPT({ vocabSize: 3, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0, bias: false }, seed);
  const { model, tokenizer } = withChatVocabulary(base, new CharTokenizer(['a', 'b', 'c']), text);
  const rm = new RewardModel(model, seed, readout);
  const tr = encodePairs(data.train, tokenizer, 32).pairs, dv = encodePairs(data.dev, tokenizer, 32).pairs;
  return { rm, tokenizer, objective: new RewardModelObjective(tr, dv) };
}

test('pickPositions reads one position per row and sends the gradient back there', () => {
  const x = new Tensor(Float32Array.from({ length: 12 }, (_, i) => i), [2, 3, 2], true);
  const y = pickPositions(x, [2, 0]);
  assert.deepEqual([...y.data], [4, 5, 6, 7]);
  sum(y).backward();
  assert.deepEqual([...x.grad!], [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0]);
  assert.throws(() => pickPositions(x, [3, 0]), /index\[0\] = 3 is outside \[0, 3\)/);
});

test('a pair batch lays out chosen then rejected, right-padded, with the response mask', () => {
  const { tokenizer, objective } = setup();
  const b = pairBatch(objective.train.slice(0, 2));
  assert.equal(b.rows, 4);
  const p = objective.train[0];
  const n = p.prompt.length + p.chosen.length;
  assert.equal(b.last[0], n - 1);
  assert.equal(b.x[b.last[0]], tokenizer.specialTokens.get('<|end|>'));
  let m = 0;
  for (let t = 0; t < b.T; t++) m += b.mask[t];
  assert.equal(m, p.chosen.length);
});

test('the comparisons of a ranking score each response once, with the loss and gradients of scoring every pair apart', () => {
  const { rm, tokenizer } = setup();
  const ranked = parsePreferenceData(JSON.stringify({ prompt: 'q1', responses: ['Yes 1.', 'Yes 1', 'no', 'n'] }) + '\n' + JSON.stringify({ prompt: 'q2', chosen: 'Yes.', rejected: 'no' }));
  const pairs = encodePairs(ranked.pairs, tokenizer, 32).pairs;
  const b = rankingBatch(pairs);
  assert.deepEqual([...b.first], [...b.last].map((l, i) => (i < 4 ? pairs[0] : pairs[6]).prompt.length));
  assert.equal(pairs.length, 7);
  assert.equal(b.rows, 6); // 4 responses to q1, 2 to q2
  assert.deepEqual(groupByPrompt(pairs).map((g) => g.length), [6, 1]);
  const grads = (loss: () => Tensor): { loss: number; g: Float32Array } => {
    rm.parameters().forEach((q) => q.zeroGrad());
    const l = loss();
    l.backward();
    return { loss: l.item(), g: Float32Array.from(rm.parameters().flatMap((q) => [...q.grad!])) };
  };
  const once = grads(() => pairLoss(rm, pairs).loss);
  const apart = grads(() => {
    const pb = pairBatch(pairs);
    const [rc, rr] = chunkPairs(rm.rewards(pb.x, pb.rows, pb.T, pb.last));
    return rewardModelLoss(rc, rr).loss;
  });
  assert.ok(Math.abs(once.loss - apart.loss) < 1e-6, `${once.loss} vs ${apart.loss}`);
  let worst = 0;
  once.g.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - apart.g[i]))));
  assert.ok(worst < 1e-5, `largest gradient difference ${worst}`);
});

test('the reward model learns the preferences: held-out pairwise accuracy rises', async () => {
  const { rm, objective } = setup();
  const trainer = new Trainer(rm, objective, { maxIters: 30, batchSize: 8, lr: 1e-2, warmupIters: 3, evalInterval: 30, sampleAt: [] });
  const before = trainer.evaluate();
  await trainer.run();
  const after = trainer.evaluate();
  assert.ok(after.dev! < before.dev!, `dev loss ${before.dev} → ${after.dev}`);
  assert.ok(after.metrics!.accuracy === 1, `held-out pairwise accuracy ${before.metrics!.accuracy} → ${after.metrics!.accuracy}`);
});

test('held-out accuracy per question kind and comparison adds up to the overall accuracy; a tie counts as wrong', () => {
  const { rm, objective } = setup(5);
  const dev = objective.dev.map((p, i) => ({ ...p, kind: i % 3 ? 'odd' : 'third', comparison: i % 2 ? 'sentence' : 'format' }));
  const labelled = new RewardModelObjective(objective.train, dev);
  const b = labelled.breakdown(rm, 5);
  const acc = labelled.evaluate(rm, rm.rng, { batchSize: 5, evalIters: 1 }).metrics!.accuracy;
  for (const by of [b.byKind, b.byComparison]) {
    const right = Object.values(by).reduce((a, v) => a + v.right, 0), total = Object.values(by).reduce((a, v) => a + v.total, 0);
    assert.equal(total, dev.length);
    assert.ok(Math.abs(right / total - acc) < 1e-9, `${right}/${total} vs ${acc}`);
  }
  assert.equal(b.byKind.third.total, 4);
  assert.match(accuracyLine(b.byComparison), /^(format|sentence) \d+\/6, (format|sentence) \d+\/6$/);
  // every reward equal (head zeroed): no pair is right
  for (const [n, p] of rm.namedParameters()) if (n.startsWith('score.')) p.data.fill(0);
  assert.deepEqual(Object.values(labelled.breakdown(rm, 5).byKind).map((v) => v.right), [0, 0]);
  assert.equal(labelled.evaluate(rm, rm.rng, { batchSize: 5, evalIters: 1 }).metrics!.accuracy, 0);
});

test("a reward model saves and loads as a 'reward' checkpoint with the same scores", () => {
  const { rm, tokenizer, objective } = setup(4);
  rm.namedParameters().find(([n]) => n === 'score.bias')![1].data[0] = 0.25;
  const files = checkpointFiles(rm, tokenizer);
  assert.match(files['config.json'] as string, /"model_type": "reward"/);
  const ck = checkpointFromFiles((n) => (files[n] === undefined ? null : typeof files[n] === 'string' ? new TextEncoder().encode(files[n] as string) : (files[n] as Uint8Array)), 'mem');
  assert.ok(ck.model instanceof RewardModel);
  const b = pairBatch(objective.dev.slice(0, 3));
  assert.deepEqual([...(ck.model as RewardModel).rewards(b.x, b.rows, b.T, b.last).data], [...rm.rewards(b.x, b.rows, b.T, b.last).data]);
});

test("'last+loglik' adds the gated response log-likelihood: gate 0 gives the last-token head, a constant gate c gives c·log π(y|x) as DPO sums it", () => {
  const last = setup(6).rm, { rm, objective } = setup(6, 'last+loglik');
  assert.deepEqual(rm.headParameterNames(), ['score.weight', 'score.bias', 'loglik.gate', 'loglik.bias']);
  const pairs = objective.dev.slice(0, 3), b = rankingBatch(pairs);
  const r0 = rm.rewards(b.x, b.rows, b.T, b.last, b.first).data;
  assert.deepEqual([...r0], [...last.rewards(b.x, b.rows, b.T, b.last).data]);
  assert.throws(() => rm.rewards(b.x, b.rows, b.T, b.last), /needs each row's first response position/);
  const params = new Map(rm.namedParameters());
  params.get('loglik.bias')!.data[0] = 0.5;
  const r = rm.rewards(b.x, b.rows, b.T, b.last, b.first).data;
  const lp = pairLogProbs(rm.backbone, pairs).logps.data; // (2·3): chosen then rejected
  for (let k = 0; k < pairs.length; k++) {
    for (const [row, want] of [[b.chosen[k], lp[k]], [b.rejected[k], lp[pairs.length + k]]]) {
      assert.ok(Math.abs(r[row] - r0[row] - 0.5 * want) < 1e-4, `row ${row}: ${r[row] - r0[row]} vs ${0.5 * want}`);
    }
  }
});

test("'last+loglik' gradients match finite differences (gate, its bias, the head, the backbone)", () => {
  const { rm, objective } = setup(7, 'last+loglik');
  const params = new Map(rm.namedParameters());
  params.get('loglik.gate')!.data.forEach((_, i, a) => (a[i] = 0.05 * Math.sin(i)));
  params.get('loglik.bias')!.data[0] = 0.3;
  const b = rankingBatch(objective.dev.slice(0, 2));
  const w = Float32Array.from({ length: b.rows }, (_, i) => (i % 2 ? -0.7 : 1.3));
  const f = (): number => rm.rewards(b.x, b.rows, b.T, b.last, b.first).data.reduce((a, v, i) => a + v * w[i], 0);
  rm.parameters().forEach((q) => q.zeroGrad());
  const r = rm.rewards(b.x, b.rows, b.T, b.last, b.first);
  sum(mul(r, new Tensor(w, [b.rows]))).backward();
  for (const [name, i] of [['loglik.gate', 3], ['loglik.bias', 0], ['score.weight', 5], ['transformer.h.0.mlp.c_fc.weight', 7], ['transformer.wte.weight', 40]] as const) {
    const p = params.get(name)!;
    const num = centralDifference(p.data, i, 1e-2, f);
    assert.ok(Math.abs(num - p.grad![i]) < 2e-3 + 0.03 * Math.abs(num), `${name}[${i}]: numeric ${num}, autograd ${p.grad![i]}`);
  }
});

test('lmCoefficient adds c × the preferred responses\' mean per-token NLL (a ranking\'s best, a lone pair\'s chosen); gradients match finite differences', () => {
  for (const readout of ['last', 'last+loglik'] as const) {
    const { rm, tokenizer } = setup(8, readout);
    const ranked = parsePreferenceData(JSON.stringify({ prompt: 'q1', responses: ['Yes 1.', 'Yes 1', 'no'] }) + '\n' + JSON.stringify({ prompt: 'q2', chosen: 'Yes.', rejected: 'no' }));
    const pairs = encodePairs(ranked.pairs, tokenizer, 32).pairs;
    const base = pairLoss(rm, pairs).loss.item(), c = 0.7;
    // the preferred rows by hand: 'Yes 1.' for q1 and 'Yes.' for q2, each its tokens' mean −log p
    const best = [pairs[0], pairs[3]];
    const lp = pairLogProbs(rm.backbone, best).logps.data; // (2·2) sums: chosen rows first
    const want = -((lp[0] / best[0].chosen.length) + (lp[1] / best[1].chosen.length)) / 2;
    const got = pairLoss(rm, pairs, { lmCoefficient: c }).loss.item();
    assert.ok(Math.abs(got - base - c * want) < 1e-4, `${readout}: ${got - base} vs ${c * want}`);
    const params = new Map(rm.namedParameters());
    rm.parameters().forEach((q) => q.zeroGrad());
    pairLoss(rm, pairs, { lmCoefficient: c }).loss.backward();
    for (const [name, i] of [['transformer.h.0.mlp.c_fc.weight', 5], ['transformer.wte.weight', 33], ['score.weight', 2]] as const) {
      const p = params.get(name)!;
      const num = centralDifference(p.data, i, 1e-2, () => pairLoss(rm, pairs, { lmCoefficient: c }).loss.item());
      assert.ok(Math.abs(num - p.grad![i]) < 2e-3 + 0.03 * Math.abs(num), `${readout} ${name}[${i}]: numeric ${num}, autograd ${p.grad![i]}`);
    }
    // evaluation reports the pairwise loss alone
    const o = new RewardModelObjective(pairs, pairs, { lmCoefficient: c });
    assert.ok(Math.abs(o.score(rm, pairs, 8).loss - base) < 1e-5);
  }
});

test('response targets cover the response tokens; a range outside the row is refused', () => {
  const idx = Int32Array.from([1, 2, 3, 4, 0, 5, 6, 7, 8, 9]);
  const { y, mask } = responseTargets(idx, 2, 5, [2, 3], [3, 4]);
  assert.deepEqual([...y], [-1, 3, 4, -1, -1, -1, -1, 8, 9, -1]);
  assert.deepEqual([...mask], [0, 1, 1, 0, 0, 0, 0, 1, 1, 0]);
  assert.throws(() => responseTargets(idx, 2, 5, [0, 3], [3, 4]), /row 0: response \[0, 3\] does not fit/);
  assert.throws(() => responseTargets(idx, 2, 5, [2, 3], [3, 5]), /row 1/);
});

test("a 'last+loglik' reward model saves its readout and loads with the same scores; an unknown readout is refused", () => {
  const { rm, tokenizer, objective } = setup(8, 'last+loglik');
  new Map(rm.namedParameters()).get('loglik.bias')!.data[0] = 0.2;
  const files = checkpointFiles(rm, tokenizer);
  assert.match(files['config.json'] as string, /"readout": "last\+loglik"/);
  const read = (fs: Record<string, unknown>) => (n: string): Uint8Array | null => (fs[n] === undefined ? null : typeof fs[n] === 'string' ? new TextEncoder().encode(fs[n] as string) : (fs[n] as Uint8Array));
  const ck = checkpointFromFiles(read(files), 'mem');
  const b = rankingBatch(objective.dev.slice(0, 3));
  assert.deepEqual([...(ck.model as RewardModel).rewards(b.x, b.rows, b.T, b.last, b.first).data], [...rm.rewards(b.x, b.rows, b.T, b.last, b.first).data]);
  const bad = { ...files, 'config.json': (files['config.json'] as string).replace('"last+loglik"', '"first"') };
  assert.throws(() => checkpointFromFiles(read(bad), 'mem'), /readout must be one of last, last\+loglik, got "first"/);
});
