import type { ReferenceKind } from "../../messages/reference-data.ts";
import { type RowVersion, VersionHistory } from "./version-history.ts";

/**
 * A compacted topic materialised in memory: the latest row per key, as Kafka Streams'
 * KTable / GlobalKTable keeps it (KIP-99 global tables; tombstone = delete).
 *
 * - `versionsPerKey: 1` (default) is a plain KTable: the record with the highest offset wins.
 * - `versionsPerKey: N > 1` is a versioned KTable (KIP-889): the last N versions of each key are
 *   kept ordered by `validFrom` (the row's `updated_at`, else the record timestamp); `get` is
 *   the version with the greatest validFrom, `getAsOf(key, t)` the version valid at t. An
 *   out-of-order update lands in its place in history instead of overwriting the newest row.
 *
 * Every record is validated with the kind's zod schema. A bad record goes to `onInvalid` with
 * its reason and changes nothing: the key keeps its previous value.
 */
/**
 * A record of the compacted topic, with the fields the table reads: the log's records have them
 * (the feed that reads the log is engine/reference-table-feed.ts; the table does no I/O).
 */
export interface TableRecord {
  readonly topic: string;
  readonly key: string | null;
  /** null is a tombstone */
  readonly value: Uint8Array | null;
  readonly timestamp: number;
}

export interface ReferenceTableOptions<V> {
  readonly kind: ReferenceKind<V>;
  readonly versionsPerKey?: number;
  /** bad records: no key, not JSON, schema violation, key not the row's own key */
  readonly onInvalid?: (record: TableRecord, reason: string) => void;
  /** bytes -> unknown; default UTF-8 JSON */
  readonly decode?: (bytes: Uint8Array) => unknown;
}

export type ApplyOutcome = "upsert" | "delete" | "invalid";

/** Called after every applied upsert (value) or delete (undefined). */
export type TableListener<V> = (key: string, value: V | undefined) => void;

export interface ReferenceTableStats {
  readonly size: number;
  readonly version: number;
  readonly upserts: number;
  readonly deletes: number;
  readonly invalid: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const decodeJson = (bytes: Uint8Array): unknown => JSON.parse(utf8.decode(bytes));

export class ReferenceTable<V> {
  readonly kind: ReferenceKind<V>;
  readonly versionsPerKey: number;
  private readonly latest = new Map<string, V>();
  private readonly history: Map<string, VersionHistory<V>> | undefined;
  private readonly listeners = new Set<TableListener<V>>();
  private readonly onInvalid: (record: TableRecord, reason: string) => void;
  private readonly decode: (bytes: Uint8Array) => unknown;
  private upserts = 0;
  private deletes = 0;
  private invalid = 0;

  constructor(options: ReferenceTableOptions<V>) {
    this.kind = options.kind;
    this.versionsPerKey = Math.max(1, Math.floor(options.versionsPerKey ?? 1));
    this.history = this.versionsPerKey > 1 ? new Map() : undefined;
    this.onInvalid = options.onInvalid ?? (() => undefined);
    this.decode = options.decode ?? decodeJson;
  }

  /** live keys */
  get size(): number {
    return this.latest.size;
  }

  /** how many upserts and deletes have been applied (invalid records are not counted) */
  get version(): number {
    return this.upserts + this.deletes;
  }

  get(key: string): V | undefined {
    return this.latest.get(key);
  }

  has(key: string): boolean {
    return this.latest.has(key);
  }

  /** the row valid at `time` (epoch ms); without versions, the latest row */
  getAsOf(key: string, time: number): V | undefined {
    if (this.history === undefined) return this.latest.get(key);
    return this.history.get(key)?.asOf(time);
  }

  /** the oldest retained row of a key (a held record whose reference arrived late joins it) */
  getEarliest(key: string): V | undefined {
    if (this.history === undefined) return this.latest.get(key);
    return this.history.get(key)?.earliest();
  }

  /** the retained versions of a key, oldest first (tombstones have value undefined) */
  versionsOf(key: string): readonly RowVersion<V>[] {
    if (this.history === undefined) {
      const value = this.latest.get(key);
      return value === undefined ? [] : [{ validFrom: Number.NaN, value }];
    }
    return this.history.get(key)?.versions() ?? [];
  }

  /** a copy of the latest row per key */
  snapshot(): Map<string, V> {
    return new Map(this.latest);
  }

  stats(): ReferenceTableStats {
    return {
      size: this.latest.size,
      version: this.version,
      upserts: this.upserts,
      deletes: this.deletes,
      invalid: this.invalid,
    };
  }

  subscribe(listener: TableListener<V>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** apply one record of the compacted topic: upsert, tombstone delete, or reject */
  apply(record: TableRecord): ApplyOutcome {
    const key = record.key;
    if (key === null || key.length === 0) return this.reject(record, "reference record has no key");
    if (record.value === null) {
      this.remove(key, record.timestamp);
      return "delete";
    }
    let raw: unknown;
    try {
      raw = this.decode(record.value);
    } catch (error) {
      return this.reject(record, `undecodable value: ${(error as Error).message}`);
    }
    const parsed = this.kind.schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue?.path.length ? issue.path.join(".") : "(root)";
      return this.reject(record, `schema violation at ${path}: ${issue?.message ?? "invalid"}`);
    }
    const rowKey = this.kind.keyOf(parsed.data);
    if (rowKey !== key) {
      return this.reject(record, `record key ${key} is not the row's key ${rowKey}`);
    }
    const validFrom = this.kind.validFromOf(parsed.data);
    this.upsert(key, parsed.data, Number.isFinite(validFrom) ? validFrom : record.timestamp);
    return "upsert";
  }

  private upsert(key: string, value: V, validFrom: number): void {
    this.upserts++;
    if (this.history === undefined) {
      this.latest.set(key, value);
    } else {
      let versions = this.history.get(key);
      if (versions === undefined) {
        versions = new VersionHistory<V>(this.versionsPerKey);
        this.history.set(key, versions);
      }
      versions.put(validFrom, value);
      this.syncLatest(key, versions);
    }
    this.notify(key, this.latest.get(key));
  }

  private remove(key: string, at: number): void {
    this.deletes++;
    if (this.history === undefined) {
      this.latest.delete(key);
    } else {
      const versions = this.history.get(key);
      if (versions !== undefined) {
        versions.put(at, undefined);
        this.syncLatest(key, versions);
      }
    }
    this.notify(key, this.latest.get(key));
  }

  private syncLatest(key: string, versions: VersionHistory<V>): void {
    const newest = versions.newest();
    if (newest === undefined) this.latest.delete(key);
    else this.latest.set(key, newest);
  }

  private reject(record: TableRecord, reason: string): ApplyOutcome {
    this.invalid++;
    this.onInvalid(record, reason);
    return "invalid";
  }

  private notify(key: string, value: V | undefined): void {
    for (const listener of this.listeners) listener(key, value);
  }
}
