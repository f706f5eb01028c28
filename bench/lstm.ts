// LSTM training speed (issue #12): one training step — forward to the cross-entropy loss, backward — of a
// character LSTM language model, 2 layers × 256 hidden, embedding 64, vocabulary 65, batch 32, sequence 64,
// ours (src/models/rnn-lm.ts on the active backend) beside PyTorch's nn.LSTM with the same shapes in the same
// run (a small inline script for /work/pyenv/bin/python, or $GPTLAB_TORCH_PYTHON; skipped, saying so, where
// torch cannot be imported). Median of the runs, in ms; tokens/s = B·T / step time.
// Run: node dist/bench/lstm.js [--runs 20] [--threads N] [--backend auto|blas|wasm|js]
import { spawnSync } from 'node:child_process';
import { initBackend, type BackendName } from '../src/backend/index.node.js';
import { stepScope } from '../src/backend/storage.js';
import { createModel } from '../src/models/registry.js';
import { Rng } from '../src/tensor/rng.js';
import { medianMs } from './timing.js';

export interface LstmShape {
  vocab: number;
  embd: number;
  hidden: number;
  layers: number;
  batch: number;
  seq: number;
}

export const LSTM_SHAPE: LstmShape = { vocab: 65, embd: 64, hidden: 256, layers: 2, batch: 32, seq: 64 };

/** untimed steps before the timed ones, on both sides (a training run's steady state is what counts) */
const WARMUP = 20;

export interface LstmBenchResult {
  shape: LstmShape;
  /** our median forward + backward, ms */
  oursMs: number;
  /** PyTorch's median, ms, or null with the reason in `torchNote` */
  torchMs: number | null;
  torchNote: string;
  threads: number;
  backend: string;
}

/** our training step's median time */
function benchOurs(s: LstmShape, runs: number): number {
  const model = createModel('lstm', { vocabSize: s.vocab, blockSize: s.seq, nEmbd: s.embd, nHidden: s.hidden, nLayer: s.layers, dropout: 0 }, 1);
  model.toStorage().train();
  const rng = new Rng(2), n = s.batch * s.seq;
  const x = Int32Array.from({ length: n }, () => Math.floor(rng.random() * s.vocab));
  const y = Int32Array.from({ length: n }, () => Math.floor(rng.random() * s.vocab));
  const step = (): void => {
    stepScope(() => {
      model.forward(x, s.batch, s.seq, { targets: y }).loss!.backward();
    });
    for (const p of model.parameters()) p.zeroGrad();
  };
  for (let i = 0; i < WARMUP; i++) step(); // V8 takes ~15 steps to settle its optimised code for the loops
  return medianMs(step, runs);
}

const TORCH_SCRIPT = `
import sys, time, torch
V, E, H, L, B, T, runs, threads, warmup = map(int, sys.argv[1:10])
torch.set_num_threads(threads); torch.manual_seed(0)
emb, lstm, head = torch.nn.Embedding(V, E), torch.nn.LSTM(E, H, L, batch_first=True), torch.nn.Linear(H, V)
params = list(emb.parameters()) + list(lstm.parameters()) + list(head.parameters())
x, y = torch.randint(0, V, (B, T)), torch.randint(0, V, (B, T))
def step():
    for p in params: p.grad = None
    out, _ = lstm(emb(x))
    torch.nn.functional.cross_entropy(head(out).reshape(-1, V), y.reshape(-1)).backward()
for _ in range(warmup): step()
ms = []
for _ in range(runs):
    t0 = time.perf_counter(); step(); ms.append((time.perf_counter() - t0) * 1000)
ms.sort(); print(ms[runs // 2])
`;

/** PyTorch's median step time, or the reason it is missing */
function benchTorch(s: LstmShape, runs: number, threads: number): { ms: number | null; note: string } {
  const python = process.env.GPTLAB_TORCH_PYTHON ?? '/work/pyenv/bin/python';
  const args = [s.vocab, s.embd, s.hidden, s.layers, s.batch, s.seq, runs, threads, WARMUP].map(String);
  const r = spawnSync(python, ['-c', TORCH_SCRIPT, ...args], { encoding: 'utf8', timeout: 600_000 });
  if (r.error) return { ms: null, note: `skipped: ${python} cannot be run (${r.error.message})` };
  if (r.status !== 0) return { ms: null, note: `skipped: torch not importable with ${python} (${(r.stderr || '').trim().split('\n').pop()})` };
  const v = Number(r.stdout.trim().split('\n').pop());
  return Number.isFinite(v) ? { ms: v, note: `PyTorch ${python}, ${threads} thread${threads > 1 ? 's' : ''}` } : { ms: null, note: `skipped: unreadable output ${JSON.stringify(r.stdout)}` };
}

/** Times our LSTM LM's training step and PyTorch's on the same shapes (default LSTM_SHAPE). */
export async function benchLstm(opts: { runs?: number; threads?: number; backend?: BackendName; shape?: LstmShape } = {}): Promise<LstmBenchResult> {
  const b = await initBackend({ backend: opts.backend ?? 'auto', threads: opts.threads });
  const shape = opts.shape ?? LSTM_SHAPE, runs = opts.runs ?? 20;
  const oursMs = benchOurs(shape, runs);
  const torch = benchTorch(shape, runs, b.threads);
  return { shape, oursMs, torchMs: torch.ms, torchNote: torch.note, threads: b.threads, backend: b.name };
}

/** the result as the lines `gptlab bench --only lstm` and this file's main print */
export function lstmReport(r: LstmBenchResult): string[] {
  const s = r.shape, tok = s.batch * s.seq;
  return [
    `LSTM LM training step (forward + backward): ${s.layers} layers × ${s.hidden} hidden, embedding ${s.embd}, vocab ${s.vocab}, B ${s.batch}, T ${s.seq}`,
    `  gptlab (${r.backend}, ${r.threads} threads): ${r.oursMs.toFixed(1)} ms, ${Math.round((tok / r.oursMs) * 1000).toLocaleString('en')} tok/s`,
    r.torchMs === null
      ? `  PyTorch: ${r.torchNote}`
      : `  ${r.torchNote}: ${r.torchMs.toFixed(1)} ms, ${Math.round((tok / r.torchMs) * 1000).toLocaleString('en')} tok/s → gptlab is ${(r.torchMs / r.oursMs).toFixed(2)}× PyTorch's speed`,
  ];
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').slice(-2).join('/'));
if (isMain) {
  const arg = (k: string): string | undefined => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1] : undefined);
  const r = await benchLstm({ runs: Number(arg('--runs') ?? 20), threads: arg('--threads') ? Number(arg('--threads')) : undefined, backend: arg('--backend') as BackendName | undefined });
  for (const line of lstmReport(r)) console.log(line);
}
