// A token stream split by position into train/dev/test (nanoGPT splits shakespeare_char 90/10 by position),
// and random B×T windows from one split: x = tokens[i .. i+T), y = tokens[i+1 .. i+T].
import type { Rng } from '../tensor/rng.js';

export interface SplitFractions {
  train: number;
  dev: number;
  test: number;
}

export interface TokenSplits {
  train: Int32Array;
  dev: Int32Array;
  test: Int32Array;
}

export function parseSplit(spec: string): SplitFractions {
  const parts = spec.split('/').map(Number);
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !Number.isFinite(p) || p < 0)) {
    throw new Error(`--split must look like 90/5/5 or 90/10 (train/dev[/test] percentages), got "${spec}"`);
  }
  const [train, dev, test = 0] = parts;
  const total = train + dev + test;
  if (total <= 0 || train === 0) throw new Error(`--split "${spec}" leaves no training data`);
  if (total > 100 + 1e-9) throw new Error(`--split "${spec}": the parts add up to ${total}, more than 100 percent`);
  return { train: train / total, dev: dev / total, test: test / total };
}

export function splitTokens(tokens: Int32Array, f: SplitFractions): TokenSplits {
  const n = tokens.length;
  const a = Math.floor(n * f.train);
  // with no test share, dev takes the rounding remainder (so 90/10 leaves no 1-token test split)
  const b = f.test === 0 ? n : a + Math.floor(n * f.dev);
  return { train: tokens.subarray(0, a), dev: tokens.subarray(a, b), test: tokens.subarray(b) };
}

export interface Batch {
  x: Int32Array;
  y: Int32Array;
  B: number;
  T: number;
}

/** B random windows of T+1 tokens from data */
export function randomBatch(data: Int32Array, B: number, T: number, rng: Rng): Batch {
  if (data.length < T + 1) {
    throw new Error(`a split of ${data.length} tokens is too short for the block size ${T} (needs at least ${T + 1})`);
  }
  const x = new Int32Array(B * T), y = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const i = rng.int(data.length - T);
    x.set(data.subarray(i, i + T), b * T);
    y.set(data.subarray(i + 1, i + T + 1), b * T);
  }
  return { x, y, B, T };
}
