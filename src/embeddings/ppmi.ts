// Positive pointwise mutual information (Church & Hanks 1990 for PMI; Levy & Goldberg 2014 for PPMI and
// shifted PPMI as the matrix SGNS implicitly factorizes; Levy, Goldberg & Dagan 2015 for the smoothed
// context distribution, α = 0.75, the same exponent as word2vec's noise distribution).
//
//   P(w,c) = #(w,c) / D,   P(w) = #(w) / D,   P_α(c) = #(c)^α / Σ_c' #(c')^α
//   PMI(w,c) = log( P(w,c) / (P(w) · P_α(c)) ),   PPMI = max(PMI − log k, 0)
// where #(w) and #(c) are the row and column sums of the count matrix and D the sum of all counts.
// Pairs never seen have PMI −∞ and PPMI 0, so PPMI keeps the sparsity of the counts.
//
// Worked example (α = 1, k = 1), counts [[0,2,1],[2,0,1],[1,1,0]]: row sums 3, 3, 2, D = 8;
// PPMI(0,1) = log(2·8 / (3·3)) = log(16/9) ≈ 0.5754, PPMI(0,2) = log(1·8 / (3·2)) = log(4/3) ≈ 0.2877.
import { CsrMatrix } from './sparse.js';

export interface PpmiOptions {
  /** context-distribution smoothing exponent α (default 0.75; 1 = plain PMI) */
  alpha?: number;
  /** shift: subtract log k before clipping (default 1 = no shift; SGNS with k negatives ≈ shift k) */
  shift?: number;
}

/**
 * The PPMI matrix of a non-negative count matrix [V, C] (any shape), as CSR with only positive entries.
 * Throws on a negative count, α outside (0, 1] or a shift below 1.
 */
export function ppmiMatrix(counts: CsrMatrix, opts: PpmiOptions = {}): CsrMatrix {
  const alpha = opts.alpha ?? 0.75;
  const shift = opts.shift ?? 1;
  if (!(alpha > 0 && alpha <= 1)) throw new Error(`ppmi: alpha must be in (0, 1], got ${alpha}`);
  if (!(shift >= 1)) throw new Error(`ppmi: shift k must be ≥ 1, got ${shift}`);
  const { rows, cols, rowPtr, col, value } = counts;
  const rowSum = new Float64Array(rows);
  const colSum = new Float64Array(cols);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    for (let p = rowPtr[r]; p < rowPtr[r + 1]; p++) {
      const v = value[p];
      if (v < 0) throw new Error(`ppmi: negative count ${v} at (${r}, ${col[p]})`);
      rowSum[r] += v;
      colSum[col[p]] += v;
      total += v;
    }
  }
  let smoothTotal = 0;
  for (let c = 0; c < cols; c++) smoothTotal += Math.pow(colSum[c], alpha);
  // log P_α(c) once per column
  const logPc = new Float64Array(cols);
  for (let c = 0; c < cols; c++) logPc[c] = colSum[c] > 0 ? alpha * Math.log(colSum[c]) - Math.log(smoothTotal) : 0;
  const logShift = Math.log(shift);
  const outPtr = new Int32Array(rows + 1);
  const outCol: number[] = [];
  const outVal: number[] = [];
  for (let r = 0; r < rows; r++) {
    const logPw = rowSum[r] > 0 ? Math.log(rowSum[r] / total) : 0;
    for (let p = rowPtr[r]; p < rowPtr[r + 1]; p++) {
      if (value[p] <= 0) continue;
      const pmi = Math.log(value[p] / total) - logPw - logPc[col[p]] - logShift;
      if (pmi > 0) (outCol.push(col[p]), outVal.push(pmi));
    }
    outPtr[r + 1] = outCol.length;
  }
  return new CsrMatrix(rows, cols, outPtr, Int32Array.from(outCol), Float64Array.from(outVal));
}
