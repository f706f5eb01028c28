// The alignment losses (src/align/) against TRL 1.13 / PyTorch 2.13: scripts/fixtures/make_align_fixture.py
// wrote test/fixtures/align/losses.json — DPO through TRL's dpo_loss, the reward-model loss through
// RewardTrainer.compute_loss, GRPO through TRL's grpo_loss, PPO from TRL's PPOTrainer definitions — and we
// must agree: values within 1e-5, gradients within 1e-5 + 1e-3·|g|. Every new op also passes a
// finite-difference check. The tests never run Python.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { setBackend } from '../src/backend/backend.js';
import { JsBackend } from '../src/backend/js.js';
import { Tensor, Rng, noGrad } from '../src/tensor/index.js';
import { mul, sum, reshape, crossEntropyPerToken } from '../src/tensor/index.js';
import { gradcheck } from './helpers/gradcheck.js';
import { clamp, clampBetween, entropyFromLogits, logSigmoid, maskedMean, maxOf, minOf } from '../src/align/ops.js';
import { chunkPairs, completionMask, sequenceLogProbs, tokenLogProbs } from '../src/align/logprobs.js';
import { dpoLoss, type DPOLossType } from '../src/align/dpo.js';
import { rewardModelLoss } from '../src/align/reward.js';
import { approxKl, gae, klPenaltyRewards, maskedWhiten, ppoAdvantages, ppoPolicyLoss, ppoValueLoss } from '../src/align/ppo.js';
import { grpoAdvantages, grpoLoss, type GRPOLossType } from '../src/align/grpo.js';

setBackend(new JsBackend());
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = any;
const fx: J = JSON.parse(fs.readFileSync(new URL('../../test/fixtures/align/losses.json', import.meta.url), 'utf8'));
const f32 = (a: number[]): Float32Array => Float32Array.from(a);
const leaf = (a: number[], shape: number[] = [a.length]): Tensor => new Tensor(f32(a), shape, true);
let worst = { value: 0, grad: 0 };

function closeValue(name: string, got: number, want: number): void {
  const d = Math.abs(got - want);
  worst.value = Math.max(worst.value, d);
  assert.ok(d <= 1e-5, `${name}: got ${got}, reference ${want} (|Δ| ${d.toExponential(2)})`);
}
function closeArray(name: string, got: ArrayLike<number>, want: number[], grad = false): void {
  assert.equal(got.length, want.length, `${name}: length`);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (grad) worst.grad = Math.max(worst.grad, d);
    else worst.value = Math.max(worst.value, d);
    const tol = grad ? 1e-5 + 1e-3 * Math.abs(want[i]) : 1e-5;
    if (!(d <= tol)) assert.fail(`${name}[${i}]: got ${got[i]}, reference ${want[i]} (|Δ| ${d.toExponential(2)})`);
  }
}

test('DPO loss, rewards, accuracy, margins and gradients match TRL', () => {
  const d = fx.dpo;
  for (const c of d.cases) {
    const pc = leaf(d.policy_chosen), pr = leaf(d.policy_rejected);
    const out = dpoLoss(pc, pr, Tensor.from(d.ref_chosen), Tensor.from(d.ref_rejected), {
      beta: c.beta, labelSmoothing: c.label_smoothing, lossType: c.loss_type as DPOLossType,
    });
    const tag = `${c.loss_type} β=${c.beta} ε=${c.label_smoothing}`;
    closeValue(`${tag} loss`, out.loss.item(), c.loss);
    closeArray(`${tag} chosen rewards`, out.chosenRewards, c.chosen_rewards);
    closeArray(`${tag} rejected rewards`, out.rejectedRewards, c.rejected_rewards);
    closeValue(`${tag} accuracy`, out.rewardAccuracy, c.accuracy);
    closeValue(`${tag} margin`, out.rewardMargin, c.margin);
    out.loss.backward();
    closeArray(`${tag} dL/dπ_c`, pc.grad!, c.grad_policy_chosen, true);
    closeArray(`${tag} dL/dπ_r`, pr.grad!, c.grad_policy_rejected, true);
  }
});

test('DPO from logits: per-token NLL → completion log-probs → loss, gradient w.r.t. the logits matches TRL', () => {
  const e = fx.dpo.end_to_end;
  const B2 = 2 * e.B, T = e.T, V = e.V;
  const logits = leaf(e.logits, [B2, T, V]);
  const mask = f32(e.mask);
  const logps = sequenceLogProbs(reshape(crossEntropyPerToken(logits, e.labels), [B2, T]), mask); // (2B)
  const ref = noGrad(() => sequenceLogProbs(reshape(crossEntropyPerToken(Tensor.from(e.ref_logits, [B2, T, V]), e.labels), [B2, T]), mask));
  closeArray('sequence log-probs', logps.data, e.logps);
  const [pc, pr] = chunkPairs(logps), [rc, rr] = chunkPairs(ref);
  const out = dpoLoss(pc, pr, rc, rr, { beta: 0.1 });
  closeValue('loss', out.loss.item(), e.loss);
  out.loss.backward();
  closeArray('dL/dlogits', logits.grad!, e.grad_logits, true);
});

test('reward-model loss (margin, center_rewards_coefficient), accuracy and margin match RewardTrainer', () => {
  const r = fx.reward;
  for (const c of r.cases) {
    const a = leaf(r.chosen), b = leaf(r.rejected);
    const out = rewardModelLoss(a, b, { margin: c.margin ?? undefined, centerRewardsCoefficient: c.center_rewards_coefficient ?? undefined });
    const tag = `margin ${c.margin ? 'on' : 'off'}, center ${c.center_rewards_coefficient}`;
    closeValue(`${tag} loss`, out.loss.item(), c.loss);
    closeValue(`${tag} accuracy`, out.accuracy, c.accuracy);
    closeValue(`${tag} margin`, out.margin, c.mean_margin);
    out.loss.backward();
    closeArray(`${tag} dL/dr_c`, a.grad!, c.grad_chosen, true);
    closeArray(`${tag} dL/dr_r`, b.grad!, c.grad_rejected, true);
  }
});

test('PPO: GAE, whitening, returns, KL-penalty rewards match TRL\'s PPOTrainer', () => {
  const p = fx.ppo;
  const mask = f32(p.mask);
  const raw = gae(p.rewards, p.values, mask, p.B, p.T, p.gamma, p.lam);
  closeArray('GAE advantages', raw.advantages, p.advantages_raw);
  closeArray('returns', raw.returns, p.returns);
  const { advantages, returns } = ppoAdvantages(p.rewards, p.values, mask, p.B, p.T, { gamma: p.gamma, lam: p.lam });
  closeArray('whitened advantages', advantages, p.advantages);
  closeArray('returns (ppoAdvantages)', returns, p.returns);
  closeArray('masked_whiten shift_mean=False', maskedWhiten(p.advantages_raw, mask, false), p.whiten_no_shift);
  for (const est of ['k1', 'k3'] as const) {
    const r = klPenaltyRewards(p.old_logp, p.ref_logp, p.scores, mask, p.B, p.T, { klCoef: p.kl_coef, estimator: est });
    closeArray(`rewards ${est}`, r, p.kl_rewards[est]);
  }
});

test('PPO: clipped policy and value losses, clip fractions, approx KL and entropy match TRL', () => {
  const p = fx.ppo;
  const mask = f32(p.mask);
  const logp = leaf(p.new_logp, [p.B, p.T]);
  const pg = ppoPolicyLoss(logp, p.old_logp, p.advantages, mask, p.cliprange);
  closeValue('policy loss', pg.loss.item(), p.pg_loss);
  closeValue('policy clip fraction', pg.clipFraction, p.pg_clipfrac);
  closeValue('approx KL (masked)', pg.approxKl, p.approxkl_masked);
  closeValue('approx KL (all)', approxKl(p.new_logp, p.old_logp), p.approxkl_all);
  pg.loss.backward();
  closeArray('dL/dlogp', logp.grad!, p.pg_grad, true);
  const v = leaf(p.vpred, [p.B, p.T]);
  const vf = ppoValueLoss(v, p.values, p.returns, mask, p.cliprange_value);
  closeValue('value loss', vf.loss.item(), p.vf_loss);
  closeValue('value clip fraction', vf.clipFraction, p.vf_clipfrac);
  vf.loss.backward();
  closeArray('dL/dV', v.grad!, p.vf_grad, true);
  const logits = leaf(p.logits, [p.B, p.T, p.V]);
  const H = entropyFromLogits(logits);
  closeArray('entropy', H.data, p.entropy);
  sum(mul(H, Tensor.from(p.entropy_R, [p.B, p.T]))).backward();
  closeArray('dH/dlogits', logits.grad!, p.entropy_grad, true);
});

test('GRPO: group-normalised advantages and the clipped k3-KL loss (grpo, bnpo, dr_grpo, dapo) match TRL', () => {
  const g = fx.grpo;
  for (const s of ['group', 'batch', 'none'] as const) closeArray(`advantages ${s}`, grpoAdvantages(g.rewards, g.G, s), g.advantages[s]);
  for (const c of g.cases) {
    const logp = leaf(g.logp, [g.B, g.T]);
    const out = grpoLoss(logp, {
      advantages: g.adv_for_loss, mask: f32(g.mask), oldLogp: g.old_logp, refLogp: g.ref_logp, beta: c.beta,
      epsilon: g.epsilon, epsilonHigh: g.epsilon_high, lossType: c.loss_type as GRPOLossType, maxCompletionLength: g.max_completion_length,
      numItemsInBatch: c.num_items_in_batch ?? undefined,
    });
    const tag = `${c.loss_type} β=${c.beta} n=${c.num_items_in_batch}`;
    closeValue(`${tag} loss`, out.loss.item(), c.loss);
    closeValue(`${tag} kl`, out.kl, c.kl);
    closeValue(`${tag} clip ratio`, out.clipRatio, c.clip_ratio);
    out.loss.backward();
    closeArray(`${tag} dL/dlogp`, logp.grad!, c.grad, true);
  }
});

test('finite differences: every new op and loss', () => {
  const rng = new Rng(3);
  const r = (...s: number[]): Tensor => Tensor.randn(s, rng);
  const away = (lo: number, hi: number, ...s: number[]): Tensor => {
    const t = r(...s); // values kept 0.05 away from the kinks lo and hi
    for (let i = 0; i < t.size; i++) {
      const v = t.data[i];
      if (Math.abs(v - lo) < 0.05) t.data[i] = lo - 0.1;
      if (Math.abs(v - hi) < 0.05) t.data[i] = hi + 0.1;
    }
    return t;
  };
  gradcheck('logSigmoid', logSigmoid, [Tensor.from([-30, -3, -0.5, 0.2, 4, 25], [6])]);
  gradcheck('clamp', (x) => clamp(x, -0.5, 0.7), [away(-0.5, 0.7, 3, 4)]);
  const lo = f32([-1, -0.2, 0.3, 0.5, -2, 0]), hi = lo.map((v) => v + 0.6);
  gradcheck('clampBetween', (x) => clampBetween(x, lo, hi), [Tensor.from([-1.5, 0.1, 0.5, 2, -1.9, 0.55], [6])]);
  const a = r(2, 5), b = r(2, 5);
  for (let i = 0; i < a.size; i++) if (Math.abs(a.data[i] - b.data[i]) < 0.1) a.data[i] += 0.3;
  gradcheck('maxOf', maxOf, [a, b]);
  gradcheck('minOf', minOf, [a, b]);
  const mask = f32([1, 1, 0, 1, 0, 1, 1, 1, 0, 0]);
  gradcheck('maskedMean', (x) => maskedMean(x, mask), [r(2, 5)]);
  gradcheck('entropyFromLogits', entropyFromLogits, [r(2, 3, 4)]);
  gradcheck('sequenceLogProbs sum', (x) => sequenceLogProbs(x, mask), [r(2, 5)]);
  gradcheck('sequenceLogProbs mean', (x) => sequenceLogProbs(x, mask, 'mean'), [r(2, 5)]);
  gradcheck('tokenLogProbs', (x) => tokenLogProbs(x, mask), [r(2, 5)]);
  gradcheck('chunkPairs', (x) => { const [c, j] = chunkPairs(x); return mul(c, j); }, [r(6)]);
  const ref = [r(4), r(4)];
  for (const lossType of ['sigmoid', 'robust', 'hinge'] as const) {
    gradcheck(`dpo ${lossType}`, (c, j) => dpoLoss(c, j, ref[0], ref[1], { beta: 0.3, labelSmoothing: 0.1, lossType }).losses, [r(4), r(4)]);
  }
  gradcheck('reward loss', (c, j) => rewardModelLoss(c, j, { margin: [0.1, 0.5, 0, 1], centerRewardsCoefficient: 0.1 }).loss, [r(4), r(4)]);
  const old = Float32Array.from(r(2, 5).data), adv = Float32Array.from(r(2, 5).data);
  const nearOld = (): Tensor => {
    const t = new Tensor(old.map((v, i) => v + [0.5, -0.4, 0.05, -0.05, 0.3][i % 5]), [2, 5]); // ratios away from 1 ± 0.2
    return t;
  };
  gradcheck('ppo policy loss', (x) => ppoPolicyLoss(x, old, adv, mask, 0.2).loss, [nearOld()]);
  gradcheck('ppo value loss', (x) => ppoValueLoss(x, old, adv, mask, 0.2).loss, [nearOld()]);
  for (const lossType of ['grpo', 'bnpo', 'dr_grpo', 'dapo'] as const) {
    gradcheck(`grpo ${lossType}`, (x) => grpoLoss(x, { advantages: [0.5, -1], mask, oldLogp: old, refLogp: adv, beta: 0.1, lossType }).loss, [nearOld()]);
  }
});

test('bad input gives one-line errors naming the field', () => {
  const t = Tensor.from([1, 2]);
  assert.throws(() => dpoLoss(t, Tensor.from([1]), t, t), /dpoLoss: policyRejected must be \(B\)/);
  assert.throws(() => dpoLoss(t, t, t, t, { labelSmoothing: 0.5 }), /labelSmoothing/);
  assert.throws(() => rewardModelLoss(t, t, { margin: [1] }), /rewardModelLoss: margin/);
  assert.throws(() => grpoAdvantages([1, 2, 3], 2), /not whole groups of 2/);
  assert.throws(() => grpoLoss(Tensor.from([[0, 0]]), { advantages: [1], mask: f32([1, 1]), beta: 0.1 }), /refLogp is required/);
  assert.throws(() => gae([1], [1, 2], [1], 1, 1), /gae: values has 2 elements, expected 1/);
  assert.throws(() => maskedWhiten([1, 2], [1, 0]), /at least 2 masked/);
  assert.throws(() => ppoPolicyLoss(Tensor.from([[0, 0]]), [0], [0, 0], f32([1, 1])), /ppoPolicyLoss: oldLogp/);
  assert.throws(() => completionMask([3], [2], 4), /promptLengths\[0\] = 3/);
  assert.deepEqual(Array.from(completionMask([2, 1], [5, 3], 4)), [0, 1, 1, 1, 1, 1, 0, 0]);
});

test('worst differences (for the report)', () => {
  console.log(`align losses vs TRL: max |Δ| values ${worst.value.toExponential(2)}, gradients ${worst.grad.toExponential(2)}`);
});
