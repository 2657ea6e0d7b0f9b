import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_POLL_RECORDS, Dispatcher } from "../../engine/dispatcher.ts";
import type { StateRestorer } from "../../engine/state-restorer.ts";
import { openLog } from "../../log/index.ts";
import type { CommitOffset, Consumer, ConsumerOptions, Log, LogRecord } from "../../log/log.ts";
import { registryCodec } from "../../messages/codec/record-codec.ts";
import type { SensorReadingRecord } from "../../messages/codec/sensor-reading-record.ts";
import type { DeadLetter } from "../../messages/dead-letter.ts";
import { ErrorCodes } from "../../messages/errors.ts";
import type { HostInbound } from "../../messages/host-protocol.ts";
import { partitionFor } from "../../messages/murmur2.ts";
import { subjectOf } from "../../messages/platform-schemas.ts";
import { SchemaSerde } from "../../messages/schema-registry/schema-serde.ts";
import { frame } from "../../messages/schema-registry/wire-format.ts";
import { sensorReadingJsonSchema } from "../../messages/sensor-reading.ts";
import { Topics } from "../../messages/topics.ts";
import { SchemaRegistry } from "../../registries/schema-registry.ts";
import { tumbling } from "../../stream/window/window-assigner.ts";
import { createWindowOperator } from "../../stream/window/window-operator.ts";
import { createWindowOutput } from "../../stream/window/window-output.ts";
import { eventually, trafficReading } from "../node/node-fixture.ts";
import { InertPartitionHosts } from "./engine-fixture.ts";

/** PartitionHosts that only record what they are sent; the test answers the batch marks itself. */
class RecordingHosts extends InertPartitionHosts {
  readonly readings: { worker: number; reading: SensorReadingRecord }[] = [];
  readonly marks: { worker: number; batch: number }[] = [];
  /** the event time each mark carried, in the order they were sent */
  readonly watermarks: (number | undefined)[] = [];
  /** whether each mark sent was a checkpoint mark, in order */
  readonly checkpoints: boolean[] = [];
  /** readings and marks' event times as one sequence, in the order the workers get them */
  readonly sequence: ({ reading: SensorReadingRecord } | { watermark: number | undefined })[] = [];
  /** when set, every mark is answered on the next microtask, as a healthy worker would */
  answer: ((worker: number, batch: number) => void) | undefined;
  sendReading(worker: number, reading: SensorReadingRecord): boolean {
    const copy = { ...reading, values: [...reading.values] };
    this.readings.push({ worker, reading: copy });
    this.sequence.push({ reading: copy });
    return true;
  }
  sendControl(worker: number, message: HostInbound): boolean {
    if (message.type !== "mark") return true;
    this.checkpoints.push(message.checkpoint);
    this.watermarks.push(message.watermark);
    this.sequence.push({ watermark: message.watermark });
    const answer = this.answer;
    if (answer) queueMicrotask(() => answer(worker, message.batch));
    else this.marks.push({ worker, batch: message.batch });
    return true;
  }
}

const encoder = new TextEncoder();
const GROUP = "dispatch-test";
/** a restore hands the changelog's bytes on as stored */
const jsonBytes = (state: unknown) => encoder.encode(JSON.stringify(state));

/**
 * A group member that owns `owned()` and hands out `batch` once; the test calls the rebalance
 * listener itself, at the moment it chooses (`member.rebalance`).
 */
function scriptedMember(owned: () => number[], batch: LogRecord[]) {
  const member = {
    rebalance: undefined as ConsumerOptions["rebalance"],
    commits: [] as number[],
    log: undefined as unknown as Log,
  };
  let polled = false;
  const consumer: Consumer = {
    assignment: () => owned().map((partition) => ({ topic: Topics.sensorsRaw, partition })),
    poll: async () => {
      if (polled) {
        await Bun.sleep(10);
        return [];
      }
      polled = true;
      return batch;
    },
    commit: async (offsets) => {
      for (const { partition } of offsets) member.commits.push(partition);
    },
    committed: async () => undefined,
    seek: () => {},
    currentLag: () => 0,
    close: async () => {
      await member.rebalance?.onRevoked?.(consumer.assignment());
    },
  };
  member.log = {
    consumer(options: ConsumerOptions) {
      member.rebalance = options.rebalance;
      queueMicrotask(() => member.rebalance?.onAssigned?.(consumer.assignment()));
      return consumer;
    },
  } as unknown as Log;
  return member;
}

/** a raw reading record of sensor p<partition> at `offset` */
function readingRecord(partition: number, offset: number): LogRecord {
  return {
    topic: Topics.sensorsRaw,
    partition,
    offset,
    key: `p${partition}`,
    value: encoder.encode(JSON.stringify(trafficReading(`p${partition}`, 1_700_000_000_000 + offset))),
    timestamp: 0,
    headers: [],
  };
}

describe("the dispatcher", () => {
  let log: Log;
  let dir: string;
  let hosts: RecordingHosts;
  let dispatcher: Dispatcher;
  const deadLetters: { letter: DeadLetter; topic: string }[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "dispatcher-"));
    log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
    await log.createTopic({ name: Topics.sensorsRaw, partitions: 4 });
    hosts = new RecordingHosts();
    deadLetters.length = 0;
    dispatcher = new Dispatcher({
      log,
      hosts,
      groupId: GROUP,
      decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
      onDeadLetter: (letter, topic) => deadLetters.push({ letter, topic }),
      now: Date.now,
    });
  });

  afterEach(async () => {
    // answer what is still waiting, or stop() waits for those batches (as it should)
    hosts.answer = (worker, batch) => dispatcher.markDone(worker, batch);
    for (const mark of hosts.marks.splice(0)) dispatcher.markDone(mark.worker, mark.batch);
    await dispatcher.stop();
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const append = (sensors: string[]) =>
    log.append(
      sensors.map((sensor, i) => ({
        topic: Topics.sensorsRaw,
        key: sensor,
        value: encoder.encode(JSON.stringify(trafficReading(sensor, 1_700_000_000_000 + i))),
      })),
    );
  const committedTotal = async () =>
    [...(await log.groupOffsets(GROUP, Topics.sensorsRaw)).values()].reduce((sum, o) => sum + o, 0);

  test("two checkpoints answered together commit the positions of both (regression: the later one's commit replaced the earlier one's, and a partition read only before it was never committed)", async () => {
    await dispatcher.stop();
    dispatcher = new Dispatcher({
      log,
      hosts,
      groupId: GROUP,
      pollRecords: 1, // a batch per record
      commitIntervalMs: 0, // every batch a checkpoint
      decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
      onDeadLetter: (letter, topic) => deadLetters.push({ letter, topic }),
      now: Date.now,
    });
    // two sensors on two partitions: each batch moves one partition's position
    const first = "alpha";
    const second = ["beta", "gamma", "delta", "epsilon"].find(
      (sensor) => partitionFor(sensor, 4) !== partitionFor(first, 4),
    )!;
    await append([first, second]);
    dispatcher.start();
    const batches = () => new Set(hosts.marks.map((mark) => mark.batch)).size;
    await eventually(batches, (n) => n >= 2);
    // both checkpoints answered in one turn: the loop finds them complete together
    for (const mark of hosts.marks.splice(0)) dispatcher.markDone(mark.worker, mark.batch);
    hosts.answer = (worker, batch) => dispatcher.markDone(worker, batch);
    expect(await eventually(committedTotal, (n) => n === 2)).toBe(2);
    const offsets = await log.groupOffsets(GROUP, Topics.sensorsRaw);
    expect([offsets.get(partitionFor(first, 4)), offsets.get(partitionFor(second, 4))]).toEqual([1, 1]);
  });

  test("commits a batch only when every worker that got records has answered its mark", async () => {
    const sensors = Array.from({ length: 20 }, (_, i) => `s${i}`);
    await append(sensors);
    dispatcher.start();
    await eventually(
      () => hosts.marks.length,
      (n) => n >= 2,
    );
    const [first, second] = hosts.marks;
    dispatcher.markDone(first!.worker, first!.batch);
    await Bun.sleep(200);
    expect(await committedTotal()).toBe(0);
    hosts.answer = (worker, batch) => dispatcher.markDone(worker, batch);
    dispatcher.markDone(second!.worker, second!.batch);
    for (const mark of hosts.marks.splice(2)) dispatcher.markDone(mark.worker, mark.batch);
    expect(await eventually(committedTotal, (n) => n === 20)).toBe(20);
  });

  test("a restarted worker's uncommitted records are dispatched again and then committed", async () => {
    const sensors = Array.from({ length: 40 }, (_, i) => `s${i}`);
    await append(sensors);
    dispatcher.start();
    await eventually(
      () => hosts.marks.length,
      (n) => n >= 2,
    );
    const lostWorker = 0;
    const lost = hosts.readings.filter((r) => r.worker === lostWorker).map((r) => r.reading.sensorId);
    expect(lost.length).toBeGreaterThan(0);
    // worker 1 answers; worker 0 crashes before answering
    for (const mark of hosts.marks.filter((m) => m.worker !== lostWorker))
      dispatcher.markDone(mark.worker, mark.batch);
    hosts.readings.length = 0;
    hosts.marks.length = 0;
    await dispatcher.replayWorker(lostWorker);
    const replayed = await eventually(
      () => hosts.readings.filter((r) => r.worker === lostWorker).map((r) => r.reading.sensorId),
      (ids) => ids.length >= lost.length,
    );
    expect([...replayed].sort()).toEqual([...lost].sort());
    expect(hosts.readings.every((r) => r.worker === lostWorker)).toBe(true);
    hosts.answer = (worker, batch) => dispatcher.markDone(worker, batch);
    for (const mark of hosts.marks.splice(0)) dispatcher.markDone(mark.worker, mark.batch);
    expect(await eventually(committedTotal, (n) => n === 40)).toBe(40);
  });

  test("records of a crashed worker's partitions are not committed before its replay, then replayed and committed", async () => {
    // The reading lost after a worker crash: records polled while the worker was down were not
    // sent, but their offsets were committed at the next checkpoint, so the replay started past
    // them. Here the worker is down for as many checkpoints as it takes.
    await dispatcher.stop();
    const crashing = new Dispatcher({
      log,
      hosts,
      groupId: `${GROUP}-crash`,
      commitIntervalMs: 0,
      decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
      onDeadLetter: () => {},
      now: Date.now,
    });
    dispatcher = crashing;
    hosts.answer = (worker, batch) => crashing.markDone(worker, batch);
    crashing.start();
    crashing.workerLost(0);
    const sensors = Array.from({ length: 40 }, (_, i) => `s${i}`);
    const onWorker = (worker: number) => sensors.filter((s) => hosts.workerOf(partitionFor(s, 4)) === worker);
    await append(sensors);
    const committedOf = async (worker: number) =>
      [...(await log.groupOffsets(`${GROUP}-crash`, Topics.sensorsRaw)).entries()]
        .filter(([partition]) => hosts.workerOf(partition) === worker)
        .reduce((sum, [, offset]) => sum + offset, 0);
    await eventually(
      () => committedOf(1),
      (n) => n === onWorker(1).length,
    );
    // several checkpoints later, still nothing of worker 0's partitions is committed or sent
    const checkpoints = crashing.committed;
    await append(["s100", "s101", "s102", "s103"].filter((s) => hosts.workerOf(partitionFor(s, 4)) === 1));
    await eventually(
      () => crashing.committed,
      (n) => n > checkpoints,
    );
    expect(await committedOf(0)).toBe(0);
    expect(hosts.readings.some((r) => r.worker === 0)).toBe(false);

    await crashing.replayWorker(0);
    const replayed = await eventually(
      () => hosts.readings.filter((r) => r.worker === 0).map((r) => r.reading.sensorId),
      (ids) => ids.length >= onWorker(0).length,
    );
    expect([...replayed].sort()).toEqual([...onWorker(0)].sort());
    expect(
      await eventually(
        () => committedOf(0),
        (n) => n === onWorker(0).length,
      ),
    ).toBe(onWorker(0).length);
  });

  test("a backlog of 5,000 readings goes out as one batch: one mark per worker, not one per 1,000 records polled", async () => {
    await append(Array.from({ length: 5_000 }, (_, i) => `s${i % 100}`));
    dispatcher.start();
    await eventually(
      () => hosts.readings.length,
      (n) => n >= 5_000,
    );
    await eventually(
      () => hosts.marks.length,
      (n) => n >= 2,
    );
    expect(DEFAULT_POLL_RECORDS).toBeGreaterThanOrEqual(5_000);
    expect(hosts.marks.map((mark) => mark.batch)).toEqual([1, 1]);
    hosts.answer = (worker, batch) => dispatcher.markDone(worker, batch);
    for (const mark of hosts.marks.splice(0)) dispatcher.markDone(mark.worker, mark.batch);
    dispatcher.requestCheckpoint();
    expect(await eventually(committedTotal, (n) => n === 5_000)).toBe(5_000);
  });

  test("routes each record to the worker owning its partition, with its log position", async () => {
    await append(["alpha", "beta", "gamma", "delta"]);
    dispatcher.start();
    await eventually(
      () => hosts.readings.length,
      (n) => n >= 4,
    );
    for (const { worker, reading } of hosts.readings) {
      expect(reading.partition).toBe(partitionFor(reading.sensorId, 4));
      expect(worker).toBe(hosts.workerOf(reading.partition));
    }
  });

  test.each([
    ["not JSON", encoder.encode("{oops"), "DECODE_FAILED"],
    [
      "a value failing the reading schema",
      encoder.encode(JSON.stringify({ type: "traffic" })),
      "SCHEMA_VIOLATION",
    ],
    ["a tombstone", null, "DECODE_FAILED"],
  ])("%s goes to the topic's dead letters with its reason and is committed", async (_name, value, code) => {
    await log.append([{ topic: Topics.sensorsRaw, key: "bad", value }]);
    hosts.answer = (worker, batch) => dispatcher.markDone(worker, batch);
    dispatcher.start();
    await eventually(
      () => deadLetters.length,
      (n) => n >= 1,
    );
    expect(deadLetters[0]!.letter.code as string).toBe(code);
    expect(deadLetters[0]!.topic).toBe(Topics.sensorsRaw);
    expect(deadLetters[0]!.letter.source).toStartWith("log:city.sensors.raw/");
    expect(await eventually(committedTotal, (n) => n === 1)).toBe(1);
  });

  test("a partition whose state restores slowly holds only its own records; the others flow meanwhile", async () => {
    await dispatcher.stop();
    const restored: number[] = [];
    let releaseSlow: () => void = () => {};
    const slow = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    const controls: HostInbound[] = [];
    const original = hosts.sendControl.bind(hosts);
    hosts.sendControl = (worker, message) => {
      controls.push(message);
      return original(worker, message);
    };
    hosts.answer = (worker, batch) => restoring.markDone(worker, batch);
    const restoring = new Dispatcher({
      log,
      hosts,
      groupId: `${GROUP}-restore`,
      decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
      onDeadLetter: () => {},
      now: Date.now,
      state: {
        async restore(partitions, send) {
          for (const partition of partitions) {
            if (partition === 0) await slow;
            await send(partition, "window", `traffic:${partition}:x`, jsonBytes({ lastOffset: -1 }));
            restored.push(partition);
          }
        },
      },
    });
    dispatcher = restoring;
    const sensors = Array.from({ length: 40 }, (_, i) => `s${i}`);
    await append(sensors);
    restoring.start();
    const others = await eventually(
      () => hosts.readings.filter((r) => r.reading.partition !== 0).length,
      (n) => n >= sensors.filter((s) => partitionFor(s, 4) !== 0).length,
    );
    expect(others).toBe(sensors.filter((s) => partitionFor(s, 4) !== 0).length);
    expect(hosts.readings.some((r) => r.reading.partition === 0)).toBe(false);
    releaseSlow();
    await eventually(
      () => hosts.readings.filter((r) => r.reading.partition === 0).length,
      (n) => n >= sensors.filter((s) => partitionFor(s, 4) === 0).length,
    );
    // partition 0's state went out before any of its records
    const firstRestoreOf0 = controls.findIndex((c) => c.type === "restore" && c.key === "traffic:0:x");
    expect(firstRestoreOf0).toBeGreaterThanOrEqual(0);
    expect(restored).toContain(0);
  });

  test("a partition assigned again while its first restore still runs flows only after the second restore (regression: the first restore's end released it, and its windows started without their state)", async () => {
    await dispatcher.stop();
    // a consumer whose polls hand out what the test queues, as a consumer re-reading a
    // reassigned partition from its committed offset would
    const owned = [0];
    const queued: LogRecord[] = [];
    let polls = 0;
    let rebalance: ConsumerOptions["rebalance"];
    const consumer: Consumer = {
      assignment: () => owned.map((partition) => ({ topic: Topics.sensorsRaw, partition })),
      poll: async () => {
        polls++;
        await Bun.sleep(5);
        return queued.splice(0);
      },
      commit: async () => {},
      committed: async () => undefined,
      seek: () => {},
      close: async () => {},
    } as unknown as Consumer;
    const memberLog = {
      consumer(options: ConsumerOptions) {
        rebalance = options.rebalance;
        return consumer;
      },
    } as unknown as Log;
    // each restore of partition 0 waits until the test lets it finish, then sends its state
    const gates: (() => void)[] = [];
    const sent: string[] = [];
    hosts.sendReading = (_worker, reading) => {
      sent.push(`reading p${reading.partition}@${reading.offset}`);
      return true;
    };
    const original = hosts.sendControl.bind(hosts);
    hosts.sendControl = (worker, message) => {
      if (message.type === "restore") sent.push(`restore ${new TextDecoder().decode(message.state)}`);
      return original(worker, message);
    };
    hosts.answer = (worker, batch) => reassigned.markDone(worker, batch);
    let restores = 0;
    const reassigned = new Dispatcher({
      log: memberLog,
      hosts,
      groupId: `${GROUP}-reassigned`,
      decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
      onDeadLetter: () => {},
      now: Date.now,
      state: {
        async restore(partitions, send) {
          const which = ++restores;
          await new Promise<void>((resolve) => gates.push(resolve));
          for (const partition of partitions)
            await send(partition, "window", "traffic:0:p0", jsonBytes({ restore: which }));
        },
      },
    });
    dispatcher = reassigned;
    reassigned.start();
    const tp = [{ topic: Topics.sensorsRaw, partition: 0 }];
    await rebalance!.onAssigned!(tp);
    await rebalance!.onRevoked!(tp);
    await rebalance!.onAssigned!(tp);
    expect(gates.length).toBe(2);
    queued.push(readingRecord(0, 0));
    expect(
      await eventually(
        () => polls,
        (n) => n >= 2,
      ),
    ).toBeGreaterThanOrEqual(2);
    // the first restore ends (its partition had been revoked meanwhile): nothing may flow yet
    gates[0]!();
    const pollsAfterFirst = polls;
    // two more turns of the loop, each of which releases every finished partition's records
    expect(
      await eventually(
        () => polls,
        (n) => n >= pollsAfterFirst + 2,
      ),
    ).toBeGreaterThanOrEqual(pollsAfterFirst + 2);
    expect(sent).toEqual([]);
    gates[1]!();
    await eventually(
      () => sent.length,
      (n) => n >= 2,
    );
    expect(sent).toEqual([`restore {"restore":2}`, "reading p0@0"]);
  });

  test("a partition revoked while a polled batch waits for ring space gets none of that batch after its actors are evicted", async () => {
    await dispatcher.stop();
    // A consumer that owns partitions 0 and 1 (both homed on worker 0) and hands out one batch
    // holding both; the test calls the rebalance listener itself, at the moment it chooses.
    let owned = [0, 1];
    const member = scriptedMember(
      () => owned,
      [0, 1, 0, 1].map((partition, offset) => readingRecord(partition, offset)),
    );
    // the ring takes the first reading, then is full until the test makes space
    const sent: string[] = [];
    let space: () => void = () => {};
    let capacity = 1;
    hosts.sendReading = (_worker, reading) => {
      if (capacity === 0) return false;
      capacity--;
      sent.push(`reading p${reading.partition}`);
      return true;
    };
    const original = hosts.sendControl.bind(hosts);
    hosts.sendControl = (worker, message) => {
      if (message.type === "evict") sent.push(`evict ${message.partitions.join(",")}`);
      return original(worker, message);
    };
    hosts.waitForSpace = () =>
      new Promise<boolean>((resolve) => {
        space = () => resolve(true);
      });
    hosts.answer = (worker, batchId) => revoking.markDone(worker, batchId);
    const revoking = new Dispatcher({
      log: member.log,
      hosts,
      groupId: `${GROUP}-revoke`,
      decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
      onDeadLetter: () => {},
      now: Date.now,
    });
    dispatcher = revoking;
    revoking.start();
    await eventually(
      () => sent.length,
      (n) => n === 1,
    );
    // partition 1 moves away while the batch waits: its actors are evicted first
    owned = [0];
    await member.rebalance!.onRevoked!([{ topic: Topics.sensorsRaw, partition: 1 }]);
    capacity = Number.POSITIVE_INFINITY;
    space();
    await eventually(
      () => sent.filter((line) => line === "reading p0").length,
      (n) => n === 2,
    );
    await Bun.sleep(50); // anything still on its way for partition 1 would be sent by now
    const evicted = sent.indexOf("evict 1");
    expect(evicted).toBeGreaterThan(0);
    expect(sent.slice(evicted).filter((line) => line === "reading p1")).toEqual([]);
  });

  test("a batch whose partitions interleave commits each partition's offset after its last record, a dead letter among them named by its record's topic", async () => {
    await dispatcher.stop();
    const bad: LogRecord = { ...readingRecord(0, 11), value: encoder.encode("{not json") };
    const batch = [readingRecord(0, 10), readingRecord(2, 5), bad, readingRecord(2, 6), readingRecord(0, 12)];
    const commits: CommitOffset[] = [];
    const member = scriptedMember(() => [0, 2], batch);
    const consumer = member.log.consumer({ groupId: GROUP, topics: [Topics.sensorsRaw] });
    const scripted = member.log.consumer;
    member.log.consumer = (options) => {
      scripted(options);
      return { ...consumer, commit: async (offsets) => void commits.push(...offsets) };
    };
    const letters: string[] = [];
    hosts.answer = (worker, batchId) => interleaved.markDone(worker, batchId);
    const interleaved = new Dispatcher({
      log: member.log,
      hosts,
      groupId: `${GROUP}-interleaved`,
      decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
      onDeadLetter: (letter, topic) => letters.push(`${topic} ${letter.source}`),
      commitIntervalMs: 0,
      now: Date.now,
    });
    dispatcher = interleaved;
    interleaved.start();
    await eventually(
      () => commits.length,
      (n) => n >= 2,
    );
    const last = new Map(commits.map((c) => [c.partition, c.offset]));
    expect([...last].sort(([a], [b]) => a - b)).toEqual([
      [0, 13],
      [2, 7],
    ]);
    expect(letters).toEqual([`${Topics.sensorsRaw} log:${Topics.sensorsRaw}/0@11`]);
    expect(hosts.readings.map((r) => `${r.reading.partition}@${r.reading.offset}`)).toEqual([
      "0@10",
      "2@5",
      "2@6",
      "0@12",
    ]);
  });

  test("a reading framed with a schema another registry registered after the engine's opened is dispatched after one catch-up; an id no registry holds is a dead letter", async () => {
    await dispatcher.stop();
    const schemas = "_schemas-dispatch-test";
    const here = await SchemaRegistry.open(log, schemas);
    const elsewhere = await SchemaRegistry.open(log, schemas);
    const readingSchema = JSON.stringify(sensorReadingJsonSchema());
    const { id } = await elsewhere.register(subjectOf(Topics.sensorsRaw), readingSchema, {
      schemaType: "JSON",
    });
    let refreshes = 0;
    const codec = registryCodec(new SchemaSerde(here), new Set(), async () => {
      refreshes++;
      await here.catchUp();
    });
    const framed = (offset: number, schemaId: number): LogRecord => ({
      ...readingRecord(0, offset),
      value: frame(
        schemaId,
        encoder.encode(JSON.stringify(trafficReading("p0", 1_700_000_000_000 + offset))),
      ),
    });
    const member = scriptedMember(() => [0], [framed(1, id), framed(2, id), framed(3, id + 50)]);
    const letters: [string, string][] = [];
    hosts.answer = (worker, batchId) => withRegistry.markDone(worker, batchId);
    const withRegistry = new Dispatcher({
      log: member.log,
      hosts,
      groupId: `${GROUP}-registry`,
      decode: codec.decode,
      readingJsonStart: codec.readingJsonStart!,
      refreshSchemas: codec.refresh!,
      onDeadLetter: (letter) => letters.push([letter.source, letter.code]),
      commitIntervalMs: 0,
      now: Date.now,
    });
    dispatcher = withRegistry;
    withRegistry.start();
    await eventually(
      () => hosts.readings.length + letters.length,
      (n) => n === 3,
    );
    expect(hosts.readings.map((r) => r.reading.offset)).toEqual([1, 2]);
    expect(letters).toEqual([[`log:${Topics.sensorsRaw}/0@3`, ErrorCodes.UNKNOWN_SCHEMA]]);
    expect(refreshes).toBe(1);
  });

  test("partitions lost to another owner are evicted without a checkpoint, their state discarded and their offsets never committed", async () => {
    await dispatcher.stop();
    let owned = [0, 2];
    const member = scriptedMember(() => owned, [readingRecord(0, 0), readingRecord(2, 0)]);
    const discarded: number[] = [];
    const controls: HostInbound[] = [];
    const original = hosts.sendControl.bind(hosts);
    hosts.sendControl = (worker, message) => {
      controls.push(message);
      return original(worker, message);
    };
    // the workers do not answer yet: the batch's marks stay in flight when the partition is lost
    const losing = new Dispatcher({
      log: member.log,
      hosts,
      groupId: `${GROUP}-lost`,
      decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
      onDeadLetter: () => {},
      now: Date.now,
      state: {
        restore: async () => {},
        discard: (partitions) => discarded.push(...partitions),
      },
    });
    dispatcher = losing;
    losing.start();
    await eventually(
      () => hosts.readings.length,
      (n) => n === 2,
    );
    const marksBefore = controls.filter((c) => c.type === "mark").length;
    owned = [0];
    await member.rebalance!.onLost!([{ topic: Topics.sensorsRaw, partition: 2 }]);
    expect(discarded).toEqual([2]);
    expect(controls.filter((c) => c.type === "evict")).toEqual([{ type: "evict", partitions: [2] }]);
    // no checkpoint was asked for the lost partition
    expect(controls.filter((c) => c.type === "mark").length).toBe(marksBefore);
    // the marks come back: what is committed is partition 0's only
    hosts.answer = (worker, batchId) => losing.markDone(worker, batchId);
    for (const mark of hosts.marks.splice(0)) losing.markDone(mark.worker, mark.batch);
    await losing.stop();
    expect(member.commits).toContain(0);
    expect(member.commits).not.toContain(2);
  });
});

/**
 * Event time and idleness, step by step on a fake clock: each poll of the scripted member is one
 * step, at its processing time, with the records it hands out and what the member knows of each
 * partition's lag. The readings and watermarks the workers get are replayed, in their order,
 * into a window operator as the window actors hold them (per-key stream time, the node's
 * watermark from every mark), so a reading judged late is one a node would not count.
 */
describe("the dispatcher's event time", () => {
  const T0 = 1_700_000_000_000; // a multiple of the 10 s windows
  const IDLE_MS = 10_000;
  type Lags = Readonly<Record<number, number | undefined>>;
  interface PollStep {
    readonly at: number;
    /** [partition, event time] of each record this poll hands out */
    readonly records: readonly (readonly [number, number])[];
    readonly lag: Lags;
    /** awaited before the poll answers: the test lets something else happen first */
    readonly first?: () => Promise<void>;
  }

  /** a member owning partitions 0 and 1 (both on worker 0) that plays `steps`, one per poll */
  function steppedMember(steps: readonly PollStep[], clock: { now: number }) {
    let taken = 0;
    let lag: Lags = {};
    const offsets = [0, 0];
    const consumer: Consumer = {
      assignment: () => [0, 1].map((partition) => ({ topic: Topics.sensorsRaw, partition })),
      poll: async () => {
        const step = steps[taken];
        taken++;
        if (step === undefined) {
          await Bun.sleep(5);
          return [];
        }
        await step.first?.();
        clock.now = step.at;
        lag = step.lag;
        return step.records.map(([partition, eventTime]) => ({
          topic: Topics.sensorsRaw,
          partition,
          offset: offsets[partition]!++,
          key: `p${partition}`,
          value: encoder.encode(JSON.stringify(trafficReading(`p${partition}`, eventTime))),
          timestamp: eventTime,
          headers: [],
        }));
      },
      commit: async () => {},
      committed: async () => undefined,
      seek: () => {},
      currentLag: (tp) => lag[tp.partition],
      close: async () => {},
    };
    const log = {
      consumer(options: ConsumerOptions) {
        queueMicrotask(() => options.rebalance?.onAssigned?.(consumer.assignment()));
        return consumer;
      },
    } as unknown as Log;
    // every step polled, and the poll after the last one begun: the last step's marks are out
    return { log, played: () => taken > steps.length };
  }

  /** the workers' view: late readings, and each window's count when it closed on a watermark */
  function replayIntoWindows(hosts: RecordingHosts) {
    const operator = createWindowOperator({
      assigner: tumbling(10_000),
      aggregators: { v: ["count"] },
      watermark: { maxOutOfOrdernessMs: 0, streamTime: "key" },
      clock: () => T0, // processing time only judges readings from the future here
    });
    const out = createWindowOutput();
    for (const event of hosts.sequence) {
      if ("reading" in event)
        operator.process(0, event.reading.sensorId, event.reading.eventTime, { v: 1 }, out);
      else if (event.watermark !== undefined) operator.advanceWatermark(event.watermark, out);
    }
    expect(out.rejected).toEqual([]);
    return {
      late: out.late.map((late) => `${late.key}@${late.eventTime - T0}`),
      closed: out.emitted.filter((w) => w.final).map((w) => `${w.key} [${w.windowStart - T0}) x${w.count}`),
      watermark: hosts.watermarks.filter((w) => w !== undefined).at(-1),
    };
  }

  async function play(steps: readonly PollStep[], state?: StateRestorer) {
    const hosts = new RecordingHosts();
    const clock = { now: 0 };
    const member = steppedMember(steps, clock);
    const dispatcher = new Dispatcher({
      log: member.log,
      hosts,
      groupId: "event-time",
      commitIntervalMs: 0,
      watermark: { maxOutOfOrdernessMs: 0, idleTimeoutMs: IDLE_MS },
      decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
      onDeadLetter: () => {},
      now: () => clock.now,
      ...(state ? { state } : {}),
    });
    hosts.answer = (worker, batch) => dispatcher.markDone(worker, batch);
    dispatcher.start();
    try {
      await eventually(member.played, (played) => played, 10_000);
    } finally {
      await dispatcher.stop();
    }
    return replayIntoWindows(hosts);
  }

  /** p0 sends a reading every 4 s of processing time, 10 s of event time apart, while p1 sends nothing */
  const p0Flows = (from: number, count: number, lag: Lags): PollStep[] =>
    Array.from({ length: count }, (_, i) => ({
      at: from + 4_000 * i,
      records: [[0, T0 + 10_000 * (i + 1)] as const],
      lag,
    }));

  test("a partition with a backlog on the log that is read late is never idle: its readings are counted in their windows (regression: idle after 10 s of silence, its backlog was late)", async () => {
    const result = await play([
      {
        at: 0,
        records: [
          [0, T0],
          [1, T0],
        ],
        lag: { 0: 0, 1: 5 },
      },
      // p1 has 5 readings on the log that its fetches do not bring for 24 s (a busy broker)
      ...p0Flows(4_000, 6, { 0: 0, 1: 5 }),
      { at: 28_000, records: [1, 2, 3, 4, 5].map((s) => [1, T0 + 1_000 * s] as const), lag: { 0: 0, 1: 0 } },
      // then both are read to their end and quiet for the timeout: event time moves on
      { at: 28_000 + IDLE_MS, records: [], lag: { 0: 0, 1: 0 } },
    ]);
    expect(result.late).toEqual([]);
    expect(result.closed).toContain("p1 [0) x6");
    expect(result.watermark).toBe(T0 + 60_000);
  });

  test("a partition whose records wait for its state restore is behind however long the restore takes, though the member read it to its end", async () => {
    const slowRestore = Promise.withResolvers<void>();
    const restoredP1 = Promise.withResolvers<void>();
    const state: StateRestorer = {
      async restore(partitions, send) {
        for (const partition of partitions) {
          if (partition === 1) await slowRestore.promise;
          await send(partition, "window", `traffic:${partition}:x`, jsonBytes({ lastOffset: -1 }));
          if (partition === 1) restoredP1.resolve();
        }
      },
    };
    const result = await play(
      [
        {
          at: 0,
          records: [
            [0, T0],
            [1, T0],
          ],
          lag: { 0: 0, 1: 0 },
        },
        ...p0Flows(4_000, 6, { 0: 0, 1: 0 }),
        {
          at: 28_000,
          records: [],
          lag: { 0: 0, 1: 0 },
          first: async () => {
            slowRestore.resolve();
            await restoredP1.promise;
            await Bun.sleep(0); // a macrotask: the restore's remaining microtasks (its release) ran
          },
        },
        { at: 28_000, records: [], lag: { 0: 0, 1: 0 } },
        { at: 28_000 + IDLE_MS, records: [], lag: { 0: 0, 1: 0 } },
      ],
      state,
    );
    expect(result.late).toEqual([]);
    expect(result.closed).toContain("p1 [0) x1");
  });

  test("a partition read to its end goes idle after the timeout while the others send, and its last window closes", async () => {
    const result = await play([
      {
        at: 0,
        records: [
          [0, T0],
          [1, T0],
        ],
        lag: { 0: 0, 1: 0 },
      },
      ...p0Flows(4_000, 6, { 0: 0, 1: 0 }),
    ]);
    expect(result.closed).toContain("p1 [0) x1");
    expect(result.watermark).toBe(T0 + 60_000);
  });

  test.each([
    {
      name: "every partition read to its end and quiet for the timeout: the last windows of a quiet stream close",
      after: { at: IDLE_MS, lag: { 0: 0, 1: 0 } },
      watermark: T0 + 60_000,
    },
    {
      name: "read to its end but not yet for the timeout: it still holds event time",
      after: { at: IDLE_MS - 1, lag: { 0: 0, 1: 0 } },
      watermark: T0,
    },
    {
      name: "quiet for the timeout with records on the log: it holds event time",
      after: { at: 3 * IDLE_MS, lag: { 0: 0, 1: 2 } },
      watermark: T0,
    },
    {
      name: "quiet for the timeout with its lag unknown: it holds event time",
      after: { at: 3 * IDLE_MS, lag: { 0: 0, 1: undefined } },
      watermark: T0,
    },
  ])("$name", async ({ after, watermark }) => {
    const result = await play([
      {
        at: 0,
        records: [
          [0, T0 + 60_000],
          [1, T0],
        ],
        lag: { 0: 0, 1: 0 },
      },
      { at: after.at, records: [], lag: after.lag },
    ]);
    expect(result.watermark).toBe(watermark);
    expect(result.closed.includes("p1 [0) x1")).toBe(watermark > T0);
  });

  test("after a stall of the whole input, a partition idle at its end holds again when the first partition is back, though its own readings are not on the log yet (ingest held them while the broker was away)", async () => {
    const result = await play([
      {
        at: 0,
        records: [
          [0, T0 + 5_000],
          [1, T0],
        ],
        lag: { 0: 0, 1: 0 },
      },
      // nothing anywhere for three timeouts: both idle at their end, event time at p0's
      { at: 3 * IDLE_MS, records: [], lag: { 0: 0, 1: 0 } },
      { at: 3 * IDLE_MS + 100, records: [[0, T0 + 60_000]], lag: { 0: 0, 1: 0 } },
      // p1's readings of the stall reach the log a second later
      {
        at: 3 * IDLE_MS + 1_100,
        records: [6, 7, 8].map((s) => [1, T0 + 1_000 * s] as const),
        lag: { 0: 0, 1: 0 },
      },
      { at: 4 * IDLE_MS + 1_100, records: [], lag: { 0: 0, 1: 0 } },
    ]);
    expect(result.late).toEqual([]);
    expect(result.closed).toContain("p1 [0) x4");
    expect(result.watermark).toBe(T0 + 60_000);
  });

  test("after a stall of the whole input, a partition idle at its end holds again as soon as the log shows its new records: the first partition back cannot carry event time past them", async () => {
    const result = await play([
      {
        at: 0,
        records: [
          [0, T0],
          [1, T0],
        ],
        lag: { 0: 0, 1: 0 },
      },
      // nothing anywhere for three timeouts (a broker restart): both idle, read to their end
      { at: 3 * IDLE_MS, records: [], lag: { 0: 0, 1: 0 } },
      // the fetch after the stall finds records on both; p0's come first
      { at: 3 * IDLE_MS + 100, records: [[0, T0 + 60_000]], lag: { 0: 0, 1: 3 } },
      {
        at: 3 * IDLE_MS + 200,
        records: [1, 2, 3].map((s) => [1, T0 + 1_000 * s] as const),
        lag: { 0: 0, 1: 0 },
      },
      { at: 4 * IDLE_MS + 200, records: [], lag: { 0: 0, 1: 0 } },
    ]);
    expect(result.late).toEqual([]);
    expect(result.closed).toContain("p1 [0) x4");
  });
});

describe("a job of its own on the dispatcher (another input topic, a filter, a checkpoint asked for)", () => {
  const INPUT = "bench.traffic.in";
  let log: Log;
  let dir: string;
  let hosts: RecordingHosts;
  let dispatcher: Dispatcher | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "dispatcher-job-"));
    log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
    await log.createTopic({ name: INPUT, partitions: 4 });
    hosts = new RecordingHosts();
  });

  afterEach(async () => {
    await dispatcher?.stop();
    dispatcher = undefined;
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (deps: Partial<ConstructorParameters<typeof Dispatcher>[0]>) => {
    const started = new Dispatcher({
      log,
      hosts,
      groupId: `${GROUP}-job`,
      topic: INPUT,
      decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
      onDeadLetter: () => {},
      now: Date.now,
      ...deps,
    });
    hosts.answer = (worker, batch) => started.markDone(worker, batch);
    dispatcher = started;
    started.start();
    return started;
  };
  const environment = (sensor: string, at: number) => ({
    type: "environment",
    sensor_id: sensor,
    timestamp: new Date(at).toISOString(),
    temperature: 20,
    humidity: 40,
    air_quality_index: 30,
    location: { lat: 52.52, lon: 13.4 },
  });
  const append = (readings: { sensor: string; type: "traffic" | "environment" }[], from = 0) =>
    log.append(
      readings.map(({ sensor, type }, i) => {
        const at = 1_700_000_000_000 + from + i;
        const reading = type === "traffic" ? trafficReading(sensor, at) : environment(sensor, at);
        return { topic: INPUT, key: sensor, value: encoder.encode(JSON.stringify(reading)) };
      }),
    );
  const committedTotal = async () =>
    [...(await log.groupOffsets(`${GROUP}-job`, INPUT)).values()].reduce((sum, o) => sum + o, 0);

  test("reads its own input topic; readings its filter refuses are committed with their batch and never sent", async () => {
    const readings = Array.from({ length: 30 }, (_, i) => ({
      sensor: `s${i}`,
      type: i % 3 === 0 ? ("environment" as const) : ("traffic" as const),
    }));
    await append(readings);
    start({ accepts: (reading) => reading.sensorType === "traffic", commitIntervalMs: 0 });
    expect(await eventually(committedTotal, (n) => n === 30)).toBe(30);
    expect(hosts.readings.map((r) => r.reading.sensorId).sort()).toEqual(
      readings
        .filter((r) => r.type === "traffic")
        .map((r) => r.sensor)
        .sort(),
    );
  });

  test("a checkpoint asked for is the next mark however long the commit interval, and commits what was dispatched", async () => {
    const first = Array.from({ length: 10 }, (_, i) => ({ sensor: `a${i}`, type: "traffic" as const }));
    await append(first);
    const job = start({ commitIntervalMs: 600_000 });
    // the first batch is a checkpoint (none was ever taken); its records are committed
    expect(await eventually(committedTotal, (n) => n === 10)).toBe(10);
    const firstMarks = hosts.checkpoints.length;
    await append(
      first.map((r) => ({ ...r, sensor: `b${r.sensor}` })),
      10,
    );
    await eventually(
      () => hosts.readings.length,
      (n) => n === 20,
    );
    // the interval is not over: the second batch's marks are plain ones, nothing more committed
    await eventually(
      () => hosts.checkpoints.length,
      (n) => n > firstMarks,
    );
    expect(hosts.checkpoints.slice(firstMarks).every((checkpoint) => !checkpoint)).toBe(true);
    expect(await committedTotal()).toBe(10);
    const marksBefore = hosts.checkpoints.length;
    job.requestCheckpoint();
    expect(await eventually(committedTotal, (n) => n === 20)).toBe(20);
    expect(hosts.checkpoints.slice(marksBefore)).toContain(true);
  });

  test("a checkpoint asked for while records wait for their partition's restore is taken again once they are dispatched (regression: the request went with a checkpoint that covered none of them, and they waited for the interval)", async () => {
    let releaseRestore: () => void = () => {};
    const restoring = new Promise<void>((resolve) => {
      releaseRestore = resolve;
    });
    const readings = Array.from({ length: 20 }, (_, i) => ({ sensor: `r${i}`, type: "traffic" as const }));
    await append(readings);
    const job = start({
      commitIntervalMs: 600_000,
      state: {
        async restore() {
          await restoring;
        },
      },
    });
    // polled and held: none sent while the restore runs
    await eventually(
      () => (job as unknown as { held: { size: number } }).held.size,
      (n) => n === 20,
    );
    const marksBefore = hosts.checkpoints.length;
    job.requestCheckpoint();
    // the request meets a batch of held records: a checkpoint that commits none of them ...
    await append(
      readings.slice(0, 4).map((r) => ({ ...r, sensor: `late-${r.sensor}` })),
      20,
    );
    await eventually(
      () => hosts.checkpoints.slice(marksBefore),
      (marks) => marks.includes(true),
    );
    expect(hosts.readings).toHaveLength(0);
    releaseRestore();
    // ... and stands until a checkpoint follows the held records: committed well within the interval
    expect(await eventually(committedTotal, (n) => n === 24, 10_000)).toBe(24);
  });
});
