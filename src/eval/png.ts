// Images out, as PNG bytes: an 8-bit grayscale or RGB raster encoded with fast-png, an image grid in the manner
// of torchvision.utils.make_grid (N images side by side, k per row, with a border, values scaled from
// [min, max] to 0…255), and a heatmap (a matrix through a viridis-like colour map). Browser-safe: everything
// returns a Uint8Array; writing it to disk is the caller's business.
//
//   const png = gridPNG({ data: x.data, shape: [16, 1, 28, 28] }, { perRow: 4 });   // 4×4 digits
//   const hm = heatmapPNG({ data: att, shape: [T, T] }, { range: [0, 1], cell: 8 });  // attention map
import { encode } from 'fast-png';

/** An 8-bit raster, rows top to bottom, channels interleaved (gray, or R G B). */
export interface Raster {
  width: number;
  height: number;
  channels: 1 | 3;
  /** width·height·channels bytes */
  data: Uint8Array;
}

/** A float array with its shape, e.g. a Tensor. */
export interface Array2D {
  data: ArrayLike<number>;
  shape: readonly number[];
}

/** Encodes a raster as a PNG file (8 bits per channel, no alpha). Throws when data has the wrong length. */
export function encodePNG(img: Raster): Uint8Array {
  const { width, height, channels, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`encodePNG: size must be positive integers, got ${width}×${height}`);
  }
  if (channels !== 1 && channels !== 3) throw new Error(`encodePNG: channels must be 1 or 3, got ${channels}`);
  if (data.length !== width * height * channels) {
    throw new Error(`encodePNG: data has ${data.length} bytes, ${width}×${height}×${channels} needs ${width * height * channels}`);
  }
  return encode({ width, height, data, channels, depth: 8 });
}

/** [min, max] of the finite values (or [0, 1] when there are none) */
function finiteRange(data: ArrayLike<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (Number.isFinite(v)) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/** v scaled from [lo, hi] to [0, 1] and clamped; a flat range maps everything to 0; NaN gives NaN */
const unit = (v: number, lo: number, hi: number): number => (hi > lo ? Math.min(1, Math.max(0, (v - lo) / (hi - lo))) : 0);

export interface GridOptions {
  /** images per row (default ceil(√N)) */
  perRow?: number;
  /** pixels of border around and between images (default 2) */
  border?: number;
  /** border grey level 0…255 (default 255, white) */
  borderValue?: number;
  /** values mapped to 0 and 255 (clamped); default the data's finite min and max */
  range?: [number, number];
}

/** the images' count, channels, height and width from (N, H, W), (N, 1, H, W) or (N, 3, H, W) */
function gridShape(shape: readonly number[]): [number, 1 | 3, number, number] {
  if (shape.length === 3) return [shape[0], 1, shape[1], shape[2]];
  if (shape.length === 4 && (shape[1] === 1 || shape[1] === 3)) return [shape[0], shape[1] as 1 | 3, shape[2], shape[3]];
  throw new Error(`imageGrid: images must be (N, H, W) or (N, 1|3, H, W), got shape [${shape}]`);
}

/**
 * Lays out N images (N, H, W) grayscale or (N, C, H, W) with C = 1 or 3 (planar, as NCHW tensors) in a grid
 * of perRow columns with `border` pixels around and between them, as torchvision's make_grid does.
 * Values are scaled from `range` to 0…255; non-finite values show as 0. Throws on a bad shape or options.
 */
export function imageGrid(images: Array2D, opts: GridOptions = {}): Raster {
  const [N, C, H, W] = gridShape(images.shape);
  if (images.data.length !== N * C * H * W) throw new Error(`imageGrid: data has ${images.data.length} values, shape [${images.shape}] needs ${N * C * H * W}`);
  if (N < 1) throw new Error('imageGrid: no images');
  const k = opts.perRow ?? Math.ceil(Math.sqrt(N)), b = opts.border ?? 2;
  if (!Number.isInteger(k) || k < 1) throw new Error(`imageGrid: perRow must be a positive integer, got ${k}`);
  if (!Number.isInteger(b) || b < 0) throw new Error(`imageGrid: border must be an integer ≥ 0, got ${b}`);
  const [lo, hi] = opts.range ?? finiteRange(images.data);
  const rows = Math.ceil(N / k), width = k * W + (k + 1) * b, height = rows * H + (rows + 1) * b;
  const out = new Uint8Array(width * height * C).fill(Math.round(opts.borderValue ?? 255));
  for (let n = 0; n < N; n++) {
    const x0 = b + (n % k) * (W + b), y0 = b + Math.floor(n / k) * (H + b);
    for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const v = unit(images.data[((n * C + c) * H + y) * W + x], lo, hi);
      out[((y0 + y) * width + x0 + x) * C + c] = Number.isNaN(v) ? 0 : Math.round(v * 255);
    }
  }
  return { width, height, channels: C, data: out };
}

// close to matplotlib's viridis (van der Walt & Smith 2015) at 0, 1/8, …, 1 (within a few levels per channel);
// colours between are linear blends
const VIRIDIS: readonly [number, number, number][] = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

/** the viridis-like colour of t in [0, 1] (clamped) as [r, g, b] bytes */
export function viridis(t: number): [number, number, number] {
  const s = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(s)), f = s - i;
  const a = VIRIDIS[i], c = VIRIDIS[i + 1];
  return [0, 1, 2].map((j) => Math.round(a[j] + (c[j] - a[j]) * f)) as [number, number, number];
}

export interface HeatmapOptions {
  /** values mapped to the ends of the colour map (clamped); default the matrix's finite min and max */
  range?: [number, number];
  /** pixels per matrix cell, a square (default 1) */
  cell?: number;
}

/**
 * A matrix (rows, cols) as an RGB raster: each cell a cell×cell square coloured by viridis over `range`
 * (low dark purple, high yellow); non-finite values are mid grey. Row 0 is at the top.
 */
export function heatmap(matrix: Array2D, opts: HeatmapOptions = {}): Raster {
  if (matrix.shape.length !== 2) throw new Error(`heatmap: matrix must be (rows, cols), got shape [${matrix.shape}]`);
  const [R, Cc] = matrix.shape, s = opts.cell ?? 1;
  if (matrix.data.length !== R * Cc) throw new Error(`heatmap: data has ${matrix.data.length} values, shape [${matrix.shape}] needs ${R * Cc}`);
  if (!Number.isInteger(s) || s < 1) throw new Error(`heatmap: cell must be a positive integer, got ${s}`);
  const [lo, hi] = opts.range ?? finiteRange(matrix.data);
  const width = Cc * s, height = R * s, out = new Uint8Array(width * height * 3);
  for (let r = 0; r < R; r++) for (let c = 0; c < Cc; c++) {
    const v = matrix.data[r * Cc + c];
    const rgb = Number.isFinite(v) ? viridis(unit(v, lo, hi)) : [128, 128, 128];
    for (let y = r * s; y < (r + 1) * s; y++) for (let x = c * s; x < (c + 1) * s; x++) out.set(rgb, (y * width + x) * 3);
  }
  return { width, height, channels: 3, data: out };
}

/** imageGrid, encoded as PNG bytes */
export const gridPNG = (images: Array2D, opts: GridOptions = {}): Uint8Array => encodePNG(imageGrid(images, opts));

/** heatmap, encoded as PNG bytes */
export const heatmapPNG = (matrix: Array2D, opts: HeatmapOptions = {}): Uint8Array => encodePNG(heatmap(matrix, opts));
