import { describe, expect, test } from "bun:test";
import { BatchOutputs, WindowUpdateSink } from "../../../bench/peers/window-update-sink.ts";
import type { Log, ProducerRecord } from "../../../log/log.ts";
import type { WindowResult } from "../../../messages/window-result.ts";
import { eventually } from "../../node/node-fixture.ts";

/**
 * Our side writes each window's latest output of a poll batch: an update that a later output of
 * the same window follows (the final the batch's watermark closed it with) gives way to it, and
 * nothing else is dropped or reordered.
 */
describe("a poll batch's window outputs", () => {
  const result = (key: string, start: number, count: number, final: boolean): WindowResult => ({
    scope: "sensor",
    key,
    type: "traffic",
    window_start: start,
    window_end: start + 60_000,
    count,
    fields: {},
    final,
    emitted_at: 0,
  });
  const latest = (outputs: BatchOutputs) =>
    outputs.results
      .filter((r) => r !== undefined)
      .map((r) => `${r.key}@${r.window_start}:${r.count}${r.final ? " final" : ""}`);

  test.each<[string, [string, number, number, boolean][], string[]]>([
    [
      "an update, then the final of the same window",
      [
        ["a", 0, 2, false],
        ["a", 0, 2, true],
      ],
      ["a@0:2 final"],
    ],
    [
      "another sensor's output between them",
      [
        ["a", 0, 2, false],
        ["b", 0, 1, false],
        ["a", 0, 3, true],
      ],
      ["b@0:1", "a@0:3 final"],
    ],
    [
      "two windows of one sensor, only the first closes",
      [
        ["a", 0, 1, false],
        ["a", 60_000, 1, false],
        ["a", 0, 1, true],
      ],
      ["a@60000:1", "a@0:1 final"],
    ],
    [
      "the same start for different sensors",
      [
        ["a", 0, 1, false],
        ["b", 0, 1, true],
        ["c", 0, 4, false],
      ],
      ["a@0:1", "b@0:1 final", "c@0:4"],
    ],
    [
      "three outputs of one window",
      [
        ["a", 0, 1, false],
        ["a", 0, 2, false],
        ["a", 0, 2, true],
      ],
      ["a@0:2 final"],
    ],
  ])("%s: the latest per window, in the order they came", (_name, outputs, want) => {
    const batch = new BatchOutputs();
    for (const [key, start, count, final] of outputs) batch.add(result(key, start, count, final));
    expect(latest(batch)).toEqual(want);
  });

  test("a cleared batch forgets the outputs before it: the next batch's update stays", () => {
    const batch = new BatchOutputs();
    batch.add(result("a", 0, 1, false));
    batch.clear();
    expect(latest(batch)).toEqual([]);
    batch.add(result("a", 0, 2, true));
    batch.add(result("b", 0, 1, false));
    expect(latest(batch)).toEqual(["a@0:2 final", "b@0:1"]);
  });

  test("two sensors whose ids hash alike keep their own windows: only a window's own later output replaces it", () => {
    // "s-1122789" and "s-1339192" share a 32-bit FNV-1a hash, the key the batch finds earlier outputs by
    const batch = new BatchOutputs();
    batch.add(result("s-1122789", 0, 1, false));
    batch.add(result("s-1339192", 0, 1, false));
    batch.add(result("s-1122789", 0, 2, false));
    batch.add(result("s-1339192", 60_000, 1, false));
    expect(latest(batch)).toEqual(["s-1339192@0:1", "s-1122789@0:2", "s-1339192@60000:1"]);
  });
});

describe("our side's output router", () => {
  const update = (key: string, count: number, final = false): WindowResult => ({
    scope: "sensor",
    key,
    type: "traffic",
    window_start: 0,
    window_end: 60_000,
    count,
    fields: {
      vehicle_count: { count, sum: count, min: 1, max: 1, mean: 1 },
      avg_speed: { count, sum: count, min: 1, max: 1, mean: 1 },
    },
    final,
    emitted_at: 0,
  });

  /** a log whose appends wait for the test, and a record of the order things happened in */
  function heldLog(failWith?: Error) {
    const events: string[] = [];
    const appends: (() => void)[] = [];
    const log = {
      append: (records: readonly ProducerRecord[]) =>
        new Promise<never[]>((resolve, reject) => {
          appends.push(() => {
            events.push(`append ${records.map((r) => r.key).join(",")}`);
            if (failWith) reject(failWith);
            else resolve([]);
          });
        }),
    } as unknown as Log;
    return { log, events, appends };
  }

  test("a mark is passed on only after its window updates are appended and the state is flushed, each window's latest once", async () => {
    const { log, events, appends } = heldLog();
    const sink = new WindowUpdateSink({
      log,
      topic: "out",
      flushState: async () => void events.push("state flushed"),
      onMark: (worker, batch) => events.push(`mark ${worker}/${batch}`),
      onError: (error) => events.push(`error ${String(error)}`),
    });
    sink.window(update("a", 1));
    sink.window(update("b", 1));
    sink.window(update("a", 2, true));
    sink.mark(0, 1);
    await eventually(
      () => appends.length,
      (n) => n === 1,
    );
    expect(events).toEqual([]); // the append is not durable yet
    appends.shift()!();
    await sink.flush();
    expect(events).toEqual(["append b@0,a@0", "state flushed", "mark 0/1"]);
    expect(sink.appended).toBe(2);
  });

  test("a failed append never passes its mark on (nothing is committed past it), and reports the failure", async () => {
    const { log, events, appends } = heldLog(new Error("broker away"));
    const sink = new WindowUpdateSink({
      log,
      topic: "out",
      flushState: async () => void events.push("state flushed"),
      onMark: (worker, batch) => events.push(`mark ${worker}/${batch}`),
      onError: (error) => events.push(`error ${(error as Error).message}`),
    });
    sink.window(update("a", 1));
    sink.mark(1, 7);
    await eventually(
      () => appends.length,
      (n) => n === 1,
    );
    appends.shift()!();
    await eventually(
      () => events.length,
      (n) => n >= 2,
    );
    expect(events).toEqual(["append a@0", "error broker away"]);
  });
});

describe("our side's output router under a stream of marks", () => {
  const update = (key: string): WindowResult => ({
    scope: "sensor",
    key,
    type: "traffic",
    window_start: 0,
    window_end: 60_000,
    count: 1,
    fields: {
      vehicle_count: { count: 1, sum: 1, min: 1, max: 1, mean: 1 },
      avg_speed: { count: 1, sum: 1, min: 1, max: 1, mean: 1 },
    },
    final: false,
    emitted_at: 0,
  });

  test("marks and updates that come while an append is in flight go together in the next one, in order, each mark passed on after its own updates are durable", async () => {
    const events: string[] = [];
    const appends: (() => void)[] = [];
    const log = {
      append: (records: readonly ProducerRecord[]) =>
        new Promise<never[]>((resolve) => {
          appends.push(() => {
            events.push(`append ${records.map((r) => r.key).join(",")}`);
            resolve([]);
          });
        }),
    } as unknown as Log;
    const sink = new WindowUpdateSink({
      log,
      topic: "out",
      flushState: async () => void events.push("state flushed"),
      onMark: (worker, batch) => events.push(`mark ${worker}/${batch}`),
      onError: (error) => events.push(`error ${String(error)}`),
    });
    sink.window(update("a"));
    sink.mark(0, 1);
    await eventually(
      () => appends.length,
      (n) => n === 1,
    );
    // while the first append is in flight: three batches' updates and marks
    for (const [key, worker, batch] of [
      ["b", 1, 1],
      ["c", 0, 2],
      ["d", 1, 2],
    ] as const) {
      sink.window(update(key));
      sink.mark(worker, batch);
    }
    appends.shift()!();
    await eventually(
      () => appends.length,
      (n) => n === 1,
    );
    expect(events).toEqual(["append a@0", "state flushed", "mark 0/1"]);
    appends.shift()!();
    await sink.flush();
    expect(events.slice(3)).toEqual([
      "append b@0,c@0,d@0",
      "state flushed",
      "mark 1/1",
      "mark 0/2",
      "mark 1/2",
    ]);
    expect(sink.appends).toBe(2);
  });
});
