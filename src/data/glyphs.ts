// Built-in image data: the digits 0–9 drawn from a 5×7 bitmap font this file writes, each image a fresh
// random variation — scaled into an S×S canvas (16×16 by default, 28×28 as MNIST), shifted, rotated, sheared,
// with random stroke thickness and Gaussian pixel noise — so that a classifier must learn the shapes rather
// than memorise pixels (in the spirit of LeCun et al. 1998's distortions of MNIST). Seeded: the same options
// give the same images. Browser-safe.
import { Rng } from '../tensor/rng.js';
import type { ImageSet } from './image-set.js';

/** the font: 7 rows of 5 cells per digit, '#' = ink */
const FONT: readonly string[][] = [
  ['.###.', '#...#', '#..##', '#.#.#', '##..#', '#...#', '.###.'],
  ['..#..', '.##..', '#.#..', '..#..', '..#..', '..#..', '#####'],
  ['.###.', '#...#', '....#', '...#.', '..#..', '.#...', '#####'],
  ['####.', '....#', '....#', '.###.', '....#', '....#', '####.'],
  ['...#.', '..##.', '.#.#.', '#..#.', '#####', '...#.', '...#.'],
  ['#####', '#....', '####.', '....#', '....#', '#...#', '.###.'],
  ['..##.', '.#...', '#....', '####.', '#...#', '#...#', '.###.'],
  ['#####', '....#', '...#.', '..#..', '.#...', '.#...', '.#...'],
  ['.###.', '#...#', '#...#', '.###.', '#...#', '#...#', '.###.'],
  ['.###.', '#...#', '#...#', '.####', '....#', '...#.', '.##..'],
];

/** ink cells of each digit as (column, row) centres in font units, origin at the glyph's centre */
const CELLS: readonly [number, number][][] = FONT.map((rows) => {
  const out: [number, number][] = [];
  rows.forEach((r, y) => [...r].forEach((ch, x) => ch === '#' && out.push([x - 2, y - 3])));
  return out;
});

export interface GlyphOptions {
  /** canvas side S in pixels (≥ 8; default 16) */
  size: number;
  /** standard deviation of additive pixel noise (default 0.08) */
  noise: number;
  /** largest shift in pixels either way (default size/10) */
  maxShift: number;
  /** largest rotation in radians either way (default 0.2) */
  maxRotation: number;
  /** largest horizontal shear either way (default 0.25) */
  maxShear: number;
  /** stroke radius range in font cells (default [0.45, 0.8]) */
  thickness: [number, number];
}

export const GLYPH_DEFAULTS: GlyphOptions = { size: 16, noise: 0.08, maxShift: NaN, maxRotation: 0.2, maxShear: 0.25, thickness: [0.45, 0.8] };

const uniform = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng.random();

/**
 * One image (S·S values in [0, 1], row-major) of `digit` with a random distortion drawn from `rng`: each
 * pixel's centre is mapped back into font units through the inverse of scale·rotation·shear + shift, and
 * its ink is a soft disc test against the glyph's cells (radius = stroke thickness).
 */
export function renderGlyph(digit: number, rng: Rng, o: GlyphOptions = GLYPH_DEFAULTS): Float32Array {
  if (!(Number.isInteger(digit) && digit >= 0 && digit <= 9)) throw new Error(`renderGlyph: digit must be 0–9, got ${digit}`);
  const S = o.size, maxShift = Number.isNaN(o.maxShift) ? S / 10 : o.maxShift;
  const scale = (S * 0.7) / 7 * uniform(rng, 0.85, 1.1); // pixels per font cell: the glyph fills ~70% of the height
  const rot = uniform(rng, -o.maxRotation, o.maxRotation), shear = uniform(rng, -o.maxShear, o.maxShear);
  const dx = uniform(rng, -maxShift, maxShift), dy = uniform(rng, -maxShift, maxShift);
  const r = uniform(rng, o.thickness[0], o.thickness[1]), soft = 0.35;
  const cos = Math.cos(rot), sin = Math.sin(rot), cells = CELLS[digit];
  const img = new Float32Array(S * S);
  for (let py = 0; py < S; py++) for (let px = 0; px < S; px++) {
    // pixel centre relative to the canvas centre and shift, then un-rotate, un-shear, un-scale
    const x0 = px + 0.5 - S / 2 - dx, y0 = py + 0.5 - S / 2 - dy;
    const xr = cos * x0 + sin * y0, yr = -sin * x0 + cos * y0;
    const fx = (xr - shear * yr) / scale, fy = yr / scale;
    let d = Infinity;
    for (const [cx, cy] of cells) d = Math.min(d, Math.hypot(fx - cx, fy - cy));
    let v = Math.min(1, Math.max(0, (r + soft / 2 - d) / soft));
    if (o.noise > 0) v = Math.min(1, Math.max(0, v + o.noise * rng.normal()));
    img[py * S + px] = v;
  }
  return img;
}

/** `perClass` images of each digit 0–9 in class order 0,1,…,9,0,1,… drawn from one seeded stream */
export function glyphImages(perClass: number, seed: number, opts: Partial<GlyphOptions> = {}): ImageSet {
  const o = { ...GLYPH_DEFAULTS, ...opts };
  if (!(Number.isInteger(o.size) && o.size >= 8)) throw new Error(`glyphs: size must be a whole number ≥ 8, got ${o.size}`);
  if (!(Number.isInteger(perClass) && perClass >= 1)) throw new Error(`glyphs: perClass must be a whole number ≥ 1, got ${perClass}`);
  const rng = new Rng(seed), N = perClass * 10, px = o.size * o.size;
  const images = new Float32Array(N * px), labels = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    labels[i] = i % 10;
    images.set(renderGlyph(i % 10, rng, o), i * px);
  }
  return { images, labels, height: o.size, width: o.size, classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] };
}

/** The built-in dataset: train and test sets drawn from different seeds (never the same image). */
export function glyphDataset(o: { trainPerClass?: number; testPerClass?: number; seed?: number } & Partial<GlyphOptions> = {}): { train: ImageSet; test: ImageSet } {
  const { trainPerClass = 200, testPerClass = 50, seed = 1, ...g } = o;
  return { train: glyphImages(trainPerClass, seed * 2 + 1, g), test: glyphImages(testPerClass, seed * 2 + 2, g) };
}
