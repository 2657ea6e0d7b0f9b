import { describe, expect, test } from "bun:test";
import { ErrorCodes } from "../../../messages/errors.ts";
import { type SensorRegistryRecord, sensorRegistryKind } from "../../../messages/reference-data.ts";
import { ReferenceTable } from "../../../stream/enrichment/reference-table.ts";
import {
  createEnricher,
  type EnricherOptions,
  type MissingPolicy,
  withEnrichment,
} from "../../../stream/enrichment/stream-table-join.ts";
import { recordOf, registryRow, T0, tombstone } from "./reference-fixtures.ts";

const MIN = 60_000;

interface Reading {
  readonly sensor_id: string;
  readonly time: number;
  readonly value: number;
}
type Enriched = Reading & { enrichment: SensorRegistryRecord | null };

function harness(
  onMissing: MissingPolicy,
  extra: Partial<EnricherOptions<Reading, SensorRegistryRecord, Enriched>> = {},
  versionsPerKey = 1,
) {
  const table = new ReferenceTable<SensorRegistryRecord>({ kind: sensorRegistryKind, versionsPerKey });
  const out: { sensor: string; value: number; district: string | null; hit: boolean }[] = [];
  const deadLetters: { sensor: string; reason: string }[] = [];
  let now = 1_000_000;
  const enricher = createEnricher<Reading, SensorRegistryRecord, Enriched>({
    table,
    keyOf: (r) => r.sensor_id,
    merge: withEnrichment,
    onMissing,
    emit: (o, hit) =>
      out.push({ sensor: o.sensor_id, value: o.value, district: o.enrichment?.district ?? null, hit }),
    deadLetter: (r, reason) => deadLetters.push({ sensor: r.sensor_id, reason }),
    clock: () => now,
    ...extra,
  });
  const put = (id: string, district: string, at = T0) =>
    table.apply(recordOf(id, registryRow(id, district, at)));
  const reading = (sensor_id: string, value: number, time = T0 + MIN): Reading => ({
    sensor_id,
    time,
    value,
  });
  return {
    table,
    enricher,
    out,
    deadLetters,
    put,
    reading,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("what each policy does with a record whose key has no row", () => {
  const cases: {
    policy: MissingPolicy;
    outcome: string;
    emitted: number;
    deadLettered: number;
    misses: number;
    held: number;
  }[] = [
    { policy: "pass", outcome: "miss", emitted: 1, deadLettered: 0, misses: 1, held: 0 },
    { policy: "dead-letter", outcome: "dead-letter", emitted: 0, deadLettered: 1, misses: 1, held: 0 },
    { policy: "hold", outcome: "held", emitted: 0, deadLettered: 0, misses: 0, held: 1 },
  ];
  for (const c of cases) {
    test(`${c.policy}: the record is ${c.outcome === "miss" ? "passed on with a null enrichment" : c.outcome}`, () => {
      const h = harness(c.policy);
      h.put("t1", "Mitte");
      expect(h.enricher.enrich(h.reading("t1", 1))).toBe("hit");
      expect(h.enricher.enrich(h.reading("unknown", 2))).toBe(c.outcome as never);
      expect(h.out.length).toBe(1 + c.emitted);
      expect(h.out[0]).toEqual({ sensor: "t1", value: 1, district: "Mitte", hit: true });
      if (c.emitted) expect(h.out[1]).toEqual({ sensor: "unknown", value: 2, district: null, hit: false });
      expect(h.deadLetters.length).toBe(c.deadLettered);
      const stats = h.enricher.stats();
      expect(stats).toMatchObject({ hits: 1, misses: c.misses, deadLettered: c.deadLettered, held: c.held });
    });
  }
});

test("an inner join dead-letters with the reason naming the key", () => {
  const h = harness("dead-letter");
  h.enricher.enrich(h.reading("ghost_7", 1));
  expect(h.deadLetters).toEqual([{ sensor: "ghost_7", reason: "no reference data for key ghost_7" }]);
});

test("a live update is used by the next join, and a delete turns hits into misses", () => {
  const h = harness("pass");
  h.put("t1", "Mitte");
  h.enricher.enrich(h.reading("t1", 1));
  h.put("t1", "Pankow");
  h.enricher.enrich(h.reading("t1", 2));
  h.table.apply(tombstone("t1"));
  h.enricher.enrich(h.reading("t1", 3));
  expect(h.out.map((o) => o.district)).toEqual(["Mitte", "Pankow", null]);
});

describe("hold and retry", () => {
  test("held records are joined in arrival order when their row arrives", () => {
    const h = harness("hold");
    h.enricher.enrich(h.reading("t1", 1));
    h.enricher.enrich(h.reading("t2", 2));
    h.enricher.enrich(h.reading("t1", 3));
    expect(h.out).toEqual([]);
    h.put("t1", "Mitte");
    expect(h.out.map((o) => [o.sensor, o.value, o.district])).toEqual([
      ["t1", 1, "Mitte"],
      ["t1", 3, "Mitte"],
    ]);
    expect(h.enricher.stats()).toMatchObject({ held: 3, released: 2, hits: 2, holding: 1 });
  });

  test("a record held past maxHoldMs goes on as a miss", () => {
    const h = harness("hold", { hold: { maxHoldMs: 1000 } });
    h.enricher.enrich(h.reading("t1", 1));
    h.advance(999);
    expect(h.enricher.expire()).toBe(0);
    h.advance(1);
    expect(h.enricher.expire()).toBe(1);
    expect(h.out).toEqual([{ sensor: "t1", value: 1, district: null, hit: false }]);
    h.put("t1", "Mitte");
    expect(h.out.length).toBe(1);
    expect(h.enricher.stats()).toMatchObject({ expired: 1, misses: 1, released: 0, holding: 0 });
  });

  test("expiry also happens on the next record, without a timer", () => {
    const h = harness("hold", { hold: { maxHoldMs: 1000 } });
    h.enricher.enrich(h.reading("t1", 1));
    h.advance(5000);
    h.enricher.enrich(h.reading("t2", 2));
    expect(h.out.map((o) => o.value)).toEqual([1]);
    expect(h.enricher.stats().holding).toBe(1);
  });

  const overflow: [string, { maxPerKey: number; maxRecords: number }, [string, number][], number[]][] = [
    [
      "the per-key bound evicts that key's oldest record",
      { maxPerKey: 2, maxRecords: 100 },
      [
        ["t1", 1],
        ["t2", 2],
        ["t1", 3],
        ["t1", 4],
      ],
      [1],
    ],
    [
      "the total bound evicts the oldest record of any key",
      { maxPerKey: 100, maxRecords: 3 },
      [
        ["t1", 1],
        ["t2", 2],
        ["t3", 3],
        ["t4", 4],
        ["t1", 5],
      ],
      [1, 2],
    ],
  ];
  for (const [name, bounds, readings, evicted] of overflow) {
    test(`a full hold buffer: ${name} and passes it on as a miss`, () => {
      const h = harness("hold", { hold: bounds });
      for (const [id, value] of readings) h.enricher.enrich(h.reading(id, value));
      expect(h.out.map((o) => o.value)).toEqual(evicted);
      expect(h.out.every((o) => !o.hit)).toBe(true);
      const stats = h.enricher.stats();
      expect(stats.overflowed).toBe(evicted.length);
      expect(stats.holding).toBe(readings.length - evicted.length);
      expect(stats.holding).toBeLessThanOrEqual(Math.min(bounds.maxRecords, readings.length));
    });
  }

  test("a buffer of a thousand keys stays within its bound", () => {
    const h = harness("hold", { hold: { maxPerKey: 3, maxRecords: 500 } });
    for (let i = 0; i < 5000; i++) h.enricher.enrich(h.reading(`k${i % 1000}`, i));
    const stats = h.enricher.stats();
    expect(stats.holding).toBe(500);
    expect(stats.overflowed + stats.holding).toBe(5000);
  });

  test("drain passes every held record on as a miss, and close stops releases", () => {
    const h = harness("hold");
    h.enricher.enrich(h.reading("t1", 1));
    h.enricher.enrich(h.reading("t2", 2));
    h.enricher.close();
    h.put("t1", "Mitte");
    expect(h.out).toEqual([]);
    expect(h.enricher.drain()).toBe(2);
    expect(h.out.map((o) => [o.value, o.hit])).toEqual([
      [1, false],
      [2, false],
    ]);
  });
});

describe("as of event time", () => {
  const eventTime = { asOf: "event-time" as const, eventTimeOf: (r: Reading) => r.time };
  const cases: [string, number, string | null][] = [
    ["a reading before the sensor moved joins its old district", T0 + 5 * MIN, "Mitte"],
    ["a reading after the move joins the new district", T0 + 15 * MIN, "Pankow"],
    ["a reading before the first row is a miss", T0 - MIN, null],
  ];
  for (const [name, time, district] of cases) {
    test(name, () => {
      const h = harness("pass", eventTime, 4);
      h.put("t1", "Mitte", T0);
      h.put("t1", "Pankow", T0 + 10 * MIN);
      h.enricher.enrich(h.reading("t1", 1, time));
      expect(h.out[0]?.district ?? null).toBe(district);
    });
  }

  test("asOf latest ignores event time", () => {
    const h = harness("pass", {}, 4);
    h.put("t1", "Mitte", T0);
    h.put("t1", "Pankow", T0 + 10 * MIN);
    h.enricher.enrich(h.reading("t1", 1, T0 + MIN));
    expect(h.out[0]?.district).toBe("Pankow");
  });

  test("a held record whose row arrives valid only later joins that row", () => {
    const h = harness("hold", eventTime, 4);
    h.enricher.enrich(h.reading("t1", 1, T0));
    h.put("t1", "Mitte", T0 + 10 * MIN);
    expect(h.out).toEqual([{ sensor: "t1", value: 1, district: "Mitte", hit: true }]);
  });

  test("event-time joins without eventTimeOf are refused as a configuration error", () => {
    const table = new ReferenceTable({ kind: sensorRegistryKind });
    expect(() =>
      createEnricher<Reading, SensorRegistryRecord, Enriched>({
        table,
        keyOf: () => "k",
        merge: withEnrichment,
        onMissing: "pass",
        emit() {},
        asOf: "event-time",
      }),
    ).toThrow(ErrorCodes.CONFIG_INVALID);
    expect(() =>
      createEnricher<Reading, SensorRegistryRecord, Enriched>({
        table,
        keyOf: () => "k",
        merge: withEnrichment,
        onMissing: "dead-letter",
        emit() {},
      }),
    ).toThrow(ErrorCodes.CONFIG_INVALID);
  });
});
