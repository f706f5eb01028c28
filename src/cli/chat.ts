// `gptlab chat`: a multi-turn terminal chat over a TextEngine. History is kept within the context window
// (oldest exchanges dropped first), slash commands change the session, replies stream as they are
// generated. With piped stdin (not a TTY) it prints only the replies, one per line, so scripts can drive it;
// notices go to `io.error` when given.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { DEFAULT_PARAMS, type ChatMessage, type GenerateParams, type TextEngine } from '../generate/text-engine.js';

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
}

interface Setting {
  key: keyof GenerateParams;
  help: string;
  parse: (v: string, engine: TextEngine) => GenerateParams[keyof GenerateParams];
}

const num = (name: string, min: number, max: number, int = false) => (v: string) => {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || (int && !Number.isInteger(x)) || x < min || x > max) {
    throw new Error(`${name} must be ${int ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return x;
};
const optional = (f: (v: string) => number) => (v: string) => (v === 'none' || v === 'off' ? undefined : f(v));

const SETTINGS: Record<string, Setting> = {
  temperature: { key: 'temperature', help: '0 (greedy) to 2', parse: num('temperature', 0, 2) },
  top_p: { key: 'topP', help: 'nucleus mass, (0, 1]', parse: num('top_p', 0, 1) },
  top_k: { key: 'topK', help: 'keep the k likeliest tokens; none = off', parse: optional(num('top_k', 1, 1e9, true)) },
  max_tokens: {
    key: 'maxTokens',
    help: 'longest reply, in tokens',
    parse: (v, e) => num('max_tokens', 1, Math.max(1, e.contextLength - 1), true)(v),
  },
  repetition_penalty: { key: 'repetitionPenalty', help: '1 = off; >1 discourages repeats', parse: optional(num('repetition_penalty', 0.01, 10)) },
  seed: { key: 'seed', help: 'integer for reproducible replies; none = random', parse: optional(num('seed', -(2 ** 31), 2 ** 32, true)) },
  stop: {
    key: 'stop',
    help: 'stop string, or a JSON array of them; none = off',
    parse: (v) => {
      if (v === 'none' || v === 'off') return undefined;
      if (v.startsWith('[')) {
        let arr: unknown;
        try {
          arr = JSON.parse(v);
        } catch {
          throw new Error(`stop: ${v} is not a JSON array of strings`);
        }
        if (!Array.isArray(arr) || !arr.every((s) => typeof s === 'string' && s)) throw new Error('stop: expected a JSON array of non-empty strings');
        return arr as string[];
      }
      return [v.replace(/\\n/g, '\n')];
    },
  },
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
 * or null when even the newest message alone does not fit.
 */
export function fitHistory(
  engine: Pick<TextEngine, 'countTokens' | 'renderChat'>,
  system: string | undefined,
  history: ChatMessage[],
  budget: number,
): { messages: ChatMessage[]; dropped: number; tokens: number } | null {
  const head: ChatMessage[] = system ? [{ role: 'system', content: system }] : [];
  for (let start = 0; start < history.length; start++) {
    // never start the window on an assistant turn
    if (start > 0 && history[start].role !== 'user') continue;
    const messages = [...head, ...history.slice(start)];
    const tokens = engine.countTokens(engine.renderChat(messages));
    if (tokens <= budget) return { messages, dropped: start, tokens };
  }
  return null;
}

export async function chatLoop(engine: TextEngine, io: ChatIO, opts: ChatLoopOptions = {}): Promise<ChatLoopResult> {
  const params: GenerateParams = { ...DEFAULT_PARAMS, ...opts.params };
  params.maxTokens = Math.min(params.maxTokens, Math.max(1, engine.contextLength - 1));
  let system = opts.system || undefined;
  let history: ChatMessage[] = [];
  let turns = 0;
  const out = io.output;
  const err = io.error ?? io.output;
  const note = (s: string) => err.write(io.isTTY && err === out ? `\x1b[2m${s}\x1b[0m\n` : `${s}\n`);

  const rl = createInterface({ input: io.input, output: io.isTTY ? out : undefined, terminal: io.isTTY, prompt: '> ' });
  let generating: AbortController | null = null;
  rl.on('SIGINT', () => {
    // Ctrl-C stops a reply in progress; at the prompt it leaves
    if (generating) generating.abort();
    else rl.close();
  });

  if (io.isTTY) {
    note(`gptlab chat with ${engine.modelId} (context ${engine.contextLength} tokens). /help for commands, /exit or Ctrl-D to leave.`);
    if (system) note(`system: ${system}`);
    rl.prompt();
  }

  let pending = '';
  for await (const raw of rl) {
    const line = raw.replace(/\r$/, '');
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + '\n';
      continue;
    }
    const text = (pending + line).trim();
    pending = '';
    if (text === '') {
      if (io.isTTY) rl.prompt();
      continue;
    }
    if (text.startsWith('/')) {
      const [cmd, ...rest] = text.slice(1).split(/\s+/);
      const arg = text.slice(1 + cmd.length).trim();
      if (cmd === 'exit' || cmd === 'quit') break;
      switch (cmd) {
        case 'help':
          note(HELP);
          break;
        case 'reset':
          history = [];
          note('conversation cleared');
          break;
        case 'system':
          if (!arg) note(system ? `system: ${system}` : 'no system prompt');
          else {
            system = arg === 'none' || arg === 'off' ? undefined : arg;
            history = [];
            note(system ? 'system prompt set; conversation cleared' : 'system prompt cleared; conversation cleared');
          }
          break;
        case 'set': {
          if (rest.length === 0) {
            for (const [k, s] of Object.entries(SETTINGS)) note(`${k.padEnd(19)}${JSON.stringify(params[s.key]) ?? 'none'}`);
            break;
          }
          const name = ALIASES[rest[0].toLowerCase()] ?? rest[0].toLowerCase();
          const setting = SETTINGS[name];
          const value = arg.slice(rest[0].length).trim();
          if (!setting) note(`unknown parameter ${JSON.stringify(rest[0])}; known: ${Object.keys(SETTINGS).join(', ')}`);
          else if (value === '') note(`usage: /set ${name} VALUE (${setting.help})`);
          else {
            try {
              const v = setting.parse(value, engine);
              if (v === undefined) delete params[setting.key];
              else (params as unknown as Record<string, unknown>)[setting.key] = v;
              note(`${name} = ${JSON.stringify(v) ?? 'none'}`);
            } catch (e) {
              note((e as Error).message);
            }
          }
          break;
        }
        case 'history':
          if (system) note(`[system] ${system}`);
          for (const m of history) note(`[${m.role}] ${m.content}`);
          note(`${history.length} messages, ${engine.countTokens(engine.renderChat([...(system ? [{ role: 'system' as const, content: system }] : []), ...history]))} tokens`);
          break;
        default:
          note(`unknown command /${cmd}; /help lists the commands`);
      }
      if (io.isTTY) rl.prompt();
      continue;
    }

    const budget = engine.contextLength - params.maxTokens;
    let fit: ReturnType<typeof fitHistory>;
    try {
      fit = fitHistory(engine, system, [...history, { role: 'user', content: text }], budget);
    } catch (e) {
      // e.g. characters a character-level model has never seen: say so and keep the session
      note(`cannot use that message: ${(e as Error).message}`);
      if (io.isTTY) rl.prompt();
      continue;
    }
    if (!fit) {
      note(`that message is too long: the context holds ${engine.contextLength} tokens and ${params.maxTokens} are kept for the reply (/set max_tokens to change)`);
      if (io.isTTY) rl.prompt();
      continue;
    }
    if (fit.dropped > 0) note(`(dropped the ${fit.dropped} oldest messages to fit the context window)`);
    history = fit.messages.filter((m) => m.role !== 'system');

    generating = new AbortController();
    let reply = '';
    try {
      const result = await engine.generate(
        engine.renderChat(fit.messages),
        { ...params },
        (piece) => {
          reply += piece;
          out.write(piece);
        },
        generating.signal,
      );
      reply = result.text;
      out.write('\n');
      if (generating.signal.aborted) note('(stopped)');
      else if (result.finishReason === 'length') note(`(reply cut at max_tokens = ${params.maxTokens})`);
    } catch (e) {
      out.write('\n');
      if (generating.signal.aborted) note('(stopped)');
      else note(`generation failed: ${(e as Error).message}`);
    }
    generating = null;
    history.push({ role: 'assistant', content: reply });
    turns++;
    if (io.isTTY) rl.prompt();
  }
  rl.close();
  return { turns, history };
}
