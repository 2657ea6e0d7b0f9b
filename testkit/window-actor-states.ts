import { sensorWindowKey } from "../actors/window/window.ts";
import type { HotReading } from "../messages/host-protocol.ts";
import { partitionFor } from "../messages/murmur2.ts";
import { type SensorWindows, sensorWindowsFactory } from "./sensor-windows.ts";

/**
 * Window actor states as a node writes them, for benchmarks of the checkpoint and the restore:
 * one traffic sensor's tumbling 1-minute window with a few readings, made by the real window
 * operator, in the form of today (snapshot bytes) and of before (the JSON of the actor state).
 */
export const WINDOW_MS = 60_000;
const BASE = 1_760_000_040_000;
const noOutput = { window() {}, late() {} };

export const createWindows = sensorWindowsFactory({
  window: { kind: "tumbling", sizeMs: WINDOW_MS },
  graceMs: 5_000,
  maxOutOfOrdernessMs: 2_000,
  idleTimeoutMs: 60_000,
  clock: () => BASE + 30_000,
});

export interface SensorWindowState {
  readonly key: string;
  readonly partition: number;
  readonly windows: SensorWindows;
  readonly lastOffset: number;
}

/** sensor `i`'s window actor after `readings` readings (version shifts the values) */
export function sensorWindowState(
  i: number,
  partitions: number,
  readings = 3,
  version = 0,
): SensorWindowState {
  const sensorId = `traffic_${i}`;
  const partition = partitionFor(sensorId, partitions);
  const windows = createWindows("traffic", partition, undefined);
  for (let r = 0; r < readings; r++) {
    const reading: HotReading = {
      sensorType: "traffic",
      sensorId,
      eventTime: BASE + r * 1_000,
      values: Float64Array.of(10 + ((i + r + version) % 40), 30 + ((i * 7 + r) % 50) + version / 10),
      partition,
      offset: i * readings + r,
      ingestedAt: BASE,
    };
    windows.add(reading, noOutput);
  }
  return {
    key: sensorWindowKey("traffic", partition, sensorId),
    partition,
    windows,
    lastOffset: i * readings + readings - 1,
  };
}

/** the state as the window actor published it before the bytes: JSON of { windows, lastOffset } */
export function jsonStateOf(state: SensorWindowState): unknown {
  return { windows: state.windows.snapshot(), lastOffset: state.lastOffset };
}

export function bytesStateOf(state: SensorWindowState): Uint8Array {
  return state.windows.snapshotBytes(state.lastOffset);
}
