// The decoding kernels against their references: assembly/qmatvec.ts (QuantizedLinear's ≤ 4-row path on the
// wasm backend) bit for bit against src/quant/dot.ts's vecDot (llama.cpp's arithmetic), on 1 thread and on a
// 2-thread team with the rows split; and the column-split float32 matrix × vector product (gemmSmallMCols)
// bit for bit against the unsplit one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmBackend } from '../src/backend/wasm.js';
import { createThreadedWasmBackend } from '../src/backend/threads.node.js';
import { backend, setBackend, type Backend } from '../src/backend/backend.js';
import { setStorageProvider } from '../src/backend/storage.js';
import { QuantizedLinear } from '../src/quant/quantized-linear.js';
import { GGMLType, matVec, quantize } from '../src/quant/index.js';
import { Rng } from '../src/tensor/rng.js';
import { Tensor, noGrad } from '../src/tensor/tensor.js';
import type { GPT } from '../src/models/gpt.js';
import { modelToGGUF } from '../src/formats/gguf-model.js';
import { readGGUF } from '../src/formats/gguf.js';
import { ggufToModel } from '../src/formats/gguf-model-read.js';
import { charTokenizer, tinyGPT } from './gguf-model-helpers.js';

function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => r.normal() * scale);
}

const KERNEL_TYPES: [string, number][] = [
  ['Q8_0', GGMLType.Q8_0], ['Q4_0', GGMLType.Q4_0], ['Q4_1', GGMLType.Q4_1], ['Q5_0', GGMLType.Q5_0], ['Q5_1', GGMLType.Q5_1],
  ['Q4_K', GGMLType.Q4_K], ['Q5_K', GGMLType.Q5_K], ['Q6_K', GGMLType.Q6_K],
];

let one: WasmBackend;
let two: WasmBackend;
let saved: Backend;
before(async () => {
  saved = backend();
  one = await WasmBackend.create({ shared: true });
  two = await createThreadedWasmBackend(2);
  two.minQuantBytesPerThread = 1024; // split at test sizes too
  two.minMatVecFloatsPerThread = 1024;
});
after(() => {
  setStorageProvider(null);
  setBackend(saved);
  two?.dispose();
});

function use(b: WasmBackend): void {
  setStorageProvider(null);
  setBackend(b);
  setStorageProvider(b.storage);
}

test('quantized matrix × vector: wasm kernel bit for bit with vecDot, 1 and 2 threads, 1–4 rows, bias', () => {
  const Out = 70, In = 512;
  const w = randn(Out * In, 11, 0.5), b = randn(Out, 12);
  for (const be of [one, two]) {
    use(be);
    for (const [name, type] of KERNEL_TYPES) {
      const q = quantize(type, w);
      for (const bias of [null, b]) {
        const layer = new QuantizedLinear(type, q, Out, In, bias);
        for (const rows of [1, 2, 4]) {
          const x = randn(rows * In, 13 + rows, rows === 4 ? 100 : 1); // large values: int16 lane bounds hold
          if (rows === 2) x.fill(0, 0, In); // an all-zero row: zero scales
          const y = layer.forward(new Tensor(x, [rows, In]));
          for (let r = 0; r < rows; r++) {
            const want = matVec(type, q, Out, In, x.subarray(r * In, (r + 1) * In));
            for (let o = 0; o < Out; o++) {
              const v = bias ? Math.fround(want[o]! + bias[o]!) : want[o]!;
              assert.equal(y.data[r * Out + o], v, `${name} ${be.threads} threads, rows ${rows}, row ${r} out ${o}`);
            }
          }
        }
      }
      if (be === two) assert.equal(be.lastParts, 2, `${name}: split across the team`);
    }
  }
});

test('extreme quants: every weight level and −128 activations stay exact', () => {
  const Out = 8, In = 256;
  use(two);
  for (const [name, type] of KERNEL_TYPES) {
    // random bytes are valid blocks for these types apart from their f16 scales: set those to small values
    const q = quantize(type, randn(Out * In, 21));
    const r = new Rng(22);
    const rowBytes = q.length / Out;
    const noisy = q.slice();
    const [block, scaleBytes] = ({
      [GGMLType.Q8_0]: [34, [0, 1]], [GGMLType.Q4_0]: [18, [0, 1]], [GGMLType.Q4_1]: [20, [0, 1, 2, 3]], [GGMLType.Q5_0]: [22, [0, 1]],
      [GGMLType.Q5_1]: [24, [0, 1, 2, 3]], [GGMLType.Q4_K]: [144, [0, 1, 2, 3]], [GGMLType.Q5_K]: [176, [0, 1, 2, 3]],
      [GGMLType.Q6_K]: [210, [208, 209]],
    } as Record<number, [number, number[]]>)[type]!;
    for (let i = 0; i < noisy.length; i++) if (!scaleBytes.includes(i % block)) noisy[i] = r.int(256);
    const layer = new QuantizedLinear(type, noisy, Out, In);
    const x = randn(In, 23);
    const y = layer.forward(new Tensor(x, [1, In]));
    const want = matVec(type, noisy, Out, In, x);
    for (let o = 0; o < Out; o++) assert.equal(y.data[o], want[o], `${name} row ${o} (${rowBytes} bytes/row)`);
  }
});

test('float32 matrix × vector split by columns equals the unsplit kernel bit for bit', () => {
  for (const [M, N, K] of [[1, 1000, 96], [3, 517, 64], [1, 64, 33]] as const) {
    // resident operands, as a model's weights are (foreign ones go to the unsplit solo backend)
    const resident = (x: Float32Array) => { const v = two.storage!.persistent(x.length); v.set(x); return v; };
    const a = randn(M * K, 31), bm = resident(randn(N * K, 32));
    const args = { batch: 1, M, N, K, transA: false, transB: true, accumulate: false, strideA: 0, strideB: 0, strideC: 0 };
    const c1 = new Float32Array(M * N), c2 = new Float32Array(M * N);
    one.matmul(a, bm, c1, args);
    two.matmul(a, bm, c2, args);
    assert.deepEqual(c2, c1, `M=${M} N=${N} K=${K}`);
    if (N >= 64) assert.equal(two.lastParts, 2, `M=${M} N=${N} K=${K}: split`);
    const cn1 = new Float32Array(M * N), cn2 = new Float32Array(M * N), bn = resident(randn(K * N, 33));
    one.matmul(a, bn, cn1, { ...args, transB: false });
    two.matmul(a, bn, cn2, { ...args, transB: false });
    assert.deepEqual(cn2, cn1, `M=${M} N=${N} K=${K} (B as [K, N])`);
  }
});

/** x·wᵀ for one column as assembly/gemm.ts smallM sums it: float32 lanes k mod 4, added across, then the tail */
function smallMColumn(x: Float32Array, w: Float32Array, K: number, j: number): number {
  const f = Math.fround, lanes = [0, 0, 0, 0];
  let k = 0;
  for (; k + 4 <= K; k += 4) for (let l = 0; l < 4; l++) lanes[l] = f(lanes[l]! + f(x[k + l]! * w[j * K + k + l]!));
  let d = f(f(f(lanes[0]! + lanes[1]!) + lanes[2]!) + lanes[3]!);
  for (; k < K; k++) d = f(d + f(x[k]! * w[j * K + k]!));
  return d;
}

test('float32 matrix × vector, a large matrix of short rows (read one row at a time) and of long rows: the four-row loop\'s sums', () => {
  use(one);
  // 96 × 770 floats (289 KiB) with a tail of 2; 40 × 2051 (rows past SMALLM_INTERLEAVE_MIN_K); 30 × 70, small
  for (const [N, K] of [[96, 770], [40, 2051], [30, 70]] as const) {
    const x = randn(K, 41), w = one.storage!.persistent(N * K);
    w.set(randn(N * K, 42));
    const c = new Float32Array(N);
    one.matmul(x, w, c, { batch: 1, M: 1, N, K, transA: false, transB: true, accumulate: false, strideA: 0, strideB: 0, strideC: 0 });
    for (let j = 0; j < N; j++) assert.equal(c[j], smallMColumn(x, w, K, j), `N=${N} K=${K} column ${j}`);
  }
});

test('a quantized GGUF GPT computes its tied head from token_embd\'s blocks: decoding steps as the reference, prefill near the float head', () => {
  use(two);
  const tok = charTokenizer();
  const m = tinyGPT(tok.vocabSize);
  for (const type of ['q8_0', 'q4_k'] as const) {
    const f = readGGUF(modelToGGUF(m, tok, { type }).bytes, `m-${type}.gguf`);
    const emb = f.tensor('token_embd.weight')!;
    const { model, notes } = ggufToModel(f);
    const head = (model as GPT).tiedHead;
    assert.ok(head instanceof QuantizedLinear && head.type === emb.type, `${type}: tied head kept in ${emb.type}`);
    assert.ok(notes.some((n) => n.includes('the tied head reads its blocks')), notes.join('; '));
    const floatHead = ggufToModel(f, { dequantize: true }).model;
    const ids = Int32Array.from(tok.encode('the quick brown fox'));
    noGrad(() => {
      const x = (model as GPT).transformer.ln_f.forward(new Tensor(randn(2 * 256, 41), [1, 2, 256]));
      const last = new Tensor(x.data.slice(256), [1, 1, 256]);
      assert.deepEqual(head.forward(last).data, new QuantizedLinear(emb.type, emb.data(), emb.shape[0]!, emb.shape[1]!, null, 'reference').forward(last).data);
      const a = model.forward(ids, 1, ids.length).logits.data, b = floatHead.forward(ids, 1, ids.length).logits.data;
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
      assert.ok(worst < 1e-3, `${type}: prefill logits within ${worst} of the dequantized model's`);
    });
  }
});
