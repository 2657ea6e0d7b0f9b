/**
 * A window output across the worker ring: written by the partition host, decoded on the main
 * thread (`decodeHostOutput`), one per reading. Binary layout (window-output-record.ts) against
 * the JSON envelope it replaced, both through the same in-process ring, CPU time of this thread,
 * medians of interleaved rounds.
 *
 *   bun bench/window-output-codec.ts [--outputs 200000] [--rounds 7]
 */

import { decodeHostOutput } from "../messages/codec/host-output-codec.ts";
import { writeJsonEnvelope } from "../messages/codec/json-envelope-record.ts";
import { type WindowOutput, writeWindowOutput } from "../messages/codec/window-output-record.ts";
import { inProcessChannel } from "../supervisor/transport/in-process.ts";
import { median, printFigure } from "./support.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const outputs = arg("outputs", 200_000);
const rounds = arg("rounds", 7);

// what a traffic sensor's window actor emits per reading (sensor scope, three fields)
const sample = (i: number): WindowOutput => ({
  type: "window",
  ingestedAt: 1_760_000_061_234 + i,
  window: {
    scope: "sensor",
    key: `traffic_b${i % 3000}`,
    type: "traffic",
    window_start: 1_760_000_040_000,
    window_end: 1_760_000_100_000,
    count: 1 + (i % 60),
    fields: {
      vehicle_count: { count: 12, sum: 300 + i, mean: 25.5, min: 20, max: 49 },
      avg_speed: { count: 12, sum: 600.25, mean: 50.02, min: 40, max: 59 },
      occupancy: { count: 12, sum: 4.8, mean: 0.4, min: 0.1, max: 0.9 },
    },
    final: false,
    emitted_at: 1_760_000_061_240 + i,
  },
});
const values = Array.from({ length: 1000 }, (_, i) => sample(i));

function cpuMsPerThousand(
  write: (value: WindowOutput, sink: ReturnType<typeof inProcessChannel>["writer"]) => boolean,
): number {
  const { writer, reader } = inProcessChannel(1 << 20);
  let decoded = 0;
  const started = process.cpuUsage();
  for (let done = 0; done < outputs; ) {
    // a turn's worth, then the main thread's drain of it
    for (let i = 0; i < 500 && done < outputs; i++, done++) {
      if (!write(values[done % values.length]!, writer)) throw new Error("ring full");
    }
    writer.flush();
    reader.drain((bytes, offset, length) => {
      if (decodeHostOutput(bytes, offset, length).type === "window") decoded++;
    });
  }
  const used = process.cpuUsage(started);
  if (decoded !== outputs) throw new Error(`decoded ${decoded} of ${outputs}`);
  return (used.user + used.system) / 1000 / (outputs / 1000);
}

const binary: number[] = [];
const json: number[] = [];
for (let round = 0; round < rounds; round++) {
  json.push(cpuMsPerThousand((value, sink) => writeJsonEnvelope(sink, value)));
  binary.push(cpuMsPerThousand((value, sink) => writeWindowOutput(sink, value)));
}
console.log(
  `window outputs written and decoded, CPU ms per 1,000 (medians of ${rounds}): binary ${median(binary).toFixed(3)}, JSON envelope ${median(json).toFixed(3)}`,
);
printFigure({
  name: "window-output-ring-cpu-per-1k",
  value: Number(median(binary).toFixed(3)),
  unit: "ms",
  baseline: "json-envelope-cpu-per-1k",
  baseline_value: Number(median(json).toFixed(3)),
});
