import { z } from "zod";
import { ErrorCodes } from "./errors.ts";

/**
 * A dead-letter record: input that could not be accepted, kept with its reason so nothing is
 * lost silently. Written to `<topic>.dlq` (or `platform.dead-letters` at the edge) and counted.
 */
export const DEAD_LETTER_VERSION = 1;

export const DeadLetter = z.object({
  /** where the input came from: `mqtt:city/sensors/traffic/t1`, `log:city.sensors.raw/3@42`, `http:/api/...` */
  source: z.string(),
  code: z.enum(Object.values(ErrorCodes) as [string, ...string[]]),
  reason: z.string(),
  /** the raw payload, base64, cut at 64 KiB (`truncated` says so) */
  payload_base64: z.string(),
  truncated: z.boolean(),
  at: z.number(),
});
export type DeadLetter = z.infer<typeof DeadLetter>;

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
