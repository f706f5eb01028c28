// `gptlab ngram …`: word n-gram models and ARPA files, as KenLM's lmplz and query make and read them.
//   gptlab ngram train --data FILE --order N [--smoothing kneser-ney|add-k|mle] [--k 0.5] [--dev FILE] [--out model.arpa]
//   gptlab ngram query MODEL.arpa --data FILE [--per-sentence]
//   gptlab ngram sample MODEL.arpa [-n 5] [--seed S] [--max-words 50]
// Text is read as lmplz and query read it: one sentence per line, words split at spaces and tabs, `<s>` and `</s>`
// added around each line (an empty line is the empty sentence "<s> </s>"). Scores are KenLM query's: `</s>` is
// predicted and counted, `<s>` is context only; a word the model never saw is an OOV, scored as `<unk>` and
// counted in "Perplexity including OOVs", left out of "excluding OOVs".
// Only a model with a back-off table can be an ARPA file: Kneser–Ney (ours, lmplz's) or any file read. add-k
// gives every unseen n-gram (c(h) · k)-dependent mass that no back-off weight reproduces, and mle gives unseen
// n-grams of a seen context probability 0: neither is written; train reports their counts and --dev perplexity.
import fs from 'node:fs';
import zlib from 'node:zlib';
import { helpText, kebab, parseArgs, UsageError, SEED_RANGE, type OptTable, type ParsedArgs } from './args.js';
import { checkOutputFile, maybeHelp, runSubcommand } from './common.js';
import { readFileBytes, readTextFile } from '../formats/text-file.node.js';
import { writeFileAtomicSync } from '../formats/atomic.node.js';
import { decodeUtf8Strict } from '../tokenizers/utf8.js';
import { NgramLM, MAX_NGRAM_ORDER, type Smoothing } from '../lm/ngram.js';
import { readArpa, writeArpa } from '../lm/arpa.js';
import { sentencesFromText } from '../lm/text.js';
import { UNK } from '../lm/vocab.js';
import { unsegmentedTextNote } from '../embeddings/vocab.js';
import { Rng } from '../tensor/rng.js';

const SMOOTHINGS = ['kneser-ney', 'add-k', 'mle'] as const;
/** lmplz's --discount_fallback discounts (D1, D2, D3+) */
const FALLBACK: [number, number, number] = [0.5, 1, 1.5];
/** KenLM's query gives OOVs this log10 probability when an ARPA file has no <unk> */
const MISSING_UNK_LOG10 = -100;

const TRAIN_OPTS: OptTable = {
  data: { type: 'string', nonEmpty: true, help: 'training text: one sentence per line, words split at spaces and tabs (as lmplz reads it)' },
  order: { type: 'int', default: 3, min: 1, max: MAX_NGRAM_ORDER, help: `the order n (lmplz -o); at most ${MAX_NGRAM_ORDER} (KenLM's query loads orders up to 6 unless rebuilt) and at most the longest sentence + 2` },
  smoothing: { type: 'string', default: 'kneser-ney', choices: SMOOTHINGS, help: 'kneser-ney (interpolated modified, as lmplz; written as ARPA), add-k or mle (reported only: not representable as ARPA)' },
  k: { type: 'number', default: 0.5, above: 0, help: 'add-k: the pseudo-count added to every n-gram (1 = Laplace)' },
  discountFallback: { type: 'bool', help: `kneser-ney: discounts ${FALLBACK.join(' ')} for an order whose counts cannot give them (lmplz --discount_fallback)` },
  dev: { type: 'string', nonEmpty: true, help: 'held-out text to report perplexity on, scored as KenLM query scores it' },
  out: { type: 'string', help: 'where to write the ARPA file (kneser-ney only; written atomically; gzipped when the name ends in .gz); without it nothing is written' },
  force: { type: 'bool', help: 'overwrite an existing --out file' },
};

const QUERY_OPTS: OptTable = {
  model: { type: 'string', positional: true, help: 'an ARPA file (ours or KenLM\'s lmplz; .gz read too)' },
  data: { type: 'string', nonEmpty: true, help: 'text to score: one sentence per line (an empty line is "<s> </s>", as in query)' },
  perSentence: { type: 'bool', help: 'print "Total: LOG10 OOV: N" for each line first, as query -v sentence' },
};

const SAMPLE_OPTS: OptTable = {
  model: { type: 'string', positional: true, help: 'an ARPA file (ours or KenLM\'s lmplz; .gz read too)' },
  n: { type: 'int', alias: 'n', default: 5, min: 1, max: 100000, help: 'how many sentences' },
  seed: { type: 'int', ...SEED_RANGE, default: 1337, help: 'random seed' },
  maxWords: { type: 'int', default: 50, min: 1, max: 100000, help: 'a sentence that has not drawn </s> by then is cut here (shown with a trailing …)' },
};

const USAGE = `usage: gptlab ngram train --data FILE [--order 3] [--smoothing kneser-ney|add-k|mle] [--k 0.5] [--dev FILE] [--out model.arpa] [--force]
       gptlab ngram query MODEL.arpa --data FILE [--per-sentence]
       gptlab ngram sample MODEL.arpa [-n 5] [--seed S] [--max-words 50]
Word n-grams as KenLM's lmplz and query: one sentence per line, <s> … </s> around each; </s> is counted, <s> is
not; OOVs are scored as <unk>. Only kneser-ney models are written (ARPA); add-k and mle report counts and --dev perplexity.
(gptlab ngram SUBCOMMAND --help for its options)`;

export async function ngramCommand(argv: string[]): Promise<number> {
  return runSubcommand('ngram', argv, USAGE, { train: trainSub, query: querySub, sample: sampleSub }, 'train, query or sample');
}

const fmt = (n: number): string => n.toLocaleString('en');
/** "1 sentence", "2,000 sentences" */
const count = (n: number, noun: string): string => `${fmt(n)} ${noun}${n === 1 ? '' : 's'}`;
/** a log10 probability or a perplexity, as query prints them (shortest form of 8 significant digits) */
const num = (x: number, digits = 8): string => (Number.isFinite(x) ? String(Number(x.toPrecision(digits))) : x > 0 ? 'inf' : '-inf');

async function trainSub(argv: string[]): Promise<number> {
  const o = parseArgs(argv, TRAIN_OPTS, 'ngram train');
  if (maybeHelp(o, () => helpText('ngram train', 'count word n-grams of a text and write a Kneser–Ney ARPA file (as KenLM lmplz)', TRAIN_OPTS, 'gptlab ngram train --data FILE [--order 3] [--smoothing kneser-ney] [--dev FILE] [--out model.arpa]'))) return 0;
  if (o._.length) throw new UsageError(`ngram train: unexpected argument "${o._[0]}" (the text comes with --data FILE)`);
  if (o.data === undefined) throw new UsageError('ngram train: --data FILE is required (one sentence per line)');
  const smoothing = trainSmoothing(o);
  const out = o.out as string | undefined;
  if (out !== undefined) {
    if (smoothing.kind !== 'kneser-ney') {
      throw new UsageError(`ngram train: --smoothing ${smoothing.kind} cannot be written as ARPA (${smoothing.kind === 'add-k' ? 'add-k gives each unseen n-gram k / (c(h) + k|V|), which no back-off weight reproduces' : 'mle gives unseen n-grams of a seen context probability 0'}); drop --out to report its counts and --dev perplexity, or use --smoothing kneser-ney`);
    }
    checkOutputFile(out, '--out', 'ngram train', { refuseExisting: !o.force, regularOnly: true, inputs: [['--data', o.data], ['--dev', o.dev]] });
  }
  const file = o.data as string;
  const sentences = readSentences(file, true);
  const dev = o.dev !== undefined ? readSentences(o.dev as string) : undefined; // before anything is written
  const order = o.order as number;
  checkTrainingText(file, sentences, order);
  const lm = fitNamed(file, sentences, order, smoothing);
  const words = sentences.reduce((n, s) => n + s.length, 0);
  const log = (line: string): boolean => process.stdout.write(line + '\n');
  log(`${file}: ${count(sentences.length, 'sentence')}, ${count(words, 'word')}, vocabulary ${fmt(lm.vocab.size)} (the words, <unk>, <s>, </s>)`);
  const unsegmented = unsegmentedTextNote(sentences.flat(), file, 'ngram train');
  if (unsegmented) process.stderr.write(unsegmented + '\n');
  const what = smoothing.kind === 'kneser-ney' ? 'interpolated modified Kneser–Ney, as lmplz' : smoothing.kind === 'add-k' ? `add-k, k = ${smoothing.k}` : 'maximum likelihood';
  log(`order ${order}, ${what}; n-grams of each order${smoothing.kind === 'kneser-ney' ? ' (as the ARPA file lists them) and discounts' : ' (distinct, counted)'}:`);
  const counts = lm.table ? lm.table.counts() : lm.counts!.orders.map((t) => t.size);
  counts.forEach((c, m) => {
    const d = lm.discounts[m];
    log(`  ngram ${m + 1}=${c}${d ? `\tD1=${num(d[0], 6)} D2=${num(d[1], 6)} D3+=${num(d[2], 6)}` : ''}`);
  });
  if (out !== undefined) {
    // a name ending in .gz gets gzip's format, as lmplz's own .gz output (KenLM's query and build_binary read it)
    const gz = /\.gz$/i.test(out);
    writeFileAtomicSync(out, gz ? zlib.gzipSync(writeArpa(lm)) : writeArpa(lm));
    log(`wrote ${out} (ARPA${gz ? ', gzip' : ''}, ${fmt(lm.size)} n-grams; read it with gptlab ngram query or KenLM's query and build_binary)`);
  } else if (smoothing.kind === 'kneser-ney') log('no --out: nothing written');
  if (dev !== undefined) reportDev(lm, o.dev as string, dev, log);
  return 0;
}

/** --smoothing and --k as a Smoothing; --k / --discount-fallback given for a smoothing that does not read them is refused */
function trainSmoothing(o: ParsedArgs): Smoothing {
  const kind = o.smoothing as (typeof SMOOTHINGS)[number];
  const named = `--smoothing ${kind}${o._given.has('smoothing') ? '' : ' (the default)'}`;
  if (kind !== 'add-k' && o._flags.has('k')) throw new UsageError(`ngram train: --k applies to --smoothing add-k, not to ${named}; drop it`);
  if (kind !== 'kneser-ney' && o._flags.has('discountFallback')) throw new UsageError(`ngram train: --${kebab('discountFallback')} applies to --smoothing kneser-ney, not to ${named}; drop it`);
  if (kind === 'add-k') return { kind, k: o.k as number };
  if (kind === 'mle') return { kind };
  return o.discountFallback ? { kind, discountFallback: FALLBACK } : { kind };
}

/** a text file's sentences as lmplz and query read them; throws `FILE: …` or `FILE:LINE: …` */
function readSentences(file: string, training = false): string[][] {
  const sentences = sentencesFromText(readTextFile(file), { file, emptyLines: 'sentence' });
  if (sentences.length === 0) throw new Error(`${file}: no sentences (the file holds no line)`);
  if (training) {
    // lmplz refuses it too: the model's <unk> is the mass of the words it never saw
    const at = sentences.findIndex((s) => s.includes(UNK));
    if (at >= 0) throw new Error(`${file}:${at + 1}: ${UNK} is reserved for the words a model never saw (lmplz refuses it too); replace it`);
  }
  return sentences;
}

/** refuses a text with no words or one distinct word (exit 1), and an order longer than its longest sentence allows (exit 2) */
function checkTrainingText(file: string, sentences: string[][], order: number): void {
  let longest = 0;
  sentences.forEach((s, i) => s.length > sentences[longest].length && (longest = i));
  const maxWords = sentences[longest].length;
  if (maxWords === 0) throw new Error(`${file}: no words: its ${fmt(sentences.length)} line${sentences.length > 1 ? 's are' : ' is'} empty`);
  const distinct = new Set<string>();
  for (const s of sentences) for (const w of s) if (distinct.add(w).size > 1) break;
  if (distinct.size < 2) throw new Error(`${file}: every word is ${JSON.stringify(shortened([...distinct][0]))}: an n-gram model needs a vocabulary of at least two words`);
  if (order > maxWords + 2) {
    // the text is fine and the flag at odds with it: a settings problem (exit 2), as a flag at odds with a run
    throw new UsageError(`ngram train: --order ${order} is longer than any n-gram of ${file}: its longest sentence (line ${longest + 1}) has ${maxWords} word${maxWords > 1 ? 's' : ''}, ${maxWords + 2} tokens with <s> and </s>; use --order ${maxWords + 2} or less`);
  }
}

/** NgramLM.fit, with the library's Kneser–Ney advice put in the command's terms */
function fitNamed(file: string, sentences: string[][], order: number, smoothing: Smoothing): NgramLM {
  try {
    return NgramLM.fit(sentences, order, smoothing);
  } catch (e) {
    const msg = (e as Error).message;
    if (msg.startsWith('Kneser–Ney: cannot estimate')) {
      throw new Error(`${file}: ${msg.replace(/; pass discountFallback.*$/, '')}; add --discount-fallback (discounts ${FALLBACK.join(' ')} for such orders, as lmplz --discount_fallback)`);
    }
    throw new Error(`${file}: ${msg}`);
  }
}

/** scores a held-out text and prints the totals and both perplexities with how they are counted */
function reportDev(lm: NgramLM, file: string, dev: string[][], log: (line: string) => void): void {
  const r = lm.perplexity(dev);
  log(`dev ${file}: ${count(dev.length, 'sentence')}, ${count(r.tokens, 'token')} (each sentence's words and </s>; <s> is context only and not counted, as KenLM's query), ${count(r.oovs, 'OOV')} (words not in the training text, scored as <unk>)`);
  log(`  log10 probability ${num(r.log10Prob)}, perplexity ${num(r.perplexity)} including OOVs, ${num(r.perplexityWithoutOovs)} excluding OOVs`);
  if (!Number.isFinite(r.perplexity) && lm.smoothing.kind === 'mle') log('  (mle gives an n-gram or word the training text lacks probability 0: use kneser-ney or add-k for a finite perplexity)');
}

/**
 * Reads an ARPA file (gzip too); for scoring, a file without <unk> gets one with KenLM's log10 p −100 and a note.
 * `specials`: the special words the file itself holds.
 */
function readModel(file: string, scoring: boolean): { lm: NgramLM; specials: string[] } {
  let bytes = readFileBytes(file, 'model file');
  if (bytes.length === 0) throw new Error(`${file}: the model file is empty`);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = zlib.gunzipSync(bytes);
    } catch (e) {
      throw new Error(`${file}: damaged gzip file (${(e as Error).message})`);
    }
  }
  const lm = readArpa(decodeUtf8Strict(bytes, file), file);
  if (lm.vocab.bos < 0 || lm.vocab.eos < 0) throw new Error(`${file}: the model has no ${lm.vocab.bos < 0 ? '<s>' : '</s>'} 1-gram: it does not model sentences, which query and sample need`);
  const specials = ['<s>', '</s>', UNK].filter((m) => lm.vocab.get(m) >= 0);
  if (scoring && lm.vocab.unk < 0) {
    lm.table!.set([lm.vocab.add(UNK)], MISSING_UNK_LOG10);
    process.stderr.write(`note: ${file} has no <unk>: OOVs get log10 probability ${MISSING_UNK_LOG10}, as KenLM's query substitutes\n`);
  }
  return { lm, specials };
}

async function querySub(argv: string[]): Promise<number> {
  const o = parseArgs(argv, QUERY_OPTS, 'ngram query');
  if (maybeHelp(o, () => helpText('ngram query', 'score a text with an ARPA file and print what KenLM\'s query prints', QUERY_OPTS, 'gptlab ngram query MODEL.arpa --data FILE [--per-sentence]'))) return 0;
  if (o.model === undefined) throw new UsageError('ngram query: which model? give an ARPA file: gptlab ngram query MODEL.arpa --data FILE');
  if (o.data === undefined) throw new UsageError('ngram query: --data FILE is required (the text to score, one sentence per line)');
  const sentences = readSentences(o.data as string);
  const { lm, specials } = readModel(o.model as string, true);
  const scores = sentences.map((s) => lm.scoreSentence(s)); // each sentence scored once, for its line and the totals
  const r = NgramLM.perplexityOf(scores);
  const lines = o.perSentence ? scores.map((x) => `Total: ${num(x.log10Prob)} OOV: ${x.oovs}`) : [];
  lines.push(
    `Sentences:\t${sentences.length}`,
    `Total log10 probability:\t${num(r.log10Prob)}`,
    `Perplexity including OOVs:\t${r.perplexity}`,
    `Perplexity excluding OOVs:\t${r.perplexityWithoutOovs}`,
    `OOVs:\t${r.oovs}`,
    `Tokens:\t${r.tokens}`,
  );
  process.stdout.write(lines.join('\n') + '\n');
  process.stderr.write(`${o.model}: order ${lm.order}, vocabulary ${fmt(lm.vocab.size - (specials.includes(UNK) ? 0 : 1))} (${specials.join(', ')} among them); scored as KenLM's query: each line <s> … </s>, </s> counted and <s> not (Tokens = words + sentences), OOVs as <unk> (left out of "excluding OOVs")\n`);
  return 0;
}

async function sampleSub(argv: string[]): Promise<number> {
  const o = parseArgs(argv, SAMPLE_OPTS, 'ngram sample');
  if (maybeHelp(o, () => helpText('ngram sample', 'draw sentences from an ARPA model: <s>, then words from p(w | the n − 1 before) until </s>', SAMPLE_OPTS, 'gptlab ngram sample MODEL.arpa [-n 5] [--seed S] [--max-words 50]'))) return 0;
  if (o.model === undefined) throw new UsageError('ngram sample: which model? give an ARPA file: gptlab ngram sample MODEL.arpa');
  const { lm } = readModel(o.model as string, false);
  const rng = new Rng(o.seed as number);
  const maxWords = o.maxWords as number;
  const lines: string[] = [];
  for (let i = 0; i < (o.n as number); i++) {
    const words = lm.sampleSentence(rng, maxWords);
    lines.push(words.join(' ') + (words.length >= maxWords ? ' …' : ''));
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

/** a word as an error line shows it: at most 40 characters, the rest counted */
function shortened(word: string): string {
  const chars = Array.from(word);
  return chars.length <= 40 ? word : `${chars.slice(0, 40).join('')}… (${chars.length} characters)`;
}
