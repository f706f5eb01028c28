// `gptlab embed …`: word vectors before the Transformer.
//   gptlab embed train [--data FILE] --method sgns|cbow|ppmi-svd --dim 100 … --out vectors.txt|.bin
//   gptlab embed neighbors VECTORS WORD [-k 10]
//   gptlab embed analogy VECTORS A B C [-k 5] [--restrict N]   (A is to B as C is to ?)
//   gptlab embed analogy VECTORS --questions FILE    (accuracy over questions-words.txt-style quadruples)
// Without --data, `train` uses the built-in generated corpus (src/embeddings/corpus.ts) and reports its
// analogy accuracy. A flag only the other method reads (--cds with sgns, --epochs with ppmi-svd) or --sentences
// with --data is refused when given on the command line; a --config file may hold keys of both methods. Vector files are the original word2vec tool's text or binary format: read by content, written by extension (.bin = binary).
// No flag value makes a run hang: --negative and --sentences have upper bounds, a window never reaches past a
// sentence, and a run estimated at more than an hour (embedWorkProblem) or more memory than there is
// (embedMemoryProblem, checkCorpusMemory; embed-estimates.ts) is refused up front, naming the flags. The text is read and the
// vectors trained on a worker thread (embed-worker.ts, driven by embed-thread.ts), so Ctrl-C stops train at any moment with one line saying
// that nothing was written. Query words missing from a vector file are usage errors naming the file.
import { helpText, kebab, parseArgs, UsageError, type OptTable, type ParsedArgs, SEED_RANGE } from './args.js';
import { BACKEND_OPTS, checkOutputFile, maybeHelp, runSubcommand } from './common.js';
import { isAllocationFailure } from './allocation-failure.js';
import { readTextFile } from '../formats/text-file.node.js';
import { ProgressBar } from '../train/progress.node.js';
import { builtinAnalogies } from '../embeddings/corpus.js';
import { defaultAlpha, WORD2VEC_MAX_WINDOW } from '../embeddings/word2vec.js';
import { analogy, nearestWords, type Neighbour } from '../embeddings/similarity.js';
import { evaluateAnalogies, parseAnalogyQuestions, type AnalogyScore } from '../embeddings/analogy-eval.js';
import { encodeVectors, loadVectors } from '../embeddings/vectors-file.node.js';
import { WordVectors } from '../embeddings/vectors.js';
import { removeTemps, writeOutputFile } from './output.js';
import { signalExitCode } from '../train/run-folder.node.js';
import { EmbedThread, embedJob, type Reply } from './embed-thread.js';
import { checkCorpusMemory, duration, embedMemoryProblem, embedWork, embedWorkProblem, subsampledShare } from './embed-estimates.js';
import fs from 'node:fs';

/** the most noise words per positive pair: word2vec's authors use 5–20, and each costs as much as the pair */
export const MAX_NEGATIVE = 100;
/** the most sentences of the built-in corpus: ~16M words (text8's size), ~1 GB of JavaScript heap as text, words and ids */
export const MAX_SENTENCES = 2_000_000;

const TRAIN_OPTS: OptTable = {
  data: { type: 'string', help: 'training text (UTF-8; words split at whitespace, a newline ends a sentence); default: the built-in corpus' },
  method: { type: 'string', default: 'sgns', choices: ['sgns', 'cbow', 'ppmi-svd'], help: 'sgns (skip-gram, negative sampling), cbow, or ppmi-svd (counts → PPMI → truncated SVD); the other method\'s flags are refused on the command line, ignored in --config' },
  dim: { type: 'int', default: 100, min: 1, max: 10000, help: 'vector size (word2vec uses a few hundred; ppmi-svd: at most the vocabulary size); a run estimated at more than an hour is refused up front, naming the flags that make it so' },
  window: { type: 'int', default: 5, min: 1, help: `largest distance to a context word; no window reaches past a sentence: sgns and cbow read sentences of at most ${WORD2VEC_MAX_WINDOW} words, so a larger window trains as ${WORD2VEC_MAX_WINDOW}, and ppmi-svd counts the same pairs for any window from the longest sentence on` },
  negative: { type: 'int', default: 5, min: 1, max: MAX_NEGATIVE, help: 'noise words per positive pair (sgns, cbow); each costs as much as the pair itself, and word2vec\'s authors use 5–20' },
  minCount: { type: 'int', default: 5, min: 1, help: 'drop words seen fewer times' },
  epochs: { type: 'int', default: 5, min: 1, help: 'passes over the text (sgns, cbow); the work of all of them counts towards the hour a run may take (see --dim)' },
  sample: { type: 'number', default: 1e-3, min: 0, help: 'subsampling threshold of frequent words, 0 = off (sgns, cbow)' },
  alpha: { type: 'number', above: 0, help: 'starting learning rate (sgns, cbow; default 0.025 for sgns, 0.05 for cbow)' },
  cds: { type: 'number', default: 0.75, above: 0, max: 1, help: 'context-distribution smoothing exponent of the PPMI (ppmi-svd)' },
  eigenPower: { type: 'number', default: 0.5, min: 0, max: 1, help: 'vectors = U·Σ^p (ppmi-svd; Levy et al. 2015 use 0, 0.5 or 1)' },
  weighting: { type: 'string', default: 'harmonic', choices: ['uniform', 'harmonic', 'linear'], help: 'window weighting of the counts: uniform, harmonic (1/d) or linear (ppmi-svd)' },
  sentences: { type: 'int', default: 4000, min: 1, max: MAX_SENTENCES, help: `sentences of the built-in corpus (without --data; refused with it on the command line); ${MAX_SENTENCES.toLocaleString('en')} make about 16 million words, the size of text8` },
  seed: { type: 'int', ...SEED_RANGE, default: 1, help: 'random seed' },
  out: { type: 'string', default: 'vectors.txt', help: 'where to write the vectors: word2vec text format, or binary for a .bin name' },
  quiet: { type: 'bool', help: 'no progress line or words/s report' },
  force: { type: 'bool', help: 'overwrite an existing --out file' },
  backend: BACKEND_OPTS.backend,
  threads: { type: 'int', default: 1, min: 1, max: 16, help: 'training threads (sgns, cbow): 1 (default) is reproducible from --seed; more train lock-free (Hogwild), as the original tool\'s -threads: faster on a large vocabulary, not reproducible' },
};

const NEIGHBOR_OPTS: OptTable = {
  vectors: { type: 'string', positional: true, help: 'a word2vec vector file (text or .bin)' },
  word: { type: 'string', positional: true, help: 'the query word' },
  k: { type: 'int', alias: 'k', default: 10, min: 1, help: 'how many neighbours' },
  similarity: { type: 'string', default: 'cosine', help: 'cosine or dot (inner product)' },
};

const ANALOGY_OPTS: OptTable = {
  vectors: { type: 'string', positional: true, help: 'a word2vec vector file (text or .bin)' },
  k: { type: 'int', alias: 'k', default: 5, min: 1, help: 'how many answers (A B C; with --questions only the best one counts, and -k is ignored with a note)' },
  method: { type: 'string', default: '3cosadd', help: '3cosadd (b − a + c) or 3cosmul (Levy & Goldberg 2014)' },
  questions: { type: 'string', help: 'evaluate a questions-words.txt-style file instead (": section" lines, then "a b c d")' },
  lowercase: { type: 'bool', help: 'lower-case the questions (the original file is capitalized)' },
  restrict: { type: 'int', min: 1, help: 'only the first N words of the vector file (the N most frequent) are answers, as gensim\'s restrict_vocab; with --questions, questions with a word beyond them are not covered (compute-accuracy\'s threshold)' },
};

const USAGE = `usage: gptlab embed train [--data FILE] [--method sgns|cbow|ppmi-svd] [--out vectors.txt|.bin] …
       gptlab embed neighbors VECTORS WORD [-k 10]
       gptlab embed analogy VECTORS A B C [-k 5]      (A is to B as C is to ?)
       gptlab embed analogy VECTORS --questions FILE
(gptlab embed SUBCOMMAND --help for its options)`;

export async function embedCommand(argv: string[]): Promise<number> {
  const subs = { train: trainSub, neighbors: neighborsSub, neighbours: neighborsSub, analogy: analogySub };
  return runSubcommand('embed', argv, USAGE, subs, 'train, neighbors or analogy');
}

async function trainSub(argv: string[]): Promise<number> {
  const o = parseArgs(argv, TRAIN_OPTS, 'embed train');
  if (maybeHelp(o, () => helpText('embed train', 'train word vectors (word2vec SGNS/CBOW or PPMI + SVD)', TRAIN_OPTS, 'gptlab embed train [--data FILE] [options]'))) return 0;
  if (o._.length) throw new UsageError(`embed train: unexpected argument "${o._[0]}" (the text comes with --data FILE)`);
  checkMethodFlags(o);
  const out = o.out as string;
  checkOutputFile(out, '--out', 'embed train', { refuseExisting: !o.force, regularOnly: true, inputs: [['--data', o.data]] });
  const method = o.method as 'sgns' | 'cbow' | 'ppmi-svd';
  const builtin = o.data === undefined;
  if (builtin) checkCorpusMemory(o.sentences as number);
  const existed = fs.existsSync(out);
  let bar: ProgressBar | null = null;
  // Ctrl-C (SIGINT) or SIGTERM: the work runs on a worker thread (embed-worker.ts), so this thread can say what
  // happened at any moment; the vectors are written last, atomically, so an interrupted run leaves --out as it was
  const onSignal = (signal: NodeJS.Signals): void => {
    bar?.done();
    removeTemps(out);
    process.stderr.write(`embed train interrupted: nothing written${existed ? ` (${out} kept as it was)` : ''}\n`);
    process.exit(signalExitCode(signal));
  };
  process.on('SIGINT', onSignal), process.on('SIGTERM', onSignal);
  const work = new EmbedThread(embedJob(o, method));
  let vectors: WordVectors, secs: number;
  try {
    const text = await work.prepared;
    const vocab = { size: text.words.length, words: text.words };
    const source = builtin ? `the built-in corpus (${o.sentences} sentences)` : (o.data as string);
    const noteUnsegmented = (): void => void (text.note && process.stderr.write(text.note + '\n'));
    if (vocab.size < 2) noteUnsegmented();
    if (vocab.size < 2) throw new Error(`${source}: no word occurs --min-count ${o.minCount} times`);
    const dim = method === 'ppmi-svd' ? ppmiDim(o, vocab.size, source) : (o.dim as number);
    const { kernels, fast } = await work.setup(dim);
    process.stderr.write(`${method} on ${source}: ${text.tokens.toLocaleString('en')} tokens, vocabulary ${vocab.size.toLocaleString('en')} (min count ${o.minCount})${kernels ? `, ${kernels}` : ''}\n`);
    if (kernels && !fast && (o.threads as number) > 1) process.stderr.write(`note: --threads ${o.threads} applies to the wasm and blas backends; --backend js trains with the TypeScript reference, on one thread\n`);
    const tooLarge = embedMemoryProblem({ words: vocab.size, wordChars: vocab.words.reduce((n, w) => n + w.length, 0), dim, method, out });
    if (tooLarge) throw new UsageError(`embed train: ${tooLarge}`);
    const shape = text.shape;
    const kept = method === 'ppmi-svd' ? 1 : subsampledShare(text.counts, text.counts.reduce((a, b) => a + b, 0), o.sample as number);
    const tooLong = embedWorkProblem(shape, { method, words: vocab.size, dim, window: o.window as number, negative: o.negative as number, epochs: o.epochs as number, fast, threads: fast ? (o.threads as number) : 1, kept }, o._given);
    if (tooLong) throw new UsageError(`embed train: ${tooLong}`);
    noteUnsegmented(); // after the size checks: a refusal stays the line after the summary
    if (method === 'ppmi-svd' && !o.quiet) {
      // ppmi-svd has no progress bar: a long run says so up front
      const parts = embedWork(shape, { method, words: vocab.size, dim, window: o.window as number, negative: 0, epochs: 1, fast: false, threads: 1 });
      const seconds = parts.reduce((t, p) => t + p.seconds, 0);
      if (seconds > 60) process.stderr.write(`note: ppmi-svd has no progress bar; this run is estimated at about ${duration(seconds)} (${parts.map((p) => `${p.what} ${duration(p.seconds)}`).join(', ')})\n`);
    }
    if (method !== 'ppmi-svd' && !o.quiet) bar = new ProgressBar({ label: method, everySeconds: 5 });
    const t0 = performance.now();
    const done = await work.run((p) => bar?.update({ step: p.words, total: p.totalWords, extra: { 'words/s': Math.round(p.wordsPerSecond).toLocaleString('en'), lr: p.alpha } }))
      .catch((e: unknown) => outOfMemoryNamed(vocab.size, dim, method, () => { throw e; }));
    secs = (performance.now() - t0) / 1000;
    vectors = new WordVectors(vocab.words.slice(), dim, done.data);
    if (method === 'ppmi-svd') reportCounts(vocab.size, done);
    else checkTrained(o, method, vectors, done.wordsPerSecond, bar);
    const bytes = outOfMemoryNamed(vocab.size, dim, method, () => encodeVectors(out, vectors));
    await writeOutputFile(out, bytes, '--out', 'embed train');
  } finally {
    work.stop();
    process.off('SIGINT', onSignal), process.off('SIGTERM', onSignal);
  }
  process.stderr.write(`wrote ${out}: ${vectors.size} words × ${vectors.dim} dimensions, trained in ${secs.toFixed(2)} s\n`);
  if (builtin) reportBuiltin(vectors);
  return 0;
}


/** the divergence check and the words/s line of sgns and cbow: a non-finite value means training diverged, and nothing is written */
function checkTrained(o: ParsedArgs, method: 'sgns' | 'cbow', v: WordVectors, wordsPerSecond: number, bar: ProgressBar | null): void {
  bar?.done();
  if (!o.quiet) process.stderr.write(`${Math.round(wordsPerSecond).toLocaleString('en')} words/s\n`);
  const bad = v.data.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) {
    const alpha = o.alpha ?? defaultAlpha(method);
    throw new Error(`embed train: training diverged: the vector of "${v.words[Math.floor(bad / v.dim)]}" became ${v.data[bad]} at --alpha ${alpha}; nothing written, try a lower --alpha`);
  }
}

/** what ppmi-svd found: the PPMI matrix's size and top singular values, and a note when it is all zeros */
function reportCounts(words: number, m: Reply<'done'>): void {
  process.stderr.write(`PPMI matrix ${words}×${words} with ${m.nnz.toLocaleString('en')} non-zeros; top singular values ${m.singularValues.slice(0, 3).map((x) => x.toFixed(2)).join(', ')}\n`);
  if (m.nnz === 0) process.stderr.write('note: no word pair co-occurs more often than chance (the PPMI matrix is all zeros), so every vector is zero: give more text or a larger --window\n');
}


/**
 * Runs `work`, turning JavaScript's allocation failures (isAllocationFailure) into one line naming embed
 * train's own size flags (ppmi-svd's counts grow with --window as well).
 */
function outOfMemoryNamed<T>(words: number, dim: number, method: string, work: () => T): T {
  try {
    return work();
  } catch (e) {
    if (isAllocationFailure(e)) {
      const lower = method === 'ppmi-svd' ? 'lower --dim or --window, or raise --min-count to keep fewer words' : 'lower --dim, or raise --min-count to keep fewer words';
      throw new Error(`embed train: out of memory for ${words.toLocaleString('en')} words × --dim ${dim} (${(e as RangeError).message}); ${lower}`);
    }
    throw e;
  }
}

/** the options only word2vec (sgns, cbow) reads, and those only ppmi-svd reads */
const PREDICTIVE_KEYS = ['negative', 'epochs', 'sample', 'alpha', 'threads'];
const COUNT_KEYS = ['cds', 'eigenPower', 'weighting'];

/** "--a does" or "--a, --b do", of the keys given on the command line; null when none */
function givenOnCommandLine(o: ParsedArgs, keys: string[]): { list: string; verb: string; them: string } | null {
  const given = keys.filter((k) => o._flags.has(k)).map((k) => `--${kebab(k)}`);
  if (!given.length) return null;
  return { list: given.join(', '), verb: given.length > 1 ? 'do' : 'does', them: given.length > 1 ? 'them' : 'it' };
}

/**
 * Refuses, before any work, a command-line flag the run would ignore: one of the other method's (--cds,
 * --eigen-power, --weighting with sgns or cbow; --negative, --epochs, --sample, --alpha with ppmi-svd), or
 * --sentences, the size of the built-in corpus, with --data. Keys from a --config file are not refused: one
 * file may serve both methods.
 */
function checkMethodFlags(o: ParsedArgs): void {
  const method = o.method as string;
  const named = `--method ${method}${o._given.has('method') ? '' : ' (the default)'}`;
  if (method === 'ppmi-svd') {
    const g = givenOnCommandLine(o, PREDICTIVE_KEYS);
    if (g) throw new UsageError(`embed train: ${g.list} ${g.verb} not apply to ${named}, only to sgns and cbow; drop ${g.them} or use --method sgns or cbow`);
  } else {
    const g = givenOnCommandLine(o, COUNT_KEYS);
    if (g) throw new UsageError(`embed train: ${g.list} ${g.verb} not apply to ${named}, only to ppmi-svd; drop ${g.them} or use --method ppmi-svd`);
  }
  if (o.data !== undefined && o._flags.has('sentences')) {
    throw new UsageError(`embed train: --sentences does not apply with --data ${o.data}, only to the built-in corpus (no --data); drop it`);
  }
}

/**
 * The vector size of ppmi-svd: the SVD of a V×V matrix gives at most V dimensions. A --dim above that is
 * refused, naming the most the data allows; the default (100) is lowered to V with a note.
 */
function ppmiDim(o: ParsedArgs, vocabSize: number, source: string): number {
  const dim = o.dim as number;
  if (dim <= vocabSize) return dim;
  const why = `the vocabulary of ${source} (min count ${o.minCount}) has ${vocabSize} words, and ppmi-svd gives at most one dimension per word`;
  if (o._given.has('dim')) throw new UsageError(`embed train: --dim ${dim} is too large: ${why}; use --dim ${vocabSize} or less`);
  process.stderr.write(`note: the default --dim ${dim} is lowered to ${vocabSize}: ${why}\n`);
  return vocabSize;
}

/** the analogy score on the built-in questions, then a demo query; the query is skipped when a small corpus lacks its words */
function reportBuiltin(v: WordVectors): void {
  const score = evaluateAnalogies(v, builtinAnalogies());
  process.stdout.write(formatScore(score));
  const missing = ['france', 'paris', 'italy'].filter((w) => !v.has(w));
  if (missing.length) {
    process.stdout.write(`(no demo query: ${missing.map((w) => `"${w}"`).join(', ')} not in the vocabulary of ${v.size} words; more --sentences or a lower --min-count keep them)\n`);
    return;
  }
  const best = analogy(v, 'france', 'paris', 'italy', 3).map((n) => n.word).join(', ');
  process.stdout.write(`france : paris :: italy : ?   ${best}\nnearest to paris: ${nearestWords(v, 'paris', 5).map((n) => n.word).join(', ')}\n`);
}

function formatScore(s: AnalogyScore): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const lines = [`analogies: ${s.correct}/${s.covered} correct (${pct(s.accuracy)}), ${s.questions - s.covered} of ${s.questions} not covered`];
  for (const [name, r] of Object.entries(s.bySection)) lines.push(`  ${(name || '(no section)').padEnd(28)} ${String(r.correct).padStart(5)}/${r.covered}  ${pct(r.accuracy)}`);
  return lines.join('\n') + '\n';
}

function printNeighbours(list: Neighbour[]): void {
  const w = Math.max(4, ...list.map((n) => n.word.length)) + 2;
  for (const n of list) process.stdout.write(`${n.word.padEnd(w)}${n.score.toFixed(4)}\n`);
}

async function neighborsSub(argv: string[]): Promise<number> {
  const o = parseArgs(argv, NEIGHBOR_OPTS, 'embed neighbors');
  if (maybeHelp(o, () => helpText('embed neighbors', 'nearest words to a word', NEIGHBOR_OPTS, 'gptlab embed neighbors VECTORS WORD [-k 10]'))) return 0;
  if (!o.vectors || !o.word) throw new UsageError('embed neighbors: give a vector file and a word');
  if (o._.length) throw new UsageError(`embed neighbors: unexpected argument "${o._[0]}"`);
  const sim = o.similarity as string;
  if (sim !== 'cosine' && sim !== 'dot') throw new UsageError(`embed neighbors: --similarity must be cosine or dot, got "${sim}"`);
  const v = loadVectors(o.vectors as string);
  checkInVocabulary('embed neighbors', o.vectors as string, v, [o.word as string]);
  const list = nearestWords(v, o.word as string, o.k as number, sim);
  if (!list.length) throw noOtherWord('embed neighbors', o.vectors as string, v, o.word as string, 'list as a neighbour');
  printNeighbours(list);
  return 0;
}

/**
 * Refuses query words (from the command line) that the vector file lacks, as a usage error naming the file:
 * `CMD: "x" is not in the vocabulary of FILE (N words)`, with the lower-case spelling when the file has that.
 */
function checkInVocabulary(cmd: string, file: string, v: WordVectors, words: string[]): void {
  const missing = [...new Set(words.filter((w) => !v.has(w)))];
  if (!missing.length) return;
  // "a", "b" and "c"
  const quoted = (ws: string[]): string => ws.map((w) => `"${w}"`).join(', ').replace(/, ([^,]*)$/, ' and $1');
  const lower = missing.filter((w) => w.toLowerCase() !== w && v.has(w.toLowerCase())).map((w) => w.toLowerCase());
  const hint = lower.length ? `; it has ${quoted(lower)}` : '';
  throw new UsageError(`${cmd}: ${quoted(missing)} ${missing.length > 1 ? 'are' : 'is'} not in the vocabulary of ${file} (${v.size} words)${hint}`);
}

/** the refusal when a vector file's vocabulary holds nothing but the query's words: `CMD: FILE: its vocabulary (N words) has no word other than …` */
function noOtherWord(cmd: string, file: string, v: WordVectors, words: string, purpose: string): Error {
  return new Error(`${cmd}: ${file}: its vocabulary (${v.size} word${v.size === 1 ? '' : 's'}) has no word other than ${words} to ${purpose}`);
}

async function analogySub(argv: string[]): Promise<number> {
  const o = parseArgs(argv, ANALOGY_OPTS, 'embed analogy', { rest: true });
  if (maybeHelp(o, () => helpText('embed analogy', 'A is to B as C is to ? (or accuracy over a question file)', ANALOGY_OPTS, 'gptlab embed analogy VECTORS A B C [-k 5] [--restrict N] | VECTORS --questions FILE'))) return 0;
  const method = o.method as string;
  if (method !== '3cosadd' && method !== '3cosmul') throw new UsageError(`embed analogy: --method must be 3cosadd or 3cosmul, got "${method}"`);
  if (!o.vectors) throw new UsageError('embed analogy: give a vector file');
  if (o.questions !== undefined) {
    if (o._.length) throw new UsageError('embed analogy: give either three words or --questions FILE, not both');
    const qs = parseAnalogyQuestions(readTextFile(o.questions as string, 'question file'), o.questions as string, !!o.lowercase);
    if (qs.length === 0) throw new Error(`${o.questions as string}: no questions (lines of four words a b c d after ": section" headers)`);
    const v = loadVectors(o.vectors as string);
    if (o._given.has('k')) process.stderr.write(`note: -k ${o.k} is ignored with --questions: each question counts as answered when its best answer (the top 1) is d, as compute-accuracy scores it\n`);
    process.stdout.write(formatScore(evaluateAnalogies(v, qs, { method, ...(o.restrict !== undefined ? { restrict: o.restrict as number } : {}) })));
    return 0;
  }
  if (o._.length !== 3) throw new UsageError(`embed analogy: give three words A B C (A is to B as C is to ?), got ${o._.length}`);
  const v = loadVectors(o.vectors as string);
  const [a, b, c] = o._;
  checkInVocabulary('embed analogy', o.vectors as string, v, [a, b, c]);
  const limit = Math.min((o.restrict as number | undefined) ?? v.size, v.size);
  const answers = analogy(v, a, b, c, o.k as number, method, limit);
  if (!answers.length) {
    const others = v.size - new Set([a, b, c].filter((w) => v.has(w))).size;
    if (o.restrict === undefined || others === 0) throw noOtherWord('embed analogy', o.vectors as string, v, `${a}, ${b} and ${c}`, 'answer with');
    throw new UsageError(`embed analogy: --restrict ${limit} leaves no candidate answer besides ${a}, ${b} and ${c}; give a larger N`);
  }
  printNeighbours(answers);
  return 0;
}
