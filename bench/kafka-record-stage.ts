/**
 * What the record stage of the Kafka batch decode costs the consumer's thread, and what a batch
 * form of the poll (values as offsets into their batch, no record object per record) could save
 * the node path's main thread at most. One partition's fetch of 1,000-sensor readings as the
 * ingest writes them (key = sensor id, a Confluent-framed ~215-byte JSON value, an `ingested_at`
 * header), in batches of 500, uncompressed; the process's CPU time (this thread, its GC and JIT helpers; nothing
 * else runs), interleaved rounds, medians.
 *
 * Sides:
 * - batch stage: `readBatches` alone (framing, CRC-32C, the batch body's copy), which every form
 *   keeps (on the decode thread for large responses);
 * - records: `decodeRecordBatches` (both stages: a LogRecord per record, its key string, value
 *   view and headers), then what the dispatcher reads of each (the value's length, the
 *   `ingested_at` header as a number): today's path;
 * - floor: the batch stage, then each record's fields walked in place, its value's start and
 *   end, offset and `ingested_at` (parsed from its bytes) written into typed arrays: the least a
 *   batch form does (without the decoder's checks, so a lower bound).
 *
 *   bun bench/kafka-record-stage.ts [--records 10000] [--rounds 7]
 */

import { cpuUsage } from "node:process";
import { decodeRecordBatches, readBatches } from "../log/kafka/record-batch-decoder.ts";
import { encodeRecordBatch } from "../log/kafka/record-batch-encoder.ts";
import { median, printFigure } from "./support.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const records = arg("records", 10_000);
const rounds = arg("rounds", 7);
const BATCH = 500;
const REPEAT = 30;

const encoder = new TextEncoder();
const parts: Buffer[] = [];
for (let first = 0; first < records; first += BATCH) {
  const messages = [];
  for (let i = first; i < Math.min(records, first + BATCH); i++) {
    const id = `traffic-${i % 1000}`;
    const json = `{"sensor_id":"${id}","type":"traffic","timestamp":"2026-12-02T16:00:00.${String(i % 1000).padStart(3, "0")}Z","location":{"lat":52.52,"lon":13.405},"vehicle_count":${i % 50},"avg_speed":${(i % 70) + 0.5},"district":"mitte"}`;
    const value = new Uint8Array(5 + json.length);
    value[4] = 1; // magic 0, schema id 1
    value.set(encoder.encode(json), 5);
    messages.push({
      key: encoder.encode(id),
      value,
      headers: new Map([[encoder.encode("ingested_at"), encoder.encode(String(1_796_000_000_000 + i))]]),
      timestamp: BigInt(1_796_000_000_000 + i),
    });
  }
  const batch = encodeRecordBatch(messages, {
    compression: "none" as never,
    producerId: -1n,
    producerEpoch: -1,
    baseSequence: -1,
    transactional: false,
    partitionLeaderEpoch: 0,
  });
  if (batch === undefined) throw new Error("the encoder refused the bench's batch");
  batch.writeUInt32BE(0, 0);
  batch.writeUInt32BE(first, 4); // base offset
  parts.push(batch);
}
const source = {
  topic: "city.sensors.raw",
  partition: 0,
  bytes: new Uint8Array(Buffer.concat(parts)),
  fromOffset: 0n,
};

let sink = 0;

function batchStage(): number {
  const read = readBatches(source);
  for (const batch of read.batches) sink += batch.count;
  return records;
}

function withRecords(): number {
  const decoded = decodeRecordBatches(source);
  for (const record of decoded.records) {
    sink += record.value?.length ?? 0;
    for (const header of record.headers)
      if (header.key === "ingested_at") {
        sink += Number(header.value);
        break;
      }
  }
  return decoded.records.length;
}

// the floor's columns and cursor
const valueAt = new Int32Array(records);
const valueEnd = new Int32Array(records);
const offsets = new Float64Array(records);
const ingested = new Float64Array(records);
const INGESTED_AT = encoder.encode("ingested_at");
let bytes: Uint8Array = new Uint8Array(0);
let pos = 0;

function varint(): number {
  let unsigned = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = bytes[pos++]!;
    unsigned |= (byte & 0x7f) << shift;
    if (byte < 0x80) return (unsigned >>> 1) ^ -(unsigned & 1);
  }
}

function varlong(): number {
  let unsigned = 0;
  for (let scale = 1; ; scale *= 128) {
    const byte = bytes[pos++]!;
    unsigned += (byte & 0x7f) * scale;
    if (byte < 0x80) return unsigned % 2 === 0 ? unsigned / 2 : -(unsigned + 1) / 2;
  }
}

function floor(): number {
  const read = readBatches(source);
  let count = 0;
  for (const batch of read.batches) {
    bytes = batch.body;
    pos = 0;
    for (let n = 0; n < batch.count; n++) {
      varint(); // length
      pos++; // attributes
      const timestamp = batch.baseTimestamp + varlong();
      const offset = batch.baseOffset + varint();
      const keyLength = varint();
      if (keyLength > 0) pos += keyLength;
      const valueLength = varint();
      const at = pos;
      if (valueLength > 0) pos += valueLength;
      let ingestedAt = timestamp;
      const headerCount = varint();
      for (let h = 0; h < headerCount; h++) {
        const nameLength = varint();
        let named = nameLength === INGESTED_AT.length;
        for (let i = 0; named && i < nameLength; i++) named = bytes[pos + i] === INGESTED_AT[i];
        pos += nameLength;
        const length = varint();
        if (named && length > 0) {
          let ms = 0;
          for (let i = 0; i < length; i++) ms = ms * 10 + bytes[pos + i]! - 48;
          ingestedAt = ms;
        }
        if (length > 0) pos += length;
      }
      valueAt[count] = at;
      valueEnd[count] = at + valueLength;
      offsets[count] = offset;
      ingested[count] = ingestedAt;
      count++;
    }
  }
  for (let i = 0; i < count; i++) sink += valueEnd[i]! - valueAt[i]! + ingested[i]!;
  return count;
}

const sides: Array<[string, () => number]> = [
  ["batch stage", batchStage],
  ["records", withRecords],
  ["floor", floor],
];
for (let warm = 0; warm < 20; warm++) for (const [, run] of sides) run();
const perRecord = new Map<string, number[]>(sides.map(([name]) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of round % 2 === 0 ? sides : [...sides].reverse()) {
    const before = cpuUsage();
    let n = 0;
    for (let k = 0; k < REPEAT; k++) n += run();
    const used = cpuUsage(before);
    perRecord.get(name)!.push(((used.user + used.system) * 1000) / n);
  }
}
const base = median(perRecord.get("batch stage")!);
for (const [name, values] of perRecord) {
  printFigure({
    name: `kafka record stage: ${name}`,
    value: median(values),
    unit: "ns CPU/record",
    baseline: "batch stage",
    baseline_value: base,
    runs: `${values.map((v) => v.toFixed(0)).join(" / ")}; over the batch stage ${(median(values) - base).toFixed(0)}`,
  });
}
if (sink === 0) console.log("(nothing read)");
