import { describe, expect, test } from "bun:test";
import { partitionWindowsFactory } from "../../../actors/window/partition-windows.ts";
import type { SensorWindowsOptions, WindowSpec } from "../../../actors/window/sensor-windows.ts";
import type { WindowSink } from "../../../actors/window/window.ts";
import type { HotReading } from "../../../messages/host-protocol.ts";
import { appliedOffsetOf, type WindowOperatorSnapshot } from "../../../stream/index.ts";
import { type SensorWindows, sensorWindowsFactory } from "../../../testkit/sensor-windows.ts";

/**
 * Conformance: the partition's window operator (one for every sensor of a type on a partition)
 * gives each sensor exactly what the per-sensor operator the node ran before gave it: the same
 * updates, finals and late readings, in the sensor's order, whatever order the sensor actors
 * deliver different sensors' readings in; with grace, the node's watermark, a replay after a
 * restore (skipped up to each sensor's offset), and per-sensor changelog entries in every form
 * (its own bytes, a per-sensor actor's JSON).
 */

const T0 = 1_700_000_000_000;

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4_294_967_296;
  };
}

/** one partition's log: offsets in order, sensors interleaved, some readings late */
function partitionLog(seed: number, sensors: number, count: number): HotReading[] {
  const next = random(seed);
  const times = Array.from({ length: sensors }, () => T0 + Math.floor(next() * 3_000));
  return Array.from({ length: count }, (_, offset) => {
    const s = Math.floor(next() * sensors);
    times[s]! += Math.floor(next() * 2_500);
    const roll = next();
    const eventTime =
      roll < 0.08 ? times[s]! - 30_000 : roll < 0.3 ? times[s]! - Math.floor(next() * 2_000) : times[s]!;
    return {
      sensorType: "traffic",
      sensorId: `s${s}`,
      eventTime,
      values: Float64Array.of(Math.floor(next() * 60), 20 + Math.floor(next() * 40)),
      partition: 4,
      offset,
      ingestedAt: T0,
    };
  });
}

/** the order sensor actors may deliver them in: each sensor's own order kept */
function delivered(log: HotReading[], seed: number): HotReading[] {
  const next = random(seed);
  const queues = new Map<string, HotReading[]>();
  for (const reading of log) queues.set(reading.sensorId, [...(queues.get(reading.sensorId) ?? []), reading]);
  const out: HotReading[] = [];
  while (queues.size > 0) {
    const sensors = [...queues.keys()];
    const sensor = sensors[Math.floor(next() * sensors.length)]!;
    const queue = queues.get(sensor)!;
    out.push(queue.shift()!);
    if (queue.length === 0) queues.delete(sensor);
  }
  return out;
}

type Seen = Map<string, unknown[]>;

function recorder(into: Seen): WindowSink {
  const note = (key: string, item: unknown) => into.set(key, [...(into.get(key) ?? []), item]);
  return {
    window: (w) => note(w.key, [w.window_start, w.window_end, w.count, w.fields, w.final]),
    late: (r) => note(r.key, ["late", r.event_time, r.reason]),
  };
}

const options = (window: WindowSpec, graceMs: number): SensorWindowsOptions => ({
  window,
  graceMs,
  maxOutOfOrdernessMs: 1_000,
  idleTimeoutMs: 10_000,
  clock: () => T0 + 3_600_000,
  // every reading's updates at once, so the two sides' outputs compare reading by reading
  cacheUpdates: false,
});

describe("a partition's window operator", () => {
  test.each([
    ["tumbling 10 s, grace 3 s", { kind: "tumbling", sizeMs: 10_000 } as const, 3_000],
    ["hopping 20 s every 5 s, no grace", { kind: "hopping", sizeMs: 20_000, advanceMs: 5_000 } as const, 0],
  ])(
    "gives each sensor what its own operator gave it, across a restore and a replay: %s",
    (_name, window, grace) => {
      const log = partitionLog(5, 20, 1_200);
      const createPartition = partitionWindowsFactory(options(window, grace));
      const createSensor = sensorWindowsFactory(options(window, grace));
      const want: Seen = new Map();
      const got: Seen = new Map();
      const wantSink = recorder(want);
      const gotSink = recorder(got);

      // the reference: one operator per sensor, told every node watermark; its changelog entry
      // is { windows, lastOffset }, as the per-sensor window actor wrote it
      const own = new Map<string, { windows: SensorWindows; lastOffset: number }>();
      const ownOf = (sensorId: string) => {
        let entry = own.get(sensorId);
        if (!entry) {
          entry = { windows: createSensor("traffic", 4), lastOffset: -1 };
          own.set(sensorId, entry);
        }
        return entry;
      };
      let partition = createPartition("traffic", 4);
      const order = delivered(log, 9);
      const checkpointAt = 500;
      const crashAt = 800;
      let saved: [string, Uint8Array][] = [];
      const ownAtCheckpoint = new Map<string, { windows: WindowOperatorSnapshot; lastOffset: number }>();
      let watermark = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < order.length; i++) {
        const reading = order[i]!;
        const entry = ownOf(reading.sensorId);
        if (reading.offset > entry.lastOffset) {
          entry.lastOffset = reading.offset;
          entry.windows.add(reading, wantSink);
        }
        expect(partition.add(reading, gotSink)).toBe(true);
        if (i % 50 === 49) {
          // the node's watermark: the slowest sensor's time, as a partition host would pass it
          const next = Math.min(...order.slice(0, i + 1).map((r) => r.eventTime)) + i * 40;
          if (next > watermark) {
            watermark = next;
            // the partition host woke a sensor's window actor only when a window could close
            for (const e of own.values())
              if (e.windows.nextCloseAt() <= watermark) e.windows.advanceTo(watermark, wantSink);
            partition.advanceTo(watermark, gotSink);
          }
        }
        if (i === checkpointAt) {
          saved = partition.takeChanged();
          for (const [sensorId, e] of own)
            ownAtCheckpoint.set(
              sensorId,
              JSON.parse(JSON.stringify({ windows: e.windows.snapshot(), lastOffset: e.lastOffset })) as {
                windows: WindowOperatorSnapshot;
                lastOffset: number;
              },
            );
        }
        if (i === crashAt) {
          // a crash: everything after the checkpoint is lost and replayed from the log. The new
          // partition operator takes half its sensors from its own changelog entries and half in
          // the per-sensor actors' form (an older changelog), then sees the readings again.
          partition = createPartition("traffic", 4);
          for (const [sensorId, state] of saved) {
            const odd = Number(sensorId.slice(1)) % 2 === 1;
            partition.restore(sensorId, odd ? ownAtCheckpoint.get(sensorId)! : state);
          }
          // the reference forgets the outputs a crash loses: its own outputs after the
          // checkpoint were emitted already (at-least-once), so only the partition's replay is
          // compared below, from its restored state
          break;
        }
      }
      // the replay: every reading after the checkpoint comes again (in the log's delivery order),
      // and readings at or below a sensor's saved offset are skipped
      const replayGot: Seen = new Map();
      const replayWant: Seen = new Map();
      const replaySink = recorder(replayGot);
      const replayWantSink = recorder(replayWant);
      const reference = new Map<string, { windows: SensorWindows; lastOffset: number }>();
      for (const [sensorId, state] of ownAtCheckpoint)
        reference.set(sensorId, {
          windows: createSensor("traffic", 4, state.windows),
          lastOffset: state.lastOffset,
        });
      let skipped = 0;
      for (const reading of order.slice(checkpointAt - 100)) {
        let entry = reference.get(reading.sensorId);
        if (!entry) {
          entry = { windows: createSensor("traffic", 4), lastOffset: -1 };
          reference.set(reading.sensorId, entry);
        }
        if (reading.offset > entry.lastOffset) {
          entry.lastOffset = reading.offset;
          entry.windows.add(reading, replayWantSink);
        }
        if (!partition.add(reading, replaySink)) skipped++;
      }
      for (const e of reference.values()) e.windows.flush(replayWantSink);
      partition.flush(replaySink);
      expect(skipped).toBeGreaterThan(0);
      expect([...replayGot.keys()].sort()).toEqual([...replayWant.keys()].sort());
      for (const [sensor, items] of replayWant)
        expect({ sensor, items: replayGot.get(sensor) }).toEqual({ sensor, items });
      // and before the crash, the two gave every sensor the same
      for (const [sensor, items] of want)
        expect({ sensor, items: got.get(sensor) }).toEqual({ sensor, items });
      const late = [...want.values()].flat().filter((item) => (item as unknown[])[0] === "late");
      expect(late.length).toBeGreaterThan(0);
    },
  );

  test("publishes only the sensors that changed since the last checkpoint, closed windows included", () => {
    const partition = partitionWindowsFactory(options({ kind: "tumbling", sizeMs: 10_000 }, 0))("traffic", 1);
    const sink = recorder(new Map());
    const reading = (sensorId: string, offset: number, eventTime: number): HotReading => ({
      sensorType: "traffic",
      sensorId,
      eventTime,
      values: Float64Array.of(1, 2),
      partition: 1,
      offset,
      ingestedAt: T0,
    });
    partition.add(reading("a", 0, T0), sink);
    partition.add(reading("b", 1, T0), sink);
    expect(partition.takeChanged().map(([sensor]) => sensor)).toEqual(["a", "b"]);
    expect(partition.takeChanged()).toEqual([]);
    // the node's watermark closes both windows: both sensors' entries change (no open window)
    partition.advanceTo(T0 + 20_000, sink);
    const changed = partition.takeChanged();
    expect(changed.map(([sensor]) => sensor).sort()).toEqual(["a", "b"]);
    const own = sensorWindowsFactory(options({ kind: "tumbling", sizeMs: 10_000 }, 0));
    for (const [, state] of changed)
      expect((own("traffic", 1, state).snapshot() as WindowOperatorSnapshot).windows).toEqual([]);
    expect(changed.map(([, state]) => appliedOffsetOf(state)).sort()).toEqual([0, 1]);
  });

  test("a passivated partition comes back whole: windows, offsets and what was not yet published", () => {
    const create = partitionWindowsFactory(options({ kind: "tumbling", sizeMs: 10_000 }, 0));
    const partition = create("traffic", 1);
    const sink = recorder(new Map());
    partition.add(
      {
        sensorType: "traffic",
        sensorId: "a",
        eventTime: T0,
        values: Float64Array.of(1, 2),
        partition: 1,
        offset: 7,
        ingestedAt: T0,
      },
      sink,
    );
    const back = create("traffic", 1, partition.snapshot());
    expect(back.changed).toBe(1);
    expect(
      back.add(
        {
          sensorType: "traffic",
          sensorId: "a",
          eventTime: T0,
          values: Float64Array.of(1, 2),
          partition: 1,
          offset: 7,
          ingestedAt: T0,
        },
        sink,
      ),
    ).toBe(false);
    expect(back.takeChanged()).toEqual(partition.takeChanged());
  });
  // regression: `lastOffsets[idOf(sensor)] = offset` wrote into the array that interning the
  // sensor had just replaced, so a restored sensor whose id fell on a capacity boundary (16, 32,
  // ...) kept offset -1 and counted its replayed readings a second time
  test.each([
    ["changelog entries", "restore"],
    ["a passivated partition's snapshot", "passivation"],
  ])("every sensor restored from %s skips its replayed reading, however many sensors", (_name, path) => {
    const create = partitionWindowsFactory(options({ kind: "tumbling", sizeMs: 10_000 }, 0));
    const sink = recorder(new Map());
    const reading = (s: number): HotReading => ({
      sensorType: "traffic",
      sensorId: `s${s}`,
      eventTime: T0 + s,
      values: Float64Array.of(1, 2),
      partition: 1,
      offset: 100 + s,
      ingestedAt: T0,
    });
    const sensors = Array.from({ length: 70 }, (_, s) => s);
    const before = create("traffic", 1);
    for (const s of sensors) expect(before.add(reading(s), sink)).toBe(true);
    let after = create("traffic", 1);
    if (path === "restore")
      for (const [sensorId, state] of before.takeChanged()) after.restore(sensorId, state);
    else after = create("traffic", 1, before.snapshot());
    const replayed = sensors.filter((s) => after.add(reading(s), sink));
    expect(replayed).toEqual([]);
  });

  // a sensor's own bytes go straight into the partition's operator; a JSON state (an older
  // changelog: JSON text starting with '{', or the JSON data a store parsed) still goes through
  // an operator of the sensor's own. Every form leaves the same partition.
  test("a sensor's bytes, its JSON text and its JSON data restore to the same partition", () => {
    const window = { kind: "hopping", sizeMs: 20_000, advanceMs: 5_000 } as const;
    const createPartition = partitionWindowsFactory(options(window, 2_000));
    const createSensor = sensorWindowsFactory(options(window, 2_000));
    const sink = recorder(new Map());
    const log = partitionLog(11, 12, 300);
    const own = new Map<string, SensorWindows>();
    const offsets = new Map<string, number>();
    for (const reading of log) {
      if (!own.has(reading.sensorId)) own.set(reading.sensorId, createSensor("traffic", 4));
      own.get(reading.sensorId)!.add(reading, sink);
      offsets.set(reading.sensorId, reading.offset);
    }
    const forms = {
      bytes: (id: string, w: SensorWindows): unknown => w.snapshotBytes(offsets.get(id)!),
      "JSON text": (id: string, w: SensorWindows): unknown =>
        new TextEncoder().encode(JSON.stringify({ windows: w.snapshot(), lastOffset: offsets.get(id)! })),
      "JSON data": (id: string, w: SensorWindows): unknown =>
        JSON.parse(JSON.stringify({ windows: w.snapshot(), lastOffset: offsets.get(id)! })),
    };
    const restored = Object.entries(forms).map(([form, stateOf]) => {
      const partition = createPartition("traffic", 4);
      for (const [sensorId, windows] of own) partition.restore(sensorId, stateOf(sensorId, windows));
      return { form, snapshot: [...partition.snapshot()], next: partition.add(log.at(-1)!, sink) };
    });
    expect(restored[0]!.snapshot.length).toBeGreaterThan(1_000);
    expect(restored[0]!.next).toBe(false); // its offset came back: a replay is skipped
    for (const other of restored.slice(1))
      expect({ form: other.form, snapshot: other.snapshot, next: other.next }).toEqual({
        form: other.form,
        snapshot: restored[0]!.snapshot,
        next: false,
      });
  });

  test("a sensor whose bytes do not decode is refused and left out; the next one restores", () => {
    const create = partitionWindowsFactory(options({ kind: "tumbling", sizeMs: 10_000 }, 0));
    const sink = recorder(new Map());
    const before = create("traffic", 1);
    for (const s of [0, 1])
      before.add(
        {
          sensorType: "traffic",
          sensorId: `s${s}`,
          eventTime: T0,
          values: Float64Array.of(1, 2),
          partition: 1,
          offset: s,
          ingestedAt: T0,
        },
        sink,
      );
    const [[first, firstState], [second, secondState]] = before.takeChanged() as [
      [string, Uint8Array],
      [string, Uint8Array],
    ];
    const after = create("traffic", 1);
    expect(() => after.restore(first, firstState.subarray(0, firstState.length - 3))).toThrow(
      "DECODE_FAILED",
    );
    after.restore(second, secondState);
    after.restore(first, firstState); // a later, whole entry of the same sensor still goes in
    expect([...after.snapshot()]).toEqual([
      ...(() => {
        const whole = create("traffic", 1);
        whole.restore(second, secondState);
        whole.restore(first, firstState);
        return whole.snapshot();
      })(),
    ]);
  });
});
