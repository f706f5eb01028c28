// Preference data for reward models and DPO (TRL's preference format): JSONL records of
//   {"prompt": "…" | "messages": [{role, content}, …], "chosen": "…", "rejected": "…"}      one comparison
//   {"prompt": "…" | "messages": [...], "responses": ["best", …, "worst"]}                  a ranking
// A ranking of K responses becomes its K(K−1)/2 comparisons (InstructGPT §3.5 trains on every pair of a
// ranking). `chosen`/`rejected` may also be TRL's conversational form, a list holding one assistant message.
// Records are validated like chat data: each problem is `file:line: field: problem`, bad records are skipped
// and counted. Also the built-in preference set: questions of the SFT world (src/data/sft-default.ts) with
// candidate answers ranked by the rule-based reward (src/data/rule-reward.ts), held out by question
// (defaultPreferenceData). Browser-safe.
import { Rng } from '../tensor/rng.js';
import { parseJsonlRecords } from './jsonl.js';
import { formatChatDataError, SPECIAL_TOKENS, validateConversation, type ChatDataError, type ChatMessage } from './chat.js';
import { defaultSftData, promptMessages, type SftExample } from './sft-default.js';
import { candidateResponses, comparisonLabel, referenceAnswer, ruleReward } from './rule-reward.js';

/** one comparison: two responses to the same prompt, the first preferred */
export interface PreferencePair {
  /** the conversation so far; the response is the assistant's next turn */
  prompt: ChatMessage[];
  chosen: string;
  rejected: string;
  /** built-in set: the question's kind (add, sub, colour, …) */
  kind?: string;
  /** built-in set: what the comparison teaches ('right answer', 'format + sentence', …; comparisonLabel) */
  comparison?: string;
}

export interface PreferenceDataResult {
  pairs: PreferencePair[];
  errors: ChatDataError[];
  /** records kept and skipped (a kept ranking counts once however many pairs it gives) */
  summary: { kept: number; skipped: number; pairs: number };
}

export { formatChatDataError as formatPreferenceError };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** a response field: a non-empty string, or TRL's [{"role": "assistant", "content": "…"}]; null after reporting */
function responseText(v: unknown, field: string, report: (f: string, m: string) => void): string | null {
  let text: unknown = v;
  if (Array.isArray(v)) {
    if (v.length !== 1 || !isObject(v[0]) || v[0].role !== 'assistant') {
      report(field, 'a conversational response must be a list of exactly one {"role": "assistant", "content"} message');
      return null;
    }
    text = v[0].content;
  }
  if (typeof text !== 'string') {
    report(field, `must be a string, got ${text === null ? 'null' : typeof text}`);
    return null;
  }
  if (text.trim() === '') {
    report(field, 'is empty');
    return null;
  }
  const special = SPECIAL_TOKENS.find((s) => text.includes(s as string));
  if (special) {
    report(field, `contains the special token ${special}, which would break the chat template`);
    return null;
  }
  return text;
}

/**
 * The prompt of a record: "prompt" (a string, or a message list) or "messages" (a message list); null after
 * reporting the field and its problem (`report('messages', 'must be a list …')`).
 */
export function promptOf(rec: Record<string, unknown>, report: (f: string, m: string) => void): ChatMessage[] | null {
  const hasPrompt = 'prompt' in rec, hasMessages = 'messages' in rec;
  if (hasPrompt === hasMessages) {
    report(hasPrompt ? 'prompt' : '', hasPrompt ? 'give "prompt" or "messages", not both' : 'missing "prompt" (a string) or "messages" (a list of {role, content})');
    return null;
  }
  const key = hasPrompt ? 'prompt' : 'messages';
  const v = rec[key];
  if (typeof v === 'string' && key === 'messages') return report(key, 'must be a list of {role, content} messages (a plain string goes in "prompt")'), null;
  if (typeof v === 'string') {
    if (v.trim() === '') return report(key, 'is empty'), null;
    const conv = validateConversation([{ role: 'user', content: v }], false, (f, m) => report(key + f.replace(/^\[0\]\.content/, ''), m));
    return conv?.messages ?? null;
  }
  if (!Array.isArray(v)) return report(key, 'must be a string or a list of {role, content} messages'), null;
  const conv = validateConversation(v, false, (f, m) => report(key + f, m));
  if (!conv) return null;
  if (conv.messages[conv.messages.length - 1].role !== 'user') return report(key, 'must end with a user message (the response answers it)'), null;
  return conv.messages;
}

/** one record → its comparisons, or null after reporting every problem */
export function validatePreferenceRecord(value: unknown, report: (field: string, message: string) => void): PreferencePair[] | null {
  if (!isObject(value)) return report('', 'a record must be a JSON object'), null;
  const prompt = promptOf(value, report);
  const ranked = 'responses' in value;
  if (ranked && ('chosen' in value || 'rejected' in value)) return report('responses', 'give "chosen"/"rejected" or "responses", not both'), null;
  let responses: (string | null)[];
  if (ranked) {
    const rs = value.responses;
    if (!Array.isArray(rs) || rs.length < 2) return report('responses', 'must be a list of at least 2 responses, best first'), null;
    responses = rs.map((r, i) => responseText(r, `responses[${i}]`, report));
  } else {
    if (!('chosen' in value)) report('chosen', 'missing');
    if (!('rejected' in value)) report('rejected', 'missing');
    if (!('chosen' in value) || !('rejected' in value)) return null;
    responses = [responseText(value.chosen, 'chosen', report), responseText(value.rejected, 'rejected', report)];
  }
  if (!prompt || responses.some((r) => r === null)) return null;
  const rs = responses as string[];
  const dup = rs.findIndex((r, i) => rs.indexOf(r) !== i);
  if (dup >= 0) return report(ranked ? `responses[${dup}]` : 'rejected', 'repeats an earlier response: a comparison needs two different responses'), null;
  const pairs: PreferencePair[] = [];
  for (let i = 0; i < rs.length; i++) for (let j = i + 1; j < rs.length; j++) pairs.push({ prompt, chosen: rs[i], rejected: rs[j] });
  return pairs;
}

/** Parses preference JSONL (one record per line, blank lines ignored); malformed records are skipped and reported. */
export function parsePreferenceData(text: string, file = '<input>'): PreferenceDataResult {
  const r = parseJsonlRecords(text, file, (value, report) => validatePreferenceRecord(value, report));
  const pairs = r.items.flat();
  return { pairs, errors: r.errors, summary: { kept: r.items.length, skipped: r.skipped, pairs: pairs.length } };
}

/** One JSON comparison per line, the format parsePreferenceData reads (a string prompt for one user turn). */
export function preferenceToJsonl(pairs: readonly PreferencePair[]): string {
  return pairs.map((p) => JSON.stringify(p.prompt.length === 1 ? { prompt: p.prompt[0].content, chosen: p.chosen, rejected: p.rejected } : { messages: p.prompt, chosen: p.chosen, rejected: p.rejected })).join('\n') + '\n';
}

export interface DefaultPreferenceOptions {
  seed?: number;
  /** questions drawn from the SFT training split (default 1500); those of the held-out sums go to dev */
  trainSize?: number;
  /** size of the SFT held-out split (default 150): its fact questions (unseen phrasings) are the held-out facts, and as many held-out sum questions are drawn (see defaultPreferenceData) */
  heldOutSize?: number;
  /** training comparisons per question (default all: up to 15 of its 6 candidates, ties left out); held-out questions give one each */
  pairsPerQuestion?: number;
}

/** wrong values of the same kind for an example: nearby numbers, or the world's other answers of the kind */
function wrongValuesFor(ex: SftExample, byKind: Map<string, string[]>): string[] {
  if (ex.kind === 'add' || ex.kind === 'sub') {
    const v = Number(ex.expected);
    return [v + 1, v - 1, v + 2, v + 10, v - 10].filter((n) => n >= 0).map(String);
  }
  return byKind.get(ex.kind) ?? [];
}

/** comparisons for one question: random pairs of candidates with different rule rewards, the higher chosen */
function questionPairs(ex: SftExample, rng: Rng, byKind: Map<string, string[]>, n: number): PreferencePair[] {
  const cands = candidateResponses(ex, () => rng.random(), wrongValuesFor(ex, byKind));
  const scored = cands.map((c) => ({ c, r: ruleReward(ex, c) })).sort((a, b) => b.r - a.r);
  const all: [number, number][] = [];
  for (let i = 0; i < scored.length; i++) for (let j = i + 1; j < scored.length; j++) if (scored[i].r > scored[j].r) all.push([i, j]);
  const out: PreferencePair[] = [];
  for (let k = 0; k < n && all.length; k++) {
    const [i, j] = all.splice(rng.int(all.length), 1)[0];
    out.push({ prompt: promptMessages(ex), chosen: scored[i].c, rejected: scored[j].c, kind: ex.kind, comparison: comparisonLabel(ex, scored[i].c, scored[j].c) });
  }
  return out;
}

const isArithmetic = (ex: SftExample): boolean => ex.kind === 'add' || ex.kind === 'sub';

/**
 * The sums and differences (keyed by their answer sentence, '8+5=13.') held out of reward-model training:
 * operand pairs the SFT set teaches, drawn in random order until their questions in `train` number at least
 * `count`. Every pair is one the SFT model was trained on, so its answer is knowledge the backbone can have.
 */
export function heldOutSums(train: readonly SftExample[], count: number, rng: Rng): Set<string> {
  const questions = new Map<string, number>();
  for (const ex of train) if (isArithmetic(ex)) questions.set(referenceAnswer(ex), (questions.get(referenceAnswer(ex)) ?? 0) + 1);
  const keys = [...questions.keys()];
  const held = new Set<string>();
  for (let n = 0; n < count && keys.length; ) {
    const k = keys.splice(rng.int(keys.length), 1)[0];
    held.add(k);
    n += questions.get(k)!;
  }
  return held;
}

/**
 * The built-in preference set, generated from the SFT world's own facts, with comparisons ranked by the
 * rule-based reward. Held out: the fact questions of the SFT held-out split (facts the SFT set teaches, asked
 * in a phrasing it never uses), and the questions of some sums and differences the SFT set teaches (operand
 * pairs no training pair asks about). The SFT held-out sums (operand pairs SFT never saw) are not used: which
 * of two answers to an unseen sum is right is beyond what a reward model can take from its backbone.
 * The same seed gives the same set.
 */
export function defaultPreferenceData(opts: DefaultPreferenceOptions = {}): { train: PreferencePair[]; dev: PreferencePair[] } {
  const sft = defaultSftData({ seed: opts.seed ?? 1, trainSize: opts.trainSize ?? 1500, heldOutSize: opts.heldOutSize ?? 150 });
  const byKind = new Map<string, string[]>();
  for (const ex of [...sft.train, ...sft.heldOut]) {
    const l = byKind.get(ex.kind) ?? [];
    if (!l.includes(ex.expected)) l.push(ex.expected);
    byKind.set(ex.kind, l);
  }
  const rng = new Rng((opts.seed ?? 1) * 7919 + 17);
  const held = heldOutSums(sft.train, sft.heldOut.filter(isArithmetic).length, rng);
  const isHeld = (ex: SftExample): boolean => isArithmetic(ex) && held.has(referenceAnswer(ex));
  const devQuestions = [...sft.heldOut.filter((ex) => !isArithmetic(ex)), ...sft.train.filter(isHeld)];
  // training questions neither ask a held-out sum nor show one in an earlier exchange
  const mentionsHeld = (ex: SftExample): boolean => ex.messages.some((m) => m.role === 'assistant' && held.has(m.content));
  const n = opts.pairsPerQuestion ?? Infinity;
  const devRng = new Rng((opts.seed ?? 1) * 7919 + 18); // the held-out pairs do not depend on the training ones
  return {
    train: sft.train.filter((ex) => !mentionsHeld(ex)).flatMap((ex) => questionPairs(ex, rng, byKind, n)),
    dev: devQuestions.flatMap((ex) => questionPairs(ex, devRng, byKind, 1)),
  };
}
