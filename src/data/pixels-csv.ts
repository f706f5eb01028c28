// A user's images as CSV: one image a row, a label and H·W grey values (MNIST-style CSV puts the label first;
// scikit-learn's digits CSV puts it last — `labelColumn` says which). A header row (any cell not a number)
// is skipped. The image side comes from `imageSize` or is inferred from the row width (H = W = √(width − 1)).
// Pixel values are scaled to [0, 1] by the largest value in the file (16 for the UCI digits, 255 for MNIST)
// unless `maxValue` is given. Every error is one line naming file:line. Browser-safe.
import type { ImageSet } from './image-set.js';
import { maxOf } from '../tensor/max-of.js';

export interface PixelsCSVOptions {
  /** square image side; default inferred from the row width */
  imageSize?: number;
  /** where the label is (default 'first') */
  labelColumn?: 'first' | 'last';
  /** the value that maps to 1 (default the file's largest pixel value, or 1 when that is ≤ 1) */
  maxValue?: number;
  /** class names of a trained model: labels must index them (prediction); default 0 … largest label */
  classes?: readonly string[];
}

/** the data rows of a CSV text as [line number, cells], skipping blank lines and a header row */
function csvRows(text: string, file: string): [number, string[]][] {
  const rows: [number, string[]][] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const cells = line.split(',').map((c) => c.trim());
    if (rows.length === 0 && i === 0 && cells.some((c) => c === '' || !Number.isFinite(Number(c)))) return; // header
    rows.push([i + 1, cells]);
  });
  if (!rows.length) throw new Error(`${file}: no data rows (expected label + pixel values per row)`);
  return rows;
}

/** the image side for rows of `width` cells: the option, checked, or √(width − 1) */
function imageSide(width: number, o: PixelsCSVOptions, where: string): number {
  if (o.imageSize !== undefined) {
    if (!(Number.isInteger(o.imageSize) && o.imageSize >= 1)) throw new Error(`image size must be a whole number ≥ 1, got ${o.imageSize}`);
    if (width !== 1 + o.imageSize * o.imageSize) throw new Error(`${where}: ${width - 1} pixel values, but --image-size ${o.imageSize} needs ${o.imageSize * o.imageSize} (plus the label)`);
    return o.imageSize;
  }
  const s = Math.round(Math.sqrt(width - 1));
  if (width < 2 || s * s !== width - 1) throw new Error(`${where}: ${width - 1} pixel values is not a square image (give --image-size, or H·W values plus the label)`);
  return s;
}

/** Parses pixel CSV text (see the file comment); `file` names the source in errors. */
export function parsePixelsCSV(text: string, file: string, o: PixelsCSVOptions = {}): ImageSet {
  const rows = csvRows(text, file);
  const width = rows[0][1].length, side = imageSide(width, o, `${file}:${rows[0][0]}`), px = side * side;
  const images = new Float32Array(rows.length * px), labels = new Int32Array(rows.length);
  const labelAt = o.labelColumn === 'last' ? width - 1 : 0, pix0 = o.labelColumn === 'last' ? 0 : 1;
  let top = 0;
  rows.forEach(([line, cells], r) => {
    if (cells.length !== width) throw new Error(`${file}:${line}: ${cells.length} values, expected ${width} (label + ${px} pixels) as in line ${rows[0][0]}`);
    const lab = Number(cells[labelAt]);
    if (!(Number.isInteger(lab) && lab >= 0)) throw new Error(`${file}:${line}: label ${JSON.stringify(cells[labelAt])} is not a whole number ≥ 0`);
    if (o.classes && lab >= o.classes.length) throw new Error(`${file}:${line}: label ${lab} is outside the model's label set 0–${o.classes.length - 1}`);
    labels[r] = lab;
    for (let j = 0; j < px; j++) {
      const v = Number(cells[pix0 + j]);
      if (cells[pix0 + j] === '' || !Number.isFinite(v) || v < 0) throw new Error(`${file}:${line}: pixel ${j + 1} is ${JSON.stringify(cells[pix0 + j])}, expected a number ≥ 0`);
      images[r * px + j] = v;
      top = Math.max(top, v);
    }
  });
  const scale = o.maxValue ?? (top > 1 ? top : 1);
  for (let i = 0; i < images.length; i++) images[i] = Math.min(1, images[i] / scale);
  const nClasses = o.classes ? o.classes.length : maxOf(labels) + 1;
  const classes = o.classes ? o.classes.slice() : Array.from({ length: nClasses }, (_, k) => String(k));
  return { images, labels, height: side, width: side, classes };
}

/** Throws `file: class "3" has no examples` for the first class without an image (training data). */
export function checkClassesPresent(s: ImageSet, file: string): void {
  const seen = new Array<boolean>(s.classes.length).fill(false);
  for (const l of s.labels) seen[l] = true;
  const k = seen.indexOf(false);
  if (k >= 0) throw new Error(`${file}: class "${s.classes[k]}" has no examples (labels must be 0 … ${s.classes.length - 1}, each used)`);
  if (s.classes.length < 2) throw new Error(`${file}: a classifier needs at least 2 classes, found ${s.classes.length}`);
}
