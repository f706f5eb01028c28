// Tiled SIMD matrix multiply, C[b] (+)= op(A[b]) · op(B[b]), in the BLIS loop order.
//
// Why this shape: a 4×8 register tile keeps 8 f32x4 accumulators + 2 B vectors + 4 splats within the 15 xmm
// registers V8 allocates for wasm on x64, so each k-step does 8 mul + 8 add on values that never leave
// registers. (A 5×8 tile needs 17 there, because V8 schedules all of a step's loads first, and measured at
// half the speed: 28 vs 50 GFLOP/s at 1024³ on one Zen 5 core, Node 20; unrolling k by 2 spills the same way,
// 38 GFLOP/s. Block sizes barely matter: KC×MC from 128×240 to 512×64 all measured 48–50. Storing A
// pre-broadcast (see packA) then took the kernel from 50 to 57 GFLOP/s.)
// Operands are first copied ("packed") into contiguous panels so the kernel's inner loop reads memory strictly
// sequentially whatever transA/transB were, and partial tiles read zeros instead of needing special cases:
//
//   packed B (KC×N per block):      panel p = columns [8p, 8p+8), stored k-major: [k][8]
//   packed A (MC×KC block, L2):     panel q = rows    [4q, 4q+4), stored k-major: [k][4]
//
//   pack all of B (packBAll, once per call) → for jc (NC cols) → for pc (KC depth) → for ic (MC rows) → pack A
//     → for jr (8 cols) → for ir (4 rows)
//
// The 8×KC B micro-panel (8 KiB) stays in L1 while the 4-row A micro-panels stream past it from L2.
// A caller (one per thread) computes rows [m0, m1) and columns [n0, n1) of batch items [b0, b1); the ranges of
// different threads never overlap in C, so they need no synchronisation.
//
// Pointers are byte offsets into the (shared) linear memory; strides and sizes are in elements.

export const MR: i32 = 4;
export const NR: i32 = 8;
export const KC: i32 = 256;
export const MC: i32 = 120; // multiple of MR
export const NC: i32 = 1024; // multiple of NR

/** bytes of scratch one thread needs: a packed A block (4 lanes per value) and one MR×NR edge tile */
export function gemmScratchBytes(): i32 {
  return (MC * KC * 4 + MR * NR) * 4;
}

// A[i, k] of one batch item: stored [M, K], or [K, M] when transposed. Each value is stored already
// broadcast to all 4 lanes (16 bytes), so the kernel reads it with a plain v128.load, whose constant offset
// V8 folds into the address; a load32_splat with an offset costs V8 an extra lea per row per k-step.
function packA(a: usize, M: i32, K: i32, transA: bool, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  const zero = f32x4.splat(0);
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = min(MR, mc - ir);
    const panel = dst + <usize>(ir * kc) * 16; // (ir/MR) panels of kc*MR vectors
    if (transA) {
      // rows of one k are contiguous in memory: MR neighbours per k
      if (mr == MR) {
        // one load of the 4 rows, then each lane broadcast in registers
        let src = a + (<usize>k0 * <usize>M + <usize>(i0 + ir)) * 4;
        const step = <usize>M * 4;
        for (let k = 0; k < kc; k++) {
          const v = v128.load(src);
          const d = panel + <usize>(k * MR) * 16;
          v128.store(d, i32x4.shuffle(v, v, 0, 0, 0, 0));
          v128.store(d, i32x4.shuffle(v, v, 1, 1, 1, 1), 16);
          v128.store(d, i32x4.shuffle(v, v, 2, 2, 2, 2), 32);
          v128.store(d, i32x4.shuffle(v, v, 3, 3, 3, 3), 48);
          src += step;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          const src = a + (<usize>(k0 + k) * <usize>M + <usize>(i0 + ir)) * 4;
          const d = panel + <usize>(k * MR) * 16;
          for (let r = 0; r < MR; r++) v128.store(d + (<usize>r << 4), r < mr ? v128.load32_splat(src + (<usize>r << 2)) : zero);
        }
      }
    } else {
      for (let r = 0; r < MR; r++) {
        const d = panel + (<usize>r << 4);
        if (r < mr) {
          const src = a + (<usize>(i0 + ir + r) * <usize>K + <usize>k0) * 4;
          // 4 k at a time: one load, each lane broadcast in registers (as for transA above)
          let k = 0;
          for (; k + 4 <= kc; k += 4) {
            const v = v128.load(src + (<usize>k << 2));
            const q = d + <usize>(k * MR) * 16;
            v128.store(q, i32x4.shuffle(v, v, 0, 0, 0, 0));
            v128.store(q, i32x4.shuffle(v, v, 1, 1, 1, 1), MR * 16);
            v128.store(q, i32x4.shuffle(v, v, 2, 2, 2, 2), 2 * MR * 16);
            v128.store(q, i32x4.shuffle(v, v, 3, 3, 3, 3), 3 * MR * 16);
          }
          for (; k < kc; k++) v128.store(d + <usize>(k * MR) * 16, v128.load32_splat(src + (<usize>k << 2)));
        } else {
          for (let k = 0; k < kc; k++) v128.store(d + <usize>(k * MR) * 16, zero);
        }
      }
    }
  }
}

// B[k, j] of one batch item: stored [K, N], or [N, K] when transposed.
function packB(b: usize, N: i32, K: i32, transB: bool, j0: i32, nc: i32, k0: i32, kc: i32, dst: usize): void {
  const zero = f32x4.splat(0);
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const panel = dst + <usize>(jr * kc) * 4;
    if (!transB) {
      let src = b + (<usize>k0 * <usize>N + <usize>(j0 + jr)) * 4;
      const step = <usize>N * 4;
      if (nr == NR) {
        for (let k = 0; k < kc; k++) {
          const d = panel + <usize>(k * NR) * 4;
          v128.store(d, v128.load(src));
          v128.store(d, v128.load(src, 16), 16);
          src += step;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          const d = panel + <usize>(k * NR) * 4;
          v128.store(d, zero);
          v128.store(d, zero, 16);
          for (let j = 0; j < nr; j++) store<f32>(d + (<usize>j << 2), load<f32>(src + (<usize>j << 2)));
          src += step;
        }
      }
    } else if (nr == NR) {
      // 4×4 blocks of B (4 columns × 4 k, contiguous in k) transposed in registers: k-major 4-column stores
      const ldb = <usize>K * 4;
      const src = b + (<usize>(j0 + jr) * <usize>K + <usize>k0) * 4;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        for (let h = 0; h < 2; h++) {
          const s = src + <usize>(h * 4) * ldb + (<usize>k << 2);
          const r0 = v128.load(s), r1 = v128.load(s + ldb), r2 = v128.load(s + 2 * ldb), r3 = v128.load(s + 3 * ldb);
          const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
          const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5), t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
          const d = panel + <usize>(k * NR + h * 4) * 4;
          v128.store(d, i64x2.shuffle(t0, t2, 0, 2));
          v128.store(d, i64x2.shuffle(t0, t2, 1, 3), NR * 4);
          v128.store(d, i64x2.shuffle(t1, t3, 0, 2), 2 * NR * 4);
          v128.store(d, i64x2.shuffle(t1, t3, 1, 3), 3 * NR * 4);
        }
      }
      for (; k < kc; k++) {
        for (let j = 0; j < NR; j++) {
          store<f32>(panel + <usize>(k * NR + j) * 4, load<f32>(src + <usize>j * ldb + (<usize>k << 2)));
        }
      }
    } else {
      for (let j = 0; j < NR; j++) {
        if (j < nr) {
          const src = b + (<usize>(j0 + jr + j) * <usize>K + <usize>k0) * 4;
          for (let k = 0; k < kc; k++) store<f32>(panel + <usize>(k * NR + j) * 4, load<f32>(src + (<usize>k << 2)));
        } else {
          for (let k = 0; k < kc; k++) store<f32>(panel + <usize>(k * NR + j) * 4, 0);
        }
      }
    }
  }
}

// One 4×8 tile: c[r][0..8) (+)= Σ_k pa[k][r] · pb[k][0..8). `ldc` is the row stride of C in bytes.
// Deliberately not inlined (it has two call sites below): as its own function the register allocator sees
// only this loop's live vectors, and it keeps them all in registers instead of spilling for the outer loops.
export function micro(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, add: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  // the A pointer doubles as the loop counter: one instruction less per k-step in a front-end-bound loop
  const paEnd = pa + <usize>(kc * MR) * 16;
  while (pa < paEnd) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load(pa);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load(pa, 16);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load(pa, 32);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load(pa, 48);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    pa += 64;
    pb += 32;
  }
  if (add) {
    c00 = f32x4.add(v128.load(c), c00);
    c01 = f32x4.add(v128.load(c, 16), c01);
    c10 = f32x4.add(v128.load(c + ldc), c10);
    c11 = f32x4.add(v128.load(c + ldc, 16), c11);
    c20 = f32x4.add(v128.load(c + 2 * ldc), c20);
    c21 = f32x4.add(v128.load(c + 2 * ldc, 16), c21);
    c30 = f32x4.add(v128.load(c + 3 * ldc), c30);
    c31 = f32x4.add(v128.load(c + 3 * ldc, 16), c31);
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + ldc, c10);
  v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20);
  v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30);
  v128.store(c + 3 * ldc, c31, 16);
}

// An edge tile (mr < MR or nr < NR): computed whole into `tile` (the zero-padded panels make the extra lanes
// harmless), then only the valid part goes to C.
export function microEdge(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, add: bool, mr: i32, nr: i32, tile: usize): void {
  micro(pa, pb, kc, tile, NR * 4, false);
  for (let r = 0; r < mr; r++) {
    const crow = c + <usize>r * ldc;
    const trow = tile + <usize>(r * NR) * 4;
    for (let j = 0; j < nr; j++) {
      const p = crow + (<usize>j << 2);
      const v = load<f32>(trow + (<usize>j << 2));
      store<f32>(p, add ? load<f32>(p) + v : v);
    }
  }
}

/** floats one batch item of B takes once packed: K × N, N rounded up to whole panels */
export function packedBSize(N: i32, K: i32): i32 {
  return K * ((N + NR - 1) / NR) * NR;
}

/**
 * Packs op(B[b]) for b in [b0, b1) into `dst`, one item after another (packedBSize floats each). Within an
 * item, depth block pc (KC rows of op(B)) holds every column panel; the panel of columns [j, j+8) starts at
 * float pc·Npad + j·kc. Packing all of B once, before the threads start, lets every thread read the same
 * panels instead of each packing its own copy for its rows, which costs about 15/rows-per-chunk of the
 * compute: a lot for the small M of weight gradients (dW = Xᵀ·dY has M = n_embd).
 */
export function packBAll(b: usize, b0: i32, b1: i32, strideB: i32, N: i32, K: i32, transB: i32, dst: usize): void {
  const size = <usize>packedBSize(N, K);
  const npad = <usize>(((N + NR - 1) / NR) * NR);
  for (let bi = b0; bi < b1; bi++) {
    const B = b + <usize>bi * <usize>strideB * 4;
    const item = dst + <usize>bi * size * 4;
    for (let pc = 0; pc < K; pc += KC) packB(B, N, K, transB != 0, 0, N, pc, min(KC, K - pc), item + <usize>pc * npad * 4);
  }
}

/**
 * C[b] (+)= op(A[b]) · op(B[b]) for b in [b0, b1), rows [m0, m1), columns [n0, n1) (n0 a multiple of NR),
 * with B already packed by packBAll at `bp`; `packedStrideB` is packedBSize(N, K), or 0 when one B serves the
 * whole batch. `scratch` is this thread's gemmScratchBytes() region.
 */
export function gemm(
  a: usize, bp: usize, c: usize,
  b0: i32, b1: i32, strideA: i32, packedStrideB: i32, strideC: i32,
  M: i32, N: i32, K: i32, transA: i32, accumulate: i32,
  m0: i32, m1: i32, n0: i32, n1: i32, scratch: usize,
): void {
  const pA = scratch;
  const tile = pA + <usize>(MC * KC) * 16;
  const ldc = <usize>N * 4;
  const npad = <usize>(((N + NR - 1) / NR) * NR);
  for (let bi = b0; bi < b1; bi++) {
    const A = a + <usize>bi * <usize>strideA * 4;
    const B = bp + <usize>bi * <usize>packedStrideB * 4;
    const C = c + <usize>bi * <usize>strideC * 4;
    if (K == 0) {
      // an empty sum: C = 0 (or unchanged when accumulating)
      if (!accumulate) {
        for (let i = m0; i < m1; i++) for (let j = n0; j < n1; j++) store<f32>(C + (<usize>i * ldc) + (<usize>j << 2), 0);
      }
      continue;
    }
    for (let jc = n0; jc < n1; jc += NC) {
      const nc = min(NC, n1 - jc);
      for (let pc = 0; pc < K; pc += KC) {
        const kc = min(KC, K - pc);
        const block = B + <usize>pc * npad * 4;
        const add = accumulate != 0 || pc > 0;
        for (let ic = m0; ic < m1; ic += MC) {
          const mc = min(MC, m1 - ic);
          packA(A, M, K, transA != 0, ic, mc, pc, kc, pA);
          for (let jr = 0; jr < nc; jr += NR) {
            const nr = min(NR, nc - jr);
            const pbPanel = block + <usize>((jc + jr) * kc) * 4;
            const cCol = C + <usize>(jc + jr) * 4;
            for (let ir = 0; ir < mc; ir += MR) {
              const mr = min(MR, mc - ir);
              const pa = pA + <usize>(ir * kc) * 16, pc = cCol + <usize>(ic + ir) * ldc;
              if (mr == MR && nr == NR) micro(pa, pbPanel, kc, pc, ldc, add);
              else microEdge(pa, pbPanel, kc, pc, ldc, add, mr, nr, tile);
            }
          }
        }
      }
    }
  }
}


/**
 * gemm for batch items [b0, b1) that also packs each item's B (stored at `b`, `strideB` apart) into its place
 * at `bp` first: for a product split over threads by batch items, each thread then packs only the items it
 * computes, instead of the calling thread packing all of them before the others may start.
 */
export function gemmPackB(
  a: usize, bp: usize, c: usize,
  b0: i32, b1: i32, strideA: i32, packedStrideB: i32, strideC: i32,
  M: i32, N: i32, K: i32, transA: i32, accumulate: i32,
  m0: i32, m1: i32, n0: i32, n1: i32, scratch: usize,
  b: usize, strideB: i32, transB: i32,
): void {
  for (let bi = b0; bi < b1; bi++) {
    packBAll(b, bi, bi + 1, strideB, N, K, transB, bp);
    gemm(a, bp, c, bi, bi + 1, strideA, packedStrideB, strideC, M, N, K, transA, accumulate, m0, m1, n0, n1, scratch);
  }
}

/**
 * The same product for very few rows (M < MR: one token at a time when sampling). Packing B would cost as
 * much as the whole product and a 4-row tile would be mostly empty, so this reads B in place instead:
 *   B stored [K, N]: C[i, j..j+16) (+)= Σ_k A[i, k] · B[k, j..j+16)   (4 vector accumulators per row)
 *   B stored [N, K]: C[i, j] (+)= dot(A[i, :], B[j, :])               (4 columns at a time, contiguous in k)
 * Measured against the packed path at M = 1: x·Wᵀ with W 4096×128 (a tied output embedding) 72 vs 290 µs,
 * 1×128·128×384 8 vs 22 µs; most of what remains is copying B into wasm memory.
 */
// Matrices B (N × K, transB) up to this size take smallM's four-rows-at-a-time loop, whose four independent
// sums hide the add latency while B sits in cache (512×128: 7 against 10 µs one row at a time); larger ones,
// read from memory, go one row at a time (see there)
const SMALLM_INTERLEAVE_MAX_BYTES: usize = 256 << 10;
/** rows this long (K, floats) or longer always take the four-rows loop */
const SMALLM_INTERLEAVE_MIN_K = 2048;

export function gemmSmallM(
  a: usize, b: usize, c: usize,
  b0: i32, b1: i32, strideA: i32, strideB: i32, strideC: i32,
  M: i32, N: i32, K: i32, transA: i32, transB: i32, accumulate: i32,
): void {
  smallM(a, b, c, b0, b1, strideA, strideB, strideC, M, N, K, transA, transB, accumulate, 0, N);
}

/**
 * gemmSmallM for the columns [n0, n1) of C only (n0 a multiple of 16), so that threads can split a matrix ×
 * vector product by output: each column is computed exactly as gemmSmallM computes it.
 */
export function gemmSmallMCols(
  a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, transA: i32, transB: i32, accumulate: i32, n0: i32, n1: i32,
): void {
  smallM(a, b, c, 0, 1, 0, 0, 0, M, N, K, transA, transB, accumulate, n0, n1);
}

@inline
function smallM(
  a: usize, b: usize, c: usize,
  b0: i32, b1: i32, strideA: i32, strideB: i32, strideC: i32,
  M: i32, N: i32, K: i32, transA: i32, transB: i32, accumulate: i32, n0: i32, n1: i32,
): void {
  const zero = f32x4.splat(0);
  for (let bi = b0; bi < b1; bi++) {
    const A = a + <usize>bi * <usize>strideA * 4;
    const B = b + <usize>bi * <usize>strideB * 4;
    const C = c + <usize>bi * <usize>strideC * 4;
    for (let i = 0; i < M; i++) {
      // A[i, k] is at aRow + k·aStep (bytes)
      const aRow = transA ? A + (<usize>i << 2) : A + <usize>i * <usize>K * 4;
      const aStep: usize = transA ? <usize>M * 4 : 4;
      const cRow = C + <usize>i * <usize>N * 4;
      if (!transB) {
        const ldb = <usize>N * 4;
        let j = n0;
        for (; j + 16 <= n1; j += 16) {
          let s0 = zero, s1 = zero, s2 = zero, s3 = zero;
          let pb = B + (<usize>j << 2), pa = aRow;
          for (let k = 0; k < K; k++) {
            const av = v128.load32_splat(pa);
            s0 = f32x4.add(s0, f32x4.mul(av, v128.load(pb)));
            s1 = f32x4.add(s1, f32x4.mul(av, v128.load(pb, 16)));
            s2 = f32x4.add(s2, f32x4.mul(av, v128.load(pb, 32)));
            s3 = f32x4.add(s3, f32x4.mul(av, v128.load(pb, 48)));
            pb += ldb;
            pa += aStep;
          }
          const pc = cRow + (<usize>j << 2);
          if (accumulate) {
            s0 = f32x4.add(s0, v128.load(pc));
            s1 = f32x4.add(s1, v128.load(pc, 16));
            s2 = f32x4.add(s2, v128.load(pc, 32));
            s3 = f32x4.add(s3, v128.load(pc, 48));
          }
          v128.store(pc, s0);
          v128.store(pc, s1, 16);
          v128.store(pc, s2, 32);
          v128.store(pc, s3, 48);
        }
        for (; j < n1; j++) {
          let s: f32 = 0;
          let pb = B + (<usize>j << 2), pa = aRow;
          for (let k = 0; k < K; k++) {
            s += load<f32>(pa) * load<f32>(pb);
            pb += ldb;
            pa += aStep;
          }
          const pc = cRow + (<usize>j << 2);
          store<f32>(pc, accumulate ? load<f32>(pc) + s : s);
        }
      } else {
        // dot products along k, four columns at a time so four independent sums hide the add latency;
        // A's row is contiguous unless transA, in which case it is gathered lane by lane
        if (!transA && <usize>N * <usize>K * 4 > SMALLM_INTERLEAVE_MAX_BYTES && K >= 4 && K < SMALLM_INTERLEAVE_MIN_K) {
          // a matrix of short rows streamed from memory: one row of B at a time, read once in order (four rows
          // interleaved, as below, read slower from memory: 50257×768 took 13.3 ms of CPU time that way against
          // 7.5 ms, 3072×768 0.71 against 0.45; but 768×3072 0.55 against 0.66, its single sum's latency showing); each
          // column's sum in the same order as below (lanes k mod 4, then hsum4, then the tail), so bit for bit
          for (let j = n0; j < n1; j++) {
            const p0 = B + <usize>j * <usize>K * 4;
            let s0 = zero;
            let k = 0;
            for (; k + 8 <= K; k += 8) {
              const q = <usize>k << 2;
              s0 = f32x4.add(s0, f32x4.mul(v128.load(aRow + q), v128.load(p0 + q)));
              s0 = f32x4.add(s0, f32x4.mul(v128.load(aRow + q, 16), v128.load(p0 + q, 16)));
            }
            for (; k + 4 <= K; k += 4) {
              const q = <usize>k << 2;
              s0 = f32x4.add(s0, f32x4.mul(v128.load(aRow + q), v128.load(p0 + q)));
            }
            let d0 = hsum4(s0);
            for (; k < K; k++) d0 += load<f32>(aRow + (<usize>k << 2)) * load<f32>(p0 + (<usize>k << 2));
            const pc = cRow + (<usize>j << 2);
            if (accumulate) d0 += load<f32>(pc);
            store<f32>(pc, d0);
          }
          continue;
        }
        for (let j = n0; j < n1; j += 4) {
          const nj = min(4, n1 - j);
          const p0 = B + <usize>j * <usize>K * 4;
          // rows past N repeat the last one: computed, never stored
          const p1 = p0 + <usize>(nj > 1 ? K : 0) * 4;
          const p2 = p0 + <usize>(nj > 2 ? 2 * K : 0) * 4;
          const p3 = p0 + <usize>(nj > 3 ? 3 * K : 0) * 4;
          let s0 = zero, s1 = zero, s2 = zero, s3 = zero;
          let k = 0;
          for (; k + 4 <= K; k += 4) {
            let av: v128;
            if (transA) {
              const p = aRow + <usize>k * aStep;
              av = v128.load32_zero(p);
              av = v128.load32_lane(p + aStep, av, 1);
              av = v128.load32_lane(p + 2 * aStep, av, 2);
              av = v128.load32_lane(p + 3 * aStep, av, 3);
            } else {
              av = v128.load(aRow + (<usize>k << 2));
            }
            const q = <usize>k << 2;
            s0 = f32x4.add(s0, f32x4.mul(av, v128.load(p0 + q)));
            s1 = f32x4.add(s1, f32x4.mul(av, v128.load(p1 + q)));
            s2 = f32x4.add(s2, f32x4.mul(av, v128.load(p2 + q)));
            s3 = f32x4.add(s3, f32x4.mul(av, v128.load(p3 + q)));
          }
          let d0 = hsum4(s0), d1 = hsum4(s1), d2 = hsum4(s2), d3 = hsum4(s3);
          for (; k < K; k++) {
            const av = load<f32>(aRow + <usize>k * aStep), q = <usize>k << 2;
            d0 += av * load<f32>(p0 + q);
            d1 += av * load<f32>(p1 + q);
            d2 += av * load<f32>(p2 + q);
            d3 += av * load<f32>(p3 + q);
          }
          const pc = cRow + (<usize>j << 2);
          if (accumulate) {
            d0 += load<f32>(pc);
            if (nj > 1) d1 += load<f32>(pc, 4);
            if (nj > 2) d2 += load<f32>(pc, 8);
            if (nj > 3) d3 += load<f32>(pc, 12);
          }
          store<f32>(pc, d0);
          if (nj > 1) store<f32>(pc, d1, 4);
          if (nj > 2) store<f32>(pc, d2, 8);
          if (nj > 3) store<f32>(pc, d3, 12);
        }
      }
    }
  }
}

@inline
function hsum4(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}
