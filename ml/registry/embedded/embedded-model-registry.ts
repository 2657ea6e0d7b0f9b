import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { checkTag } from "../../tracking/tracking-limits.ts";
import {
  checkAlias,
  checkCause,
  checkExpected,
  checkModelName,
  type ModelRegistry,
  type ModelVersion,
  modelNotFound,
  type RegisteredModel,
  registryConflict,
  type Transition,
  type TransitionCause,
} from "../model-registry.ts";

/**
 * The embedded model registry: one bun:sqlite file (WAL) beside the tracking store. An alias
 * change and its transition record are one transaction, so the history never disagrees with
 * the aliases, and a node that restarts reads the same champion it served before.
 */
export class EmbeddedModelRegistry implements ModelRegistry {
  private constructor(private readonly db: Database) {}

  static open(options: { readonly dir: string }): EmbeddedModelRegistry {
    mkdirSync(options.dir, { recursive: true });
    const db = new Database(join(options.dir, "registry.db"), { create: true, strict: true });
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    db.exec(`
      CREATE TABLE IF NOT EXISTS models (name TEXT PRIMARY KEY, description TEXT NOT NULL, tags TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS versions (
        name TEXT NOT NULL, version INTEGER NOT NULL, run_id TEXT NOT NULL, source TEXT NOT NULL,
        tags TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (name, version));
      CREATE TABLE IF NOT EXISTS aliases (name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL,
        PRIMARY KEY (name, alias));
      CREATE TABLE IF NOT EXISTS transitions (
        name TEXT NOT NULL, seq INTEGER NOT NULL, alias TEXT NOT NULL, from_version TEXT, to_version TEXT,
        by TEXT NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (name, seq));
    `);
    return new EmbeddedModelRegistry(db);
  }

  async createModel(
    name: string,
    options: { description?: string; tags?: Record<string, string> } = {},
  ): Promise<RegisteredModel> {
    checkModelName(name);
    for (const [key, value] of Object.entries(options.tags ?? {})) checkTag(key, value);
    if (this.db.query("SELECT 1 FROM models WHERE name = ?").get(name)) {
      registryConflict(`registered model ${name} already exists`);
    }
    this.db
      .query("INSERT INTO models (name, description, tags) VALUES (?, ?, ?)")
      .run(name, options.description ?? "", JSON.stringify(options.tags ?? {}));
    return this.getModel(name);
  }

  async getModel(name: string): Promise<RegisteredModel> {
    const row = this.modelRow(name);
    const aliases = this.db
      .query<{ alias: string; version: number }, [string]>(
        "SELECT alias, version FROM aliases WHERE name = ? ORDER BY alias",
      )
      .all(name);
    return {
      name: row.name,
      description: row.description,
      tags: JSON.parse(row.tags),
      aliases: Object.fromEntries(aliases.map((a) => [a.alias, String(a.version)])),
    };
  }

  async listModels(): Promise<RegisteredModel[]> {
    const names = this.db.query<{ name: string }, []>("SELECT name FROM models ORDER BY name").all();
    return Promise.all(names.map((row) => this.getModel(row.name)));
  }

  async createVersion(
    name: string,
    version: { runId: string; source: string; tags?: Record<string, string> },
  ): Promise<ModelVersion> {
    this.modelRow(name);
    for (const [key, value] of Object.entries(version.tags ?? {})) checkTag(key, value);
    const created = this.db.transaction(() => {
      const next =
        (this.db
          .query<{ last: number | null }, [string]>(
            "SELECT MAX(version) AS last FROM versions WHERE name = ?",
          )
          .get(name)?.last ?? 0) + 1;
      this.db
        .query(
          "INSERT INTO versions (name, version, run_id, source, tags, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .run(name, next, version.runId, version.source, JSON.stringify(version.tags ?? {}), Date.now());
      return next;
    })();
    return this.getVersion(name, String(created));
  }

  async getVersion(name: string, version: string): Promise<ModelVersion> {
    this.modelRow(name);
    const row = /^\d{1,9}$/.test(version)
      ? this.db
          .query<VersionRow, [string, number]>("SELECT * FROM versions WHERE name = ? AND version = ?")
          .get(name, Number(version))
      : null;
    if (!row) modelNotFound(`model ${name} has no version ${JSON.stringify(version.slice(0, 20))}`);
    return toVersion(row);
  }

  async listVersions(name: string): Promise<ModelVersion[]> {
    this.modelRow(name);
    return this.db
      .query<VersionRow, [string]>("SELECT * FROM versions WHERE name = ? ORDER BY version")
      .all(name)
      .map(toVersion);
  }

  async setVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    checkTag(key, value);
    const current = await this.getVersion(name, version);
    this.db
      .query("UPDATE versions SET tags = ? WHERE name = ? AND version = ?")
      .run(JSON.stringify({ ...current.tags, [key]: value }), name, Number(version));
  }

  async setModelTag(name: string, key: string, value: string): Promise<void> {
    checkTag(key, value);
    const row = this.modelRow(name);
    this.db
      .query("UPDATE models SET tags = ? WHERE name = ?")
      .run(JSON.stringify({ ...JSON.parse(row.tags), [key]: value }), name);
  }

  async setAlias(
    name: string,
    alias: string,
    version: string,
    cause: TransitionCause & { readonly expected?: string | null },
  ): Promise<Transition> {
    checkAlias(alias);
    checkCause(cause);
    await this.getVersion(name, version);
    return this.db.transaction(() => {
      const current = this.aliasVersion(name, alias);
      checkExpected(alias, current, cause.expected);
      this.db
        .query(
          "INSERT INTO aliases (name, alias, version) VALUES (?, ?, ?) ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version",
        )
        .run(name, alias, Number(version));
      return this.record(name, alias, current, version, cause);
    })();
  }

  async deleteAlias(name: string, alias: string, cause: TransitionCause): Promise<Transition> {
    checkAlias(alias);
    checkCause(cause);
    this.modelRow(name);
    return this.db.transaction(() => {
      const current = this.aliasVersion(name, alias);
      if (current === undefined) modelNotFound(`model ${name} has no alias ${alias}`);
      this.db.query("DELETE FROM aliases WHERE name = ? AND alias = ?").run(name, alias);
      return this.record(name, alias, current, undefined, cause);
    })();
  }

  async versionByAlias(name: string, alias: string): Promise<ModelVersion | undefined> {
    checkAlias(alias);
    this.modelRow(name);
    const version = this.aliasVersion(name, alias);
    return version === undefined ? undefined : this.getVersion(name, version);
  }

  async transitions(name: string): Promise<Transition[]> {
    this.modelRow(name);
    return this.db
      .query<TransitionRow, [string]>("SELECT * FROM transitions WHERE name = ? ORDER BY seq")
      .all(name)
      .map((row) => ({
        seq: row.seq,
        alias: row.alias,
        from: row.from_version ?? undefined,
        to: row.to_version ?? undefined,
        by: row.by,
        reason: row.reason,
        at: row.at,
      }));
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private record(
    name: string,
    alias: string,
    from: string | undefined,
    to: string | undefined,
    cause: TransitionCause,
  ): Transition {
    const seq =
      (this.db
        .query<{ last: number | null }, [string]>("SELECT MAX(seq) AS last FROM transitions WHERE name = ?")
        .get(name)?.last ?? 0) + 1;
    const at = Date.now();
    this.db
      .query(
        "INSERT INTO transitions (name, seq, alias, from_version, to_version, by, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(name, seq, alias, from ?? null, to ?? null, cause.by, cause.reason, at);
    return { seq, alias, from, to, by: cause.by, reason: cause.reason, at };
  }

  private aliasVersion(name: string, alias: string): string | undefined {
    const row = this.db
      .query<{ version: number }, [string, string]>(
        "SELECT version FROM aliases WHERE name = ? AND alias = ?",
      )
      .get(name, alias);
    return row ? String(row.version) : undefined;
  }

  private modelRow(name: string): { name: string; description: string; tags: string } {
    checkModelName(name);
    const row = this.db
      .query<{ name: string; description: string; tags: string }, [string]>(
        "SELECT * FROM models WHERE name = ?",
      )
      .get(name);
    if (!row) modelNotFound(`no registered model ${name}`);
    return row;
  }
}

interface VersionRow {
  name: string;
  version: number;
  run_id: string;
  source: string;
  tags: string;
  created_at: number;
}

interface TransitionRow {
  seq: number;
  alias: string;
  from_version: string | null;
  to_version: string | null;
  by: string;
  reason: string;
  at: number;
}

function toVersion(row: VersionRow): ModelVersion {
  return {
    name: row.name,
    version: String(row.version),
    runId: row.run_id,
    source: row.source,
    tags: JSON.parse(row.tags),
    createdAt: row.created_at,
  };
}
