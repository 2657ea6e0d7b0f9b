import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLog } from "../../log/index.ts";
import { openKafkaLog } from "../../log/kafka/index.ts";
import type { Log } from "../../log/log.ts";
import { registryCodec } from "../../messages/codec/record-codec.ts";
import type { DeadLetter } from "../../messages/dead-letter.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { SchemaSerde } from "../../messages/schema-registry/schema-serde.ts";
import { frame } from "../../messages/schema-registry/wire-format.ts";
import { SchemaRegistry } from "../../registries/schema-registry.ts";
import type { SinkBatch, SinkTarget } from "../../sinks/sink-target.ts";
import { TableSink, type TableSinkOptions } from "../../sinks/table-sink.ts";
import { brokers, requireBroker, skipKafka } from "../../testkit/kafka-broker.ts";

interface Row {
  readonly id: number;
}

/** an in-memory target the test drives: up or down, and a gate that holds a write open */
class ScriptedTarget implements SinkTarget<Row> {
  readonly written: SinkBatch<Row>[] = [];
  attempts: SinkBatch<Row>[] = [];
  down = false;
  private gate: { promise: Promise<void>; release: () => void } | undefined;

  hold(): void {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.gate = { promise, release: resolve };
  }
  release(): void {
    this.gate?.release();
    this.gate = undefined;
  }
  async write(batch: SinkBatch<Row>): Promise<void> {
    this.attempts.push(batch);
    if (this.gate) await this.gate.promise;
    if (this.down) throw new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, "target down");
    this.written.push(batch);
  }
  ids(): number[] {
    return this.written.flatMap((b) => b.rows.map((r) => r.id));
  }
}

const encoder = new TextEncoder();
let seq = 0;
const unique = (name: string) => `${name}-${Date.now().toString(36)}-${seq++}`;

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(10);
  }
}

/** the same cases on the embedded log and on the real Kafka broker */
const logs: [string, boolean, (dir: string) => Promise<Log>][] = [
  [
    "embedded log",
    false,
    (dir) => openLog({ kind: "embedded", path: join(dir, "log.db"), maintenanceIntervalMs: 0 }),
  ],
  [
    "Kafka",
    skipKafka,
    async () => {
      await requireBroker();
      return openKafkaLog({ brokers, clientId: "table-sink-test" });
    },
  ],
];

describe.each(logs)("TableSink on the %s", (_name, skip, openTestLog) => {
  let dir: string;
  let log: Log;
  let sinks: TableSink<Row>[];
  let deadLetters: DeadLetter[];
  let TOPIC: string;
  let app: string;

  beforeEach(async () => {
    if (skip) return;
    dir = mkdtempSync(join(tmpdir(), "table-sink-"));
    log = await openTestLog(dir);
    TOPIC = unique("sink-input");
    app = unique("app");
    await log.createTopic({ name: TOPIC, partitions: 1 });
    sinks = [];
    deadLetters = [];
  });
  afterEach(async () => {
    if (skip) return;
    for (const sink of sinks) await sink.stop();
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const append = (ids: readonly (number | string)[], partition = 0) =>
    log.append(
      ids.map((id) => ({
        topic: TOPIC,
        key: String(id),
        partition,
        value: encoder.encode(typeof id === "number" ? JSON.stringify({ id }) : id),
      })),
    );

  function startSink(target: SinkTarget<Row>, options: Partial<TableSinkOptions<Row>> = {}): TableSink<Row> {
    const sink = new TableSink<Row>({
      name: "test",
      applicationId: app,
      log,
      topics: [TOPIC],
      decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)),
      toRows: (value) => {
        const id = (value as { id?: unknown }).id;
        if (typeof id !== "number")
          throw new PlatformError(ErrorCodes.SCHEMA_VIOLATION, "id must be a number");
        return [{ id }];
      },
      target,
      batchSize: 10,
      lingerMs: 100,
      retry: { initialMs: 10, maxMs: 50 },
      onDeadLetter: (letter) => deadLetters.push(letter),
      onError: (error) => {
        throw error;
      },
      ...options,
    });
    sinks.push(sink);
    return sink.start();
  }

  const committed = async () => (await log.groupOffsets(`${app}-sink-test`, TOPIC)).get(0);

  test.skipIf(skip)(
    "full batches are written at once and the rest after the linger, in log order",
    async () => {
      await append([...Array(25).keys()]);
      const target = new ScriptedTarget();
      startSink(target);
      await until(() => target.ids().length === 25);
      const sizes = target.written.map((b) => b.rows.length);
      expect(sizes.every((n) => n <= 10)).toBe(true);
      // the embedded log hands over everything appended at once; a broker's fetch may come in parts
      if (_name === "embedded log") expect(sizes).toEqual([10, 10, 5]);
      expect(target.ids()).toEqual([...Array(25).keys()]);
      await until(async () => (await committed()) === 25);
    },
  );

  test.skipIf(skip)("offsets are committed only after the target acknowledged the write", async () => {
    const target = new ScriptedTarget();
    target.hold();
    await append([1, 2, 3]);
    startSink(target);
    await until(() => target.attempts.length === 1);
    await Bun.sleep(200); // a sink that committed early would have done so by now
    expect(await committed()).toBeUndefined();
    target.release();
    await until(async () => (await committed()) === 3);
    expect(target.ids()).toEqual([1, 2, 3]);
  });

  test.skipIf(skip)("a batch carries the offsets it covers, per partition", async () => {
    const two = unique("sink-two");
    await log.createTopic({ name: two, partitions: 2 });
    await log.append([
      ...[0, 1, 2].map((id) => ({
        topic: two,
        key: null,
        partition: 0,
        value: encoder.encode(`{"id":${id}}`),
      })),
      ...[3, 4].map((id) => ({
        topic: two,
        key: null,
        partition: 1,
        value: encoder.encode(`{"id":${id}}`),
      })),
    ]);
    const target = new ScriptedTarget();
    startSink(target, { topics: [two], name: "two" });
    await until(() => target.ids().length === 5);
    const ranges = target.written.flatMap((b) => b.offsets).sort((a, b) => a.partition - b.partition);
    expect(ranges).toEqual([
      { topic: two, partition: 0, firstOffset: 0, lastOffset: 2 },
      { topic: two, partition: 1, firstOffset: 0, lastOffset: 1 },
    ]);
  });

  test.skipIf(skip)(
    "a target that is down holds the sink: nothing new is polled, the lag grows, and it catches up with nothing lost",
    async () => {
      const target = new ScriptedTarget();
      target.down = true;
      await append([...Array(10).keys()]);
      const sink = startSink(target, { batchSize: 100 });
      await until(() => sink.stats().writeFailures >= 3);
      await append([...Array(10).keys()].map((i) => 10 + i));
      await until(() => sink.stats().writeFailures >= 6);
      expect(sink.stats().blocked).toBe(true);
      expect(await sink.refreshLag()).toBe(20);
      // every retry is the same batch: the records appended meanwhile were not polled into it
      expect(new Set(target.attempts.map((b) => b.rows.length))).toEqual(new Set([10]));
      target.down = false;
      await until(async () => (await committed()) === 20);
      expect(target.ids()).toEqual([...Array(20).keys()]);
      expect(sink.stats()).toMatchObject({ rows: 20, blocked: false });
      expect(await sink.refreshLag()).toBe(0);
    },
  );

  test.skipIf(skip)(
    "a record that cannot be read is a dead letter with its reason, committed with its batch",
    async () => {
      await append([1, "not json", '{"id":"x"}', 2]);
      const target = new ScriptedTarget();
      startSink(target);
      await until(async () => (await committed()) === 4);
      expect(target.ids()).toEqual([1, 2]);
      expect(deadLetters.map((d) => [d.source, d.code])).toEqual([
        [`log:${TOPIC}/0@1`, ErrorCodes.DECODE_FAILED],
        [`log:${TOPIC}/0@2`, ErrorCodes.SCHEMA_VIOLATION],
      ]);
      expect(Buffer.from(deadLetters[0]!.payload_base64, "base64").toString()).toBe("not json");
    },
  );

  test.skipIf(skip)(
    "a value framed with a schema registered elsewhere after the sink's registry opened is read after a catch-up, not dead-lettered",
    async () => {
      // this process' registry, and another node's over the same log
      const schemas = unique("_schemas");
      const here = await SchemaRegistry.open(log, schemas);
      const elsewhere = await SchemaRegistry.open(log, schemas);
      const schema = JSON.stringify({
        type: "object",
        properties: { id: { type: "number" } },
        required: ["id"],
      });
      const later = await elsewhere.register(`${TOPIC}-value`, schema, { schemaType: "JSON" });
      const refreshes: number[] = [];
      const codec = registryCodec(new SchemaSerde(here), new Set(), async () => {
        refreshes.push(Date.now());
        await here.catchUp();
      });
      await log.append(
        [1, 2].map((id) => ({
          topic: TOPIC,
          key: null,
          partition: 0,
          value: frame(later.id, encoder.encode(JSON.stringify({ id }))),
        })),
      );
      // an id no registry holds is still a dead letter, after one more catch-up
      await log.append([
        { topic: TOPIC, key: null, partition: 0, value: frame(later.id + 50, encoder.encode("{}")) },
      ]);
      const target = new ScriptedTarget();
      startSink(target, { decode: codec.decode, refreshSchemas: codec.refresh });
      await until(async () => (await committed()) === 3);
      expect(target.ids()).toEqual([1, 2]);
      expect(deadLetters.map((d) => [d.source, d.code])).toEqual([
        [`log:${TOPIC}/0@2`, ErrorCodes.UNKNOWN_SCHEMA],
      ]);
      // one catch-up per poll: the embedded log hands all three over in one
      if (_name === "embedded log") expect(refreshes.length).toBe(1);
      else expect(refreshes.length).toBeGreaterThanOrEqual(1);
    },
  );

  test.skipIf(skip)(
    "stop gives up within its deadline while the target is down, and the next start writes the batch again",
    async () => {
      const down = new ScriptedTarget();
      down.down = true;
      await append([1, 2, 3]);
      const first = startSink(down);
      await until(() => down.attempts.length >= 2);
      const started = Date.now();
      await first.stop();
      expect(Date.now() - started).toBeLessThan(3000);
      expect(await committed()).toBeUndefined();
      const up = new ScriptedTarget();
      startSink(up);
      await until(async () => (await committed()) === 3);
      expect(up.ids()).toEqual([1, 2, 3]);
    },
  );

  test.skipIf(skip)("a lingering batch polls a bounded number of times, not once per append", async () => {
    // regression: each append woke every sink for a poll of a few records, and a node runs
    // several sinks over the same topics
    let polls = 0;
    const counted = new Proxy(log, {
      get(target, property) {
        if (property !== "consumer") return Reflect.get(target, property, target);
        return (options: Parameters<Log["consumer"]>[0]) => {
          const consumer = target.consumer(options);
          const poll = consumer.poll.bind(consumer);
          consumer.poll = (pollOptions) => {
            polls++;
            return poll(pollOptions);
          };
          return consumer;
        };
      },
    });
    const sink = startSink(new ScriptedTarget(), { log: counted, lingerMs: 60_000, batchSize: 1000 });
    await append([0]);
    await until(() => sink.stats().pending === 1);
    const pollsBefore = polls;
    const started = Date.now();
    for (let id = 1; id <= 40; id++) await append([id]);
    await until(() => sink.stats().pending === 41);
    const elapsedMs = Date.now() - started;
    // one poll per capped linger sleep, and one more for the wait that ends the `until`
    expect(polls - pollsBefore).toBeLessThanOrEqual(2 + Math.ceil(elapsedMs / 250));
  });

  test.skipIf(skip)("a clean stop writes and commits what is pending", async () => {
    const target = new ScriptedTarget();
    const sink = startSink(target, { lingerMs: 60_000, batchSize: 1000 });
    await append([7, 8]);
    await until(() => sink.stats().pending === 2);
    await sink.stop();
    expect(target.ids()).toEqual([7, 8]);
    expect(await committed()).toBe(2);
  });
});
