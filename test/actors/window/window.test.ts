import { describe, expect, test } from "bun:test";
import { partitionWindowsFactory } from "../../../actors/window/partition-windows.ts";
import {
  sensorWindowKey,
  type WindowMessage,
  type WindowState,
  type WindowUpdateFlush,
  windowKey,
  windowProps,
} from "../../../actors/window/window.ts";
import type { HostOutput, HotReading } from "../../../messages/host-protocol.ts";
import { appliedOffsetOf, isSnapshotBytes, type WindowOperatorSnapshot } from "../../../stream/index.ts";
import type { ActorContext } from "../../../supervisor/actor.ts";
import { createActorSystem, InMemorySnapshotStore } from "../../../supervisor/index.ts";
import { sensorWindowsFactory } from "../../../testkit/sensor-windows.ts";

/**
 * The window actor of a sensor type on a partition with its operator's record cache: updates
 * wait for the `emit-updates` the actor queues to itself behind the readings it has, and nothing
 * cached is left behind a checkpoint, a passivation or an eviction. Its state is published and
 * restored per sensor, in the per-sensor window actors' form.
 */
const KEY = windowKey("traffic", 3);
const BASE = Date.UTC(2026, 11, 1, 12, 0, 0);

function reading(offset: number, eventTime: number, vehicles: number): HotReading {
  return {
    sensorType: "traffic",
    sensorId: "s-1",
    eventTime,
    values: Float64Array.of(vehicles, 50),
    partition: 3,
    offset,
    ingestedAt: eventTime,
  };
}

function propsOf(
  outputs: HostOutput[],
  cacheUpdates?: boolean,
  hopMs?: number,
  restored: [sensorId: string, state: unknown][] = [],
  flush?: { flushUpdates: WindowUpdateFlush; cacheMaxEntries?: number },
) {
  return windowProps({
    ...(flush === undefined ? {} : { flushUpdates: flush.flushUpdates }),
    createWindows: partitionWindowsFactory({
      window: hopMs
        ? { kind: "hopping", sizeMs: 60_000, advanceMs: hopMs }
        : { kind: "tumbling", sizeMs: 60_000 },
      graceMs: 30_000,
      maxOutOfOrdernessMs: 2_000,
      idleTimeoutMs: 60_000,
      clock: () => BASE + 120_000,
      ...(cacheUpdates === undefined ? {} : { cacheUpdates }),
      ...(flush?.cacheMaxEntries === undefined ? {} : { cacheMaxEntries: flush.cacheMaxEntries }),
    }),
    emit: (output) => outputs.push(output),
    now: () => BASE + 120_000,
    tickMs: 1_000,
    scoreTypes: [],
    takeRestored: () => restored.splice(0),
  });
}

/** what came out, in order: "update:<start>:<count>", "final:<start>:<count>", "state" */
const trace = (outputs: readonly HostOutput[]) =>
  outputs.map((output) =>
    output.type === "window"
      ? `${output.window.final ? "final" : "update"}:${output.window.window_start - BASE}:${output.window.count}`
      : output.type,
  );

describe("window actor in an actor system", () => {
  test("a burst of readings emits each window's latest update once, after the burst", async () => {
    const outputs: HostOutput[] = [];
    const system = createActorSystem({ name: "window-test", snapshots: new InMemorySnapshotStore() });
    system.register(propsOf(outputs, undefined, 10_000));
    const ref = system.ref<WindowMessage>("window", KEY);
    for (let i = 0; i < 4; i++) ref.tell({ type: "reading", reading: reading(i, BASE + 1_000 * i, 10) });
    await system.drain();
    // hopping 1 min / 10 s: the 4 readings (0-3 s) fall in the 6 windows starting -50 s .. 0 s
    expect(trace(outputs)).toEqual(
      [0, -10_000, -20_000, -30_000, -40_000, -50_000].map((start) => `update:${start}:4`),
    );
    outputs.length = 0;
    ref.tell({ type: "reading", reading: reading(4, BASE + 5_000, 1) });
    await system.drain();
    expect(trace(outputs)).toHaveLength(6);
    expect(trace(outputs)[0]).toBe("update:0:5");
    await system.stop();
  });

  test("without the cache every reading emits its windows' updates", async () => {
    const outputs: HostOutput[] = [];
    const system = createActorSystem({ name: "window-test", snapshots: new InMemorySnapshotStore() });
    system.register(propsOf(outputs, false));
    const ref = system.ref<WindowMessage>("window", KEY);
    for (let i = 0; i < 3; i++) ref.tell({ type: "reading", reading: reading(i, BASE + 1_000 * i, 10) });
    await system.drain();
    expect(trace(outputs)).toEqual(["update:0:1", "update:0:2", "update:0:3"]);
    await system.stop();
  });
});

describe("window actor's record cache, message by message", () => {
  /** the behaviour on a context whose self-sends are recorded, not delivered */
  function harness(flush?: { flushUpdates: WindowUpdateFlush; cacheMaxEntries?: number }) {
    const outputs: HostOutput[] = [];
    const selfSent: WindowMessage[] = [];
    const timers: string[] = [];
    const props = propsOf(outputs, undefined, undefined, [], flush);
    const state = props.initialState(KEY, undefined) as WindowState;
    let stopped = false;
    const ctx = {
      key: KEY,
      state,
      self: {
        tell: (message: WindowMessage) => {
          selfSent.push(message);
          return true;
        },
      },
      ref: () => ({ tell: () => true }),
      startTimer: (name: string) => timers.push(name),
      stop: () => {
        stopped = true;
      },
    } as unknown as ActorContext<WindowMessage, WindowState>;
    const send = (message: WindowMessage) => props.receive(ctx, message);
    const signal = (type: "started" | "restarted" | "passivating") =>
      props.onSignal?.(ctx, { type } as Parameters<NonNullable<typeof props.onSignal>>[1]);
    return { outputs, selfSent, timers, send, signal, stopped: () => stopped };
  }

  // 100k window actors each ticking once a second were 100k messages a second that closed nothing
  test("an actor of event-time windows starts no tick, started or restarted", () => {
    const { timers, signal } = harness();
    signal("started");
    signal("restarted");
    expect(timers).toEqual([]);
  });

  test("the first reading of a burst queues one emit-updates to the actor itself", () => {
    const { outputs, selfSent, send } = harness();
    send({ type: "reading", reading: reading(0, BASE, 1) });
    send({ type: "reading", reading: reading(1, BASE + 1_000, 2) });
    expect(selfSent).toEqual([{ type: "emit-updates" }]);
    expect(trace(outputs)).toEqual([]);
    send({ type: "emit-updates" });
    expect(trace(outputs)).toEqual(["update:0:2"]);
    send({ type: "reading", reading: reading(2, BASE + 2_000, 2) });
    expect(selfSent).toHaveLength(2);
  });

  // table: every way the actor's state leaves it must carry the updates out first
  const cases: { name: string; message?: WindowMessage; passivate?: boolean; expected: string[] }[] = [
    { name: "a checkpoint", message: { type: "checkpoint" }, expected: ["update:0:2", "state"] },
    { name: "a passivation", passivate: true, expected: ["update:0:2", "state"] },
    { name: "an eviction", message: { type: "evict" }, expected: ["update:0:2"] },
  ];
  for (const { name, message, passivate, expected } of cases) {
    test(`${name} emits the cached updates before the actor's state leaves`, () => {
      const { outputs, send, signal } = harness();
      send({ type: "reading", reading: reading(0, BASE, 1) });
      send({ type: "reading", reading: reading(1, BASE + 1_000, 2) });
      if (passivate) signal("passivating");
      else if (message) send(message);
      expect(trace(outputs)).toEqual(expected);
      send({ type: "emit-updates" }); // the queued one finds nothing left
      expect(trace(outputs)).toEqual(expected);
    });
  }

  test("held to the checkpoint (flushUpdates 'checkpoint'): no emit-updates is queued, and the checkpoint emits each window's latest update before the state", () => {
    const { outputs, selfSent, send } = harness({ flushUpdates: "checkpoint" });
    for (let i = 0; i < 3; i++) send({ type: "reading", reading: reading(i, BASE + 1_000 * i, 1) });
    expect(selfSent).toEqual([]);
    expect(trace(outputs)).toEqual([]);
    send({ type: "checkpoint" });
    expect(trace(outputs)).toEqual(["update:0:3", "state"]);
  });

  test("held to the checkpoint, past the bound the oldest sensor's window goes out early, and nothing is lost", () => {
    const { outputs, send } = harness({ flushUpdates: "checkpoint", cacheMaxEntries: 2 });
    const of = (sensorId: string, offset: number): HotReading => ({ ...reading(offset, BASE, 1), sensorId });
    for (const [i, sensor] of ["s-1", "s-2", "s-1", "s-3", "s-4"].entries())
      send({ type: "reading", reading: of(sensor, i) });
    const keys = () =>
      outputs.flatMap((o) => (o.type === "window" ? [`${o.window.key}:${o.window.count}`] : [o.type]));
    expect(keys()).toEqual(["s-1:2", "s-2:1"]);
    send({ type: "checkpoint" });
    expect(keys().slice(0, 4)).toEqual(["s-1:2", "s-2:1", "s-3:1", "s-4:1"]);
    expect(keys().slice(4)).toEqual(["state", "state", "state", "state"]);
  });

  test("a window closed by the watermark before the flush emits only its final result", () => {
    const { outputs, send } = harness();
    send({ type: "reading", reading: reading(0, BASE, 1) });
    send({ type: "watermark", watermark: BASE + 60_000 + 30_000 });
    send({ type: "emit-updates" });
    expect(trace(outputs)).toEqual(["final:0:1"]);
  });
});

describe("window actor state as bytes", () => {
  /** an actor of KEY started with s-1's changelog entry `saved`, fed `readings`, then asked for a checkpoint */
  function runFrom(saved: unknown, readings: HotReading[]) {
    const outputs: HostOutput[] = [];
    const props = propsOf(outputs, false, undefined, saved === undefined ? [] : [["s-1", saved]]);
    const state = props.initialState(KEY, undefined) as WindowState;
    const ctx = {
      key: KEY,
      state,
      self: { tell: () => true },
      ref: () => ({ tell: () => true }),
      startTimer: () => undefined,
      stop: () => undefined,
    } as unknown as ActorContext<WindowMessage, WindowState>;
    for (const r of readings) props.receive(ctx, { type: "reading", reading: r });
    props.receive(ctx, { type: "checkpoint" });
    const published = outputs.find((o) => o.type === "state") as Extract<HostOutput, { type: "state" }>;
    expect(published.key).toBe(sensorWindowKey("traffic", 3, "s-1"));
    return { outputs, state, published: published.state as Uint8Array };
  }
  const first = [reading(0, BASE, 10), reading(1, BASE + 1_000, 10), reading(2, BASE + 2_000, 10)];
  // the last two again (a replay after a restore), then one new reading
  const after = [reading(1, BASE + 1_000, 10), reading(2, BASE + 2_000, 10), reading(3, BASE + 3_000, 10)];

  test("a checkpoint publishes the operator's snapshot bytes with the applied offset inside", () => {
    const { published } = runFrom(undefined, first);
    expect(published).toBeInstanceOf(Uint8Array);
    expect(isSnapshotBytes(published)).toBe(true);
    expect(appliedOffsetOf(published)).toBe(2);
  });

  // the forms a sensor's window state reaches the actor in: bytes from a checkpoint (of this
  // actor or of a per-sensor one); the JSON bytes and the parsed JSON of changelogs written
  // before the bytes by the per-sensor window actors
  const ownWindows = sensorWindowsFactory({
    window: { kind: "tumbling", sizeMs: 60_000 },
    graceMs: 30_000,
    maxOutOfOrdernessMs: 2_000,
    idleTimeoutMs: 60_000,
    clock: () => BASE + 120_000,
  });
  const perSensor = () => {
    const windows = ownWindows("traffic", 3);
    for (const r of first) windows.add(r, { window: () => undefined, late: () => undefined });
    return windows;
  };
  const legacyJson = () => ({ windows: perSensor().snapshot(), lastOffset: 2 });
  const forms: [string, () => unknown][] = [
    ["snapshot bytes", () => runFrom(undefined, first).published],
    ["a per-sensor window actor's snapshot bytes", () => perSensor().snapshotBytes(2)],
    ["JSON bytes of an older changelog", () => new TextEncoder().encode(JSON.stringify(legacyJson()))],
    ["parsed JSON of an older changelog", () => JSON.parse(JSON.stringify(legacyJson()))],
  ];
  for (const [form, saved] of forms)
    test(`restored from ${form}, the actor skips the replayed readings and counts the new one once`, () => {
      const { published } = runFrom(saved(), after);
      expect(appliedOffsetOf(published)).toBe(3);
      // the bytes an operator of the sensor's own writes: a per-sensor actor reads them as its own
      const windows = ownWindows("traffic", 3, published).snapshot() as WindowOperatorSnapshot;
      expect(windows.windows.map((w) => w.state.count)).toEqual([4]);
    });

  // one sensor's bad entry must not cost the partition's other sensors their windows; it is
  // reported to the main thread as corrupt changelog state (regression: a dead letter of the
  // actor, which the main thread's corrupt-changelog count, log and metric never saw)
  const otherSize = () =>
    sensorWindowsFactory({
      window: { kind: "tumbling", sizeMs: 30_000 },
      graceMs: 30_000,
      maxOutOfOrdernessMs: 2_000,
      idleTimeoutMs: 60_000,
      clock: () => BASE + 120_000,
    })("traffic", 3).snapshotBytes(2);
  test.each([
    ["invalid UTF-8", () => Uint8Array.of(0x7b, 0xff, 0x00), "DECODE_FAILED"],
    ["bytes that are neither a snapshot nor JSON", () => Uint8Array.of(1, 2, 3), "DECODE_FAILED"],
    ["JSON null", () => new TextEncoder().encode("null"), "DECODE_FAILED"],
    ["a number", () => 7, "DECODE_FAILED"],
    ["a snapshot of another window size", otherSize, "CONFIG_INVALID"],
  ])(
    "a sensor's entry of %s is reported as corrupt state, and the other sensors keep theirs",
    (_form, bad, code) => {
      const outputs: HostOutput[] = [];
      const good = runFrom(undefined, first).published;
      const props = propsOf(outputs, false, undefined, [
        ["s-bad", bad()],
        ["s-1", good],
      ]);
      const state = props.initialState(KEY, undefined) as WindowState;
      expect(outputs.map((o) => o.type === "corrupt-state" && [o.kind, o.key, o.partition, o.code])).toEqual([
        ["window", sensorWindowKey("traffic", 3, "s-bad"), 3, code],
      ]);
      const published = new Map(state.windows.takeChanged());
      expect(published.size).toBe(0); // restored state is not news for the changelog
      expect(
        state.windows.add(reading(2, BASE + 2_000, 10), { window: () => undefined, late: () => undefined }),
      ).toBe(false);
    },
  );
});
