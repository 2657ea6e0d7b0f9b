import { z } from "zod";
import type { ErrorCode } from "./errors.ts";

/**
 * A dead-letter record: input that could not be accepted, kept with its reason so nothing is
 * lost silently. Written to `<topic>.dlq` (or `platform.dead-letters` at the edge) and counted.
 */
export const DEAD_LETTER_VERSION = 1;

/**
 * On the wire an error code is an open set (a string), not an enum of today's `ErrorCodes`: codes
 * are added and retired as the platform grows, and with an enum every such change made the
 * registered schema of `platform.dead-letters` incompatible (a reader's enum lost values), so a
 * node with one code less could not start against a registry that had seen it. A pattern or a
 * length limit added later would be incompatible too (Confluent's PATTERN_ADDED): none is set.
 */
export const DeadLetter = z.object({
  /** where the input came from: `mqtt:city/sensors/traffic/t1`, `log:city.sensors.raw/3@42`, `http:/api/...` */
  source: z.string(),
  code: z.string(),
  reason: z.string(),
  /** the raw payload, base64, cut at 64 KiB (`truncated` says so) */
  payload_base64: z.string(),
  truncated: z.boolean(),
  at: z.number(),
});
/** in the code a dead letter's code is one of ours (the wire accepts any well-formed code) */
export type DeadLetter = Omit<z.infer<typeof DeadLetter>, "code"> & { readonly code: ErrorCode };

const MAX_KEPT_BYTES = 64 * 1024;

export function deadLetter(
  source: string,
  code: DeadLetter["code"],
  reason: string,
  raw: Uint8Array | string,
  at: number = Date.now(),
): DeadLetter {
  const bytes = typeof raw === "string" ? new TextEncoder().encode(raw) : raw;
  const kept = bytes.byteLength > MAX_KEPT_BYTES ? bytes.subarray(0, MAX_KEPT_BYTES) : bytes;
  return {
    source,
    code,
    reason,
    payload_base64: Buffer.from(kept).toString("base64"),
    truncated: kept.byteLength < bytes.byteLength,
    at,
  };
}
