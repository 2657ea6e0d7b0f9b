/**
 * The worker's side of a failover (issue 7 §4, beside bench/failover-restore.ts, which stops when
 * every state is on its way to the workers): the time until a partition's window actor, given
 * every one of its sensors' changelog states, processes its next reading. That is what a moved
 * key waits after its partition's states arrive.
 *
 * One partition's share of 1M keys (1,000,000 / 12 = 83,334 sensors by default), each with the
 * state the node writes: the partition window actor's own per-sensor snapshot bytes (a tumbling
 * 1-minute window with three readings, applied offset in the header). Each round makes a fresh
 * actor, restores every sensor into it (`PartitionWindows.restore`, as actors/window/window.ts
 * does when the actor starts) and then hands it one reading of the last sensor; the figure is
 * the wall time of all of it. Medians of RUNS rounds, the load average noted.
 *
 * Env: RESTORE_SENSORS (default 83,334), RESTORE_RUNS (default 5).
 */
import { loadavg } from "node:os";
import { partitionWindowsFactory } from "../actors/window/partition-windows.ts";
import type { HotReading } from "../messages/host-protocol.ts";
import { median } from "./support.ts";

const SENSORS = Number(process.env.RESTORE_SENSORS ?? 83_334);
const RUNS = Number(process.env.RESTORE_RUNS ?? 5);
const READINGS = 3;
const PARTITION = 4;
const BASE = 1_760_000_040_000;

const create = partitionWindowsFactory({
  window: { kind: "tumbling", sizeMs: 60_000 },
  graceMs: 5_000,
  maxOutOfOrdernessMs: 2_000,
  idleTimeoutMs: 60_000,
  clock: () => BASE + 30_000,
});
let emitted = 0;
const sink = {
  window() {
    emitted++;
  },
  late() {},
};

function reading(sensor: number, r: number): HotReading {
  return {
    sensorType: "traffic",
    sensorId: `traffic_${sensor}`,
    eventTime: BASE + r * 1_000,
    values: Float64Array.of(10 + ((sensor + r) % 40), 30 + ((sensor * 7 + r) % 50)),
    partition: PARTITION,
    offset: sensor * (READINGS + 1) + r,
    ingestedAt: BASE,
  };
}

/** every sensor's changelog entry, as the partition's window actor publishes it */
function changelogStates(): [string, Uint8Array][] {
  const source = create("traffic", PARTITION);
  for (let sensor = 0; sensor < SENSORS; sensor++)
    for (let r = 0; r < READINGS; r++) source.add(reading(sensor, r), sink);
  source.emitUpdates(sink);
  return source.takeChanged();
}

const states = changelogStates();
if (states.length !== SENSORS) throw new Error(`expected ${SENSORS} states, got ${states.length}`);
const bytes = states.reduce((total, [, state]) => total + state.length, 0);
const loads: number[] = [];
const times: number[] = [];
for (let run = 0; run < RUNS; run++) {
  Bun.gc(true);
  loads.push(loadavg()[0]!);
  const started = performance.now();
  const windows = create("traffic", PARTITION);
  for (const [sensorId, state] of states) windows.restore(sensorId, state);
  const before = emitted;
  // the last sensor's next reading: processed (an update emitted) once the restore is through
  const applied = windows.add(reading(SENSORS - 1, READINGS), sink);
  windows.emitUpdates(sink);
  const elapsed = performance.now() - started;
  if (!applied || emitted === before) throw new Error("the reading after the restore was not processed");
  times.push(elapsed);
  console.log(`round ${run + 1}: ${elapsed.toFixed(0)} ms (load ${loads.at(-1)!.toFixed(1)})`);
}
console.log(
  JSON.stringify({
    name: "partition window actor restore",
    value: median(times),
    unit: "ms",
    detail: `${SENSORS} sensors (${(bytes / 1e6).toFixed(1)} MB of states), median of ${RUNS} [${times
      .map((t) => t.toFixed(0))
      .join(", ")}], load ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`,
  }),
);
