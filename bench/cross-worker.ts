/**
 * Cross-worker messaging: small sensor-reading records main -> worker through a SharedArrayBuffer
 * ring (supervisor/transport/sab-ring.ts), against Bun's postMessage one object at a time and in
 * batches of 1000, all measured in this run. Medians of several runs.
 *
 *   bun bench/cross-worker.ts            (this file is also the worker entry)
 */
import {
  decodeSensorReading,
  encodeSensorReading,
  type SensorReadingRecord,
  writeSensorReading,
} from "../messages/codec/sensor-reading-record.ts";
import { createSabRing, openSabRingReader, openSabRingWriter } from "../supervisor/transport/sab-ring.ts";
import { median } from "./support.ts";

type Mode = "ring-copy" | "ring-codec" | "post-one" | "post-batch";
interface Job {
  readonly mode: Mode;
  readonly total: number;
  readonly ring?: SharedArrayBuffer;
}

const reading: SensorReadingRecord = {
  sensorType: "traffic",
  sensorId: "tr_1234",
  partition: 3,
  offset: 0,
  eventTime: 1_760_000_000_000,
  ingestedAt: 1_760_000_000_010,
  values: [42, 61.5],
  flags: 0,
};

if (!Bun.isMainThread) {
  const scope = globalThis as unknown as {
    onmessage: (event: MessageEvent<Job>) => void;
    postMessage(message: unknown): void;
  };
  let received = 0;
  let job: Job | undefined;
  scope.onmessage = (event) => {
    const data = event.data as Job | { items?: unknown[] } | object;
    if ("mode" in data) {
      job = data;
      received = 0;
      if (job.mode === "ring-copy" || job.mode === "ring-codec") runRingReader(job).catch(console.error);
      scope.postMessage("ready");
      return;
    }
    received += Array.isArray(data) ? data.length : 1;
    if (job && received === job.total) scope.postMessage({ done: received });
  };
  async function runRingReader(ringJob: Job) {
    const reader = openSabRingReader(ringJob.ring!);
    const into = { values: [] as number[] } as unknown as SensorReadingRecord;
    let count = 0;
    let checksum = 0;
    const count1 = (bytes: Uint8Array, offset: number) => {
      count++;
      checksum += bytes[offset + 8]!;
    };
    const decode = (bytes: Uint8Array, offset: number, length: number) => {
      count++;
      checksum += decodeSensorReading(bytes, offset, length, into).offset;
    };
    const handler = ringJob.mode === "ring-codec" ? decode : count1;
    while (count < ringJob.total) {
      if (reader.drain(handler) === 0) await reader.waitForData(100);
    }
    scope.postMessage({ done: count, checksum });
  }
} else {
  await main();
}

async function runOnce(worker: Worker, mode: Mode, total: number): Promise<number> {
  const ring = mode.startsWith("ring") ? createSabRing(4 << 20) : undefined;
  const ready = new Promise((resolve) => {
    worker.onmessage = resolve;
  });
  worker.postMessage({ mode, total, ring } satisfies Job);
  await ready;
  const done = new Promise((resolve) => {
    worker.onmessage = resolve;
  });
  const started = performance.now();
  if (mode === "post-one") {
    for (let i = 0; i < total; i++) worker.postMessage({ ...reading, offset: i });
  } else if (mode === "post-batch") {
    for (let i = 0; i < total; i += 1000) {
      const batch = new Array(1000);
      for (let j = 0; j < 1000; j++) batch[j] = { ...reading, offset: i + j };
      worker.postMessage(batch);
    }
  } else {
    const writer = openSabRingWriter(ring!);
    const encoded = encodeSensorReading(reading);
    const codec = mode === "ring-codec";
    for (let i = 0; i < total; ) {
      let ok: boolean;
      if (codec) {
        reading.offset = i;
        ok = writeSensorReading(writer, reading);
      } else ok = writer.tryWrite(encoded);
      if (ok) {
        i++;
        if (i % 1000 === 0) writer.flush();
      } else await writer.waitForSpace(5);
    }
    writer.flush();
  }
  await done;
  return total / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const worker = new Worker(import.meta.url);
  const recordBytes = encodeSensorReading(reading).length;
  const plan: Array<[Mode, number, number]> = [
    ["ring-copy", 10_000_000, 5],
    ["ring-codec", 5_000_000, 5],
    ["post-one", 200_000, 3],
    ["post-batch", 1_000_000, 3],
  ];
  const results = new Map<Mode, number>();
  for (const [mode, total, runs] of plan) {
    await runOnce(worker, mode, Math.min(total, 100_000)); // warm-up
    const rates: number[] = [];
    for (let r = 0; r < runs; r++) rates.push(await runOnce(worker, mode, total));
    results.set(mode, median(rates));
  }
  worker.terminate();

  const labels: Record<Mode, string> = {
    "ring-copy": `SAB ring, ${recordBytes}-byte records copied in, batches of 1000`,
    "ring-codec": "SAB ring, encoded in place + decoded in the worker",
    "post-one": "postMessage, one object at a time",
    "post-batch": "postMessage, batches of 1000 objects",
  };
  console.log("\ncross-worker messaging, main -> 1 worker (median records/s)\n");
  for (const [mode, rate] of results)
    console.log(`${labels[mode].padEnd(58)} ${(rate / 1e6).toFixed(2).padStart(8)} M/s`);
  console.log("");
  const oneByOne = results.get("post-one")!;
  const batched = results.get("post-batch")!;
  const figure = (name: string, value: number, baseline: string, baselineValue: number) =>
    console.log(
      JSON.stringify({
        name,
        value: Math.round(value),
        unit: "records/s",
        baseline,
        baseline_value: Math.round(baselineValue),
      }),
    );
  figure("cross-worker.sab-ring.copy", results.get("ring-copy")!, "postMessage.batch-1000", batched);
  figure("cross-worker.sab-ring.codec", results.get("ring-codec")!, "postMessage.batch-1000", batched);
  figure("cross-worker.postMessage.batch-1000", batched, "postMessage.one", oneByOne);
}
