/**
 * The MQTT ingest parse path: topic check, size check, UTF-8 decode, one JSON.parse, zod
 * safeParse, topic/payload match, event-time bounds (sources/iot/ingest-parser.ts).
 * Baseline: UTF-8 decode + JSON.parse alone, the floor any validating parser pays.
 * Also: a 10 % bad mix, to show what dead-lettering (exception + base64 of the payload) costs.
 */
import { parseSensorMessage, sensorTopic } from "../sources/iot/ingest-parser.ts";
import { createSensorFleet } from "../sources/iot/sensor-fleet.ts";
import { median } from "./support.ts";

const RUNS = 5;
const N = 200_000;
const now = Date.UTC(2024, 2, 4, 8);
const fleet = createSensorFleet({ sensorsPerType: 100, startTime: now - 60_000 });
const messages = [fleet.tick(), fleet.tick()]
  .flatMap((b) => b.readings)
  .map((r) => ({
    topic: sensorTopic(r.type, r.sensor_id),
    payload: new TextEncoder().encode(JSON.stringify(r)),
  }));
const mixed = messages.map((m, i) =>
  i % 10 === 0 ? { topic: m.topic, payload: m.payload.subarray(0, m.payload.byteLength - 5) } : m,
);
const decoder = new TextDecoder("utf-8", { fatal: true });

function rate(body: (i: number) => unknown): number {
  const started = performance.now();
  let sink = 0;
  for (let i = 0; i < N; i++) if (body(i)) sink++;
  const seconds = (performance.now() - started) / 1000;
  if (sink < 0) console.log(sink);
  return N / seconds;
}

const figures = {
  baseline: [] as number[],
  parse: [] as number[],
  mixed: [] as number[],
};
for (let run = 0; run < RUNS; run++) {
  figures.baseline.push(rate((i) => JSON.parse(decoder.decode(messages[i % messages.length]!.payload))));
  figures.parse.push(
    rate(
      (i) =>
        parseSensorMessage(messages[i % messages.length]!.topic, messages[i % messages.length]!.payload, now)
          .ok,
    ),
  );
  figures.mixed.push(
    rate((i) => parseSensorMessage(mixed[i % mixed.length]!.topic, mixed[i % mixed.length]!.payload, now).ok),
  );
}
const baseline = median(figures.baseline);
const rows = [
  ["decode + JSON.parse (baseline)", baseline],
  ["parseSensorMessage, all good", median(figures.parse)],
  ["parseSensorMessage, 10 % malformed", median(figures.mixed)],
] as const;
console.log(
  `ingest parse, ${N} msgs x ${RUNS} runs, median; avg payload ${Math.round(messages.reduce((a, m) => a + m.payload.byteLength, 0) / messages.length)} B`,
);
console.log("path                                  msgs/s");
for (const [name, value] of rows)
  console.log(`${name.padEnd(38)}${Math.round(value).toLocaleString("en").padStart(12)}`);
for (const [name, value] of rows.slice(1)) {
  console.log(
    JSON.stringify({
      name: `ingest_parse.${name.includes("10 %") ? "mixed_bad" : "good"}`,
      value: Math.round(value),
      unit: "msgs/s",
      baseline: "decode_json_parse",
      baseline_value: Math.round(baseline),
    }),
  );
}
