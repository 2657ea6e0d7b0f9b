import { ErrorCodes, PlatformError } from "../errors.ts";

/**
 * Bounds on a schema's text, checked before it is parsed. Confluent stores each schema as one
 * record of `_schemas`, so Kafka's default message.max.bytes (about 1 MiB) caps it there and a
 * larger one is refused with 42209; the same cap here keeps parsing, compiling and comparing a
 * schema to a few milliseconds on the request path. Nesting is bounded too: the validator and the
 * compatibility check walk a schema recursively, and a 20,000-deep document would exhaust the
 * stack; 128 levels of JSON are far beyond any hand-written or generated schema.
 */
export const MAX_SCHEMA_BYTES = 1024 * 1024;
export const MAX_SCHEMA_DEPTH = 128;

const utf8 = new TextEncoder();

/** Throws PAYLOAD_TOO_LARGE (42209) or SCHEMA_INVALID (42201); never recurses. */
export function checkSchemaBounds(text: string): void {
  // a UTF-16 unit is at most 3 UTF-8 bytes: most texts need no encoding to be measured
  const bytes = text.length * 3 <= MAX_SCHEMA_BYTES ? text.length : utf8.encode(text).length;
  if (bytes > MAX_SCHEMA_BYTES) {
    throw new PlatformError(
      ErrorCodes.PAYLOAD_TOO_LARGE,
      `Schema is too large: ${bytes} bytes, at most ${MAX_SCHEMA_BYTES} are accepted`,
      { details: { registryErrorCode: 42209, bytes, maximum: MAX_SCHEMA_BYTES } },
    );
  }
  const depth = nestingDepth(text);
  if (depth > MAX_SCHEMA_DEPTH) {
    throw new PlatformError(
      ErrorCodes.SCHEMA_INVALID,
      `Invalid schema: nested more than ${MAX_SCHEMA_DEPTH} levels deep`,
      { details: { registryErrorCode: 42201, maximum: MAX_SCHEMA_DEPTH } },
    );
  }
}

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The deepest bracket nesting of JSON text, skipping strings; stops counting as soon as the
 * bound is passed. Malformed text is left to JSON.parse to report.
 */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > MAX_SCHEMA_DEPTH) return deepest;
      }
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
  }
  return deepest;
}
