import type { Database, Statement } from "bun:sqlite";

/**
 * `PRAGMA data_version` of one connection: it changes exactly when another connection (another
 * process sharing the file) has committed since this connection last asked, and never for this
 * connection's own commits (https://www.sqlite.org/pragma.html#pragma_data_version). What this
 * connection learned from the file stays true while the version stays the same and its own
 * writes keep it up to date; one look answers for every such cache (the partition ends, the
 * groups' generations) in one cheap pragma instead of a query each.
 */
export class DataVersion {
  private readonly select: Statement<{ data_version: number }, []>;

  constructor(db: Database) {
    this.select = db.query("PRAGMA data_version");
  }

  look(): number {
    return this.select.get()?.data_version ?? -1;
  }
}
