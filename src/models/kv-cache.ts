// The KV cache of attention models (GPT, LLaMA): per layer, the keys and values of every position consumed so
// far, so a generation step computes attention for its new token only. It is preallocated and grows in place
// (as vLLM's and llama.cpp's caches do) instead of being concatenated anew every step: each layer has one
// buffer of (row capacity, heads, column capacity, head size) floats, in the backend's persistent storage
// (the wasm kernels read it where it lives), and the rows hold columns [start, start + length).
//
//   row 0, head 0:  [ . . k k k k k . . . ]    start = 2, length = 5, capacity = 10
//   a step writes its key at column start + length; dropping a prefix moves `start`; when the end reaches
//   the capacity the columns move back to 0 (or the buffer doubles, up to the model's context length).
//
// Rows leave, repeat or reorder (selectRows), and another cache's rows can be appended below (join, for
// continuous batching: the shorter side is right-aligned, its new left columns zero and counted as padding by
// the caller). The cache holds values only: no gradient flows through it, so it is for inference under noGrad.
import { allocPersistent, freePersistent } from '../backend/storage.js';
import type { Tensor } from '../tensor/tensor.js';
import type { CachedKeysValues } from '../tensor/kv-attention.js';
import type { ModelState } from './model.js';

/** Keys and values of past positions, per layer, preallocated and grown in place. GPT's and LLaMA's generation state. */
export class KVCache implements ModelState {
  /** nothing a forward pass allocates is kept: the cache copies keys and values into its own storage */
  readonly ownsStorage = true;
  private rows = 0;
  private rowCap = 0;
  private heads = 0;
  private headSize = 0;
  private cap = 0;
  private start = 0;
  /** positions held per layer (they differ only while a forward pass is between its layers) */
  private readonly lens: number[];
  private kb: Float32Array[] = [];
  private vb: Float32Array[] = [];

  /** maxLength: the most positions a row will ever hold (the model's context length); capacity never exceeds it */
  constructor(readonly nLayer: number, readonly maxLength = Infinity) {
    this.lens = new Array<number>(nLayer).fill(0);
  }

  /** number of cached positions */
  get length(): number {
    return this.lens[0] ?? 0;
  }

  /**
   * Gives the buffers back to the backend's storage now (wasm memory is otherwise freed only when the garbage
   * collector runs, which a loop of large rollouts outpaces) and empties the cache; the next append allocates.
   */
  dispose(): void {
    [...this.kb, ...this.vb].forEach(freePersistent);
    this.kb = [];
    this.vb = [];
    this.rows = this.rowCap = this.cap = this.start = 0;
    this.lens.fill(0);
  }

  /** rows the cache holds (0 before the first append) */
  get batchSize(): number {
    return this.rows;
  }

  /**
   * Writes the keys and values of T new positions, k and v (B, heads, T, headSize), after layer `layer`'s held
   * ones. The first append fixes B, heads and headSize; later ones must match. Throws naming the mismatch.
   */
  append(layer: number, k: Tensor, v: Tensor): void {
    const [B, H, T, hs] = k.shape;
    if (v.shape.join() !== k.shape.join()) throw new Error(`KVCache: keys [${k.shape}] and values [${v.shape}] differ`);
    if (!(layer >= 0 && layer < this.nLayer)) throw new Error(`KVCache: layer ${layer} is out of range for ${this.nLayer} layers`);
    if (this.kb.length === 0) this.allocate(B, H, hs, Math.max(2 * T, 64)); // room for a reply before the first growth
    else if (B !== this.rows || H !== this.heads || hs !== this.headSize) {
      throw new Error(`KVCache: appending [${k.shape}] to a cache of ${this.rows} rows, ${this.heads} heads of ${this.headSize}`);
    }
    const len = this.lens[layer];
    if (this.start + len + T > this.cap) this.makeRoom(len + T);
    const col = this.start + len;
    write(this.kb[layer], k.data, B * H, T * hs, this.cap * hs, col * hs);
    write(this.vb[layer], v.data, B * H, T * hs, this.cap * hs, col * hs);
    this.lens[layer] = len + T;
  }

  /** layer `layer`'s held keys and values as kvAttention reads them, valid until the next change to the cache */
  view(layer: number): CachedKeysValues {
    const off = this.start * this.headSize;
    return {
      keys: this.kb[layer].subarray(off), values: this.vb[layer].subarray(off), stride: this.cap * this.headSize,
      length: this.lens[layer], heads: this.heads,
    };
  }

  /**
   * Row j becomes old row rows[j] (beam search reorders, batches drop rows). In place, copying only the held
   * positions, when no row repeats and none moves up (rows[j] ≥ j: rows leave, later rows close the gaps);
   * otherwise into new buffers.
   */
  selectRows(rows: readonly number[]): void {
    if (this.kb.length === 0) return; // nothing cached yet: the first append sets the rows
    rows.forEach((r) => {
      if (!(Number.isInteger(r) && r >= 0 && r < this.rows)) throw new Error(`selectRows: row ${r} is out of range for a batch of ${this.rows}`);
    });
    const rs = this.heads * this.cap * this.headSize;
    if (new Set(rows).size === rows.length && rows.every((r, j) => r >= j)) {
      // ascending j: the source rows[j] > j of a move was never a destination before it is read
      const hs = this.headSize, pairStride = this.cap * hs, from = this.start * hs;
      for (let l = 0; l < this.nLayer; l++) {
        const n = this.lens[l] * hs;
        for (const buf of [this.kb[l], this.vb[l]]) {
          rows.forEach((r, j) => {
            for (let h = 0; r !== j && h < this.heads; h++) {
              const src = (r * this.heads + h) * pairStride + from, dst = (j * this.heads + h) * pairStride + from;
              buf.copyWithin(dst, src, src + n);
            }
          });
        }
      }
    } else {
      // repeats or reorders (beam search): through a temporary copy, back into the same buffers while they
      // have room (so a step allocates no storage of the backend's, which only the garbage collector frees)
      const room = rows.length <= this.rowCap;
      const pick = (buf: Float32Array): Float32Array => {
        const src = room ? buf.slice(0, this.rows * rs) : buf;
        const out = room ? buf : allocPersistent(rows.length * rs);
        rows.forEach((r, j) => out.set(src.subarray(r * rs, (r + 1) * rs), j * rs));
        if (!room) freePersistent(buf);
        return out;
      };
      this.kb = this.kb.map(pick);
      this.vb = this.vb.map(pick);
      this.rowCap = Math.max(this.rowCap, rows.length);
    }
    this.rows = rows.length;
  }

  /** drops the first n cached positions of every row */
  dropPrefix(n: number): void {
    if (n > this.length) throw new Error(`dropPrefix: cannot drop ${n} of ${this.length} cached positions`);
    this.start += n;
    for (let l = 0; l < this.nLayer; l++) this.lens[l] -= n;
  }

  /**
   * Appends the rows of `other` (same layers, heads and head size) below this cache's rows, in place on this
   * one: the result holds max(La, Lb) positions, the shorter side right-aligned after zero columns. Returns the
   * zero columns added before this cache's rows (padA) and before other's (padB). `other` is left as it was.
   */
  join(other: KVCache): { padA: number; padB: number } {
    if (other.nLayer !== this.nLayer) throw new Error(`joinStates: ${this.nLayer} layers vs ${other.nLayer}`);
    if (this.kb.length === 0 || other.kb.length === 0 || !this.settled() || !other.settled()) {
      throw new Error('joinStates: both states must hold a prefill (every layer cached)');
    }
    if (other.heads !== this.heads || other.headSize !== this.headSize) {
      throw new Error(`joinStates: caches of ${this.heads} heads of ${this.headSize} and ${other.heads} heads of ${other.headSize} differ in heads or head size`);
    }
    const La = this.length, Lb = other.length, L = Math.max(La, Lb), Ba = this.rows, Bb = other.rows;
    if (Ba + Bb > this.rowCap || L > this.cap) this.reallocate(Math.max(Ba + Bb, Math.min(2 * this.rowCap, Ba + Bb + 16)), Math.max(this.cap, L));
    // both sides end at column `end`: this cache's own end, unless it must move right to leave L columns
    if (this.start + La < L) this.moveColumns(L - La);
    const end = this.start + La, hs = this.headSize, pairStride = this.cap * hs;
    for (let l = 0; l < this.nLayer; l++) {
      for (const [dst, src] of [[this.kb[l], other.kb[l]], [this.vb[l], other.vb[l]]]) {
        // this cache's rows: zero the new pad columns [end − L, end − La)
        for (let i = 0; i < Ba * this.heads; i++) dst.fill(0, i * pairStride + (end - L) * hs, i * pairStride + (end - La) * hs);
        // other's rows: zeros, then its Lb positions ending at column `end`
        for (let i = 0; i < Bb * this.heads; i++) {
          const d = (Ba * this.heads + i) * pairStride, s = i * other.cap * hs + other.start * hs;
          dst.fill(0, d + (end - L) * hs, d + (end - Lb) * hs);
          dst.set(src.subarray(s, s + Lb * hs), d + (end - Lb) * hs);
        }
      }
    }
    this.start = end - L;
    this.lens.fill(L);
    this.rows = Ba + Bb;
    return { padA: L - La, padB: L - Lb };
  }

  /** every layer holds the same positions (no forward pass is half-way) */
  private settled(): boolean {
    return this.lens.every((n) => n === this.lens[0]);
  }

  private allocate(B: number, H: number, hs: number, cap: number): void {
    this.rows = B;
    this.rowCap = B;
    this.heads = H;
    this.headSize = hs;
    this.cap = Math.min(cap, this.maxLength);
    this.start = 0;
    const n = Math.max(B, 1) * H * this.cap * hs;
    this.kb = Array.from({ length: this.nLayer }, () => allocPersistent(n));
    this.vb = Array.from({ length: this.nLayer }, () => allocPersistent(n));
  }

  /** room for `need` positions from `start`: columns move back to 0, or the capacity doubles (up to maxLength) */
  private makeRoom(need: number): void {
    if (need > this.cap) this.reallocate(this.rowCap, Math.max(need, Math.min(2 * this.cap, this.maxLength)));
    else this.moveColumns(0);
  }

  /** moves every row's held columns to start at column `to` (within the capacity) */
  private moveColumns(to: number): void {
    const hs = this.headSize, pairStride = this.cap * hs;
    for (let l = 0; l < this.nLayer; l++) {
      const n = this.lens[l] * hs;
      for (const buf of [this.kb[l], this.vb[l]]) {
        for (let i = 0; i < this.rows * this.heads; i++) buf.copyWithin(i * pairStride + to * hs, i * pairStride + this.start * hs, i * pairStride + this.start * hs + n);
      }
    }
    this.start = to;
  }

  /** new buffers of rowCap rows and cap columns; held columns are copied to start at column 0 */
  private reallocate(rowCap: number, cap: number): void {
    const hs = this.headSize, oldStride = this.cap * hs, newStride = cap * hs;
    const copy = (buf: Float32Array, n: number): Float32Array => {
      const out = allocPersistent(rowCap * this.heads * newStride);
      for (let i = 0; i < this.rows * this.heads; i++) out.set(buf.subarray(i * oldStride + this.start * hs, i * oldStride + this.start * hs + n), i * newStride);
      return out;
    };
    const old = [...this.kb, ...this.vb];
    this.kb = this.kb.map((b, l) => copy(b, this.lens[l] * hs));
    this.vb = this.vb.map((b, l) => copy(b, this.lens[l] * hs));
    old.forEach(freePersistent);
    this.rowCap = rowCap;
    this.cap = cap;
    this.start = 0;
  }
}

/** copies `pairs` blocks of n floats from src (packed) into dst, block i at dstOffset + i·dstStride */
function write(dst: Float32Array, src: Float32Array, pairs: number, n: number, dstStride: number, dstOffset: number): void {
  for (let i = 0, s = 0; i < pairs; i++, s += n) {
    const d = dstOffset + i * dstStride;
    for (let j = 0; j < n; j++) dst[d + j] = src[s + j];
  }
}
