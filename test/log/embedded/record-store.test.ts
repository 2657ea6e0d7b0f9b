import { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PlacedRecord, RecordStore, type StoredTopic } from "../../../log/embedded/record-store.ts";
import { prepareDatabase } from "../../../log/embedded/schema.ts";

const config = { compacted: false, retentionMs: undefined };

function placed(topic: StoredTopic, partition: number, count: number): PlacedRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    topic,
    partition,
    key: `k${i}`,
    value: new Uint8Array([i]),
    timestamp: 1,
    headers: null,
  }));
}

describe("record store: known partition ends", () => {
  let dir: string;
  const opened: Database[] = [];
  const connection = () => {
    const db = new Database(join(dir, "log.db"), { create: true, strict: true });
    prepareDatabase(db, "NORMAL", 5000);
    opened.push(db);
    return new RecordStore(db);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "record-store-"));
  });
  afterEach(() => {
    for (const db of opened.splice(0)) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a new topic's partitions are known to be empty, and its own appends move their ends", () => {
    const store = connection();
    store.createTopic({ name: "t", partitions: 2 }, config);
    const topic = store.require("t");
    store.refreshEnds();
    expect(store.mayHaveRecords(topic, 0, 0)).toBe(false);
    store.append(placed(topic, 0, 3));
    store.refreshEnds();
    expect([0, 2, 3].map((offset) => store.mayHaveRecords(topic, 0, offset))).toEqual([true, true, false]);
    expect(store.mayHaveRecords(topic, 1, 0)).toBe(false);
  });

  test("another connection's commit is noticed by the next refresh, and its records are read", () => {
    const reader = connection();
    const writer = connection();
    reader.createTopic({ name: "t", partitions: 1 }, config);
    writer.createTopic({ name: "t", partitions: 1 }, config);
    const topic = reader.require("t");
    reader.refreshEnds();
    expect(reader.mayHaveRecords(topic, 0, 0)).toBe(false);

    writer.append(placed(writer.require("t"), 0, 2));
    reader.refreshEnds();
    expect(reader.mayHaveRecords(topic, 0, 0)).toBe(true);
    expect(reader.read(topic, 0, 0, 10).map((record) => record.key)).toEqual(["k0", "k1"]);
    expect(reader.mayHaveRecords(topic, 0, 2)).toBe(false);
  });

  // appends take their offsets from the ends they know: one another connection moved must be
  // read again (else a duplicate offset), one nobody moved needs no SELECT
  test("two connections appending to the same partitions in turn get contiguous offsets", () => {
    const first = connection();
    const second = connection();
    first.createTopic({ name: "t", partitions: 2 }, config);
    const stores = [first, second];
    const offsets: number[][] = [[], []];
    for (let turn = 0; turn < 12; turn++) {
      const store = stores[turn % 3 === 0 ? 1 : 0]!; // runs of two on one side, then the other
      const topic = store.require("t");
      for (const position of store.append([...placed(topic, 0, 2), ...placed(topic, 1, 1)]))
        offsets[position.partition]!.push(position.offset);
    }
    expect(offsets[0]).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(offsets[1]).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(second.endOffset(second.require("t"), 0)).toBe(24);
  });

  test("a partition whose end this connection never learned is read, not skipped", () => {
    const reader = connection();
    const writer = connection();
    // the topic is made by the other connection after the reader's last refresh
    reader.refreshEnds();
    writer.createTopic({ name: "late", partitions: 1 }, config);
    writer.append(placed(writer.require("late"), 0, 1));
    const topic = reader.require("late");
    expect(reader.mayHaveRecords(topic, 0, 0)).toBe(true);
    expect(reader.read(topic, 0, 0, 10)).toHaveLength(1);
  });
});

describe("record store: the values it keeps", () => {
  let dir: string;
  let db: Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "record-store-values-"));
    db = new Database(join(dir, "log.db"), { create: true, strict: true });
    prepareDatabase(db, "NORMAL", 5000);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a value handed over is read back as the very array appended; any other as a copy the producer's later changes do not reach", () => {
    const store = new RecordStore(db);
    store.createTopic({ name: "t", partitions: 1 }, config);
    const topic = store.require("t");
    const [mine, theirs] = placed(topic, 0, 2);
    const handedOver = { ...mine!, value: new Uint8Array([7]), handedOver: true };
    const reused = new Uint8Array([8]);
    store.append([handedOver, { ...theirs!, value: reused }]);
    reused[0] = 99; // the producer reuses its buffer
    const [first, second] = store.read(topic, 0, 0, 10);
    expect(first!.value).toBe(handedOver.value);
    expect(second!.value).not.toBe(reused);
    expect([...second!.value!]).toEqual([8]);
    // what SQLite holds is the same either way
    const stored = new RecordStore(new Database(join(dir, "log.db"), { strict: true }));
    const fromDisk = stored.read(stored.require("t"), 0, 0, 10).map((record) => [...record.value!]);
    expect(fromDisk).toEqual([[7], [8]]);
  });
});
