// A rule-based reward for answers to the built-in Q&A set (src/data/sft-default.ts): the project's stand-in
// for human preference labels (InstructGPT §3.4 ranks completions by labeller preference; here rules rank
// them). The score adds up independent checks, so one response is preferred to another for a reason one
// can name:
//   right answer (scoreAnswer)                         +1.0   (the fact or number the question asks for)
//   in the asked format (the SFT set's answer sentence) +0.5   (`12+35=47.`, `The capital of X is Y.`, …)
//   a complete sentence (capital or digit … '.')         +0.25
//   rambling (over 3× the reference answer's length)     −0.5
// so: right + formatted > right fragment > wrong but formatted > wrong fragment > empty. Browser-safe.
import { scoreAnswer, type SftExample } from './sft-default.js';

export interface RuleRewardParts {
  correct: boolean;
  formatted: boolean;
  sentence: boolean;
  rambling: boolean;
  /** the sum of the parts' weights */
  total: number;
}

export const RULE_WEIGHTS = { correct: 1, formatted: 0.5, sentence: 0.25, rambling: -0.5 } as const;

/** the question of an example: the content of its last user turn */
export function questionOf(example: SftExample): string {
  for (let i = example.messages.length - 1; i >= 0; i--) if (example.messages[i].role === 'user') return example.messages[i].content;
  return '';
}

/** the SFT set's answer sentence for an example (its final assistant turn) */
export function referenceAnswer(example: SftExample): string {
  return example.messages[example.messages.length - 1].content;
}

/** the answer-sentence shape of each kind, with the value left open */
function formatPattern(example: SftExample): RegExp {
  switch (example.kind) {
    case 'add':
      return /^\s*-?\d+\s*\+\s*-?\d+\s*=\s*-?\d+\.\s*$/;
    case 'sub':
      return /^\s*-?\d+\s*-\s*-?\d+\s*=\s*-?\d+\.\s*$/;
    case 'colour':
      return /^\s*An? [a-z]+ is [a-z]+\.\s*$/i;
    case 'capital':
      return /^\s*The capital of [A-Za-z]+ is [A-Za-z]+\.\s*$/;
    case 'opposite':
      return /^\s*The opposite of [a-z]+ is [a-z]+\.\s*$/i;
  }
}

/** the length (characters) over which a response to `example` rambles: 3× its reference answer, at least 24 */
export function ramblingLength(example: SftExample): number {
  return 3 * Math.max(8, referenceAnswer(example).length);
}

/** The checks and their sum for one response to one example (see the header). */
export function ruleRewardParts(example: SftExample, response: string): RuleRewardParts {
  const text = response.trim();
  const correct = text.length > 0 && scoreAnswer(example, text);
  const formatted = formatPattern(example).test(text);
  const sentence = /^[A-Z0-9]/.test(text) && /\.$/.test(text) && text.length > 1;
  const rambling = text.length > ramblingLength(example);
  const W = RULE_WEIGHTS;
  const total = (correct ? W.correct : 0) + (formatted ? W.formatted : 0) + (sentence ? W.sentence : 0) + (rambling ? W.rambling : 0);
  return { correct, formatted, sentence, rambling, total };
}

/** the rule-based reward of `response` as the answer to `example` (a number in [−0.5, 1.75]) */
export function ruleReward(example: SftExample, response: string): number {
  return ruleRewardParts(example, response).total;
}

/** each check's name in comparison labels, said of the response that is better on it */
const CHECK_NAMES: [keyof Omit<RuleRewardParts, 'total'>, string][] = [['correct', 'right answer'], ['formatted', 'format'], ['sentence', 'sentence'], ['rambling', 'concise']];

/**
 * What a comparison teaches, named from the checks that differ between the chosen and the rejected
 * response: those the chosen one is better on, then (after 'over') those the rejected one is better on —
 * 'right answer', 'format + sentence', 'right answer over format + sentence', 'concise over sentence', …;
 * 'tie' when no check differs.
 */
export function comparisonLabel(example: SftExample, chosen: string, rejected: string): string {
  const a = ruleRewardParts(example, chosen), b = ruleRewardParts(example, rejected);
  const wins: string[] = [], losses: string[] = [];
  for (const [check, name] of CHECK_NAMES) {
    if (a[check] === b[check]) continue;
    const chosenBetter = check === 'rambling' ? !a[check] : a[check];
    (chosenBetter ? wins : losses).push(name);
  }
  if (!wins.length && !losses.length) return 'tie';
  return [wins.join(' + '), losses.length ? `over ${losses.join(' + ')}` : ''].filter(Boolean).join(' ');
}

/**
 * Candidate responses of graded quality for an example, drawn with `rand` (a uniform [0, 1) source): the
 * reference sentence, the bare right value, a wrong value in the asked format, a bare wrong value, a
 * rambling one (the reference repeated just past ramblingLength, so that it still fits a short context), and a
 * hedged right value as a sentence ('I think it is 47.'). The hedge comes before the
 * value so that it is a right answer for every kind: scoreAnswer reads a sum's last number but a fact's last
 * word, so a trailing hedge ('happy i think') was right for sums and wrong for facts, and ranked the same
 * kind of answer both ways. Distinct strings only; the caller ranks them by ruleReward.
 */
export function candidateResponses(example: SftExample, rand: () => number, wrongValues: readonly string[]): string[] {
  const ref = referenceAnswer(example);
  const right = example.expected;
  const others = wrongValues.filter((w) => w.toLowerCase() !== right.toLowerCase());
  const wrong = others.length ? others[Math.floor(rand() * others.length)] : right + '1';
  const swap = (s: string): string => replaceLast(s, right, wrong);
  let rambling = ref;
  while (rambling.length <= ramblingLength(example)) rambling += ` ${ref}`;
  const out = [ref, right, swap(ref), wrong, rambling, `I think it is ${right}.`];
  return [...new Set(out.map((s) => s.trim()).filter((s) => s.length > 0))];
}

function replaceLast(s: string, find: string, by: string): string {
  const i = s.toLowerCase().lastIndexOf(find.toLowerCase());
  return i < 0 ? `${s} ${by}` : s.slice(0, i) + by + s.slice(i + find.length);
}
