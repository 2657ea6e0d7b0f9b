import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { aggregateOf, RepartitionedAggregates } from "../../engine/repartitioned-aggregates.ts";
import { StopBudget } from "../../engine/stop-deadline.ts";
import { ChangelogStore } from "../../log/changelog/changelog-store.ts";
import { openEmbeddedLog } from "../../log/embedded/index.ts";
import type { Consumer, Log } from "../../log/log.ts";
import { registryCodec } from "../../messages/codec/record-codec.ts";
import type { DeadLetter } from "../../messages/dead-letter.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { SchemaSerde } from "../../messages/schema-registry/schema-serde.ts";
import { frame } from "../../messages/schema-registry/wire-format.ts";
import { SchemaRegistry } from "../../registries/schema-registry.ts";
import type { Props } from "../../supervisor/actor.ts";
import { createActorSystem, InMemorySnapshotStore } from "../../supervisor/index.ts";
import { eventually } from "../node/node-fixture.ts";

/**
 * The single-owner aggregate engine counts each record of its repartition topic once: state is
 * checkpointed to the changelog before offsets are committed, restored on assignment, and a
 * record replayed from an older committed offset is skipped by the actor's last offset.
 */
const dir = mkdtempSync(join(tmpdir(), "aggregates-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOPIC = "app-sums-repartition";
type SumMessage =
  | { type: "add"; value: number; offset: number }
  | { type: "checkpoint" }
  | { type: "evict" }
  | { type: "wake" };
interface Sum {
  total: number;
  records: number;
  lastOffset: number;
}

/** an aggregate engine over a counting actor, as a node would run it */
async function startEngine(
  log: Log,
  options: {
    failCommits?: boolean;
    hangPolls?: boolean;
    flushOutputs?: () => Promise<void>;
    /** another actor in the same system that stays busy until this resolves */
    busyUntil?: Promise<void>;
    /** the aggregate itself takes each record from this offset on only once `until` resolves */
    slowFrom?: { readonly offset: number; readonly until: Promise<void> };
    checkpointTimeoutMs?: number;
    /** the aggregate's mailbox holds this many messages, then refuses (back-pressure) */
    mailboxCapacity?: number;
    /** what a stop waits for each part when no budget bounds it; default 300 ms here */
    stopDeadlineMs?: number;
    /** the first batch comes back only after its partitions were revoked (a rebalance raced the poll) */
    revokeDuringFirstPoll?: boolean;
    /** a registry codec's decode and refresh in place of plain JSON */
    codec?: { readonly decode: (bytes: Uint8Array) => unknown; readonly refresh: () => Promise<void> };
  } = {},
) {
  const snapshots = new InMemorySnapshotStore();
  // a stop abandons what the actors did not process: their records stay uncommitted
  const system = createActorSystem({ name: "test", snapshots, stopTimeoutMs: 200 });
  const totals = new Map<string, Sum>();
  const woken: string[] = [];
  const deadLetters: DeadLetter[] = [];
  // the real log with one consumer call changed: a poll that never comes back (a group rejoin
  // that never settles), or commits that fail (the node died after the changelog flush)
  const withConsumer = (change: Partial<Consumer>): Log => ({
    ...log,
    createTopic: (spec) => log.createTopic(spec),
    consumer(consumerOptions) {
      const consumer = log.consumer(consumerOptions);
      return {
        assignment: () => consumer.assignment(),
        poll: (o) => consumer.poll(o),
        committed: (tp) => consumer.committed(tp),
        seek: (p) => consumer.seek(p),
        currentLag: (tp) => consumer.currentLag(tp),
        close: () => consumer.close(),
        commit: (offsets) => consumer.commit(offsets),
        ...change,
      };
    },
  });
  let revokedDuringPoll = false;
  const revoking = (): Log => ({
    ...log,
    createTopic: (spec) => log.createTopic(spec),
    consumer(consumerOptions) {
      const consumer = log.consumer(consumerOptions);
      return {
        assignment: () => consumer.assignment(),
        committed: (tp) => consumer.committed(tp),
        seek: (p) => consumer.seek(p),
        currentLag: (tp) => consumer.currentLag(tp),
        close: () => consumer.close(),
        commit: (offsets) => consumer.commit(offsets),
        async poll(o) {
          const records = await consumer.poll(o);
          if (records.length === 0 || revokedDuringPoll) return records;
          revokedDuringPoll = true;
          await consumerOptions.rebalance?.onRevoked?.(consumer.assignment());
          return records;
        },
      };
    },
  });
  const faulty: Log = options.revokeDuringFirstPoll
    ? revoking()
    : options.hangPolls
      ? withConsumer({ poll: () => new Promise(() => {}) })
      : options.failCommits
        ? withConsumer({
            commit: async () => {
              throw new PlatformError(ErrorCodes.LOG_BROKER_UNAVAILABLE, "the node died before committing");
            },
          })
        : log;
  let engine: RepartitionedAggregates | undefined;
  const props: Props<SumMessage, Sum> = {
    kind: "sum",
    passivateAfterMs: 600_000,
    ...(options.mailboxCapacity
      ? { mailbox: { capacity: options.mailboxCapacity, overflow: "backpressure" as const } }
      : {}),
    toSnapshot: (state) => ({ ...state }),
    initialState: (_key, snapshot) =>
      (snapshot as Sum | undefined) ?? { total: 0, records: 0, lastOffset: -1 },
    receive(ctx, message) {
      const state = ctx.state;
      const take = () => {
        if (message.type === "checkpoint") engine!.saveState("sum", ctx.key, { ...state });
        else if (message.type === "evict") ctx.stop();
        else if (message.type === "wake") woken.push(ctx.key);
        else if (message.offset > state.lastOffset) {
          state.lastOffset = message.offset;
          state.total += message.value;
          state.records++;
          totals.set(ctx.key, { ...state });
        }
      };
      const slow = options.slowFrom;
      if (message.type === "add" && slow && message.offset >= slow.offset) return slow.until.then(take);
      take();
    },
  };
  system.register(props);
  if (options.busyUntil) {
    const busyUntil = options.busyUntil;
    system.register<{ type: "work" }, null>({
      kind: "busy",
      initialState: () => null,
      receive: async () => {
        await busyUntil;
      },
    });
    system.tell("busy", "b", { type: "work" });
  }
  engine = new RepartitionedAggregates({
    log: faulty,
    groupId: "app-aggregates",
    partitions: 2,
    system,
    snapshots,
    commitIntervalMs: 0,
    stopDeadlineMs: options.stopDeadlineMs ?? 300,
    aggregates: [
      aggregateOf({
        topic: TOPIC,
        kind: "sum",
        store: await ChangelogStore.open({ log, applicationId: "app", kind: "sum", partitions: 2 }),
        decode: options.codec?.decode ?? ((bytes) => JSON.parse(new TextDecoder().decode(bytes)) as unknown),
        input: (value, offset): SumMessage => {
          if (typeof value !== "number") throw new PlatformError(ErrorCodes.SCHEMA_VIOLATION, "not a number");
          return { type: "add", value, offset };
        },
        wake: { type: "wake" },
      }),
    ],
    onDeadLetter: (letter) => deadLetters.push(letter),
    onTransientError: () => {},
    onError: (error) => {
      throw error;
    },
    ...(options.flushOutputs ? { flushOutputs: options.flushOutputs } : {}),
    ...(options.checkpointTimeoutMs ? { checkpointTimeoutMs: options.checkpointTimeoutMs } : {}),
    ...(options.codec ? { refreshSchemas: options.codec.refresh } : {}),
    now: Date.now,
  });
  await engine.start();
  return { engine, system, totals, deadLetters, woken };
}

const append = (log: Log, key: string, values: readonly unknown[]) =>
  log.append(
    values.map((value) => ({ topic: TOPIC, key, value: new TextEncoder().encode(JSON.stringify(value)) })),
  );

test("a restart resumes from the checkpoint and a replay from an older committed offset counts nothing twice", async () => {
  const log = openEmbeddedLog({ path: join(dir, "replay.db"), maintenanceIntervalMs: 0 });
  try {
    // first life: its state reaches the changelog, its commits never do
    const first = await startEngine(log, { failCommits: true });
    await append(log, "k", [1, 2, 3, 4, 5]);
    await eventually(
      () => first.totals.get("k")?.records ?? 0,
      (n) => n === 5,
    );
    await first.engine.stop().catch(() => {});
    await first.system.stop();
    expect((await log.groupOffsets("app-aggregates", TOPIC)).size).toBe(0);

    // second life: restores 5 records' state, reads all 5 again (nothing was committed), skips them
    const second = await startEngine(log);
    // a restored aggregate runs at once (its timers start), before any record reaches it:
    // regression, a drift monitor handed over with nothing more to read never evaluated again
    await eventually(
      () => second.woken.length,
      (n) => n >= 1,
    );
    expect(second.woken).toEqual(["k"]);
    await append(log, "k", [10, 20]);
    const sum = await eventually(
      () => second.totals.get("k"),
      (s) => (s?.records ?? 0) >= 7,
    );
    expect(sum).toEqual({ total: 45, records: 7, lastOffset: 6 });
    await second.engine.stop();
    await second.system.stop();
    expect([...(await log.groupOffsets("app-aggregates", TOPIC)).values()].reduce((a, b) => a + b, 0)).toBe(
      7,
    );
  } finally {
    await log.close();
  }
}, 30_000);

test("a checkpoint commits only after what the actors emitted is durable (the output flush)", async () => {
  // regression: the checkpoint saved state and committed while a final window the state says
  // was sent still waited in the output router; a crash then lost that window for good
  const log = openEmbeddedLog({ path: join(dir, "flush.db"), maintenanceIntervalMs: 0 });
  try {
    let release: () => void = () => {};
    let flushes = 0;
    const outputsDurable = new Promise<void>((resolve) => {
      release = resolve;
    });
    const engine = await startEngine(log, {
      flushOutputs: () => {
        flushes++;
        return outputsDurable;
      },
    });
    await append(log, "k", [1, 2]);
    await eventually(
      () => flushes,
      (n) => n >= 1,
    );
    await Bun.sleep(100);
    expect((await log.groupOffsets("app-aggregates", TOPIC)).size).toBe(0);
    release();
    expect(
      await eventually(
        async () =>
          [...(await log.groupOffsets("app-aggregates", TOPIC)).values()].reduce((a, b) => a + b, 0),
        (n) => n === 2,
        5_000,
      ),
    ).toBe(2);
    await engine.engine.stop();
    await engine.system.stop();
  } finally {
    await log.close();
  }
});

const committedOf = async (log: Log) =>
  [...(await log.groupOffsets("app-aggregates", TOPIC)).values()].reduce((a, b) => a + b, 0);

test("an actor of another kind that never goes idle does not hold the aggregates' checkpoints", async () => {
  // regression: the checkpoint waited for the whole actor system to drain, which on a node
  // holds the MQTT ingest and the alert router too; under 20k readings/s they were never idle,
  // so the per-type aggregates never committed and the stop's last checkpoint hit DRAIN_TIMEOUT
  const log = openEmbeddedLog({ path: join(dir, "busy-other.db"), maintenanceIntervalMs: 0 });
  let release: () => void = () => {};
  const busyUntil = new Promise<void>((resolve) => {
    release = resolve;
  });
  try {
    const engine = await startEngine(log, { busyUntil, checkpointTimeoutMs: 200 });
    await append(log, "k", [1, 2, 3]);
    expect(
      await eventually(
        () => committedOf(log),
        (n) => n === 3,
        5_000,
      ),
    ).toBe(3);
    release();
    await engine.engine.stop();
    await engine.system.stop();
  } finally {
    release();
    await log.close();
  }
});

test("an aggregate that does not answer in time skips the checkpoint; nothing is lost: the next one saves and commits it all", async () => {
  // regression: a checkpoint that timed out dropped its offsets and dirty actors, so the next
  // checkpoint committed past records whose actor's state was never saved
  const log = openEmbeddedLog({ path: join(dir, "busy.db"), maintenanceIntervalMs: 0 });
  try {
    let release: () => void = () => {};
    const until = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = await startEngine(log, { slowFrom: { offset: 0, until }, checkpointTimeoutMs: 200 });
    await append(log, "k", [1, 2, 3]);
    await eventually(
      () => first.engine.applied,
      (n) => n === 3,
    );
    await Bun.sleep(600); // several checkpoints ask and give up while the actor cannot answer
    expect((await log.groupOffsets("app-aggregates", TOPIC)).size).toBe(0);
    release();
    expect(
      await eventually(
        () => committedOf(log),
        (n) => n === 3,
        5_000,
      ),
    ).toBe(3);
    await first.engine.stop();
    await first.system.stop();

    // what was committed is backed by saved state: a restart counts 3 records, then a fourth
    const second = await startEngine(log);
    await append(log, "k", [4]);
    const sum = await eventually(
      () => second.totals.get("k"),
      (s) => (s?.records ?? 0) >= 4,
    );
    expect(sum).toEqual({ total: 10, records: 4, lastOffset: 3 });
    await second.engine.stop();
    await second.system.stop();
  } finally {
    await log.close();
  }
});

test("a stop under a backlog its actors cannot process in the budget ends within it; a restart counts every record once", async () => {
  // Kafka Streams' close(timeout): intake stops, what was processed is committed, the rest is
  // abandoned uncommitted and read again by the next life against the state saved last
  const log = openEmbeddedLog({ path: join(dir, "backlog.db"), maintenanceIntervalMs: 0 });
  const BUDGET_MS = 1_500;
  try {
    // offsets 0-99 are processed and committed; from 100 on the actor is stuck (never released
    // in this life), so 5,000 records wait in its mailbox when the stop comes
    const first = await startEngine(log, {
      slowFrom: { offset: 100, until: new Promise(() => {}) },
      // the loop's checkpoints give up at once, so it goes on handing the backlog out
      checkpointTimeoutMs: 50,
      // a node's default: only the budget bounds this stop
      stopDeadlineMs: 20_000,
    });
    const early = Array.from({ length: 100 }, (_, i) => i + 1);
    await append(log, "k", early);
    await eventually(
      () => committedOf(log),
      (n) => n === 100,
    );
    const backlog = Array.from({ length: 5_000 }, (_, i) => 1_000 + i);
    await append(log, "k", backlog);
    await eventually(
      () => first.engine.applied,
      (n) => n === 5_100,
    );
    const started = performance.now();
    const stopping = first.engine.stop(new StopBudget(BUDGET_MS));
    await expect(stopping).rejects.toMatchObject({ code: ErrorCodes.DRAIN_TIMEOUT });
    const tookMs = performance.now() - started;
    await first.system.stop();
    expect(tookMs).toBeLessThan(BUDGET_MS);
    // nothing of the backlog committed: the state saved last covers offsets 0-99 only
    expect(await committedOf(log)).toBe(100);

    // the next life replays the backlog against that state: each record counted once, as in
    // a run without the stop
    const second = await startEngine(log);
    const sum = await eventually(
      () => second.totals.get("k"),
      (s) => (s?.records ?? 0) >= 5_100,
      30_000,
    );
    const total = [...early, ...backlog].reduce((a, b) => a + b, 0);
    expect(sum).toEqual({ total, records: 5_100, lastOffset: 5_099 });
    await second.engine.stop();
    await second.system.stop();
    expect(await committedOf(log)).toBe(5_100);
  } finally {
    await log.close();
  }
}, 60_000);

test("records an actor's full mailbox refuses are read again, not dropped: every one counted once", async () => {
  // regression: a record told to a full mailbox was dropped while its offset was kept, so the
  // next checkpoint committed past it and it was never counted
  const log = openEmbeddedLog({ path: join(dir, "full-mailbox.db"), maintenanceIntervalMs: 0 });
  try {
    let release: () => void = () => {};
    const until = new Promise<void>((resolve) => {
      release = resolve;
    });
    const engine = await startEngine(log, {
      mailboxCapacity: 10,
      slowFrom: { offset: 0, until },
      checkpointTimeoutMs: 100,
    });
    const values = Array.from({ length: 200 }, (_, i) => i + 1);
    await append(log, "k", values);
    // the actor is stuck on its first record with 10 queued: the rest are refused and re-read
    await Bun.sleep(300);
    expect(engine.engine.applied).toBeLessThan(values.length);
    expect((await log.groupOffsets("app-aggregates", TOPIC)).size).toBe(0);
    release();
    const sum = await eventually(
      () => engine.totals.get("k"),
      (s) => (s?.records ?? 0) >= values.length,
    );
    expect(sum).toEqual({ total: 20_100, records: 200, lastOffset: 199 });
    expect(
      await eventually(
        () => committedOf(log),
        (n) => n === 200,
        5_000,
      ),
    ).toBe(200);
    await engine.engine.stop();
    await engine.system.stop();
  } finally {
    await log.close();
  }
});

test.each([
  ["a value of the wrong shape", '"seven"', ErrorCodes.SCHEMA_VIOLATION],
  ["a record that is not JSON", "{oops", ErrorCodes.DECODE_FAILED],
])("%s becomes a dead letter with its reason; the aggregate goes on", async (_name, raw, code) => {
  const log = openEmbeddedLog({ path: join(dir, `bad-${code}.db`), maintenanceIntervalMs: 0 });
  try {
    const engine = await startEngine(log);
    await log.append([{ topic: TOPIC, key: "k", value: new TextEncoder().encode(raw) }]);
    await append(log, "k", [3]);
    await eventually(
      () => engine.totals.get("k")?.total ?? 0,
      (n) => n === 3,
    );
    expect(engine.deadLetters.map((l) => l.code)).toEqual([code]);
    await engine.engine.stop();
    await engine.system.stop();
  } finally {
    await log.close();
  }
});

test("a stop gives up waiting for a poll that never comes back, and still leaves the group", async () => {
  const log = openEmbeddedLog({ path: join(dir, "hang.db"), maintenanceIntervalMs: 0 });
  try {
    const stuck = await startEngine(log, { hangPolls: true });
    const started = Date.now();
    const stopping = stuck.engine.stop();
    await expect(stopping).rejects.toMatchObject({ code: ErrorCodes.LOG_REBALANCE });
    expect(Date.now() - started).toBeLessThan(5_000);
    await stuck.system.stop();
    // the member left: another one gets the partitions and reads what was appended
    const next = await startEngine(log);
    await append(log, "k", [4]);
    await eventually(
      () => next.totals.get("k")?.total ?? 0,
      (n) => n === 4,
    );
    await next.engine.stop();
    await next.system.stop();
  } finally {
    await log.close();
  }
}, 30_000);

test("records handed out after their partition was revoked reach no actor: no fresh state without the partition's own", async () => {
  // regression (rolling restart): a record applied after its partition's actors were evicted
  // started a fresh actor, whose partial state the next checkpoint wrote over the real one
  const log = openEmbeddedLog({ path: join(dir, "revoked.db"), maintenanceIntervalMs: 0 });
  try {
    const engine = await startEngine(log, { revokeDuringFirstPoll: true });
    await append(log, "k", [1, 2, 3]);
    await Bun.sleep(300);
    expect(engine.totals.get("k")).toBeUndefined();
    await engine.engine.stop();
    await engine.system.stop();
  } finally {
    await log.close();
  }
}, 30_000);

test("a record framed with a schema another registry registered after this one opened is counted after one catch-up; an id no registry holds is a dead letter", async () => {
  const log = openEmbeddedLog({ path: join(dir, "schemas.db"), maintenanceIntervalMs: 0 });
  try {
    const here = await SchemaRegistry.open(log);
    const elsewhere = await SchemaRegistry.open(log);
    const { id } = await elsewhere.register(`${TOPIC}-value`, JSON.stringify({ type: "number" }), {
      schemaType: "JSON",
    });
    let refreshes = 0;
    const codec = registryCodec(new SchemaSerde(here), new Set());
    const { engine, system, totals, deadLetters } = await startEngine(log, {
      codec: {
        decode: codec.decode,
        refresh: async () => {
          refreshes++;
          await here.catchUp();
        },
      },
    });
    const framed = (schemaId: number, value: number) =>
      frame(schemaId, new TextEncoder().encode(String(value)));
    await log.append([
      { topic: TOPIC, key: "k", partition: 0, value: framed(id, 2) },
      { topic: TOPIC, key: "k", partition: 0, value: framed(id, 3) },
      { topic: TOPIC, key: "k", partition: 0, value: framed(id + 50, 4) },
    ]);
    await eventually(
      () => (totals.get("k")?.records ?? 0) + deadLetters.length,
      (n) => n === 3,
    );
    expect(totals.get("k")).toMatchObject({ total: 5, records: 2 });
    expect(deadLetters.map((d) => d.code)).toEqual([ErrorCodes.UNKNOWN_SCHEMA]);
    expect(refreshes).toBe(1);
    await engine.stop();
    await system.stop();
  } finally {
    await log.close();
  }
}, 30_000);
