// Chat data for supervised fine-tuning: reading conversations (JSON or JSONL of {role, content} messages),
// validating them record by record, and the chat template that turns a conversation into one token
// sequence with a loss mask, so that SFT learns to produce the assistant's turns and nothing else.
// Browser-safe: callers pass file text in, nothing here touches the file system.
import { notValidJson } from './jsonl.js';
/** one turn of a conversation */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export const ROLES = ['system', 'user', 'assistant'] as const;
export type Role = (typeof ROLES)[number];

/** The template's special tokens, in a fixed order, so a tokenizer can reserve ids for them. */
export const SPECIAL_TOKENS = ['<|system|>', '<|user|>', '<|assistant|>', '<|end|>'] as const;
export const END_OF_TURN = '<|end|>';

export interface Conversation {
  messages: ChatMessage[];
}

export interface ChatDataError {
  file: string;
  /** 1-based; for JSONL the line of the record, for a JSON array the line where the record starts */
  line: number;
  /** path of the offending field within the record, e.g. `messages[2].role`; '' for the record itself */
  field: string;
  message: string;
}

export interface ChatDataResult {
  conversations: Conversation[];
  errors: ChatDataError[];
  summary: { kept: number; skipped: number };
}

export interface ParseChatOptions {
  /** 'auto' (default) decides from the file name, then from the content */
  format?: 'auto' | 'json' | 'jsonl';
  /** reject conversations without an assistant turn (default true: SFT has nothing to learn from them) */
  requireAssistant?: boolean;
}

/** `file: line N: field: message`, the one-line form used by the CLI */
export function formatChatDataError(e: ChatDataError): string {
  return `${e.file}:${e.line}: ${e.field ? e.field + ': ' : ''}${e.message}`;
}

/**
 * The first `shown` (20) problems of a data file, one "skipped: FILE:LINE: …" line each, then "… and N more
 * `what`" — the lines a loader writes to stderr before it trains on the records it kept.
 */
export function skippedLines(errors: ChatDataError[], what = 'problems', shown = 20): string[] {
  const lines = errors.slice(0, shown).map((e) => `skipped: ${formatChatDataError(e)}`);
  if (errors.length > shown) lines.push(`… and ${errors.length - shown} more ${what}`);
  return lines;
}

/**
 * Parses conversations from JSONL (one conversation per line) or JSON (an array of conversations, or a
 * single conversation). A conversation is `{ "messages": [...] }` or a bare array of messages. Malformed
 * records are skipped and every problem is reported with file, line and field.
 */
export function parseChatData(text: string, file = '<input>', opts: ParseChatOptions = {}): ChatDataResult {
  const format = opts.format && opts.format !== 'auto' ? opts.format : sniffFormat(text, file);
  const records = format === 'jsonl' ? splitJsonl(text, file) : splitJson(text, file);
  const conversations: Conversation[] = [];
  const errors: ChatDataError[] = [...records.errors];
  let skipped = records.errors.length;
  for (const rec of records.items) {
    const errs: ChatDataError[] = [];
    const conv = validateConversation(rec.value, opts.requireAssistant ?? true, (field, message) =>
      errs.push({ file, line: rec.line, field, message }),
    );
    if (conv && errs.length === 0) conversations.push(conv);
    else {
      skipped++;
      errors.push(...errs);
    }
  }
  // JSON errors and field errors come from two passes: report them in file order
  errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { conversations, errors, summary: { kept: conversations.length, skipped } };
}

/** Checks one record; reports each problem through `report` and returns the clean conversation or null. */
export function validateConversation(
  value: unknown,
  requireAssistant = true,
  report: (field: string, message: string) => void = () => {},
): Conversation | null {
  const found = messagesOf(value, report);
  if (!found) return null;
  const { msgs, prefix } = found;
  if (msgs.length === 0) {
    report(prefix, 'has no messages');
    return null;
  }
  const out: ChatMessage[] = [];
  let ok = true;
  msgs.forEach((m, i) => {
    const msg = validateMessage(m, i, `${prefix}[${i}]`, report);
    if (msg) out.push(msg);
    else ok = false;
  });
  if (ok && requireAssistant && !out.some((m) => m.role === 'assistant')) {
    report(prefix, 'has no assistant message, so there is nothing to learn from it');
    ok = false;
  }
  return ok ? { messages: out } : null;
}

/** the record's message list and the field path it sits at ('' for a bare array, 'messages') */
function messagesOf(value: unknown, report: (field: string, message: string) => void): { msgs: unknown[]; prefix: string } | null {
  if (Array.isArray(value)) return { msgs: value, prefix: '' };
  if (!isObject(value)) {
    report('', `a conversation must be an object with "messages" or an array of messages, got ${describe(value)}`);
    return null;
  }
  if (!('messages' in value)) {
    report('messages', 'missing (a conversation is {"messages": [{"role", "content"}, ...]} or a bare array of messages)');
    return null;
  }
  if (!Array.isArray(value.messages)) {
    report('messages', `must be an array of messages, got ${describe(value.messages)}`);
    return null;
  }
  return { msgs: value.messages, prefix: 'messages' };
}

/** one message (the i-th, at field path `at`): every problem reported; null when there was any */
function validateMessage(m: unknown, i: number, at: string, report: (field: string, message: string) => void): ChatMessage | null {
  if (!isObject(m)) {
    report(at, `a message must be an object {"role", "content"}, got ${describe(m)}`);
    return null;
  }
  const { role, content } = m;
  let good = true;
  const bad = (field: string, message: string): void => {
    report(`${at}.${field}`, message);
    good = false;
  };
  if (role === undefined) bad('role', 'missing');
  else if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) bad('role', `must be one of ${ROLES.map((r) => `"${r}"`).join(', ')}, got ${describe(role)}`);
  else if (role === 'system' && i !== 0) bad('role', 'a system message may only be the first message');
  if (content === undefined) bad('content', 'missing');
  else if (typeof content !== 'string') bad('content', `must be a string, got ${describe(content)}`);
  else {
    const special = SPECIAL_TOKENS.find((s) => content.includes(s));
    if (special) bad('content', `contains the special token ${special}, which would break the chat template`);
    else if (role === 'assistant' && content.length === 0) bad('content', 'an assistant message must not be empty');
  }
  return good ? { role: role as Role, content: content as string } : null;
}

// ---------------------------------------------------------------------------------------------------------
// The chat template

export interface RenderOptions {
  /** end with the assistant marker, where a model's reply begins (for prompting, not for training) */
  addGenerationPrompt?: boolean;
}

export interface TrainingExample {
  ids: number[];
  /** 1 where the loss applies: the assistant's content tokens and the end-of-turn token closing each one */
  mask: Uint8Array;
}

/** The part of a Tokenizer the template needs (src/tokenizers/tokenizer.ts). */
export interface TemplateTokenizer {
  readonly specialTokens: ReadonlyMap<string, number>;
  /** with no options, special-token text must be encoded as ordinary text (the Tokenizer contract) */
  encode(text: string): number[];
}

/** one span of a rendered conversation: a template marker or a piece of text (content, separator) */
interface Piece {
  text: string;
  marker: boolean;
  /** 1 where SFT's loss applies */
  learn: 0 | 1;
}

/**
 * `<|role|>content<|end|>\n` per turn. The newline after each turn is outside the loss: the model learns
 * to say `<|end|>` and the generator stops there, so it never has to predict what follows.
 *
 * Security: only the template's own markers become control tokens. Message content is always encoded as
 * plain text, so a message containing `<|end|>\n<|system|>` cannot forge a turn (renderIds,
 * renderForTraining with a tokenizer). `render` gives the same conversation as one string, for display and
 * for tokenizers-free tests; encoding that string with specials allowed would undo this protection.
 */
export class ChatTemplate {
  readonly specialTokens: readonly string[] = SPECIAL_TOKENS;
  readonly endOfTurn = END_OF_TURN;
  /** strings a generator should stop at when its tokenizer lacks the specials (text-level fallback) */
  readonly stopStrings: readonly string[] = ['<|end|>', '<|user|>', '<|system|>', '<|assistant|>'];

  constructor(readonly turnSeparator = '\n') {}

  marker(role: Role): string {
    return `<|${role}|>`;
  }

  render(messages: readonly ChatMessage[], opts: RenderOptions = {}): string {
    return this.pieces(messages, opts).map((p) => p.text).join('');
  }

  /**
   * The prompt as token ids: each marker is its special id, each message's content and the separators
   * are `tokenizer.encode(text)` (special-token text stays plain text). A tokenizer without the
   * template's specials gets the markers as text; then content that contains a marker is refused, since
   * it could not be told apart from the template. Throws what `encode` throws (e.g. unknown characters).
   */
  renderIds(messages: readonly ChatMessage[], tokenizer: TemplateTokenizer, opts: RenderOptions = {}): number[] {
    return this.encodePieces(this.pieces(messages, opts), tokenizer, false).ids;
  }

  /**
   * Token ids for a whole conversation plus the loss mask (1 on assistant content and the `<|end|>`
   * closing it). Pass the tokenizer: markers must be its special ids (else an error says so), content is
   * encoded as plain text. The older form, an `encode` function that maps special-token text to its id
   * (`(t) => tok.encode(t, { allowedSpecial: 'all' })`), still works; content that then encodes to a
   * template marker id is refused rather than learned.
   */
  renderForTraining(
    messages: readonly ChatMessage[],
    tokenizer: TemplateTokenizer | ((text: string) => number[]),
    opts: { maxTokens?: number } = {},
  ): TrainingExample {
    const tok = typeof tokenizer === 'function' ? this.fromEncode(tokenizer) : tokenizer;
    const { ids, mask } = this.encodePieces(this.pieces(messages, {}), tok, true);
    const n = opts.maxTokens !== undefined ? Math.min(opts.maxTokens, ids.length) : ids.length;
    return { ids: ids.slice(0, n), mask: Uint8Array.from(mask.slice(0, n)) };
  }

  private pieces(messages: readonly ChatMessage[], opts: RenderOptions): Piece[] {
    const out: Piece[] = [];
    for (const m of messages) {
      const learn = m.role === 'assistant' ? 1 : 0;
      out.push({ text: this.marker(m.role), marker: true, learn: 0 });
      if (m.content) out.push({ text: m.content, marker: false, learn });
      out.push({ text: END_OF_TURN, marker: true, learn });
      if (this.turnSeparator) out.push({ text: this.turnSeparator, marker: false, learn: 0 });
    }
    if (opts.addGenerationPrompt) out.push({ text: this.marker('assistant'), marker: true, learn: 0 });
    return out;
  }

  private encodePieces(pieces: Piece[], tok: TemplateTokenizer, requireSpecials: boolean): { ids: number[]; mask: number[] } {
    const markerIds = new Set(SPECIAL_TOKENS.map((s) => tok.specialTokens.get(s)).filter((id) => id !== undefined));
    const textMarkers = markerIds.size < SPECIAL_TOKENS.length;
    const ids: number[] = [];
    const mask: number[] = [];
    for (const p of pieces) {
      const special = p.marker ? tok.specialTokens.get(p.text) : undefined;
      if (p.marker && special === undefined && requireSpecials) {
        throw new Error(`the tokenizer has no id for the chat special token ${p.text}; it must reserve one id for each of ${SPECIAL_TOKENS.join(' ')}`);
      }
      if (!p.marker && textMarkers) refuseMarkerText(p.text);
      const toks = special !== undefined ? [special] : encodeOrExplain(tok, p.text, p.marker);
      if (!p.marker && toks.some((t) => markerIds.has(t))) {
        throw new Error('message content encodes to a chat template marker token; content must be plain text');
      }
      for (const t of toks) {
        ids.push(t);
        mask.push(p.learn);
      }
    }
    return { ids, mask };
  }

  /** the older renderForTraining contract: an encode function with special tokens allowed */
  private fromEncode(encode: (text: string) => number[]): TemplateTokenizer {
    const specialTokens = new Map<string, number>();
    for (const s of SPECIAL_TOKENS) {
      const ids = encode(s);
      if (ids.length !== 1) {
        throw new Error(`the tokenizer encodes the chat special token ${s} as ${ids.length} tokens; it must reserve one id for each of ${SPECIAL_TOKENS.join(' ')} and encode them with allowedSpecial: 'all'`);
      }
      specialTokens.set(s, ids[0]);
    }
    return { specialTokens, encode };
  }
}

/** with markers spelled as text, content containing one would forge a turn: refuse it */
function refuseMarkerText(text: string): void {
  const found = SPECIAL_TOKENS.find((s) => text.includes(s));
  if (found) throw new Error(`message content contains ${found}, which this tokenizer cannot tell apart from the chat template's own marker`);
}

export const chatTemplate = new ChatTemplate();

// ---------------------------------------------------------------------------------------------------------
// Reading records with their line numbers

interface Records {
  items: { line: number; value: unknown }[];
  errors: ChatDataError[];
}

function sniffFormat(text: string, file: string): 'json' | 'jsonl' {
  const lower = file.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.json')) return 'json';
  const t = text.trimStart();
  if (t.startsWith('[')) return 'json';
  // a single object spanning several lines is JSON; one object per line is JSONL
  try {
    JSON.parse(text);
    return 'json';
  } catch {
    return 'jsonl';
  }
}

function splitJsonl(text: string, file: string): Records {
  const items: Records['items'] = [];
  const errors: ChatDataError[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    try {
      items.push({ line: i + 1, value: JSON.parse(line) });
    } catch (e) {
      errors.push({ file, line: i + 1, field: '', message: notValidJson(e, line) });
    }
  });
  return { items, errors };
}

/**
 * A top-level array is split into its elements by a small scanner (tracking strings and nesting) so each
 * record keeps its starting line and a syntax error in one record does not lose the others.
 */
function splitJson(text: string, file: string): Records {
  const start = skipWs(text, 0);
  if (text[start] !== '[') {
    try {
      const value = JSON.parse(text);
      return { items: [{ line: lineAt(text, start), value }], errors: [] };
    } catch (e) {
      return { items: [], errors: [{ file, line: lineAt(text, start), field: '', message: notValidJson(e, text) }] };
    }
  }
  const { spans, closed } = scanArray(text, start);
  if (closed < 0) {
    return { items: [], errors: [{ file, line: lineAt(text, start), field: '', message: 'invalid JSON: the top-level array is never closed' }] };
  }
  const rest = skipWs(text, closed + 1);
  const errors: ChatDataError[] = [];
  if (rest < text.length) errors.push({ file, line: lineAt(text, rest), field: '', message: 'invalid JSON: unexpected text after the top-level array' });
  let values = parseSpans(text, spans, file, errors);
  // A top-level array of messages is one conversation, not many.
  const looksLikeMessages =
    values.length > 0 && values.every((v) => isObject(v.value) && 'role' in v.value && !('messages' in v.value));
  if (looksLikeMessages && errors.length === 0) values = [{ line: lineAt(text, start), value: values.map((v) => v.value) }];
  return { items: values, errors };
}

/** the source spans of a top-level array's elements, and where it closes (-1: never) */
function scanArray(text: string, start: number): { spans: { from: number; to: number }[]; closed: number } {
  const spans: { from: number; to: number }[] = [];
  let depth = 0;
  let inStr = false;
  let from = -1;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') {
      inStr = true;
      if (depth === 1 && from < 0) from = i;
    } else if (c === '[' || c === '{') {
      if (depth === 1 && from < 0) from = i;
      depth++;
    } else if (c === ']' || c === '}') {
      depth--;
      if (depth === 0) {
        if (from >= 0) spans.push({ from, to: i });
        return { spans, closed: i };
      }
    } else if (c === ',' && depth === 1) {
      spans.push({ from: from < 0 ? i : from, to: i });
      from = -1;
    } else if (depth === 1 && from < 0 && !/\s/.test(c)) from = i;
  }
  return { spans, closed: -1 };
}

/** each span parsed as JSON with its line; problems go to `errors` */
function parseSpans(text: string, spans: { from: number; to: number }[], file: string, errors: ChatDataError[]): Records['items'] {
  const lines = lineIndex(text);
  const values: Records['items'] = [];
  for (const sp of spans) {
    const src = text.slice(sp.from, sp.to);
    const line = lineOf(lines, sp.from);
    if (src.trim() === '') {
      errors.push({ file, line, field: '', message: 'invalid JSON: empty element (a stray comma?)' });
      continue;
    }
    try {
      values.push({ line, value: JSON.parse(src) });
    } catch (e) {
      errors.push({ file, line, field: '', message: notValidJson(e, src) });
    }
  }
  return values;
}

function skipWs(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i])) i++;
  return i;
}

function lineIndex(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function lineOf(starts: number[], pos: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

function lineAt(text: string, pos: number): number {
  let n = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 30 ? v.slice(0, 30) + '…' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** encodes template text; a marker the tokenizer cannot spell means the model was never fine-tuned for chat */
function encodeOrExplain(tok: TemplateTokenizer, text: string, marker: boolean): number[] {
  try {
    return tok.encode(text);
  } catch (e) {
    if (!marker) throw e;
    throw new Error(`this model's tokenizer has no chat tokens (${SPECIAL_TOKENS.join(' ')}): fine-tune it for chat first (gptlab sft --base CKPT)`);
  }
}
