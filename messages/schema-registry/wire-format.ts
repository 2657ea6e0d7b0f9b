import { ErrorCodes, PlatformError } from "../errors.ts";

/**
 * The Confluent wire format for a record value (Confluent Schema Registry docs, "Wire format"):
 *
 *   offset  size  field
 *   0       1     magic byte, always 0
 *   1       4     schema id, signed 32-bit big-endian, a global id from the registry
 *   5       n     the payload written with that schema; for JSON Schema: UTF-8 JSON text
 *
 * Version 0 of the format is the only one there is; a different magic byte means the bytes were
 * not written by a Confluent-compatible serializer.
 */
export const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

export function frame(schemaId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + payload.byteLength);
  out[0] = MAGIC_BYTE;
  out[1] = (schemaId >>> 24) & 0xff;
  out[2] = (schemaId >>> 16) & 0xff;
  out[3] = (schemaId >>> 8) & 0xff;
  out[4] = schemaId & 0xff;
  out.set(payload, HEADER_BYTES);
  return out;
}

/** the schema id of a framed record; DECODE_FAILED when it is truncated or the magic is wrong */
export function schemaIdOf(bytes: Uint8Array): number {
  if (bytes.byteLength < HEADER_BYTES) {
    throw new PlatformError(
      ErrorCodes.DECODE_FAILED,
      `truncated record: ${bytes.byteLength} bytes, the header alone is ${HEADER_BYTES}`,
      {
        details: { length: bytes.byteLength },
      },
    );
  }
  if (bytes[0] !== MAGIC_BYTE) {
    throw new PlatformError(ErrorCodes.DECODE_FAILED, `magic byte is ${bytes[0]}, expected ${MAGIC_BYTE}`, {
      details: { magic: bytes[0] },
    });
  }
  return (bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]! | 0;
}

export function payloadOf(bytes: Uint8Array): Uint8Array {
  return bytes.subarray(HEADER_BYTES);
}
