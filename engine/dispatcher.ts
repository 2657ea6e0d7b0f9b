import type { Consumer, Log, LogRecord, TopicPartition } from "../log/log.ts";
import { plainReadingJsonStart } from "../messages/codec/record-codec.ts";
import type { SensorReadingRecord } from "../messages/codec/sensor-reading-record.ts";
import type { DeadLetter } from "../messages/dead-letter.ts";
import { ErrorCodes, isPlatformError, type PlatformError } from "../messages/errors.ts";
import type { HostInbound } from "../messages/host-protocol.ts";
import { Topics } from "../messages/topics.ts";
import { PartitionWatermarks } from "../stream/watermark/partition-watermarks.ts";
import { HeldRecords } from "./held-records.ts";
import type { PartitionHosts } from "./partition-hosts.ts";
import { ingestedAt, rawReading } from "./raw-reading.ts";
import type { StateRestorer } from "./state-restorer.ts";
import { STOP_DEADLINE_MS, type StopBudget, withinStopDeadline } from "./stop-deadline.ts";

/**
 * Log -> actors. One consumer group member per node reads `city.sensors.raw` and hands each record
 * to the worker that is its partition's home: a value the reading byte reader may read goes as it
 * is (the worker reads it, engine/worker-reading.ts, and reports each partition's event time with
 * its mark answers: `observeEventTimes`); anything else is decoded here once and sent as a reading.
 *
 * Commits follow Kafka Streams' commit interval: after each polled batch every worker that got
 * records gets a batch mark; every `commitIntervalMs` the marks are checkpoint marks, which make
 * the workers publish the state of every actor that changed (it goes to the changelogs). When
 * a checkpoint batch's marks are all back, its outputs and state are durable (OutputRouter
 * appends before it passes a mark on), and the offsets of it and every batch before it are
 * committed. Committed offsets and changelog state therefore always describe the same point.
 *
 * On assignment (start, rebalance) and after a worker restart, the partitions' state is restored
 * from the changelogs into the home worker before any of their records are sent; actors skip
 * records at or below the offset their state has seen, so a replay applies each record once.
 * Records that do not decode go to `city.sensors.raw.dlq` with the reason and the original
 * bytes, and are committed like any other (the consumer moves on).
 */
export interface DispatcherDeps {
  readonly log: Log;
  readonly hosts: PartitionHosts;
  readonly groupId: string;
  /** the input topic; default `city.sensors.raw` (a bench or a job of its own reads another) */
  readonly topic?: string;
  readonly memberId?: string;
  readonly maxInFlightBatches?: number;
  /** records per poll at most; default DEFAULT_POLL_RECORDS */
  readonly pollRecords?: number;
  /** how often state is checkpointed and offsets committed; default 1000 ms */
  readonly commitIntervalMs?: number;
  readonly state?: StateRestorer;
  /** decodes record values (Confluent framing + schema validation, or plain JSON) */
  readonly decode: (bytes: Uint8Array) => unknown;
  /**
   * catches `decode`'s registry up (RecordCodec's `refresh`): once per polled batch, before a
   * reading framed with a schema id it does not know is called a dead letter
   */
  readonly refreshSchemas?: () => Promise<void>;
  /** where a reading's JSON starts when the byte reader may read it (RecordCodec); default plain JSON only */
  readonly readingJsonStart?: (bytes: Uint8Array) => number;
  /**
   * the readings this job windows, as a Kafka Streams `filter` before its windows: the rest
   * count for event time and are committed with their batch, but are not sent to a worker;
   * default every reading. Readings the workers read are filtered there
   * (PartitionHostSetup.acceptTypes); this one judges those decoded here.
   */
  readonly accepts?: (reading: SensorReadingRecord) => boolean;
  /** an undecodable record, for the input topic's dead-letter topic */
  readonly onDeadLetter: (letter: DeadLetter, topic: string) => void;
  readonly onConsumed?: (count: number) => void;
  /** this member's partitions changed (rebalance): the node publishes who owns what */
  readonly onAssignment?: (partitions: readonly number[]) => void;
  /** the log was unavailable for a moment; the dispatcher retries */
  readonly onTransientError?: (error: PlatformError) => void;
  /**
   * event time across the member's partitions (bounded out-of-orderness; a partition read to
   * its end and quiet for idleTimeoutMs is left out), sent with every batch mark so windows of
   * silent keys close too; unset: no watermark
   */
  readonly watermark?: { readonly maxOutOfOrdernessMs: number; readonly idleTimeoutMs: number };
  /** a failure the dispatcher cannot wait out (a restore that cannot read its changelog) */
  readonly onError?: (error: unknown) => void;
  readonly now: () => number;
}

/** failures the dispatcher waits out instead of stopping */
const TRANSIENT: ReadonlySet<string> = new Set([
  ErrorCodes.LOG_BROKER_UNAVAILABLE,
  ErrorCodes.LOG_REBALANCE,
  ErrorCodes.INFRA_UNAVAILABLE,
]);

type Position = { topic: string; partition: number; offset: number };

const MAX_HELD_RECORDS = 100_000;
/**
 * Records per poll (Kafka's max.poll.records). A poll returns what is buffered at once and never
 * waits to fill up, so at a live feed's rate a batch stays as small as what arrived since the last
 * poll; the bound matters when a backlog is read. There a batch of 1,000 cost a batch mark and its
 * round trip per worker, a ring flush that woke the worker, and, the window actors' record cache
 * emitting once per burst, a window output per ~6 readings back across the ring (1,000 sensors):
 * 10,000 cut the main thread's CPU per record by about a fifth and the outputs by two thirds
 * (bench/RESULTS.md, raw consume, helper R).
 */
export const DEFAULT_POLL_RECORDS = 10_000;
/** how long a revocation or a stop waits for the in-flight batches at most */
const SETTLE_MS = 30_000;

interface InFlightBatch {
  readonly id: number;
  readonly checkpoint: boolean;
  readonly waitingFor: Set<number>;
  readonly nextOffsets: Map<string, Position>;
}

export class Dispatcher {
  private consumer: Consumer | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private nextBatch = 1;
  private readonly inFlight: InFlightBatch[] = [];
  /** offsets of completed batches, committed at the next completed checkpoint */
  private readonly uncommitted = new Map<string, Position>();
  private lastCheckpointAt = 0;
  private batchDone: (() => void) | undefined;
  /** replay and rebalance work holds the loop here so no record overtakes a restore */
  private gate: Promise<void> = Promise.resolve();
  /** the loop's current step (poll and dispatch); a replay starts only between steps */
  private step: Promise<void> = Promise.resolve();
  /** crashed workers, until their replay: their records are not sent (the replay reads them again) */
  private readonly lostWorkers = new Set<number>();
  /** the input partitions this member owns now */
  private readonly owned = new Set<number>();
  /** records of partitions whose state is being restored */
  private readonly held = new HeldRecords();
  /**
   * the restore each restoring partition waits for: a partition revoked and assigned again
   * while its first restore still ran has a second one, and only that one may release its
   * records (regression: the first restore's end released them before the second restore's
   * state was in the worker, and the windows started again without their state)
   */
  private readonly restoring = new Map<number, symbol>();
  private restores: Promise<void> = Promise.resolve();
  private watermarks: PartitionWatermarks | undefined;
  /** the first batch whose workers' event times count (those of records sent before a reset do not) */
  private eventTimesFrom = 1;
  /** the event time the last batch marks carried */
  private sentEventTime = Number.NEGATIVE_INFINITY;
  /** stopped: the leave's revocation waits for no batch more (what is in flight is replayed) */
  private settleWithinMs: number | undefined;
  private checkpointRequested = false;
  consumed = 0;
  committed = 0;

  constructor(private readonly deps: DispatcherDeps) {
    this.resetWatermark();
  }

  /**
   * Event time starts again from the records dispatched from now on. Called when partitions are
   * read again from their committed offsets (a replay, an assignment): a watermark from before
   * would close windows ahead of the older records about to come again.
   */
  private resetWatermark(): void {
    const options = this.deps.watermark;
    // idle only when read to its end (Kafka Streams' max.task.idle.ms): a partition whose records
    // are late to come (a busy broker, a backlog after a stall or a restart) is waited for
    this.watermarks =
      options &&
      new PartitionWatermarks(options.maxOutOfOrdernessMs, options.idleTimeoutMs, {
        lagOf: (partition) => this.lagOf(partition),
      });
    // every partition read from here on holds event time back until it sends or goes idle
    for (const partition of this.owned) this.watermarks?.expect(partition, this.deps.now());
    this.eventTimesFrom = this.nextBatch;
    this.sentEventTime = Number.NEGATIVE_INFINITY;
  }

  /**
   * A worker's event times of the readings it read before a batch mark (raw readings are read in
   * the workers, engine/worker-reading.ts): [partition, highest event time] pairs. They move event
   * time as the dispatcher's own reading of them did, one batch later: the marks sent after this
   * carry it, behind every reading it covers. Those of records sent before event time started
   * again (a replay, an assignment) and of partitions no longer owned here are left out.
   */
  observeEventTimes(batch: number, times: readonly number[]): void {
    const watermarks = this.watermarks;
    if (watermarks === undefined || batch < this.eventTimesFrom) return;
    const now = this.deps.now();
    for (let i = 0; i + 1 < times.length; i += 2) {
      const partition = times[i]!;
      if (this.owned.has(partition)) watermarks.observe(partition, times[i + 1]!, now);
    }
  }

  /**
   * How far the records dispatched so far are behind a partition's end on the log: the
   * consumer's lag, plus the partition's records polled but held during its restore; unknown
   * while its worker is down (what was polled for it meanwhile is read again by the replay).
   */
  private lagOf(partition: number): number | undefined {
    if (this.lostWorkers.has(this.deps.hosts.workerOf(partition))) return undefined;
    const lag = this.consumer?.currentLag({ topic: this.topic, partition });
    return lag === undefined ? undefined : lag + this.held.heldOf(partition);
  }

  private get topic(): string {
    return this.deps.topic ?? Topics.sensorsRaw;
  }

  /**
   * The next batch mark is a checkpoint, whatever the commit interval says (Kafka Streams'
   * `ProcessorContext.commit()`: a commit requested, made at the next safe point by the same
   * rule): its outputs, state and offsets become durable together, as at any checkpoint. The
   * request covers every record polled before it: while some wait for their partition's
   * restore, the checkpoints go on until one follows them.
   */
  requestCheckpoint(): void {
    this.checkpointRequested = true;
    this.batchDone?.();
  }

  start(): void {
    this.consumer = this.deps.log.consumer({
      groupId: this.deps.groupId,
      topics: [this.topic],
      startFrom: "earliest",
      ...(this.deps.memberId ? { memberId: this.deps.memberId } : {}),
      rebalance: {
        onRevoked: (partitions) => this.revoke(partitions.map((tp) => tp.partition)),
        onAssigned: (partitions) => this.assign(partitions.map((tp) => tp.partition)),
        onLost: (partitions) => this.lose(partitions.map((tp) => tp.partition)),
      },
    });
    this.running = true;
    this.loop = this.run();
  }

  /** a worker answered a batch mark */
  markDone(worker: number, batch: number): void {
    const entry = this.inFlight.find((b) => b.id === batch);
    if (!entry) return;
    entry.waitingFor.delete(worker);
    this.batchDone?.();
  }

  /**
   * A worker crashed: nothing more goes to it until its replay, and nothing of its partitions
   * past the last checkpoint may be committed any more. Its in-flight records and unsaved state
   * died with it; records of its partitions polled while it is down are not sent, so their
   * offsets must not be committed either, or the replay would start past them (the reading
   * lost after a worker crash: regression test in test/node/dispatcher.test.ts).
   */
  workerLost(worker: number): void {
    this.lostWorkers.add(worker);
    this.forgetOffsetsOf(worker);
  }

  private forgetOffsetsOf(worker: number): void {
    const ownedBy = (position: Position) => this.deps.hosts.workerOf(position.partition) === worker;
    for (const batch of this.inFlight) {
      batch.waitingFor.delete(worker);
      for (const [key, position] of batch.nextOffsets) if (ownedBy(position)) batch.nextOffsets.delete(key);
    }
    for (const [key, position] of this.uncommitted) if (ownedBy(position)) this.uncommitted.delete(key);
    this.batchDone?.();
  }

  /**
   * A restarted worker: restore its partitions' state, then read them again from the committed
   * offsets. The replay waits for the loop's current step and holds the next one, so no record
   * polled before the seek can reach the worker ahead of the replayed older ones (the actors
   * would skip those as already applied).
   */
  replayWorker(worker: number): Promise<void> {
    const run = Promise.all([this.gate, this.step]).then(async () => {
      const consumer = this.consumer;
      if (!consumer) return;
      this.forgetOffsetsOf(worker);
      const partitions = consumer
        .assignment()
        .filter((tp) => this.deps.hosts.workerOf(tp.partition) === worker);
      await this.restore(partitions.map((tp) => tp.partition));
      for (const tp of partitions) consumer.seek({ ...tp, offset: (await consumer.committed(tp)) ?? 0 });
      this.resetWatermark();
      this.lostWorkers.delete(worker);
    });
    this.gate = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Within `budget` (engine/stop-deadline.ts): batches the workers have not finished by then are
   * abandoned with their offsets uncommitted, and read again by the partitions' next owner.
   */
  async stop(budget?: StopBudget): Promise<void> {
    this.running = false;
    const group = this.deps.groupId;
    const forWork = () => Math.min(STOP_DEADLINE_MS, budget?.forWorkMs() ?? STOP_DEADLINE_MS);
    try {
      await withinStopDeadline(this.restores, `the restores of ${group}`, forWork()); // failures went to onError
      this.batchDone?.();
      await withinStopDeadline(this.loop ?? Promise.resolve(), `the ${group} poll loop`, forWork());
      await this.settle(Math.min(SETTLE_MS, forWork()));
    } finally {
      this.settleWithinMs = 0;
      // a member that gives up waiting still leaves: its uncommitted records are read again
      const closeMs = Math.min(STOP_DEADLINE_MS, budget?.forCloseMs() ?? STOP_DEADLINE_MS);
      await withinStopDeadline(this.consumer?.close() ?? Promise.resolve(), `leaving ${group}`, closeMs);
    }
  }

  /**
   * Checkpoint, wait for every in-flight batch, and commit (shutdown, partitions revoked). A
   * commit that fails does not end the wait: the checkpoint's state must be flushed before the
   * partitions' actors go, or it could reach the changelog after the next owner's newer state.
   */
  private async settle(withinMs = this.settleWithinMs ?? SETTLE_MS): Promise<void> {
    const last = this.inFlight.at(-1);
    if ((last && !last.checkpoint) || (!last && this.uncommitted.size > 0))
      await this.sendBatchMarks(new Set(), true);
    const deadline = this.deps.now() + withinMs;
    let failure: unknown;
    const commit = () =>
      this.commitCompleted().catch((error: unknown) => {
        failure ??= error;
      });
    while (this.inFlight.length > 0 && this.deps.now() < deadline) {
      await commit();
      if (this.inFlight.length > 0) await this.waitForBatch(100);
    }
    await commit();
    if (failure !== undefined) throw failure;
  }

  /**
   * Partitions given to this member: their state is restored in the background while the
   * records of every other partition keep flowing; a restoring partition's records are held
   * (and not committed) until its state is in its worker.
   */
  private assign(partitions: readonly number[]): void {
    for (const partition of partitions) this.owned.add(partition);
    this.resetWatermark();
    this.deps.onAssignment?.([...this.owned].sort((a, b) => a - b));
    if (!this.deps.state) return;
    for (const partition of partitions) {
      this.held.start(partition);
      const token = Symbol(`restore of partition ${partition}`);
      this.restoring.set(partition, token);
      // issued together: the state store decides how many read at once, and each partition
      // flows as soon as its own state is back
      const restore = this.restoreHolding(partition, token).catch((error: unknown) =>
        this.deps.onError?.(error),
      );
      this.restores = Promise.all([this.restores, restore]).then(() => undefined);
    }
  }

  private async restoreHolding(partition: number, token: symbol): Promise<void> {
    const current = () =>
      this.running && this.owned.has(partition) && this.restoring.get(partition) === token;
    for (let attempt = 0; current(); attempt++) {
      try {
        // a restore overtaken by a later one sends nothing more: its older state could land
        // in the worker after the newer restore's
        await this.restore([partition], current);
        break;
      } catch (error) {
        // a log that is away is waited for; the partition's records stay held meanwhile
        if (!isPlatformError(error) || !TRANSIENT.has(error.code)) throw error;
        this.deps.onTransientError?.(error);
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
    // revoked, stopped, or overtaken by the restore of a later assignment: its records are not ours to release
    if (!current()) return;
    this.restoring.delete(partition);
    this.held.finish(partition);
    this.batchDone?.();
  }

  /**
   * Partitions taken away: save and commit what they did, then stop their actors here.
   * They stop being owned first, before anything is awaited: the loop may be halfway through
   * dispatching a polled batch (waiting for ring space), and a record of a revoked partition
   * sent after its actors were evicted would start a fresh actor without the partition's state,
   * whose partial state the next checkpoint wrote to the changelog over the real one (the
   * partial windows of a rolling restart: regression test in test/engine/dispatcher.test.ts).
   */
  private async revoke(partitions: readonly number[]): Promise<void> {
    for (const partition of partitions) this.owned.delete(partition);
    try {
      await this.settle();
    } catch (error) {
      // not committed (a rebalance met the commit): the actors are evicted all the same, their
      // state is in the changelog and the next owner replays from the last commit against it
      if (isPlatformError(error) && TRANSIENT.has(error.code)) this.deps.onTransientError?.(error);
      else this.deps.onError?.(error);
    }
    await this.evict(partitions);
  }

  /** the partitions' actors leave their workers; their held records and event time go too */
  private async evict(partitions: readonly number[]): Promise<void> {
    const byWorker = new Map<number, number[]>();
    for (const partition of partitions) {
      const worker = this.deps.hosts.workerOf(partition);
      byWorker.set(worker, [...(byWorker.get(worker) ?? []), partition]);
    }
    for (const [worker, owned] of byWorker) await this.send(worker, { type: "evict", partitions: owned });
    this.deps.hosts.flush();
    for (const partition of partitions) {
      this.owned.delete(partition);
      this.held.drop(partition);
      this.restoring.delete(partition);
      this.watermarks?.forget(partition);
    }
    this.deps.onAssignment?.([...this.owned].sort((a, b) => a - b));
  }

  /**
   * Partitions lost: this member was fenced (its session expired while it was busy) and the
   * group already gave them to another, who restored their state and reads from the last commit.
   * Nothing of theirs is checkpointed, flushed or committed here any more: a late write of this
   * member's state would land in the changelog over the new owner's. Their actors go.
   */
  private async lose(partitions: readonly number[]): Promise<void> {
    const lost = new Set(partitions);
    for (const partition of partitions) this.owned.delete(partition);
    this.deps.state?.discard?.(partitions);
    const ofLost = (position: Position) => lost.has(position.partition);
    for (const batch of this.inFlight)
      for (const [key, position] of batch.nextOffsets) if (ofLost(position)) batch.nextOffsets.delete(key);
    for (const [key, position] of this.uncommitted) if (ofLost(position)) this.uncommitted.delete(key);
    await this.evict(partitions);
  }

  private async restore(
    partitions: readonly number[],
    stillWanted: () => boolean = () => true,
  ): Promise<void> {
    if (!this.deps.state || partitions.length === 0) return;
    const { hosts } = this.deps;
    await this.deps.state.restore(partitions, async (partition, kind, key, state) => {
      if (!stillWanted()) return;
      const worker = hosts.workerOf(partition);
      await this.send(worker, { type: "restore", kind, key, partition, state });
    });
    hosts.flush();
  }

  /** `unlessLost`: give up when that worker crashes meanwhile (its full ring never drains) */
  private async send(worker: number, message: HostInbound, unlessLost?: number): Promise<void> {
    const { hosts } = this.deps;
    while (!hosts.sendControl(worker, message)) {
      if (unlessLost !== undefined && this.lostWorkers.has(unlessLost)) return;
      hosts.flush();
      await hosts.waitForSpace(worker, 100);
    }
  }

  private waitForBatch(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.batchDone = undefined;
        resolve();
      }, timeoutMs);
      this.batchDone = () => {
        clearTimeout(timer);
        this.batchDone = undefined;
        resolve();
      };
    });
  }

  private async commitCompleted(): Promise<void> {
    // Only offsets up to the newest completed checkpoint are covered by saved state; batches
    // completed after it wait for the next checkpoint.
    let toCommit: Map<string, Position> | undefined;
    while (this.inFlight.length > 0 && this.inFlight[0]!.waitingFor.size === 0) {
      const batch = this.inFlight.shift()!;
      for (const [key, position] of batch.nextOffsets) this.uncommitted.set(key, position);
      if (batch.checkpoint) {
        // two checkpoints back in one pass: the later one's commit carries the earlier one's
        // positions too (regression: it replaced them, and a partition that had no records
        // after the first was never committed again: its lag stayed, and a job waiting for its
        // last offsets waited for ever)
        toCommit ??= new Map();
        for (const [key, position] of this.uncommitted) toCommit.set(key, position);
        this.uncommitted.clear();
      }
    }
    if (!toCommit || toCommit.size === 0 || !this.consumer) return;
    const owned = new Set(
      this.consumer.assignment().map((tp: TopicPartition) => `${tp.topic}/${tp.partition}`),
    );
    const offsets = [...toCommit.entries()].filter(([key]) => owned.has(key)).map(([, position]) => position);
    if (offsets.length === 0) return;
    try {
      await this.consumer.commit(offsets);
    } catch (error) {
      // not committed: keep them for the next checkpoint, unless a newer position took their place
      for (const position of offsets) {
        const key = `${position.topic}/${position.partition}`;
        if (!this.uncommitted.has(key)) this.uncommitted.set(key, position);
      }
      throw error;
    }
    this.committed += offsets.length;
  }

  /**
   * The poll loop. A broker that is away (restarting) is waited out: failed polls and commits
   * are retried with a back-off, and an offset that failed to commit stays pending, so nothing
   * is committed ahead of its state and nothing is skipped. Other failures stop the loop.
   */
  private async run(): Promise<void> {
    let backoffMs = 100;
    while (this.running) {
      try {
        await this.runUntilFailure();
      } catch (error) {
        if (!isPlatformError(error) || !TRANSIENT.has(error.code)) throw error;
        this.deps.onTransientError?.(error);
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(2000, backoffMs * 2);
      }
    }
  }

  private async runUntilFailure(): Promise<void> {
    const consumer = this.consumer!;
    const maxInFlight = this.deps.maxInFlightBatches ?? 64;
    while (this.running) {
      // a replay scheduled while we waited moves the gate: wait for that one too
      let gate: Promise<void>;
      do {
        gate = this.gate;
        await gate;
      } while (gate !== this.gate);
      if (!this.running) break;
      const step = this.runStep(consumer, maxInFlight);
      this.step = step.then(
        () => undefined,
        () => undefined,
      );
      await step;
    }
  }

  private async runStep(consumer: Consumer, maxInFlight: number): Promise<void> {
    await this.commitCompleted();
    const released = this.held.release((partition) => this.owned.has(partition));
    if (released.length > 0) {
      await this.dispatch(released);
      return;
    }
    // restores are slow to finish: bound what waits for them, and poll again later
    if (this.inFlight.length >= maxInFlight || this.held.size > MAX_HELD_RECORDS) {
      await this.waitForBatch(50);
      return;
    }
    const records = await consumer.poll({
      maxRecords: this.deps.pollRecords ?? DEFAULT_POLL_RECORDS,
      timeoutMs: 50,
    });
    if (records.length === 0) {
      // a quiet stream still checkpoints, so its last records are committed
      const eventTimeMoved = this.watermarks?.checkIdle(this.deps.now()) ?? false;
      if (this.uncommitted.size > 0 && this.inFlight.length === 0 && this.checkpointDue())
        await this.sendBatchMarks(new Set(), true);
      // a partition went idle, or the workers' event times moved it: every worker hears it
      else if (eventTimeMoved || (this.watermarks?.current ?? Number.NEGATIVE_INFINITY) > this.sentEventTime)
        await this.sendBatchMarks(
          new Set(Array.from({ length: this.deps.hosts.workers }, (_, w) => w)),
          false,
        );
      return;
    }
    await this.dispatch(records);
  }

  private checkpointDue(): boolean {
    if (this.checkpointRequested) return true;
    return this.deps.now() - this.lastCheckpointAt >= (this.deps.commitIntervalMs ?? 1000);
  }

  private async dispatch(records: readonly LogRecord[]): Promise<void> {
    const { hosts } = this.deps;
    const workers = new Set<number>();
    const nextOffsets = new Map<string, Position>();
    const now = this.deps.now(); // one clock read per batch, not per record
    // A batch comes in runs of one partition: its next offset is kept in one position per run,
    // not a key string and a position per record, and one dead-letter callback serves the batch
    // (each was an allocation per record).
    let runTopic = "";
    let runPartition = -1;
    let runKey = "";
    let position: Position | undefined;
    const toDeadLetters = (letter: DeadLetter) => this.deps.onDeadLetter(letter, runTopic);
    // one registry catch-up per batch covers all its records (each schema was registered before
    // its record was appended): until it ran, an unknown schema id is not yet a dead letter
    let schemasCaughtUp = this.deps.refreshSchemas === undefined;
    let unknownSchema = false;
    const toDeadLettersOnceCaughtUp = (letter: DeadLetter) => {
      if (letter.code === ErrorCodes.UNKNOWN_SCHEMA) unknownSchema = true;
      else toDeadLetters(letter);
    };
    const { accepts } = this.deps;
    const readingJsonStart = this.deps.readingJsonStart ?? plainReadingJsonStart;
    const readsInWorkers = hosts.sendRawReading !== undefined;
    for (const record of records) {
      // revoked while this batch was polled or dispatched: its next owner reads it again
      if (!this.owned.has(record.partition)) continue;
      if (this.held.hold(record)) continue;
      const worker = hosts.workerOf(record.partition);
      // not sent: its worker is down, and the replay reads it again from the committed offset
      if (this.lostWorkers.has(worker)) continue;
      if (position === undefined || record.partition !== runPartition || record.topic !== runTopic) {
        runTopic = record.topic;
        runPartition = record.partition;
        runKey = `${runTopic}/${runPartition}`;
        position = nextOffsets.get(runKey);
        if (position === undefined) {
          position = { topic: runTopic, partition: runPartition, offset: 0 };
          nextOffsets.set(runKey, position);
        }
      }
      position.offset = record.offset + 1;
      // a value the byte reader may read goes to its worker as it is: read there, off this thread
      const jsonStart = readsInWorkers && record.value !== null ? readingJsonStart(record.value) : -1;
      if (jsonStart >= 0) {
        const value = record.value!;
        const at = ingestedAt(record);
        while (
          this.sendable(worker, record.partition) &&
          !hosts.sendRawReading!(worker, record.partition, record.offset, at, value, jsonStart)
        ) {
          hosts.flush();
          await hosts.waitForSpace(worker, 100);
        }
        if (!this.sendable(worker, record.partition)) {
          nextOffsets.delete(runKey);
          position = undefined;
          continue;
        }
        workers.add(worker);
        continue;
      }
      const onDeadLetter = schemasCaughtUp ? toDeadLetters : toDeadLettersOnceCaughtUp;
      let reading = rawReading(record, this.deps.decode, onDeadLetter, now, this.deps.readingJsonStart);
      if (unknownSchema) {
        unknownSchema = false;
        schemasCaughtUp = true;
        await this.deps.refreshSchemas?.();
        reading = rawReading(record, this.deps.decode, toDeadLetters, now, this.deps.readingJsonStart);
      }
      if (!reading) continue;
      this.watermarks?.observe(record.partition, reading.eventTime, now);
      if (accepts !== undefined && !accepts(reading)) continue;
      // a worker that crashes while its ring is full never makes space: stop waiting for it;
      // nor for a partition revoked meanwhile (its actors are gone from the worker)
      while (this.sendable(worker, record.partition) && !hosts.sendReading(worker, reading)) {
        hosts.flush();
        await hosts.waitForSpace(worker, 100);
      }
      if (!this.sendable(worker, record.partition)) {
        nextOffsets.delete(runKey);
        position = undefined; // a later record of the partition starts its position again
        continue;
      }
      workers.add(worker);
    }
    await this.sendBatchMarks(workers, this.checkpointDue(), nextOffsets);
    this.consumed += records.length;
    this.deps.onConsumed?.(records.length);
  }

  private sendable(worker: number, partition: number): boolean {
    return !this.lostWorkers.has(worker) && this.owned.has(partition);
  }

  /** marks for one batch; a checkpoint goes to every worker, since any may hold changed state */
  private async sendBatchMarks(
    workers: Set<number>,
    checkpoint: boolean,
    nextOffsets: Map<string, Position> = new Map(),
  ): Promise<void> {
    const { hosts } = this.deps;
    const batch: InFlightBatch = { id: this.nextBatch++, checkpoint, waitingFor: new Set(), nextOffsets };
    this.watermarks?.checkIdle(this.deps.now());
    const eventTime = this.watermarks?.current ?? Number.NEGATIVE_INFINITY;
    const watermark = Number.isFinite(eventTime) ? eventTime : undefined;
    this.sentEventTime = eventTime;
    const targets = checkpoint ? Array.from({ length: hosts.workers }, (_, worker) => worker) : [...workers];
    // the batch is known before its first mark leaves: an answer may come back at once
    for (const worker of targets) if (!this.lostWorkers.has(worker)) batch.waitingFor.add(worker);
    this.inFlight.push(batch);
    if (checkpoint) {
      this.lastCheckpointAt = this.deps.now();
      // a request covers the records polled before it: it stands while some wait for a restore
      if (this.held.size === 0) this.checkpointRequested = false;
    }
    for (const worker of [...batch.waitingFor])
      if (!this.lostWorkers.has(worker))
        await this.send(
          worker,
          { type: "mark", batch: batch.id, checkpoint, ...(watermark === undefined ? {} : { watermark }) },
          worker,
        );
    hosts.flush();
  }
}
