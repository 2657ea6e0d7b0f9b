import { afterEach, describe, expect, test } from "bun:test";
import { Dispatcher } from "../../engine/dispatcher.ts";
import type { Consumer, ConsumerOptions, Log, LogRecord } from "../../log/log.ts";
import type { DeadLetter } from "../../messages/dead-letter.ts";
import type { HostInbound } from "../../messages/host-protocol.ts";
import { Topics } from "../../messages/topics.ts";
import { eventually, trafficReading } from "../node/node-fixture.ts";
import { InertPartitionHosts } from "./engine-fixture.ts";

const T0 = 1_700_000_000_000;
const encoder = new TextEncoder();

/**
 * Hosts that read raw readings in their workers (as both real ones do), recording what they are
 * sent; the test answers marks and reports the workers' event times itself.
 */
class RawRecordingHosts extends InertPartitionHosts {
  readonly raw: {
    worker: number;
    partition: number;
    offset: number;
    jsonStart: number;
    value: Uint8Array;
  }[] = [];
  readonly parsed: number[] = [];
  readonly marks: { worker: number; batch: number; watermark: number | undefined }[] = [];
  answer: ((worker: number, batch: number) => void) | undefined;
  sendReading(_worker: number, reading: { offset: number }): boolean {
    this.parsed.push(reading.offset);
    return true;
  }
  sendRawReading(
    worker: number,
    partition: number,
    offset: number,
    _ingestedAt: number,
    value: Uint8Array,
    jsonStart: number,
  ): boolean {
    this.raw.push({ worker, partition, offset, jsonStart, value: value.slice() });
    return true;
  }
  sendControl(worker: number, message: HostInbound): boolean {
    if (message.type !== "mark") return true;
    this.marks.push({ worker, batch: message.batch, watermark: message.watermark });
    // answered at once, as a healthy worker would
    const answer = this.answer;
    if (answer) queueMicrotask(() => answer(worker, message.batch));
    return true;
  }
}

/** a member owning partitions 0-3 that hands out `batch` once, then nothing */
function member(batch: LogRecord[]) {
  const state = { rebalance: undefined as ConsumerOptions["rebalance"] };
  let polled = false;
  const assignment = () => [0, 1, 2, 3].map((partition) => ({ topic: Topics.sensorsRaw, partition }));
  const consumer: Consumer = {
    assignment,
    poll: async () => {
      if (polled) {
        await Bun.sleep(5);
        return [];
      }
      polled = true;
      return batch;
    },
    commit: async () => {},
    committed: async () => undefined,
    seek: () => {},
    currentLag: () => 1, // never idle: only readings move event time here
    close: async () => {},
  };
  const log = {
    consumer(options: ConsumerOptions) {
      state.rebalance = options.rebalance;
      queueMicrotask(() => state.rebalance?.onAssigned?.(assignment()));
      return consumer;
    },
  } as unknown as Log;
  return { log, reassign: () => state.rebalance?.onAssigned?.(assignment()) };
}

const record = (partition: number, offset: number, value: Uint8Array): LogRecord => ({
  topic: Topics.sensorsRaw,
  partition,
  offset,
  key: null,
  value,
  timestamp: 0,
  headers: [],
});
const readingBytes = (partition: number, offset: number) =>
  encoder.encode(JSON.stringify(trafficReading(`p${partition}`, T0 + offset)));

let dispatcher: Dispatcher | undefined;
afterEach(async () => {
  await dispatcher?.stop();
  dispatcher = undefined;
});

function start(batch: LogRecord[]) {
  const hosts = new RawRecordingHosts();
  const { log, reassign } = member(batch);
  const deadLetters: DeadLetter[] = [];
  dispatcher = new Dispatcher({
    log,
    hosts,
    groupId: "worker-readings",
    commitIntervalMs: 60_000,
    decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
    watermark: { maxOutOfOrdernessMs: 0, idleTimeoutMs: 60_000 },
    onDeadLetter: (letter) => deadLetters.push(letter),
    now: Date.now,
  });
  const started = dispatcher;
  hosts.answer = (worker, batch) => started.markDone(worker, batch);
  started.start();
  return { hosts, dispatcher: started, deadLetters, reassign };
}

describe("a dispatcher whose hosts read raw readings in their workers", () => {
  test("sends each JSON value as it is to its partition's worker, and reads on this thread only what the byte reader may not take", async () => {
    const framedElsewhere = Uint8Array.of(0, 0, 0, 0, 9, 0x7b, 0x7d);
    const { hosts, deadLetters } = start([
      record(0, 0, readingBytes(0, 0)),
      record(2, 0, readingBytes(2, 0)),
      record(3, 0, framedElsewhere),
    ]);
    await eventually(
      () => hosts.marks.length,
      (n) => n >= 2,
    );
    expect(
      hosts.raw.map(({ worker, partition, offset, jsonStart }) => [worker, partition, offset, jsonStart]),
    ).toEqual([
      [0, 0, 0, 0],
      [1, 2, 0, 0],
    ]);
    expect(hosts.raw[0]!.value).toEqual(readingBytes(0, 0));
    // a value the codec does not hand to the byte reader is decoded here, as before
    expect(hosts.parsed).toEqual([]);
    expect(deadLetters.map((letter) => letter.source)).toEqual([`log:${Topics.sensorsRaw}/3@0`]);
  });

  test("event time comes from the workers' reports and goes out with the marks after them", async () => {
    const { hosts, dispatcher } = start([0, 1, 2, 3].map((p) => record(p, 0, readingBytes(p, 0))));
    const first = await eventually(
      () => hosts.marks.slice(),
      (marks) => marks.length >= 2,
    );
    // the dispatcher read no event time itself: the first marks carry none
    expect(first.map((mark) => mark.watermark)).toEqual([undefined, undefined]);
    dispatcher.observeEventTimes(first[0]!.batch, [0, T0 + 5_000, 1, T0 + 7_000]);
    dispatcher.observeEventTimes(first[1]!.batch, [2, T0 + 6_000, 3, T0 + 9_000]);
    // every owned partition has reported: the next marks carry their low watermark
    const moved = await eventually(
      () => hosts.marks.slice(first.length),
      (marks) => marks.length > 0,
    );
    expect(moved.map((mark) => mark.watermark)).toEqual(moved.map(() => T0 + 5_000));
  });

  test("a partition that has not reported holds event time back", async () => {
    const { hosts, dispatcher } = start([0, 1, 2].map((p) => record(p, 0, readingBytes(p, 0))));
    const first = await eventually(
      () => hosts.marks.slice(),
      (marks) => marks.length >= 2,
    );
    dispatcher.observeEventTimes(first[0]!.batch, [0, T0 + 5_000, 1, T0 + 7_000]);
    dispatcher.observeEventTimes(first[1]!.batch, [2, T0 + 6_000]);
    await Bun.sleep(100);
    expect(hosts.marks.every((mark) => mark.watermark === undefined)).toBe(true);
  });

  test("reports of batches sent before event time started again (an assignment) are left out", async () => {
    const { hosts, dispatcher, reassign } = start([0, 1, 2, 3].map((p) => record(p, 0, readingBytes(p, 0))));
    const first = await eventually(
      () => hosts.marks.slice(),
      (marks) => marks.length >= 2,
    );
    await reassign();
    dispatcher.observeEventTimes(first[0]!.batch, [0, T0 + 5_000, 1, T0 + 7_000]);
    dispatcher.observeEventTimes(first[1]!.batch, [2, T0 + 6_000, 3, T0 + 9_000]);
    await Bun.sleep(100);
    expect(hosts.marks.every((mark) => mark.watermark === undefined)).toBe(true);
  });

  test("a report for a partition this member does not own holds nothing back", async () => {
    const { hosts, dispatcher } = start([0, 1, 2, 3].map((p) => record(p, 0, readingBytes(p, 0))));
    const first = await eventually(
      () => hosts.marks.slice(),
      (marks) => marks.length >= 2,
    );
    // partition 7 is not this member's: were it counted, its older event time would be the low one
    dispatcher.observeEventTimes(first[0]!.batch, [0, T0 + 5_000, 1, T0 + 5_000, 7, T0 + 1_000]);
    dispatcher.observeEventTimes(first[1]!.batch, [2, T0 + 5_000, 3, T0 + 5_000]);
    const moved = await eventually(
      () => hosts.marks.slice(first.length),
      (marks) => marks.length > 0,
    );
    expect(moved.map((mark) => mark.watermark)).toEqual(moved.map(() => T0 + 5_000));
  });
});
