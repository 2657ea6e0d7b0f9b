/**
 * The stream-table join hot path (stream/enrichment/): readings joined with a 100k-row sensor
 * registry by the enricher (left join, latest row; and as of event time on a versioned table),
 * against the floor: a bare Map.get plus an object spread, measured in the same run. Also the
 * restore rate of the table itself (decode + zod validation + upsert per record) against
 * JSON.parse alone.
 *
 * Usage: bun bench/enrichment-join.ts   Env: ENRICH_READINGS (500000), ENRICH_RUNS (5)
 */
import type { LogRecord } from "../log/log.ts";
import { type SensorRegistryRecord, sensorRegistryKind } from "../messages/reference-data.ts";
import { registryRowOf } from "../sources/reference/sensor-registry.ts";
import { ReferenceTable } from "../stream/enrichment/reference-table.ts";
import { createEnricher, withEnrichment } from "../stream/enrichment/stream-table-join.ts";
import { median, printFigure } from "./support.ts";

const ROWS = 100_000;
const READINGS = Number(process.env.ENRICH_READINGS ?? 500_000);
const RUNS = Number(process.env.ENRICH_RUNS ?? 5);
const T0 = Date.UTC(2024, 2, 4, 8);
const MISS_RATE = 0.01;

interface Reading {
  readonly sensor_id: string;
  readonly timestamp: number;
  readonly vehicle_count: number;
  readonly avg_speed: number;
}
type Enriched = Reading & { enrichment: SensorRegistryRecord | null };

const encoder = new TextEncoder();
const records: LogRecord[] = [];
for (let i = 0; i < ROWS; i++) {
  const row = registryRowOf(
    { sensor_id: `traffic_${i}`, type: "traffic", location: { lat: 52.5 + (i % 300) / 1e4, lon: 13.4 } },
    { updatedAt: T0 - 3_600_000 },
  );
  records.push({
    topic: "ref.sensor-registry",
    partition: i % 3,
    offset: i,
    key: row.sensor_id,
    value: encoder.encode(JSON.stringify(row)),
    timestamp: T0,
    headers: [],
  });
}
let seed = 12345;
const random = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
};
const readings: Reading[] = Array.from({ length: READINGS }, (_, i) => ({
  sensor_id: random() < MISS_RATE ? `unknown_${i % 1000}` : `traffic_${Math.floor(random() * ROWS)}`,
  timestamp: T0 + i,
  vehicle_count: i % 200,
  avg_speed: 40,
}));

function restoreTable(versionsPerKey: number): ReferenceTable<SensorRegistryRecord> {
  const table = new ReferenceTable<SensorRegistryRecord>({ kind: sensorRegistryKind, versionsPerKey });
  for (const record of records) table.apply(record);
  return table;
}

function rate(count: number, body: () => void): number {
  const started = performance.now();
  body();
  return count / ((performance.now() - started) / 1000);
}

let sink = 0;
const latestTable = restoreTable(1);
const versionedTable = restoreTable(4);
const floorMap = new Map(latestTable.snapshot());
const emit = (out: Enriched, hit: boolean) => {
  if (hit) sink += out.vehicle_count;
};
const latestJoin = createEnricher<Reading, SensorRegistryRecord, Enriched>({
  table: latestTable,
  keyOf: (r) => r.sensor_id,
  merge: withEnrichment,
  onMissing: "pass",
  emit,
});
const eventTimeJoin = createEnricher<Reading, SensorRegistryRecord, Enriched>({
  table: versionedTable,
  keyOf: (r) => r.sensor_id,
  merge: withEnrichment,
  onMissing: "pass",
  emit,
  asOf: "event-time",
  eventTimeOf: (r) => r.timestamp,
});

const figures: Record<string, number[]> = {
  floor: [],
  latest: [],
  eventTime: [],
  parseOnly: [],
  restore: [],
};
for (let run = 0; run < RUNS; run++) {
  figures.floor!.push(
    rate(READINGS, () => {
      for (const r of readings) {
        const value = floorMap.get(r.sensor_id);
        emit({ ...r, enrichment: value ?? null }, value !== undefined);
      }
    }),
  );
  figures.latest!.push(rate(READINGS, () => readings.forEach(latestJoin.enrich)));
  figures.eventTime!.push(rate(READINGS, () => readings.forEach(eventTimeJoin.enrich)));
  figures.parseOnly!.push(
    rate(ROWS, () => {
      for (const record of records)
        sink += (JSON.parse(new TextDecoder().decode(record.value!)) as object) ? 1 : 0;
    }),
  );
  figures.restore!.push(rate(ROWS, () => (sink += restoreTable(1).size)));
}

const m = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, median(v)])) as Record<
  string,
  number
>;
const stats = latestJoin.stats();
const fmt = (x: number) => Math.round(x).toLocaleString("en-US").padStart(13);
console.log(
  `stream-table join, ${READINGS.toLocaleString("en-US")} readings against a ${ROWS.toLocaleString("en-US")}-row table, ${MISS_RATE * 100}% unknown keys, median of ${RUNS} runs`,
);
console.log("path                                                records/s   vs floor");
const line = (name: string, value: number, floor: number) =>
  console.log(`${name.padEnd(48)}${fmt(value)}   ${(value / floor).toFixed(2)}x`);
line("Map.get + object spread (floor)", m.floor!, m.floor!);
line("enricher, left join, latest row", m.latest!, m.floor!);
line("enricher, left join, as of event time (4 versions)", m.eventTime!, m.floor!);
line("JSON.parse of registry rows (restore floor)", m.parseOnly!, m.parseOnly!);
line("ReferenceTable.apply: decode + zod + upsert", m.restore!, m.parseOnly!);
console.log(`(hits ${stats.hits}, misses ${stats.misses}, checksum ${sink % 1000})`);
printFigure({
  name: "enrichment_join_latest",
  value: Math.round(m.latest!),
  unit: "records/s",
  baseline: "map_get_spread",
  baseline_value: Math.round(m.floor!),
});
printFigure({
  name: "enrichment_join_event_time",
  value: Math.round(m.eventTime!),
  unit: "records/s",
  baseline: "map_get_spread",
  baseline_value: Math.round(m.floor!),
});
printFigure({
  name: "reference_table_restore",
  value: Math.round(m.restore!),
  unit: "records/s",
  baseline: "json_parse_only",
  baseline_value: Math.round(m.parseOnly!),
});
