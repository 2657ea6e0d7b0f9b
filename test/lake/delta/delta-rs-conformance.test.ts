import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { DeltaTable } from "../../../lake/delta/delta-table.ts";
import { readWithDeltaRs, writeWithDeltaRs } from "../../../testkit/delta-rs.ts";
import { byOffset, SILVER_SPEC, silverRows, tempTableDir } from "./table-fixtures.ts";

/**
 * Conformance with delta-rs (`deltalake` from PyPI, in the venv infra/python.sh makes): every
 * kind of table this library writes is read by delta-rs with the same version, schema and
 * values, and tables delta-rs writes (checkpointed, with removed files) are read here as
 * delta-rs reads them.
 */

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempTableDir("delta-rs-"));
});
afterEach(() => cleanup());

describe("delta-rs reads the tables this library writes", () => {
  test("a partitioned table with a checkpoint, an added column, an overwrite and nulls: same version, schema and rows", async () => {
    const table = await DeltaTable.create(dir, SILVER_SPEC);
    for (let batch = 0; batch < 11; batch++) {
      await table.append(silverRows(batch * 40, 40), { txn: { appId: "silver", version: batch } });
    }
    await table.append(
      silverRows(440, 20).map((r, k) => ({ ...r, district: k % 3 === 0 ? null : `d${k % 4}` })),
      { schemaMode: "merge" },
    );
    await table.replacePartitions(
      silverRows(0, 40)
        .filter((r) => r.date === "2026-01-01" && r.type === "utility")
        .map((r) => ({ ...r, quality_score: 0.5, district: "replaced" })),
    );
    const ours = await table.readRows();
    const theirs = await readWithDeltaRs(dir);
    expect(theirs.version).toBe(table.version);
    expect(theirs.partitionColumns).toEqual(["date", "type"]);
    expect(theirs.schema).toEqual(
      table.schema.map((f) => ({ name: f.name, type: f.type, nullable: f.nullable })),
    );
    expect(theirs.rows.length).toBe(ours.length);
    expect(byOffset(theirs.rows)).toEqual(byOffset(ours));
    expect(theirs.numFiles).toBe((await table.snapshot()).files.length);

    // time travel: delta-rs sees the table as it was before the schema change
    const before = await readWithDeltaRs(dir, 5);
    expect(byOffset(before.rows)).toEqual(byOffset(await table.readRows({ version: 5 })));
    expect(before.rows.length).toBe(200);
  });

  test("every Delta primitive type this library writes round-trips through delta-rs", async () => {
    const table = await DeltaTable.create(dir, {
      name: "types",
      schema: [
        { name: "offset", type: "long", nullable: false },
        { name: "s", type: "string", nullable: true },
        { name: "i", type: "integer", nullable: true },
        { name: "sh", type: "short", nullable: true },
        { name: "b", type: "byte", nullable: true },
        { name: "f", type: "float", nullable: true },
        { name: "d", type: "double", nullable: true },
        { name: "flag", type: "boolean", nullable: true },
        { name: "day", type: "date", nullable: true },
        { name: "ts", type: "timestamp", nullable: true },
        { name: "amount", type: "decimal(10,2)", nullable: true },
      ],
    });
    const rows = [
      {
        offset: 1,
        s: 'é ✓ "quoted"',
        i: -5,
        sh: 300,
        b: 7,
        f: 1.5,
        d: Math.PI,
        flag: true,
        day: "2024-02-29",
        ts: new Date(Date.UTC(2024, 1, 29, 23, 59, 59, 123)),
        amount: "12.34",
      },
      {
        offset: 2,
        s: null,
        i: null,
        sh: null,
        b: null,
        f: null,
        d: null,
        flag: null,
        day: null,
        ts: null,
        amount: null,
      },
      {
        offset: Number.MAX_SAFE_INTEGER,
        s: "",
        i: 2147483647,
        sh: -32768,
        b: -128,
        f: -0.25,
        d: -1e300,
        flag: false,
        day: "1970-01-01",
        ts: 0,
        amount: -99.5,
      },
    ];
    await table.append(rows);
    const theirs = await readWithDeltaRs(dir);
    expect(theirs.schema.map((f) => f.type)).toEqual([
      "long",
      "string",
      "integer",
      "short",
      "byte",
      "float",
      "double",
      "boolean",
      "date",
      "timestamp",
      "decimal(10,2)",
    ]);
    expect(byOffset(theirs.rows)).toEqual([
      { ...rows[0], ts: Date.UTC(2024, 1, 29, 23, 59, 59, 123), amount: "12.34" },
      rows[1],
      { ...rows[2], amount: "-99.50" },
    ]);
  });
});

describe("delta-rs reads partition values that need escaping", () => {
  test("spaces, slashes, colons, percent signs, unicode and null as partition values", async () => {
    const table = await DeltaTable.create(dir, {
      name: "escaped",
      partitionColumns: ["zone"],
      schema: [
        { name: "offset", type: "long", nullable: false },
        { name: "zone", type: "string", nullable: true },
      ],
    });
    const zones = ["a b", "x/y", "t:12:00", "50%", "é✓", null, "k=v", "plain"];
    await table.append(zones.map((zone, offset) => ({ offset, zone })));
    const theirs = await readWithDeltaRs(dir);
    expect(byOffset(theirs.rows)).toEqual(zones.map((zone, offset) => ({ offset, zone })));
    expect(byOffset(await table.readRows())).toEqual(zones.map((zone, offset) => ({ offset, zone })));
  });

  test("the same values in a table delta-rs partitioned are read here as delta-rs reads them", async () => {
    const zones = ["a b", "x/y", "t:12:00", "50%", "é✓", null, "k=v", "plain"];
    await writeWithDeltaRs({
      path: dir,
      schema: [
        { name: "offset", type: "long" },
        { name: "zone", type: "string" },
      ],
      partitionBy: ["zone"],
      steps: [{ op: "write", rows: zones.map((zone, offset) => ({ offset, zone })) }],
    });
    const ours = byOffset(await (await DeltaTable.open(dir)).readRows());
    expect(ours).toEqual(byOffset((await readWithDeltaRs(dir)).rows));
    expect(ours).toEqual(zones.map((zone, offset) => ({ offset, zone })));
  });
});

describe("this library reads the tables delta-rs writes", () => {
  const schema = [
    { name: "offset", type: "long" },
    { name: "sensor_id", type: "string" },
    { name: "event_time", type: "timestamp" },
    { name: "date", type: "date" },
    { name: "value", type: "double" },
  ] as const;
  const rows = (from: number, count: number) =>
    silverRows(from, count).map((r) => ({
      offset: r.offset,
      sensor_id: r.sensor_id,
      event_time: (r.event_time as Date).getTime(),
      date: r.date,
      value: r.value,
    }));

  test("a checkpointed table with removed files: same version and rows as delta-rs reads, also at an older version", async () => {
    const version = await writeWithDeltaRs({
      path: dir,
      schema: [...schema],
      partitionBy: ["date"],
      steps: [
        { op: "write", rows: rows(0, 100) },
        { op: "write", rows: rows(100, 100) },
        { op: "delete", predicate: '"offset" < 50' },
        { op: "checkpoint" },
        { op: "write", rows: rows(200, 30) },
      ],
    });
    const table = await DeltaTable.open(dir);
    expect(table.version).toBe(version);
    const snapshot = await table.snapshot();
    expect(snapshot.partitionColumns).toEqual(["date"]);
    const theirs = await readWithDeltaRs(dir);
    const ours = byOffset(await table.readRows());
    expect(ours.length).toBe(180);
    expect(ours).toEqual(byOffset(theirs.rows));
    expect(byOffset(await table.readRows({ version: 1 }))).toEqual(
      byOffset((await readWithDeltaRs(dir, 1)).rows),
    );
  });

  test("appends of this library to a delta-rs table are read back by delta-rs", async () => {
    await writeWithDeltaRs({
      path: dir,
      schema: [...schema],
      partitionBy: ["date"],
      steps: [{ op: "write", rows: rows(0, 20) }],
    });
    const table = await DeltaTable.open(dir);
    await table.append(
      rows(20, 20).map((r) => ({ ...r, event_time: new Date(r.event_time) })),
      { txn: { appId: "ours", version: 1 } },
    );
    const theirs = await readWithDeltaRs(dir);
    expect(theirs.version).toBe(table.version);
    expect(byOffset(theirs.rows)).toEqual(rows(0, 40));
  });
});
