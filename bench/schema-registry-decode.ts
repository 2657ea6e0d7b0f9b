/**
 * Decode cost of the schema-registry hot path with the schema id cached: `SchemaSerde.decode`
 * (read the 5-byte Confluent header, look the id up, UTF-8 decode, JSON.parse, validate) against
 * the same work with no registry at all (UTF-8 decode + JSON.parse + the same compiled validator
 * on the bare payload), measured in the same run, interleaved, median of several runs.
 * Also timed alone: the lookup itself (header read + id map lookup). Both sides decode UTF-8 with
 * the same in-place decoder (messages/schema-registry/utf8-text.ts), so the difference is the
 * registry's share only.
 * Target (issue 4): the lookup adds < 1% to decode cost.
 */
import { openLog } from "../log/index.ts";
import { SchemaSerde } from "../messages/schema-registry/schema-serde.ts";
import { utf8Text } from "../messages/schema-registry/utf8-text.ts";
import { schemaIdOf } from "../messages/schema-registry/wire-format.ts";
import { SchemaRegistry } from "../registries/schema-registry.ts";
import { median } from "./support.ts";

const RUNS = Number(process.env.RUNS ?? 41);
const RECORDS = 2_000;
const PASSES = Number(process.env.PASSES ?? 15); // records decoded per run = RECORDS * PASSES

const readingSchema = {
  type: "object",
  properties: {
    sensor_id: { type: "string", minLength: 1 },
    sensor_type: { enum: ["traffic", "weather", "air_quality", "noise"] },
    timestamp: { type: "integer", minimum: 0 },
    location: {
      type: "object",
      properties: { lat: { type: "number" }, lon: { type: "number" } },
      required: ["lat", "lon"],
    },
    data: {
      type: "object",
      properties: {
        vehicle_count: { type: "integer", minimum: 0, maximum: 500 },
        avg_speed: { type: "number", minimum: 0 },
        congestion_level: { enum: ["low", "medium", "high"] },
      },
    },
  },
  required: ["sensor_id", "sensor_type", "timestamp", "data"],
};

const log = await openLog({ kind: "embedded", path: ":memory:" });
const registry = await SchemaRegistry.open(log);
const serde = new SchemaSerde(registry, { schemas: { "city.sensors.raw-value": readingSchema } });

const framed: Uint8Array[] = [];
const bare: Uint8Array[] = [];
for (let i = 0; i < RECORDS; i++) {
  const value = {
    sensor_id: `traffic_${i % 200}`,
    sensor_type: "traffic",
    timestamp: 1_764_000_000_000 + i * 1000,
    location: { lat: 40.7 + (i % 10) / 100, lon: -74 + (i % 7) / 100 },
    data: {
      vehicle_count: i % 400,
      avg_speed: 20 + (i % 50) / 3,
      congestion_level: ["low", "medium", "high"][i % 3],
    },
  };
  const bytes = await serde.encode("city.sensors.raw-value", value);
  framed.push(bytes);
  bare.push(bytes.slice(5));
}
const validate = registry.schemaById(schemaIdOf(framed[0]!)).validate;

let sink = 0;
function noRegistry(): number {
  const start = performance.now();
  for (let pass = 0; pass < PASSES; pass++) {
    for (let i = 0; i < RECORDS; i++) {
      const value = JSON.parse(utf8Text(bare[i]!, 0)) as { timestamp: number };
      if (validate(value)) throw new Error("unexpected failure");
      sink += value.timestamp & 1;
    }
  }
  return ((performance.now() - start) * 1e6) / (RECORDS * PASSES);
}

function withRegistry(): number {
  const start = performance.now();
  for (let pass = 0; pass < PASSES; pass++) {
    for (let i = 0; i < RECORDS; i++) {
      const value = serde.decode(framed[i]!) as { timestamp: number };
      sink += value.timestamp & 1;
    }
  }
  return ((performance.now() - start) * 1e6) / (RECORDS * PASSES);
}

const cache = new Map([[schemaIdOf(framed[0]!), validate]]);
function lookupOnly(): number {
  const start = performance.now();
  for (let pass = 0; pass < PASSES; pass++) {
    for (let i = 0; i < RECORDS; i++) {
      const bytes = framed[i]!;
      const check = cache.get(schemaIdOf(bytes));
      sink += check === undefined ? 1 : 0;
    }
  }
  return ((performance.now() - start) * 1e6) / (RECORDS * PASSES);
}

// warm-up: let the JIT see every path
noRegistry();
withRegistry();
lookupOnly();
const base: number[] = [];
const full: number[] = [];
const lookup: number[] = [];
const ratios: number[] = [];
for (let run = 0; run < RUNS; run++) {
  // alternate the order so drift on a shared machine hits both sides alike
  const a = run % 2 === 0 ? noRegistry() : Number.NaN;
  const b = withRegistry();
  const a2 = Number.isNaN(a) ? noRegistry() : a;
  base.push(a2);
  full.push(b);
  ratios.push(b / a2);
  lookup.push(lookupOnly());
}
const baseNs = median(base);
const fullNs = median(full);
const lookupNs = median(lookup);
const overheadPct = (median(ratios) - 1) * 100;
const lookupPct = (lookupNs / baseNs) * 100;
console.table([
  { path: "no registry: utf-8 + JSON.parse + validate", "ns/record": baseNs.toFixed(1) },
  { path: "SchemaSerde.decode (id cached)", "ns/record": fullNs.toFixed(1) },
  { path: "lookup alone: header + id map", "ns/record": lookupNs.toFixed(1) },
]);
console.log(
  `records: ${framed[0]!.byteLength} bytes framed; decode overhead vs no registry: ${overheadPct.toFixed(2)}% (median of ${RUNS} paired runs); lookup alone: ${lookupPct.toFixed(2)}% of the decode cost`,
);
if (sink === -1) console.log(sink);
console.log(
  JSON.stringify({
    name: "schema-registry-decode.cached-id",
    value: Number(fullNs.toFixed(1)),
    unit: "ns/record",
    baseline: "json-parse-validate-no-registry",
    baseline_value: Number(baseNs.toFixed(1)),
  }),
);
console.log(
  JSON.stringify({
    name: "schema-registry-decode.overhead",
    value: Number(overheadPct.toFixed(2)),
    unit: "%",
    baseline: "json-parse-validate-no-registry",
    baseline_value: 0,
  }),
);
console.log(
  JSON.stringify({
    name: "schema-registry-decode.lookup-share",
    value: Number(lookupPct.toFixed(2)),
    unit: "% of decode",
    baseline: "json-parse-validate-no-registry",
    baseline_value: Number(baseNs.toFixed(1)),
  }),
);
await log.close();
