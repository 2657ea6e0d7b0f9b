import { createPrng } from "../../sources/iot/prng.ts";
/**
 * Seeded random hostile input for the API fuzz tests: the same seed gives the same cases, so a
 * failure names its seed and case and can be replayed.
 */
export function seededRandom(seed: number): () => number {
  const generator = createPrng(seed); // mulberry32, the simulator's
  return () => generator.next();
}

export class HostileInput {
  constructor(readonly random: () => number) {}

  int(max: number): number {
    return Math.floor(this.random() * max);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** strings that break naive parsers: numbers in odd notations, unicode, control bytes, huge */
  scalarText(): string {
    return this.pick([
      () => String(this.int(100_000) - 50_000),
      () => this.pick(["", "0", "-0", "1e308", "1e-9", "NaN", "Infinity", "0x10", "1_000", "null", "true"]),
      () => "9".repeat(1 + this.int(500)),
      () => "\u0000\u0001\uffff\ud800",
      () => "💥".repeat(1 + this.int(50)),
      () => "../".repeat(1 + this.int(10)),
      () => "%".repeat(1 + this.int(5)),
      () => "x".repeat(this.int(5000)),
      () => "<script>alert(1)</script>",
      () => "' OR 1=1 --",
    ])();
  }

  /** any JSON value, nesting up to `depth` */
  json(depth = 4): unknown {
    const kind = this.int(depth > 0 ? 8 : 5);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return this.random() < 0.5;
      case 2:
        return this.pick([0, -1, 1.5, 2 ** 53, -(2 ** 53), 1e308, Number.MIN_VALUE]);
      case 3:
        return this.scalarText().slice(0, 200);
      case 4:
        return this.pick(["subscribe", "unsubscribe", "alerts", "readings", "__proto__", "constructor"]);
      case 5:
        return Array.from({ length: this.int(6) }, () => this.json(depth - 1));
      default: {
        const object: Record<string, unknown> = {};
        for (let i = this.int(5); i > 0; i--)
          object[
            this.pick(["op", "feeds", "__proto__", "constructor", "x", this.scalarText().slice(0, 20)])
          ] = this.json(depth - 1);
        return object;
      }
    }
  }

  /** deeply nested arrays or objects, as text */
  deepJson(depth: number): string {
    return this.random() < 0.5
      ? "[".repeat(depth) + "]".repeat(depth)
      : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }
}

/** percent-encodes every byte but the unreserved ones; a lone surrogate goes as U+FFFD */
export function percentEncode(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
