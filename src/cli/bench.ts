// gptlab bench (also `npm run bench`): kernel GFLOP/s and training tokens/s, with PyTorch's numbers from the
// same run when /usr/bin/python3 has torch, so that ratios hold on a noisy machine. Never part of the tests.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { helpText, parseArgs, UsageError, type OptTable, type ParsedArgs } from './args.js';
import { checkOutputFile, maybeHelp } from './common.js';
import { createModel } from '../models/registry.js';
import { Pretraining } from '../train/pretraining.js';
import { Trainer } from '../train/trainer.js';
import { CharTokenizer } from '../tokenizers/char.js';

const OPTS: OptTable = {
  only: { type: 'string', default: 'all', help: 'what to run: all, matmul, train, elementwise, tokenizers, decode, serve, lstm, gguf, conv, align, quant, word2vec' },
  quick: { type: 'bool', help: 'shorter decode and server runs' },
  iters: { type: 'int', default: 50, help: 'timed training iterations on the CPU config (after 10 untimed ones, as torch_nanogpt.py does by default)' },
  bigIters: { type: 'int', default: 3, help: 'timed iterations of shakespeare_char (B=64, T=256: slow)' },
  torch: { type: 'string', default: 'auto', help: 'PyTorch reference: auto (when installed), off, or the path of torch_nanogpt.py' },
  threads: { type: 'int', min: 1, max: 16, help: 'threads for the wasm and blas backends, 1–16 (default: all cores)' },
  json: { type: 'string', help: 'also write the results as JSON to this file' },
  alignBase: { type: 'string', default: 'runs/demo', help: 'align: the pretrained model (gptlab train --demo --out runs/demo)' },
  alignChat: { type: 'string', default: 'runs/chat', help: 'align: its SFT chat model (gptlab sft --base runs/demo --out runs/chat)' },
  alignPpoChat: { type: 'string', help: "align: PPO's policy (default --align-chat; one with room to learn: gptlab sft --bare-answers 1)" },
  alignParts: { type: 'string', default: 'rm,dpo,ppo,grpo,lora,distill', help: 'align: the parts to run' },
  alignScale: { type: 'number', default: 1, above: 0, help: "align: multiplies every part's steps" },
  word2vec: { type: 'string', help: 'word2vec: the original C tool\'s binary (default $GPTLAB_WORD2VEC, else /work/w2v/src/word2vec; skipped when none runs)' },
  word2vecData: { type: 'string', help: 'word2vec: the text to train on (default: the built-in corpus, 50,000 sentences)' },
};

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface TrainShape {
  name: string;
  L: number; H: number; C: number; T: number; B: number; V: number;
}

const SHAPES: TrainShape[] = [
  { name: 'cpu (nanoGPT CPU config)', L: 4, H: 4, C: 128, T: 64, B: 12, V: 65 },
  { name: 'shakespeare_char', L: 6, H: 6, C: 384, T: 256, B: 64, V: 65 },
];

/** median ms per training step (forward + backward + AdamW) of a randomly initialised model on random tokens */
export function benchTrainStep(s: TrainShape, warmup: number, iters: number): number {
  const model = createModel('gpt', { vocabSize: s.V, blockSize: s.T, nLayer: s.L, nHead: s.H, nEmbd: s.C, dropout: 0, bias: false });
  const data = new Int32Array(200_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) % s.V;
  const tr = new Trainer(model, new Pretraining({ train: data, dev: data, test: data }), { batchSize: s.B, lr: 1e-3, beta2: 0.99, weightDecay: 0.1 });
  for (let i = 0; i < warmup; i++) tr.trainStep();
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    tr.trainStep();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function torchScript(opt: string): string | null {
  if (opt === 'off') return null;
  const p = opt === 'auto' ? path.resolve(repoRoot, '../shared/bench/torch_nanogpt.py') : opt;
  if (!fs.existsSync(p)) return null;
  const ok = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
  return ok.status === 0 ? p : null;
}

/**
 * OpenBLAS at its best here, as torch_nanogpt.py's header asks: its AVX-512 kernels where the CPU has them.
 * Machines of this workplace preset OPENBLAS_CORETYPE=Haswell (and an L2 size) for old OpenBLAS bugs, which
 * the script's setdefault() would keep: override both, for the PyTorch child and for this process's own blas
 * backend alike (both load the same libopenblas), so the ratio compares like with like.
 */
function blasEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  let avx512 = false;
  try {
    avx512 = /\bavx512f\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    /* not Linux: leave the environment alone */
  }
  if (avx512) {
    env.OPENBLAS_CORETYPE = 'SkylakeX';
    delete env.OPENBLAS_L2_SIZE;
  }
  return env;
}

function runTorch(script: string, s: TrainShape, warmup: number, iters: number, env: NodeJS.ProcessEnv): number | null {
  const r = spawnSync('/usr/bin/python3', [script, ...[s.L, s.H, s.C, s.T, s.B, warmup, iters, 1, s.V].map(String)], {
    encoding: 'utf8', env, timeout: 30 * 60_000,
  });
  const m = /ms\/iter=([\d.]+)/.exec(r.stdout ?? '');
  if (!m) {
    process.stdout.write(`  (PyTorch run failed: ${(r.stderr || r.stdout || '').trim().split('\n').pop()})\n`);
    return null;
  }
  return Number(m[1]);
}

interface BenchContext {
  o: ParsedArgs;
  out: (s: string) => void;
  env: Record<string, string | undefined>;
  threads: number | undefined;
}

async function benchMatmulSection(c: BenchContext): Promise<unknown> {
  c.out('== matmul (GFLOP/s) ==');
  const { benchMatmul } = await import('../../bench/matmul.js');
  return benchMatmul({ threads: c.threads });
}

/** the backends to time: wasm always, blas where koffi and OpenBLAS load */
async function trainBackends(c: BenchContext): Promise<('wasm' | 'blas')[]> {
  const { initBackend } = await import('../backend/index.node.js');
  try {
    await initBackend({ backend: 'blas', threads: c.threads });
    return ['wasm', 'blas'];
  } catch (e) {
    c.out(`  (blas backend skipped: ${(e as Error).message.split('\n')[0]})`);
    return ['wasm'];
  }
}

async function benchTrainSection(c: BenchContext): Promise<unknown> {
  const { initBackend } = await import('../backend/index.node.js');
  c.out('\n== training step: forward + backward + AdamW (tokens/s) ==');
  const script = torchScript(c.o.torch as string);
  if (!script) c.out('  PyTorch reference: not available (apt-get install python3-torch libopenblas0-pthread; ../shared/bench/torch_nanogpt.py)');
  else if (!fs.existsSync('/usr/lib/x86_64-linux-gnu/openblas-pthread')) {
    c.out('  note: PyTorch will use the reference BLAS (20× slower): apt-get install libopenblas0-pthread for a fair anchor');
  }
  const rows: Record<string, unknown>[] = [];
  const backends = await trainBackends(c);
  for (const [i, s] of SHAPES.entries()) {
    const iters = i === 0 ? (c.o.iters as number) : (c.o.bigIters as number);
    // the CPU config: torch_nanogpt.py's own defaults (10 warm-up, 50 timed), for both; JIT and arena settle
    const warm = i === 0 ? 10 : 1;
    const tms = script ? runTorch(script, s, warm, iters, c.env) : null;
    for (const name of backends) {
      const be = await initBackend({ backend: name, threads: c.threads });
      const ms = benchTrainStep(s, warm, iters);
      const tps = (s.B * s.T) / (ms / 1000);
      let line = `  ${s.name.padEnd(26)} L${s.L} H${s.H} C${s.C} T${s.T} B${s.B}: gptlab ${be.name}×${be.threads} ${ms.toFixed(1)} ms/iter, ${Math.round(tps).toLocaleString('en')} tok/s`;
      const row: Record<string, unknown> = { shape: s, ms, tokensPerSec: tps, backend: `${be.name}x${be.threads}` };
      if (tms) {
        Object.assign(row, { torchMs: tms, ratio: tms / ms });
        line += ` | PyTorch ${tms.toFixed(1)} ms/iter, ${Math.round((s.B * s.T) / (tms / 1000)).toLocaleString('en')} tok/s | ratio ${(tms / ms).toFixed(2)}× PyTorch`;
      }
      c.out(line);
      rows.push(row);
    }
  }
  return rows;
}

async function benchElementwiseSection(c: BenchContext): Promise<unknown> {
  c.out('\n== element-wise kernels (GELU, SwiGLU, LayerNorm, RMSNorm) at a 2-layer model\'s training sizes: JS reference vs wasm SIMD, 1 thread ==');
  const { benchElementwiseKernels, benchTrainSteps } = await import('../../bench/elementwise.js');
  const kernels = await benchElementwiseKernels(15, c.out);
  const { initBackend } = await import('../backend/index.node.js');
  const be = await initBackend({ backend: 'auto', threads: 1 });
  c.out(`  training step (forward + backward + AdamW) on ${be.name}×1:`);
  const steps = benchTrainSteps(10, 3, c.out);
  return { kernels, steps };
}

async function benchTokenizersSection(c: BenchContext): Promise<unknown> {
  try {
    const { benchTokenizers } = await import('../../bench/tokenizers.js');
    c.out('\n== tokenizers ==');
    await benchTokenizers({ dataDir: path.resolve(repoRoot, '../shared/data') });
  } catch (e) {
    c.out(`  tokenizer benchmark unavailable: ${(e as Error).message}`);
  }
  return undefined;
}

async function benchDecodeSection(c: BenchContext): Promise<unknown> {
  c.out('\n== decoding: KV cache, time to first token, batches ==');
  const { benchDecode } = await import('../../bench/decode.js');
  return benchDecode({ threads: c.threads, quick: !!c.o.quick });
}

/** the models the server bench runs: nanoGPT's CPU config, and its shakespeare_char config (where a decode step reads 43 MB of weights) */
const SERVE_SHAPES = [
  { name: 'nanoGPT CPU config (L4 C128, 0.8 M parameters)', nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 128 },
  { name: 'shakespeare_char (L6 C384, 10.7 M parameters)', nLayer: 6, nHead: 6, nEmbd: 384, blockSize: 256 },
];

async function benchServeSection(c: BenchContext): Promise<unknown> {
  const { initBackend } = await import('../backend/index.node.js');
  const { benchServe } = await import('../../bench/serve.js');
  const { ChatEngine } = await import('../generate/chat-engine.js');
  const { withChatVocabulary } = await import('../train/chat-vocabulary.js');
  await initBackend({ backend: 'wasm', threads: c.threads });
  // printable ASCII and newline: any prompt the benchmark sends can be encoded
  const chars = new CharTokenizer(['\n', ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))]);
  const results: Record<string, unknown> = {};
  for (const s of SERVE_SHAPES) {
    c.out(`\n== server: OpenAI API throughput on loopback, ${s.name}, clients in a child process ==`);
    const base = createModel('gpt', { vocabSize: chars.vocabSize, blockSize: s.blockSize, nLayer: s.nLayer, nHead: s.nHead, nEmbd: s.nEmbd, dropout: 0, bias: false });
    const { model, tokenizer } = withChatVocabulary(base, chars, '');
    // continuous batching as `gptlab serve --max-batch 16` runs it; replies of exactly max_tokens, so every level
    // decodes the same work: every chat marker is suppressed through logit_bias (as vLLM's ignore_eos), as the
    // markers other than end-of-turn are stop strings too (a random model would end ~85% of replies early)
    const logitBias = Object.fromEntries([...tokenizer.specialTokens.values()].map((id) => [String(id), -100]));
    const rows = await benchServe(new ChatEngine(model, tokenizer, 'bench', { maxBatch: 16 }), {
      maxTokens: c.o.quick ? 16 : 64, logitBias, requests: (n) => (c.o.quick ? Math.max(32, 4 * n) : Math.max(128, 8 * n)),
    });
    const one = rows.find((r) => r.clients === 1), many = rows[rows.length - 1];
    if (one && many && many !== one) c.out(`${many.clients} clients / 1 client: ${(many.tokensPerSecond / one.tokensPerSecond).toFixed(2)}× the tokens/s; first token at ${many.clients} clients ${many.meanFirstTokenMs.toFixed(1)} ms`);
    results[s.name] = rows;
  }
  return results;
}

async function benchLstmSection(c: BenchContext): Promise<unknown> {
  c.out('\n== LSTM char LM training step (2 × 256, B 32, T 64) beside PyTorch nn.LSTM ==');
  const { benchLstm, lstmReport } = await import('../../bench/lstm.js');
  const r = await benchLstm({ threads: c.threads });
  for (const line of lstmReport(r)) c.out(line);
  return r;
}

async function benchGgufSection(c: BenchContext): Promise<unknown> {
  c.out('\n== GGUF: file sizes, perplexity per quantization type, decode tokens/s beside llama.cpp ==');
  const { benchGguf } = await import('../../bench/gguf.js');
  return benchGguf({ threads: c.threads, quick: !!c.o.quick });
}

async function benchConvSection(c: BenchContext): Promise<unknown> {
  c.out('\n== Conv2d forward + backward (dx, dW, db) beside PyTorch F.conv2d, median ms ==');
  const { benchConv } = await import('../../bench/conv.js');
  return benchConv({ threads: c.threads, torch: c.o.torch !== 'off', out: c.out });
}

async function benchAlignSection(c: BenchContext): Promise<unknown> {
  c.out('\n== alignment: reward model, DPO, PPO, GRPO, LoRA SFT, distillation (issue #10 targets) ==');
  const base = c.o.alignBase as string, chat = c.o.alignChat as string;
  const ppoChat = c.o.alignPpoChat as string | undefined;
  const missing = [base, chat].filter((d) => !fs.existsSync(d));
  if (missing.length) {
    c.out(`  skipped: ${missing.join(' and ')} not found (gptlab train --demo --out ${base}; gptlab sft --base ${base} --out ${chat}; or --align-base/--align-chat)`);
    return undefined;
  }
  if (ppoChat && !fs.existsSync(ppoChat)) {
    c.out(`  skipped: --align-ppo-chat ${ppoChat} not found (gptlab sft --base ${base} --bare-answers 1 --out ${ppoChat}, or leave it out to use --align-chat)`);
    return undefined;
  }
  const { benchAlign } = await import('../../bench/align.js');
  const { initBackend } = await import('../backend/index.node.js');
  const be = await initBackend({ backend: 'auto', threads: c.threads });
  c.out(`  backend ${be.name}×${be.threads}; models ${base} and ${chat}; numbers also in runs/align-bench/report.json`);
  return benchAlign({ base, chat, ppoChat, out: 'runs/align-bench', parts: (c.o.alignParts as string).split(',').map((p) => p.trim()).filter(Boolean), scale: c.o.alignScale as number, log: (l) => c.out(`  ${l}`) });
}

async function benchQuantSection(c: BenchContext): Promise<unknown> {
  c.out('\n== quantize / dequantize a 768×3072 matrix: TypeScript reference vs wasm SIMD, MB/s ==');
  const { benchQuant } = await import('../../bench/quant.js');
  return benchQuant({ quick: !!c.o.quick, out: c.out });
}

async function benchWord2VecSection(c: BenchContext): Promise<unknown> {
  c.out('\n== word2vec training (sgns, cbow; D 100, window 5, 5 negatives, one pass) beside the original C tool, words/s ==');
  const data = c.o.word2vecData as string | undefined;
  const { benchWord2Vec, dataFileProblem } = await import('../../bench/word2vec.js');
  const problem = data === undefined ? null : dataFileProblem(data);
  if (problem) throw new UsageError(`bench: --word2vec-data ${problem}`);
  return benchWord2Vec({ data, threads: c.threads, tool: c.o.word2vec as string | undefined, out: c.out });
}

/** the sections `--only` chooses from, in the order `all` runs them */
const SECTIONS: Record<string, (c: BenchContext) => Promise<unknown>> = {
  matmul: benchMatmulSection, train: benchTrainSection, elementwise: benchElementwiseSection, tokenizers: benchTokenizersSection, decode: benchDecodeSection, serve: benchServeSection, lstm: benchLstmSection, gguf: benchGgufSection, conv: benchConvSection, align: benchAlignSection, quant: benchQuantSection, word2vec: benchWord2VecSection,
};

/** OpenBLAS reads its kernel choice once, when loaded: set it before anything loads it */
function setBlasEnv(out: (s: string) => void): Record<string, string | undefined> {
  const env = blasEnv();
  for (const k of ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE']) {
    if (env[k] === undefined) delete process.env[k];
    else process.env[k] = env[k];
  }
  if (env.OPENBLAS_CORETYPE) out(`(OpenBLAS kernels: OPENBLAS_CORETYPE=${env.OPENBLAS_CORETYPE}, for PyTorch and gptlab's blas backend alike)`);
  return env;
}

export async function benchCommand(argv: string[]): Promise<number> {
  const o = parseArgs(argv, OPTS, 'bench');
  if (maybeHelp(o, () => helpText('bench', 'measure kernels and training throughput', OPTS))) return 0;
  const only = o.only as string;
  if (only !== 'all' && !(only in SECTIONS)) throw new UsageError(`bench: --only must be all or one of ${Object.keys(SECTIONS).join(', ')}, got "${only}"`);
  if (o.json !== undefined) checkOutputFile(o.json as string, '--json', 'bench');
  const out = (s: string): void => void process.stdout.write(s + '\n');
  const c: BenchContext = { o, out, env: setBlasEnv(out), threads: o.threads as number | undefined };
  const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };
  for (const [name, run] of Object.entries(SECTIONS)) if (only === 'all' || only === name) results[name] = await run(c);
  if (o.json) fs.writeFileSync(o.json as string, JSON.stringify(results, null, 2));
  return 0;
}
