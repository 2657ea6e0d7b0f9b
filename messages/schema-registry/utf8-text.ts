/**
 * Strict UTF-8 decoding of `bytes[start..]` without allocating a view for the slice: a typed-array
 * view costs about as much as the header read and id lookup together (measured in
 * bench/schema-registry-decode.ts), so the payload is decoded in place by Bun's Buffer
 * `toString(encoding, start, end)`. That decoder replaces bad sequences with U+FFFD instead of
 * failing, so a result holding U+FFFD is decoded again strictly to tell a real U+FFFD from bad input.
 */
const strict = new TextDecoder("utf-8", { fatal: true });
const bufferToString = Buffer.prototype.toString as (
  this: Uint8Array,
  encoding: string,
  start: number,
  end: number,
) => string;

function inPlaceWorks(): boolean {
  try {
    return bufferToString.call(new Uint8Array([0x61, 0x62]), "utf8", 1, 2) === "b";
  } catch {
    // not every runtime lets Buffer methods run on a plain Uint8Array: fall back to views
    return false;
  }
}
const IN_PLACE = inPlaceWorks();

/** throws TypeError when the bytes are not valid UTF-8 */
export function utf8Text(bytes: Uint8Array, start: number): string {
  if (!IN_PLACE) return strict.decode(bytes.subarray(start));
  const text = bufferToString.call(bytes, "utf8", start, bytes.byteLength);
  return text.includes("\uFFFD") ? strict.decode(bytes.subarray(start)) : text;
}
