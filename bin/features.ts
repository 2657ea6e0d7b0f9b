/**
 * `bun run features`: the feature store from the command line, against the node's log (the
 * registry's topic: KAFKA_BROKERS, else the embedded log in DATA_DIR), lake (LAKE_DIR, else
 * DATA_DIR/lake) and online store (REDIS_URL, else DATA_DIR/features/online.db).
 *
 *   bun run features -- list [--q words] [--entity sensor_id] [--tag type=traffic]
 *   bun run features -- training-set --views v1,v2@3 --entities frame.parquet --out set.parquet
 *        [--format parquet|delta] [--timestamp-column event_timestamp] [--full-feature-names]
 *        [--table-versions table=12,...]
 *   bun run features -- materialize <view> (--from <ms|ISO> [--to <ms|ISO>] | --incremental)
 *   bun run features -- statistics <view> [--version N]
 *
 * A training set prints its lineage (view versions, table versions) and the statistics each
 * view version has as its drift reference; long joins draw a progress bar on stderr.
 */
import { join, resolve } from "node:path";
import { FeatureStore } from "../features/feature-store.ts";
import { openOnlineStore } from "../features/online/index.ts";
import { IOT_FEATURE_VIEWS, IOT_ON_DEMAND_VIEWS } from "../features/views/iot-views.ts";
import { DeltaTable } from "../lake/delta/delta-table.ts";
import type { DeltaPrimitiveType } from "../lake/delta/schema.ts";
import { openLog } from "../log/index.ts";
import { kafkaSecurityFromEnv } from "../log/kafka/kafka-security.ts";
import { isPlatformError } from "../messages/errors.ts";
import { loadNodeConfig } from "../node/config.ts";

const USAGE = `usage: bun run features -- list [--q words] [--entity key] [--tag k=v] [--owner o]
       bun run features -- training-set --views a,b@2 --entities frame.parquet --out path [--format parquet|delta]
            [--timestamp-column event_timestamp] [--full-feature-names] [--table-versions table=N,...]
       bun run features -- materialize <view> (--from <ms|ISO> [--to <ms|ISO>] | --incremental)
       bun run features -- statistics <view> [--version N]`;
const SWITCHES = new Set(["full-feature-names", "incremental"]);

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
    if (SWITCHES.has(name)) {
      flags[name] = "true";
      continue;
    }
    const value = argv[++i];
    if (value === undefined) fail(`--${name} needs a value`);
    flags[name] = value;
  }
  return { positional, flags };
}

function instant(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = /^-?[0-9]+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isSafeInteger(value)) fail(`--${name} must be epoch milliseconds or an ISO 8601 time`);
  return value;
}

/** a bar on stderr when it is a terminal, a line per tenth otherwise */
function progressBar(label: string): (fraction: number) => void {
  let lastTenth = -1;
  return (fraction) => {
    const percent = Math.round(fraction * 100);
    if (process.stderr.isTTY) {
      const filled = Math.round(fraction * 30);
      process.stderr.write(`\r${label} [${"#".repeat(filled)}${" ".repeat(30 - filled)}] ${percent}%`);
      if (fraction >= 1) process.stderr.write("\n");
    } else if (Math.floor(fraction * 10) > lastTenth) {
      lastTenth = Math.floor(fraction * 10);
      process.stderr.write(`${label} ${percent}%\n`);
    }
  };
}

const DELTA_TYPES: Record<string, DeltaPrimitiveType> = {
  VARCHAR: "string",
  DOUBLE: "double",
  FLOAT: "float",
  BIGINT: "long",
  INTEGER: "integer",
  BOOLEAN: "boolean",
  "TIMESTAMP WITH TIME ZONE": "timestamp",
  TIMESTAMP: "timestamp_ntz",
  DATE: "date",
};

async function main(): Promise<void> {
  const { positional, flags } = parseArgs(process.argv.slice(2));
  const [command, name] = positional;
  if (!command) fail("name a command");
  const config = loadNodeConfig(process.env, [], { progress: false });
  const log = config.kafkaBrokers
    ? await openLog({
        kind: "kafka",
        brokers: config.kafkaBrokers.split(",").map((b) => b.trim()),
        clientId: "features-cli",
        security: kafkaSecurityFromEnv(process.env),
      })
    : await openLog({ kind: "embedded", path: join(config.dataDir, "log.db") });
  const online = await openOnlineStore({
    dataDir: config.dataDir,
    redisUrl: config.redisUrl,
    prefix: `fs:${config.applicationId}`,
  });
  const store = await FeatureStore.open({
    log,
    lakeDir: resolve(config.lakeDir ?? join(config.dataDir, "lake")),
    online,
    onDemand: IOT_ON_DEMAND_VIEWS,
  });
  try {
    switch (command) {
      case "list": {
        // a fresh log has no views until a node started: the code's views are registered here too
        if (store.registry.search().length === 0) await store.registerCode(IOT_FEATURE_VIEWS);
        const views = store.registry.search({
          ...(flags.q ? { q: flags.q } : {}),
          ...(flags.entity ? { entity: flags.entity } : {}),
          ...(flags.tag ? { tag: flags.tag } : {}),
          ...(flags.owner ? { owner: flags.owner } : {}),
        });
        for (const v of views)
          console.log(
            `${v.name.padEnd(28)} v${v.latestVersion} ${(v.entity ?? "").padEnd(10)} ${v.features.length} features  ${v.description}`,
          );
        return;
      }
      case "training-set": {
        const views = flags.views?.split(",").filter(Boolean);
        if (!views || views.length === 0) fail("--views names the feature views (view or view@version)");
        if (!flags.entities) fail("--entities names the entity frame (parquet)");
        if (!flags.out) fail("--out names where the training set goes");
        const format = flags.format ?? (flags.out.endsWith(".parquet") ? "parquet" : "delta");
        if (format !== "parquet" && format !== "delta") fail("--format is parquet or delta");
        const tableVersions: Record<string, number> = {};
        for (const pair of (flags["table-versions"] ?? "").split(",").filter(Boolean)) {
          const [table, version] = pair.split("=");
          if (!table || !/^[0-9]+$/.test(version ?? "")) fail("--table-versions is table=N[,table=N]");
          tableVersions[table] = Number(version);
        }
        const request = {
          views,
          entities: { parquet: resolve(flags.entities) },
          ...(flags["timestamp-column"] ? { timestampColumn: flags["timestamp-column"] } : {}),
          ...(flags["full-feature-names"] ? { fullFeatureNames: true } : {}),
          tableVersions,
          onProgress: progressBar("point-in-time join"),
        };
        const out = resolve(flags.out);
        const set =
          format === "parquet"
            ? await store.trainingSet(request, { kind: "parquet", path: out })
            : await store.trainingSet(request);
        if (format === "delta") await writeDelta(out, set.columns, set.rows ?? [], set.lineage);
        console.log(
          JSON.stringify(
            {
              out,
              format,
              rows: set.rowCount,
              seconds: Number((set.elapsedMs / 1000).toFixed(3)),
              lineage: set.lineage,
              driftReferences: set.references.map((r) => ({
                view: r.view,
                version: r.version,
                statistics: r.statistics
                  ? { tableVersion: r.statistics.tableVersion, rows: r.statistics.rows }
                  : null,
              })),
            },
            null,
            2,
          ),
        );
        return;
      }
      case "materialize": {
        if (!name) fail("name the view to materialize");
        const result = flags.incremental
          ? await store.materializeIncremental(name)
          : await store.materialize(name, {
              from: instant("from", flags.from) ?? fail("--from or --incremental"),
              to: instant("to", flags.to) ?? Date.now(),
            });
        console.log(JSON.stringify(result, null, 2));
        return;
      }
      case "statistics": {
        if (!name) fail("name the view");
        const version = flags.version === undefined ? undefined : Number(flags.version);
        console.log(JSON.stringify(await store.computeStatistics(name, version), null, 2));
        return;
      }
      default:
        fail(`unknown command '${command}'`);
    }
  } finally {
    await store.close();
    await log.close();
  }
}

/** the training set as a new Delta table, its lineage in the commit's info */
async function writeDelta(
  dir: string,
  columns: readonly { name: string; type: string }[],
  rows: readonly Record<string, unknown>[],
  lineage: unknown,
): Promise<void> {
  const schema = columns.map((c) => {
    const type = DELTA_TYPES[c.type];
    if (!type)
      fail(`column ${c.name} is ${c.type}, which the Delta output does not write; use --format parquet`);
    return { name: c.name, type, nullable: true, metadata: {} };
  });
  const table = await DeltaTable.create(dir, { name: "training_set", schema });
  const plain = rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(row))
      out[key] = value instanceof Date ? value.getTime() : value;
    return out;
  });
  await table.append(plain, { commitInfo: { lineage } });
}

main().catch((error: unknown) => {
  console.error(
    `error: ${isPlatformError(error) ? error.message : error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
