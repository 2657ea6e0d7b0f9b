import { expect } from "bun:test";
import { isPlatformError } from "../../../messages/errors.ts";

/** Every prefix and a few thousand single-byte corruptions: decode or DECODE_FAILED, never a crash. */
export function expectRobustDecode(
  encoded: Uint8Array,
  decode: (bytes: Uint8Array, offset: number, length: number) => unknown,
): void {
  for (let length = 0; length < encoded.length; length++) {
    expectDecodeFailed(() => decode(encoded, 0, length));
  }
  let seed = 12345;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed;
  };
  for (let i = 0; i < 2000; i++) {
    const corrupt = encoded.slice();
    corrupt[random() % corrupt.length] = random() & 0xff;
    try {
      decode(corrupt, 0, corrupt.length);
    } catch (error) {
      expect(isPlatformError(error, "DECODE_FAILED")).toBe(true);
    }
  }
  // a record said to extend past its buffer
  expectDecodeFailed(() => decode(encoded, 4, encoded.length));
}

export function expectDecodeFailed(decode: () => unknown): void {
  let caught: unknown;
  try {
    decode();
  } catch (error) {
    caught = error;
  }
  if (!isPlatformError(caught, "DECODE_FAILED"))
    throw new Error(`expected DECODE_FAILED, got ${String(caught)}`);
}

export function expectCode(
  code: "OUT_OF_RANGE" | "SCHEMA_VIOLATION" | "RING_RECORD_TOO_LARGE",
  run: () => unknown,
) {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(isPlatformError(caught, code)).toBe(true);
}
