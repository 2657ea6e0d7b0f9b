/**
 * A small seeded PRNG so that training, sampling and the simulators are reproducible without
 * touching Math.random. mulberry32 (Tommy Ettinger, public domain): 32-bit state, period 2^32,
 * passes gjrand's tests at the sizes used here. Not for cryptography.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, bound). */
  nextInt(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  /** Standard normal by Box-Muller (one value per call; the pair's twin is discarded for simplicity). */
  nextGaussian(): number {
    let u = this.next();
    while (u <= Number.MIN_VALUE) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** The internal state, to snapshot and later restore a stream of draws. */
  getState(): number {
    return this.state;
  }

  setState(state: number): void {
    this.state = state >>> 0;
  }
}
