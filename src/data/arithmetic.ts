// The built-in arithmetic for reinforcement learning with a verifiable reward (`gptlab grpo` without --data):
// every question "What is a + b?" and "What is a - b?" (a ≥ b) with operands 0..maxOperand, split by
// question into a training set and a held-out set that share no question, and a worked solution in the
// place-value steps a small character-level model can carry out one at a time (the "cold start" SFT data
// that DeepSeek-R1 gives a model before RL, so some of its samples are right and the reward has something to
// select). For 17 - 9 the solution is `7-9=-2,10-0=10,10-2=8`: ones, tens, and their sum, which is the
// answer and the last number (the last-number reward reads it). It is written compactly (no spaces, no
// restatement of the question: 25 characters for 13 + 17 instead of 41), because every character is a token
// that RL samples and back-propagates through; held-out accuracy after the cold start is the same (33 % vs
// 31 % measured at 200 steps). Browser-safe.
import { Rng } from '../tensor/rng.js';
import type { ChatMessage } from './chat.js';
import type { VerifiablePrompt } from './verifiable.js';

export interface ArithmeticQuestion {
  kind: 'add' | 'sub';
  a: number;
  b: number;
}

export interface ArithmeticSplit {
  train: ArithmeticQuestion[];
  /** held out: no question here is in train */
  dev: ArithmeticQuestion[];
}

/** every add question and every sub question with a ≥ b, operands 0..maxOperand, in a fixed order */
export function allArithmeticQuestions(maxOperand = 20): ArithmeticQuestion[] {
  if (!(Number.isInteger(maxOperand) && maxOperand >= 1)) throw new Error(`arithmetic: maxOperand must be an integer ≥ 1, got ${maxOperand}`);
  const out: ArithmeticQuestion[] = [];
  for (let a = 0; a <= maxOperand; a++) {
    for (let b = 0; b <= maxOperand; b++) {
      out.push({ kind: 'add', a, b });
      if (a >= b) out.push({ kind: 'sub', a, b });
    }
  }
  return out;
}

/**
 * The questions shuffled with `seed`, the first `heldOut` held out and the rest for training: disjoint by
 * question, so held-out accuracy measures answers to questions training never asked. Throws when heldOut
 * leaves no training question.
 */
export function splitArithmetic(o: { seed?: number; heldOut?: number; maxOperand?: number } = {}): ArithmeticSplit {
  const all = allArithmeticQuestions(o.maxOperand ?? 20);
  const n = o.heldOut ?? 100;
  if (!(Number.isInteger(n) && n >= 0 && n < all.length)) throw new Error(`arithmetic: heldOut must be an integer in [0, ${all.length - 1}], got ${n}`);
  const rng = new Rng(o.seed ?? 1);
  for (let i = all.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [all[i], all[j]] = [all[j], all[i]];
  }
  return { dev: all.slice(0, n), train: all.slice(n) };
}

/** the value of a question */
export function arithmeticAnswer(q: ArithmeticQuestion): number {
  return q.kind === 'add' ? q.a + q.b : q.a - q.b;
}

/** as a verifiable prompt: one user turn in the SFT world's phrasing, the integer answer, kind add or sub */
export function arithmeticPrompt(q: ArithmeticQuestion): VerifiablePrompt {
  const op = q.kind === 'add' ? '+' : '-';
  return { prompt: [{ role: 'user', content: `What is ${q.a} ${op} ${q.b}?` }], answer: String(arithmeticAnswer(q)), kind: q.kind };
}

/**
 * The worked solution by place value: ones digits combined, tens combined, and the two partial results added,
 * which is the answer — `3+7=10,10+10=20,20+10=30` for 13 + 17; `7-9=-2,10-0=10,10-2=8` for 17 - 9 (a negative
 * ones result is added as a subtraction).
 */
export function workedSolution(q: ArithmeticQuestion): string {
  const op = q.kind === 'add' ? '+' : '-';
  const ones = q.kind === 'add' ? (q.a % 10) + (q.b % 10) : (q.a % 10) - (q.b % 10);
  const ta = q.a - (q.a % 10), tb = q.b - (q.b % 10);
  const tens = q.kind === 'add' ? ta + tb : ta - tb;
  const last = ones < 0 ? `${tens}-${-ones}` : `${tens}+${ones}`;
  return `${q.a % 10}${op}${q.b % 10}=${ones},${ta}${op}${tb}=${tens},${last}=${tens + ones}`;
}

/** SFT conversations: each question's prompt and its worked solution as the assistant's reply */
export function workedSolutionChats(qs: readonly ArithmeticQuestion[]): { messages: ChatMessage[] }[] {
  return qs.map((q) => ({ messages: [...arithmeticPrompt(q).prompt, { role: 'assistant', content: workedSolution(q) }] }));
}
