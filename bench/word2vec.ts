// word2vec training speed and quality (issue #12) beside the original C tool (Mikolov et al. 2013,
// github.com/tmikolov/word2vec, built from its source with its makefile's flags) on the same text and settings in
// the same run: skip-gram and CBOW, D 100, window 5, 5 negatives, sample 1e-3, min count 5, one pass (-iter 1:
// that revision's threads stop after their first pass over the file anyway), on 1 thread and on `threads`.
// Words/s is what each tool counts as trained: tokens read (`</s>` included, words under min count not) over
// the training loop's time — ours from trainWord2Vec, the tool's from its last "Words/thread/sec" line (CPU time
// per thread since training began) times its threads. Quality: accuracy on the built-in corpus's analogies
// (3CosAdd over the whole vocabulary), the tool's vectors read by our loader.
// The tool: --word2vec PATH, else $GPTLAB_WORD2VEC, else /work/w2v/src/word2vec; skipped, saying so, when none
// runs (scripts/fixtures/make_word2vec_fixture.sh shows how to build it).
// Run: node dist/bench/word2vec.js [--data FILE] [--sentences 50000] [--threads N] [--word2vec PATH]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { initBackend } from '../src/backend/index.node.js';
import { builtinAnalogies, embeddingCorpus } from '../src/embeddings/corpus.js';
import { corpusTokens, Word2VecVocabulary } from '../src/embeddings/vocab.js';
import { trainWord2Vec, type Word2VecMethod } from '../src/embeddings/word2vec.js';
import { evaluateAnalogies } from '../src/embeddings/analogy-eval.js';
import { loadVectors } from '../src/embeddings/vectors-file.node.js';
import type { WordVectors } from '../src/embeddings/vectors.js';
import { counted } from '../src/data/jsonl.js';

export interface Word2VecBenchOptions {
  /** a text file; default: the built-in corpus of `sentences` sentences */
  data?: string;
  sentences?: number;
  /** the threads of the second measurement (default: the machine's cores, at most 4) */
  threads?: number;
  /** the C tool's binary */
  tool?: string;
  out?: (line: string) => void;
}

export interface Word2VecBenchRow {
  method: Word2VecMethod;
  threads: number;
  /** ours: words/s and seconds of training; analogy accuracy (built-in corpus only) */
  ours: { wordsPerSecond: number; seconds: number; analogies: number | null };
  /** the tool's, or null when it did not run */
  tool: { wordsPerSecond: number; analogies: number | null } | null;
}

const SETTINGS = { dim: 100, window: 5, negative: 5, sample: 1e-3, minCount: 5 };

/** Trains both tools on the same text with both methods on 1 and `threads` threads; one row each. */
export async function benchWord2Vec(o: Word2VecBenchOptions = {}): Promise<{ rows: Word2VecBenchRow[]; text: string; tokens: number; vocabulary: number; toolNote: string }> {
  const out = o.out ?? ((l: string) => console.log(l));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptlab-w2v-'));
  try {
    const builtin = o.data === undefined;
    const file = o.data ?? path.join(dir, 'corpus.txt');
    if (builtin) fs.writeFileSync(file, embeddingCorpus({ sentences: o.sentences ?? 50_000, seed: 1 }));
    const tokens = corpusTokens(fs.readFileSync(file, 'utf8'));
    const vocab = Word2VecVocabulary.fromTokens(tokens, SETTINGS.minCount);
    const ids = vocab.encode(tokens);
    if (vocab.size < 2) throw new Error(`${file}: no word occurs ${SETTINGS.minCount} times (the bench's min count): give a longer text`);
    const threads = o.threads ?? Math.max(1, Math.min(4, os.availableParallelism()));
    const be = await initBackend({ backend: 'auto', threads });
    const tool = toolPath(o.tool);
    out(`text: ${builtin ? `the built-in corpus, ${o.sentences ?? 50_000} sentences` : file}: ${counted(ids.length, 'token')} kept, vocabulary ${vocab.size.toLocaleString('en')}; ours on ${be.name}`);
    const questions = builtin ? builtinAnalogies() : null;
    const accuracy = (v: WordVectors): number | null => {
      if (!questions) return null;
      const s = evaluateAnalogies(v, questions);
      return s.covered ? s.correct / s.covered : null;
    };
    const rows: Word2VecBenchRow[] = [];
    for (const method of ['sgns', 'cbow'] as const) {
      for (const t of [...new Set([1, be.threads])]) {
        const m = trainWord2Vec(vocab, ids, { method, ...SETTINGS, epochs: 1, seed: 1, threads: t });
        let c: { wordsPerSecond: number; vectors: WordVectors } | null = null;
        if (tool.path) {
          try {
            c = runTool(tool.path, file, dir, method, t);
          } catch (e) {
            out(`  ${method}, ${counted(t, 'thread')}: the C tool: skipped: ${(e as Error).message}`);
          }
        }
        const row: Word2VecBenchRow = {
          method, threads: t, ours: { wordsPerSecond: m.wordsPerSecond, seconds: m.seconds, analogies: accuracy(m.vectors) },
          tool: c ? { wordsPerSecond: c.wordsPerSecond, analogies: accuracy(c.vectors) } : null,
        };
        rows.push(row);
        out(reportRow(row));
      }
    }
    if (!tool.path) out(`  the C tool: ${tool.note}`);
    return { rows, text: builtin ? 'built-in' : file, tokens: ids.length, vocabulary: vocab.size, toolNote: tool.note };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function toolPath(given?: string): { path: string | null; note: string } {
  const p = given ?? process.env.GPTLAB_WORD2VEC ?? '/work/w2v/src/word2vec';
  const r = spawnSync(p, [], { encoding: 'utf8' });
  if (r.error) return { path: null, note: `skipped: ${p} cannot be run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); build it with the original makefile and pass --word2vec PATH` };
  return { path: p, note: `${p}` };
}

/** the tool on `file`: its words/s (its last progress line × threads) and its vectors */
function runTool(tool: string, file: string, dir: string, method: Word2VecMethod, threads: number): { wordsPerSecond: number; vectors: WordVectors } {
  const vec = path.join(dir, `c-${method}-${threads}.bin`);
  const s = SETTINGS;
  const args = ['-train', file, '-output', vec, '-size', s.dim, '-window', s.window, '-negative', s.negative, '-hs', 0, '-sample', s.sample,
    '-min-count', s.minCount, '-iter', 1, '-cbow', method === 'cbow' ? 1 : 0, '-threads', threads, '-binary', 1, '-debug', 2].map(String);
  const r = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
  const rates = [...r.stdout.matchAll(/Words\/thread\/sec: ([\d.]+)k/g)].map((m) => Number(m[1]) * 1000);
  if (rates.length === 0) throw new Error('it printed no "Words/thread/sec" line: the text is too short for its progress report (it reports every 10,000 words)');
  return { wordsPerSecond: rates[rates.length - 1] * threads, vectors: loadVectors(vec) };
}

/** why `file` cannot be the bench's text ("FILE: no such file", "FILE: is a folder, not a file"), or null */
export function dataFileProblem(file: string): string | null {
  if (!fs.existsSync(file)) return `${file}: no such file`;
  if (!fs.statSync(file).isFile()) return `${file}: is a folder, not a file`;
  return null;
}

/** one line: ours, the tool's, the ratio */
export function reportRow(r: Word2VecBenchRow): string {
  const pct = (a: number | null): string => (a === null ? '' : `, analogies ${(100 * a).toFixed(1)} %`);
  const ours = `${Math.round(r.ours.wordsPerSecond).toLocaleString('en')} words/s${pct(r.ours.analogies)}`;
  const head = `  ${r.method}, ${counted(r.threads, 'thread')}: gptlab ${ours}`;
  if (!r.tool) return head;
  const tool = `${Math.round(r.tool.wordsPerSecond).toLocaleString('en')} words/s${pct(r.tool.analogies)}`;
  return `${head}; C word2vec ${tool} → ${(r.ours.wordsPerSecond / r.tool.wordsPerSecond).toFixed(2)}×`;
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').slice(-2).join('/'));
if (isMain) {
  const { parseArgs } = await import('node:util');
  try {
    const { values } = parseArgs({ options: { data: { type: 'string' }, sentences: { type: 'string' }, threads: { type: 'string' }, word2vec: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
    if (values.help) {
      console.log('usage: node dist/bench/word2vec.js [--data FILE | --sentences N (default 50000)] [--threads N (1–16)] [--word2vec PATH (the C tool)]');
    } else {
      const num = (k: 'sentences' | 'threads', max: number): number | undefined => {
        if (values[k] === undefined) return undefined;
        const n = Number(values[k]);
        if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${k} must be a whole number from 1 to ${max}, got ${values[k]}`);
        return n;
      };
      const problem = values.data === undefined ? null : dataFileProblem(values.data);
      if (problem) throw new Error(`--data ${problem}`);
      await benchWord2Vec({ data: values.data, sentences: num('sentences', 10_000_000), threads: num('threads', 16), tool: values.word2vec });
    }
  } catch (e) {
    console.error(`bench word2vec: ${(e as Error).message}`);
    process.exitCode = 2;
  }
}
