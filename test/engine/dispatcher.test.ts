import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Dispatcher } from "../../engine/dispatcher.ts";
import type { PartitionHosts } from "../../engine/partition-hosts.ts";
import { openLog } from "../../log/index.ts";
import type { Consumer, ConsumerOptions, Log, LogRecord } from "../../log/log.ts";
import type { SensorReadingRecord } from "../../messages/codec/sensor-reading-record.ts";
import type { DeadLetter } from "../../messages/dead-letter.ts";
import type { HostInbound } from "../../messages/host-protocol.ts";
import { partitionFor } from "../../messages/murmur2.ts";
import { Topics } from "../../messages/topics.ts";
import { eventually, trafficReading } from "../node/node-fixture.ts";

/** PartitionHosts that only record what they are sent; the test answers the batch marks itself. */
class RecordingHosts implements PartitionHosts {
  readonly workers = 2;
  readonly readings: { worker: number; reading: SensorReadingRecord }[] = [];
  readonly marks: { worker: number; batch: number }[] = [];
  /** the event time each mark carried, in the order they were sent */
  readonly watermarks: (number | undefined)[] = [];
  /** when set, every mark is answered on the next microtask, as a healthy worker would */
  answer: ((worker: number, batch: number) => void) | undefined;
  workerOf(partition: number): number {
    return partition < 2 ? 0 : 1;
  }
  sendReading(worker: number, reading: SensorReadingRecord): boolean {
    this.readings.push({ worker, reading: { ...reading, values: [...reading.values] } });
    return true;
  }
  sendControl(worker: number, message: HostInbound): boolean {
    if (message.type !== "mark") return true;
    this.watermarks.push(message.watermark);
    const answer = this.answer;
    if (answer) queueMicrotask(() => answer(worker, message.batch));
    else this.marks.push({ worker, batch: message.batch });
    return true;
  }
  flush(): void {}
  waitForSpace = async () => true;
  onOutput(): void {}
  onRestart(): void {}
  onCrash(): void {}
  killWorker(): void {}
  tree = async () => [];
  stats = async () => [];
  stop = async () => {};
}

const encoder = new TextEncoder();
const GROUP = "dispatch-test";

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

  test("a stall of the whole input makes no partition idle: the first partition back cannot carry event time past the others' backlog", async () => {
    await dispatcher.stop();
    const idleTimeoutMs = 100;
    const stalling = new Dispatcher({
      log,
      hosts,
      groupId: `${GROUP}-stall`,
      commitIntervalMs: 0,
      watermark: { maxOutOfOrdernessMs: 0, idleTimeoutMs },
      decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
      onDeadLetter: () => {},
      now: Date.now,
    });
    dispatcher = stalling;
    hosts.answer = (worker, batch) => stalling.markDone(worker, batch);
    const onPartition = (partition: number, from: number) => {
      for (let i = from; ; i++) if (partitionFor(`s${i}`, 4) === partition) return `s${i}`;
    };
    const early = 1_700_000_000_000;
    const late = early + 60_000;
    const send = (sensor: string, at: number) =>
      log.append([
        {
          topic: Topics.sensorsRaw,
          key: sensor,
          value: encoder.encode(JSON.stringify(trafficReading(sensor, at))),
        },
      ]);
    await Promise.all([0, 1, 2, 3].map((p) => send(onPartition(p, 0), early)));
    stalling.start();
    await eventually(
      () => hosts.watermarks.at(-1) ?? 0,
      (w) => w >= early,
    );
    // nothing arrives from anywhere for three idle timeouts (a broker restart), then one partition's backlog
    await Bun.sleep(3 * idleTimeoutMs);
    const marksBefore = hosts.watermarks.length;
    await send(onPartition(0, 100), late);
    await eventually(
      () => hosts.readings.length,
      (n) => n >= 5,
    );
    await Bun.sleep(20);
    const afterStall = hosts.watermarks.slice(marksBefore).filter((w) => w !== undefined) as number[];
    expect(afterStall.length).toBeGreaterThan(0);
    expect(Math.max(...afterStall)).toBeLessThan(late);
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
            await send(partition, "window", `traffic:${partition}:x`, { lastOffset: -1 });
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
      if (message.type === "restore") sent.push(`restore ${JSON.stringify(message.state)}`);
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
            await send(partition, "window", "traffic:0:p0", { restore: which });
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
