// Plain TypeScript reference (the spec) for fused causal self-attention over the fused projection qkv, as the
// AssemblyScript kernels in assembly/attention.ts compute it. Row-major float32, C = H·hs:
//
//   qkv (B, T, 3C): element (b, t, p·C + h·hs + d) is q (p = 0), k (p = 1), v (p = 2) of head h at position t
//   y   (B, T, C):  head h writes (overwrites) columns h·hs .. h·hs + hs
//   att (B·H, T, T): item i = b·H + h keeps its softmax probabilities P, zeros above the diagonal
//
// Sums run in float64 (JS numbers) and round once when stored, so this is as accurate as float32 storage
// allows and the fast kernels are judged against it rather than against another float32 summation order.

/** y = softmax(scale·q·kᵀ, causal)·v per head; also stores P into att. */
export function attentionForwardRef(
  qkv: Float32Array, y: Float32Array, att: Float32Array, B: number, T: number, H: number, hs: number, scale: number,
): void {
  const C = H * hs;
  const s = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const item = (b * H + h) * T * T;
      for (let t = 0; t < T; t++) {
        const q = (b * T + t) * 3 * C + h * hs;
        let max = -Infinity;
        for (let j = 0; j <= t; j++) {
          const k = (b * T + j) * 3 * C + C + h * hs;
          let dot = 0;
          for (let d = 0; d < hs; d++) dot += qkv[q + d] * qkv[k + d];
          s[j] = scale * dot;
          if (s[j] > max) max = s[j];
        }
        // subtracting the row max keeps exp ≤ 1: no overflow however large the scores, same result
        let sum = 0;
        for (let j = 0; j <= t; j++) {
          s[j] = Math.exp(s[j] - max);
          sum += s[j];
        }
        const row = item + t * T;
        for (let j = 0; j < T; j++) att[row + j] = j <= t ? s[j] / sum : 0;
        const yo = (b * T + t) * C + h * hs;
        for (let d = 0; d < hs; d++) {
          let acc = 0;
          for (let j = 0; j <= t; j++) acc += att[row + j] * qkv[(b * T + j) * 3 * C + 2 * C + h * hs + d];
          y[yo + d] = acc;
        }
      }
    }
  }
}

/**
 * Gradients of the forward above into dqkv (q, k, v positions as in qkv), from dy (B, T, C) and the stored
 * att. accumulate: add into dqkv; otherwise overwrite (every entry of every head's q/k/v columns is written).
 */
export function attentionBackwardRef(
  qkv: Float32Array, att: Float32Array, dy: Float32Array, dqkv: Float32Array,
  B: number, T: number, H: number, hs: number, scale: number, accumulate: boolean,
): void {
  const C = H * hs;
  const dS = new Float64Array(T * T);
  const dq = new Float64Array(T * hs), dk = new Float64Array(T * hs), dv = new Float64Array(T * hs);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const item = (b * H + h) * T * T;
      const q = (t: number) => (b * T + t) * 3 * C + h * hs; // q of position t; k at +C, v at +2C
      const g = (t: number) => (b * T + t) * C + h * hs; // dy of position t
      dq.fill(0);
      dk.fill(0);
      dv.fill(0);
      for (let t = 0; t < T; t++) {
        // dP[t][j] = dy_t · v_j, then the softmax backward: dS = P ⊙ (dP − Σ_j P·dP)
        let rowDot = 0;
        for (let j = 0; j <= t; j++) {
          let dP = 0;
          for (let d = 0; d < hs; d++) dP += dy[g(t) + d] * qkv[q(j) + 2 * C + d];
          dS[t * T + j] = dP;
          rowDot += att[item + t * T + j] * dP;
        }
        for (let j = 0; j <= t; j++) {
          const p = att[item + t * T + j];
          dS[t * T + j] = p * (dS[t * T + j] - rowDot);
          for (let d = 0; d < hs; d++) dv[j * hs + d] += p * dy[g(t) + d];
        }
      }
      for (let t = 0; t < T; t++) {
        for (let j = 0; j <= t; j++) {
          const ds = scale * dS[t * T + j];
          for (let d = 0; d < hs; d++) {
            dq[t * hs + d] += ds * qkv[q(j) + C + d];
            dk[j * hs + d] += ds * qkv[q(t) + d];
          }
        }
      }
      for (let t = 0; t < T; t++) {
        for (let d = 0; d < hs; d++) {
          const o = q(t) + d;
          dqkv[o] = (accumulate ? dqkv[o] : 0) + dq[t * hs + d];
          dqkv[o + C] = (accumulate ? dqkv[o + C] : 0) + dk[t * hs + d];
          dqkv[o + 2 * C] = (accumulate ? dqkv[o + 2 * C] : 0) + dv[t * hs + d];
        }
      }
    }
  }
}
