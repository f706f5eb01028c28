// The embedded default SFT dataset: small, plain-ASCII question/answer chats a tiny character-level model
// can learn in minutes, with a held-out split whose answers can be checked mechanically. Arithmetic is
// held out by operand pair (does the model add, or memorise?); facts of a seeded invented world are held
// out by phrasing (does it answer a question it has not seen worded that way?). Browser-safe.
import { Rng } from '../tensor/rng.js';
import type { ChatMessage } from './chat.js';

export type SftKind = 'add' | 'sub' | 'colour' | 'capital' | 'opposite';

export interface SftExample {
  kind: SftKind;
  messages: ChatMessage[];
  /** the fact the final assistant turn must state: a number as text, or one word */
  expected: string;
}

export interface SftWorld {
  /** thing → colour, e.g. blick → red */
  colours: Record<string, string>;
  /** country → capital */
  capitals: Record<string, string>;
  /** word → opposite (both directions) */
  opposites: Record<string, string>;
}

export interface SftDataset {
  world: SftWorld;
  train: SftExample[];
  heldOut: SftExample[];
}

export interface SftOptions {
  seed?: number;
  /** number of training conversations (default 3000) */
  trainSize?: number;
  /** number of held-out conversations (default 200) */
  heldOutSize?: number;
  /** operands are 0..maxOperand (default 20) */
  maxOperand?: number;
  /** share of operand pairs kept out of training (default 0.15) */
  heldOutPairShare?: number;
}

export const SYSTEM_PROMPTS = [
  'You are a helpful assistant.',
  'Answer briefly.',
  'You are a careful assistant. Give short answers.',
];

const COLOURS = ['red', 'blue', 'green', 'yellow', 'black', 'white', 'orange', 'purple'];
const OPPOSITES: [string, string][] = [
  ['hot', 'cold'], ['big', 'small'], ['up', 'down'], ['fast', 'slow'], ['light', 'dark'], ['open', 'closed'],
  ['happy', 'sad'], ['old', 'new'], ['early', 'late'], ['full', 'empty'], ['left', 'right'], ['wet', 'dry'],
];
const ONSETS = ['b', 'd', 'f', 'g', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'bl', 'tr', 'sk', 'gr'];
const VOWELS = ['a', 'e', 'i', 'o', 'u'];
const CODAS = ['', '', 'n', 'r', 's', 'k', 'l', 'x'];

type Ask = (...a: string[]) => string;
// Training phrasings first; the last phrasing of each kind is reserved for the held-out set.
const ASK: Record<SftKind, Ask[]> = {
  add: [
    (a, b) => `What is ${a} + ${b}?`,
    (a, b) => `Compute ${a} + ${b}.`,
    (a, b) => `What is ${a} plus ${b}?`,
    (a, b) => `Add ${a} and ${b}.`,
    (a, b) => `${a} + ${b} = ?`,
  ],
  sub: [
    (a, b) => `What is ${a} - ${b}?`,
    (a, b) => `Compute ${a} - ${b}.`,
    (a, b) => `What is ${a} minus ${b}?`,
    (a, b) => `Subtract ${b} from ${a}.`,
    (a, b) => `${a} - ${b} = ?`,
  ],
  colour: [
    (t) => `What colour is a ${t}?`,
    (t) => `What is the colour of a ${t}?`,
    (t) => `Tell me the colour of a ${t}.`,
    (t) => `Which colour is a ${t}?`,
  ],
  capital: [
    (c) => `What is the capital of ${c}?`,
    (c) => `Name the capital of ${c}.`,
    (c) => `Tell me the capital of ${c}.`,
    (c) => `Which city is the capital of ${c}?`,
  ],
  opposite: [
    (w) => `What is the opposite of ${w}?`,
    (w) => `Tell me the opposite of ${w}.`,
    (w) => `Give the opposite of ${w}.`,
    (w) => `Which word is the opposite of ${w}?`,
  ],
};

interface Fact {
  kind: SftKind;
  args: string[];
  answer: string;
  expected: string;
}

/** Builds the default dataset; the same seed always gives the same world, split and examples. */
export function defaultSftData(opts: SftOptions = {}): SftDataset {
  const rng = new Rng(opts.seed ?? 1);
  const trainSize = opts.trainSize ?? 3000;
  const heldOutSize = opts.heldOutSize ?? 200;
  const maxOperand = opts.maxOperand ?? 20;
  const share = opts.heldOutPairShare ?? 0.15;
  const world = makeWorld(rng);

  const arith: Fact[] = [];
  // answers use the demo pretraining corpus's own notation (12+35=47), so SFT can reuse what pretraining learnt
  for (let a = 0; a <= maxOperand; a++) {
    for (let b = 0; b <= maxOperand; b++) {
      arith.push({ kind: 'add', args: [`${a}`, `${b}`], answer: `${a}+${b}=${a + b}.`, expected: `${a + b}` });
      if (a >= b) arith.push({ kind: 'sub', args: [`${a}`, `${b}`], answer: `${a}-${b}=${a - b}.`, expected: `${a - b}` });
    }
  }
  shuffle(rng, arith);
  const nHeld = Math.max(1, Math.round(arith.length * share));
  const arithHeld = arith.slice(0, nHeld);
  const arithTrain = arith.slice(nHeld);

  const facts: Fact[] = [];
  for (const [t, c] of Object.entries(world.colours)) facts.push({ kind: 'colour', args: [t], answer: `A ${t} is ${c}.`, expected: c });
  for (const [k, c] of Object.entries(world.capitals)) facts.push({ kind: 'capital', args: [k], answer: `The capital of ${k} is ${c}.`, expected: c });
  for (const [w, o] of Object.entries(world.opposites)) facts.push({ kind: 'opposite', args: [w], answer: `The opposite of ${w} is ${o}.`, expected: o });

  // Half arithmetic, half facts, so neither skill starves the other.
  const pick = (held: boolean): Fact => {
    if (rng.random() < 0.5) return held ? arithHeld[rng.int(arithHeld.length)] : arithTrain[rng.int(arithTrain.length)];
    return facts[rng.int(facts.length)];
  };
  const phrase = (f: Fact, held: boolean): string => {
    const asks = ASK[f.kind];
    // arithmetic generalisation is tested on unseen pairs, so any phrasing may be used for it
    const isArith = f.kind === 'add' || f.kind === 'sub';
    const ask = held && !isArith ? asks[asks.length - 1] : asks[rng.int(isArith ? asks.length : asks.length - 1)];
    return ask(...f.args);
  };
  const make = (held: boolean): SftExample => {
    const messages: ChatMessage[] = [];
    const r = rng.random();
    if (r < 0.5) messages.push({ role: 'system', content: SYSTEM_PROMPTS[rng.int(SYSTEM_PROMPTS.length)] });
    // some conversations carry an earlier exchange, so the model learns to answer the latest question
    if (rng.random() < 0.25) {
      const prev = pick(false);
      messages.push({ role: 'user', content: phrase(prev, false) }, { role: 'assistant', content: prev.answer });
    }
    const f = pick(held);
    messages.push({ role: 'user', content: phrase(f, held) }, { role: 'assistant', content: f.answer });
    return { kind: f.kind, messages, expected: f.expected };
  };
  const train = Array.from({ length: trainSize }, () => make(false));
  const heldOut = Array.from({ length: heldOutSize }, () => make(true));
  return { world, train, heldOut };
}

/**
 * Bare-answer twins: `train` with, after a `share` of its conversations, the same conversation again with its
 * final answer cut to the bare value the question asks for (`47` for `12+35=47.`, `red` for `A blick is
 * red.`), so that a chat model trained on it writes and reads answers in both forms. The rule-based reward
 * (src/data/rule-reward.ts) ranks such a fragment as a right answer below the sentence; a reward model
 * fine-tuned from a chat model that only ever wrote the sentence cannot tell a right bare value from a wrong
 * one (issue #10: 88.5 % held-out pairwise accuracy from 5000 SFT steps without twins, 90.1–91.6 % with twins of
 * 30 %). Which conversations get a twin is drawn from its own generator (`seed`), so the rest of the set is
 * the same as without. Throws unless share is in [0, 1].
 */
export function withBareAnswers(train: readonly SftExample[], share: number, seed = 1): SftExample[] {
  if (!(share >= 0 && share <= 1)) throw new Error(`bare-answer share must be in [0, 1], got ${share}`);
  const rng = new Rng(seed * 7919 + 99);
  return train.flatMap((ex) => {
    if (!(rng.random() < share)) return [ex];
    return [ex, { ...ex, messages: [...ex.messages.slice(0, -1), { role: 'assistant' as const, content: ex.expected }] }];
  });
}

/** The prompt to give a model for a held-out example: everything before the final assistant turn. */
export function promptMessages(example: SftExample): ChatMessage[] {
  return example.messages.slice(0, -1);
}

/**
 * Whether `answer` states the example's fact: for arithmetic the last integer in it, for facts its last
 * word, must equal the expected value (case-insensitive). Deliberately format-tolerant: "47", "= 47." and
 * "12 + 35 = 47." all pass.
 */
export function scoreAnswer(example: SftExample, answer: string): boolean {
  if (example.kind === 'add' || example.kind === 'sub') {
    const nums = answer.match(/-?\d+/g);
    return !!nums && nums[nums.length - 1] === example.expected;
  }
  const words = answer.toLowerCase().match(/[a-z]+/g);
  return !!words && words[words.length - 1] === example.expected.toLowerCase();
}

/** Share of held-out examples answered correctly; `answers[i]` answers `examples[i]`. */
export function heldOutAccuracy(examples: readonly SftExample[], answers: readonly string[]): number {
  if (examples.length !== answers.length) throw new Error(`${answers.length} answers for ${examples.length} examples`);
  if (examples.length === 0) return 0;
  let ok = 0;
  examples.forEach((e, i) => (ok += scoreAnswer(e, answers[i]) ? 1 : 0));
  return ok / examples.length;
}

/** One JSON conversation per line, the format `parseChatData` reads. */
export function toJsonl(examples: readonly SftExample[]): string {
  return examples.map((e) => JSON.stringify({ messages: e.messages })).join('\n') + '\n';
}

function makeWorld(rng: Rng): SftWorld {
  const used = new Set<string>();
  const name = (syllables: number, suffix = ''): string => {
    for (;;) {
      let s = '';
      for (let i = 0; i < syllables; i++) s += ONSETS[rng.int(ONSETS.length)] + VOWELS[rng.int(VOWELS.length)] + CODAS[rng.int(CODAS.length)];
      s += suffix;
      if (!used.has(s) && !COLOURS.includes(s)) {
        used.add(s);
        return s;
      }
    }
  };
  const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
  const colours: Record<string, string> = {};
  for (let i = 0; i < 10; i++) colours[name(1)] = COLOURS[rng.int(COLOURS.length)];
  const capitals: Record<string, string> = {};
  for (let i = 0; i < 8; i++) capitals[cap(name(2, 'ia'))] = cap(name(2));
  const opposites: Record<string, string> = {};
  for (const [a, b] of OPPOSITES) {
    opposites[a] = b;
    opposites[b] = a;
  }
  return { colours, capitals, opposites };
}

function shuffle<T>(rng: Rng, a: T[]): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
}
