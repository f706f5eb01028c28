// A small seedable generator whose whole state is two numbers, so that a checkpoint can store it and a
// resumed run continues the exact same trajectory. xorshift128+ over 32-bit halves (xoroshiro-style mixing
// is unnecessary here: we need reproducibility, not cryptographic quality).

/**
 * The largest seed: a seed is taken as a 32-bit unsigned integer (`seed >>> 0`), so 0 … 2^32 − 1 are the seeds
 * the generator tells apart; every --seed flag is refused outside them rather than wrapped silently.
 */
export const SEED_MAX = 2 ** 32 - 1;

export interface RngState {
  s: [number, number, number, number];
  /** a cached second Box–Muller normal, or null */
  spare: number | null;
}

export class Rng {
  private s = new Uint32Array(4);
  private spare: number | null = null;

  constructor(seed = 1337) {
    this.seed(seed);
  }

  seed(seed: number): void {
    // splitmix32 spreads any integer seed over the four state words
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
    this.spare = null;
  }

  /** xoshiro128** — a uniform 32-bit unsigned integer */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** uniform in [0, 1) with 32 bits of resolution */
  random(): number {
    return this.nextU32() / 4294967296;
  }

  /** uniform integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** standard normal (Box–Muller) */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  getState(): RngState {
    return { s: [this.s[0], this.s[1], this.s[2], this.s[3]], spare: this.spare };
  }

  setState(st: RngState): void {
    for (let i = 0; i < 4; i++) this.s[i] = st.s[i] >>> 0;
    this.spare = st.spare;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
