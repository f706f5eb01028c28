// Row-wise and elementwise kernels (softmax, layer norm, RMSNorm, GELU, SwiGLU, AdamW) in f32x4. Each takes a row range
// [r0, r1) or element range [i0, i1) so threads can split the work; tails shorter than 4 lanes go through
// the same vector code one lane at a time (load32_zero / store32_lane), so there is one formula per kernel.
import { vexp, vcdf, vgeluGradFromY, vexpNegAbs, vsigmoid } from './vmath';

// loads/stores `n` (1..4) floats at p; lanes beyond n are zero on load and untouched on store
@inline export function loadN(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  let v = v128.load32_zero(p);
  if (n > 1) v = v128.load32_lane(p + 4, v, 1);
  if (n > 2) v = v128.load32_lane(p + 8, v, 2);
  return v;
}
@inline export function storeN(p: usize, v: v128, n: i32): void {
  if (n >= 4) { v128.store(p, v); return; }
  v128.store32_lane(p, v, 0);
  if (n > 1) v128.store32_lane(p + 4, v, 1);
  if (n > 2) v128.store32_lane(p + 8, v, 2);
}
@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}
@inline function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

export function softmax(x: usize, y: usize, cols: i32, r0: i32, r1: i32): void {
  const rowBytes = <usize>cols * 4;
  for (let r = r0; r < r1; r++) {
    const xr = x + <usize>r * rowBytes, yr = y + <usize>r * rowBytes;
    let vmax = f32x4.splat(-Infinity);
    for (let j = 0; j < cols; j += 4) {
      const n = min(4, cols - j);
      let v = loadN(xr + (<usize>j << 2), n);
      if (n < 4) v = v128.bitselect(v, f32x4.splat(-Infinity), i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(n)));
      vmax = f32x4.max(vmax, v);
    }
    const m = hmax(vmax);
    if (m == -Infinity) {
      // a fully masked row: zeros rather than NaN, as the reference defines it
      for (let j = 0; j < cols; j++) store<f32>(yr + (<usize>j << 2), 0);
      continue;
    }
    const vm = f32x4.splat(m);
    let vsum = f32x4.splat(0);
    for (let j = 0; j < cols; j += 4) {
      const n = min(4, cols - j);
      const e = vexp(f32x4.sub(loadN(xr + (<usize>j << 2), n), vm));
      // zero the padding lanes so they do not enter the sum (exp(0 - m) need not be 0)
      const em = n < 4 ? v128.and(e, i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(n))) : e;
      vsum = f32x4.add(vsum, em);
      storeN(yr + (<usize>j << 2), e, n);
    }
    const inv = f32x4.splat(<f32>1 / hsum(vsum));
    for (let j = 0; j < cols; j += 4) {
      const n = min(4, cols - j);
      const p = yr + (<usize>j << 2);
      storeN(p, f32x4.mul(loadN(p, n), inv), n);
    }
  }
}

export function softmaxBackward(y: usize, dy: usize, dx: usize, cols: i32, r0: i32, r1: i32): void {
  const rowBytes = <usize>cols * 4;
  for (let r = r0; r < r1; r++) {
    const o = <usize>r * rowBytes;
    let vdot = f32x4.splat(0);
    for (let j = 0; j < cols; j += 4) {
      const n = min(4, cols - j), q = o + (<usize>j << 2);
      vdot = f32x4.add(vdot, f32x4.mul(loadN(dy + q, n), loadN(y + q, n)));
    }
    const d = f32x4.splat(hsum(vdot));
    for (let j = 0; j < cols; j += 4) {
      const n = min(4, cols - j), q = o + (<usize>j << 2);
      const g = f32x4.mul(loadN(y + q, n), f32x4.sub(loadN(dy + q, n), d));
      storeN(dx + q, f32x4.add(loadN(dx + q, n), g), n);
    }
  }
}

/** w, b may be 0 (absent) */
export function layerNorm(
  x: usize, w: usize, b: usize, y: usize, mean: usize, rstd: usize, C: i32, eps: f32, r0: i32, r1: i32,
): void {
  const rowBytes = <usize>C * 4;
  for (let r = r0; r < r1; r++) {
    const xr = x + <usize>r * rowBytes, yr = y + <usize>r * rowBytes;
    let vs = f32x4.splat(0);
    for (let j = 0; j < C; j += 4) vs = f32x4.add(vs, loadN(xr + (<usize>j << 2), min(4, C - j)));
    const m = hsum(vs) / <f32>C;
    const vm = f32x4.splat(m);
    let vv = f32x4.splat(0);
    for (let j = 0; j < C; j += 4) {
      const n = min(4, C - j);
      let d = f32x4.sub(loadN(xr + (<usize>j << 2), n), vm);
      if (n < 4) d = v128.and(d, i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(n)));
      vv = f32x4.add(vv, f32x4.mul(d, d));
    }
    const s = <f32>1 / sqrt<f32>(hsum(vv) / <f32>C + eps);
    store<f32>(mean + (<usize>r << 2), m);
    store<f32>(rstd + (<usize>r << 2), s);
    const vsd = f32x4.splat(s);
    for (let j = 0; j < C; j += 4) {
      const n = min(4, C - j), q = <usize>j << 2;
      let v = f32x4.mul(f32x4.sub(loadN(xr + q, n), vm), vsd);
      if (w) v = f32x4.mul(v, loadN(w + q, n));
      if (b) v = f32x4.add(v, loadN(b + q, n));
      storeN(yr + q, v, n);
    }
  }
}

/** accumulates into dx, and into dw/db when they are not 0 */
export function layerNormBackward(
  x: usize, w: usize, mean: usize, rstd: usize, dy: usize, dx: usize, dw: usize, db: usize, C: i32, r0: i32, r1: i32,
): void {
  const rowBytes = <usize>C * 4;
  const invC: f32 = <f32>1 / <f32>C;
  for (let r = r0; r < r1; r++) {
    const o = <usize>r * rowBytes;
    const vm = f32x4.splat(load<f32>(mean + (<usize>r << 2)));
    const vs = f32x4.splat(load<f32>(rstd + (<usize>r << 2)));
    // lanes past C load as 0: dy = 0 there, so d = 0 and they add nothing
    let sD = f32x4.splat(0), sDN = f32x4.splat(0);
    for (let j = 0; j < C; j += 4) {
      const n = min(4, C - j), q = <usize>j << 2;
      const nrm = f32x4.mul(f32x4.sub(loadN(x + o + q, n), vm), vs);
      const g = loadN(dy + o + q, n);
      const d = w ? f32x4.mul(g, loadN(w + q, n)) : g;
      sD = f32x4.add(sD, d);
      sDN = f32x4.add(sDN, f32x4.mul(d, nrm));
      if (dw) storeN(dw + q, f32x4.add(loadN(dw + q, n), f32x4.mul(g, nrm)), n);
      if (db) storeN(db + q, f32x4.add(loadN(db + q, n), g), n);
    }
    const mD = f32x4.splat(hsum(sD) * invC), mDN = f32x4.splat(hsum(sDN) * invC);
    for (let j = 0; j < C; j += 4) {
      const n = min(4, C - j), q = <usize>j << 2;
      const nrm = f32x4.mul(f32x4.sub(loadN(x + o + q, n), vm), vs);
      const g = loadN(dy + o + q, n);
      const d = w ? f32x4.mul(g, loadN(w + q, n)) : g;
      const t = f32x4.mul(vs, f32x4.sub(f32x4.sub(d, mD), f32x4.mul(nrm, mDN)));
      storeN(dx + o + q, f32x4.add(loadN(dx + o + q, n), t), n);
    }
  }
}

export function gelu(x: usize, y: usize, i0: i32, i1: i32): void {
  for (let i = i0; i < i1; i += 4) {
    const n = min(4, i1 - i), q = <usize>i << 2;
    const v = loadN(x + q, n);
    storeN(y + q, f32x4.mul(v, vcdf(v)), n);
  }
}

export function geluBackward(x: usize, y: usize, dy: usize, dx: usize, i0: i32, i1: i32): void {
  for (let i = i0; i < i1; i += 4) {
    const n = min(4, i1 - i), q = <usize>i << 2;
    const v = loadN(x + q, n);
    const dg = vgeluGradFromY(v, loadN(y + q, n));
    storeN(dx + q, f32x4.add(loadN(dx + q, n), f32x4.mul(loadN(dy + q, n), dg)), n);
  }
}

/** y = silu(g)·u over [i0, i1), silu(x) = x·σ(x); u = 0: y = silu(g). y may alias g. */
export function swiglu(g: usize, u: usize, y: usize, i0: i32, i1: i32): void {
  if (u) swigluLoop(g, u, y, i0, i1, true);
  else swigluLoop(g, u, y, i0, i1, false);
}

@inline function swigluLoop(g: usize, u: usize, y: usize, i0: i32, i1: i32, hasU: bool): void {
  for (let i = i0; i < i1; i += 4) {
    const n = min(4, i1 - i), q = <usize>i << 2;
    const v = loadN(g + q, n);
    let s = f32x4.mul(v, vsigmoid(v));
    if (hasU) s = f32x4.mul(s, loadN(u + q, n));
    storeN(y + q, s, n);
  }
}

/**
 * dg += dy·u·silu'(g), du += dy·silu(g) over [i0, i1), silu'(x) = σ·(1 + x·(1 − σ)); u = 0 means u ≡ 1, and
 * dg or du = 0 skips that gradient; with accumulate 0 they are overwritten (=) instead. 1 − σ is e/(1 + e) or
 * 1/(1 + e) (e = e^(−|x|)), not 1 − σ by subtraction, so it keeps its relative precision where σ rounds to 1.
 */
export function swigluBackward(g: usize, u: usize, dy: usize, dg: usize, du: usize, accumulate: i32, i0: i32, i1: i32): void {
  // the training case (both gradients, gate and up) as loops of their own, without per-element flag tests
  if (u && dg && du) {
    if (accumulate) swigluBackwardLoop(g, u, dy, dg, du, true, i0, i1, true, true, true);
    else swigluBackwardLoop(g, u, dy, dg, du, false, i0, i1, true, true, true);
  } else swigluBackwardLoop(g, u, dy, dg, du, accumulate != 0, i0, i1, u != 0, dg != 0, du != 0);
}

@inline function swigluBackwardLoop(
  g: usize, u: usize, dy: usize, dg: usize, du: usize, accumulate: bool, i0: i32, i1: i32, hasU: bool, hasDg: bool, hasDu: bool,
): void {
  const one = f32x4.splat(1), zero = f32x4.splat(0);
  for (let i = i0; i < i1; i += 4) {
    const n = min(4, i1 - i), q = <usize>i << 2;
    const v = loadN(g + q, n), d = loadN(dy + q, n);
    const e = vexpNegAbs(v);
    const r = f32x4.div(one, f32x4.add(one, e));
    const pos = f32x4.ge(v, zero);
    const s = f32x4.mul(v128.bitselect(one, e, pos), r);
    if (hasDg) {
      const s1 = f32x4.mul(v128.bitselect(e, one, pos), r);
      let t = f32x4.mul(f32x4.mul(d, s), f32x4.add(f32x4.mul(v, s1), one));
      if (hasU) t = f32x4.mul(t, loadN(u + q, n));
      storeN(dg + q, accumulate ? f32x4.add(loadN(dg + q, n), t) : t, n);
    }
    if (hasDu) {
      const t = f32x4.mul(d, f32x4.mul(v, s));
      storeN(du + q, accumulate ? f32x4.add(loadN(du + q, n), t) : t, n);
    }
  }
}

/** RMSNorm over rows [r0, r1) of length C: y = x·r·w, r = 1/√(mean(x²) + eps) stored in rstd; w may be 0 */
export function rmsNorm(x: usize, w: usize, y: usize, rstd: usize, C: i32, eps: f32, r0: i32, r1: i32): void {
  const rowBytes = <usize>C * 4;
  for (let r = r0; r < r1; r++) {
    const xr = x + <usize>r * rowBytes, yr = y + <usize>r * rowBytes;
    // lanes past C load as 0 and add nothing
    let vs = f32x4.splat(0);
    for (let j = 0; j < C; j += 4) {
      const v = loadN(xr + (<usize>j << 2), min(4, C - j));
      vs = f32x4.add(vs, f32x4.mul(v, v));
    }
    const s = <f32>1 / sqrt<f32>(hsum(vs) / <f32>C + eps);
    store<f32>(rstd + (<usize>r << 2), s);
    const vsd = f32x4.splat(s);
    for (let j = 0; j < C; j += 4) {
      const n = min(4, C - j), q = <usize>j << 2;
      let v = f32x4.mul(loadN(xr + q, n), vsd);
      if (w) v = f32x4.mul(v, loadN(w + q, n));
      storeN(yr + q, v, n);
    }
  }
}

/**
 * RMSNorm's backward over rows [r0, r1): with x̂ = x·r and g = dy·w, dx += r·(g − x̂·mean(g·x̂)) and
 * dw += Σ_rows dy·x̂; w, dx and dw may each be 0 (no gain, no gradient wanted).
 */
export function rmsNormBackward(x: usize, w: usize, rstd: usize, dy: usize, dx: usize, dw: usize, C: i32, r0: i32, r1: i32): void {
  // the training case (gain, both gradients) as a loop of its own, without per-element flag tests
  if (w && dx && dw) rmsNormBackwardRows(x, w, rstd, dy, dx, dw, C, r0, r1, true, true, true);
  else rmsNormBackwardRows(x, w, rstd, dy, dx, dw, C, r0, r1, w != 0, dx != 0, dw != 0);
}

@inline function rmsNormBackwardRows(
  x: usize, w: usize, rstd: usize, dy: usize, dx: usize, dw: usize, C: i32, r0: i32, r1: i32, hasW: bool, hasDx: bool, hasDw: bool,
): void {
  const rowBytes = <usize>C * 4;
  const invC: f32 = <f32>1 / <f32>C;
  for (let r = r0; r < r1; r++) {
    const o = <usize>r * rowBytes;
    const vs = f32x4.splat(load<f32>(rstd + (<usize>r << 2)));
    // lanes past C load as 0: dy = 0 there, so they add nothing
    let vdot = f32x4.splat(0);
    for (let j = 0; j < C; j += 4) {
      const n = min(4, C - j), q = <usize>j << 2;
      const xh = f32x4.mul(loadN(x + o + q, n), vs);
      const d = loadN(dy + o + q, n);
      vdot = f32x4.add(vdot, f32x4.mul(hasW ? f32x4.mul(d, loadN(w + q, n)) : d, xh));
      if (hasDw) storeN(dw + q, f32x4.add(loadN(dw + q, n), f32x4.mul(d, xh)), n);
    }
    if (!hasDx) continue;
    const m = f32x4.splat(hsum(vdot) * invC);
    for (let j = 0; j < C; j += 4) {
      const n = min(4, C - j), q = <usize>j << 2;
      const xh = f32x4.mul(loadN(x + o + q, n), vs);
      const d = loadN(dy + o + q, n);
      const g = hasW ? f32x4.mul(d, loadN(w + q, n)) : d;
      storeN(dx + o + q, f32x4.add(loadN(dx + o + q, n), f32x4.mul(vs, f32x4.sub(g, f32x4.mul(xh, m)))), n);
    }
  }
}

/** decay = 1 − lr·wd, a1 = 1 − β1, a2 = 1 − β2, lrc = lr/(1 − β1^t), ibc2 = 1/(1 − β2^t) */
export function adamw(
  p: usize, g: usize, m: usize, v: usize, i0: i32, i1: i32,
  beta1: f32, a1: f32, beta2: f32, a2: f32, decay: f32, lrc: f32, ibc2: f32, eps: f32,
): void {
  const vb1 = f32x4.splat(beta1), va1 = f32x4.splat(a1), vb2 = f32x4.splat(beta2), va2 = f32x4.splat(a2);
  const vdec = f32x4.splat(decay), vlr = f32x4.splat(lrc), vib = f32x4.splat(ibc2), veps = f32x4.splat(eps);
  for (let i = i0; i < i1; i += 4) {
    const n = min(4, i1 - i), q = <usize>i << 2;
    const gi = loadN(g + q, n);
    const mi = f32x4.add(f32x4.mul(vb1, loadN(m + q, n)), f32x4.mul(va1, gi));
    const vi = f32x4.add(f32x4.mul(vb2, loadN(v + q, n)), f32x4.mul(va2, f32x4.mul(gi, gi)));
    storeN(m + q, mi, n);
    storeN(v + q, vi, n);
    const den = f32x4.add(f32x4.sqrt(f32x4.mul(vi, vib)), veps);
    const pi = f32x4.sub(f32x4.mul(loadN(p + q, n), vdec), f32x4.div(f32x4.mul(vlr, mi), den));
    storeN(p + q, pi, n);
  }
}

@inline function zeroRange(row: usize, j0: i32, j1: i32): void {
  const z = f32x4.splat(0);
  for (let j = j0; j < j1; j += 4) storeN(row + (<usize>j << 2), z, min(4, j1 - j));
}

/**
 * Causal attention's masked, scaled softmax in place over rows [r0, r1) of att ([rows, Tk]); see
 * causalSoftmax in src/backend/backend.ts. Row r sees keys [lo, (r % Tq) + Tk − Tq + 1), lo from the i32
 * array keyStart (entry r / rowsPerKeyStart) when keyStart ≠ 0, else 0.
 */
export function causalSoftmax(
  att: usize, Tq: i32, Tk: i32, scale: f32, keyStart: usize, rowsPerKeyStart: i32, r0: i32, r1: i32,
): void {
  const rowBytes = <usize>Tk * 4;
  const vs = f32x4.splat(scale);
  const lanes = i32x4(0, 1, 2, 3);
  const ninf = f32x4.splat(-Infinity);
  for (let r = r0; r < r1; r++) {
    const row = att + <usize>r * rowBytes;
    const hi = (r % Tq) + Tk - Tq + 1; // ≤ Tk
    let lo = keyStart ? load<i32>(keyStart + (<usize>(r / rowsPerKeyStart) << 2)) : 0;
    if (lo < 0) lo = 0;
    if (lo >= hi) {
      zeroRange(row, 0, Tk);
      continue;
    }
    zeroRange(row, 0, lo);
    zeroRange(row, hi, Tk);
    let vmax = ninf;
    for (let j = lo; j < hi; j += 4) {
      const n = min(4, hi - j);
      let v = f32x4.mul(loadN(row + (<usize>j << 2), n), vs);
      if (n < 4) v = v128.bitselect(v, ninf, i32x4.lt_s(lanes, i32x4.splat(n)));
      vmax = f32x4.max(vmax, v);
    }
    const vm = f32x4.splat(hmax(vmax));
    let vsum = f32x4.splat(0);
    for (let j = lo; j < hi; j += 4) {
      const n = min(4, hi - j), p = row + (<usize>j << 2);
      const e = vexp(f32x4.sub(f32x4.mul(loadN(p, n), vs), vm));
      vsum = f32x4.add(vsum, n < 4 ? v128.and(e, i32x4.lt_s(lanes, i32x4.splat(n))) : e);
      storeN(p, e, n);
    }
    const inv = f32x4.splat(<f32>1 / hsum(vsum));
    for (let j = lo; j < hi; j += 4) {
      const n = min(4, hi - j), p = row + (<usize>j << 2);
      storeN(p, f32x4.mul(loadN(p, n), inv), n);
    }
  }
}

/** datt = att ⊙ (datt − Σ_j datt⊙att) · scale over rows [r0, r1) of [rows, Tk], in place */
export function causalSoftmaxBackward(att: usize, datt: usize, Tk: i32, scale: f32, r0: i32, r1: i32): void {
  const rowBytes = <usize>Tk * 4;
  const vs = f32x4.splat(scale);
  for (let r = r0; r < r1; r++) {
    const o = <usize>r * rowBytes;
    let vdot = f32x4.splat(0);
    for (let j = 0; j < Tk; j += 4) {
      const n = min(4, Tk - j), q = o + (<usize>j << 2);
      vdot = f32x4.add(vdot, f32x4.mul(loadN(datt + q, n), loadN(att + q, n)));
    }
    const d = f32x4.splat(hsum(vdot));
    for (let j = 0; j < Tk; j += 4) {
      const n = min(4, Tk - j), q = o + (<usize>j << 2);
      storeN(datt + q, f32x4.mul(f32x4.mul(loadN(att + q, n), f32x4.sub(loadN(datt + q, n), d)), vs), n);
    }
  }
}

/** zeroes `bytes` bytes at p (one bulk-memory fill: far faster than a JS fill on a shared buffer) */
export function zeroBytes(p: usize, bytes: usize): void {
  memory.fill(p, 0, bytes);
}

/** y = a + b over [i0, i1) (residual connections); y may alias a or b */
export function addVec(a: usize, b: usize, y: usize, i0: i32, i1: i32): void {
  for (let i = i0; i < i1; i += 4) {
    const n = min(4, i1 - i), q = <usize>i << 2;
    storeN(y + q, f32x4.add(loadN(a + q, n), loadN(b + q, n)), n);
  }
}

/** Σ x² over [i0, i1): f32x4 partial sums over blocks of 1024, added up in f64 (a gradient norm over ~1M) */
export function sumSquares(x: usize, i0: i32, i1: i32): f64 {
  let total: f64 = 0;
  for (let s = i0; s < i1; s += 1024) {
    const e = min(i1, s + 1024);
    let acc = f32x4.splat(0);
    for (let i = s; i < e; i += 4) {
      const v = loadN(x + (<usize>i << 2), min(4, e - i));
      acc = f32x4.add(acc, f32x4.mul(v, v));
    }
    total += <f64>hsum(acc);
  }
  return total;
}

/** x *= s over [i0, i1) */
export function scaleVec(x: usize, s: f32, i0: i32, i1: i32): void {
  const vs = f32x4.splat(s);
  for (let i = i0; i < i1; i += 4) {
    const n = min(4, i1 - i), q = <usize>i << 2;
    storeN(x + q, f32x4.mul(loadN(x + q, n), vs), n);
  }
}
