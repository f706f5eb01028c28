// The generation state of an n-gram model: per batch row, the last n − 1 real tokens (pad positions are not
// remembered) with their positions, so that `dropPrefix` can forget positions exactly as a KV cache does.
import type { ModelState } from './model.js';

export class NgramState implements ModelState {
  /** per row: the remembered ids (oldest first) and their positions */
  private ids: number[][];
  private pos: number[][];
  private len = 0;

  /** B rows; `keep` = n − 1, the context an order-n model needs */
  constructor(B: number, readonly keep: number) {
    this.ids = Array.from({ length: B }, () => []);
    this.pos = Array.from({ length: B }, () => []);
  }

  get length(): number {
    return this.len;
  }

  get batch(): number {
    return this.ids.length;
  }

  /** the remembered context of row b (at most n − 1 ids, oldest first) */
  context(b: number): number[] {
    return this.ids[b].slice();
  }

  /** remembers id at position `position` of row b (the caller advances `length` with `advance`) */
  push(b: number, id: number, position: number): void {
    const ids = this.ids[b], pos = this.pos[b];
    ids.push(id);
    pos.push(position);
    if (ids.length > this.keep) {
      ids.splice(0, ids.length - this.keep);
      pos.splice(0, pos.length - this.keep);
    }
  }

  /** T more positions consumed by every row */
  advance(T: number): void {
    this.len += T;
  }

  /** row j becomes old row rows[j]; throws on a row out of range */
  selectRows(rows: readonly number[]): void {
    const B = this.ids.length;
    for (const r of rows) if (!(Number.isInteger(r) && r >= 0 && r < B)) throw new Error(`selectRows: row ${r} is out of range for a batch of ${B}`);
    this.ids = rows.map((r) => this.ids[r].slice());
    this.pos = rows.map((r) => this.pos[r].slice());
  }

  /** forgets the first n positions of every row; throws when n exceeds the length */
  dropPrefix(n: number): void {
    if (!(Number.isInteger(n) && n >= 0 && n <= this.len)) throw new Error(`dropPrefix: cannot drop ${n} of ${this.len} positions`);
    this.len -= n;
    for (let b = 0; b < this.ids.length; b++) {
      const keepFrom = this.pos[b].findIndex((p) => p >= n);
      const from = keepFrom < 0 ? this.pos[b].length : keepFrom;
      this.ids[b] = this.ids[b].slice(from);
      this.pos[b] = this.pos[b].slice(from).map((p) => p - n);
    }
  }
}
