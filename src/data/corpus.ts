// Small corpora the project writes itself, so `gptlab train --demo`, the web lab and the examples need no
// download and no licence check. Everything is a pure function of a seed.
//
// The language corpus is generated from a tiny grammar: a closed vocabulary of a few hundred words arranged
// by a dozen sentence templates (narration, questions, quoted dialogue). That is the sweet spot for a tiny
// char-level GPT: after a minute or two of CPU training it spells the words right, capitalises sentence starts,
// closes quotes and ends sentences with punctuation — visible progress — while the text is still varied enough
// that it cannot simply memorise it.

import { Rng } from '../tensor/rng.js';

export type ArithmeticOp = '+' | '-' | '*';

export interface ArithmeticCorpusOptions {
  /** number of lines */
  lines: number;
  /** operands are drawn uniformly from 0..maxOperand (inclusive) */
  maxOperand: number;
  /** default ['+'] */
  ops?: ArithmeticOp[];
  seed: number;
}

/**
 * Lines like `12+35=47\n`, `7-19=-12\n`, `6*8=48\n`. Useful for watching a model learn an algorithm: the
 * fraction of correct answers is an exact metric.
 */
export function arithmeticCorpus(opts: ArithmeticCorpusOptions): string {
  const { lines, maxOperand, seed } = opts;
  const ops = opts.ops ?? ['+'];
  if (!Number.isInteger(lines) || lines < 0) throw new Error(`arithmeticCorpus: lines must be a non-negative integer, got ${lines}`);
  if (!Number.isInteger(maxOperand) || maxOperand < 0) {
    throw new Error(`arithmeticCorpus: maxOperand must be a non-negative integer, got ${maxOperand}`);
  }
  if (ops.length === 0) throw new Error('arithmeticCorpus: ops must list at least one of "+", "-", "*"');
  for (const op of ops) {
    if (op !== '+' && op !== '-' && op !== '*') throw new Error(`arithmeticCorpus: unknown op ${JSON.stringify(op)} (use "+", "-" or "*")`);
  }
  const rng = new Rng(seed);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const a = rng.int(maxOperand + 1);
    const b = rng.int(maxOperand + 1);
    const op = ops[rng.int(ops.length)];
    const r = op === '+' ? a + b : op === '-' ? a - b : a * b;
    out.push(`${a}${op}${b}=${r}\n`);
  }
  return out.join('');
}

// ---- the grammar -------------------------------------------------------------------------------------------

const NAMES = ['Anna', 'Ben', 'Clara', 'David', 'Emma', 'Felix', 'Grace', 'Henry', 'Iris', 'Jack', 'Lucy', 'Max', 'Nora', 'Oscar', 'Rosa', 'Sam', 'Tom', 'Vera'];
const ANIMATE = ['cat', 'dog', 'bird', 'fox', 'horse', 'farmer', 'teacher', 'child', 'king', 'queen', 'sailor', 'baker', 'doctor', 'rabbit', 'wolf', 'girl', 'boy', 'old man', 'young woman', 'soldier'];
const THINGS = ['book', 'apple', 'letter', 'box', 'lamp', 'ball', 'key', 'basket', 'coat', 'boat', 'cup', 'map', 'song', 'story', 'stone', 'flower', 'bell', 'candle', 'window', 'door', 'bread', 'ring'];
const ADJECTIVES = ['little', 'big', 'old', 'young', 'red', 'green', 'blue', 'quiet', 'happy', 'sad', 'brave', 'clever', 'tired', 'small', 'bright', 'dark', 'warm', 'cold', 'strange', 'gentle', 'heavy', 'golden'];
const PLACES = ['in the garden', 'by the river', 'in the kitchen', 'on the hill', 'near the old bridge', 'at the market', 'in the forest', 'under the tree', 'on the road', 'at the school', 'by the sea', 'in the village', 'behind the house', 'on the ship'];
const PLACE_NOUNS = ['garden', 'river', 'market', 'forest', 'village', 'school', 'castle', 'harbour', 'mountain', 'library', 'farm', 'station'];
const TIMES = ['in the morning', 'at night', 'yesterday', 'after dinner', 'before the rain', 'every day', 'on Sunday', 'last winter', 'at noon', 'one evening', 'long ago', 'in the spring'];
// past tense transitive verbs (past tense avoids subject–verb agreement, which a tiny model would only half learn)
const VERBS_T = ['found', 'carried', 'saw', 'lost', 'opened', 'painted', 'bought', 'took', 'wanted', 'held', 'dropped', 'kept', 'washed', 'liked', 'gave away', 'looked at', 'picked up', 'forgot'];
const VERBS_I = ['slept', 'sang', 'laughed', 'waited', 'ran home', 'danced', 'smiled', 'cried', 'walked slowly', 'sat down', 'stayed quiet', 'fell asleep', 'worked hard', 'listened'];
const FEELINGS = ['happy', 'tired', 'hungry', 'afraid', 'sure', 'glad', 'sorry', 'ready', 'lost', 'cold'];
const GREETINGS = ['Hello', 'Good morning', 'Good evening', 'Listen', 'Look', 'Oh', 'Wait', 'Come here'];
const SPEECH = ['said', 'asked', 'replied', 'whispered', 'shouted', 'answered'];
const CONNECT = ['and then', 'but', 'so', 'because'];

type Pick = <T>(xs: readonly T[]) => T;

function np(pick: Pick, rng: Rng): string {
  // noun phrase: 'the cat', 'a little fox', 'Anna'
  const r = rng.random();
  if (r < 0.25) return pick(NAMES);
  const noun = pick(ANIMATE);
  if (r < 0.6) return `the ${noun}`;
  const adj = pick(ADJECTIVES);
  return rng.random() < 0.5 ? `the ${adj} ${noun}` : `${article(adj)} ${adj} ${noun}`;
}

function thing(pick: Pick, rng: Rng): string {
  const t = pick(THINGS);
  if (rng.random() < 0.5) return `the ${t}`;
  const adj = pick(ADJECTIVES);
  return `${article(adj)} ${adj} ${t}`;
}

/** a name different from `a` (nobody talks to themselves or walks with themselves) */
function otherName(a: string, rng: Rng): string {
  const i = NAMES.indexOf(a);
  return NAMES[(i + 1 + rng.int(NAMES.length - 1)) % NAMES.length];
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function sentence(pick: Pick, rng: Rng): string {
  switch (rng.int(12)) {
    case 0:
    case 1:
      return `${cap(np(pick, rng))} ${pick(VERBS_T)} ${thing(pick, rng)} ${pick(PLACES)}.`;
    case 2:
      return `${cap(pick(TIMES))}, ${np(pick, rng)} ${pick(VERBS_I)} ${pick(PLACES)}.`;
    case 3:
      return `${cap(np(pick, rng))} ${pick(VERBS_I)}, ${pick(CONNECT)} ${np(pick, rng)} ${pick(VERBS_T)} ${thing(pick, rng)}.`;
    case 4:
      return `${cap(np(pick, rng))} was ${pick(FEELINGS)} ${pick(TIMES)}.`;
    case 5:
      return `Where is ${thing(pick, rng)}?`;
    case 6: {
      const a = pick(NAMES);
      const speaker = np(pick, rng);
      return `"${pick(GREETINGS)}, ${a}," ${pick(SPEECH)} ${speaker === a ? otherName(a, rng) : speaker}. "I am ${pick(FEELINGS)}."`;
    }
    case 7:
      return `"Did you see ${thing(pick, rng)}?" ${pick(SPEECH)} ${pick(NAMES)}. "Yes, it was ${pick(PLACES)}."`;
    case 8: {
      const a = pick(NAMES);
      return `${a} and ${otherName(a, rng)} went to the ${pick(PLACE_NOUNS)} ${pick(TIMES)}.`;
    }
    case 9: {
      const adj = pick(ADJECTIVES);
      return `There was ${article(adj)} ${adj} ${pick(ANIMATE)} who lived ${pick(PLACES)}.`;
    }
    case 10:
      return `"I think ${thing(pick, rng)} is ${pick(ADJECTIVES)}," ${pick(SPEECH)} ${np(pick, rng)}.`;
    default:
      return `${cap(np(pick, rng))} ${pick(VERBS_T)} ${thing(pick, rng)} and ${pick(VERBS_I)}.`;
  }
}

export interface LanguageCorpusOptions {
  /** number of sentences */
  sentences: number;
  seed: number;
}

/**
 * English-like text from the grammar above: sentences grouped into short paragraphs separated by blank lines.
 * About 55 characters per sentence on average.
 */
export function languageCorpus(opts: LanguageCorpusOptions): string {
  const { sentences, seed } = opts;
  if (!Number.isInteger(sentences) || sentences < 0) {
    throw new Error(`languageCorpus: sentences must be a non-negative integer, got ${sentences}`);
  }
  const rng = new Rng(seed);
  const pick: Pick = (xs) => xs[rng.int(xs.length)];
  const paras: string[] = [];
  let para: string[] = [];
  let paraLen = 2 + rng.int(5);
  for (let i = 0; i < sentences; i++) {
    const s = sentence(pick, rng);
    // dialogue goes on its own line, as in a novel; narration runs on within the paragraph
    if (s.startsWith('"') && para.length > 0) {
      paras.push(para.join(' '));
      para = [];
    }
    para.push(s);
    if (para.length >= paraLen || s.startsWith('"')) {
      paras.push(para.join(' '));
      para = [];
      paraLen = 2 + rng.int(5);
    }
  }
  if (para.length > 0) paras.push(para.join(' '));
  return paras.length === 0 ? '' : paras.join('\n\n') + '\n';
}

/**
 * The default data of `gptlab train --demo`: about 300 kB, roughly 85% language text and 15% blocks of two-digit
 * sums and differences, interleaved (every fourth block is arithmetic) so that every part of the file, and so
 * the train and dev splits, contain both.
 */
export function demoCorpus(seed = 1337): string {
  const rng = new Rng(seed);
  const parts: string[] = [];
  let size = 0;
  let block = 0;
  while (size < 300_000) {
    const s = (rng.nextU32() >>> 1) ^ block;
    const text =
      block % 4 === 3
        ? arithmeticCorpus({ lines: 120 + rng.int(120), maxOperand: 99, ops: ['+', '-'], seed: s })
        : languageCorpus({ sentences: 40 + rng.int(40), seed: s });
    parts.push(text);
    size += text.length;
    block++;
  }
  return parts.join('\n');
}

/** one line for the README / `--help` */
export function describeCorpus(): string {
  return (
    'demo corpus: ~300 kB generated from a seed — English-like sentences from a small grammar ' +
    `(${NAMES.length} names, ${ANIMATE.length + THINGS.length} nouns, ${VERBS_T.length + VERBS_I.length} verbs, narration and quoted dialogue) ` +
    'interleaved with blocks of two-digit sums and differences like "12+35=47"'
  );
}
