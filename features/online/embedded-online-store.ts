import { Database, type Statement } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { OnlineRow, OnlineStore, StoredFeatures, ViewKey, WriteOptions } from "./online-store.ts";

/**
 * The embedded online store: one bun:sqlite file (WAL), one row per (view version, entity).
 *
 * Why SQLite and not a Map rebuilt from a topic: the store survives a restart as it was (a Map
 * would need the whole materialization replayed before the first read), its size is bounded by
 * disk, not heap, and a point read of 100 entities by primary key costs ~0.1 ms, well inside the
 * serving budget. The last-writer-wins rule is the upsert's WHERE clause, so it holds inside the
 * engine, not in a read-then-write race.
 */
export class EmbeddedOnlineStore implements OnlineStore {
  readonly kind = "embedded" as const;
  private readonly db: Database;
  private readonly upsert: Statement;
  private readonly readMany = new Map<number, Statement>();
  private readonly getWatermark: Statement;
  private readonly putWatermark: Statement;

  constructor(path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { create: true, strict: true });
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    this.db.exec(`CREATE TABLE IF NOT EXISTS features (
      view TEXT NOT NULL, entity TEXT NOT NULL,
      event_time INTEGER NOT NULL, created_time INTEGER NOT NULL, expire_at INTEGER,
      "values" TEXT NOT NULL,
      PRIMARY KEY (view, entity)) WITHOUT ROWID`);
    this.db.exec("CREATE TABLE IF NOT EXISTS watermarks (name TEXT PRIMARY KEY, value REAL NOT NULL)");
    // of two rows with the same times the later one wins (`>=`), as written one after the other
    this.upsert =
      this.db.prepare(`INSERT INTO features (view, entity, event_time, created_time, expire_at, "values")
      VALUES ($view, $entity, $event, $created, $expire, $values)
      ON CONFLICT (view, entity) DO UPDATE SET event_time = excluded.event_time,
        created_time = excluded.created_time, expire_at = excluded.expire_at, "values" = excluded."values"
      WHERE excluded.event_time > features.event_time
         OR (excluded.event_time = features.event_time AND excluded.created_time >= features.created_time)`);
    this.getWatermark = this.db.prepare("SELECT value FROM watermarks WHERE name = ?");
    this.putWatermark = this.db.prepare(
      "INSERT INTO watermarks (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    );
  }

  async write(view: ViewKey, rows: readonly OnlineRow[], options: WriteOptions = {}): Promise<number> {
    const key = viewId(view);
    const { ttlMs } = options;
    const apply = this.db.transaction((batch: readonly OnlineRow[]) => {
      let changed = 0;
      for (const row of batch) {
        const result = this.upsert.run({
          view: key,
          entity: row.entity,
          event: row.eventTime,
          created: row.createdTime,
          expire: ttlMs === undefined ? null : row.eventTime + ttlMs,
          values: JSON.stringify(row.values),
        });
        changed += result.changes;
      }
      return changed;
    });
    return apply(rows);
  }

  async read(
    view: ViewKey,
    entities: readonly string[],
    now = Date.now(),
  ): Promise<(StoredFeatures | undefined)[]> {
    const key = viewId(view);
    const found = new Map<string, StoredFeatures>();
    // one statement per chunk of up to 500 keys (SQLite allows 32,766 parameters)
    for (let i = 0; i < entities.length; i += 500) {
      const chunk = entities.slice(i, i + 500);
      const rows = this.statementFor(chunk.length).all(key, now, ...chunk) as {
        entity: string;
        event_time: number;
        created_time: number;
        values: string;
      }[];
      for (const row of rows)
        found.set(row.entity, {
          eventTime: row.event_time,
          createdTime: row.created_time,
          values: JSON.parse(row.values) as StoredFeatures["values"],
        });
    }
    return entities.map((entity) => found.get(entity));
  }

  private statementFor(n: number): Statement {
    let statement = this.readMany.get(n);
    if (!statement) {
      statement = this.db.prepare(
        `SELECT entity, event_time, created_time, "values" FROM features
         WHERE view = ? AND (expire_at IS NULL OR expire_at > ?) AND entity IN (${Array(n).fill("?").join(",")})`,
      );
      this.readMany.set(n, statement);
    }
    return statement;
  }

  /** deletes the rows past their TTL; returns how many */
  prune(now = Date.now()): number {
    return this.db.prepare("DELETE FROM features WHERE expire_at IS NOT NULL AND expire_at <= ?").run(now)
      .changes;
  }

  async watermark(name: string): Promise<number | undefined> {
    const row = this.getWatermark.get(name) as { value: number } | null;
    return row?.value;
  }

  async setWatermark(name: string, value: number): Promise<void> {
    this.putWatermark.run(name, value);
  }

  async dropView(view: ViewKey): Promise<void> {
    this.db.prepare("DELETE FROM features WHERE view = ?").run(viewId(view));
  }

  async deleteEntity(viewName: string, entity: string): Promise<number> {
    // a view's entries are under `<name>@<version>`: every version of this name, no other view
    const at = viewName.length + 1;
    return this.db
      .prepare(
        `DELETE FROM features WHERE entity = ? AND substr(view, 1, ?) = ? AND length(view) > ?
         AND substr(view, ?) NOT GLOB '*[^0-9]*'`,
      )
      .run(entity, at, `${viewName}@`, at, at + 1).changes;
  }

  async close(): Promise<void> {
    for (const statement of this.readMany.values()) statement.finalize();
    this.db.close();
  }
}

function viewId(view: ViewKey): string {
  return `${view.name}@${view.version}`;
}
