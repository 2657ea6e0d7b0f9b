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
 * Beside it, in the same rounds (rotating order), the operator alone: the same states restored
 * into a partition operator straight from their bytes (`restoreKeyBytes`, the actor now), and the
 * way the actor did it before: each sensor's bytes into a scratch operator of the sensor's own,
 * its `snapshot()` (a JSON object per window) handed to `restoreKey`, after a `snapshotKey` probe.
 *
 * Env: RESTORE_SENSORS (default 83,334), RESTORE_RUNS (default 5).
 */
import { loadavg } from "node:os";
import { partitionWindowsFactory } from "../actors/window/partition-windows.ts";
import { STATISTICS } from "../actors/window/sensor-windows.ts";
import type { HotReading } from "../messages/host-protocol.ts";
import { MEASUREMENTS } from "../messages/sensor-reading.ts";
import { tumbling } from "../stream/window/window-assigner.ts";
import { createWindowOperator, type WindowOperatorConfig } from "../stream/window/window-operator.ts";
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

/** the partition actor's own operator, as partitionWindowsFactory makes it */
const operatorConfig: WindowOperatorConfig = {
  assigner: tumbling(60_000),
  aggregators: Object.fromEntries(MEASUREMENTS.traffic.map((field) => [field, STATISTICS])),
  watermark: { maxOutOfOrdernessMs: 2_000, idleTimeoutMs: 60_000 },
  graceMs: 5_000,
  emit: "on-update",
  clock: () => BASE + 30_000,
};
const variants: Record<string, () => void> = {
  "actor: PartitionWindows.restore, then a reading": () => {
    const windows = create("traffic", PARTITION);
    for (const [sensorId, state] of states) windows.restore(sensorId, state);
    const before = emitted;
    // the last sensor's next reading: processed (an update emitted) once the restore is through
    const applied = windows.add(reading(SENSORS - 1, READINGS), sink);
    windows.emitUpdates(sink);
    if (!applied || emitted === before) throw new Error("the reading after the restore was not processed");
  },
  "operator: restoreKeyBytes": () => {
    const operator = createWindowOperator({
      ...operatorConfig,
      watermark: { ...operatorConfig.watermark, streamTime: "key" },
    });
    for (const [sensorId, state] of states) {
      if (operator.keyIdOf(sensorId) !== undefined) continue;
      operator.restoreKeyBytes(sensorId, state);
    }
    if (operator.stats().keys !== SENSORS) throw new Error("not every sensor restored");
  },
  "operator before: scratch operator + snapshot() + restoreKey": () => {
    const operator = createWindowOperator({
      ...operatorConfig,
      watermark: { ...operatorConfig.watermark, streamTime: "key" },
    });
    const scratch = createWindowOperator({ ...operatorConfig, initialCapacity: 8 });
    for (const [sensorId, state] of states) {
      if (operator.snapshotKey(sensorId) !== undefined) continue;
      scratch.restore(state);
      operator.restoreKey(sensorId, scratch.snapshot());
    }
    if (operator.stats().keys !== SENSORS) throw new Error("not every sensor restored");
  },
};
const names = Object.keys(variants);
const times = new Map<string, number[]>(names.map((name) => [name, []]));
const loads: number[] = [];
for (let run = 0; run < RUNS; run++) {
  loads.push(loadavg()[0]!);
  for (let v = 0; v < names.length; v++) {
    const name = names[(run + v) % names.length]!;
    Bun.gc(true);
    const started = performance.now();
    variants[name]!();
    const elapsed = performance.now() - started;
    times.get(name)!.push(elapsed);
    console.log(
      `round ${run + 1} ${name.padEnd(62)} ${elapsed.toFixed(0).padStart(6)} ms  load ${loads.at(-1)!.toFixed(1)}`,
    );
  }
}
for (const name of names) {
  const values = times.get(name)!;
  console.log(
    JSON.stringify({
      name: `partition window restore, ${name}`,
      value: median(values),
      unit: "ms",
      detail: `${SENSORS} sensors (${(bytes / 1e6).toFixed(1)} MB of states), median of ${RUNS} [${values
        .map((t) => t.toFixed(0))
        .join(", ")}], load ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`,
    }),
  );
}
