import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { retrieveTrainingSet, type ViewInput } from "../../../features/offline/point-in-time.ts";
import type { DeltaSnapshot } from "../../../lake/delta/table-state.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { registered, type TestRow, testTable, testView } from "../feature-fixtures.ts";

const T0 = Date.UTC(2026, 0, 1);
const s = (seconds: number) => T0 + seconds * 1000;

// entity a: values at 100 s, 200 s (twice: created 200 and 250), 300 s; b: 100 s. TTL 150 s.
const FEATURES: TestRow[] = [
  { entity: "a", ts: s(100), created: s(100), value: 1, count: 1 },
  { entity: "a", ts: s(200), created: s(250), value: 22, count: 22 },
  { entity: "a", ts: s(200), created: s(200), value: 2, count: 2 },
  { entity: "a", ts: s(300), created: s(300), value: 3, count: 3 },
  { entity: "b", ts: s(100), created: s(100), value: 10, count: 10 },
  { entity: "c", ts: s(100), created: s(100), value: null, count: 5 },
];

const dir = mkdtempSync(join(tmpdir(), "pit-"));
let snapshot: DeltaSnapshot;
beforeAll(async () => {
  snapshot = await (await testTable(join(dir, "t"), FEATURES)).snapshot();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const input = (overrides: Parameters<typeof testView>[0] = {}): ViewInput => ({
  view: registered(testView(overrides)),
  snapshot,
});

async function valueAt(entity: string, at: number, overrides: Parameters<typeof testView>[0] = {}) {
  const result = await retrieveTrainingSet({
    views: [input(overrides)],
    entities: { rows: [{ entity_id: entity, event_timestamp: at }] },
  });
  return result.rows?.[0]?.value;
}

describe("point-in-time join", () => {
  const cases: [string, string, number, number | null][] = [
    ["a value stamped exactly at the frame's time is joined", "a", s(100), 1],
    ["between two values the earlier one is joined", "a", s(150), 1],
    ["a tie on event time goes to the later created time (Feast's rule)", "a", s(200), 22],
    ["the tie's winner holds until the next value", "a", s(299), 22],
    ["a value from the future is never joined", "a", s(99), null],
    ["a frame time before every value joins nothing", "a", s(0), null],
    ["a value exactly TTL old is still joined", "b", s(250), 10],
    ["a value older than the TTL is not joined", "b", s(250) + 1, null],
    ["an entity the view never saw joins nothing", "z", s(300), null],
    ["a stored NULL stays NULL (not filled from an older row)", "c", s(120), null],
  ];
  for (const [rule, entity, at, expected] of cases)
    test(rule, async () => {
      expect(await valueAt(entity, at)).toBe(expected as number);
    });

  // regression: a plain ASOF join on time alone picked either row of a tie (the parity test saw it)
  for (const order of ["later-created written first", "later-created written last"])
    test(`ties on event time go to the later created time, ${order}, in every file layout`, async () => {
      const entities = Array.from({ length: 200 }, (_, i) => `t${i}`);
      const early = entities.map((entity) => ({ entity, ts: s(500), created: s(500), value: 1 }));
      const late = entities.map((entity) => ({ entity, ts: s(500), created: s(501), value: 2 }));
      const table = await testTable(
        join(dir, `ties-${order.length}`),
        order.endsWith("first") ? late : early,
      );
      await table.append(
        (order.endsWith("first") ? early : late).map((r) => ({ kind: "x", count: null, ...r })),
      );
      const result = await retrieveTrainingSet({
        views: [{ view: registered(testView()), snapshot: await table.snapshot() }],
        entities: { rows: entities.map((entity_id) => ({ entity_id, event_timestamp: s(600) })) },
      });
      expect(new Set(result.rows?.map((r) => r.value))).toEqual(new Set([2]));
    });

  test("a row known only after its timestamp (availableAfterMs) is not joined before then", async () => {
    const late = { source: { ...testView().source, availableAfterMs: 50_000 } };
    expect(await valueAt("a", s(120), late)).toBe(null);
    expect(await valueAt("a", s(150), late)).toBe(1);
  });

  test("rows keep the frame's order, duplicates and labels; types are numbers", async () => {
    const result = await retrieveTrainingSet({
      views: [input()],
      entities: {
        rows: [
          { entity_id: "a", event_timestamp: s(310), label: 1 },
          { entity_id: "b", event_timestamp: s(110), label: 0 },
          { entity_id: "a", event_timestamp: s(310), label: 1 },
          { entity_id: "a", event_timestamp: s(101), label: 0 },
        ],
      },
    });
    expect(result.rows?.map((r) => [r.entity_id, r.label, r.value, r.count])).toEqual([
      ["a", 1, 3, 3],
      ["b", 0, 10, 10],
      ["a", 1, 3, 3],
      ["a", 0, 1, 1],
    ]);
    expect(result.lineage.views).toEqual([
      { name: "test_view", version: 1, table: "test_features", tableVersion: snapshot.version },
    ]);
  });

  test("a large frame comes back in its own order, not the join's", async () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => ({
      entity_id: ["a", "b", "c", "z"][i % 4],
      event_timestamp: s(400 - (i % 300)),
      label: i,
    }));
    const result = await retrieveTrainingSet({ views: [input()], entities: { rows } });
    expect(result.rows?.every((r, i) => r.label === i)).toBe(true);
    const path = join(dir, "ordered.parquet");
    await retrieveTrainingSet({ views: [input()], entities: { rows } }, { kind: "parquet", path });
    const db = await DuckDBInstance.create(":memory:");
    const connection = await db.connect();
    const labels = (await connection.runAndReadAll(`SELECT label FROM read_parquet('${path}')`)).getRowsJS();
    connection.closeSync();
    db.closeSync();
    expect(labels.every(([label], i) => label === i)).toBe(true);
  });

  test("two views of one entity join side by side; a shared feature name needs full names", async () => {
    const other = { ...input({ name: "other_view", ttlMs: 10_000_000 }) };
    const frame = { rows: [{ entity_id: "b", event_timestamp: s(1000) }] };
    const clash = await retrieveTrainingSet({ views: [input(), other], entities: frame }).catch(
      (e: unknown) => e,
    );
    expect(isPlatformError(clash, ErrorCodes.FEATURE_VIEW_INVALID)).toBe(true);
    const result = await retrieveTrainingSet({
      views: [input(), other],
      entities: frame,
      fullFeatureNames: true,
    });
    expect(result.rows?.[0]).toMatchObject({ test_view__value: null, other_view__value: 10 });
  });

  test("the join writes parquet that reads back as the rows", async () => {
    const path = join(dir, "out.parquet");
    const frame = {
      rows: [
        { entity_id: "a", event_timestamp: s(250) },
        { entity_id: "b", event_timestamp: s(120) },
      ],
    };
    const result = await retrieveTrainingSet(
      { views: [input()], entities: frame },
      { kind: "parquet", path },
    );
    expect(result.rowCount).toBe(2);
    const db = await DuckDBInstance.create(":memory:");
    const connection = await db.connect();
    const back = (
      await connection.runAndReadAll(`SELECT entity_id, value FROM read_parquet('${path}')`)
    ).getRowObjectsJS();
    connection.closeSync();
    db.closeSync();
    expect(back).toEqual([
      { entity_id: "a", value: 22 },
      { entity_id: "b", value: 10 },
    ]);
  });

  test("an entity frame in parquet is read as a frame", async () => {
    const framePath = join(dir, "frame.parquet");
    const db = await DuckDBInstance.create(":memory:");
    const connection = await db.connect();
    await connection.run(
      `COPY (SELECT 'a' AS entity_id, TIMESTAMPTZ '2026-01-01 00:05:00+00' AS event_timestamp) TO '${framePath}' (FORMAT parquet)`,
    );
    connection.closeSync();
    db.closeSync();
    const result = await retrieveTrainingSet({ views: [input()], entities: { parquet: framePath } });
    expect(result.rows?.[0]?.value).toBe(3);
  });
});

describe("point-in-time join refuses bad frames with a clear error", () => {
  const bad: [string, Record<string, unknown>[], string][] = [
    [
      "a frame without the view's entity column",
      [{ sensor: "a", event_timestamp: s(1) }],
      ErrorCodes.FEATURE_ENTITY_UNKNOWN,
    ],
    ["a row without a timestamp", [{ entity_id: "a", event_timestamp: null }], ErrorCodes.OUT_OF_RANGE],
    [
      "a timestamp that is not a time",
      [{ entity_id: "a", event_timestamp: "soon" }],
      ErrorCodes.OUT_OF_RANGE,
    ],
    ["a timestamp before 1970", [{ entity_id: "a", event_timestamp: -5 }], ErrorCodes.OUT_OF_RANGE],
    [
      "a timestamp far in the future",
      [{ entity_id: "a", event_timestamp: Date.now() + 30 * 86_400_000 }],
      ErrorCodes.OUT_OF_RANGE,
    ],
    ["a reserved column name", [{ entity_id: "a", event_timestamp: s(1), __row: 1 }], ErrorCodes.BAD_REQUEST],
  ];
  for (const [what, rows, code] of bad)
    test(what, async () => {
      const error = await retrieveTrainingSet({ views: [input()], entities: { rows } }).catch(
        (e: unknown) => e,
      );
      expect(isPlatformError(error) ? error.code : error).toBe(code);
      expect((error as Error).message).not.toContain(" at ");
    });
});
