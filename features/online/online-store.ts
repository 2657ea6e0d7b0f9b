import type { FeatureValue } from "../views/feature-view.ts";

/**
 * The online store port: the latest feature values of each entity of each view version, read by
 * key at serving time. Adapters: `embedded-online-store.ts` (bun:sqlite, the zero-setup default)
 * and `redis-online-store.ts` (Redis through Bun's client); one contract suite runs against both
 * (`test/features/online/online-store.contract.ts`).
 *
 * What every adapter keeps:
 * - a write is last-writer-wins by (event time, created time): a row older than the stored one
 *   changes nothing, so a replayed window, a batch materialization of older history, or the same
 *   batch written twice leave the store as if written once, in any order;
 * - `write` resolves when the rows are stored (committed / acknowledged by the server);
 * - `read` answers one entry per asked entity, in the asked order, `undefined` when the store has
 *   nothing for it or its entry expired: a write with `ttlMs` lets the store drop each row at
 *   event time + TTL (Redis by PXAT, the embedded store at read and by `prune`), which bounds the
 *   store to the entities seen within the TTL; the serving layer still checks the TTL itself;
 * - watermarks are small named numbers that batch materialization keeps its progress in.
 */
export interface OnlineRow {
  readonly entity: string;
  /** epoch ms the values describe (a window's end) */
  readonly eventTime: number;
  /** epoch ms the row was made; breaks ties on event time */
  readonly createdTime: number;
  readonly values: Readonly<Record<string, FeatureValue | null>>;
}

export interface StoredFeatures {
  readonly eventTime: number;
  readonly createdTime: number;
  readonly values: Readonly<Record<string, FeatureValue | null>>;
}

export interface WriteOptions {
  /** the view's TTL: a row may be dropped at its event time + this */
  readonly ttlMs?: number;
  /** the clock that decides what already expired (tests) */
  readonly now?: number;
}

/** a view version's namespace in the store */
export interface ViewKey {
  readonly name: string;
  readonly version: number;
}

export interface OnlineStore {
  readonly kind: "embedded" | "redis";
  /** stores the rows (last writer by event time, then created time, wins); returns how many changed a value */
  write(view: ViewKey, rows: readonly OnlineRow[], options?: WriteOptions): Promise<number>;
  read(view: ViewKey, entities: readonly string[], now?: number): Promise<(StoredFeatures | undefined)[]>;
  watermark(name: string): Promise<number | undefined>;
  setWatermark(name: string, value: number): Promise<void>;
  /** drops the entries of a view version (a retired version, an erased entity set) */
  dropView(view: ViewKey): Promise<void>;
  /** deletes one entity's entries in every version of a view (a deletion request); returns how many */
  deleteEntity(viewName: string, entity: string): Promise<number>;
  close(): Promise<void>;
}

/** does `row` replace `stored` (strictly newer event time, or the same with a created time not older) */
export function supersedes(
  row: { eventTime: number; createdTime: number },
  stored: { eventTime: number; createdTime: number } | undefined,
): boolean {
  if (!stored) return true;
  if (row.eventTime !== stored.eventTime) return row.eventTime > stored.eventTime;
  return row.createdTime >= stored.createdTime;
}
