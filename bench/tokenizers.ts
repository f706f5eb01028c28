// Tokenizer benchmark: encode throughput (Mchar/s) of our cl100k_base beside gpt-tokenizer and js-tiktoken on
// tinyshakespeare.txt (English) and tang-poems.txt (Chinese), checking the ids are identical; and the time to
// train a 4,096-token byte-level BPE on tinyshakespeare.
//
// "cold" = a fresh tokenizer instance, so per-chunk caches start empty (text never seen before);
// "warm" = the same text again. gpt-tokenizer keeps one module-level instance, so its "1st" run empties
// that instance's merge cache first (clearMergeCache) — otherwise its "1st" on the second corpus, or after
// the warm-up, would reuse chunks cached earlier. Both libraries get the same JIT warm-up (the same 100k
// characters), and each measurement is repeated REPS times, alternating libraries, and reported as the
// median: one run is at the mercy of a garbage collection or a busy neighbour on a shared machine.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadEncoding } from '../src/tokenizers/tiktoken.node.js';
import { BPETokenizer } from '../src/tokenizers/bpe.js';
import { trainBPE } from '../src/tokenizers/bpe-train.js';
import { parseJsTiktokenRanks } from '../src/tokenizers/tiktoken.js';

const mcps = (chars: number, ms: number): string => (chars / ms / 1000).toFixed(2);
const REPS = Number(process.env.TOKENIZER_BENCH_REPS ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function time<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const r = f();
  return [r, performance.now() - t0];
}

function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export async function benchTokenizers(opts: { dataDir?: string } = {}): Promise<void> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dataDir = opts.dataDir ?? path.resolve(here, '../../../shared/data');
  const files = ['tinyshakespeare.txt', 'tang-poems.txt'].map((f) => path.join(dataDir, f));
  if (!files.every(existsSync)) {
    console.log(`  tokenizer benchmark skipped: ${files.filter((f) => !existsSync(f)).join(', ')} not found`);
    return;
  }
  const ours = await loadEncoding('cl100k_base');
  const ranksMod = (await import('js-tiktoken/ranks/cl100k_base')).default;
  const { Tiktoken } = await import('js-tiktoken/lite');
  const jsTiktoken = new Tiktoken(ranksMod);
  const gptTok = await import('gpt-tokenizer/encoding/cl100k_base');
  // the rank table is parsed once and shared (BPETokenizer only reads it), as gpt-tokenizer's is loaded once:
  // "cold" is about caches of text already seen, and re-parsing 100k ranks before every run would only
  // leave garbage for the collector to sweep during the timed encode
  const ranks = parseJsTiktokenRanks(ranksMod.bpe_ranks);
  const freshOurs = (): BPETokenizer => new BPETokenizer(ranks, { name: 'cl100k_base', pattern: ours.pattern, special: Object.fromEntries(ours.specialTokens) });

  // warm up the JIT on the same slice for both, so neither first timed run measures compilation; then
  // empty gpt-tokenizer's merge cache so the warm-up does not pre-fill it (ours is a fresh instance anyway)
  const warm = readFileSync(files[0], 'utf8').slice(0, 100_000);
  freshOurs().encode(warm);
  gptTok.encode(warm);
  gptTok.clearMergeCache();

  console.log(`  encode, cl100k_base, Mchar/s (higher is better), median of ${REPS} runs`);
  console.log('  corpus                 chars     ours cold  ours warm  gpt-tokenizer 1st  2nd   js-tiktoken  ids identical  ours/gpt-tokenizer');
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const cold: number[] = [], warm2: number[] = [], g1: number[] = [], g2: number[] = [];
    let a: number[] = [], g: number[] = [], tok = freshOurs();
    for (let rep = 0; rep < REPS; rep++) {
      tok = freshOurs();
      let t: number;
      [a, t] = time(() => tok.encode(text));
      cold.push(t);
      warm2.push(time(() => tok.encode(text))[1]);
      gptTok.clearMergeCache();
      [g, t] = time(() => gptTok.encode(text));
      g1.push(t);
      g2.push(time(() => gptTok.encode(text))[1]);
    }
    const [tCold, tWarm, tG1, tG2] = [cold, warm2, g1, g2].map(median);
    const slice = text.slice(0, 200_000); // js-tiktoken is slow; a slice keeps the run short
    const [j, tJ] = time(() => jsTiktoken.encode(slice, [], []));
    const ok = same(a, g) && same(tok.encode(slice), j);
    console.log(
      `  ${path.basename(file).padEnd(20)} ${String(text.length).padStart(8)}  ${mcps(text.length, tCold).padStart(9)}  ${mcps(text.length, tWarm).padStart(9)}` +
        `  ${mcps(text.length, tG1).padStart(17)}  ${mcps(text.length, tG2).padStart(5)}  ${mcps(slice.length, tJ).padStart(11)}  ${String(ok).padStart(13)}` +
        `  cold ${(tG1 / tCold).toFixed(2)}x, warm ${(tG2 / tWarm).toFixed(2)}x`,
    );
  }

  const shakespeare = readFileSync(files[0], 'utf8');
  for (const pattern of ['gpt4', null] as const) {
    const [t, ms] = time(() => trainBPE(shakespeare, { vocabSize: 4096, pattern }));
    console.log(`  train byte-level BPE, vocab 4096, ${pattern ? 'GPT-4 split' : 'no split (basic)'}, tinyshakespeare: ${(ms / 1000).toFixed(2)} s (vocab ${t.vocabSize})`);
  }
  const tang = readFileSync(files[1], 'utf8');
  const [tt, ms] = time(() => trainBPE(tang, { vocabSize: 4096 }));
  const n = tt.encode(tang).length;
  console.log(`  train byte-level BPE, vocab 4096, GPT-4 split, tang-poems: ${(ms / 1000).toFixed(2)} s; ${(n / Array.from(tang).length).toFixed(3)} tokens/char`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  benchTokenizers().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
