import { describe, expect, test } from "bun:test";
import { sensorWindowsFactory } from "../../../actors/window/sensor-windows.ts";
import {
  type WindowMessage,
  type WindowState,
  windowKey,
  windowProps,
} from "../../../actors/window/window.ts";
import type { HostOutput, HotReading } from "../../../messages/host-protocol.ts";
import type { ActorContext } from "../../../supervisor/actor.ts";
import { createActorSystem, InMemorySnapshotStore } from "../../../supervisor/index.ts";

/**
 * The window actor of one sensor with its operator's record cache: updates wait for the
 * `emit-updates` the actor queues to itself behind the readings it has, and nothing cached is
 * left behind a checkpoint, a passivation or an eviction.
 */
const KEY = windowKey("traffic", 3, "s-1");
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

function propsOf(outputs: HostOutput[], cacheUpdates?: boolean, hopMs?: number) {
  return windowProps({
    createWindows: sensorWindowsFactory({
      window: hopMs
        ? { kind: "hopping", sizeMs: 60_000, advanceMs: hopMs }
        : { kind: "tumbling", sizeMs: 60_000 },
      graceMs: 30_000,
      maxOutOfOrdernessMs: 2_000,
      idleTimeoutMs: 60_000,
      clock: () => BASE + 120_000,
      ...(cacheUpdates === undefined ? {} : { cacheUpdates }),
    }),
    emit: (output) => outputs.push(output),
    now: () => BASE + 120_000,
    tickMs: 1_000,
    scoreTypes: [],
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
  function harness() {
    const outputs: HostOutput[] = [];
    const selfSent: WindowMessage[] = [];
    const timers: string[] = [];
    const props = propsOf(outputs);
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

  test("a window closed by the watermark before the flush emits only its final result", () => {
    const { outputs, send } = harness();
    send({ type: "reading", reading: reading(0, BASE, 1) });
    send({ type: "watermark", watermark: BASE + 60_000 + 30_000 });
    send({ type: "emit-updates" });
    expect(trace(outputs)).toEqual(["final:0:1"]);
  });
});
