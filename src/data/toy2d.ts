// Two-dimensional toy classification sets, seeded, as TensorFlow Playground and scikit-learn's make_moons /
// make_circles draw them: two moons, two circles, K interleaved spirals, XOR (four quadrants) and K Gaussian
// blobs. Points are (N, 2) row-major, roughly within [−1.5, 1.5]², labels (N) in 0 … classes−1; classes
// take turns, so any prefix is balanced. Browser-safe.
import { Rng } from '../tensor/rng.js';

export const TOY2D_NAMES = ['moons', 'circles', 'spirals', 'xor', 'blobs'] as const;
export type Toy2dName = (typeof TOY2D_NAMES)[number];

export interface Toy2d {
  /** (N, 2) row-major */
  points: Float32Array;
  /** (N) class indices */
  labels: Int32Array;
  classes: number;
  name: string;
}

export interface Toy2dOptions {
  /** points in all (default 300) */
  n?: number;
  /** standard deviation of Gaussian jitter (default per set) */
  noise?: number;
  seed?: number;
  /** spirals and blobs: number of classes (default 2 spirals, 3 blobs) */
  classes?: number;
}

type Draw = (label: number, rng: Rng, classes: number) => [number, number];

/** one noiseless point of class `label` for each set, before jitter */
const DRAW: Record<Toy2dName, Draw> = {
  moons: (l, rng) => {
    const t = Math.PI * rng.random();
    return l === 0 ? [Math.cos(t) - 0.5, Math.sin(t) - 0.25] : [0.5 - Math.cos(t), 0.25 - Math.sin(t)];
  },
  circles: (l, rng) => {
    const t = 2 * Math.PI * rng.random(), r = l === 0 ? 1.2 : 0.5;
    return [r * Math.cos(t), r * Math.sin(t)];
  },
  spirals: (l, rng, K) => {
    const s = rng.random(), r = 0.1 + 1.3 * s, t = 1.25 * 2 * Math.PI * s + (2 * Math.PI * l) / K;
    return [r * Math.cos(t), r * Math.sin(t)];
  },
  xor: (l, rng) => {
    const a = 0.1 + 1.1 * rng.random(), b = 0.1 + 1.1 * rng.random(), sa = rng.random() < 0.5 ? 1 : -1;
    return [sa * a, (l === 0 ? sa : -sa) * b]; // class 0: same signs, class 1: opposite signs
  },
  blobs: (l, _rng, K) => {
    const t = (2 * Math.PI * l) / K;
    return [Math.cos(t), Math.sin(t)];
  },
};

const NOISE: Record<Toy2dName, number> = { moons: 0.1, circles: 0.08, spirals: 0.04, xor: 0.05, blobs: 0.25 };

/** The named set; throws for an unknown name or bad sizes. */
export function toy2d(name: string, o: Toy2dOptions = {}): Toy2d {
  if (!(TOY2D_NAMES as readonly string[]).includes(name)) throw new Error(`dataset must be one of ${TOY2D_NAMES.join(', ')}, got "${name}"`);
  const nm = name as Toy2dName, n = o.n ?? 300;
  const K = nm === 'spirals' ? o.classes ?? 2 : nm === 'blobs' ? o.classes ?? 3 : 2;
  if (o.classes !== undefined && o.classes !== K) throw new Error(`${name} has 2 classes; only spirals and blobs take another count`);
  if (!(Number.isInteger(n) && n >= K)) throw new Error(`${name}: n must be a whole number ≥ ${K}, got ${n}`);
  if (!(Number.isInteger(K) && K >= 2 && K <= 8)) throw new Error(`${name}: classes must be 2–8, got ${K}`);
  const noise = o.noise ?? NOISE[nm];
  if (!(noise >= 0)) throw new Error(`${name}: noise must be ≥ 0, got ${noise}`);
  const rng = new Rng(o.seed ?? 1), points = new Float32Array(n * 2), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const l = i % K, [x, y] = DRAW[nm](l, rng, K);
    labels[i] = l;
    points[2 * i] = x + noise * rng.normal();
    points[2 * i + 1] = y + noise * rng.normal();
  }
  return { points, labels, classes: K, name };
}

export interface RingOptions {
  /** modes on the circle (default 8) */
  modes?: number;
  /** circle radius (default 2) */
  radius?: number;
  /** each mode's standard deviation (default 0.05) */
  sigma?: number;
  seed?: number;
}

/** the centres (K, 2) of a ring of K Gaussians, mode k at angle 2πk/K */
export function ringCentres(modes = 8, radius = 2): Float32Array {
  const c = new Float32Array(modes * 2);
  for (let k = 0; k < modes; k++) (c[2 * k] = radius * Math.cos((2 * Math.PI * k) / modes)), (c[2 * k + 1] = radius * Math.sin((2 * Math.PI * k) / modes));
  return c;
}

/**
 * n points from a ring of Gaussians — the GAN mode-collapse benchmark of Metz et al. 2017 (8 modes, radius
 * 2) — labelled by their mode; modes take turns.
 */
export function gaussianRing(n: number, o: RingOptions = {}): Toy2d {
  const K = o.modes ?? 8, sigma = o.sigma ?? 0.05, c = ringCentres(K, o.radius ?? 2), rng = new Rng(o.seed ?? 1);
  if (!(Number.isInteger(n) && n >= 1) || !(Number.isInteger(K) && K >= 1) || !(sigma > 0)) throw new Error(`ring: needs n ≥ 1, modes ≥ 1, sigma > 0 (got ${n}, ${K}, ${sigma})`);
  const points = new Float32Array(n * 2), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % K;
    points[2 * i] = c[2 * labels[i]] + sigma * rng.normal();
    points[2 * i + 1] = c[2 * labels[i] + 1] + sigma * rng.normal();
  }
  return { points, labels, classes: K, name: `ring${K}` };
}
