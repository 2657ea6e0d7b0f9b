import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/** The finite values of a sample, sorted ascending (NaN and infinities dropped, like dropna). */
export function sortedFinite(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) out[n++] = v;
  }
  return out.subarray(0, n).sort();
}

export function requireSize(sample: Float64Array, minimum: number, what: string): void {
  if (sample.length < minimum) {
    throw new PlatformError(
      ErrorCodes.SAMPLE_TOO_SMALL,
      `${what} has ${sample.length} finite values, at least ${minimum} are needed`,
      { details: { size: sample.length, minimum } },
    );
  }
}
