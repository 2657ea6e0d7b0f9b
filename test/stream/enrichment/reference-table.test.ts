import { describe, expect, test } from "bun:test";
import type { LogRecord } from "../../../log/log.ts";
import { type SensorRegistryRecord, sensorRegistryKind } from "../../../messages/reference-data.ts";
import { ReferenceTable, type TableRecord } from "../../../stream/enrichment/reference-table.ts";
import { recordOf, registryRow, T0, tombstone } from "./reference-fixtures.ts";

const MIN = 60_000;

function tableOf(versionsPerKey = 1) {
  const invalid: { record: TableRecord; reason: string }[] = [];
  const table = new ReferenceTable<SensorRegistryRecord>({
    kind: sensorRegistryKind,
    versionsPerKey,
    onInvalid: (record, reason) => invalid.push({ record, reason }),
  });
  return { table, invalid };
}

describe("materialising a compacted topic", () => {
  const cases: {
    name: string;
    records: LogRecord[];
    districts: Record<string, string>;
    version: number;
    invalid: number;
  }[] = [
    {
      name: "the latest row per key wins",
      records: [
        recordOf("t1", registryRow("t1", "Mitte")),
        recordOf("t2", registryRow("t2", "Pankow")),
        recordOf("t1", registryRow("t1", "Neukölln")),
      ],
      districts: { t1: "Neukölln", t2: "Pankow" },
      version: 3,
      invalid: 0,
    },
    {
      name: "a tombstone deletes its key",
      records: [
        recordOf("t1", registryRow("t1", "Mitte")),
        recordOf("t2", registryRow("t2", "Pankow")),
        tombstone("t1"),
      ],
      districts: { t2: "Pankow" },
      version: 3,
      invalid: 0,
    },
    {
      name: "a row written again after its tombstone comes back",
      records: [
        recordOf("t1", registryRow("t1", "Mitte")),
        tombstone("t1"),
        recordOf("t1", registryRow("t1", "Wedding")),
      ],
      districts: { t1: "Wedding" },
      version: 3,
      invalid: 0,
    },
    {
      name: "a tombstone for an unknown key changes nothing but is counted",
      records: [tombstone("ghost")],
      districts: {},
      version: 1,
      invalid: 0,
    },
    {
      name: "an invalid update keeps the previous value",
      records: [
        recordOf("t1", registryRow("t1", "Mitte")),
        recordOf("t1", { ...registryRow("t1", "Mars"), zone: "lunar" }),
        recordOf("t1", "{not json"),
        recordOf("t1", new Uint8Array([0xff, 0xfe])),
      ],
      districts: { t1: "Mitte" },
      version: 1,
      invalid: 3,
    },
    {
      name: "a keyless record and a key that is not the row's key are rejected",
      records: [recordOf(null, registryRow("t1", "Mitte")), recordOf("t9", registryRow("t1", "Mitte"))],
      districts: {},
      version: 0,
      invalid: 2,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { table, invalid } = tableOf();
      for (const record of c.records) table.apply(record);
      const districts = Object.fromEntries([...table.snapshot()].map(([k, v]) => [k, v.district]));
      expect(districts).toEqual(c.districts);
      expect(table.size).toBe(Object.keys(c.districts).length);
      expect(table.version).toBe(c.version);
      expect(invalid.length).toBe(c.invalid);
      expect(table.stats().invalid).toBe(c.invalid);
    });
  }
});

test("invalid records reach onInvalid with a reason that says what is wrong", () => {
  const { table, invalid } = tableOf();
  expect(table.apply(recordOf("t1", { ...registryRow("t1", "Mitte"), zone: "lunar" }))).toBe("invalid");
  expect(table.apply(recordOf("t1", "{oops"))).toBe("invalid");
  expect(table.apply(recordOf(null, registryRow("t1", "Mitte")))).toBe("invalid");
  expect(table.apply(recordOf("t2", registryRow("t1", "Mitte")))).toBe("invalid");
  expect(invalid.map((i) => i.reason)).toEqual([
    expect.stringContaining("schema violation at zone"),
    expect.stringContaining("undecodable value"),
    "reference record has no key",
    "record key t2 is not the row's key t1",
  ]);
});

test("the snapshot is a copy that later updates do not change", () => {
  const { table } = tableOf();
  table.apply(recordOf("t1", registryRow("t1", "Mitte")));
  const snapshot = table.snapshot();
  table.apply(tombstone("t1"));
  expect(snapshot.get("t1")?.district).toBe("Mitte");
  expect(table.get("t1")).toBeUndefined();
});

test("listeners hear every upsert and delete with the key's latest value", () => {
  const { table } = tableOf();
  const heard: [string, string | undefined][] = [];
  const unsubscribe = table.subscribe((key, value) => heard.push([key, value?.district]));
  table.apply(recordOf("t1", registryRow("t1", "Mitte")));
  table.apply(recordOf("t1", "{bad"));
  table.apply(tombstone("t1"));
  unsubscribe();
  table.apply(recordOf("t1", registryRow("t1", "Pankow")));
  expect(heard).toEqual([
    ["t1", "Mitte"],
    ["t1", undefined],
  ]);
});

describe("versioned tables (versionsPerKey > 1)", () => {
  const history = [
    recordOf("t1", registryRow("t1", "Mitte", T0)),
    recordOf("t1", registryRow("t1", "Pankow", T0 + 10 * MIN)),
    recordOf("t1", registryRow("t1", "Wedding", T0 + 20 * MIN)),
  ];
  const cases: [string, number, string | undefined][] = [
    ["before the first version finds nothing", T0 - 1, undefined],
    ["at the first version's start finds it", T0, "Mitte"],
    ["between versions finds the earlier one", T0 + 9 * MIN, "Mitte"],
    ["at a version's start finds that version", T0 + 10 * MIN, "Pankow"],
    ["after the last version finds the last", T0 + 60 * MIN, "Wedding"],
  ];
  for (const [name, time, district] of cases) {
    test(`a lookup as of a time ${name}`, () => {
      const { table } = tableOf(4);
      for (const record of history) table.apply(record);
      expect(table.getAsOf("t1", time)?.district).toBe(district);
    });
  }

  test("an out-of-order update lands in history and does not replace the newest row", () => {
    const { table } = tableOf(4);
    table.apply(recordOf("t1", registryRow("t1", "Wedding", T0 + 20 * MIN)));
    table.apply(recordOf("t1", registryRow("t1", "Mitte", T0)));
    expect(table.get("t1")?.district).toBe("Wedding");
    expect(table.getAsOf("t1", T0 + MIN)?.district).toBe("Mitte");
  });

  test("only the last N versions are kept, so older times find nothing", () => {
    const { table } = tableOf(2);
    for (const record of history) table.apply(record);
    expect(table.versionsOf("t1").map((v) => v.value?.district)).toEqual(["Pankow", "Wedding"]);
    expect(table.getAsOf("t1", T0 + MIN)).toBeUndefined();
  });

  test("a tombstone ends the row at its time but keeps the earlier history", () => {
    const { table } = tableOf(4);
    table.apply(recordOf("t1", registryRow("t1", "Mitte", T0)));
    table.apply(tombstone("t1", T0 + 30 * MIN));
    expect(table.get("t1")).toBeUndefined();
    expect(table.size).toBe(0);
    expect(table.getAsOf("t1", T0 + MIN)?.district).toBe("Mitte");
    expect(table.getAsOf("t1", T0 + 31 * MIN)).toBeUndefined();
  });

  test("the same validFrom twice replaces that version", () => {
    const { table } = tableOf(4);
    table.apply(recordOf("t1", registryRow("t1", "Mitte", T0)));
    table.apply(recordOf("t1", registryRow("t1", "Moabit", T0)));
    expect(table.versionsOf("t1").length).toBe(1);
    expect(table.get("t1")?.district).toBe("Moabit");
  });
});
