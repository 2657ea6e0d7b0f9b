/**
 * A small seeded pseudo-random generator, so a simulated fleet replays exactly from its seed.
 *
 * mulberry32 (Tommy Ettinger, public domain): a 32-bit state advanced by a Weyl increment and
 * mixed with two multiply-xorshift rounds; period 2^32, good enough for simulation noise.
 * Gaussian draws use the Box-Muller transform (Box & Muller, 1958), caching the second value.
 */
export interface Prng {
  /** uniform in [0, 1) */
  next(): number;
  /** uniform in [min, max) */
  uniform(min: number, max: number): number;
  /** an integer in [min, max] */
  int(min: number, max: number): number;
  /** normal with the given mean and standard deviation */
  gaussian(mean?: number, sd?: number): number;
  /** true with probability p */
  chance(p: number): boolean;
  /** the current state, to snapshot and resume the stream */
  state(): number;
}

export function createPrng(seed: number, resumeState?: number): Prng {
  let s = (resumeState ?? seed) >>> 0;
  let spareGaussian: number | undefined;

  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  return {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    gaussian(mean = 0, sd = 1) {
      if (spareGaussian !== undefined) {
        const z = spareGaussian;
        spareGaussian = undefined;
        return mean + sd * z;
      }
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spareGaussian = r * Math.sin(2 * Math.PI * v);
      return mean + sd * r * Math.cos(2 * Math.PI * v);
    },
    chance: (p) => p > 0 && next() < p,
    state: () => s,
  };
}
