// Matrices the count-based word vectors are computed from, and the one operation truncated SVD needs of them:
// products with a tall dense block, A·X and Aᵀ·X. A co-occurrence or PPMI matrix is V×V but sparse (most word
// pairs never meet), so it is kept in compressed sparse row (CSR) form; a small dense matrix implements the
// same interface (tests, PCA of an embedding table).
//
// CSR layout, worked example — the 2×3 matrix [[0, 5, 0], [7, 0, 9]]:
//   rowPtr = [0, 1, 3]   (row i's entries are at positions rowPtr[i] .. rowPtr[i+1]-1)
//   col    = [1, 0, 2]
//   value  = [5, 7, 9]
// Dense blocks are row-major Float64Arrays: X of shape [n, k] holds X[i][j] at i*k + j.

/** a matrix seen only through products with dense blocks */
export interface MatrixOperator {
  readonly rows: number;
  readonly cols: number;
  /** A·X: X is [cols, k] row-major, the result [rows, k] */
  mul(x: Float64Array, k: number): Float64Array;
  /** Aᵀ·X: X is [rows, k] row-major, the result [cols, k] */
  tmul(x: Float64Array, k: number): Float64Array;
}

export class CsrMatrix implements MatrixOperator {
  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly rowPtr: Int32Array,
    readonly col: Int32Array,
    readonly value: Float64Array,
  ) {
    if (rowPtr.length !== rows + 1 || rowPtr[rows] !== col.length || col.length !== value.length) {
      throw new Error(`CsrMatrix: inconsistent arrays for ${rows}×${cols} (rowPtr ${rowPtr.length}, col ${col.length}, value ${value.length})`);
    }
  }

  /** builds from a map (row·cols + col) → value; zero values are dropped, columns sorted within each row */
  static fromEntries(rows: number, cols: number, entries: Map<number, number>): CsrMatrix {
    const keys = [...entries.keys()].filter((k) => entries.get(k) !== 0).sort((a, b) => a - b);
    const rowPtr = new Int32Array(rows + 1);
    const col = new Int32Array(keys.length);
    const value = new Float64Array(keys.length);
    keys.forEach((key, n) => {
      const r = Math.floor(key / cols);
      rowPtr[r + 1]++;
      col[n] = key - r * cols;
      value[n] = entries.get(key)!;
    });
    for (let r = 0; r < rows; r++) rowPtr[r + 1] += rowPtr[r];
    return new CsrMatrix(rows, cols, rowPtr, col, value);
  }

  /**
   * builds from one map per row (column → value; undefined: an empty row); zero values are dropped, columns
   * sorted within each row
   */
  static fromRows(rows: number, cols: number, entries: readonly (ReadonlyMap<number, number> | undefined)[]): CsrMatrix {
    const rowPtr = new Int32Array(rows + 1);
    let nnz = 0;
    for (let r = 0; r < rows; r++) {
      for (const v of entries[r]?.values() ?? []) if (v !== 0) nnz++;
      rowPtr[r + 1] = nnz;
    }
    const col = new Int32Array(nnz);
    const value = new Float64Array(nnz);
    for (let r = 0; r < rows; r++) {
      const row = entries[r];
      if (!row) continue;
      const cs = Int32Array.from([...row.keys()].filter((c) => row.get(c) !== 0)).sort();
      col.set(cs, rowPtr[r]);
      cs.forEach((c, n) => (value[rowPtr[r] + n] = row.get(c)!));
    }
    return new CsrMatrix(rows, cols, rowPtr, col, value);
  }

  get nnz(): number {
    return this.value.length;
  }

  /** A[r][c] (0 when not stored); a binary search within the row */
  get(r: number, c: number): number {
    let lo = this.rowPtr[r];
    let hi = this.rowPtr[r + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const cm = this.col[mid];
      if (cm === c) return this.value[mid];
      if (cm < c) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  mul(x: Float64Array, k: number): Float64Array {
    const y = new Float64Array(this.rows * k);
    for (let r = 0; r < this.rows; r++) {
      const yo = r * k;
      for (let p = this.rowPtr[r]; p < this.rowPtr[r + 1]; p++) {
        const v = this.value[p];
        const xo = this.col[p] * k;
        for (let j = 0; j < k; j++) y[yo + j] += v * x[xo + j];
      }
    }
    return y;
  }

  tmul(x: Float64Array, k: number): Float64Array {
    const y = new Float64Array(this.cols * k);
    for (let r = 0; r < this.rows; r++) {
      const xo = r * k;
      for (let p = this.rowPtr[r]; p < this.rowPtr[r + 1]; p++) {
        const v = this.value[p];
        const yo = this.col[p] * k;
        for (let j = 0; j < k; j++) y[yo + j] += v * x[xo + j];
      }
    }
    return y;
  }

  /** the dense row-major copy, [rows, cols] (for tests and small matrices) */
  toDense(): Float64Array {
    const d = new Float64Array(this.rows * this.cols);
    for (let r = 0; r < this.rows; r++) for (let p = this.rowPtr[r]; p < this.rowPtr[r + 1]; p++) d[r * this.cols + this.col[p]] = this.value[p];
    return d;
  }
}

/** a dense row-major [rows, cols] matrix as a MatrixOperator */
export class DenseMatrix implements MatrixOperator {
  constructor(readonly rows: number, readonly cols: number, readonly data: Float64Array) {
    if (data.length !== rows * cols) throw new Error(`DenseMatrix: ${rows}×${cols} needs ${rows * cols} values, got ${data.length}`);
  }

  mul(x: Float64Array, k: number): Float64Array {
    return matmul(this.data, x, this.rows, this.cols, k);
  }

  tmul(x: Float64Array, k: number): Float64Array {
    const { rows, cols, data } = this;
    const y = new Float64Array(cols * k);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const v = data[r * cols + c];
        if (v === 0) continue;
        for (let j = 0; j < k; j++) y[c * k + j] += v * x[r * k + j];
      }
    }
    return y;
  }
}

/** C = A·B for row-major A [m, n] and B [n, k] */
export function matmul(a: Float64Array, b: Float64Array, m: number, n: number, k: number): Float64Array {
  const c = new Float64Array(m * k);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < n; p++) {
      const v = a[i * n + p];
      if (v === 0) continue;
      for (let j = 0; j < k; j++) c[i * k + j] += v * b[p * k + j];
    }
  }
  return c;
}
