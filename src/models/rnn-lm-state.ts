// The generation state of a recurrent language model (src/models/rnn-lm.ts): each row's hidden state h (and an
// LSTM's cell state c) after the tokens consumed so far, as PyTorch's (num_layers, B, H) layout. Unlike a KV
// cache it does not grow, so `length` only counts positions and `dropPrefix` is that counter going down.
import { Tensor } from '../tensor/tensor.js';
import type { ModelState } from './model.js';

export class RecurrentLMState implements ModelState {
  /** (L, B, H) hidden states; zeros before the first token */
  private h: Float32Array;
  /** (L, B, H) LSTM cell states, or null for an RNN or GRU */
  private c: Float32Array | null;
  private len = 0;
  private rows: number;

  /** B rows of an L-layer network with H hidden units; `withCell` for an LSTM */
  constructor(B: number, readonly layers: number, readonly hidden: number, readonly withCell: boolean) {
    this.rows = B;
    this.h = new Float32Array(layers * B * hidden);
    this.c = withCell ? new Float32Array(layers * B * hidden) : null;
  }

  get length(): number {
    return this.len;
  }

  get batch(): number {
    return this.rows;
  }

  /** T more positions consumed */
  advance(T: number): void {
    this.len += T;
  }

  /** h0 and c0 of rows [from, to) as (L, to − from, H) tensors (copies, no gradient) */
  initial(from = 0, to = this.rows): { h: Tensor; c?: Tensor } {
    const pick = (a: Float32Array): Tensor => new Tensor(this.copyRows(a, from, to), [this.layers, to - from, this.hidden]);
    return this.c ? { h: pick(this.h), c: pick(this.c) } : { h: pick(this.h) };
  }

  /** stores the final states hN (and cN), (L, to − from, H), of rows [from, to) */
  store(h: Tensor, c: Tensor | undefined, from = 0, to = this.rows): void {
    this.pasteRows(this.h, h.data, from, to);
    if (this.c && c) this.pasteRows(this.c, c.data, from, to);
  }

  /** row j becomes old row rows[j]; throws on a row out of range */
  selectRows(rows: readonly number[]): void {
    const B = this.rows, L = this.layers, H = this.hidden;
    for (const r of rows) if (!(Number.isInteger(r) && r >= 0 && r < B)) throw new Error(`selectRows: row ${r} is out of range for a batch of ${B}`);
    const pick = (a: Float32Array): Float32Array => {
      const out = new Float32Array(L * rows.length * H);
      for (let l = 0; l < L; l++) rows.forEach((r, j) => out.set(a.subarray((l * B + r) * H, (l * B + r + 1) * H), (l * rows.length + j) * H));
      return out;
    };
    this.h = pick(this.h);
    if (this.c) this.c = pick(this.c);
    this.rows = rows.length;
  }

  /** forgets the first n positions: the states do not depend on positions, so only the count changes */
  dropPrefix(n: number): void {
    if (!(Number.isInteger(n) && n >= 0 && n <= this.len)) throw new Error(`dropPrefix: cannot drop ${n} of ${this.len} positions`);
    this.len -= n;
  }

  private copyRows(a: Float32Array, from: number, to: number): Float32Array {
    const B = this.rows, H = this.hidden, n = to - from;
    const out = new Float32Array(this.layers * n * H);
    for (let l = 0; l < this.layers; l++) out.set(a.subarray((l * B + from) * H, (l * B + to) * H), l * n * H);
    return out;
  }

  private pasteRows(a: Float32Array, src: Float32Array, from: number, to: number): void {
    const B = this.rows, H = this.hidden, n = to - from;
    if (src.length !== this.layers * n * H) throw new Error(`RecurrentLMState: a state of ${src.length} values for ${this.layers}×${n}×${H}`);
    for (let l = 0; l < this.layers; l++) a.set(src.subarray(l * n * H, (l + 1) * n * H), (l * B + from) * H);
  }
}
