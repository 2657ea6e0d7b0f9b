/**
 * The processed readings' encode on the node's main thread: the node's codec (registry, the
 * platform's schemas, `handOver` as the output router asks) framing silver and quarantine values
 * shaped as the sensor actors emit them, with the generic JSON Schema check (A, the codec without
 * write checks) against the hand-written one (B, messages/processed-reading-schema-check.ts).
 * Both codecs in one process, runs interleaved A B A B ...; CPU of this (single) thread per 1,000
 * readings, medians. Fresh values each run (a handed-over value is frozen).
 *
 *   bun bench/silver-encode.ts [--readings 100000] [--runs 5]
 */
import { openLog } from "../log/index.ts";
import { type RecordCodec, registryCodec } from "../messages/codec/record-codec.ts";
import { platformSchemas, subjectOf } from "../messages/platform-schemas.ts";
import { passesProcessedReadingSchema } from "../messages/processed-reading-schema-check.ts";
import { SchemaSerde } from "../messages/schema-registry/schema-serde.ts";
import { Topics } from "../messages/topics.ts";
import { SchemaRegistry } from "../registries/schema-registry.ts";
import { median } from "./support.ts";

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const READINGS = arg("readings", 100_000);
const RUNS = arg("runs", 5);

const log = await openLog({ kind: "embedded", path: ":memory:" });
const registry = await SchemaRegistry.open(log);
const schemas = platformSchemas();
const topics = new Set([Topics.silver, Topics.quarantine]);
const generic = registryCodec(new SchemaSerde(registry, { schemas }), topics);
const checked = registryCodec(
  new SchemaSerde(registry, {
    schemas,
    writeChecks: new Map([
      [subjectOf(Topics.silver), passesProcessedReadingSchema],
      [subjectOf(Topics.quarantine), passesProcessedReadingSchema],
    ]),
  }),
  topics,
);

const TYPES = ["traffic", "environment", "utility"] as const;
function readings(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < READINGS; i++) {
    const type = TYPES[i % 3]!;
    const passed = i % 10 !== 0;
    out.push({
      sensor_id: `${type}-${i % 3000}`,
      type,
      event_time: 1_764_633_600_000 + i,
      values:
        type === "traffic"
          ? { vehicle_count: i % 90, avg_speed: 30 + (i % 40) / 3, lat: 40.7, lon: -74 }
          : type === "environment"
            ? { temperature: 12.5 + (i % 9), humidity: 40 + (i % 30), air_quality_index: 50 + (i % 60) }
            : { consumption: 1.5 + (i % 7), voltage: 229 + (i % 3), current: 5 + (i % 4) / 10 },
      passed,
      quality_score: passed ? 1 : 0.5,
      issues: passed
        ? []
        : [
            {
              rule: "range.avg_speed",
              family: "range",
              severity: "error",
              message: "avg_speed out of range",
            },
          ],
      anomaly_score: (i % 100) / 100,
      history: i % 500,
      enrichment: i % 7 === 0 ? null : { district: `d${i % 12}`, zone: `z${i % 40}` },
      partition: i % 8,
      offset: i,
    });
  }
  return out;
}

async function run(codec: RecordCodec): Promise<number> {
  const values = readings();
  const start = process.cpuUsage();
  for (const value of values)
    await codec.encode(value.passed ? Topics.silver : Topics.quarantine, value, { handOver: true });
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / (READINGS / 1000);
}

// warm both (the writer ids, the validator's closures, the JIT)
await run(generic);
await run(checked);
const a: number[] = [];
const b: number[] = [];
for (let r = 0; r < RUNS; r++) {
  a.push(await run(generic));
  b.push(await run(checked));
}
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(3)).join(" / ");
console.log(`readings ${READINGS}, runs ${RUNS}, CPU ms per 1,000 readings (encode, handOver)`);
console.log(`A generic JSON Schema check: ${fmt(a)}  median ${median(a).toFixed(3)}`);
console.log(`B hand-written check:        ${fmt(b)}  median ${median(b).toFixed(3)}`);
console.log(`B/A ${(median(b) / median(a)).toFixed(2)}`);
await log.close();
