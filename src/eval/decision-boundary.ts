// A classifier's decision regions over the plane, as TensorFlow Playground shows them: every pixel of an
// S×S image is a point of the plane, coloured by its predicted class — pale where the classifier is unsure,
// deep where it is confident — with the data points drawn on top as discs in their true class's colour and a
// dark rim. Browser-safe: returns a Raster or PNG bytes.
import { encodePNG, type Raster } from './png.js';

/** class colours (Playground's orange and blue first) */
export const CLASS_COLOURS: readonly [number, number, number][] = [
  [245, 147, 34], [8, 119, 189], [46, 160, 67], [200, 40, 90], [130, 80, 190], [120, 120, 120], [20, 170, 170], [180, 160, 20],
];

/** class probabilities (M, C) row-major of M points (M, 2) row-major */
export type PointClassifier = (points: Float32Array) => Float32Array;

export interface BoundaryOptions {
  /** image side in pixels (default 256) */
  size?: number;
  /** plane window [x0, x1, y0, y1] (default the data's bounds, padded by 10% and made square) */
  extent?: [number, number, number, number];
  /** data point radius in pixels (default 3; 0 draws none) */
  radius?: number;
}

/** the data's bounding square, padded by 10% on each side */
export function dataExtent(points: Float32Array): [number, number, number, number] {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < points.length; i += 2) (x0 = Math.min(x0, points[i])), (x1 = Math.max(x1, points[i])), (y0 = Math.min(y0, points[i + 1])), (y1 = Math.max(y1, points[i + 1]));
  if (!(x1 >= x0)) return [-1, 1, -1, 1];
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, h = (Math.max(x1 - x0, y1 - y0, 1e-6) / 2) * 1.2;
  return [cx - h, cx + h, cy - h, cy + h];
}

/** paints the class regions: colour of the argmax class, blended with white by 1 − confidence */
function paintRegions(predict: PointClassifier, classes: number, S: number, e: number[], out: Uint8Array): void {
  const grid = new Float32Array(S * S * 2);
  for (let py = 0; py < S; py++) for (let px = 0; px < S; px++) {
    grid[2 * (py * S + px)] = e[0] + ((px + 0.5) / S) * (e[1] - e[0]);
    grid[2 * (py * S + px) + 1] = e[3] - ((py + 0.5) / S) * (e[3] - e[2]);
  }
  const probs = predict(grid);
  if (probs.length !== S * S * classes) throw new Error(`decision boundary: the classifier gave ${probs.length} probabilities for ${S * S} points × ${classes} classes`);
  for (let i = 0; i < S * S; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[i * classes + c] > probs[i * classes + best]) best = c;
    const conf = Math.max(0, (probs[i * classes + best] - 1 / classes) / (1 - 1 / classes)), a = 0.2 + 0.6 * conf;
    const col = CLASS_COLOURS[best % CLASS_COLOURS.length];
    for (let ch = 0; ch < 3; ch++) out[3 * i + ch] = Math.round(255 * (1 - a) + col[ch] * a);
  }
}

/** draws each point as a disc of `r` pixels in its class colour with a dark rim */
function drawPoints(points: Float32Array, labels: ArrayLike<number>, S: number, e: number[], r: number, out: Uint8Array): void {
  for (let i = 0; i < labels.length; i++) {
    const cx = ((points[2 * i] - e[0]) / (e[1] - e[0])) * S, cy = ((e[3] - points[2 * i + 1]) / (e[3] - e[2])) * S;
    const col = CLASS_COLOURS[labels[i] % CLASS_COLOURS.length];
    for (let y = Math.floor(cy - r - 1); y <= cy + r + 1; y++) for (let x = Math.floor(cx - r - 1); x <= cx + r + 1; x++) {
      if (x < 0 || y < 0 || x >= S || y >= S) continue;
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      if (d > r + 0.5) continue;
      const rim = d > r - 0.7;
      for (let ch = 0; ch < 3; ch++) out[3 * (y * S + x) + ch] = rim ? 40 : col[ch];
    }
  }
}

/**
 * The decision-region image (RGB, size × size) of `predict` for `classes` classes, with `points` (N, 2) and
 * their `labels` (N) drawn on top. Throws when the classifier returns the wrong number of values.
 */
export function decisionBoundary(predict: PointClassifier, classes: number, points: Float32Array, labels: ArrayLike<number>, o: BoundaryOptions = {}): Raster {
  const S = o.size ?? 256, e = o.extent ?? dataExtent(points);
  if (!(Number.isInteger(S) && S >= 8)) throw new Error(`decision boundary: size must be a whole number ≥ 8, got ${S}`);
  if (points.length !== labels.length * 2) throw new Error(`decision boundary: ${points.length / 2} points but ${labels.length} labels`);
  const data = new Uint8Array(S * S * 3);
  paintRegions(predict, classes, S, e, data);
  if ((o.radius ?? 3) > 0) drawPoints(points, labels, S, e, o.radius ?? 3, data);
  return { width: S, height: S, channels: 3, data };
}

/** decisionBoundary as PNG bytes */
export const decisionBoundaryPNG = (predict: PointClassifier, classes: number, points: Float32Array, labels: ArrayLike<number>, o: BoundaryOptions = {}): Uint8Array =>
  encodePNG(decisionBoundary(predict, classes, points, labels, o));
