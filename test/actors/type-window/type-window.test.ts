import { expect, test } from "bun:test";
import {
  type TypeWindowMessage,
  type TypeWindowState,
  typeWindowInputOf,
  typeWindowProps,
} from "../../../actors/type-window/type-window.ts";
import { isPlatformError } from "../../../messages/errors.ts";
import type { WindowResult } from "../../../messages/window-result.ts";
import type { ActorContext } from "../../../supervisor/actor.ts";

/**
 * The per-type window merges the final per-sensor windows of every partition and closes by
 * processing time. Rules are played by hand on the actor's behaviour with a clock the test moves.
 */
const WINDOW_MS = 60_000;
const CLOSE_AFTER_MS = 8_000;
const SPREAD_MS = 6_000;

function harness(startAt: number) {
  let now = startAt;
  const finals: WindowResult[] = [];
  const props = typeWindowProps({
    onWindow: (result) => {
      if (result.final) finals.push(result);
    },
    onLate: () => {},
    onState: () => {},
    now: () => now,
    closeAfterMs: CLOSE_AFTER_MS,
    spreadMs: SPREAD_MS,
    tickMs: 1000,
    passivateAfterMs: 60_000,
  });
  const state = props.initialState("traffic", undefined) as TypeWindowState;
  const ctx = { key: "traffic", state } as unknown as ActorContext<TypeWindowMessage, TypeWindowState>;
  let offset = 0;
  const send = (message: TypeWindowMessage) => props.receive(ctx, message);
  return {
    finals,
    at(time: number) {
      now = time;
    },
    merge(sensor: string, windowStart: number, count: number, at = offset++) {
      send({ type: "merge", window: sensorWindow(sensor, windowStart, count), offset: at });
    },
    tick: () => send({ type: "tick" }),
  };
}

function sensorWindow(sensor: string, windowStart: number, count: number): WindowResult {
  return {
    scope: "sensor",
    key: sensor,
    type: "traffic",
    window_start: windowStart,
    window_end: windowStart + WINDOW_MS,
    count,
    fields: { vehicle_count: { count, sum: count * 10, mean: 10, min: 10, max: 10 } },
    final: true,
    emitted_at: 0,
  };
}

test.each([
  {
    name: "a live window closes once its end plus closeAfterMs has passed",
    window: 10 * WINDOW_MS,
    firstAt: 11 * WINDOW_MS + 1_000,
    ticks: [
      [11 * WINDOW_MS + CLOSE_AFTER_MS - 1, 0],
      [11 * WINDOW_MS + CLOSE_AFTER_MS, 1],
    ],
  },
  {
    // regression: a backlog's window, long past, closed at the next tick with only the
    // partitions that had come so far (a partial per-type final with two nodes)
    name: "a window long past stays open spreadMs after its first per-sensor window",
    window: 0,
    firstAt: 100 * WINDOW_MS,
    ticks: [
      [100 * WINDOW_MS + 1_000, 0],
      [100 * WINDOW_MS + SPREAD_MS - 1, 0],
      [100 * WINDOW_MS + SPREAD_MS, 1],
    ],
  },
])("$name", ({ window, firstAt, ticks }) => {
  const h = harness(firstAt);
  h.merge("a", window, 2);
  for (const [time, finals] of ticks) {
    h.at(time!);
    if (time === ticks[ticks.length - 1]![0]) h.merge("b", window, 3);
    h.tick();
    expect(h.finals.length).toBe(finals!);
  }
  expect(h.finals[0]!.count).toBe(5);
  expect(h.finals[0]!.key).toBe("traffic");
});

test("a per-sensor window repeated upstream is merged once, and a record replayed by offset not at all", () => {
  const h = harness(100 * WINDOW_MS);
  h.merge("a", 0, 2, 10);
  h.merge("a", 0, 2, 11); // re-emitted by a node that crashed
  h.merge("b", 0, 3, 11); // replayed from the repartition topic: same offset
  h.merge("c", 0, 4, 12);
  h.at(100 * WINDOW_MS + SPREAD_MS);
  h.tick();
  expect(h.finals.map((w) => w.count)).toEqual([6]);
});

const PER_SENSOR_FINAL: WindowResult = {
  scope: "sensor",
  key: "traffic_3",
  type: "traffic",
  window_start: 0,
  window_end: WINDOW_MS,
  count: 2,
  fields: { speed: { count: 2, sum: 80, mean: 40, min: 30, max: 50 } },
  final: true,
  emitted_at: WINDOW_MS + 1,
};

test("a record of the repartition topic is merged at its offset", () => {
  expect(typeWindowInputOf(PER_SENSOR_FINAL, 9)).toEqual({
    type: "merge",
    window: PER_SENSOR_FINAL,
    offset: 9,
  });
});

test.each([
  ["an unknown sensor type", { ...PER_SENSOR_FINAL, type: "plasma" }],
  ["a negative count", { ...PER_SENSOR_FINAL, count: -1 }],
  ["fields that are not aggregates", { ...PER_SENSOR_FINAL, fields: { speed: 40 } }],
  ["not an object", 42],
])("a repartition record with %s is refused as a schema violation", (_name, value) => {
  let caught: unknown;
  try {
    typeWindowInputOf(value, 0);
  } catch (error) {
    caught = error;
  }
  expect(isPlatformError(caught, "SCHEMA_VIOLATION")).toBe(true);
});
