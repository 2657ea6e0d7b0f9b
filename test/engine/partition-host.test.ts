import { afterEach, expect, test } from "bun:test";
import { sensorWindowsFactory } from "../../actors/window/sensor-windows.ts";
import { inProcessHosts } from "../../engine/in-process-hosts.ts";
import type { SensorReadingRecord } from "../../messages/codec/sensor-reading-record.ts";
import type { HostOutput } from "../../messages/host-protocol.ts";
import type { WindowOperatorSnapshot } from "../../stream/index.ts";
import { eventually } from "../node/node-fixture.ts";

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

function startHost(passivateAfterMs?: number) {
  const hosts = inProcessHosts({
    window: { kind: "tumbling", sizeMs: 60_000 },
    anomalyDetector: "robust-z",
    graceMs: 0,
    maxOutOfOrdernessMs: 0,
    idleTimeoutMs: 60_000,
    sensorIntervalMs: 1000,
    utcOffsetMinutes: 0,
    tickMs: 1000,
    ...(passivateAfterMs === undefined ? {} : { passivateAfterMs }),
  });
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
