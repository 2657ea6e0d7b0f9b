import type { LateReason } from "./window-output.ts";
import type { WindowTable } from "./window-table.ts";

/**
 * What an assigner's placement logic may do to the operator's state (internal: not exported
 * from `stream/index.ts`).
 */
export interface PlacementContext {
  readonly table: WindowTable;
  /** grace in ms (0 on processing time) */
  readonly graceMs: number;
  /** the operator watermark: windows with end + grace <= it are closed */
  watermark(): number;
  /** allocates a window, queues its close, and returns its slot */
  open(keyId: number, start: number, end: number): number;
  /** notes that a window changed (for on-update emission) */
  touch(slot: number): void;
}

/** Places one validated record into its key's windows; false when no open window takes it. */
export interface RecordPlacement {
  readonly lateReason: LateReason;
  place(keyId: number, timestamp: number, values: Float64Array): boolean;
  /** called before a window of the key is released on close (sliding prunes its buffer) */
  onClose?(keyId: number): void;
  /** per-key state beyond the windows (the sliding record buffer), JSON-able; one key's only if given */
  snapshotKeys?(keyOf: (keyId: number) => string, onlyKeyId?: number): KeyStateJson[];
  restoreKey?(keyId: number, state: KeyStateJson): void;
}

export interface KeyStateJson {
  readonly key: string;
  /** records flattened as [timestamp, ...field values] */
  readonly records: readonly number[];
}
