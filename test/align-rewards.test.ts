// Reward functions for RL with verifiable answers: the notes' three-question example, numbers by value,
// \boxed{} and the thought/solution template, and a reward function that throws or returns NaN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answersMatch, checkedReward, exactMatchReward, extractBoxed, finalAnswer, formatReward, parseNumber } from '../src/align/rewards.js';

test("the notes' example: +1 on an exact match of the stripped answer, −1 otherwise", () => {
  const qa = [['2 + 2', '4'], ['5 * 3', '15'], ['10 / 2', '5']];
  const completions = [' 4 ', '15', 'five'];
  assert.deepEqual(qa.map(([, a], i) => exactMatchReward(completions[i], a)), [1, 1, -1]);
  assert.deepEqual(qa.map(([, a]) => exactMatchReward('I think 4', a)), [-1, -1, -1]);
});

test('numbers are compared by value', () => {
  assert.equal(parseNumber('63/400'), 0.1575);
  assert.ok(answersMatch('63/400', '0.1575'));
  assert.ok(answersMatch('1,000', '1000'));
  assert.ok(answersMatch('5.0', '5'));
  assert.ok(answersMatch('−3', '-3'));
  assert.ok(answersMatch('50%', '0.5'));
  assert.ok(!answersMatch('0.158', '63/400'));
  assert.equal(parseNumber('1/0'), null);
  assert.ok(answersMatch('Paris.', 'paris'));
});

test('\\boxed{} and the solution block give the final answer', () => {
  assert.equal(extractBoxed('so \\boxed{\\frac{1}{2}} and \\boxed{42}'), '42');
  assert.equal(extractBoxed('\\boxed{\\frac{1}{2}}'), '\\frac{1}{2}');
  const t = '<|begin_of_thought|>5 * 3 is 15<|end_of_thought|><|begin_of_solution|> 15 <|end_of_solution|>';
  assert.equal(finalAnswer(t), '15');
  assert.equal(exactMatchReward(t, '15'), 1);
  assert.equal(formatReward(t), 1);
  assert.equal(formatReward('15'), 0);
  assert.equal(formatReward(t + t), 0);
  assert.equal(formatReward('<|begin_of_solution|>1<|end_of_solution|>'), 0);
  assert.equal(exactMatchReward('The answer is \\boxed{0.1575}', '63/400'), 1);
  assert.equal(exactMatchReward('12+35=47.', '47', { extract: 'last-number', wrong: 0 }), 1);
});

test('a reward function that throws or returns NaN is one clear error', () => {
  const item = { prompt: [{ role: 'user' as const, content: 'q' }], answer: '1' };
  assert.throws(() => checkedReward(() => NaN, 'abc', item, 'r.mjs'), /r\.mjs returned NaN for completion "abc"; a reward must be a finite number/);
  assert.throws(() => checkedReward(() => { throw new Error('boom'); }, 'abc', item, 'r.mjs'), /r\.mjs threw on completion "abc": boom/);
  assert.throws(() => checkedReward((() => '1') as never, 'abc', item), /returned "1"/);
});
