// WasmHeap: tensor storage inside the kernels' WebAssembly memory (a StorageProvider, see
// src/backend/storage.ts), so the wasm kernels, their worker threads and native BLAS read and write tensors in
// place. Only for a *shared* memory: growing an ordinary memory detaches its buffer and every view on it,
// while a shared one keeps old views valid (each grow just hands out a new, longer SharedArrayBuffer).
//
// Two allocators over [base, end of memory):
//   blocks  first-fit over a free list sorted by offset, coalescing neighbours. Persistent arrays come from
//           here and go back when the garbage collector drops their view (FinalizationRegistry). The backend's
//           staging area for operands that live elsewhere is a block too.
//   arena   bump allocation in chunks taken from the blocks; mark/releaseTo rewinds it. When a step needed
//           more than one chunk, the outermost release merges them into one chunk of the total size, so the
//           next step is one contiguous bump again.
// Caveat of GC-driven frees: a subarray of a persistent array must not outlive the array itself.
import type { StorageProvider } from './storage.js';

const PAGE = 65536;
const ALIGN = 64;
const MIN_CHUNK = 4 << 20;
/**
 * The arena stops growing here and further scoped arrays are ordinary ones (kernels then copy them). It frees
 * nothing until the step ends, so a step holds its activations and all its gradients at once: a large model
 * (shakespeare_char at B = 64 needs ~3 GiB that way) must not run a wasm32 memory out of its 4 GiB.
 */
export const ARENA_MAX_BYTES = 1536 << 20;

const align = (bytes: number): number => Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN;

interface Chunk {
  off: number;
  bytes: number;
  used: number;
}

export class WasmHeap implements StorageProvider {
  /** every buffer object this memory has handed out (a grow makes a new one; old views keep theirs) */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  /** free ranges [off, off + bytes), sorted by offset, never adjacent */
  private readonly freeList: { off: number; bytes: number }[] = [];
  private readonly chunks: Chunk[] = [];
  private chunk = 0;
  private depth = 0;
  private readonly registry = new FinalizationRegistry<[number, number]>(([off, bytes]) => this.release(off, bytes));
  /** the buffer object `owns` last found in `buffers` */
  private lastOwned: ArrayBufferLike | null = null;
  /** bytes in use by blocks (persistent arrays, arena chunks, staging), for tests and diagnostics */
  inUse = 0;
  /** the arena's limit (ARENA_MAX_BYTES; tests lower it) */
  arenaMax = ARENA_MAX_BYTES;

  /** `zero(off, bytes)` clears memory (a bulk-memory fill in wasm: a JS fill on a shared buffer is slow) */
  constructor(
    private readonly memory: WebAssembly.Memory, base: number, private readonly maxPages: number,
    private readonly zero: (off: number, bytes: number) => void,
  ) {
    if (!((memory.buffer as ArrayBufferLike) instanceof SharedArrayBuffer)) throw new Error('WasmHeap needs a shared WebAssembly.Memory');
    const start = align(base);
    const end = memory.buffer.byteLength;
    if (end > start) this.freeList.push({ off: start, bytes: end - start });
    this.buffers.add(memory.buffer);
  }

  /** whether `a` is a view on this memory (then its byteOffset is its address for the kernels) */
  owns(a: Float32Array): boolean {
    const b = a.buffer;
    if (b === this.lastOwned) return true; // nearly every call: one compare instead of a WeakSet lookup
    if (!this.buffers.has(b)) return false;
    this.lastOwned = b;
    return true;
  }

  /** A block of at least `bytes`, 64-byte aligned; grows the memory when no free range fits. */
  malloc(bytes: number): number {
    const need = align(bytes);
    const fl = this.freeList;
    for (let i = 0; i < fl.length; i++) {
      const f = fl[i];
      if (f.bytes < need) continue;
      const off = f.off;
      if (f.bytes === need) fl.splice(i, 1);
      else {
        f.off += need;
        f.bytes -= need;
      }
      this.inUse += need;
      return off;
    }
    this.grow(need);
    return this.malloc(need);
  }

  /** Returns a block from malloc (same `bytes`). */
  release(off: number, bytes: number): void {
    const size = align(bytes);
    this.inUse -= size;
    this.insertFree(off, size);
  }

  private insertFree(off: number, size: number): void {
    const fl = this.freeList;
    let i = 0;
    while (i < fl.length && fl[i].off < off) i++;
    fl.splice(i, 0, { off, bytes: size });
    // coalesce with the next, then the previous neighbour
    if (i + 1 < fl.length && off + size === fl[i + 1].off) {
      fl[i].bytes += fl[i + 1].bytes;
      fl.splice(i + 1, 1);
    }
    if (i > 0 && fl[i - 1].off + fl[i - 1].bytes === off) {
      fl[i - 1].bytes += fl[i].bytes;
      fl.splice(i, 1);
    }
  }

  private grow(need: number): void {
    const have = this.memory.buffer.byteLength;
    const last = this.freeList[this.freeList.length - 1];
    const tailFree = last && last.off + last.bytes === have ? last.bytes : 0;
    // at least double-ish, so a growing step does not grow page by page
    const pages = Math.max(Math.ceil((need - tailFree) / PAGE), Math.ceil(have / PAGE / 4));
    const total = have / PAGE + pages;
    if (total > this.maxPages) {
      const fit = Math.ceil((need - tailFree) / PAGE);
      if (have / PAGE + fit > this.maxPages) {
        throw new Error(`wasm heap: ${need} more bytes do not fit in a 4 GiB wasm memory (${this.inUse} bytes in use)`);
      }
      this.memory.grow(fit);
    } else this.memory.grow(pages);
    this.buffers.add(this.memory.buffer);
    this.insertFree(have, this.memory.buffer.byteLength - have);
  }

  /** a Float32Array view of n floats at byte offset off */
  view(off: number, n: number): Float32Array {
    return new Float32Array(this.buffer(), off, n);
  }

  /**
   * The memory's buffer, remembered as ours. Not only a grow hands out a new SharedArrayBuffer object: V8
   * may give `memory.buffer` a fresh wrapper of the same memory (seen after worker threads started on it), and
   * views made from it must still count as ours.
   */
  private buffer(): ArrayBufferLike {
    const b = this.memory.buffer;
    this.buffers.add(b);
    return b;
  }

  /** like persistent, for n bytes (quantized weights): lives as long as the returned view is referenced */
  persistentBytes(n: number): Uint8Array {
    const off = this.malloc(n);
    const v = new Uint8Array(this.buffer(), off, n);
    this.registry.register(v, [off, n]);
    return v;
  }

  /** whether the bytes `a` are a view on this memory */
  ownsBytes(a: Uint8Array): boolean {
    return this.buffers.has(a.buffer);
  }

  persistent(n: number): Float32Array {
    const bytes = n * 4;
    const off = this.malloc(bytes);
    this.zero(off, bytes);
    const v = this.view(off, n);
    this.registry.register(v, [off, bytes], v);
    return v;
  }

  /** returns a persistent array's block now (and forgets its finalizer); any other array is ignored */
  free(a: Float32Array): void {
    if (this.registry.unregister(a)) this.release(a.byteOffset, a.length * 4);
  }

  scoped(n: number, zero: boolean): Float32Array | null {
    const bytes = align(n * 4);
    let c = this.chunks[this.chunk];
    while (c === undefined || c.used + bytes > c.bytes) {
      if (c !== undefined && this.chunk + 1 < this.chunks.length) {
        c = this.chunks[++this.chunk];
        c.used = 0;
        continue;
      }
      const size = align(Math.max(bytes, MIN_CHUNK));
      if (this.arenaBytes() + size > this.arenaMax) return null;
      c = { off: this.malloc(size), bytes: size, used: 0 };
      this.chunks.push(c);
      this.chunk = this.chunks.length - 1;
    }
    const off = c.off + c.used;
    c.used += bytes;
    if (zero) this.zero(off, n * 4);
    return this.view(off, n);
  }

  private arenaBytes(): number {
    let s = 0;
    for (const c of this.chunks) s += c.bytes;
    return s;
  }

  mark(): number {
    this.depth++;
    const c = this.chunks[this.chunk];
    // chunk index and offset in one number (chunks are < 4 GiB)
    return this.chunk * 2 ** 32 + (c ? c.used : 0);
  }

  releaseTo(mark: number): void {
    this.depth--;
    const ci = Math.floor(mark / 2 ** 32), used = mark % 2 ** 32;
    if (this.depth === 0 && this.chunks.length > 1) {
      // the step outgrew one chunk: next time, one chunk as big as all of them
      let total = 0;
      for (const c of this.chunks) {
        total += c.bytes;
        this.release(c.off, c.bytes);
      }
      this.chunks.length = 0;
      this.chunk = 0;
      try {
        this.chunks.push({ off: this.malloc(total), bytes: total, used: 0 });
      } catch {
        // no room for one block that size: the next step takes chunks as it goes, as this one did
      }
      return;
    }
    this.chunk = Math.min(ci, Math.max(0, this.chunks.length - 1));
    const c = this.chunks[this.chunk];
    if (c) c.used = used;
  }
}
