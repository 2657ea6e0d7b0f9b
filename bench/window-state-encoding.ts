/**
 * Window state encoding (issue 7 §4): the cost of a checkpoint per 100,000 changed window actors,
 * and of bringing their state back in the worker, for the two encodings the changelog holds:
 *
 * - checkpoint, before: the operator's snapshot object, wrapped with the applied offset,
 *   JSON.stringify, UTF-8 bytes, the actor-state record the worker wrote to its outbound ring;
 * - checkpoint, now: the operator's snapshot bytes (window-snapshot-bytes.ts), written straight
 *   from the window table's rows, copied into the ring's slot behind the record header;
 * - restore in the worker, before: the JSON restore envelope parsed, the state stringified into
 *   the snapshot store and parsed again when the actor starts, then the operator restored from it;
 * - restore in the worker, now: the actor-state record's bytes kept, the operator restored from
 *   them when the actor starts.
 *
 * CPU is this thread's CPU clock (process.cpuUsage of a one-thread loop). Medians of RUNS
 * rounds, each round every variant once. Env: STATE_KEYS (default 100,000), STATE_RUNS (5).
 */
import { decodeActorState, encodeActorState, writeActorState } from "../messages/codec/actor-state-record.ts";
import { decodeJsonEnvelope, encodeJsonEnvelope } from "../messages/codec/json-envelope-record.ts";
import { SerializedSnapshotStore } from "../supervisor/snapshot-store.ts";
import { sabRingChannel } from "../supervisor/transport/sab-ring.ts";
import {
  bytesStateOf,
  createWindows,
  jsonStateOf,
  type SensorWindowState,
  sensorWindowState,
} from "../testkit/window-actor-states.ts";
import { median, printFigure } from "./support.ts";

const KEYS = Number(process.env.STATE_KEYS ?? 100_000);
const RUNS = Number(process.env.STATE_RUNS ?? 5);
const PARTITIONS = 12;

function cpuMs(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

const states: SensorWindowState[] = Array.from({ length: KEYS }, (_, i) => sensorWindowState(i, PARTITIONS));
const jsonRecords = states.map((s) => encodeActorState("window", s.key, s.partition, jsonStateOf(s)));
const byteRecords = states.map((s) => encodeActorState("window", s.key, s.partition, bytesStateOf(s)));
const jsonBytes = jsonRecords.reduce((sum, r) => sum + r.length, 0);
const binaryBytes = byteRecords.reduce((sum, r) => sum + r.length, 0);
// before: the main thread decoded each state and sent it in a JSON restore envelope
const jsonEnvelopes = states.map((s) =>
  encodeJsonEnvelope({ type: "restore", kind: "window", key: s.key, state: jsonStateOf(s) }),
);

let sink = 0;
/** the worker's outbound ring, as the partition host writes state into it; emptied unread when full */
const ring = sabRingChannel(4 * 1024 * 1024);
const skip = () => undefined;
function toRing(write: () => boolean): void {
  while (!write()) {
    ring.writer.flush();
    ring.reader.drain(skip);
  }
}
const variants: [string, () => void][] = [
  [
    "checkpoint JSON (before)",
    () => {
      for (const s of states)
        toRing(() => ring.writer.tryWrite(encodeActorState("window", s.key, s.partition, jsonStateOf(s))));
    },
  ],
  [
    "checkpoint bytes (now)",
    () => {
      for (const s of states)
        toRing(() => writeActorState(ring.writer, "window", s.key, s.partition, bytesStateOf(s)));
    },
  ],
  [
    "worker restore JSON (before)",
    () => {
      const store = new SerializedSnapshotStore();
      for (const envelope of jsonEnvelopes) {
        const message = decodeJsonEnvelope(envelope, 0, envelope.length) as { key: string; state: unknown };
        store.save(message.key, message.state);
      }
      for (const s of states) {
        const saved = store.load(s.key) as { windows: unknown };
        sink += createWindows("traffic", s.partition, saved.windows).nextCloseAt();
      }
    },
  ],
  [
    "worker restore bytes (now)",
    () => {
      const store = new SerializedSnapshotStore();
      for (const record of byteRecords) {
        const message = decodeActorState(record, 0, record.length);
        store.save(message.key, message.state);
      }
      for (const s of states) sink += createWindows("traffic", s.partition, store.load(s.key)).nextCloseAt();
    },
  ],
];

const timings = new Map<string, number[]>(variants.map(([name]) => [name, []]));
for (let round = 0; round < RUNS; round++)
  for (const [name, run] of variants) {
    Bun.gc(true);
    timings.get(name)!.push(cpuMs(run));
  }
const of = (name: string) => median(timings.get(name)!);
const load = (await import("node:os")).loadavg()[0]!.toFixed(1);
console.log(
  `window state encoding, ${KEYS.toLocaleString()} window actors (1 open window each), load ${load}`,
);
for (const [name, runs] of timings)
  console.log(
    `  ${name.padEnd(30)} median ${of(name).toFixed(0).padStart(6)} ms CPU  (${runs.map((r) => r.toFixed(0)).join(", ")})`,
  );
console.log(
  `  bytes per state record: JSON ${(jsonBytes / KEYS).toFixed(0)}, binary ${(binaryBytes / KEYS).toFixed(0)}`,
);
if (sink === 42) console.log("");
const per100k = (ms: number) => Math.round((ms * 100_000) / KEYS);
printFigure({
  name: "window_state_checkpoint_cpu_per_100k_keys",
  value: per100k(of("checkpoint bytes (now)")),
  unit: "ms",
  baseline: "json_checkpoint",
  baseline_value: per100k(of("checkpoint JSON (before)")),
  bytes_per_key: Math.round(binaryBytes / KEYS),
  json_bytes_per_key: Math.round(jsonBytes / KEYS),
});
printFigure({
  name: "window_state_worker_restore_cpu_per_100k_keys",
  value: per100k(of("worker restore bytes (now)")),
  unit: "ms",
  baseline: "json_worker_restore",
  baseline_value: per100k(of("worker restore JSON (before)")),
});
