// word2vec's training loop in f32x4: the fast path of src/embeddings/word2vec.ts (the reference, whose header
// gives the method: Mikolov et al. 2013, the original tool's TrainModelThread). One call trains on the tokens
// ids[start, end) sentence by sentence, as the reference's loop does, and returns after the sentence that
// reaches `maxWords` tokens read, so the caller can report progress and (on threads) refresh the learning rate.
// The random stream is the reference's generator (src/tensor/rng.ts, xoshiro128**), its state in memory, so one
// thread draws exactly the reference's numbers; the sums of the dot products run in another order (4 lanes), so
// the vectors agree with the reference's to float rounding, not bit for bit.
//
// Memory (byte offsets; the caller owns the layout): syn0, syn1 [V, dim] f32; table [tableLen] i32 (unigram^0.75
// noise); keep [V] f64 (subsampling); ids [N] i32 (0 ends a sentence); sig [1000] f32 (σ on [−6, 6]); scratch:
// sen [1000] i32, neu1 [dim] f32, neu1e [dim] f32, then the generator's state, 4 × u32.

const MAX_EXP: f64 = 6;
const EXP_SCALE: f64 = 1000 / (2 * MAX_EXP);
const MAX_SENTENCE: i32 = 1000;

@inline function f32At(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** xoshiro128** as Rng.nextU32, on the state at `s`; uniform in [0, 1) as Rng.random */
@inline function random(s: usize): f64 {
  const s0 = load<u32>(s), s1 = load<u32>(s, 4), s2 = load<u32>(s, 8), s3 = load<u32>(s, 12);
  const result = rotl<u32>(s1 * 5, 7) * 9;
  const t = s1 << 9;
  const n2 = s2 ^ s0, n3 = s3 ^ s1;
  const n1 = s1 ^ n2, n0 = s0 ^ n3;
  store<u32>(s, n0);
  store<u32>(s, n1, 4);
  store<u32>(s, n2 ^ t, 8);
  store<u32>(s, rotl<u32>(n3, 11), 12);
  return <f64>result / 4294967296.0;
}

/** x[0 .. n) · y[0 .. n) */
@inline function dot(x: usize, y: usize, n: i32): f64 {
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(f32At(x, j)), v128.load(f32At(y, j))));
  let s: f32 = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (; j < n; j++) s += load<f32>(f32At(x, j)) * load<f32>(f32At(y, j));
  return <f64>s;
}

/** y[0 .. n) += x[0 .. n) */
@inline function addRow(y: usize, x: usize, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) v128.store(f32At(y, j), f32x4.add(v128.load(f32At(y, j)), v128.load(f32At(x, j))));
  for (; j < n; j++) store<f32>(f32At(y, j), load<f32>(f32At(y, j)) + load<f32>(f32At(x, j)));
}

@inline function zeroRow(y: usize, n: i32): void {
  memory.fill(y, 0, <usize>n << 2);
}

/** the positive pair (input, word) and `negative` noise words: output rows updated, the input's step summed in neu1e */
function negativeSampling(
  input: usize, word: i32, syn1: usize, table: usize, tableLen: i32, sig: usize, neu1e: usize, rng: usize,
  dim: i32, negative: i32, alpha: f64,
): void {
  for (let d = 0; d <= negative; d++) {
    let target = word;
    let label: f64 = 1;
    if (d > 0) {
      target = load<i32>(table + (<usize>(<i32>(random(rng) * <f64>tableLen)) << 2));
      if (target === word) continue;
      label = 0;
    }
    const l2 = syn1 + (<usize>target * <usize>dim << 2);
    const f = dot(input, l2, dim);
    const g = f >= MAX_EXP ? (label - 1) * alpha : f < -MAX_EXP ? label * alpha : (label - <f64>load<f32>(f32At(sig, <i32>((f + MAX_EXP) * EXP_SCALE)))) * alpha;
    const gf = <f32>g, gv = f32x4.splat(gf);
    let j = 0;
    for (; j + 4 <= dim; j += 4) {
      const c = v128.load(f32At(l2, j));
      v128.store(f32At(neu1e, j), f32x4.add(v128.load(f32At(neu1e, j)), f32x4.mul(gv, c)));
      v128.store(f32At(l2, j), f32x4.add(c, f32x4.mul(gv, v128.load(f32At(input, j)))));
    }
    for (; j < dim; j++) {
      const c = load<f32>(f32At(l2, j));
      store<f32>(f32At(neu1e, j), load<f32>(f32At(neu1e, j)) + gf * c);
      store<f32>(f32At(l2, j), c + gf * load<f32>(f32At(input, j)));
    }
  }
}

/**
 * Trains on ids[start, end) until the sentence that brings the tokens read to `maxWords` is done; returns the
 * position reached. The learning rate of each sentence is alpha0·max(1e-4, 1 − done/(total + 1)) with done =
 * doneBase + doneScale · (tokens read in this call), as the reference's (doneScale 1) or, with T threads each
 * reading its own part, an estimate of all threads' progress (doneScale T), as the original's shared counter.
 * method 0 = skip-gram, 1 = CBOW.
 */
export function word2vecTrain(
  method: i32, syn0: usize, syn1: usize, table: usize, tableLen: i32, keep: usize, ids: usize, start: i32, end: i32,
  dim: i32, window: i32, negative: i32, alpha0: f64, doneBase: f64, doneScale: f64, total: f64, sig: usize,
  scratch: usize, maxWords: i32,
): i32 {
  const sen = scratch, neu1 = sen + (<usize>MAX_SENTENCE << 2), neu1e = neu1 + (<usize>dim << 2), rng = neu1e + (<usize>dim << 2);
  let pos = start, read = 0;
  while (pos < end && read < maxWords) {
    const done = doneBase + doneScale * <f64>read;
    const alpha = alpha0 * max<f64>(1e-4, 1 - done / (total + 1));
    let len = 0;
    while (pos < end && len < MAX_SENTENCE) {
      const w = load<i32>(ids + (<usize>pos << 2));
      pos++;
      read++;
      if (w === 0) break;
      const k = load<f64>(keep + (<usize>w << 3));
      if (k < 1 && k < random(rng)) continue;
      store<i32>(sen + (<usize>len << 2), w);
      len++;
    }
    for (let p = 0; p < len; p++) {
      const word = load<i32>(sen + (<usize>p << 2));
      const b = <i32>(random(rng) * <f64>window);
      if (method === 0) {
        for (let a = b; a < window * 2 + 1 - b; a++) {
          if (a === window) continue;
          const c = p - window + a;
          if (c < 0 || c >= len) continue;
          const l1 = syn0 + (<usize>load<i32>(sen + (<usize>c << 2)) * <usize>dim << 2);
          zeroRow(neu1e, dim);
          negativeSampling(l1, word, syn1, table, tableLen, sig, neu1e, rng, dim, negative, alpha);
          addRow(l1, neu1e, dim);
        }
      } else {
        const lo = max<i32>(0, p - window + b), hi = min<i32>(len - 1, p + window - b);
        zeroRow(neu1, dim);
        let cw = 0;
        for (let c = lo; c <= hi; c++) {
          if (c === p) continue;
          addRow(neu1, syn0 + (<usize>load<i32>(sen + (<usize>c << 2)) * <usize>dim << 2), dim);
          cw++;
        }
        if (cw === 0) continue;
        const inv = <f32>cw;
        for (let j = 0; j < dim; j++) store<f32>(f32At(neu1, j), load<f32>(f32At(neu1, j)) / inv);
        zeroRow(neu1e, dim);
        negativeSampling(neu1, word, syn1, table, tableLen, sig, neu1e, rng, dim, negative, alpha);
        for (let c = lo; c <= hi; c++) {
          if (c === p) continue;
          addRow(syn0 + (<usize>load<i32>(sen + (<usize>c << 2)) * <usize>dim << 2), neu1e, dim);
        }
      }
    }
  }
  return pos;
}

/** scratch bytes word2vecTrain needs per thread for vectors of `dim` */
export function word2vecScratchBytes(dim: i32): i32 {
  return (MAX_SENTENCE << 2) + (dim << 3) + 16;
}
