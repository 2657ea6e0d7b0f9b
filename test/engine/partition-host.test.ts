import { afterEach, describe, expect, test } from "bun:test";
import { inProcessHosts } from "../../engine/in-process-hosts.ts";
import { createPartitionHost, SNAPSHOT_STATES_PER_TURN } from "../../engine/partition-host.ts";
import {
  DEFAULT_WINDOW_UPDATE_CACHE_ENTRIES,
  type PartitionHostSetup,
  shardHostDeps,
} from "../../engine/partition-host-setup.ts";
import { writeHostInbound } from "../../messages/codec/host-inbound-codec.ts";
import { decodeHostOutput } from "../../messages/codec/host-output-codec.ts";
import { type SensorReadingRecord, writeSensorReading } from "../../messages/codec/sensor-reading-record.ts";
import type { HostOutput } from "../../messages/host-protocol.ts";
import { appliedOffsetOf, type WindowOperatorSnapshot } from "../../stream/index.ts";
import { createActorSystem, SerializedSnapshotStore } from "../../supervisor/index.ts";
import { inProcessChannel } from "../../supervisor/transport/in-process.ts";
import type { RecordWriter } from "../../supervisor/transport.ts";
import { sensorWindowsFactory } from "../../testkit/sensor-windows.ts";
import { eventually } from "../node/node-fixture.ts";
import { MINUTE_WINDOWS, WINDOWS_ONLY } from "./engine-fixture.ts";

const WINDOW_START = 1_700_000_000_000;
const windowsOf = sensorWindowsFactory({
  window: { kind: "tumbling", sizeMs: 60_000 },
  graceMs: 0,
  maxOutOfOrdernessMs: 0,
  idleTimeoutMs: 60_000,
  clock: Date.now,
});

/** the count of the first open window in a window actor's state bytes */
function windowCountOf(state: Uint8Array): number {
  const snapshot = windowsOf("traffic", 0, state).snapshot() as WindowOperatorSnapshot;
  return snapshot.windows[0]?.state.count ?? 0;
}
let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

function startHost(passivateAfterMs?: number, clock?: () => number) {
  const hosts = inProcessHosts(
    { ...MINUTE_WINDOWS, ...(passivateAfterMs === undefined ? {} : { passivateAfterMs }) },
    undefined,
    clock,
  );
  stop = () => hosts.stop();
  const outputs: HostOutput[] = [];
  hosts.onOutput((output) => outputs.push(output));
  let batch = 0;
  const reading = (offset: number): SensorReadingRecord => ({
    sensorType: "traffic",
    sensorId: "x",
    partition: 0,
    offset,
    eventTime: WINDOW_START + offset * 1000,
    ingestedAt: WINDOW_START + offset * 1000,
    values: [10, 50],
    flags: 0,
  });
  /** a checkpoint mark; resolves with the window state it made the host publish */
  const checkpoint = async (): Promise<{ count: number; state: Uint8Array }> => {
    const id = ++batch;
    hosts.sendControl(0, { type: "mark", batch: id, checkpoint: true });
    hosts.flush();
    const answered = await eventually(
      () => outputs.some((o) => o.type === "mark" && o.batch === id),
      (done) => done,
    );
    expect(answered).toBe(true);
    const states = outputs.filter((o) => o.type === "state" && o.kind === "window");
    const last = states[states.length - 1] as Extract<HostOutput, { type: "state" }>;
    // the state crosses as the bytes the changelog stores: the window operator's snapshot
    const state = last.state as Uint8Array;
    return { count: windowCountOf(state), state };
  };
  return { hosts, reading, checkpoint, outputs };
}

test("a partition evicted and restored in one turn keeps its restored window state (regression: the evicted actor's stop deleted the restored snapshot, and the window counted again from zero)", async () => {
  const { hosts, reading, checkpoint } = startHost();
  for (let offset = 0; offset < 5; offset++) hosts.sendReading(0, reading(offset));
  const saved = await checkpoint();
  expect(saved.count).toBe(5);
  // the partition leaves and comes straight back (an eager rebalance): evict, restore and the
  // next reading reach the host together, while the evicted actors have not stopped yet
  hosts.sendControl(0, { type: "evict", partitions: [0] });
  hosts.sendControl(0, {
    type: "restore",
    kind: "window",
    key: "traffic:0:x",
    partition: 0,
    state: saved.state,
  });
  hosts.sendReading(0, reading(5));
  expect((await checkpoint()).count).toBe(6);
});

test("restored window state reaches its actor as the stored bytes: as bytes and as the JSON of an older changelog alike", async () => {
  const { hosts, reading, checkpoint } = startHost();
  for (let offset = 0; offset < 3; offset++) hosts.sendReading(0, reading(offset));
  const saved = await checkpoint();
  const legacyJson = new TextEncoder().encode(
    JSON.stringify({ windows: windowsOf("traffic", 0, saved.state).snapshot(), lastOffset: 2 }),
  );
  for (const [form, state] of [
    ["bytes", saved.state],
    ["JSON", legacyJson],
  ] as const) {
    hosts.sendControl(0, { type: "evict", partitions: [0] });
    hosts.sendControl(0, { type: "restore", kind: "window", key: "traffic:0:x", partition: 0, state });
    // a replayed reading is skipped, the next one counts
    hosts.sendReading(0, reading(2));
    hosts.sendReading(0, reading(3));
    expect([form, (await checkpoint()).count]).toEqual([form, 4]);
  }
});

test("a restored state that does not decode starts its sensor's windows empty, reported as corrupt state, and the host keeps going", async () => {
  const { hosts, reading, checkpoint, outputs } = startHost();
  hosts.sendControl(0, {
    type: "restore",
    kind: "window",
    key: "traffic:0:x",
    partition: 0,
    state: Uint8Array.of(0x01, 0xde, 0xad),
  });
  hosts.sendReading(0, reading(0));
  hosts.sendReading(0, reading(1));
  expect((await checkpoint()).count).toBe(2);
  // one sensor's bad entry goes to the main thread as corrupt changelog state, with its key and
  // code; the partition's window actor (the other sensors' windows) is not restarted for it
  const reports = outputs.filter((o) => o.type === "corrupt-state");
  expect(reports.map((o) => o.type === "corrupt-state" && [o.kind, o.key, o.partition, o.code])).toEqual([
    ["window", "traffic:0:x", 0, "DECODE_FAILED"],
  ]);
  const [stats] = await hosts.stats();
  expect(stats!.restarts).toBe(0);
});

// regression: the partition window actor's passivation snapshot (operator bytes, offsets, sensor
// names) went through the worker's snapshot store as JSON, which turned its byte arrays into
// plain objects; woken by the sensor's next reading, the actor could not restore them and every
// sensor of the partition started its windows again from nothing
test("a window actor passivated and woken by the next reading keeps every sensor's open window", async () => {
  const { hosts, reading, checkpoint } = startHost(200);
  for (let offset = 0; offset < 3; offset++) hosts.sendReading(0, reading(offset));
  expect((await checkpoint()).count).toBe(3);
  // every actor of the host passivates (nothing else keeps them alive)
  const passivated = await eventually(
    async () => (await hosts.stats())[0]!.byKind.window?.actors ?? -1,
    (actors) => actors === 0,
  );
  expect(passivated).toBe(0);
  hosts.sendReading(0, reading(3));
  expect((await checkpoint()).count).toBe(4);
  const [stats] = await hosts.stats();
  expect(stats!.restarts).toBe(0);
});

/**
 * A host on channels of the test's own: every flush of the outbound channel ends one turn of the
 * host's loop, and the test reads that turn's outputs right there, so turns are counted exactly.
 */
function startCountedHost(onTurn: (outputs: readonly HostOutput[]) => void) {
  const inbound = inProcessChannel(1 << 20);
  const outbound = inProcessChannel(1 << 22);
  const turns: HostOutput[][] = [];
  const writer: RecordWriter = {
    maxRecordBytes: outbound.writer.maxRecordBytes,
    tryWrite: (record) => outbound.writer.tryWrite(record),
    reserve: (maxBytes) => outbound.writer.reserve(maxBytes),
    commit: (length) => outbound.writer.commit(length),
    waitForSpace: (timeoutMs) => outbound.writer.waitForSpace(timeoutMs),
    flush() {
      outbound.writer.flush();
      const turn: HostOutput[] = [];
      outbound.reader.drain((bytes, offset, length) => {
        turn.push(decodeHostOutput(bytes, offset, length));
      });
      if (turn.length === 0) return;
      turns.push(turn);
      onTurn(turn);
    },
  };
  const snapshots = new SerializedSnapshotStore();
  const system = createActorSystem({ name: "counted-host", snapshots });
  const host = createPartitionHost({
    ...shardHostDeps(MINUTE_WINDOWS),
    worker: 0,
    system,
    snapshots,
    inbound: inbound.reader,
    outbound: writer,
  });
  const loop = host.run();
  stop = async () => {
    await host.stop();
    await loop;
    await system.stop();
  };
  const send = (sensorId: string, partition: number, offset: number) =>
    writeSensorReading(inbound.writer, {
      sensorType: "traffic",
      sensorId,
      partition,
      offset,
      eventTime: WINDOW_START + 1000,
      ingestedAt: WINDOW_START + 1000,
      values: [10, 50],
      flags: 0,
    });
  const mark = (batch: number) => writeHostInbound(inbound.writer, { type: "mark", batch, checkpoint: true });
  /** waits (bounded) for the mark to come out; fails the test if it does not */
  const markAnswered = async (batch: number) => {
    const deadline = Date.now() + 20_000;
    while (!turns.some((turn) => turn.some((o) => o.type === "mark" && o.batch === batch))) {
      if (Date.now() > deadline) throw new Error(`mark ${batch} not answered within 20 s`);
      await Bun.sleep(5);
    }
  };
  return { turns, send, mark, flush: () => inbound.writer.flush(), markAnswered };
}

const statesOf = (turn: readonly HostOutput[]) =>
  turn.filter((o): o is Extract<HostOutput, { type: "state" }> => o.type === "state");

test("a checkpoint publishes at most a slice of states a turn, a partition's window actor weighed by its changed sensors, every changed sensor's state before the mark (regression: the window actors of all partitions went into one turn with a slice of sensors)", async () => {
  const host = startCountedHost(() => undefined);
  // two partitions of 200 sensors each: 400 sensor actors, 2 window actors of 200 sensors each
  for (let i = 0; i < 400; i++) host.send(`s${i}`, i < 200 ? 0 : 1, i);
  host.mark(1);
  host.flush();
  await host.markAnswered(1);
  const upToMark = host.turns.flat();
  const states = statesOf(
    upToMark.slice(
      0,
      upToMark.findIndex((o) => o.type === "mark"),
    ),
  );
  const keys = (kind: string) => states.filter((s) => s.kind === kind).map((s) => s.key);
  expect(new Set(keys("sensor")).size).toBe(400);
  expect(keys("sensor").length).toBe(400);
  expect(new Set(keys("window")).size).toBe(400);
  expect(keys("window").length).toBe(400);
  // the old slices were [256 sensors], [144 sensors + both window actors: 544 states]
  const perTurn = host.turns.map((turn) => statesOf(turn).length).filter((n) => n > 0);
  expect(Math.max(...perTurn)).toBeLessThanOrEqual(SNAPSHOT_STATES_PER_TURN);
  const windowTurns = host.turns
    .map((turn, index) => ({
      index,
      partitions: new Set(
        statesOf(turn)
          .filter((s) => s.kind === "window")
          .map((s) => s.partition),
      ),
    }))
    .filter((turn) => turn.partitions.size > 0);
  expect(windowTurns.map((turn) => [...turn.partitions])).toEqual([[0], [1]]);
});

test("a reading that arrives while a checkpoint is taken is answered between its slices: its window update goes out before the checkpoint's remaining states and its mark", async () => {
  let sentDuring = false;
  const host = startCountedHost((turn) => {
    // the first turn with checkpoint states: a new reading comes in before the next slice
    if (!sentDuring && statesOf(turn).length > 0) {
      sentDuring = true;
      host.send("late-comer", 1, 1_000);
      host.flush();
    }
  });
  for (let i = 0; i < 400; i++) host.send(`s${i}`, i < 200 ? 0 : 1, i);
  host.mark(1);
  host.flush();
  await host.markAnswered(1);
  const outputs = host.turns.flat();
  const update = outputs.findIndex(
    (o) => o.type === "window" && o.window.key === "late-comer" && !o.window.final,
  );
  const lastState = outputs.findLastIndex((o) => o.type === "state");
  const mark = outputs.findIndex((o) => o.type === "mark");
  expect(sentDuring).toBe(true);
  expect(update).toBeGreaterThan(-1);
  expect(update).toBeLessThan(lastState);
  expect(update).toBeLessThan(mark);
});

// regression: the partition window actor's passivation snapshot (operator bytes, offsets, sensor
// names) went through the worker's snapshot store as JSON, which turned its byte arrays into
// plain objects; woken by the sensor's next reading, the actor could not restore them and every
// sensor of the partition started its windows again from nothing
test("a window actor passivated and woken by the next reading keeps every sensor's open window", async () => {
  const { hosts, reading, checkpoint } = startHost(200);
  for (let offset = 0; offset < 3; offset++) hosts.sendReading(0, reading(offset));
  expect((await checkpoint()).count).toBe(3);
  // every actor of the host passivates (nothing else keeps them alive)
  const passivated = await eventually(
    async () => (await hosts.stats())[0]!.byKind.window?.actors ?? -1,
    (actors) => actors === 0,
  );
  expect(passivated).toBe(0);
  hosts.sendReading(0, reading(3));
  expect((await checkpoint()).count).toBe(4);
  const [stats] = await hosts.stats();
  expect(stats!.restarts).toBe(0);
});

// regression: a sensor actor that passivates publishes its applied offset at once, while its
// windows wait in the partition's window actor (kept up by the partition's other sensors) for
// the next checkpoint; a crash in between restored the newer offset beside older windows, and the
// sensor actor skipped the replayed readings the windows never had. Its windows go out with it.
test("a sensor that passivates while its partition's window actor stays up has its windows published with it", async () => {
  // the actor system's clock, moved by hand: which actor is idle long enough is decided here
  let now = 1_000_000;
  const { hosts, reading, checkpoint, outputs } = startHost(200, () => now);
  for (let offset = 0; offset < 3; offset++) hosts.sendReading(0, reading(offset));
  await checkpoint();
  const windowStatesOfX = () =>
    outputs
      .filter((o) => o.type === "state" && o.kind === "window" && o.key === "traffic:0:x")
      .map((o) => appliedOffsetOf((o as Extract<HostOutput, { type: "state" }>).state as Uint8Array));
  const sensorStatesOfX = () =>
    outputs.filter((o) => o.type === "state" && o.kind === "sensor" && o.key === "x");
  const published = sensorStatesOfX().length;
  hosts.sendReading(0, reading(3));
  await checkpointless(hosts);
  // 150 ms later another sensor of the partition sends: the window actor is active again
  now += 150;
  hosts.sendReading(0, { ...reading(4), sensorId: "y" });
  await checkpointless(hosts);
  // 250 ms after x's reading: x's sensor actor is idle past 200 ms, the window actor is not
  now += 100;
  const passivated = await eventually(
    () => sensorStatesOfX().length > published,
    (done) => done,
  );
  expect(passivated).toBe(true);
  // no checkpoint, and the clock stands still: only x's passivation can have published this
  expect(await eventually(windowStatesOfX, (offsets) => offsets.includes(3))).toContain(3);
  const [stats] = await hosts.stats();
  expect(stats!.byKind.window?.actors).toBe(1);
});

/** the readings sent so far are handled: a mark without a checkpoint, answered */
async function checkpointless(hosts: ReturnType<typeof startHost>["hosts"]) {
  const seen: HostOutput[] = [];
  hosts.onOutput((output) => seen.push(output));
  const batch = 1_000_000 + Math.floor(Math.random() * 1_000_000);
  hosts.sendControl(0, { type: "mark", batch, checkpoint: false });
  hosts.flush();
  await eventually(
    () => seen.some((o) => o.type === "mark" && o.batch === batch),
    (done) => done,
  );
}

/** a traffic reading of partition 0 at `offset`, its event time `offset` seconds into the window */
const trafficReading = (sensorId: string, offset: number): SensorReadingRecord => ({
  sensorType: "traffic",
  sensorId,
  partition: 0,
  offset,
  eventTime: WINDOW_START + offset * 1000,
  ingestedAt: WINDOW_START,
  values: [10, 50],
  flags: 0,
});

test("a host of windows only (sensorChecks false) windows each reading in its partition's window actor with no sensor actor: no processed readings, only window state at a checkpoint, a replayed reading skipped", async () => {
  const hosts = inProcessHosts(WINDOWS_ONLY);
  stop = () => hosts.stop();
  const outputs: HostOutput[] = [];
  hosts.onOutput((output) => outputs.push(output));
  for (const [sensor, offset] of [
    ["x", 1],
    ["y", 2],
    ["x", 3],
    ["x", 3], // the same record again (a replay): applied once
  ] as const)
    hosts.sendReading(0, trafficReading(sensor, offset));
  hosts.sendControl(0, { type: "mark", batch: 1, checkpoint: true });
  hosts.flush();
  await eventually(
    () => outputs.some((o) => o.type === "mark" && o.batch === 1),
    (done) => done,
  );
  expect(outputs.filter((o) => o.type === "reading")).toEqual([]);
  const states = outputs.filter((o) => o.type === "state");
  expect(states.map((o) => o.kind).sort()).toEqual(["window", "window"]);
  expect(states.map((o) => o.key).sort()).toEqual(["traffic:0:x", "traffic:0:y"]);
  const x = states.find((o) => o.key === "traffic:0:x")!;
  expect(windowCountOf(x.state as Uint8Array)).toBe(2);
  const updates = outputs.filter((o) => o.type === "window");
  expect(new Set(updates.map((o) => o.window.key))).toEqual(new Set(["x", "y"]));
  const [stats] = await hosts.stats();
  expect(stats?.byKind.sensor?.actors ?? 0).toBe(0);
  expect(stats?.byKind.window?.actors).toBe(1);
});

describe("the window record cache's flush (windowUpdateFlush)", () => {
  /** a windows-only host; readings of `sensors` (one each), a batch mark 1, a checkpoint mark 2 */
  async function run(extra: Partial<PartitionHostSetup>, sensors: readonly string[]) {
    const hosts = inProcessHosts({ ...WINDOWS_ONLY, ...extra });
    stop = () => hosts.stop();
    const outputs: HostOutput[] = [];
    hosts.onOutput((output) => outputs.push(output));
    for (const [offset, sensorId] of sensors.entries())
      hosts.sendReading(0, trafficReading(sensorId, offset));
    for (const [batch, checkpoint] of [
      [1, false],
      [2, true],
    ] as const) {
      hosts.sendControl(0, { type: "mark", batch, checkpoint });
      hosts.flush();
      await eventually(
        () => outputs.some((o) => o.type === "mark" && o.batch === batch),
        (done) => done,
      );
    }
    // "s0" an update of sensor s0, "state", "mark1"
    return outputs.map((o) =>
      o.type === "window"
        ? `${o.window.final ? "final" : ""}${o.window.key}`
        : o.type === "mark"
          ? `mark${o.batch}`
          : o.type,
    );
  }
  const sensors = ["s0", "s1", "s2", "s3", "s4"];
  const states = sensors.map(() => "state");

  // table: the node's default and both settings; where each window's update goes relative to the marks
  const cases: { name: string; setup: Partial<PartitionHostSetup>; expected: string[] }[] = [
    {
      name: "the node's default (unset) flushes per batch",
      setup: {},
      expected: [...sensors, "mark1", ...states, "mark2"],
    },
    {
      name: '"batch" flushes per batch',
      setup: { windowUpdateFlush: "batch" },
      expected: [...sensors, "mark1", ...states, "mark2"],
    },
    {
      name: '"checkpoint" holds every update past a batch mark and emits them before the checkpoint mark and its states',
      setup: { windowUpdateFlush: "checkpoint" },
      expected: ["mark1", ...sensors, ...states, "mark2"],
    },
    {
      name: '"checkpoint" with a bound of 2 windows emits the oldest 3 early, in order, the other 2 at the checkpoint',
      setup: { windowUpdateFlush: "checkpoint", windowUpdateCacheEntries: 2 },
      expected: ["s0", "s1", "s2", "mark1", "s3", "s4", ...states, "mark2"],
    },
  ];
  for (const { name, setup, expected } of cases)
    test(name, async () => {
      expect(await run(setup, sensors)).toEqual(expected);
    });

  test(`"checkpoint" bounds each window actor by DEFAULT_WINDOW_UPDATE_CACHE_ENTRIES unless told otherwise`, async () => {
    const many = Array.from({ length: DEFAULT_WINDOW_UPDATE_CACHE_ENTRIES + 3 }, (_, i) => `s${i}`);
    const trace = await run({ windowUpdateFlush: "checkpoint" }, many);
    expect(trace.slice(0, 4)).toEqual(["s0", "s1", "s2", "mark1"]);
    // every sensor's window went out exactly once, early or at the checkpoint
    expect(trace.filter((t) => /^s\d/.test(t)).sort()).toEqual([...many].sort());
  });
});
