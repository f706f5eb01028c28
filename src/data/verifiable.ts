// Prompts with verifiable answers, for reinforcement learning from a checkable reward (GRPO, PPO with a rule):
// JSONL records `{"prompt": "…" | "messages": [{role, content}, …], "answer": "…", "kind"?: "…"}`, validated
// like chat data (`file:line: field: problem`, kept/skipped summary), and a built-in arithmetic set in the SFT
// world's phrasings (src/data/sft-default.ts), so a model fine-tuned there can be trained further by reward.
// Browser-safe.
import { parseJsonlRecords } from './jsonl.js';
import { Rng } from '../tensor/rng.js';
import { validateConversation, type ChatDataError, type ChatMessage } from './chat.js';

export interface VerifiablePrompt {
  /** the conversation so far, ending with the user's question */
  prompt: ChatMessage[];
  /** the reference final answer (compared by value when numeric: src/align/rewards.ts); '' for a record without one, allowed only where the reward reads no answer (a reward model) */
  answer: string;
  /** a label for per-kind reports (add, sub, mul, div, …) */
  kind?: string;
}

export interface VerifiableDataResult {
  prompts: VerifiablePrompt[];
  errors: ChatDataError[];
  summary: { kept: number; skipped: number };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface VerifiableDataOptions {
  /** a record may leave out "answer" (it becomes ''): the reward reads none (a reward model) */
  answerOptional?: boolean;
}

/** one record → a prompt, or null after reporting every problem */
export function validateVerifiableRecord(value: unknown, report: (field: string, message: string) => void, opts: VerifiableDataOptions = {}): VerifiablePrompt | null {
  if (!isObject(value)) return report('', 'a record must be a JSON object'), null;
  const hasPrompt = 'prompt' in value, hasMessages = 'messages' in value;
  let prompt: ChatMessage[] | null = null;
  if (hasPrompt === hasMessages) report(hasPrompt ? 'prompt' : '', hasPrompt ? 'give "prompt" or "messages", not both' : 'missing "prompt" (a string) or "messages"');
  else {
    const key = hasPrompt ? 'prompt' : 'messages';
    const v = value[key];
    if (typeof v === 'string' && v.trim() === '') report(key, 'is empty');
    else if (typeof v !== 'string' && !Array.isArray(v)) report(key, 'must be a string or a list of {role, content} messages');
    else {
      const msgs = typeof v === 'string' ? [{ role: 'user', content: v }] : v;
      const conv = validateConversation(msgs, false, (f, m) => report(key + (typeof v === 'string' ? '' : f), m));
      if (conv && conv.messages[conv.messages.length - 1].role !== 'user') report(key, 'must end with a user message (the question)');
      else if (conv) prompt = conv.messages;
    }
  }
  let answer: string | null = null;
  const a = value.answer;
  if (a === undefined) opts.answerOptional ? (answer = '') : report('answer', 'missing');
  else if (typeof a === 'number' && Number.isFinite(a)) answer = String(a);
  else if (typeof a === 'number') report('answer', `must be a finite number, got ${a} (beyond ±1.8e308, the largest double)`);
  else if (typeof a !== 'string' || a.trim() === '') report('answer', 'must be a non-empty string or a number');
  else answer = a.trim();
  if (value.kind !== undefined && typeof value.kind !== 'string') report('kind', 'must be a string');
  if (!prompt || answer === null || (value.kind !== undefined && typeof value.kind !== 'string')) return null;
  return { prompt, answer, ...(typeof value.kind === 'string' ? { kind: value.kind } : {}) };
}

/** Parses verifiable-prompt JSONL; malformed records are skipped and reported with file, line and field. */
export function parseVerifiableData(text: string, file = '<input>', opts: VerifiableDataOptions = {}): VerifiableDataResult {
  const r = parseJsonlRecords(text, file, (value, report) => validateVerifiableRecord(value, report, opts));
  return { prompts: r.items, errors: r.errors, summary: { kept: r.items.length, skipped: r.skipped } };
}

export type ArithmeticKind = 'add' | 'sub' | 'mul' | 'div';

const ASK: Record<ArithmeticKind, (a: number, b: number) => string> = {
  add: (a, b) => `What is ${a} + ${b}?`,
  sub: (a, b) => `What is ${a} - ${b}?`,
  mul: (a, b) => `What is ${a} * ${b}?`,
  div: (a, b) => `What is ${a} / ${b}?`,
};

export interface ArithmeticOptions {
  seed?: number;
  /** how many prompts (default 400) */
  size?: number;
  /** which operations (default add and sub, the SFT world's) */
  kinds?: readonly ArithmeticKind[];
  /** operands 0..maxOperand (default 20); subtraction keeps a ≥ b, division is exact with b ≥ 1 */
  maxOperand?: number;
}

/** The built-in arithmetic prompts: one user question each, answer the exact integer result. Seeded. */
export function defaultArithmeticPrompts(opts: ArithmeticOptions = {}): VerifiablePrompt[] {
  const rng = new Rng(opts.seed ?? 1);
  const kinds = opts.kinds ?? ['add', 'sub'];
  const M = opts.maxOperand ?? 20;
  if (!kinds.length || kinds.some((k) => !(k in ASK))) throw new Error(`arithmetic prompts: kinds must be some of add, sub, mul, div, got ${kinds.join(', ')}`);
  return Array.from({ length: opts.size ?? 400 }, () => {
    const kind = kinds[rng.int(kinds.length)];
    let a = rng.int(M + 1), b = rng.int(M + 1);
    if (kind === 'sub' && b > a) [a, b] = [b, a];
    if (kind === 'div') (b = 1 + rng.int(Math.max(1, Math.min(M, 10)))), (a = b * rng.int(M + 1));
    const value = kind === 'add' ? a + b : kind === 'sub' ? a - b : kind === 'mul' ? a * b : a / b;
    return { prompt: [{ role: 'user', content: ASK[kind](a, b) }], answer: String(value), kind };
  });
}
