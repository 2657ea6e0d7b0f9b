import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * Which windows a record belongs to, as data. All windows are half-open [start, end) in epoch
 * ms, the same for every assigner:
 * - tumbling: [k * size + offset, + size), one per record;
 * - hopping: every [k * advance + offset, + size) that contains the record (size / advance of
 *   them when advance divides size);
 * - sliding: Kafka Streams' record-driven SlidingWindows (KIP-450). Kafka writes a window as
 *   [start; end] with both ends inclusive and size = timeDifference; here that window is
 *   [start, end + 1). Each record has a left window ending at its timestamp and, once a later
 *   record falls within timeDifference of it, a right window starting just after it;
 * - session: per key, records closer than `gap` (inclusive) join one session [first, last + gap);
 *   a record that bridges two sessions merges them (Flink's merging window assigner).
 */
export type WindowAssigner =
  | { readonly kind: "tumbling"; readonly sizeMs: number; readonly offsetMs: number }
  | {
      readonly kind: "hopping";
      readonly sizeMs: number;
      readonly advanceMs: number;
      readonly offsetMs: number;
    }
  | { readonly kind: "sliding"; readonly timeDifferenceMs: number }
  | { readonly kind: "session"; readonly gapMs: number };

export function tumbling(sizeMs: number, offsetMs = 0): WindowAssigner {
  requirePositive("window size", sizeMs);
  requireInteger("window offset", offsetMs);
  return { kind: "tumbling", sizeMs, offsetMs };
}

export function hopping(sizeMs: number, advanceMs: number, offsetMs = 0): WindowAssigner {
  requirePositive("window size", sizeMs);
  requirePositive("window advance", advanceMs);
  requireInteger("window offset", offsetMs);
  if (advanceMs > sizeMs) {
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, "hopping advance must not exceed the window size", {
      details: { sizeMs, advanceMs },
    });
  }
  return { kind: "hopping", sizeMs, advanceMs, offsetMs };
}

export function sliding(timeDifferenceMs: number): WindowAssigner {
  requirePositive("sliding time difference", timeDifferenceMs);
  return { kind: "sliding", timeDifferenceMs };
}

export function session(gapMs: number): WindowAssigner {
  requirePositive("session gap", gapMs);
  return { kind: "session", gapMs };
}

/** Floor modulo: the result has the sign of `divisor`, so alignment works before the epoch. */
export function floorMod(value: number, divisor: number): number {
  const r = value % divisor;
  return r < 0 ? r + divisor : r + 0; // + 0 turns -0 into 0
}

/** Start of the aligned period of length `step` (shifted by `offset`) containing `timestamp`. */
export function alignedStart(timestamp: number, step: number, offset: number): number {
  return timestamp - floorMod(timestamp - offset, step);
}

/** The starts of every window of `assigner` containing `timestamp` (time windows only). */
export function timeWindowStarts(assigner: WindowAssigner, timestamp: number): number[] {
  if (assigner.kind === "tumbling") return [alignedStart(timestamp, assigner.sizeMs, assigner.offsetMs)];
  if (assigner.kind !== "hopping") return [];
  const starts: number[] = [];
  const last = alignedStart(timestamp, assigner.advanceMs, assigner.offsetMs);
  for (let start = last; start > timestamp - assigner.sizeMs; start -= assigner.advanceMs) starts.push(start);
  return starts;
}

function requirePositive(what: string, value: number): void {
  if (!(Number.isSafeInteger(value) && value > 0)) {
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, `${what} must be a positive integer of ms`, {
      details: { value },
    });
  }
}

function requireInteger(what: string, value: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, `${what} must be an integer of ms`, {
      details: { value },
    });
  }
}
