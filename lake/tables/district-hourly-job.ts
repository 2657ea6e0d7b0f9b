import { DuckDBInstance } from "@duckdb/node-api";
import type { DeltaTable } from "../delta/delta-table.ts";
import type { DeltaSnapshot } from "../delta/table-state.ts";
import { snapshotSelect, sqlString } from "../query/snapshot-view.ts";
import { DISTRICT_HOURLY_MEASURES } from "./gold.ts";
import { MEASUREMENT_COLUMNS } from "./silver.ts";

/**
 * The gold job behind `gold_district_hourly`: per district, sensor type and UTC hour, the
 * readings, the sensors, the mean of each measurement, the mean quality and the worst anomaly,
 * computed with DuckDB SQL over silver.
 *
 * Incremental and idempotent: a run reads the silver files added since the silver version it
 * last summarised, finds the hours they touch, recomputes those hours in full from the silver
 * snapshot, and replaces the gold partitions (date, hour) in one commit that also records the
 * silver version as its `txn` (app id `<app>/gold_district_hourly/silver`). A run that dies
 * before its commit leaves nothing; the next one starts again from the recorded version. A run
 * that finds the recorded version at or past the snapshot's does nothing. Silver files rewritten
 * by OPTIMIZE count as added: their hours are recomputed to the same result.
 */
export interface DistrictHourlyRun {
  /** the silver version summarised (undefined: nothing new) */
  readonly silverVersion: number | undefined;
  readonly hours: number;
  readonly rows: number;
  readonly goldVersion: number | undefined;
}

const HOUR_MS = 3_600_000;

export class DistrictHourlyJob {
  private instance: Promise<DuckDBInstance> | undefined;
  readonly appId: string;

  constructor(
    private readonly options: {
      readonly applicationId: string;
      readonly silver: DeltaTable;
      readonly gold: DeltaTable;
    },
  ) {
    this.appId = `${options.applicationId}/gold_district_hourly/silver`;
  }

  async runOnce(): Promise<DistrictHourlyRun> {
    const { silver, gold } = this.options;
    const snapshot = await silver.snapshot();
    const done = (await gold.txnVersions([this.appId])).get(this.appId);
    if (done !== undefined && done >= snapshot.version) {
      return { silverVersion: undefined, hours: 0, rows: 0, goldVersion: undefined };
    }
    const added = await this.filesSince(snapshot, done);
    const hours = added.length === 0 ? [] : await this.touchedHours(added.map((f) => f.path));
    const rows = hours.length === 0 ? [] : await this.summarise(snapshot, hours);
    // the txn alone records progress when nothing changed (an empty silver commit)
    const commit = await gold.replacePartitions(rows, {
      txn: { appId: this.appId, version: snapshot.version },
      commitInfo: { engineInfo: "gold job district-hourly" },
    });
    return {
      silverVersion: snapshot.version,
      hours: hours.length,
      rows: rows.length,
      goldVersion: commit.skipped ? undefined : commit.version,
    };
  }

  async close(): Promise<void> {
    const instance = await this.instance;
    instance?.closeSync();
  }

  private async filesSince(snapshot: DeltaSnapshot, version: number | undefined) {
    if (version === undefined) return [...snapshot.files];
    const before = new Set(
      (await this.options.silver.snapshot({ version })).files.map((f) => f.relativePath),
    );
    return snapshot.files.filter((f) => !before.has(f.relativePath));
  }

  private async touchedHours(paths: readonly string[]): Promise<number[]> {
    const rows = await this.select(
      `SELECT DISTINCT CAST(epoch_ms(date_trunc('hour', event_time)) AS DOUBLE) AS h
       FROM read_parquet([${paths.map(sqlString).join(", ")}], union_by_name = true) ORDER BY h`,
    );
    return rows.map((r) => Number(r.h));
  }

  private async summarise(
    snapshot: DeltaSnapshot,
    hours: readonly number[],
  ): Promise<Record<string, unknown>[]> {
    const dates = new Set(hours.map((h) => new Date(h).toISOString().slice(0, 10)));
    // only the silver partitions of the touched days are read
    const files = snapshot.files.filter((f) => dates.has(String(f.partitionValues.date)));
    const view = snapshotSelect({ ...snapshot, files });
    const averages = MEASUREMENT_COLUMNS.map((m, i) => `avg(${m}) AS ${DISTRICT_HOURLY_MEASURES[i]}`);
    const rows = await this.select(
      `SELECT CAST(epoch_ms(date_trunc('hour', event_time)) AS DOUBLE) AS hour_ms, district, type,
              CAST(count(*) AS DOUBLE) AS readings, CAST(count(DISTINCT sensor_id) AS DOUBLE) AS sensors,
              ${averages.join(", ")}, avg(quality_score) AS avg_quality_score, max(anomaly_score) AS max_anomaly_score
       FROM (${view}) silver
       WHERE CAST(epoch_ms(date_trunc('hour', event_time)) AS DOUBLE) IN (${hours.join(", ")})
       GROUP BY ALL ORDER BY hour_ms, district, type`,
    );
    return rows.map((r) => {
      const hourMs = Number(r.hour_ms);
      const row: Record<string, unknown> = {
        hour_start: hourMs,
        district: r.district ?? null,
        readings: Number(r.readings),
        sensors: Number(r.sensors),
        avg_quality_score: r.avg_quality_score,
        max_anomaly_score: r.max_anomaly_score,
        date: new Date(hourMs).toISOString().slice(0, 10),
        hour: Math.floor((hourMs % 86_400_000) / HOUR_MS),
        type: r.type,
      };
      for (const m of DISTRICT_HOURLY_MEASURES) row[m] = r[m] ?? null;
      return row;
    });
  }

  private async select(sql: string): Promise<Record<string, unknown>[]> {
    this.instance ??= DuckDBInstance.create(":memory:", {
      autoinstall_known_extensions: "false",
      autoload_known_extensions: "false",
    });
    const connection = await (await this.instance).connect();
    try {
      // hours are UTC hours, whatever the machine's zone
      await connection.run("SET TimeZone = 'UTC'");
      const reader = await connection.runAndReadAll(sql);
      return reader.getRowObjectsJS() as Record<string, unknown>[];
    } finally {
      connection.closeSync();
    }
  }
}
