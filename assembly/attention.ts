// Fused causal self-attention, straight from the fused projection qkv (B, T, 3C) into y (B, T, C) and back
// into dqkv (B, T, 3C), so no q/k/v head copies (B, H, T, hs) and no head merge are needed. The spec is
// src/backend/attention-ref.ts. One item i = b·H + h is one head of one sequence; items write disjoint
// columns, so threads take item ranges [i0, i1).
//
// Every product is the same 4×8 register tile as assembly/gemm.ts's micro kernel (why that size: see there),
// C[4][8] = Σ_k a[k][0..4) ⊗ b[k][0..8), with the A operand stored pre-broadcast (16 bytes per value) and the
// B operand as 8-wide k-major panels. Per item the operands are first copied into those layouts in scratch:
//
//   forward   S = (scale·Q)·Kᵀ   A: 4 q rows      B: Kᵀ panels [T/8][hs][8]
//             P = softmax(S)     row by row on a 4×T block, straight from the tile output
//             y = P·V            A: 4 P rows      B: V panels  [hs/8][T][8]
//   backward  dP = dY·Vᵀ         A: 4 dy rows     B: Vᵀ panels
//             dS = P⊙(dP − Σ P·dP)·scale, kept whole (T×T) for the second pass
//             dq = dS·K          A: 4 dS rows     B: K panels
//             dk = dSᵀ·Q         A: 4 dS columns  B: Q panels   (second pass, by blocks of 4 keys)
//             dv = Pᵀ·dY         A: 4 P columns   B: dY panels
//
// Causality: a block of query rows [t0, t0+4) only needs keys j < t0+4, so every product stops there (the
// triangle above the diagonal inside the last tile is computed and masked or multiplied by zero); the
// key-block pass of the backward starts its sums at t = j0.
import { vexp } from './vmath';
import { micro, microEdge } from './gemm';
import { hsum, loadN, storeN } from './ops';

/** all-ones in the lanes l < n */
@inline function laneMask(n: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(n));
}
@inline function round8(n: i32): i32 {
  return (n + 7) & ~7;
}

/** stores lane l of v broadcast to all 4 lanes at p + l·step, l = 0..3 */
@inline function spread(p: usize, v: v128, step: usize): void {
  v128.store(p, i32x4.shuffle(v, v, 0, 0, 0, 0));
  v128.store(p + step, i32x4.shuffle(v, v, 1, 1, 1, 1));
  v128.store(p + 2 * step, i32x4.shuffle(v, v, 2, 2, 2, 2));
  v128.store(p + 3 * step, i32x4.shuffle(v, v, 3, 3, 3, 3));
}

/**
 * Bytes of scratch one thread needs for attnForward and attnBackward at this T and hs (the backward's layout,
 * the larger): with Tp = T and hp = hs rounded up to 8, floats Tp·hs + 3·hp·Tp + 16·hs + 4·Tp + Tp² + 32·Tp + 32.
 * A multiple of 16; the region itself must start 16-byte aligned.
 */
export function attnScratchBytes(T: i32, hs: i32): i32 {
  const Tp = round8(T), hp = round8(hs);
  return 4 * (Tp * hs + 3 * hp * Tp + 16 * hs + 4 * Tp + Tp * Tp + 32 * Tp + 32);
}

/** rows [0, mr), columns [0, nr) of a 4×8 tile into c: whole tiles directly, edges through `tile` (8 floats a row) */
@inline function putTile(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, mr: i32, nr: i32, add: bool, tile: usize): void {
  if (mr == 4 && nr == 8) micro(pa, pb, kc, c, ldc, add);
  else microEdge(pa, pb, kc, c, ldc, add, mr, nr, tile);
}

/**
 * Transposed panels for a B operand whose k runs along the rows' contiguous dimension:
 * dst[jp][d][0..8) = src[8jp + 0..8][d] for d < cols, rows ≥ `rows` zero. 4×4 blocks transposed in registers.
 */
function packT(src: usize, ld: usize, rows: i32, cols: i32, dst: usize): void {
  const zero = f32x4.splat(0);
  for (let jp = 0; jp * 8 < rows; jp++) {
    const panel = dst + <usize>(jp * cols) * 32;
    for (let half = 0; half < 2; half++) {
      const j = jp * 8 + half * 4;
      const nr = rows - j; // rows of this 4-group that exist (may be ≤ 0)
      const s = src + <usize>j * ld;
      for (let d = 0; d < cols; d += 4) {
        const n = min(4, cols - d), o = <usize>d << 2;
        const r0 = nr > 0 ? loadN(s + o, n) : zero;
        const r1 = nr > 1 ? loadN(s + ld + o, n) : zero;
        const r2 = nr > 2 ? loadN(s + 2 * ld + o, n) : zero;
        const r3 = nr > 3 ? loadN(s + 3 * ld + o, n) : zero;
        const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
        const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5), t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
        const p = panel + <usize>d * 32 + <usize>half * 16;
        v128.store(p, i64x2.shuffle(t0, t2, 0, 2));
        if (n > 1) v128.store(p + 32, i64x2.shuffle(t0, t2, 1, 3));
        if (n > 2) v128.store(p + 64, i64x2.shuffle(t1, t3, 0, 2));
        if (n > 3) v128.store(p + 96, i64x2.shuffle(t1, t3, 1, 3));
      }
    }
  }
}

/**
 * Row panels for a B operand whose k runs down the rows: dst[dp][t][0..8) = src[t][8dp + 0..8) for t < rows,
 * columns ≥ cols zero; panel dp starts at dst + dp·panelBytes.
 */
function packRows(src: usize, ld: usize, rows: i32, cols: i32, dst: usize, panelBytes: usize): void {
  const zero = f32x4.splat(0);
  for (let dp = 0; dp * 8 < cols; dp++) {
    const n = cols - dp * 8;
    let s = src + (<usize>(dp * 8) << 2);
    let d = dst + <usize>dp * panelBytes;
    const end = d + <usize>rows * 32;
    if (n >= 8) {
      for (; d < end; d += 32) {
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
        s += ld;
      }
    } else {
      for (; d < end; d += 32) {
        v128.store(d, loadN(s, min(4, n)));
        v128.store(d, n > 4 ? loadN(s + 16, n - 4) : zero, 16);
        s += ld;
      }
    }
  }
}

/** A operand of 4 rows: dst[d][r] = splat(mul·src[r][d]), rows r ≥ mr zero */
function packRowsBcast(src: usize, ld: usize, mr: i32, cols: i32, mul: f32, dst: usize): void {
  const vm = f32x4.splat(mul), zero = f32x4.splat(0);
  for (let r = 0; r < 4; r++) {
    const q = dst + (<usize>r << 4);
    if (r < mr) {
      const s = src + <usize>r * ld;
      for (let d = 0; d < cols; d += 4) {
        const n = min(4, cols - d);
        const v = f32x4.mul(loadN(s + (<usize>d << 2), n), vm);
        const o = q + <usize>d * 64;
        if (n == 4) {
          spread(o, v, 64);
        } else {
          v128.store(o, i32x4.shuffle(v, v, 0, 0, 0, 0));
          if (n > 1) v128.store(o + 64, i32x4.shuffle(v, v, 1, 1, 1, 1));
          if (n > 2) v128.store(o + 128, i32x4.shuffle(v, v, 2, 2, 2, 2));
        }
      }
    } else {
      for (let d = 0; d < cols; d++) v128.store(q + <usize>d * 64, zero);
    }
  }
}

/**
 * Softmax of one score row s[0, n) (n = t + 1 keys; n = 0 marks a padding row of the block): probabilities
 * to the att row (T floats, zeros from n on) and broadcast into column r of the block's A operand pb
 * ([j][4], this row's lane pointer given), zeros there for j in [n, jEnd).
 */
function softmaxRow(s: usize, arow: usize, pbr: usize, n: i32, T: i32, jEnd: i32): void {
  const zero = f32x4.splat(0);
  let j = 0;
  if (n > 0) {
    // the first `full` keys come in whole vectors; the last `tail` (0..3) share one with keys past the diagonal
    const full = n & ~3, tail = n - full;
    const ninf = f32x4.splat(-Infinity);
    // pmax is one instruction; max's NaN rules cost V8 eight, and the scores here are never NaN
    let vmax = ninf;
    for (; j < full; j += 4) vmax = f32x4.pmax(vmax, v128.load(s + (<usize>j << 2)));
    if (tail) vmax = f32x4.pmax(vmax, v128.bitselect(v128.load(s + (<usize>full << 2)), ninf, laneMask(tail)));
    vmax = f32x4.pmax(vmax, i32x4.shuffle(vmax, vmax, 2, 3, 0, 1));
    vmax = f32x4.pmax(vmax, i32x4.shuffle(vmax, vmax, 1, 0, 3, 2));
    let vsum = zero;
    for (j = 0; j < full; j += 4) {
      const p = s + (<usize>j << 2);
      const e = vexp(f32x4.sub(v128.load(p), vmax));
      vsum = f32x4.add(vsum, e);
      v128.store(p, e);
    }
    if (tail) {
      // the lanes past the diagonal become exact zeros here, which is what att and pb need there
      const p = s + (<usize>full << 2);
      const e = v128.and(vexp(f32x4.sub(v128.load(p), vmax)), laneMask(tail));
      vsum = f32x4.add(vsum, e);
      v128.store(p, e);
    }
    const inv = f32x4.splat(<f32>1 / hsum(vsum));
    for (j = 0; j < full; j += 4) {
      const v = f32x4.mul(v128.load(s + (<usize>j << 2)), inv);
      v128.store(arow + (<usize>j << 2), v);
      spread(pbr + <usize>j * 64, v, 64);
    }
    if (tail) {
      const v = f32x4.mul(v128.load(s + (<usize>full << 2)), inv);
      storeN(arow + (<usize>full << 2), v, min(4, T - full));
      spread(pbr + <usize>full * 64, v, 64);
      j = full + 4;
    }
    for (; j + 4 <= T; j += 4) v128.store(arow + (<usize>j << 2), zero);
    if (j < T) storeN(arow + (<usize>j << 2), zero, T - j);
    j = (n + 3) & ~3;
  }
  for (; j < jEnd; j += 4) spread(pbr + <usize>j * 64, zero, 64);
}

/**
 * y = causal softmax(scale·q·kᵀ)·v for items [i0, i1), P into att (every entry of the items' T×T written, zeros
 * above the diagonal). `scratch`: attnScratchBytes(T, hs) bytes, 16-byte aligned.
 */
export function attnForward(
  qkv: usize, y: usize, att: usize, T: i32, H: i32, hs: i32, scale: f32, i0: i32, i1: i32, scratch: usize,
): void {
  const C = H * hs, Tp = round8(T), hp = round8(hs);
  const ld3 = <usize>(3 * C) * 4, ldy = <usize>C * 4, ldS = <usize>Tp * 4, panelBytes = <usize>Tp * 32;
  const kt = scratch; // [Tp/8][hs][8] Kᵀ panels
  const vp = kt + <usize>(Tp * hs) * 4; // [hp/8][Tp][8] V panels
  const qb = vp + <usize>(hp * Tp) * 4; // [hs][4] broadcast, scale·q of the row block
  const sb = qb + <usize>hs * 64; // [4][Tp] scores of the row block, then their exponentials
  const pb = sb + <usize>Tp * 16; // [Tp][4] broadcast probabilities of the row block
  const tile = pb + <usize>Tp * 64; // [4][8] edge tile
  for (let i = i0; i < i1; i++) {
    const b = i / H, h = i - b * H;
    const q = qkv + (<usize>(b * T) * <usize>(3 * C) + <usize>(h * hs)) * 4;
    const k = q + <usize>C * 4, v = q + <usize>C * 8;
    const yi = y + (<usize>(b * T) * <usize>C + <usize>(h * hs)) * 4;
    const ai = att + <usize>i * <usize>T * <usize>T * 4;
    packT(k, ld3, T, hs, kt);
    packRows(v, ld3, T, hs, vp, panelBytes);
    for (let t0 = 0; t0 < T; t0 += 4) {
      const mr = min(4, T - t0), jEnd = t0 + mr;
      packRowsBcast(q + <usize>t0 * ld3, ld3, mr, hs, scale, qb);
      for (let jp = 0; jp * 8 < jEnd; jp++) micro(qb, kt + <usize>(jp * hs) * 32, hs, sb + <usize>jp * 32, ldS, false);
      for (let r = 0; r < 4; r++) {
        softmaxRow(sb + <usize>r * ldS, ai + <usize>((t0 + r) * T) * 4, pb + (<usize>r << 4), r < mr ? t0 + r + 1 : 0, T, jEnd);
      }
      const yr = yi + <usize>t0 * ldy;
      for (let dp = 0; dp * 8 < hs; dp++) {
        putTile(pb, vp + <usize>dp * panelBytes, jEnd, yr + <usize>dp * 32, ldy, mr, min(8, hs - dp * 8), false, tile);
      }
    }
  }
}

/**
 * One row of dS·scale from dP (tile output, n = t + 1 keys; n = 0 a padding row) and P's att row: into the
 * dS matrix row (columns up to n rounded up to 4, zeros past the diagonal) and broadcast into column r of the block's
 * A operand abr ([j][4]), zeros there for j in [n, jEnd).
 */
function dsRow(dp: usize, arow: usize, dsrow: usize, abr: usize, n: i32, jEnd: i32, scale: f32): void {
  const zero = f32x4.splat(0);
  let j = 0;
  if (n > 0) {
    // whole vectors, then the one the diagonal cuts: P loads as zero past it (att is not read there), so
    // those lanes add nothing to the dot and come out 0 below
    const full = n & ~3, tail = n - full;
    const pt = tail ? loadN(arow + (<usize>full << 2), tail) : zero;
    let vdot = tail ? f32x4.mul(pt, v128.load(dp + (<usize>full << 2))) : zero;
    for (; j < full; j += 4) {
      const o = <usize>j << 2;
      vdot = f32x4.add(vdot, f32x4.mul(v128.load(arow + o), v128.load(dp + o)));
    }
    const vd = f32x4.splat(hsum(vdot)), vs = f32x4.splat(scale);
    for (j = 0; j < full; j += 4) {
      const o = <usize>j << 2;
      const g = f32x4.mul(f32x4.mul(v128.load(arow + o), f32x4.sub(v128.load(dp + o), vd)), vs);
      v128.store(dsrow + o, g);
      spread(abr + <usize>j * 64, g, 64);
    }
    if (tail) {
      const o = <usize>full << 2;
      const g = f32x4.mul(f32x4.mul(pt, f32x4.sub(v128.load(dp + o), vd)), vs);
      v128.store(dsrow + o, g);
      spread(abr + <usize>full * 64, g, 64);
      j = full + 4;
    }
  }
  for (; j < jEnd; j += 4) spread(abr + <usize>j * 64, zero, 64);
}

/**
 * Gradients of attnForward for items [i0, i1) into dqkv (q, k, v positions as in qkv): added when accumulate
 * ≠ 0, else overwritten. att is the forward's P; only its lower triangle is read. `scratch` as for attnForward.
 */
export function attnBackward(
  qkv: usize, att: usize, dy: usize, dqkv: usize, T: i32, H: i32, hs: i32, scale: f32, accumulate: i32,
  i0: i32, i1: i32, scratch: usize,
): void {
  const C = H * hs, Tp = round8(T), hp = round8(hs);
  const ld3 = <usize>(3 * C) * 4, ldy = <usize>C * 4, ldS = <usize>Tp * 4, panelBytes = <usize>Tp * 32;
  const add = accumulate != 0;
  const vt = scratch; // [Tp/8][hs][8] Vᵀ panels
  const kp = vt + <usize>(Tp * hs) * 4; // [hp/8][Tp][8] K panels
  const qp = kp + <usize>(hp * Tp) * 4; // Q panels
  const gp = qp + <usize>(hp * Tp) * 4; // dY panels
  const gb = gp + <usize>(hp * Tp) * 4; // [hs][4] broadcast dy of the row block
  const pbuf = gb + <usize>hs * 64; // [4][Tp] dP of the row block
  const ds = pbuf + <usize>Tp * 16; // [Tp][Tp] scale·dS, lower triangle (rounded up to 4 columns)
  const ab = ds + <usize>(Tp * Tp) * 4; // [Tp][4] broadcast: dS rows, then dS columns
  const bb = ab + <usize>Tp * 64; // [Tp][4] broadcast P columns
  const tile = bb + <usize>Tp * 64;
  for (let i = i0; i < i1; i++) {
    const b = i / H, h = i - b * H;
    const qo = (<usize>(b * T) * <usize>(3 * C) + <usize>(h * hs)) * 4;
    const q = qkv + qo, k = q + <usize>C * 4, v = q + <usize>C * 8;
    const dq = dqkv + qo, dk = dq + <usize>C * 4, dv = dq + <usize>C * 8;
    const g = dy + (<usize>(b * T) * <usize>C + <usize>(h * hs)) * 4;
    const ai = att + <usize>i * <usize>T * <usize>T * 4;
    packT(v, ld3, T, hs, vt);
    packRows(k, ld3, T, hs, kp, panelBytes);
    packRows(q, ld3, T, hs, qp, panelBytes);
    packRows(g, ldy, T, hs, gp, panelBytes);
    // query blocks: dP, dS and dq
    for (let t0 = 0; t0 < T; t0 += 4) {
      const mr = min(4, T - t0), jEnd = t0 + mr;
      packRowsBcast(g + <usize>t0 * ldy, ldy, mr, hs, 1, gb);
      for (let jp = 0; jp * 8 < jEnd; jp++) micro(gb, vt + <usize>(jp * hs) * 32, hs, pbuf + <usize>jp * 32, ldS, false);
      for (let r = 0; r < 4; r++) {
        const t = t0 + r;
        dsRow(pbuf + <usize>r * ldS, ai + <usize>(t * T) * 4, ds + <usize>t * ldS, ab + (<usize>r << 4), r < mr ? t + 1 : 0, jEnd, scale);
      }
      const dqr = dq + <usize>t0 * ld3;
      for (let dp = 0; dp * 8 < hs; dp++) {
        putTile(ab, kp + <usize>dp * panelBytes, jEnd, dqr + <usize>dp * 32, ld3, mr, min(8, hs - dp * 8), add, tile);
      }
    }
    // key blocks: dk and dv, summing over the queries t ≥ j0 that see them
    for (let j0 = 0; j0 < T; j0 += 4) {
      const mj = min(4, T - j0), kc = T - j0;
      const na = min(4, T - j0);
      for (let t = j0; t < T; t++) {
        const o = <usize>(t - j0) * 64;
        // row t of dS holds zeros past the diagonal up to column t + 1 rounded up to 4, > j0 + 3
        spread(ab + o, v128.load(ds + <usize>t * ldS + (<usize>j0 << 2)), 16);
        let pv = loadN(ai + <usize>(t * T + j0) * 4, na);
        if (t - j0 < 3) pv = v128.and(pv, laneMask(t - j0 + 1)); // keys past the diagonal: att there is not read
        spread(bb + o, pv, 16);
      }
      const dkr = dk + <usize>j0 * ld3, dvr = dv + <usize>j0 * ld3, off = <usize>j0 * 32;
      for (let dp = 0; dp * 8 < hs; dp++) {
        const pan = <usize>dp * panelBytes + off, nr = min(8, hs - dp * 8), c = <usize>dp * 32;
        putTile(ab, qp + pan, kc, dkr + c, ld3, mj, nr, add, tile);
        putTile(bb, gp + pan, kc, dvr + c, ld3, mj, nr, add, tile);
      }
    }
  }
}
