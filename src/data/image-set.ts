// A labelled set of grayscale images held as one flat array, the shape every vision dataset here takes
// (built-in glyphs, a user's pixel CSV, GAN training data): images (N, H, W) row-major with values in [0, 1],
// one integer label per image indexing `classes`. Browser-safe.
import type { Rng } from '../tensor/rng.js';

export interface ImageSet {
  /** (N, H, W) row-major, values in [0, 1] */
  images: Float32Array;
  /** (N) class indices into `classes` */
  labels: Int32Array;
  height: number;
  width: number;
  /** class names, e.g. '0' … '9' */
  classes: string[];
}

/** the number of images in a set */
export const imageCount = (s: ImageSet): number => s.labels.length;

/** the images at `rows`, in that order (copies) */
export function subsetImages(s: ImageSet, rows: ArrayLike<number>): ImageSet {
  const px = s.height * s.width, images = new Float32Array(rows.length * px), labels = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    images.set(s.images.subarray(rows[i] * px, (rows[i] + 1) * px), i * px);
    labels[i] = s.labels[rows[i]];
  }
  return { images, labels, height: s.height, width: s.width, classes: s.classes.slice() };
}

/** 0 … n−1 in a seeded random order (Fisher–Yates) */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/**
 * Splits a set into train and test parts after a seeded shuffle; `testFraction` in [0, 1) of the images
 * (rounded down) go to test. Throws when the training part would be empty.
 */
export function splitImages(s: ImageSet, testFraction: number, rng: Rng): { train: ImageSet; test: ImageSet } {
  if (!(testFraction >= 0 && testFraction < 1)) throw new Error(`test fraction must be in [0, 1), got ${testFraction}`);
  const p = permutation(imageCount(s), rng), nTest = Math.floor(p.length * testFraction);
  if (p.length - nTest < 1) throw new Error('split: no training images left');
  return { train: subsetImages(s, p.subarray(nTest)), test: subsetImages(s, p.subarray(0, nTest)) };
}

/** per-class counts of a set's labels */
export function classCounts(s: ImageSet): number[] {
  const c = new Array<number>(s.classes.length).fill(0);
  for (const l of s.labels) c[l]++;
  return c;
}
