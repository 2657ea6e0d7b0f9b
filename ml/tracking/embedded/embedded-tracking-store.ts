import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import {
  checkArtifactPath,
  checkBatch,
  checkMetric,
  checkName,
  checkParam,
  checkTag,
  invalid,
  notFound,
  paramText,
} from "../tracking-limits.ts";
import {
  type ArtifactEntry,
  type Experiment,
  type MetricPoint,
  type NewRun,
  PARENT_RUN_TAG,
  RUN_NAME_TAG,
  type Run,
  type RunInfo,
  type RunStatus,
  type TrackingStore,
} from "../tracking-store.ts";

/**
 * The embedded tracking store: one bun:sqlite file (WAL) for experiments, runs, parameters,
 * metrics and tags, and a folder for artifacts laid out as MLflow lays out its artifact root
 * (`<experiment>/<run>/artifacts/<path>`), so a folder can be copied under an MLflow server's
 * artifact root as it is. Artifacts are written to a temporary name and renamed: a reader never
 * sees half a model file.
 */
export class EmbeddedTrackingStore implements TrackingStore {
  private constructor(
    private readonly db: Database,
    private readonly artifactRoot: string,
  ) {}

  static open(options: { readonly dir: string }): EmbeddedTrackingStore {
    mkdirSync(options.dir, { recursive: true });
    const db = new Database(join(options.dir, "tracking.db"), { create: true, strict: true });
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    db.exec(`
      CREATE TABLE IF NOT EXISTS experiments (
        id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, tags TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS runs (
        run_id TEXT PRIMARY KEY, experiment_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
        start_time INTEGER NOT NULL, end_time INTEGER, parent_run_id TEXT);
      CREATE INDEX IF NOT EXISTS runs_by_experiment ON runs (experiment_id, start_time);
      CREATE TABLE IF NOT EXISTS params (
        run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key));
      CREATE TABLE IF NOT EXISTS run_tags (
        run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key));
      CREATE TABLE IF NOT EXISTS metrics (
        run_id TEXT NOT NULL, key TEXT NOT NULL, value REAL NOT NULL, step INTEGER NOT NULL,
        timestamp INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS metrics_by_run ON metrics (run_id, key, step, timestamp);
    `);
    return new EmbeddedTrackingStore(db, join(options.dir, "artifacts"));
  }

  async createExperiment(name: string, tags: Readonly<Record<string, string>> = {}): Promise<Experiment> {
    checkName("experiment", name);
    for (const [key, value] of Object.entries(tags)) checkTag(key, value);
    if (await this.experimentByName(name)) invalid(`experiment ${JSON.stringify(name)} already exists`);
    const row = this.db
      .query<{ id: number }, [string, string]>(
        "INSERT INTO experiments (name, tags) VALUES (?, ?) RETURNING id",
      )
      .get(name, JSON.stringify(tags));
    return { id: String(row!.id), name, tags: { ...tags } };
  }

  async experimentByName(name: string): Promise<Experiment | undefined> {
    const row = this.db
      .query<{ id: number; name: string; tags: string }, [string]>("SELECT * FROM experiments WHERE name = ?")
      .get(name);
    return row ? { id: String(row.id), name: row.name, tags: JSON.parse(row.tags) } : undefined;
  }

  async createRun(run: NewRun): Promise<RunInfo> {
    checkName("run", run.name);
    const experiment = this.db
      .query<{ id: number }, [string]>("SELECT id FROM experiments WHERE id = ?")
      .get(run.experimentId);
    if (!experiment) notFound(`experiment ${run.experimentId} does not exist`);
    if (run.parentRunId !== undefined) this.runRow(run.parentRunId);
    const tags: Record<string, string> = { ...run.tags, [RUN_NAME_TAG]: run.name };
    if (run.parentRunId !== undefined) tags[PARENT_RUN_TAG] = run.parentRunId;
    for (const [key, value] of Object.entries(tags)) checkTag(key, value);
    const runId = crypto.randomUUID().replaceAll("-", "");
    const startTime = run.startTime ?? Date.now();
    this.db.transaction(() => {
      this.db
        .query(
          "INSERT INTO runs (run_id, experiment_id, name, status, start_time, parent_run_id) VALUES (?, ?, ?, 'RUNNING', ?, ?)",
        )
        .run(runId, run.experimentId, run.name, startTime, run.parentRunId ?? null);
      this.writeTags(runId, tags);
    })();
    return this.info(this.runRow(runId));
  }

  async logParams(runId: string, params: Readonly<Record<string, string | number | boolean>>): Promise<void> {
    const entries = Object.entries(params).map(([key, value]) => [key, paramText(value)] as const);
    checkBatch("parameters", entries.length);
    for (const [key, value] of entries) checkParam(key, value);
    this.runRow(runId);
    const existing = this.db.query<{ value: string }, [string, string]>(
      "SELECT value FROM params WHERE run_id = ? AND key = ?",
    );
    this.db.transaction(() => {
      for (const [key, value] of entries) {
        const before = existing.get(runId, key);
        if (before && before.value !== value) {
          invalid(
            `parameter ${key} was logged as ${JSON.stringify(before.value)}; a parameter is written once`,
          );
        }
        if (!before)
          this.db.query("INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)").run(runId, key, value);
      }
    })();
  }

  async logMetrics(runId: string, points: readonly MetricPoint[]): Promise<void> {
    checkBatch("metric points", points.length);
    for (const point of points) checkMetric(point.key, point.value, point.step, point.timestamp);
    this.runRow(runId);
    const insert = this.db.query(
      "INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)",
    );
    this.db.transaction(() => {
      for (const p of points) insert.run(runId, p.key, p.value, p.step, p.timestamp);
    })();
  }

  async setTags(runId: string, tags: Readonly<Record<string, string>>): Promise<void> {
    const entries = Object.entries(tags);
    checkBatch("tags", entries.length);
    for (const [key, value] of entries) checkTag(key, value);
    this.runRow(runId);
    this.db.transaction(() => this.writeTags(runId, tags))();
  }

  async endRun(runId: string, status: Exclude<RunStatus, "RUNNING">, endTime = Date.now()): Promise<void> {
    this.runRow(runId);
    this.db.query("UPDATE runs SET status = ?, end_time = ? WHERE run_id = ?").run(status, endTime, runId);
  }

  async getRun(runId: string): Promise<Run> {
    const info = this.info(this.runRow(runId));
    const params = Object.fromEntries(
      this.db
        .query<{ key: string; value: string }, [string]>("SELECT key, value FROM params WHERE run_id = ?")
        .all(runId)
        .map((row) => [row.key, row.value]),
    );
    const tags = Object.fromEntries(
      this.db
        .query<{ key: string; value: string }, [string]>("SELECT key, value FROM run_tags WHERE run_id = ?")
        .all(runId)
        .map((row) => [row.key, row.value]),
    );
    // MLflow's latest metric: the highest step, then the latest timestamp, then the largest value
    const latest = this.db
      .query<MetricPoint, [string]>(
        `SELECT key, value, step, timestamp FROM (
           SELECT *, ROW_NUMBER() OVER (PARTITION BY key ORDER BY step DESC, timestamp DESC, value DESC) AS rank
           FROM metrics WHERE run_id = ?) WHERE rank = 1`,
      )
      .all(runId);
    return {
      info,
      params,
      tags,
      metrics: Object.fromEntries(latest.map((point) => [point.key, { ...point }])),
    };
  }

  async metricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    this.runRow(runId);
    return this.db
      .query<MetricPoint, [string, string]>(
        "SELECT key, value, step, timestamp FROM metrics WHERE run_id = ? AND key = ? ORDER BY step, timestamp",
      )
      .all(runId, key)
      .map((point) => ({ ...point }));
  }

  async searchRuns(experimentId: string, filter: { readonly parentRunId?: string } = {}): Promise<Run[]> {
    const rows =
      filter.parentRunId === undefined
        ? this.db
            .query<{ run_id: string }, [string]>(
              "SELECT run_id FROM runs WHERE experiment_id = ? ORDER BY start_time DESC, rowid DESC",
            )
            .all(experimentId)
        : this.db
            .query<{ run_id: string }, [string, string]>(
              "SELECT run_id FROM runs WHERE experiment_id = ? AND parent_run_id = ? ORDER BY start_time DESC, rowid DESC",
            )
            .all(experimentId, filter.parentRunId);
    return Promise.all(rows.map((row) => this.getRun(row.run_id)));
  }

  async logArtifact(runId: string, path: string, bytes: Uint8Array): Promise<void> {
    checkArtifactPath(path);
    const target = join(this.runArtifacts(runId), path);
    await mkdir(dirname(target), { recursive: true });
    const temporary = `${target}.${crypto.randomUUID()}.partial`;
    await writeFile(temporary, bytes);
    await rename(temporary, target);
  }

  async readArtifact(runId: string, path: string): Promise<Uint8Array> {
    checkArtifactPath(path);
    const file = join(this.runArtifacts(runId), path);
    try {
      return new Uint8Array(await readFile(file));
    } catch (error) {
      if (
        (error as NodeJS.ErrnoException).code === "ENOENT" ||
        (error as NodeJS.ErrnoException).code === "EISDIR"
      ) {
        notFound(`run ${runId} has no artifact ${path}`);
      }
      throw error;
    }
  }

  async listArtifacts(runId: string): Promise<ArtifactEntry[]> {
    const root = this.runArtifacts(runId);
    const entries: ArtifactEntry[] = [];
    const walk = async (folder: string): Promise<void> => {
      let names: string[];
      try {
        names = await readdir(folder);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        throw error;
      }
      for (const name of names) {
        if (name.endsWith(".partial")) continue;
        const full = join(folder, name);
        const info = await stat(full);
        if (info.isDirectory()) await walk(full);
        else entries.push({ path: relative(root, full), size: info.size });
      }
    };
    await walk(root);
    return entries.sort((a, b) => a.path.localeCompare(b.path));
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private runArtifacts(runId: string): string {
    const row = this.runRow(runId);
    return join(this.artifactRoot, row.experiment_id, row.run_id, "artifacts");
  }

  private writeTags(runId: string, tags: Readonly<Record<string, string>>): void {
    const upsert = this.db.query(
      "INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
    );
    for (const [key, value] of Object.entries(tags)) upsert.run(runId, key, value);
  }

  private runRow(runId: string): RunRow {
    if (!/^[0-9a-f]{32}$/.test(runId)) notFound(`run ${JSON.stringify(runId.slice(0, 40))} does not exist`);
    const row = this.db.query<RunRow, [string]>("SELECT * FROM runs WHERE run_id = ?").get(runId);
    if (!row) notFound(`run ${runId} does not exist`);
    return row;
  }

  private info(row: RunRow): RunInfo {
    return {
      runId: row.run_id,
      experimentId: row.experiment_id,
      name: row.name,
      status: row.status as RunStatus,
      startTime: row.start_time,
      endTime: row.end_time ?? undefined,
      parentRunId: row.parent_run_id ?? undefined,
    };
  }
}

interface RunRow {
  run_id: string;
  experiment_id: string;
  name: string;
  status: string;
  start_time: number;
  end_time: number | null;
  parent_run_id: string | null;
}
