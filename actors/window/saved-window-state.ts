import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { appliedOffsetOf, isSnapshotBytes } from "../../stream/index.ts";

/** one sensor's window state as the changelog holds it: the operator's, and its applied offset */
export interface SavedWindowState {
  /** snapshot bytes (stream/window/window-snapshot-bytes.ts) or an older changelog's JSON snapshot */
  readonly windows: unknown;
  readonly lastOffset: number;
}

/** the JSON form the actor wrote before its state became bytes: still read from older changelogs */
interface WindowSnapshotJson {
  readonly windows: unknown;
  readonly lastOffset: number;
}

const jsonText = new TextDecoder("utf-8", { fatal: true });

/** a saved state in any form it was written: bytes, JSON bytes of an older changelog, or JSON data */
export function savedWindowState(snapshot: unknown): SavedWindowState | undefined {
  if (snapshot === undefined) return undefined;
  if (snapshot instanceof Uint8Array) {
    if (isSnapshotBytes(snapshot)) return { windows: snapshot, lastOffset: appliedOffsetOf(snapshot) };
    return savedWindowState(parseJsonState(snapshot));
  }
  if (snapshot === null || typeof snapshot !== "object")
    throw new PlatformError(ErrorCodes.DECODE_FAILED, "a window state is not an object", {
      details: { type: snapshot === null ? "null" : typeof snapshot },
    });
  const json = snapshot as WindowSnapshotJson;
  return { windows: json.windows, lastOffset: json.lastOffset ?? -1 };
}

function parseJsonState(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(jsonText.decode(bytes));
  } catch (error) {
    throw new PlatformError(ErrorCodes.DECODE_FAILED, "a window state is neither a snapshot nor JSON", {
      cause: error,
      details: { length: bytes.length },
    });
  }
}
