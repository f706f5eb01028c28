// The fused attention kernels (assembly/attention.ts) against the TypeScript reference
// (src/backend/attention-ref.ts), called directly on a memory laid out here, and the reference's backward
// against finite differences of its forward.
//
// Tolerance |Δ| ≤ 1e-5 + 1e-4·|ref|: the kernels sum in float32 (in another order) and use a polynomial exp;
// the reference sums in float64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAllClose } from './helpers/allclose.js';
import { compileKernels, createMemory, instantiateKernels } from '../src/backend/wasm.js';
import { attentionBackwardRef, attentionForwardRef } from '../src/backend/attention-ref.js';

const module = await compileKernels(false);
const memory = createMemory(false);
const k = await instantiateKernels(module, memory);
k.initConstants();

const BASE = 1 << 20;

/** arrays placed one after another from 1 MiB, each 16-byte aligned; views made after the memory has grown */
function layout(sizes: Record<string, number>): { off: Record<string, number>; view: (name: string) => Float32Array } {
  const off: Record<string, number> = {};
  const len: Record<string, number> = {};
  let p = BASE;
  for (const [name, n] of Object.entries(sizes)) {
    off[name] = p;
    len[name] = n;
    p += Math.ceil((n * 4) / 16) * 16 + 16;
  }
  const need = p - memory.buffer.byteLength;
  if (need > 0) memory.grow(Math.ceil(need / 65536));
  return { off, view: (name) => new Float32Array(memory.buffer, off[name], len[name]) };
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function fill(a: Float32Array, r: () => number, amp = 1): void {
  for (let i = 0; i < a.length; i++) a[i] = (2 * r() - 1) * amp;
}

function close(got: Float32Array, want: Float32Array, what: string): void {
  assertAllClose(got, want, what, { atol: 1e-5, rtol: 1e-4 });
}

/** runs forward and backward (accumulate 0 and 1) on items [i0, i1) and compares everything with the reference */
function check(B: number, T: number, H: number, hs: number, seed: number, i0 = 0, i1 = B * H): void {
  const C = H * hs, items = B * H, scale = 1 / Math.sqrt(hs);
  const tag = `B${B} T${T} H${H} hs${hs} items [${i0}, ${i1})`;
  const m = layout({
    qkv: B * T * 3 * C, y: B * T * C, att: items * T * T, dy: B * T * C, dqkv: B * T * 3 * C,
    scratch: k.attnScratchBytes(T, hs) / 4,
  });
  const r = rng(seed);
  const qkv = new Float32Array(B * T * 3 * C);
  // larger q, k amplitudes make some softmax rows peaked, not just near uniform
  fill(qkv, r, 2);
  const dy = new Float32Array(B * T * C);
  fill(dy, r);
  const sentinel = new Float32Array(B * T * 3 * C);
  fill(sentinel, r);

  // the reference over all items; the kernel's untouched items keep their sentinel values
  const yRef = new Float32Array(B * T * C), attRef = new Float32Array(items * T * T);
  attentionForwardRef(qkv, yRef, attRef, B, T, H, hs, scale);
  m.view('qkv').set(qkv);
  m.view('dy').set(dy);
  const ySent = sentinel.subarray(0, B * T * C), attSent = new Float32Array(items * T * T).fill(7);
  m.view('y').set(ySent);
  m.view('att').set(attSent);
  // scratch is shared with other kernels: nothing may depend on what was left there
  m.view('scratch').fill(NaN);
  k.attnForward(m.off.qkv, m.off.y, m.off.att, T, H, hs, scale, i0, i1, m.off.scratch);
  const y = m.view('y'), att = m.view('att');
  const yWant = ySent.slice(), attWant = attSent.slice();
  for (let i = i0; i < i1; i++) {
    const b = Math.floor(i / H), h = i % H;
    for (let t = 0; t < T; t++) for (let d = 0; d < hs; d++) yWant[(b * T + t) * C + h * hs + d] = yRef[(b * T + t) * C + h * hs + d];
    attWant.set(attRef.subarray(i * T * T, (i + 1) * T * T), i * T * T);
  }
  close(y, yWant, `${tag} y`);
  close(att, attWant, `${tag} att`);

  // both backwards read the reference's P, so only the backward itself is compared; the kernel's copy has
  // garbage above the diagonal, which it must not read
  const attIn = attRef.slice();
  for (let i = 0; i < items; i++) for (let t = 0; t < T; t++) for (let j = t + 1; j < T; j++) attIn[(i * T + t) * T + j] = 7;
  m.view('att').set(attIn);
  for (const accumulate of [false, true]) {
    const dqkvRef = sentinel.slice();
    attentionBackwardRef(qkv, attRef, dy, dqkvRef, B, T, H, hs, scale, accumulate);
    const want = sentinel.slice();
    for (let i = i0; i < i1; i++) {
      const b = Math.floor(i / H), h = i % H;
      for (let t = 0; t < T; t++) {
        for (let p = 0; p < 3; p++) {
          const o = (b * T + t) * 3 * C + p * C + h * hs;
          want.set(dqkvRef.subarray(o, o + hs), o);
        }
      }
    }
    m.view('dqkv').set(sentinel);
    m.view('scratch').fill(NaN);
    k.attnBackward(m.off.qkv, m.off.att, m.off.dy, m.off.dqkv, T, H, hs, scale, accumulate ? 1 : 0, i0, i1, m.off.scratch);
    close(m.view('dqkv'), want, `${tag} dqkv (accumulate ${accumulate})`);
  }
}

test('attnScratchBytes is a multiple of 16', () => {
  for (const [T, hs] of [[1, 1], [7, 5], [65, 33], [64, 32], [256, 64]]) assert.equal(k.attnScratchBytes(T, hs) % 16, 0);
});

test('forward and backward match the reference on odd and real shapes', () => {
  let seed = 1;
  for (const [B, T, H, hs] of [[1, 1, 1, 1], [2, 7, 3, 5], [1, 65, 2, 33], [3, 64, 4, 32], [1, 129, 1, 8], [2, 13, 2, 12], [1, 9, 2, 64]]) {
    check(B, T, H, hs, seed++);
  }
});

test('item sub-ranges leave the other items untouched', () => {
  check(2, 7, 3, 5, 11, 1, 3);
  check(3, 64, 4, 32, 12, 5, 6);
  check(1, 65, 2, 33, 13, 1, 2);
  check(2, 5, 2, 4, 14, 2, 2); // empty range
});

test('large scores: softmax stays finite and matches', () => {
  // q, k of amplitude 2 with hs 64 and scale 1 give scores in the hundreds
  const B = 1, T = 40, H = 1, hs = 64, C = hs;
  const m = layout({ qkv: B * T * 3 * C, y: B * T * C, att: T * T, scratch: k.attnScratchBytes(T, hs) / 4 });
  const qkv = new Float32Array(B * T * 3 * C);
  fill(qkv, rng(5), 2);
  const yRef = new Float32Array(B * T * C), attRef = new Float32Array(T * T);
  attentionForwardRef(qkv, yRef, attRef, B, T, H, hs, 1);
  m.view('qkv').set(qkv);
  // scratch is shared with other kernels: nothing may depend on what was left there
  m.view('scratch').fill(NaN);
  k.attnForward(m.off.qkv, m.off.y, m.off.att, T, H, hs, 1, 0, 1, m.off.scratch);
  close(m.view('y'), yRef, 'y');
  close(m.view('att'), attRef, 'att');
});

test('reference backward matches finite differences of the reference forward', () => {
  const B = 2, T = 5, H = 2, hs = 3, C = H * hs, scale = 1 / Math.sqrt(hs);
  const r = rng(99);
  const qkv = new Float32Array(B * T * 3 * C);
  fill(qkv, r);
  const w = new Float32Array(B * T * C);
  fill(w, r);
  const y = new Float32Array(B * T * C), att = new Float32Array(B * H * T * T);
  const loss = (x: Float32Array): number => {
    attentionForwardRef(x, y, att, B, T, H, hs, scale);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * w[i];
    return s;
  };
  loss(qkv);
  const grad = new Float32Array(qkv.length);
  attentionBackwardRef(qkv, att, w, grad, B, T, H, hs, scale, false);
  const eps = 1e-2;
  let worst = 0;
  for (let i = 0; i < qkv.length; i++) {
    const x = qkv.slice();
    x[i] = qkv[i] + eps;
    const hi = x[i], up = loss(x);
    x[i] = qkv[i] - eps;
    const lo = x[i], down = loss(x);
    // the step actually taken: qkv is float32, so qkv[i] ± eps rounds
    const fd = (up - down) / (hi - lo);
    const err = Math.abs(fd - grad[i]) / (Math.abs(grad[i]) + 1e-2);
    worst = Math.max(worst, err);
    assert.ok(err < 1e-2, `dqkv[${i}]: finite difference ${fd}, backward ${grad[i]}`);
  }
  assert.ok(worst < 1e-2);
});
