// The plain TypeScript reference for every kernel. Written for clarity first; the loops are ordered so that
// the inner one walks memory contiguously (i-k-j for matmul), which keeps this usable for small models and
// in tests. Faster backends are validated against this one.
import type { Backend, MatmulArgs } from './backend.js';
import { attentionBackwardRef, attentionForwardRef } from './attention-ref.js';
import {
  gruGatesBackwardRef, gruGatesRef, lstmGatesBackwardRef, lstmGatesRef, rnnActBackwardRef, rnnActRef,
} from './rnn-gates-ref.js';
import { backendOps, backwardPass, forwardPass, wholeShare, type RecurrentPass } from './recurrent-pass.js';

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * erf(x) from Numerical Recipes' Chebyshev fit of erfc (erfcc), |error| < 1.2e-7
 * everywhere — below float32 resolution, so our GELU matches PyTorch's to rounding.
 */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
        t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

/** the logistic σ(x) = 1/(1 + e^−x), stable for large |x| (no e^x overflow: e^x/(1 + e^x) below 0) */
export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

export class JsBackend implements Backend {
  readonly name: string = 'js';
  readonly threads: number = 1;

  matmul(a: Float32Array, b: Float32Array, c: Float32Array, args: MatmulArgs): void {
    const { batch, M, N, K, transA, transB, accumulate, strideA, strideB, strideC } = args;
    const row = new Float64Array(N);
    for (let bi = 0; bi < batch; bi++) {
      const oa = bi * strideA, ob = bi * strideB, oc = bi * strideC;
      for (let i = 0; i < M; i++) {
        row.fill(0);
        for (let k = 0; k < K; k++) {
          const av = transA ? a[oa + k * M + i] : a[oa + i * K + k];
          if (transB) {
            for (let j = 0; j < N; j++) row[j] += av * b[ob + j * K + k];
          } else {
            const bo = ob + k * N;
            for (let j = 0; j < N; j++) row[j] += av * b[bo + j];
          }
        }
        const co = oc + i * N;
        if (accumulate) for (let j = 0; j < N; j++) c[co + j] += row[j];
        else for (let j = 0; j < N; j++) c[co + j] = row[j];
      }
    }
  }

  softmax(x: Float32Array, y: Float32Array, rows: number, cols: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let max = -Infinity;
      for (let j = 0; j < cols; j++) if (x[o + j] > max) max = x[o + j];
      if (max === -Infinity) {
        // a fully masked row: define its softmax as zeros rather than NaN
        for (let j = 0; j < cols; j++) y[o + j] = 0;
        continue;
      }
      let sum = 0;
      for (let j = 0; j < cols; j++) {
        const e = Math.exp(x[o + j] - max);
        y[o + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j < cols; j++) y[o + j] *= inv;
    }
  }

  softmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += dy[o + j] * y[o + j];
      for (let j = 0; j < cols; j++) dx[o + j] += y[o + j] * (dy[o + j] - dot);
    }
  }

  causalSoftmax(
    att: Float32Array, rows: number, Tq: number, Tk: number, scale: number,
    keyStart: Int32Array | null, rowsPerKeyStart: number,
  ): void {
    const kvOffset = Tk - Tq;
    for (let r = 0; r < rows; r++) {
      const o = r * Tk;
      const visible = (r % Tq) + kvOffset + 1;
      // a negative key start hides nothing (clamped, so a bad one cannot write outside the row)
      const lo = keyStart ? Math.max(0, keyStart[Math.floor(r / rowsPerKeyStart)]) : 0;
      for (let j = 0; j < Math.min(lo, Tk); j++) att[o + j] = 0;
      if (lo >= visible) {
        for (let j = lo; j < Tk; j++) att[o + j] = 0;
        continue;
      }
      let m = -Infinity;
      for (let j = lo; j < visible; j++) {
        const s = att[o + j] * scale;
        att[o + j] = s;
        if (s > m) m = s;
      }
      let sum = 0;
      for (let j = lo; j < visible; j++) {
        const e = Math.exp(att[o + j] - m);
        att[o + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = lo; j < visible; j++) att[o + j] *= inv;
      for (let j = visible; j < Tk; j++) att[o + j] = 0;
    }
  }

  causalSoftmaxBackward(att: Float32Array, datt: Float32Array, rows: number, Tk: number, scale: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * Tk;
      let dot = 0;
      for (let j = 0; j < Tk; j++) dot += datt[o + j] * att[o + j];
      for (let j = 0; j < Tk; j++) datt[o + j] = att[o + j] * (datt[o + j] - dot) * scale;
    }
  }

  layerNorm(
    x: Float32Array, w: Float32Array | null, b: Float32Array | null, y: Float32Array,
    mean: Float32Array, rstd: Float32Array, rows: number, C: number, eps: number,
  ): void {
    for (let r = 0; r < rows; r++) {
      const o = r * C;
      let m = 0;
      for (let j = 0; j < C; j++) m += x[o + j];
      m /= C;
      let v = 0;
      for (let j = 0; j < C; j++) {
        const d = x[o + j] - m;
        v += d * d;
      }
      v /= C;
      const s = 1 / Math.sqrt(v + eps);
      mean[r] = m;
      rstd[r] = s;
      for (let j = 0; j < C; j++) {
        let n = (x[o + j] - m) * s;
        if (w) n *= w[j];
        if (b) n += b[j];
        y[o + j] = n;
      }
    }
  }

  layerNormBackward(
    x: Float32Array, w: Float32Array | null, mean: Float32Array, rstd: Float32Array, dy: Float32Array,
    dx: Float32Array, dw: Float32Array | null, db: Float32Array | null, rows: number, C: number,
  ): void {
    for (let r = 0; r < rows; r++) {
      const o = r * C;
      const m = mean[r], s = rstd[r];
      // dnorm = dy·w; dx = s·(dnorm − mean(dnorm) − norm·mean(dnorm·norm))
      let sumD = 0, sumDN = 0;
      for (let j = 0; j < C; j++) {
        const n = (x[o + j] - m) * s;
        const d = w ? dy[o + j] * w[j] : dy[o + j];
        sumD += d;
        sumDN += d * n;
        if (dw) dw[j] += dy[o + j] * n;
        if (db) db[j] += dy[o + j];
      }
      sumD /= C;
      sumDN /= C;
      for (let j = 0; j < C; j++) {
        const n = (x[o + j] - m) * s;
        const d = w ? dy[o + j] * w[j] : dy[o + j];
        dx[o + j] += s * (d - sumD - n * sumDN);
      }
    }
  }

  gelu(x: Float32Array, y: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) {
      const v = x[i];
      y[i] = 0.5 * v * (1 + erf(v * INV_SQRT2));
    }
  }

  geluBackward(x: Float32Array, _y: Float32Array, dy: Float32Array, dx: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) {
      const v = x[i];
      const cdf = 0.5 * (1 + erf(v * INV_SQRT2));
      const pdf = INV_SQRT_2PI * Math.exp(-0.5 * v * v);
      dx[i] += dy[i] * (cdf + v * pdf);
    }
  }

  swiglu(gate: Float32Array, up: Float32Array | null, y: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) {
      const v = gate[i];
      const s = v * sigmoid(v);
      y[i] = up ? s * up[i] : s;
    }
  }

  swigluBackward(
    gate: Float32Array, up: Float32Array | null, dy: Float32Array,
    dgate: Float32Array | null, dup: Float32Array | null, n: number, accumulate: boolean,
  ): void {
    for (let i = 0; i < n; i++) {
      const v = gate[i], s = sigmoid(v);
      const u = up ? up[i] : 1;
      if (dgate) dgate[i] = (accumulate ? dgate[i] : 0) + dy[i] * u * s * (1 + v * (1 - s));
      if (dup) dup[i] = (accumulate ? dup[i] : 0) + dy[i] * v * s;
    }
  }

  rmsNorm(
    x: Float32Array, w: Float32Array | null, y: Float32Array, rstd: Float32Array, rows: number, C: number, eps: number,
  ): void {
    for (let r = 0; r < rows; r++) {
      const o = r * C;
      let ss = 0;
      for (let j = 0; j < C; j++) ss += x[o + j] * x[o + j];
      const s = 1 / Math.sqrt(ss / C + eps);
      rstd[r] = s;
      for (let j = 0; j < C; j++) y[o + j] = w ? x[o + j] * s * w[j] : x[o + j] * s;
    }
  }

  rmsNormBackward(
    x: Float32Array, w: Float32Array | null, rstd: Float32Array, dy: Float32Array,
    dx: Float32Array | null, dw: Float32Array | null, rows: number, C: number,
  ): void {
    for (let r = 0; r < rows; r++) {
      const o = r * C, s = rstd[r];
      let dot = 0; // Σ_j g_j·x̂_j
      for (let j = 0; j < C; j++) {
        const xh = x[o + j] * s;
        dot += (w ? dy[o + j] * w[j] : dy[o + j]) * xh;
        if (dw) dw[j] += dy[o + j] * xh;
      }
      if (!dx) continue;
      const m = dot / C;
      for (let j = 0; j < C; j++) {
        const g = w ? dy[o + j] * w[j] : dy[o + j];
        dx[o + j] += s * (g - x[o + j] * s * m);
      }
    }
  }

  adamw(
    p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number,
  ): void {
    const bc1 = 1 - Math.pow(beta1, step);
    const bc2 = 1 - Math.pow(beta2, step);
    for (let i = 0; i < n; i++) {
      const gi = g[i];
      const mi = (m[i] = beta1 * m[i] + (1 - beta1) * gi);
      const vi = (v[i] = beta2 * v[i] + (1 - beta2) * gi * gi);
      let pi = p[i] * (1 - lr * weightDecay);
      pi -= (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
      p[i] = pi;
    }
  }

  attention(
    qkv: Float32Array, y: Float32Array, att: Float32Array, B: number, T: number, H: number, hs: number, scale: number,
  ): void {
    attentionForwardRef(qkv, y, att, B, T, H, hs, scale);
  }

  attentionBackward(
    qkv: Float32Array, att: Float32Array, dy: Float32Array, dqkv: Float32Array,
    B: number, T: number, H: number, hs: number, scale: number, accumulate: boolean,
  ): void {
    attentionBackwardRef(qkv, att, dy, dqkv, B, T, H, hs, scale, accumulate);
  }

  add(a: Float32Array, b: Float32Array, y: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) y[i] = a[i] + b[i];
  }

  sumSquares(x: Float32Array, n: number): number {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i] * x[i];
    return s;
  }

  scale(x: Float32Array, s: number, n: number): void {
    for (let i = 0; i < n; i++) x[i] *= s;
  }

  runRecurrent(pass: RecurrentPass, backward: boolean): void {
    (backward ? backwardPass : forwardPass)(backendOps(this), pass, wholeShare(pass));
  }

  rnnAct(pre: Float32Array, h: Float32Array, n: number, relu: boolean): void {
    rnnActRef(pre, h, n, relu);
  }

  rnnActBackward(dh: Float32Array, h: Float32Array, dpre: Float32Array, n: number, relu: boolean): void {
    rnnActBackwardRef(dh, h, dpre, n, relu);
  }

  lstmGates(gates: Float32Array, cPrev: Float32Array, c: Float32Array, tc: Float32Array, h: Float32Array, B: number, H: number): void {
    lstmGatesRef(gates, cPrev, c, tc, h, B, H);
  }

  lstmGatesBackward(
    dh: Float32Array, dc: Float32Array, gates: Float32Array, cPrev: Float32Array, tc: Float32Array, dGates: Float32Array,
    B: number, H: number,
  ): void {
    lstmGatesBackwardRef(dh, dc, gates, cPrev, tc, dGates, B, H);
  }

  gruGates(xg: Float32Array, hg: Float32Array, hPrev: Float32Array, acts: Float32Array, h: Float32Array, B: number, H: number): void {
    gruGatesRef(xg, hg, hPrev, acts, h, B, H);
  }

  gruGatesBackward(
    dh: Float32Array, acts: Float32Array, hg: Float32Array, hPrev: Float32Array,
    dxg: Float32Array, dhg: Float32Array, dhPrev: Float32Array, B: number, H: number,
  ): void {
    gruGatesBackwardRef(dh, acts, hg, hPrev, dxg, dhg, dhPrev, B, H);
  }
}
