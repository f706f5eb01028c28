// `gptlab chat`: a multi-turn terminal chat over a TextEngine. History is kept within the context window
// (oldest exchanges dropped first), slash commands change the session, replies stream as they are
// generated. With piped stdin (not a TTY) it prints only the replies, one per line, so scripts can drive it;
// notices go to `io.error` when given.
//
// How it reads: chatLoop (read lines) → runCommand (/reset, /system, /set, …) or replyTo (fit the history,
// stream the reply). /set checks values with the HTTP server's rules (src/serve/param-rules.ts).
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { DEFAULT_PARAMS, type ChatMessage, type GenerateParams, type TextEngine } from '../generate/text-engine.js';
import { PARAM_RULES, ruleProblem, type ParamRule } from '../serve/param-rules.js';
import { SEED_MAX } from '../tensor/rng.js';

/** /set seed: the seeds the generator tells apart (as every --seed flag), never wrapped */
const CHAT_SEED_RULE: ParamRule = { ...PARAM_RULES.seed, min: 0, max: SEED_MAX };

export interface ChatIO {
  input: Readable;
  output: Writable;
  isTTY: boolean;
  /** where notices and errors go; default: output */
  error?: Writable;
}

export interface ChatLoopOptions {
  params?: Partial<GenerateParams>;
  system?: string;
}

export interface ChatLoopResult {
  /** exchanges completed */
  turns: number;
  /** the history at the end (after any trimming) */
  history: ChatMessage[];
  /** replies that failed (the model raised an error); a script may want a non-zero exit then */
  failed: number;
}

interface Setting {
  key: keyof GenerateParams;
  help: string;
  parse: (v: string, engine: TextEngine) => GenerateParams[keyof GenerateParams];
}

/** a number under one of the server's rules; `rule.name` names it in the error */
const byRule = (rule: ParamRule) => (v: string): number => {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw new Error(`${rule.name} must be ${rule.integer ? 'an integer' : 'a number'} from ${rule.min} to ${rule.max}, got ${JSON.stringify(v)}`);
  const problem = ruleProblem(rule, x);
  if (problem) throw new Error(problem);
  return x;
};
const optional = (f: (v: string) => number, off?: number) => (v: string) => {
  if (v === 'none' || v === 'off') return undefined;
  const x = f(v);
  return x === off ? undefined : x;
};

function parseStop(v: string): string[] | undefined {
  if (v === 'none' || v === 'off') return undefined;
  if (!v.startsWith('[')) return [v.replace(/\\n/g, '\n')];
  let arr: unknown;
  try {
    arr = JSON.parse(v);
  } catch {
    throw new Error(`stop: ${v} is not a JSON array of strings`);
  }
  if (!Array.isArray(arr) || !arr.every((s) => typeof s === 'string' && s)) throw new Error('stop: expected a JSON array of non-empty strings');
  if (arr.length > 4) throw new Error(`stop: at most 4 stop strings, got ${arr.length}`);
  return arr as string[];
}

const SETTINGS: Record<string, Setting> = {
  temperature: { key: 'temperature', help: '0 (greedy) to 2', parse: byRule(PARAM_RULES.temperature) },
  top_p: { key: 'topP', help: 'nucleus mass, 0 (greedy) to 1 (off)', parse: byRule(PARAM_RULES.topP) },
  top_k: { key: 'topK', help: 'keep the k likeliest tokens; 0 or none = off', parse: optional(byRule(PARAM_RULES.topK), 0) },
  max_tokens: {
    key: 'maxTokens',
    help: 'longest reply, in tokens',
    parse: (v, e) => byRule({ name: 'max_tokens', min: 1, max: Math.max(1, e.contextLength - 1), integer: true })(v),
  },
  repetition_penalty: { key: 'repetitionPenalty', help: '1 = off; >1 discourages repeats', parse: optional(byRule(PARAM_RULES.repetitionPenalty)) },
  presence_penalty: { key: 'presencePenalty', help: '-2 to 2: lowers tokens already said once', parse: optional(byRule(PARAM_RULES.presencePenalty)) },
  frequency_penalty: { key: 'frequencyPenalty', help: '-2 to 2: lowers tokens by how often said', parse: optional(byRule(PARAM_RULES.frequencyPenalty)) },
  seed: { key: 'seed', help: `integer 0 to ${SEED_MAX} for reproducible replies; none = random`, parse: optional(byRule(CHAT_SEED_RULE)) },
  stop: { key: 'stop', help: 'stop string, or a JSON array of up to 4; none = off', parse: parseStop },
};
// aliases people type
const ALIASES: Record<string, string> = { temp: 'temperature', topp: 'top_p', 'top-p': 'top_p', topk: 'top_k', 'top-k': 'top_k', max: 'max_tokens', 'max-tokens': 'max_tokens', maxtokens: 'max_tokens' };

const HELP = `commands:
  /reset              forget the conversation (keeps the system prompt)
  /system TEXT        set the system prompt (and reset); /system alone shows it; /system none clears it
  /set NAME VALUE     change a parameter; /set alone lists them:
${Object.entries(SETTINGS)
  .map(([k, s]) => `                        ${k.padEnd(19)}${s.help}`)
  .join('\n')}
  /history            show the conversation kept in the context
  /help               this text
  /exit               leave (also /quit, or end of input)
end a line with \\ to continue the message on the next line`;

/**
 * Fits the conversation into `budget` tokens by dropping the oldest exchanges (the system prompt and the
 * newest user message always stay). Returns the messages to send and how many old messages were dropped,
 * or null when even the newest message alone does not fit. Throws what countTokens throws.
 */
export function fitHistory(
  engine: Pick<TextEngine, 'countTokens'>,
  system: string | undefined,
  history: ChatMessage[],
  budget: number,
): { messages: ChatMessage[]; dropped: number; tokens: number } | null {
  const head: ChatMessage[] = system ? [{ role: 'system', content: system }] : [];
  for (let start = 0; start < history.length; start++) {
    // never start the window on an assistant turn
    if (start > 0 && history[start].role !== 'user') continue;
    const messages = [...head, ...history.slice(start)];
    const tokens = engine.countTokens(messages);
    if (tokens <= budget) return { messages, dropped: start, tokens };
  }
  return null;
}

/** the state of one chat: what the commands change and the replies read */
interface Session {
  engine: TextEngine;
  params: GenerateParams;
  system: string | undefined;
  history: ChatMessage[];
  turns: number;
  failed: number;
  out: Writable;
  note: (s: string) => void;
  /** the reply being generated, for Ctrl-C */
  generating: AbortController | null;
}

/**
 * Runs the chat until /exit or the end of input. Reads lines (a trailing backslash continues a message),
 * runs slash commands, answers everything else. Never throws for bad input: problems become notices.
 */
export async function chatLoop(engine: TextEngine, io: ChatIO, opts: ChatLoopOptions = {}): Promise<ChatLoopResult> {
  const s = newSession(engine, io, opts);
  const rl = createInterface({ input: io.input, output: io.isTTY ? io.output : undefined, terminal: io.isTTY, prompt: '> ' });
  // Ctrl-C stops a reply in progress; at the prompt it leaves
  rl.on('SIGINT', () => (s.generating ? s.generating.abort() : rl.close()));
  if (io.isTTY) {
    s.note(`gptlab chat with ${engine.modelId} (context ${engine.contextLength} tokens). /help for commands, /exit or Ctrl-D to leave.`);
    if (s.system) s.note(`system: ${s.system}`);
    rl.prompt();
  }
  for await (const text of messages(rl)) {
    if (text.startsWith('/')) {
      if (runCommand(s, text) === 'exit') break;
    } else if (text !== '') await replyTo(s, text);
    if (io.isTTY) rl.prompt();
  }
  rl.close();
  return { turns: s.turns, history: s.history, failed: s.failed };
}

function newSession(engine: TextEngine, io: ChatIO, opts: ChatLoopOptions): Session {
  const params: GenerateParams = { ...DEFAULT_PARAMS, ...opts.params };
  params.maxTokens = Math.min(params.maxTokens, Math.max(1, engine.contextLength - 1));
  const out = io.output;
  const err = io.error ?? io.output;
  const note = (t: string) => err.write(io.isTTY && err === out ? `\x1b[2m${t}\x1b[0m\n` : `${t}\n`);
  return { engine, params, system: opts.system || undefined, history: [], turns: 0, failed: 0, out, note, generating: null };
}

/** the input's messages, trimmed, with backslash-continued lines joined */
async function* messages(rl: Interface): AsyncGenerator<string> {
  let pending = '';
  for await (const raw of rl) {
    const line = raw.replace(/\r$/, '');
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + '\n';
      continue;
    }
    yield (pending + line).trim();
    pending = '';
  }
}

/** one slash command; 'exit' to leave */
function runCommand(s: Session, text: string): 'exit' | void {
  const [cmd, ...rest] = text.slice(1).split(/\s+/);
  const arg = text.slice(1 + cmd.length).trim();
  if (cmd === 'exit' || cmd === 'quit') return 'exit';
  if (cmd === 'help') s.note(HELP);
  else if (cmd === 'reset') {
    s.history = [];
    s.note('conversation cleared');
  } else if (cmd === 'system') setSystem(s, arg);
  else if (cmd === 'set') setParam(s, rest[0], arg.slice(rest[0]?.length ?? 0).trim());
  else if (cmd === 'history') showHistory(s);
  else s.note(`unknown command /${cmd}; /help lists the commands`);
}

function setSystem(s: Session, arg: string): void {
  if (!arg) return s.note(s.system ? `system: ${s.system}` : 'no system prompt');
  s.system = arg === 'none' || arg === 'off' ? undefined : arg;
  s.history = [];
  s.note(s.system ? 'system prompt set; conversation cleared' : 'system prompt cleared; conversation cleared');
}

/** /set NAME VALUE; /set alone lists the values */
function setParam(s: Session, given: string | undefined, value: string): void {
  if (!given) {
    for (const [k, st] of Object.entries(SETTINGS)) s.note(`${k.padEnd(19)}${JSON.stringify(s.params[st.key]) ?? 'none'}`);
    return;
  }
  const name = ALIASES[given.toLowerCase()] ?? given.toLowerCase();
  const setting = SETTINGS[name];
  if (!setting) return s.note(`unknown parameter ${JSON.stringify(given)}; known: ${Object.keys(SETTINGS).join(', ')}`);
  if (value === '') return s.note(`usage: /set ${name} VALUE (${setting.help})`);
  try {
    const v = setting.parse(value, s.engine);
    if (v === undefined) delete s.params[setting.key];
    else (s.params as unknown as Record<string, unknown>)[setting.key] = v;
    s.note(`${name} = ${JSON.stringify(v) ?? 'none'}`);
  } catch (e) {
    s.note((e as Error).message);
  }
}

function showHistory(s: Session): void {
  const head: ChatMessage[] = s.system ? [{ role: 'system', content: s.system }] : [];
  if (s.system) s.note(`[system] ${s.system}`);
  for (const m of s.history) s.note(`[${m.role}] ${m.content}`);
  let tokens: string;
  try {
    tokens = String(s.engine.countTokens([...head, ...s.history]));
  } catch (e) {
    tokens = `? (${(e as Error).message})`;
  }
  s.note(`${s.history.length} messages, ${tokens} tokens`);
}

/** answers one user message: fit the history into the context, stream the reply, keep both */
async function replyTo(s: Session, text: string): Promise<void> {
  const { engine, params } = s;
  let fit: ReturnType<typeof fitHistory>;
  try {
    fit = fitHistory(engine, s.system, [...s.history, { role: 'user', content: text }], engine.contextLength - params.maxTokens);
  } catch (e) {
    // e.g. characters a character-level model has never seen: say so and keep the session
    return s.note(`cannot use that message: ${(e as Error).message}`);
  }
  if (!fit) {
    return s.note(`that message is too long: the context holds ${engine.contextLength} tokens and ${params.maxTokens} are kept for the reply (/set max_tokens to change)`);
  }
  if (fit.dropped > 0) s.note(`(dropped the ${fit.dropped} oldest messages to fit the context window)`);
  s.history = fit.messages.filter((m) => m.role !== 'system');
  const ac = (s.generating = new AbortController());
  let reply = '';
  try {
    const result = await engine.generate(fit.messages, { ...params }, (piece) => {
      reply += piece;
      s.out.write(piece);
    }, ac.signal);
    reply = result.text;
    s.out.write('\n');
    if (ac.signal.aborted) s.note('(stopped)');
    else if (result.finishReason === 'length') s.note(`(reply cut at max_tokens = ${params.maxTokens})`);
  } catch (e) {
    s.out.write('\n');
    if (ac.signal.aborted) s.note('(stopped)');
    else {
      s.failed++;
      s.note(`generation failed: ${(e as Error).message}`);
    }
  }
  s.generating = null;
  s.history.push({ role: 'assistant', content: reply });
  s.turns++;
}
