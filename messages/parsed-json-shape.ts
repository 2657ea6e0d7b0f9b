/**
 * The two shape tests the hand-written schema fast paths (sensor-reading-check.ts,
 * processed-reading-check.ts, processed-reading-schema-check.ts) share. Each fast path answers
 * only for values shaped as JSON.parse makes them and leaves anything else to its schema, so
 * "plain" here means exactly an object literal: another prototype is "not sure, ask the schema".
 */

/** an object literal as JSON.parse makes it (not null, not an array, Object's own prototype) */
export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

/** a number JSON can carry and zod's and JSON Schema's `number` accept: finite */
export function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}
