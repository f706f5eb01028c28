// Rotary position embeddings (Su et al. 2021, "RoFormer: Enhanced Transformer with Rotary Position
// Embedding"), in the convention of transformers' modeling_llama.py and llama.cpp's NEOX mode: each head's
// hs dimensions are split into two halves, and dimension i < hs/2 is rotated together with dimension
// i + hs/2 by the angle pos·θ^(−2i/hs):
//   y[i]        = x[i]·cos − x[i + hs/2]·sin          (x·cos + rotate_half(x)·sin, rotate_half = [−x2, x1])
//   y[i + hs/2] = x[i + hs/2]·cos + x[i]·sin
// (Meta's original checkpoints pair adjacent dimensions instead; HF's conversion permutes q_proj and k_proj
// so that this convention holds, and so do the GGUF files llama.cpp writes for LLaMA.)
// The rotation is orthogonal, so the backward is the rotation by −angle.
import { allocUninit } from '../backend/storage.js';
import { Tensor } from './tensor.js';

/**
 * Inverse frequencies θ^(−2i/hs), i < hs/2, rounded to float32 at each step as transformers computes them
 * (`1.0 / (base ** (arange(0, dim, 2).float() / dim))`), so long positions give the same angles.
 * Throws on an odd head size or a theta that is not > 0.
 */
export function ropeInvFreq(headSize: number, theta: number): Float32Array {
  if (!Number.isInteger(headSize) || headSize < 2 || headSize % 2 !== 0) throw new Error(`rope: head size must be a positive even integer, got ${headSize}`);
  if (!(theta > 0) || !Number.isFinite(theta)) throw new Error(`rope: ropeTheta must be a positive number, got ${theta}`);
  const half = headSize / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.fround(Math.pow(theta, Math.fround((2 * i) / headSize)));
  return inv;
}

/**
 * Position ids for a (B, T) batch whose first position is `pos0` (a KV cache's length): (T) shared by every
 * row, or with left padding (B·T), row b counting from its first real token (pad positions get 0), as GPT's
 * learned positions do. padding[b] = number of pad tokens that start row b.
 */
export function ropePositions(B: number, T: number, pos0: number, padding?: Int32Array): Int32Array {
  if (!padding) return Int32Array.from({ length: T }, (_, t) => pos0 + t);
  if (padding.length !== B) throw new Error(`rope: padding has ${padding.length} entries for a batch of ${B}`);
  const pos = new Int32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) pos[b * T + t] = Math.max(0, pos0 + t - padding[b]);
  return pos;
}

/** cos and sin of every (position, frequency) pair: (P, hs/2) each, float32 angles as transformers */
function tables(positions: Int32Array, inv: Float32Array): { cos: Float32Array; sin: Float32Array } {
  const half = inv.length, P = positions.length;
  const cos = new Float32Array(P * half), sin = new Float32Array(P * half);
  for (let p = 0; p < P; p++) {
    for (let i = 0; i < half; i++) {
      const a = Math.fround(positions[p] * inv[i]);
      cos[p * half + i] = Math.cos(a);
      sin[p * half + i] = Math.sin(a);
    }
  }
  return { cos, sin };
}

/**
 * The angle tables of a (B, ·, T, hs) batch of queries or keys, and whether its positions are per row (B·T ids)
 * or shared (T ids); throws, naming `op`, on any other count (and, through ropeInvFreq, on an odd hs or bad theta).
 */
function batchTables(op: string, positions: Int32Array, B: number, T: number, hs: number, theta: number): { cos: Float32Array; sin: Float32Array; perRow: boolean } {
  const inv = ropeInvFreq(hs, theta);
  const perRow = positions.length === B * T && positions.length !== T;
  if (!perRow && positions.length !== T) throw new Error(`${op}: ${positions.length} positions for B=${B} × T=${T}`);
  return { ...tables(positions, inv), perRow };
}

/** y = R(±angle)·x over (rows, hs) blocks; `posOf(row)` is the row's index into the tables */
function rotate(X: Float32Array, Y: Float32Array, rows: number, hs: number, cos: Float32Array, sin: Float32Array,
  posOf: (row: number) => number, sign: 1 | -1, accumulate: boolean): void {
  const half = hs / 2;
  for (let r = 0; r < rows; r++) {
    const o = r * hs, t = posOf(r) * half;
    for (let i = 0; i < half; i++) {
      const c = cos[t + i], s = sign * sin[t + i];
      const x1 = X[o + i], x2 = X[o + i + half];
      const y1 = x1 * c - x2 * s, y2 = x2 * c + x1 * s;
      if (accumulate) (Y[o + i] += y1), (Y[o + i + half] += y2);
      else (Y[o + i] = y1), (Y[o + i + half] = y2);
    }
  }
}

/**
 * Rotary embedding of queries or keys: x (B, H, T, hs) → (B, H, T, hs).
 * positions: (T) ids shared by every row, or (B·T) ids per row (left padding; see ropePositions).
 * theta: the base (transformers' rope_theta; 10000 in LLaMA 1/2, 500000 in LLaMA 3).
 * Throws when x is not 4-D with an even hs or positions has neither T nor B·T entries.
 */
export function rope(x: Tensor, positions: Int32Array, theta = 10000): Tensor {
  if (x.ndim !== 4) throw new Error(`rope: input must be (B, H, T, hs), got [${x.shape}]`);
  const [B, H, T, hs] = x.shape;
  const { cos, sin, perRow } = batchTables('rope', positions, B, T, hs, theta);
  // row r of the flat (B·H·T, hs) view is (b, h, t) = (r / (H·T), ·, r % T)
  const posOf = perRow ? (r: number) => Math.floor(r / (H * T)) * T + (r % T) : (r: number) => r % T;
  const rows = B * H * T;
  const out = allocUninit(x.size);
  rotate(x.data, out, rows, hs, cos, sin, posOf, 1, false);
  return Tensor.fromOp(out, x.shape.slice(), [x], (o) => {
    rotate(o.grad!, x.gradBuf(), rows, hs, cos, sin, posOf, -1, true);
  });
}

/**
 * Queries or keys straight out of their projection, split into heads and rotated in one pass:
 * x (B, T, H·hs) → (B, H, T, hs), equal to `rope(splitHeads(x, 0, 1, H), positions, theta)` without the
 * intermediate copy (the split and the rotation were ~15 % of a small LLaMA's training step as two passes;
 * fused, the step is ~10 % faster). positions and theta as rope(). Throws when x is not 3-D, its last axis
 * does not split into H heads of an even size, or positions has neither T nor B·T entries.
 */
export function ropeHeads(x: Tensor, H: number, positions: Int32Array, theta = 10000): Tensor {
  if (x.ndim !== 3) throw new Error(`ropeHeads: input must be (B, T, H·hs), got [${x.shape}]`);
  const [B, T, C] = x.shape;
  const hs = C / H;
  if (!Number.isInteger(H) || H < 1 || !Number.isInteger(hs)) throw new Error(`ropeHeads: [${x.shape}] does not split into ${H} heads`);
  const { cos, sin, perRow } = batchTables('ropeHeads', positions, B, T, hs, theta);
  const d: HeadDims = { B, T, H, hs, perRow };
  const out = allocUninit(x.size);
  rotateIntoHeads(x.data, out, d, cos, sin);
  return Tensor.fromOp(out, [B, H, T, hs], [x], (o) => rotateFromHeads(o.grad!, x.gradBuf(), d, cos, sin));
}

interface HeadDims { B: number; T: number; H: number; hs: number; perRow: boolean }

/** Y (B, H, T, hs) = R(angle)·X (B, T, H·hs), written in Y's order */
function rotateIntoHeads(X: Float32Array, Y: Float32Array, d: HeadDims, cos: Float32Array, sin: Float32Array): void {
  const { B, T, H, hs, perRow } = d;
  const half = hs / 2, C = H * hs;
  let o = 0;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++, o += hs) {
        const src = (b * T + t) * C + h * hs, p = (perRow ? b * T + t : t) * half;
        for (let i = 0; i < half; i++) {
          const c = cos[p + i], s = sin[p + i], x1 = X[src + i], x2 = X[src + i + half];
          Y[o + i] = x1 * c - x2 * s;
          Y[o + i + half] = x2 * c + x1 * s;
        }
      }
    }
  }
}

/** the backward of rotateIntoHeads: GX (B, T, H·hs) += R(−angle)·G (B, H, T, hs) */
function rotateFromHeads(G: Float32Array, GX: Float32Array, d: HeadDims, cos: Float32Array, sin: Float32Array): void {
  const { B, T, H, hs, perRow } = d;
  const half = hs / 2, C = H * hs;
  // walk GX row by row (b, t, h): sequential read-modify-writes
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const p = (perRow ? b * T + t : t) * half;
      for (let h = 0; h < H; h++) {
        const o = ((b * H + h) * T + t) * hs, dst = (b * T + t) * C + h * hs;
        for (let i = 0; i < half; i++) {
          const c = cos[p + i], s = sin[p + i], g1 = G[o + i], g2 = G[o + i + half];
          GX[dst + i] += g1 * c + g2 * s;
          GX[dst + i + half] += g2 * c - g1 * s;
        }
      }
    }
  }
}
