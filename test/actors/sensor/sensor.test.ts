import { describe, expect, test } from "bun:test";
import { AlertEvaluator, DEFAULT_ALERT_RULES } from "../../../actors/alert/alert-rules.ts";
import { sensorProps } from "../../../actors/sensor/sensor.ts";
import { sensorChecksFactory } from "../../../actors/sensor/sensor-checks.ts";
import { partitionWindowsFactory } from "../../../actors/window/partition-windows.ts";
import { windowProps } from "../../../actors/window/window.ts";
import type { HostOutput, HotReading } from "../../../messages/host-protocol.ts";
import type { ProcessedReading } from "../../../messages/processed-reading.ts";
import { createActorSystem, InMemorySnapshotStore } from "../../../supervisor/index.ts";

/**
 * Issue 7: at 20k readings/s a node that fell behind wrote one `ops.alerts` record per sensor.
 * The timeliness rule judged a reading against the clock of the actor that got to it, so a
 * backlog read late was "late data" for every sensor at once; with timeliness at 0 a sensor's
 * quality score of a window in progress falls under the low-quality threshold. The data's
 * timeliness is its event time against when the platform received it (the ingest stamp, else the
 * broker's timestamp); the processor's lag is the consumer-lag signal.
 *
 * The readings go through the sensor actor in an actor system, and its outputs' quality scores
 * through the default alert rules, as the output router feeds them.
 */
const BASE = Date.UTC(2026, 11, 1, 12, 0, 0);
const SENSORS = 20;
/** one reading a second for half a minute: past the rules' minimum history */
const READINGS = 30;
const BEHIND_MS = 10 * 60_000;

interface Case {
  readonly name: string;
  /** when ingest received each reading, after its event time; undefined: no ingest stamp */
  readonly receivedAfterMs: number | undefined;
  /** the actor's clock, after the last reading's event time */
  readonly processedAfterMs: number;
  /** readings with a timeliness issue (late or ahead) */
  readonly lateReadings: number;
  readonly lowQualityAlerts: number;
}

const CASES: readonly Case[] = [
  {
    name: "a backlog received on time and read 10 min late is not late data and fires no alert",
    receivedAfterMs: 200,
    processedAfterMs: BEHIND_MS,
    lateReadings: 0,
    lowQualityAlerts: 0,
  },
  {
    name: "readings received 11 s after their event time are late although processed at once",
    receivedAfterMs: 11_000,
    processedAfterMs: 11_100,
    lateReadings: SENSORS * READINGS,
    lowQualityAlerts: SENSORS,
  },
  {
    name: "a reading without an ingest stamp is judged on its arrival at the actor",
    receivedAfterMs: undefined,
    processedAfterMs: BEHIND_MS,
    lateReadings: SENSORS * READINGS,
    lowQualityAlerts: SENSORS,
  },
  {
    name: "readings stamped 6 s ahead of their arrival are a clock problem although processed after it",
    receivedAfterMs: -6_000,
    processedAfterMs: BEHIND_MS,
    lateReadings: SENSORS * READINGS,
    lowQualityAlerts: SENSORS,
  },
];

async function processed(c: Case): Promise<ProcessedReading[]> {
  const outputs: HostOutput[] = [];
  const clock = () => BASE + (READINGS - 1) * 1_000 + c.processedAfterMs;
  const system = createActorSystem({ name: "sensor-test", snapshots: new InMemorySnapshotStore() });
  system.register(
    sensorProps({
      createChecks: sensorChecksFactory({ intervalMs: 1_000, windowMs: 60_000 }),
      emit: (output) => outputs.push(output),
      now: clock,
    }),
  );
  system.register(
    windowProps({
      createWindows: partitionWindowsFactory({
        window: { kind: "tumbling", sizeMs: 60_000 },
        graceMs: 5_000,
        maxOutOfOrdernessMs: 2_000,
        idleTimeoutMs: 60_000,
        clock,
      }),
      emit: () => {},
      now: clock,
      tickMs: 1_000,
      scoreTypes: [],
    }),
  );
  let offset = 0;
  for (let i = 0; i < READINGS; i++) {
    for (let s = 0; s < SENSORS; s++) {
      const eventTime = BASE + i * 1_000;
      const reading: HotReading = {
        sensorType: "traffic",
        sensorId: `s-${s}`,
        eventTime,
        // vehicles and speed that vary: neither stuck nor implausible
        values: Float64Array.of(20 + ((i * 7 + s) % 30), 40 + ((i * 3) % 20)),
        partition: 0,
        offset: offset++,
        ingestedAt: c.receivedAfterMs === undefined ? 0 : eventTime + c.receivedAfterMs,
      };
      system.ref("sensor", reading.sensorId).tell({ type: "reading", reading });
    }
  }
  await system.drain();
  await system.stop();
  return outputs.flatMap((output) => (output.type === "reading" ? [output.reading] : []));
}

describe("sensor actor's timeliness", () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const readings = await processed(c);
      expect(readings).toHaveLength(SENSORS * READINGS);
      const untimely = readings.filter((r) => r.issues.some((issue) => issue.family === "timeliness"));
      expect(untimely).toHaveLength(c.lateReadings);

      const evaluator = new AlertEvaluator(DEFAULT_ALERT_RULES);
      const fired = new Set<string>();
      for (const r of readings) {
        const labels = { sensor_id: r.sensor_id, sensor_type: r.type };
        const sample = { metric: "quality_score", value: r.quality_score, labels, at: r.event_time };
        for (const alert of evaluator.evaluate({ ...sample, history: r.history }))
          if (alert.status === "firing" && alert.labels.alertname === "low-quality")
            fired.add(alert.labels.sensor_id ?? "");
      }
      expect(fired.size).toBe(c.lowQualityAlerts);
    });
  }
});

// regression, found restoring a node whose sensor changelog a probe had damaged: the restored
// bytes were taken as a snapshot without a look, the sensor started empty, and nothing counted or
// said it (a corrupt window state was reported); now it is reported like the window's
test.each([
  ["bytes that are no snapshot", Uint8Array.of(0xff, 0x00, 0x13, 0x37)],
  ["an object of another shape", { sensorType: "volcano", readings: "many" }],
  ["a number", 42],
])(
  "a restored sensor state that is %s is reported as corrupt and the sensor starts empty",
  async (_, saved) => {
    const outputs: HostOutput[] = [];
    const snapshots = new InMemorySnapshotStore();
    snapshots.save("sensor/s-1", saved);
    const system = createActorSystem({ name: "sensor-corrupt-test", snapshots });
    system.register(
      sensorProps({
        createChecks: sensorChecksFactory({ intervalMs: 1_000, windowMs: 60_000 }),
        emit: (output) => outputs.push(output),
        now: () => BASE,
        // a kind that passivates is one that loads snapshots, as on a node
        passivateAfterMs: 60_000,
      }),
    );
    const reading: HotReading = {
      sensorType: "traffic",
      sensorId: "s-1",
      eventTime: BASE,
      values: Float64Array.of(20, 40),
      partition: 3,
      offset: 7,
      ingestedAt: BASE,
    };
    system.ref("sensor", "s-1").tell({ type: "reading", reading });
    await system.drain();
    await system.stop();

    expect(outputs.filter((o) => o.type === "corrupt-state")).toEqual([
      expect.objectContaining({ type: "corrupt-state", kind: "sensor", key: "s-1", code: "DECODE_FAILED" }),
    ]);
    expect(outputs.filter((o) => o.type === "reading")).toHaveLength(1);
  },
);
