import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commitPath } from "../../../lake/delta/delta-log.ts";
import type { DeltaTable } from "../../../lake/delta/delta-table.ts";
import { lakeTable } from "../../../lake/tables/catalogue.ts";
import { DeltaSinkTarget, type PositionedRow } from "../../../lake/tables/delta-sink-target.ts";
import type { LakeTable } from "../../../lake/tables/lake-table.ts";
import { openLakeTables } from "../../../lake/tables/open-lake-tables.ts";
import type { SinkBatch } from "../../../sinks/sink-target.ts";
import { silverRow } from "./lake-rows.ts";

const TOPIC = "city.sensors.silver";
const T0 = Date.UTC(2026, 11, 1, 10);
const SILVER = lakeTable("silver_sensor_readings") as LakeTable;

let dir: string;
let delta: DeltaTable;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "delta-sink-"));
  delta = (await openLakeTables(dir, {}, [SILVER])).get(SILVER.name) as DeltaTable;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/**
 * A batch of silver records: `[partition, firstOffset, lastOffset]` ranges; the reading at
 * offset o of partition p has id `p@o` unless `ids` gives another (an upstream repeat).
 */
function batch(
  ranges: [number, number, number][],
  ids?: (p: number, o: number) => string,
): SinkBatch<PositionedRow> {
  const rows: PositionedRow[] = [];
  for (const [partition, first, last] of ranges) {
    for (let offset = first; offset <= last; offset++) {
      const values = silverRow(offset, "traffic", T0 + offset * 1000);
      values.reading_id = ids ? ids(partition, offset) : `${partition}@${offset}`;
      values.source_partition = partition;
      rows.push({ values, topic: TOPIC, partition, offset });
    }
  }
  return {
    rows,
    offsets: ranges.map(([partition, firstOffset, lastOffset]) => ({
      topic: TOPIC,
      partition,
      firstOffset,
      lastOffset,
    })),
  };
}

async function ids(table: DeltaTable): Promise<string[]> {
  return (await table.readRows()).map((r) => String(r.reading_id)).sort();
}

describe("the Delta sink target", () => {
  test("a batch over several partitions is one commit with one txn per partition", async () => {
    const target = new DeltaSinkTarget({ applicationId: "app", table: SILVER, delta });
    await target.write(
      batch([
        [0, 0, 9],
        [3, 100, 104],
      ]),
    );
    const actions = (await readFile(commitPath(delta.dir, 1), "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(actions.filter((a) => a.txn).map((a) => [a.txn.appId, a.txn.version])).toEqual([
      [`app/silver_sensor_readings/${TOPIC}/0`, 9],
      [`app/silver_sensor_readings/${TOPIC}/3`, 104],
    ]);
    expect(actions.filter((a) => a.add).length).toBeGreaterThan(0);
    expect(delta.version).toBe(1);
  });

  test.each([
    ["the same batch again", [[0, 0, 9]], [[0, 0, 9]], 10],
    ["a longer batch from the same offset", [[0, 0, 9]], [[0, 0, 19]], 20],
    ["a batch that starts inside the written one", [[0, 0, 9]], [[0, 5, 14]], 15],
    [
      "one partition written, the other not",
      [[0, 0, 9]],
      [
        [0, 0, 9],
        [1, 0, 4],
      ],
      15,
    ],
    [
      "two partitions, each written to a different point",
      [
        [0, 0, 9],
        [1, 0, 2],
      ],
      [
        [0, 0, 12],
        [1, 0, 9],
      ],
      23,
    ],
  ] as [string, [number, number, number][], [number, number, number][], number][])(
    "a replay with other batch boundaries writes only what is missing: %s",
    async (_name, first, replay, expected) => {
      const target = new DeltaSinkTarget({ applicationId: "app", table: SILVER, delta });
      await target.write(batch(first));
      // a crash before the sink's commit: a new target (a restarted node) reads from the old offsets
      const restarted = new DeltaSinkTarget({ applicationId: "app", table: SILVER, delta });
      await restarted.write(batch(replay));
      const written = await ids(delta);
      expect(written).toHaveLength(expected);
      expect(new Set(written).size).toBe(expected);
    },
  );

  test("a record repeated upstream at a new offset with the same id is written once", async () => {
    const target = new DeltaSinkTarget({ applicationId: "app", table: SILVER, delta });
    await target.write(batch([[0, 0, 9]]));
    // offsets 10..19 carry the readings 0..9 again (a node re-emitted them after its crash)
    const result = await target.writeBatch(batch([[0, 10, 19]], (p, o) => `${p}@${o - 10}`));
    expect(result).toEqual({ written: 0, replayed: 0, repeats: 10 });
    expect(await ids(delta)).toHaveLength(10);
  });

  test("after a restart the recent ids come from the table, so repeats are still caught", async () => {
    await new DeltaSinkTarget({ applicationId: "app", table: SILVER, delta }).write(batch([[0, 0, 9]]));
    const reopened = (await openLakeTables(dir, {}, [SILVER])).get(SILVER.name) as DeltaTable;
    const restarted = new DeltaSinkTarget({ applicationId: "app", table: SILVER, delta: reopened });
    const result = await restarted.writeBatch(batch([[0, 10, 24]], (p, o) => `${p}@${o - 10}`));
    expect(result).toEqual({ written: 5, replayed: 0, repeats: 10 });
    expect(await ids(reopened)).toHaveLength(15);
  });

  test("the window of recent ids is bounded: the oldest are forgotten first", async () => {
    const target = new DeltaSinkTarget({ applicationId: "app", table: SILVER, delta, recentRowIds: 5 });
    await target.write(batch([[0, 0, 9]]));
    const result = await target.writeBatch(batch([[0, 10, 19]], (p, o) => `${p}@${o - 10}`));
    // ids 5..9 are still remembered; 0..4 were forgotten and go through again
    expect(result.repeats).toBe(5);
    expect(result.written).toBe(5);
  });

  test("two sinks of one application on different partitions write the same table", async () => {
    const a = new DeltaSinkTarget({ applicationId: "app", table: SILVER, delta });
    const otherHandle = (await openLakeTables(dir, {}, [SILVER])).get(SILVER.name) as DeltaTable;
    const b = new DeltaSinkTarget({ applicationId: "app", table: SILVER, delta: otherHandle });
    await Promise.all([a.write(batch([[0, 0, 49]])), b.write(batch([[1, 0, 49]]))]);
    expect(await ids(delta)).toHaveLength(100);
  });
});
