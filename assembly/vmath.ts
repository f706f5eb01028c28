// Vector (f32x4) transcendental functions for the elementwise kernels. Accuracy target: a few ulp of float32,
// so results agree with the float64 reference in src/backend/js.ts to ~1e-6 relative.
//
// Written for few machine instructions, because these loops are instruction-bound under V8:
// - polynomial constants are read from a table in memory (one instruction each) rather than written as
//   v128.const, which V8 rebuilds from immediates in three instructions on every loop iteration;
// - pmin/pmax (single minps/maxps) instead of min/max (NaN fix-up sequences);
// - the 1.5·2^23 rounding trick instead of nearest + float→int conversion;
// - Estrin's scheme instead of Horner for polynomials (fewer dependent steps).

/** byte offset of the constant table in the memory; mirrored by CONST_BYTE in src/backend/wasm.ts */
export const CONST_BYTE: usize = 24576;

const C_UNDER = 0; // −87.3: below it e^x is exactly 0 in float32 (to our accuracy)
const C_OVER = 1; // 88
const C_LOG2E = 2;
const C_ROUNDER = 3; // 1.5·2^23: adding it rounds |v| < 2^22 to an integer held in the low mantissa bits
const C_LN2_HI = 4; // ln 2 split so n·LN2_HI is exact for |n| < 2^9
const C_LN2_LO = 5;
const C_ONE = 6;
const C_E3 = 7; // 1/3!
const C_E2 = 8; // 1/2!
const C_E5 = 9;
const C_E4 = 10;
const C_E7 = 11;
const C_E6 = 12;
const C_127 = 13; // i32
const C_SQRT1_2 = 14;
const C_ERF = 15; // 10 coefficients of the erfc fit, c0..c9, at 15..24
const C_INV_SQRT_2PI = 25;
const C_MINUS_HALF = 26;
const C_GELU_SMALL = 27; // 1e-6
const C_TWO = 28;
const C_COUNT = 29;

@inline
function k(i: i32): v128 {
  return v128.load(CONST_BYTE + (<usize>i << 4));
}

@inline
function put(i: i32, v: f32): void {
  v128.store(CONST_BYTE + (<usize>i << 4), f32x4.splat(v));
}

/** Writes the constant table. Call once per memory, before any kernel (src/backend/wasm.ts does). */
export function initConstants(): void {
  put(C_UNDER, -87.3);
  put(C_OVER, 88.0);
  put(C_LOG2E, 1.44269504);
  put(C_ROUNDER, 12582912.0);
  put(C_LN2_HI, 0.693359375);
  put(C_LN2_LO, -2.12194440e-4);
  put(C_ONE, 1.0);
  put(C_E3, 1.0 / 6.0);
  put(C_E2, 0.5);
  put(C_E5, 1.0 / 120.0);
  put(C_E4, 1.0 / 24.0);
  put(C_E7, 1.0 / 5040.0);
  put(C_E6, 1.0 / 720.0);
  v128.store(CONST_BYTE + (<usize>C_127 << 4), i32x4.splat(127));
  put(C_SQRT1_2, 0.70710678);
  // erfc(z) ≈ t·exp(−z² + Σ c_i t^i), t = 1/(1 + z/2): Numerical Recipes' erfcc, as js.ts's erf
  put(C_ERF + 0, -1.26551223);
  put(C_ERF + 1, 1.00002368);
  put(C_ERF + 2, 0.37409196);
  put(C_ERF + 3, 0.09678418);
  put(C_ERF + 4, -0.18628806);
  put(C_ERF + 5, 0.27886807);
  put(C_ERF + 6, -1.13520398);
  put(C_ERF + 7, 1.48851587);
  put(C_ERF + 8, -0.82215223);
  put(C_ERF + 9, 0.17087277);
  put(C_INV_SQRT_2PI, 0.39894228);
  put(C_MINUS_HALF, -0.5);
  put(C_GELU_SMALL, 1e-6);
  put(C_TWO, 2.0);
}

/** bytes the constant table occupies */
export function constantsBytes(): i32 {
  return C_COUNT * 16;
}

/** a·b + c (two roundings: relaxed FMA would need a Node flag) */
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  return f32x4.add(f32x4.mul(a, b), c);
}

/**
 * e^x = 2^n · e^r with n = round(x·log2 e), |r| ≤ ln2/2, e^r by its Taylor series to r^7 (error < 5e-9).
 * Inputs below −87.3 (including −∞, as in masked attention) give exactly 0 like Math.exp's float32 result;
 * inputs are clamped at 88 (e^88 ≈ 1.65e38), which no caller here reaches: they all exponentiate x ≤ 0.
 */
@inline
export function vexp(x: v128): v128 {
  const under = f32x4.lt(x, k(C_UNDER));
  const xc = f32x4.pmax(f32x4.pmin(x, k(C_OVER)), k(C_UNDER));
  // q = n + ROUNDER exactly, so q − ROUNDER = n = round(x·log2 e) and q's low bits hold n (two's complement)
  const q = madd(xc, k(C_LOG2E), k(C_ROUNDER));
  const n = f32x4.sub(q, k(C_ROUNDER));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(n, k(C_LN2_HI))), f32x4.mul(n, k(C_LN2_LO)));
  const r2 = f32x4.mul(r, r);
  const r4 = f32x4.mul(r2, r2);
  const p01 = f32x4.add(r, k(C_ONE));
  const p23 = madd(r, k(C_E3), k(C_E2));
  const p45 = madd(r, k(C_E5), k(C_E4));
  const p67 = madd(r, k(C_E7), k(C_E6));
  const p = madd(madd(p67, r2, p45), r4, madd(p23, r2, p01));
  // 2^n built directly in the exponent bits, (n + 127) << 23; the shift drops ROUNDER's bits above n's
  const scale = i32x4.shl(i32x4.add(q, k(C_127)), 23);
  return v128.andnot(f32x4.mul(p, scale), under);
}

/** the standard normal density φ(x) = e^(−x²/2)/√(2π) */
@inline
export function vpdf(x: v128): v128 {
  return f32x4.mul(k(C_INV_SQRT_2PI), vexp(f32x4.mul(k(C_MINUS_HALF), f32x4.mul(x, x))));
}

/** the polynomial of the Numerical Recipes erfc fit in t = 1/(1 + z/2), evaluated Estrin-style */
@inline
function erfcPoly(t: v128): v128 {
  const t2 = f32x4.mul(t, t);
  const t4 = f32x4.mul(t2, t2);
  const q01 = madd(t, k(C_ERF + 1), k(C_ERF + 0));
  const q23 = madd(t, k(C_ERF + 3), k(C_ERF + 2));
  const q45 = madd(t, k(C_ERF + 5), k(C_ERF + 4));
  const q67 = madd(t, k(C_ERF + 7), k(C_ERF + 6));
  const q89 = madd(t, k(C_ERF + 9), k(C_ERF + 8));
  const lo = madd(q23, t2, q01);
  const hi = madd(madd(q89, t2, q67), t2, q45);
  return madd(hi, t4, lo);
}

/**
 * gelu'(x) = Φ(x) + x·φ(x), given y = gelu(x) = x·Φ(x) from the forward pass: Φ(x) = y/x costs a division
 * where recomputing it costs the whole erfc fit, so only φ's exponential is left. Near 0 (|x| < 1e-6, where
 * y/x would lose digits or be 0/0) Φ(x) = ½ + x·φ(0) to float32 precision. Where y is denormal (x < −13),
 * x·φ(x) outweighs Φ(x) by orders of magnitude, so y/x's lost digits do not show.
 */
@inline
export function vgeluGradFromY(x: v128, y: v128): v128 {
  const pdf = vpdf(x);
  const small = f32x4.lt(f32x4.abs(x), k(C_GELU_SMALL));
  const cdf = v128.bitselect(madd(x, k(C_INV_SQRT_2PI), k(C_E2)), f32x4.div(y, x), small);
  return madd(x, pdf, cdf);
}

/**
 * Φ(x) = P(N(0,1) ≤ x) = ½·erfc(−x/√2), from the same Numerical Recipes erfc fit as js.ts's erf, but without
 * forming 1 + erf(x) (which cancels catastrophically in float32 for x ≪ 0):
 *   r = erfc(|x|/√2);  Φ(x) = 1 − r/2 for x ≥ 0, r/2 for x < 0.
 */
@inline
export function vcdf(x: v128): v128 {
  const z = f32x4.abs(f32x4.mul(x, k(C_SQRT1_2)));
  const one = k(C_ONE), half = k(C_E2);
  const t = f32x4.div(one, madd(half, z, one));
  const p = erfcPoly(t);
  const hr = f32x4.mul(half, f32x4.mul(t, vexp(f32x4.sub(p, f32x4.mul(z, z)))));
  return v128.bitselect(f32x4.sub(one, hr), hr, f32x4.ge(x, f32x4.splat(0)));
}

/** e^(−|x|): the one exponential the logistic needs, which cannot overflow (see vsigmoid) */
@inline
export function vexpNegAbs(x: v128): v128 {
  return vexp(f32x4.neg(f32x4.abs(x)));
}

/**
 * The logistic σ(x) = 1/(1 + e^−x) from e = e^(−|x|): σ = 1/(1 + e) for x ≥ 0, e/(1 + e) below 0, as
 * js.ts's sigmoid; stable for any |x|.
 */
@inline
export function vsigmoid(x: v128): v128 {
  const one = k(C_ONE);
  const e = vexpNegAbs(x);
  return f32x4.div(v128.bitselect(one, e, f32x4.ge(x, f32x4.splat(0))), f32x4.add(one, e));
}

/**
 * tanh(x) = 1 − 2/(1 + e^(2x)): one exponential and one division; ±1 where e^(2x) saturates (clamped at 88)
 * or underflows. Absolute error ~1e−7 everywhere; relative precision is lost only for |x| ≪ 1e−3, where the
 * absolute error still sits below float32's resolution of the gates' other terms.
 */
@inline
export function vtanh(x: v128): v128 {
  const one = k(C_ONE), two = k(C_TWO);
  return f32x4.sub(one, f32x4.div(two, f32x4.add(one, vexp(f32x4.mul(x, two)))));
}
