// `gptlab tokenize …` (see text split into coloured tokens, ids, statistics) and
// `gptlab tokenizer train …` (train a tokenizer on a file and save it).
import { writeFile } from 'node:fs/promises';
import { ProgressBar } from '../train/progress.node.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { BPETokenizer } from '../tokenizers/bpe.js';
import { trainBPE } from '../tokenizers/bpe-train.js';
import { CharTokenizer } from '../tokenizers/char.js';
import { WordTokenizer } from '../tokenizers/word.js';
import { WordPieceTokenizer } from '../tokenizers/wordpiece.js';
import { ChineseTokenizer } from '../tokenizers/chinese.js';
import { NAMED_PATTERNS } from '../tokenizers/patterns.js';
import { bpeToHF, wordPieceToHF } from '../tokenizers/huggingface.js';
import { tokenStats } from '../tokenizers/stats.js';
import { readTextFile, resolveTokenizer } from '../tokenizers/file.node.js';
import { outputFileProblem } from './common.js';

const TOKENIZE_HELP = `usage: gptlab tokenize [TEXT] [options]
Shows how a tokenizer splits text: coloured pieces with their ids (like the OpenAI tokenizer page).
Input: TEXT argument, --file FILE, or stdin.
  --encoding NAME    gpt2 | cl100k_base | o200k_base (default cl100k_base; ranks from js-tiktoken)
  --ranks FILE       .tiktoken rank file for --encoding instead of the js-tiktoken package
  --tokenizer FILE   a tokenizer file (ours, Hugging Face tokenizer.json, or .tiktoken)
  --file FILE        read the text from FILE (UTF-8)
  --ids              print only the ids as a JSON array
  --stats            print statistics (tokens per char/word, bytes per token)
  --allow-special    encode special-token text (e.g. <|endoftext|>) as special tokens
  --color / --no-color   force ANSI colours on/off (default: on when stdout is a terminal)
`;

const TRAIN_HELP = `usage: gptlab tokenizer train --type TYPE --vocab-size N --data FILE --out FILE [options]
  --type TYPE        bpe | wordpiece | char | word | chinese | chinese-word
  --vocab-size N     target vocabulary size (bpe: at least 256 + specials)
  --data FILE        UTF-8 training text
  --out FILE         where to write the tokenizer (JSON; load with --tokenizer FILE)
  --pattern P        bpe split pattern: gpt4 (default) | gpt2 | o200k | none (no split) | a regex
  --special A,B      special tokens to add (bpe default: <|endoftext|>)
  --hf               write Hugging Face tokenizer.json format (bpe, wordpiece)
  --quiet            no progress
`;

class UsageError extends Error {}

interface Parsed { positional: string[]; flags: Map<string, string | true> }

function parse(argv: string[], valued: string[], bools: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { positional.push(...argv.slice(i + 1)); break; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (valued.includes(name)) {
        const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`option --${name} needs a value`);
        flags.set(name, v);
      } else if (bools.includes(name) && eq < 0) flags.set(name, true);
      else throw new UsageError(`unknown option ${a}`);
    } else if (a === '-h') flags.set('help', true);
    else positional.push(a);
  }
  return { positional, flags };
}

const str = (p: Parsed, k: string): string | undefined => { const v = p.flags.get(k); return typeof v === 'string' ? v : undefined; };

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const { decodeUtf8Strict } = await import('../tokenizers/utf8.js');
  return decodeUtf8Strict(new Uint8Array(Buffer.concat(chunks)), 'stdin');
}

// pastel backgrounds with black text, cycled, so neighbouring tokens always differ
const BG = [153, 158, 186, 223, 217, 183, 195, 229];

/** groups ids whose bytes only form whole characters together (one emoji can be several byte tokens) */
function pieces(tok: Tokenizer, ids: number[]): { text: string; ids: number[] }[] {
  const out: { text: string; ids: number[] }[] = [];
  const fatal = new TextDecoder('utf-8', { fatal: true });
  let group: number[] = [];
  let bytes: number[] = [];
  const flush = (force: boolean): boolean => {
    if (!group.length) return true;
    try {
      out.push({ text: fatal.decode(Uint8Array.from(bytes)), ids: group });
    } catch {
      if (!force && bytes.length < 8) return false;
      out.push({ text: new TextDecoder().decode(Uint8Array.from(bytes)), ids: group });
    }
    group = [];
    bytes = [];
    return true;
  };
  for (const id of ids) {
    if (tok instanceof BPETokenizer) {
      const special = [...tok.specialTokens].find(([, v]) => v === id);
      group.push(id);
      for (const b of special ? new TextEncoder().encode(special[0]) : tok.tokenBytes(id)) bytes.push(b);
      flush(false);
    } else {
      out.push({ text: tok.idToToken(id), ids: [id] });
    }
  }
  flush(true);
  return out;
}

function visible(s: string): string {
  return s.replace(/\n/g, '↵\n').replace(/\t/g, '→');
}

export async function tokenizeCommand(argv: string[]): Promise<number> {
  try {
    const p = parse(argv, ['encoding', 'tokenizer', 'file', 'ranks'], ['ids', 'stats', 'color', 'no-color', 'allow-special', 'help']);
    if (p.flags.has('help')) { process.stdout.write(TOKENIZE_HELP); return 0; }
    if (p.flags.has('encoding') && p.flags.has('tokenizer')) throw new UsageError('give either --encoding or --tokenizer, not both');
    if (p.positional.length > 1) throw new UsageError(`expected at most one TEXT argument (quote it), got ${p.positional.length}`);
    const file = str(p, 'file');
    if (file && p.positional.length) throw new UsageError('give either TEXT or --file, not both');
    const tok = await resolveTokenizer({ encoding: str(p, 'encoding'), tokenizer: str(p, 'tokenizer'), ranks: str(p, 'ranks') });
    const text = file ? await readTextFile(file) : p.positional.length ? p.positional[0] : await readStdin();
    const ids = tok.encode(text, { allowedSpecial: p.flags.has('allow-special') ? 'all' : 'none' });
    if (p.flags.has('ids')) { process.stdout.write(JSON.stringify(ids) + '\n'); return 0; }
    if (p.flags.has('stats')) {
      const s = tokenStats(tok, text, ids);
      const name = (tok as { name?: string }).name ?? tok.type;
      process.stdout.write(
        `tokenizer        ${name} (vocab ${tok.vocabSize})\n` +
          `tokens           ${s.tokens}\ncharacters       ${s.chars}\nwords            ${s.words}\nbytes (UTF-8)    ${s.bytes}\n` +
          `tokens per char  ${s.tokensPerChar.toFixed(4)}\ntokens per word  ${s.tokensPerWord.toFixed(4)}\n` +
          `bytes per token  ${s.bytesPerToken.toFixed(4)}\nchars per token  ${s.charsPerToken.toFixed(4)}\n`,
      );
      return 0;
    }
    const color = p.flags.has('color') || (!p.flags.has('no-color') && process.stdout.isTTY === true);
    const ps = pieces(tok, ids);
    if (color) {
      let s = '';
      ps.forEach((piece, i) => {
        const bg = `\x1b[48;5;${BG[i % BG.length]}m\x1b[30m`;
        // colour each line separately so newlines do not paint the rest of the terminal row
        s += visible(piece.text).split('\n').map((line) => (line ? bg + line + '\x1b[0m' : '')).join('\n');
      });
      process.stdout.write(`${s}\n\n${ps.length} pieces, ${ids.length} tokens\n${JSON.stringify(ids)}\n`);
    } else {
      for (const piece of ps) process.stdout.write(`${piece.ids.join(' ').padStart(8)}  ${JSON.stringify(piece.text)}\n`);
      process.stdout.write(`${ids.length} tokens\n`);
    }
    return 0;
  } catch (e) {
    process.stderr.write(`gptlab tokenize: ${(e as Error).message}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

export async function tokenizerCommand(argv: string[]): Promise<number> {
  try {
    if (argv[0] === '--help' || argv[0] === '-h' || argv.length === 0) { process.stdout.write(TRAIN_HELP); return argv.length ? 0 : 2; }
    if (argv[0] !== 'train') throw new UsageError(`unknown subcommand ${JSON.stringify(argv[0])} (expected: train)`);
    const p = parse(argv.slice(1), ['type', 'vocab-size', 'data', 'out', 'pattern', 'special'], ['hf', 'quiet', 'help']);
    if (p.flags.has('help')) { process.stdout.write(TRAIN_HELP); return 0; }
    if (p.positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(p.positional[0])}`);
    const type = str(p, 'type') ?? 'bpe';
    const vs = str(p, 'vocab-size');
    const data = str(p, 'data');
    const out = str(p, 'out');
    if (!data) throw new UsageError('--data FILE is required');
    if (!out) throw new UsageError('--out FILE is required');
    if (vs === undefined) throw new UsageError('--vocab-size N is required');
    const vocabSize = Number(vs);
    if (!Number.isInteger(vocabSize) || vocabSize <= 0) throw new UsageError(`--vocab-size must be a positive integer, got ${JSON.stringify(vs)}`);
    const outProblem = outputFileProblem(out, '--out', 'train');
    if (outProblem) throw new UsageError(outProblem);
    const specialFlag = str(p, 'special');
    const quiet = p.flags.has('quiet');
    const text = await readTextFile(data);
    const t0 = performance.now();
    let tok: Tokenizer;
    // the same progress line as training: redrawn in place on a terminal, a line now and then in logs
    const bar = quiet ? null : new ProgressBar({ label: `training ${type}`, everySeconds: 5 });
    const progress = (done: number, total: number): void => bar?.update({ step: done, total });
    switch (type) {
      case 'bpe': {
        const pat = str(p, 'pattern') ?? 'gpt4';
        if (pat !== 'none' && !NAMED_PATTERNS[pat] && !pat.includes('\\')) throw new UsageError(`--pattern must be gpt2, gpt4, o200k, none or a regex; got ${JSON.stringify(pat)}`);
        const specials = specialFlag === undefined ? ['<|endoftext|>'] : specialFlag.split(',').filter(Boolean);
        tok = trainBPE(text, { vocabSize, pattern: pat === 'none' ? null : pat, specialTokens: specials, onProgress: (q) => progress(q.merge, q.merges) });
        break;
      }
      case 'wordpiece':
        tok = WordPieceTokenizer.train(text, vocabSize, { onProgress: progress });
        break;
      case 'char': {
        const specials = specialFlag ? specialFlag.split(',').filter(Boolean) : [];
        tok = CharTokenizer.fromText(text, specials);
        if (tok.vocabSize > vocabSize) throw new Error(`${data} has ${tok.vocabSize} distinct characters, more than --vocab-size ${vocabSize}; use --type chinese (byte fallback) or a larger size`);
        break;
      }
      case 'word':
        tok = WordTokenizer.train(text, vocabSize, specialFlag ? specialFlag.split(',') : []);
        break;
      case 'chinese':
      case 'chinese-word':
        tok = ChineseTokenizer.train(text, vocabSize, { words: type === 'chinese-word', specialTokens: specialFlag ? specialFlag.split(',') : [] });
        break;
      default:
        throw new UsageError(`--type must be bpe, wordpiece, char, word, chinese or chinese-word; got ${JSON.stringify(type)}`);
    }
    bar?.done();
    let json: unknown = tok.toJSON();
    if (p.flags.has('hf')) {
      if (tok instanceof BPETokenizer) json = bpeToHF(tok);
      else if (tok instanceof WordPieceTokenizer) json = wordPieceToHF(tok);
      else throw new UsageError('--hf is only for --type bpe or wordpiece');
    }
    await writeFile(out, JSON.stringify(json) + '\n');
    const secs = ((performance.now() - t0) / 1000).toFixed(2);
    const note = tok.vocabSize < vocabSize ? ` (asked for ${vocabSize}: the data has no more pairs worth merging)` : '';
    process.stderr.write(`wrote ${out}: ${type} tokenizer, vocab ${tok.vocabSize}${note}, ${secs} s\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`gptlab tokenizer: ${(e as Error).message}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}
