// A small, strict flag parser: every command declares its options once (name, type, default, help), and the
// same table drives parsing, `--help`, and `--config FILE.json` (JSON keys are the flag names, camelCase,
// kebab-case or snake_case as nanoGPT configs use). Unknown flags and non-numeric numbers are errors that name the flag.
import fs from 'node:fs';

export type OptType = 'string' | 'int' | 'number' | 'bool' | 'ints';

export interface OptSpec {
  type: OptType;
  help: string;
  default?: string | number | boolean | number[];
  /** short alias, e.g. 'n' for -n */
  alias?: string;
  /** positional argument name this option may also come from */
  positional?: boolean;
  /** numbers (and each of 'ints'): the smallest allowed value, inclusive */
  min?: number;
  /** numbers: the value must be greater than this (exclusive) */
  above?: number;
  /** numbers: the largest allowed value, inclusive */
  max?: number;
  /** numbers: the value must be less than this (exclusive) */
  below?: number;
  /** strings: the allowed values */
  choices?: readonly string[];
  /** strings: refuse "" */
  nonEmpty?: boolean;
}

export type OptTable = Record<string, OptSpec>;
export type Parsed = Record<string, string | number | boolean | number[] | string[] | Set<string> | undefined>;

import { UsageError } from '../usage-error.js';
import { SEED_MAX } from '../tensor/rng.js';
import { notValidJson } from '../data/jsonl.js';
export { UsageError };

/** the range of every --seed flag: the seeds the generator tells apart (src/tensor/rng.ts), never wrapped */
export const SEED_RANGE = { min: 0, max: SEED_MAX } as const;

/** an option key as its flag is spelled: loraplusLrRatio → `loraplus-lr-ratio` (without the leading --) */
export const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
const camel = (s: string): string => s.replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());

/** the range of a numeric option in words: "at least 1", "in (0, 1]" */
function rangeText(spec: OptSpec): string {
  const lo = spec.min !== undefined ? `[${spec.min}` : spec.above !== undefined ? `(${spec.above}` : null;
  const hi = spec.max !== undefined ? `${spec.max}]` : spec.below !== undefined ? `${spec.below})` : null;
  if (lo && hi) return `in ${lo}, ${hi}`;
  if (lo) return spec.min !== undefined ? `at least ${spec.min}` : `greater than ${spec.above}`;
  return spec.max !== undefined ? `at most ${spec.max}` : `less than ${spec.below}`;
}

/** checks a converted value against the spec's range or choices; throws naming the flag and the range */
function checkRange(name: string, spec: OptSpec, v: string | number | boolean | number[], where: string): void {
  const fail = (what: string, got: unknown = v): never => {
    throw new UsageError(`${where}: --${kebab(name)} ${what}, got ${JSON.stringify(got)}`);
  };
  const nums = typeof v === 'number' ? [v] : Array.isArray(v) ? v : [];
  for (const n of nums) {
    if ((spec.min !== undefined && n < spec.min) || (spec.above !== undefined && !(n > spec.above)) ||
      (spec.max !== undefined && n > spec.max) || (spec.below !== undefined && !(n < spec.below))) fail(`${Array.isArray(v) ? 'values must each be' : 'must be'} ${rangeText(spec)}`, n);
  }
  if (typeof v === 'string' && spec.choices && !spec.choices.includes(v)) fail(`must be one of ${spec.choices.join(', ')}`);
  if (typeof v === 'string' && spec.nonEmpty && v.trim() === '') fail('must not be empty');
}

function convert(name: string, spec: OptSpec, raw: unknown, where: string): string | number | boolean | number[] {
  const v = convertType(name, spec, raw, where);
  checkRange(name, spec, v, where);
  return v;
}

/** a decimal number written as a flag's value or a JSON number: 16, -0.5, 1e3 (not 0x10, 0b1, 0o7, Infinity or ""), else NaN */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
function decimal(raw: unknown): number {
  if (typeof raw === 'number') return raw;
  return typeof raw === 'string' && DECIMAL.test(raw.trim()) ? Number(raw) : NaN;
}

function convertType(name: string, spec: OptSpec, raw: unknown, where: string): string | number | boolean | number[] {
  const fail = (what: string): never => {
    throw new UsageError(`${where}: --${kebab(name)} ${what}, got ${JSON.stringify(raw)}`);
  };
  if (typeof raw === 'number' && !Number.isFinite(raw)) throw new UsageError(`${where}: --${kebab(name)} is not a finite number`);
  switch (spec.type) {
    case 'string':
      if (typeof raw !== 'string') fail('needs a text value');
      return raw as string;
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      return fail('must be true or false');
    case 'int': {
      const n = decimal(raw);
      if (!Number.isInteger(n)) fail('must be a whole number (decimal digits, e.g. 16 or 1e3)');
      if (!Number.isSafeInteger(n)) fail(`is too large to count exactly (at most ${Number.MAX_SAFE_INTEGER})`);
      return n;
    }
    case 'number': {
      const n = decimal(raw);
      if (n === Infinity || n === -Infinity) fail('is beyond the largest number JavaScript holds (±1.8e308)');
      if (!Number.isFinite(n)) fail('must be a number (decimal, e.g. 0.001 or 1e-3)');
      return n;
    }
    case 'ints': {
      const parts = Array.isArray(raw) ? raw : typeof raw === 'string' ? (raw.trim() === '' ? [] : raw.split(',')) : fail('must be a comma-separated list of whole numbers');
      if ((parts as unknown[]).some((p) => typeof p === 'string' && p.trim() === '')) fail('has an empty item: give whole numbers separated by single commas');
      const ns = (parts as unknown[]).map(decimal);
      if (ns.some((n) => !Number.isInteger(n))) fail('must be a comma-separated list of whole numbers');
      if (ns.some((n) => !Number.isSafeInteger(n))) fail(`has a number too large to count exactly (at most ${Number.MAX_SAFE_INTEGER})`);
      return ns;
    }
  }
}

/**
 * Parses argv against the table. Precedence: defaults < --config file < flags. Returns options keyed by
 * camelCase name, plus `_` with leftover positionals.
 */
export type ParsedArgs = Parsed & {
  _: string[];
  help?: boolean;
  /** options set by a flag or the config file */
  _given: Set<string>;
  /** options set on the command line (a flag or a positional), not by the config file, which may be shared by runs that read different keys */
  _flags: Set<string>;
  _constantLr?: boolean;
};

/**
 * An option's value, or undefined when resuming and it was not given now (a flag or the config file): for the
 * settings a job takes as "absent = not given", so that a resumed run keeps its own (a new run gets the table's
 * default, which is the job's).
 */
export function givenOrOwn(o: ParsedArgs, name: string): unknown {
  return o.resume && !o._given.has(name) ? undefined : o[name];
}

/** parseArgs options: `rest` lets positionals beyond the table's (texts to classify, words) stay in `_` */
export interface ParseOptions { rest?: boolean }

export function parseArgs(argv: string[], table: OptTable, command: string, opts: ParseOptions = {}): ParsedArgs {
  const out: ParsedArgs = { _: [], _given: new Set(), _flags: new Set() };
  const byAlias = new Map(Object.entries(table).filter(([, s]) => s.alias).map(([n, s]) => [s.alias!, n]));
  const fromFlags: Parsed = {};
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      out.help = true;
      continue;
    }
    if (a === '--') {
      out._.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      let key = a.startsWith('--') ? a.slice(2) : byAlias.get(a.slice(1)) ?? a.slice(1);
      let value: string | undefined;
      const eq = key.indexOf('=');
      if (eq >= 0) (value = key.slice(eq + 1)), (key = key.slice(0, eq));
      if (key === 'config') {
        configFile = value ?? argv[++i];
        if (configFile === undefined) throw new UsageError(`${command}: --config needs a file name`);
        continue;
      }
      let name = camel(key);
      let negated = false;
      if (!Object.hasOwn(table, name) && name.startsWith('no') && Object.hasOwn(table, camel(key.slice(3))) && table[camel(key.slice(3))].type === 'bool') {
        name = camel(key.slice(3));
        negated = true;
      }
      const spec = Object.hasOwn(table, name) ? table[name] : undefined;
      if (!spec) throw new UsageError(`${command}: unknown option ${a.split('=')[0]} (see gptlab ${command} --help)`);
      if (spec.type === 'bool') {
        const v = negated ? false : value === undefined ? true : convert(name, spec, value, command);
        if (Object.hasOwn(fromFlags, name) && fromFlags[name] !== v) throw new UsageError(`${command}: --${kebab(name)} and --no-${kebab(name)} contradict each other; give one`);
        fromFlags[name] = v;
        continue;
      }
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined || isKnownFlag(value, table, byAlias)) {
          throw new UsageError(`${command}: --${kebab(name)} needs a value${value === undefined ? '' : ` (${value.split('=')[0]} is a flag)`}`);
        }
      }
      fromFlags[name] = convert(name, spec, value, command);
    } else out._.push(a);
  }
  for (const [name, spec] of Object.entries(table)) if (spec.default !== undefined) out[name] = spec.default;
  if (configFile !== undefined) applyConfigFile(configFile, table, command, out);
  Object.assign(out, fromFlags);
  for (const k of Object.keys(fromFlags)) {
    out._given.add(k);
    out._flags.add(k);
  }
  if (out._constantLr && !fromFlags.minLr) (out.minLr = out.lr), (out.warmupIters = 0);
  // positionals fill options marked positional, in table order, when not given as flags
  for (const [name, spec] of Object.entries(table)) {
    if (spec.positional && fromFlags[name] === undefined && out._.length) {
      out[name] = convert(name, spec, out._.shift(), command);
      out._given.add(name);
      out._flags.add(name);
    }
  }
  if (!opts.rest) refuseExtraPositionals(table, command, out, fromFlags);
  // a flag conflict, refused before any work (RunFolder refuses it too, for library callers)
  if (Object.hasOwn(table, 'resume') && Object.hasOwn(table, 'force') && out.resume === true && out.force === true) {
    throw new UsageError(`${command}: --resume continues the run in --out and --force overwrites it; give one of them`);
  }
  return out;
}

/**
 * Whether `token`, met where a flag's value belongs (`--base --max-iters 1`), is itself a flag of the table
 * (--max-iters, --no-lora-new-tokens, --config, --help, -n): the value was forgotten. A negative number (-1) or
 * any other text is a value.
 */
function isKnownFlag(token: string, table: OptTable, byAlias: Map<string, string>): boolean {
  if (token === '-h' || token === '--help' || token === '--config' || token.startsWith('--config=')) return true;
  if (/^-[^-]/.test(token)) return byAlias.has(token.slice(1).split('=')[0]);
  if (!token.startsWith('--') || token.length === 2) return false;
  const key = token.slice(2).split('=')[0], name = camel(key);
  if (Object.hasOwn(table, name)) return true;
  return key.startsWith('no-') && Object.hasOwn(table, camel(key.slice(3))) && table[camel(key.slice(3))].type === 'bool';
}

/**
 * A command whose table names its positionals (gptlab export MODEL) takes no more than those: extra ones
 * would be dropped silently. Throws "export: one model expected, got 2: A B". A table without positionals takes
 * none: "sft: unexpected argument "stray"". (parseArgs's `rest` leaves extra positionals to the command.)
 */
function refuseExtraPositionals(table: OptTable, command: string, out: ParsedArgs, fromFlags: Parsed): void {
  const names = Object.entries(table).filter(([, s]) => s.positional).map(([n]) => n);
  if (!out._.length) return;
  if (!names.length) {
    // a command of flags only (train, sft, dpo, …): a word among them was meant as something, never dropped silently
    const hint = Object.hasOwn(table, 'data') ? ` (did you mean --data ${out._[0]}?)` : ' (this command takes flags only)';
    throw new UsageError(`${command}: unexpected argument "${out._[0]}"${hint}`);
  }
  if (names.length > 1) throw new UsageError(`${command}: unexpected argument${out._.length > 1 ? 's' : ''} ${out._.map((a) => JSON.stringify(a)).join(' ')} (it takes ${names.map((n) => n.toUpperCase()).join(' ')})`);
  const name = names[0], fromFlag = fromFlags[name] !== undefined, what = name === 'checkpoint' || name === 'ckpt' ? 'model' : kebab(name);
  if (fromFlag) throw new UsageError(`${command}: unexpected argument${out._.length > 1 ? 's' : ''} ${out._.join(' ')} (the ${what} is given with --${kebab(name)})`);
  const all = [out[name] as string, ...out._];
  throw new UsageError(`${command}: one ${what} expected, got ${all.length}: ${all.join(' ')}`);
}

/**
 * nanoGPT's config names (its train.py globals) that differ from ours once camel-cased; the rest
 * (batch_size, block_size, n_layer, max_iters, min_lr, warmup_iters, …) map by case alone.
 */
export const NANOGPT_NAMES: Record<string, string> = { learning_rate: 'lr', out_dir: 'out' };

/** nanoGPT settings with no meaning here (devices, logging, distributed training): skipped with a note */
const NANOGPT_IGNORED = new Set([
  'device', 'dtype', 'compile', 'wandb_log', 'wandb_project', 'wandb_run_name', 'log_interval',
  'always_save_checkpoint', 'eval_only', 'init_from', 'dataset', 'gradient_accumulation_steps',
]);

function readConfigJson(configFile: string): Record<string, unknown> {
  let json: unknown, text = '';
  try {
    text = fs.readFileSync(configFile, 'utf8');
    json = JSON.parse(text);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' || err.code === 'EISDIR') throw new UsageError(`${configFile}: ${err.code === 'ENOENT' ? 'no such config file' : 'is a folder, not a config file'}`);
    // file:line of the problem, and the reason without V8's excerpt of the text (src/data/jsonl.ts)
    const at = /at position (\d+)/.exec(err.message);
    if (!at) throw new UsageError(`${configFile}: ${notValidJson(err, text)}`);
    const before = text.slice(0, Number(at[1])), line = before.split('\n').length;
    const inLine = new Error(err.message.replace(/at position \d+/, `at position ${before.length - before.lastIndexOf('\n') - 1}`));
    throw new UsageError(`${configFile}:${line}: ${notValidJson(inLine, text.split('\n')[line - 1])}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new UsageError(`${configFile}: a config file must hold a JSON object`);
  return json as Record<string, unknown>;
}

/** one nanoGPT-only key: true when handled (skipped or applied), so it is not an unknown option */
function nanoGptSpecial(k: string, v: unknown, table: OptTable, configFile: string, out: ParsedArgs): boolean {
  if (k === 'gradient_accumulation_steps' && v !== 1) throw new UsageError(`${configFile}: "gradient_accumulation_steps" ${JSON.stringify(v)}: gptlab has no gradient accumulation; use a larger batch_size`);
  if (k === 'init_from' && v === 'resume' && Object.hasOwn(table, 'resume')) {
    out.resume = true;
    out._given.add('resume');
    return true;
  }
  if (k === 'init_from' && v !== 'scratch') throw new UsageError(`${configFile}: "init_from" ${JSON.stringify(v)}: gptlab starts from scratch or resumes (--resume); fine-tune with gptlab sft --base`);
  if (NANOGPT_IGNORED.has(k) || k.startsWith('wandb_') || (k === 'backend' && (v === 'nccl' || v === 'gloo'))) {
    process.stderr.write(`${configFile}: note: nanoGPT's "${k}" has no meaning in gptlab and is skipped\n`);
    return true;
  }
  if (k === 'decay_lr' && Object.hasOwn(table, 'minLr')) {
    // nanoGPT's decay_lr = False: a constant learning rate, no warmup
    if (v === false) out._constantLr = true;
    return true;
  }
  return false;
}

/** applies a --config JSON file: keys are flag names (camelCase, kebab-case, snake_case) or nanoGPT's names */
function applyConfigFile(configFile: string, table: OptTable, command: string, out: ParsedArgs): void {
  const keyOf = new Map<string, string>(); // option name → the key that set it, so two spellings of one option are refused
  for (const [k, v] of Object.entries(readConfigJson(configFile))) {
    if (nanoGptSpecial(k, v, table, configFile, out)) continue;
    const name = camel(Object.hasOwn(NANOGPT_NAMES, k) ? NANOGPT_NAMES[k] : k);
    const spec = Object.hasOwn(table, name) ? table[name] : undefined;
    if (!spec || k === '__proto__' || k === 'constructor' || k === 'prototype') throw new UsageError(`${configFile}: unknown option "${k}" for gptlab ${command}`);
    if ((spec.type === 'int' || spec.type === 'number') && typeof v !== 'number') {
      throw new UsageError(`${configFile}: --${kebab(name)} must be ${spec.type === 'int' ? 'a whole number' : 'a number'} (a JSON number, not text), got ${JSON.stringify(v)}`);
    }
    if (keyOf.has(name)) throw new UsageError(`${configFile}: "${keyOf.get(name)}" and "${k}" both set --${kebab(name)}; keep one`);
    keyOf.set(name, k);
    out[name] = convert(name, spec, v, configFile);
    out._given.add(name);
  }
}

export function helpText(command: string, summary: string, table: OptTable, usage?: string): string {
  const lines = [`gptlab ${command} — ${summary}`, '', `usage: ${usage ?? `gptlab ${command} [options]`}`, '', 'options:'];
  const rows = Object.entries(table).map(([n, s]) => {
    const flag = `${s.alias ? `-${s.alias}, ` : ''}--${kebab(n)}${s.type === 'bool' ? '' : ` <${s.type === 'ints' ? 'n,n,…' : s.type}>`}`;
    // a string default as it would be typed: JSON's escapes for a newline or tab ("\n"), quoted then
    const shown = (v: unknown): string => (typeof v === 'string' && /[\n\r\t]/.test(v) ? JSON.stringify(v) : String(v));
    const def = s.default !== undefined && s.default !== '' ? ` (default: ${Array.isArray(s.default) ? s.default.join(',') : shown(s.default)})` : '';
    const hasRange = s.min !== undefined || s.above !== undefined || s.max !== undefined || s.below !== undefined;
    const range = hasRange ? `; ${rangeText(s)}` : s.choices ? `; one of ${s.choices.join(', ')}` : '';
    return [flag, s.help + def + range];
  });
  rows.push(['--config <file.json>', 'read options from a JSON object (flags given on the command line win)'], ['-h, --help', 'show this help']);
  const w = Math.max(...rows.map((r) => r[0].length)) + 2;
  for (const [f, h] of rows) lines.push(`  ${f.padEnd(w)}${h}`);
  return lines.join('\n');
}
