import { expect, test } from "bun:test";
import { type ClosedWindow, WindowForecasts } from "../../../actors/model-shard/window-forecasts.ts";

/**
 * The final windows' live loop: each window type reaches its own forecast, a failing forecast is
 * counted and said without stopping the other, and the forecasts are flushed to the log before
 * the batch is done (its windows' offsets are committed after it).
 */
const agg = (mean: number) => ({ count: 2, sum: 2 * mean, mean, min: mean, max: mean });
const window = (over: Record<string, unknown>) => ({
  scope: "sensor",
  key: "s1",
  type: "traffic",
  window_start: 60_000,
  window_end: 120_000,
  count: 2,
  fields: { vehicle_count: agg(20), avg_speed: agg(40), consumption: agg(3) },
  final: true,
  emitted_at: 120_001,
  ...over,
});

test.each<[string, Record<string, unknown>, readonly string[]]>([
  ["a final traffic window of a sensor", {}, ["traffic"]],
  ["a final utility window of a sensor", { type: "utility" }, ["utility"]],
  ["an open window", { final: false }, []],
  ["a per-type window", { scope: "type" }, []],
  ["a window of another type", { type: "environment" }, []],
  ["an empty window", { count: 0 }, []],
])("%s is forecast by the window kinds given", (_name, over, kinds) => {
  const forecasts = new WindowForecasts({
    traffic: { closed: async () => {} },
    utility: { closed: async () => {} },
    onError: () => {},
  });
  expect(forecasts.rowsOf(window(over)).map((w): string => w.kind)).toEqual([...kinds]);
});

test("a record that is not a window result is refused (the sink dead-letters it)", () => {
  const forecasts = new WindowForecasts({
    traffic: { closed: async () => {} },
    utility: { closed: async () => {} },
    onError: () => {},
  });
  expect(() => forecasts.rowsOf({ scope: "sensor" })).toThrow();
});

test("each forecast gets its own rows; one failing is counted and the other runs; the flush comes last", async () => {
  const order: string[] = [];
  const errors: unknown[] = [];
  const forecasts = new WindowForecasts({
    traffic: {
      closed: async (rows) => {
        order.push(`traffic:${rows.length}`);
        throw new Error("swapping");
      },
    },
    utility: {
      closed: async (rows) => {
        order.push(`utility:${rows.length}`);
      },
    },
    flushPublished: async () => {
      order.push("flush");
    },
    onError: (error) => errors.push(error),
  });
  const rows: ClosedWindow[] = [
    ...forecasts.rowsOf(window({ key: "t1" })),
    ...forecasts.rowsOf(window({ key: "t2" })),
    ...forecasts.rowsOf(window({ key: "u1", type: "utility" })),
  ];
  await forecasts.closed(rows);
  expect(order).toEqual(["traffic:2", "utility:1", "flush"]);
  expect(errors).toHaveLength(1);
  expect(forecasts.failures()).toBe(1);
});
