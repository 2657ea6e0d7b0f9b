/**
 * `bun run lake`: the lake from the command line, on the node's lake folder (LAKE_DIR, else
 * DATA_DIR/lake). Safe beside a running node: every change is a Delta commit, and concurrent
 * writers are reconciled by the protocol (an OPTIMIZE that loses to a sink's commit gives up).
 *
 *   bun run lake -- tables
 *   bun run lake -- history <table> [--limit 20]
 *   bun run lake -- optimize <table|all> [--target-mb 128]
 *   bun run lake -- vacuum <table|all> [--retention-hours 168] [--dry-run]
 *   bun run lake -- query "<sql>" [--versions table=3,table=7] [--as-of <ms|ISO>] [--limit 100]
 *   bun run lake -- gold                       run the gold jobs once
 */
import { join, resolve } from "node:path";
import type { DeltaTable } from "../lake/delta/delta-table.ts";
import { optimize, vacuum } from "../lake/delta/maintenance.ts";
import { LakeQueryEngine } from "../lake/query/lake-query-engine.ts";
import { LAKE_TABLES } from "../lake/tables/catalogue.ts";
import { DistrictHourlyJob } from "../lake/tables/district-hourly-job.ts";
import { GOLD_VIEWS } from "../lake/tables/gold.ts";
import { openLakeTables } from "../lake/tables/open-lake-tables.ts";
import { isPlatformError } from "../messages/errors.ts";
import { loadNodeConfig } from "../node/config.ts";

const USAGE = `usage: bun run lake -- tables
       bun run lake -- history <table> [--limit N]
       bun run lake -- optimize <table|all> [--target-mb N]
       bun run lake -- vacuum <table|all> [--retention-hours N] [--dry-run]
       bun run lake -- query "<sql>" [--versions table=N,...] [--as-of <ms|ISO>] [--limit N]
       bun run lake -- gold`;

function fail(message: string): never {
  console.error(`error: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): { positional: string[]; flags: Record<string, string> } {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") continue;
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const name = arg.slice(2);
    if (name === "dry-run") {
      flags[name] = "true";
      continue;
    }
    const value = argv[++i];
    if (value === undefined) fail(`--${name} needs a value`);
    flags[name] = value;
  }
  return { positional, flags };
}

function wholeFlag(flags: Record<string, string>, name: string): number | undefined {
  const text = flags[name];
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(text)) fail(`--${name} must be a whole number`);
  return Number(text);
}

function chosen(tables: Map<string, DeltaTable>, name: string | undefined): [string, DeltaTable][] {
  if (name === undefined) fail("name a table, or all");
  if (name === "all") return [...tables];
  const table = tables.get(name);
  if (!table) fail(`no lake table '${name.slice(0, 64)}'; tables: ${[...tables.keys()].join(", ")}`);
  return [[name, table]];
}

async function main(): Promise<void> {
  const { positional, flags } = parseArgs(process.argv.slice(2));
  const [command, argument] = positional;
  const config = loadNodeConfig(process.env, [], { progress: false });
  const lakeDir = resolve(config.lakeDir ?? join(config.dataDir, "lake"));
  const tables = await openLakeTables(lakeDir);
  switch (command) {
    case "tables": {
      for (const entry of LAKE_TABLES) {
        const snapshot = await (tables.get(entry.name) as DeltaTable).snapshot();
        const rows = snapshot.files.reduce((sum, f) => sum + (f.numRecords ?? 0), 0);
        console.log(
          `${entry.name.padEnd(24)} ${entry.layer.padEnd(6)} v${snapshot.version}  ${snapshot.files.length} files  ${rows} rows`,
        );
      }
      return;
    }
    case "history": {
      const [[, table]] = chosen(tables, argument) as [[string, DeltaTable]];
      for (const commit of await table.history(wholeFlag(flags, "limit") ?? 20))
        console.log(JSON.stringify({ ...commit, timestamp: new Date(commit.timestamp).toISOString() }));
      return;
    }
    case "optimize": {
      const targetMb = wholeFlag(flags, "target-mb");
      for (const [name, table] of chosen(tables, argument)) {
        const result = await optimize(table, targetMb ? { targetFileSize: targetMb * 1024 * 1024 } : {});
        console.log(`${name}: ${JSON.stringify(result)}`);
      }
      return;
    }
    case "vacuum": {
      const retentionHours = wholeFlag(flags, "retention-hours") ?? config.lakeVacuumRetentionHours;
      for (const [name, table] of chosen(tables, argument)) {
        const result = await vacuum(table, { retentionHours, dryRun: flags["dry-run"] === "true" });
        console.log(`${name}: ${result.dryRun ? "would delete" : "deleted"} ${result.files.length} files`);
      }
      return;
    }
    case "query": {
      if (argument === undefined) fail("give the SQL");
      const versions: Record<string, number> = {};
      for (const pair of (flags.versions ?? "").split(",").filter(Boolean)) {
        const [name, version] = pair.split("=") as [string, string | undefined];
        if (!version || !/^[0-9]+$/.test(version)) fail("--versions is table=N[,table=N...]");
        versions[name] = Number(version);
      }
      const engine = await LakeQueryEngine.open({ lakeDir, tables: () => tables, views: GOLD_VIEWS });
      try {
        const asOf = flags["as-of"];
        const result = await engine.query({
          sql: argument,
          versions,
          ...(asOf === undefined ? {} : { asOf: /^[0-9]+$/.test(asOf) ? Number(asOf) : asOf }),
          limit: wholeFlag(flags, "limit") ?? 100,
        });
        console.table(result.rows);
        console.log(
          `${result.rows.length} rows${result.truncated ? " (more: raise --limit)" : ""} in ${result.elapsedMs} ms; versions ${JSON.stringify(result.versions)}`,
        );
      } finally {
        engine.close();
      }
      return;
    }
    case "gold": {
      const job = new DistrictHourlyJob({
        applicationId: config.applicationId,
        silver: tables.get("silver_sensor_readings") as DeltaTable,
        gold: tables.get("gold_district_hourly") as DeltaTable,
      });
      try {
        console.log(`gold_district_hourly: ${JSON.stringify(await job.runOnce())}`);
      } finally {
        await job.close();
      }
      return;
    }
    default:
      fail(command === undefined ? "give a command" : `unknown command '${command.slice(0, 40)}'`);
  }
}

main().catch((error: unknown) => {
  // a refused query or a missing version is the user's answer; anything else is a failure
  console.error(isPlatformError(error) ? error.message : error);
  process.exit(1);
});
