// The built-in arithmetic for RL: held-out questions are never trained on (the old built-in set drew train and
// held-out prompts independently from 672 questions, so 44 of 100 "held-out" prompts were training prompts),
// and every worked solution is right, ends with the answer, and reads as the place-value steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allArithmeticQuestions, arithmeticAnswer, arithmeticPrompt, splitArithmetic, workedSolution, workedSolutionChats } from '../src/data/arithmetic.js';
import { exactMatchReward, lastNumber } from '../src/align/rewards.js';

test('the split holds questions out: no held-out question is a training question', () => {
  const s = splitArithmetic({ seed: 1, heldOut: 100 });
  assert.equal(s.dev.length, 100);
  assert.equal(s.train.length + s.dev.length, allArithmeticQuestions().length);
  const key = (q: { kind: string; a: number; b: number }): string => `${q.kind} ${q.a} ${q.b}`;
  const train = new Set(s.train.map(key));
  assert.equal(s.dev.filter((q) => train.has(key(q))).length, 0);
  assert.equal(new Set(s.dev.map((q) => arithmeticPrompt(q).prompt[0].content)).size, 100);
  assert.deepEqual(splitArithmetic({ seed: 1, heldOut: 100 }), s);
  assert.throws(() => splitArithmetic({ heldOut: 672 }), /heldOut must be an integer in \[0, 671\]/);
});

test('worked solutions: place-value steps, right, and the last number is the answer', () => {
  assert.equal(workedSolution({ kind: 'add', a: 13, b: 17 }), '3+7=10,10+10=20,20+10=30');
  assert.equal(workedSolution({ kind: 'sub', a: 17, b: 9 }), '7-9=-2,10-0=10,10-2=8');
  assert.equal(workedSolution({ kind: 'sub', a: 18, b: 5 }), '8-5=3,10-0=10,10+3=13');
  for (const q of allArithmeticQuestions()) {
    const w = workedSolution(q);
    assert.equal(lastNumber(w), String(arithmeticAnswer(q)), w);
    assert.equal(exactMatchReward(w, arithmeticPrompt(q).answer, { extract: 'last-number', wrong: 0 }), 1);
    const steps = w.split(',');
    assert.equal(steps.length, 3, w);
    for (const step of steps) {
      const m = /^(-?\d+)([+-])(\d+)=(-?\d+)$/.exec(step)!;
      assert.equal(Number(m[1]) + (m[2] === '+' ? 1 : -1) * Number(m[3]), Number(m[4]), `${w}: ${step}`);
    }
  }
  const chat = workedSolutionChats([{ kind: 'add', a: 2, b: 3 }])[0];
  assert.deepEqual(chat.messages, [{ role: 'user', content: 'What is 2 + 3?' }, { role: 'assistant', content: '2+3=5,0+0=0,0+5=5' }]);
});
