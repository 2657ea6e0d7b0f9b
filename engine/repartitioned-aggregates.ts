import type { StateStore } from "../log/changelog/state-store.ts";
import type { Consumer, Log, LogRecord, TopicPartition } from "../log/log.ts";
import { type DeadLetter, deadLetter } from "../messages/dead-letter.ts";
import { ErrorCodes, isPlatformError, PlatformError } from "../messages/errors.ts";
import { partitionFor } from "../messages/murmur2.ts";
import type { ActorSystem, SnapshotStore } from "../supervisor/index.ts";
import { STOP_DEADLINE_MS, type StopBudget, withinStopDeadline } from "./stop-deadline.ts";

/**
 * Aggregates with exactly one owner in the application, the way Kafka Streams runs an
 * aggregation after a re-key: every node appends the records, keyed by the aggregate's key, to a
 * repartition topic (`<app>-<name>-repartition`); one consumer group divides that topic's
 * partitions among the nodes, and the member that owns a partition runs the aggregates of its
 * keys as actors, here on the main thread. Two nodes therefore produce one per-type window and
 * one drift report stream, not two partial ones.
 *
 * Exactly-once counting, as for the per-sensor windows:
 * - each record reaches its actor with its partition and offset; the actor keeps the offset it
 *   applied last in its state and skips a replayed record at or below it;
 * - every `commitIntervalMs` the actors that changed publish their state (`saveState`), the state
 *   goes to a compacted changelog (`<app>.<kind>.changelog`, partition = repartition partition),
 *   and only then are the input offsets committed. The checkpoint message is a barrier, as in
 *   Flink: it reaches each changed actor behind the records it was sent (a mailbox is FIFO), so
 *   its answer covers them all. Only those actors are waited for, not the whole actor system:
 *   the system they share on the main thread also runs the MQTT ingest and the alert router,
 *   which under sustained load are never idle, and a checkpoint that waited for the system to
 *   drain never completed at 20k readings/s (nor did the stop's last one, DRAIN_TIMEOUT);
 * - on assignment a partition's state is read back into the actor system's snapshot store before
 *   any of its records is handed out, so an actor starts from the checkpoint; on revocation the
 *   partition is checkpointed and committed, then its actors stop.
 */
export interface AggregateSpec {
  /** the repartition topic this aggregate reads */
  readonly topic: string;
  /** the actor kind (registered in `system`, passivating so that it loads restored state) */
  readonly kind: string;
  readonly store: StateStore;
  /** a record's value to the actor's message; throws a PlatformError for a value it cannot take */
  readonly message: (value: Uint8Array, position: { partition: number; offset: number }) => unknown;
  /** the message that asks an actor for its state (it answers through `saveState`) */
  readonly checkpoint: unknown;
  /** the message that stops an actor whose partition moved away */
  readonly evict: unknown;
  /** sent to each restored actor so it runs (its timers start) before its next record */
  readonly wake?: unknown;
}

/** what the engine tells every aggregate actor: save your state (`checkpoint`), stop (`evict`) */
export type AggregateLifecycle = { readonly type: "checkpoint" } | { readonly type: "evict" };

/**
 * An aggregate whose actor kind takes the engine's lifecycle messages as its own (its message
 * union holds `checkpoint` and `evict`) and reads a repartition topic whose records `decode`
 * turns into values that `input` makes its message.
 */
export function aggregateOf<M>(
  spec: {
    readonly topic: string;
    readonly kind: string;
    readonly store: StateStore;
    readonly decode: (bytes: Uint8Array) => unknown;
    /** a decoded record to the actor's message; throws a PlatformError for one it cannot take */
    readonly input: (value: unknown, offset: number) => M;
    readonly wake?: NoInfer<M>;
  } & (AggregateLifecycle extends M ? unknown : { readonly lifecycle: "checkpoint and evict are M's" }),
): AggregateSpec {
  const { decode, input } = spec;
  return {
    topic: spec.topic,
    kind: spec.kind,
    store: spec.store,
    message: (bytes, { offset }) => input(decode(bytes), offset),
    checkpoint: { type: "checkpoint" } satisfies AggregateLifecycle,
    evict: { type: "evict" } satisfies AggregateLifecycle,
    ...(spec.wake === undefined ? {} : { wake: spec.wake }),
  };
}

export interface RepartitionedAggregatesDeps {
  readonly log: Log;
  readonly groupId: string;
  readonly memberId?: string;
  readonly partitions: number;
  readonly system: ActorSystem;
  readonly snapshots: SnapshotStore;
  readonly aggregates: readonly AggregateSpec[];
  readonly commitIntervalMs: number;
  /** how long a stop waits for the poll loop, the last checkpoint and the leave; default 20 s */
  readonly stopDeadlineMs?: number;
  /** a record that does not decode, for the topic's dead letters */
  readonly onDeadLetter: (letter: DeadLetter, topic: string) => void;
  /**
   * catches the registry the specs decode with up (RecordCodec's `refresh`): once per poll,
   * before a record framed with a schema id it does not know is called a dead letter
   */
  readonly refreshSchemas?: () => Promise<void>;
  readonly onTransientError?: (error: PlatformError) => void;
  readonly onError: (error: unknown) => void;
  readonly now: () => number;
  /**
   * makes what the actors emitted so far durable (the output router's flush); a checkpoint waits
   * for it before it saves state and commits, or a crash right after the commit would lose
   * outputs (a final window) that the saved state says were sent
   */
  readonly flushOutputs?: () => Promise<void>;
  /** how long a checkpoint waits for the changed actors' answers; default 30 s */
  readonly checkpointTimeoutMs?: number;
}

const TRANSIENT: ReadonlySet<string> = new Set([
  ErrorCodes.LOG_BROKER_UNAVAILABLE,
  ErrorCodes.LOG_REBALANCE,
  ErrorCodes.INFRA_UNAVAILABLE,
  // the changed actors did not answer a checkpoint in time: it is tried again later
  ErrorCodes.DRAIN_TIMEOUT,
]);

const slotOf = (tp: TopicPartition) => `${tp.topic}/${tp.partition}`;

const UNKNOWN_SCHEMA_YET = "unknown schema yet";

/** how long the loop lets actors whose mailboxes were full make room before it reads again */
const REFUSED_BACKOFF_MS = 20;

export class RepartitionedAggregates {
  private consumer: Consumer | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly byTopic: ReadonlyMap<string, AggregateSpec>;
  private readonly byKind: ReadonlyMap<string, AggregateSpec>;
  /** next offset to commit per owned topic partition, once the state covering it is saved */
  private readonly uncommitted = new Map<string, { topic: string; partition: number; offset: number }>();
  /** actors that applied a record since the last checkpoint */
  private readonly dirty = new Map<string, { spec: AggregateSpec; key: string }>();
  /** which keys each owned partition has here, to stop them when it moves away */
  private readonly keysOf = new Map<string, Set<string>>();
  /**
   * partitions assigned and not revoked: a record polled before its partition was revoked and
   * applied after would start a fresh actor there, and its partial state would reach the
   * changelog over the real one (the dispatcher's rule too: engine/dispatcher.ts revoke)
   */
  private readonly owned = new Set<string>();
  /**
   * checkpoint messages sent to each actor and not answered yet. An answer (`saveState`) cannot
   * say which checkpoint it is for, but a mailbox is FIFO: an actor has answered the checkpoint
   * sent last once it owes none, so an older checkpoint's late answer never stands for a newer
   * one (it only brings the debt down by one)
   */
  private readonly owed = new Map<string, number>();
  /** the checkpoint waiting for answers: the actors that still owe one, and its wake-up */
  private waiting:
    | {
        readonly actors: Set<string>;
        readonly answered: () => void;
        readonly abandoned: (error: PlatformError) => void;
      }
    | undefined;
  /** set by stop(): the checkpoints of the group's leave (a revocation) take no more than is left */
  private stopping: { readonly forWorkMs: () => number } | undefined;
  private lastCheckpointAt = 0;
  private checkpointing: Promise<void> = Promise.resolve();
  applied = 0;

  constructor(private readonly deps: RepartitionedAggregatesDeps) {
    this.byTopic = new Map(deps.aggregates.map((spec) => [spec.topic, spec]));
    this.byKind = new Map(deps.aggregates.map((spec) => [spec.kind, spec]));
  }

  /** topics exist (with the partitions the changelogs have) before the group reads them */
  async start(): Promise<void> {
    for (const spec of this.deps.aggregates)
      await this.deps.log.createTopic({ name: spec.topic, partitions: this.deps.partitions });
    this.consumer = this.deps.log.consumer({
      groupId: this.deps.groupId,
      topics: this.deps.aggregates.map((spec) => spec.topic),
      startFrom: "earliest",
      ...(this.deps.memberId ? { memberId: this.deps.memberId } : {}),
      rebalance: {
        onAssigned: (partitions) => this.restore(partitions),
        onRevoked: (partitions) => this.revoke(partitions),
        // fenced: the next owner has them already; nothing of theirs is saved or committed here
        onLost: (partitions) => this.evict(partitions),
      },
    });
    this.running = true;
    this.loop = this.run();
  }

  /** the partition a key's records and state live in */
  partitionOf(key: string): number {
    return partitionFor(key, this.deps.partitions);
  }

  /**
   * an actor's state at a checkpoint, once per checkpoint message and only then (an answer
   * counts against the checkpoints it owes); `kind` and `key` name the actor
   */
  saveState(kind: string, key: string, state: unknown): void {
    this.byKind.get(kind)?.store.put(this.partitionOf(key), key, state);
    const actor = `${kind}/${key}`;
    const owed = (this.owed.get(actor) ?? 0) - 1;
    if (owed > 0) {
      this.owed.set(actor, owed);
      return;
    }
    this.owed.delete(actor);
    const waiting = this.waiting;
    if (waiting?.actors.delete(actor) && waiting.actors.size === 0) waiting.answered();
  }

  /**
   * Stop reading, checkpoint what the actors processed, leave the group. Within `budget` (or
   * `stopDeadlineMs` a part without one): actors whose backlog does not drain in time do not
   * answer the last checkpoint, which then commits nothing; their records stay uncommitted and
   * the next owner replays them against the state saved last, so a stop under overload is
   * bounded and loses nothing. The actors' mailboxes are abandoned when the system stops.
   */
  async stop(budget?: StopBudget): Promise<void> {
    this.running = false;
    // the loop's own checkpoint may wait for a backlog far longer than the stop may: it gives up
    // now, and the last checkpoint below asks again within the budget
    this.waiting?.abandoned(new PlatformError(ErrorCodes.DRAIN_TIMEOUT, "stopping"));
    const { groupId, stopDeadlineMs = STOP_DEADLINE_MS } = this.deps;
    const forWork = () => Math.min(stopDeadlineMs, budget?.forWorkMs() ?? stopDeadlineMs);
    this.stopping = { forWorkMs: forWork };
    // the group learns that this member left even when the last checkpoint failed or the poll
    // sat in a rejoin (its offsets stay uncommitted; the next owner replays them against the
    // saved state), and a stop never hangs on the group (engine/stop-deadline.ts)
    let failure: unknown;
    try {
      await withinStopDeadline(this.loop ?? Promise.resolve(), `the ${groupId} poll loop`, forWork());
      await this.checkpoint(forWork());
    } catch (error) {
      failure = error;
    }
    // the leave's revocation asks no actor again: what the last checkpoint did not save waits
    // for the next owner
    this.stopping = { forWorkMs: () => 0 };
    try {
      const closing = this.consumer?.close() ?? Promise.resolve();
      const closeMs = Math.min(stopDeadlineMs, budget?.forCloseMs() ?? stopDeadlineMs);
      await withinStopDeadline(closing, `leaving ${groupId}`, closeMs);
    } catch (error) {
      failure ??= error;
    }
    if (failure !== undefined) throw failure;
  }

  private async run(): Promise<void> {
    let backoffMs = 100;
    while (this.running) {
      try {
        const records = await this.consumer!.poll({ maxRecords: 1000, timeoutMs: 100 });
        const refused = new Set<string>();
        // one catch-up per poll covers its records (a schema is registered before its records)
        let schemasCaughtUp = this.deps.refreshSchemas === undefined;
        for (const record of records) {
          if (refused.has(slotOf(record))) continue;
          let applied = this.apply(record, schemasCaughtUp);
          if (applied === UNKNOWN_SCHEMA_YET) {
            await this.deps.refreshSchemas?.();
            schemasCaughtUp = true;
            applied = this.apply(record, true);
          }
          if (applied) continue;
          // its actor's mailbox is full: the partition is read again from this record once
          // the actor has made room (a record told and refused was dropped, and its offset
          // committed at the next checkpoint: lost)
          refused.add(slotOf(record));
          this.consumer!.seek({ topic: record.topic, partition: record.partition, offset: record.offset });
        }
        if (refused.size > 0) await new Promise((resolve) => setTimeout(resolve, REFUSED_BACKOFF_MS));
        if (this.deps.now() - this.lastCheckpointAt >= this.deps.commitIntervalMs) await this.checkpoint();
        backoffMs = 100;
      } catch (error) {
        // stopping: the last checkpoint follows, and the consumer may be closed already
        if (!this.running) return;
        if (!isPlatformError(error) || !TRANSIENT.has(error.code)) {
          this.deps.onError(error);
          return;
        }
        this.deps.onTransientError?.(error);
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(2000, backoffMs * 2);
      }
    }
  }

  /**
   * false when the record's actor refused it (a full mailbox): nothing of it was recorded;
   * UNKNOWN_SCHEMA_YET, with nothing recorded either, for a value whose schema id is not known
   * while the registry was not caught up since the poll
   */
  private apply(record: LogRecord, schemasCaughtUp: boolean): boolean | typeof UNKNOWN_SCHEMA_YET {
    if (!this.owned.has(slotOf(record))) return true; // revoked since the poll: the next owner reads it
    const spec = this.byTopic.get(record.topic);
    const position = { topic: record.topic, partition: record.partition, offset: record.offset + 1 };
    if (!spec) {
      this.uncommitted.set(slotOf(record), position);
      return true;
    }
    let message: unknown;
    try {
      if (record.key === null || record.value === null)
        throw new Error(record.key === null ? "a record without a key" : "a tombstone");
      message = spec.message(record.value, { partition: record.partition, offset: record.offset });
    } catch (error) {
      if (!schemasCaughtUp && isPlatformError(error, ErrorCodes.UNKNOWN_SCHEMA)) return UNKNOWN_SCHEMA_YET;
      const code = isPlatformError(error) ? error.code : ErrorCodes.DECODE_FAILED;
      const reason = error instanceof Error ? error.message : String(error);
      this.deps.onDeadLetter(
        deadLetter(
          `log:${slotOf(record)}@${record.offset}`,
          code,
          reason,
          record.value ?? "",
          this.deps.now(),
        ),
        record.topic,
      );
      this.uncommitted.set(slotOf(record), position);
      return true;
    }
    const key = record.key as string;
    if (!this.deps.system.tell(spec.kind, key, message)) return false;
    this.uncommitted.set(slotOf(record), position);
    this.dirty.set(`${spec.kind}/${key}`, { spec, key });
    let keys = this.keysOf.get(slotOf(record));
    if (!keys) {
      keys = new Set();
      this.keysOf.set(slotOf(record), keys);
    }
    keys.add(key);
    this.applied++;
    return true;
  }

  /** actors that changed save their state, the changelogs are flushed, then offsets committed */
  private checkpoint(withinMs?: number): Promise<void> {
    const run = this.checkpointing.then(async () => {
      const answerWithinMs =
        withinMs ?? this.stopping?.forWorkMs() ?? this.deps.checkpointTimeoutMs ?? 30_000;
      this.lastCheckpointAt = this.deps.now();
      const offsets = [...this.uncommitted.values()];
      const dirty = [...this.dirty.values()];
      this.uncommitted.clear();
      this.dirty.clear();
      if (offsets.length === 0 && dirty.length === 0) return;
      try {
        // inside the try: actors that do not answer in time (a backlog, a slow actor) skip this
        // checkpoint, and its offsets and dirty actors wait for the next one; dropping them here
        // lost an actor's unsaved state once the next checkpoint committed past its records
        await this.answers(dirty, answerWithinMs);
        await this.deps.flushOutputs?.();
        for (const spec of this.deps.aggregates) await spec.store.flush();
        if (offsets.length > 0) await this.consumer?.commit(offsets);
      } catch (error) {
        // nothing committed: the offsets and the actors wait for the next checkpoint, those of
        // partitions still owned (an evicted actor told again would start without its state)
        for (const position of offsets)
          if (this.owned.has(slotOf(position)) && !this.uncommitted.has(slotOf(position)))
            this.uncommitted.set(slotOf(position), position);
        for (const entry of dirty)
          if (this.owned.has(`${entry.spec.topic}/${this.partitionOf(entry.key)}`))
            this.dirty.set(`${entry.spec.kind}/${entry.key}`, entry);
        throw error;
      }
    });
    this.checkpointing = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** sends each changed actor the checkpoint and waits until every one has answered it */
  private async answers(
    dirty: readonly { spec: AggregateSpec; key: string }[],
    withinMs: number,
  ): Promise<void> {
    const actors = new Set<string>();
    for (const { spec, key } of dirty) {
      const actor = `${spec.kind}/${key}`;
      // not delivered (a full mailbox, a stopped supervisor): its state cannot be saved now
      if (!this.deps.system.tell(spec.kind, key, spec.checkpoint))
        throw new PlatformError(ErrorCodes.DRAIN_TIMEOUT, `${actor} did not take the checkpoint`);
      this.owed.set(actor, (this.owed.get(actor) ?? 0) + 1);
      actors.add(actor);
    }
    if (actors.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.waiting = { actors, answered: resolve, abandoned: reject };
        timer = setTimeout(
          () =>
            reject(
              new PlatformError(
                ErrorCodes.DRAIN_TIMEOUT,
                `${actors.size} of ${dirty.length} changed aggregates did not answer the checkpoint of ${this.deps.groupId} within ${withinMs} ms`,
              ),
            ),
          withinMs,
        );
      });
    } finally {
      clearTimeout(timer);
      this.waiting = undefined;
    }
  }

  private async restore(partitions: readonly TopicPartition[]): Promise<void> {
    for (const tp of partitions) this.owned.add(slotOf(tp));
    for (const tp of partitions) {
      const spec = this.byTopic.get(tp.topic);
      if (!spec) continue;
      const restored = await spec.store.restorePartition(tp.partition);
      const keys = new Set<string>();
      for (const [key, state] of restored.states) {
        await this.deps.snapshots.save(`${spec.kind}/${key}`, state);
        keys.add(key);
      }
      this.keysOf.set(slotOf(tp), keys);
      if (spec.wake !== undefined) for (const key of keys) this.deps.system.tell(spec.kind, key, spec.wake);
    }
  }

  private async revoke(partitions: readonly TopicPartition[]): Promise<void> {
    for (const tp of partitions) this.owned.delete(slotOf(tp));
    try {
      await this.checkpoint();
    } catch (error) {
      // the partitions go anyway: their next owner replays from the last committed offsets
      // against the last saved state, so nothing is lost or counted twice
      if (isPlatformError(error)) this.deps.onTransientError?.(error);
      else this.deps.onError(error);
    }
    await this.evict(partitions);
  }

  /** the partitions' actors stop here, their unsaved changes and uncommitted offsets dropped */
  private async evict(partitions: readonly TopicPartition[]): Promise<void> {
    for (const tp of partitions) this.owned.delete(slotOf(tp));
    for (const tp of partitions) {
      const spec = this.byTopic.get(tp.topic);
      const keys = this.keysOf.get(slotOf(tp));
      this.keysOf.delete(slotOf(tp));
      this.uncommitted.delete(slotOf(tp));
      if (!spec || !keys) continue;
      for (const key of keys) {
        this.dirty.delete(`${spec.kind}/${key}`);
        this.owed.delete(`${spec.kind}/${key}`);
        // a checkpoint waiting for an actor that goes (its partition lost) cannot save it
        if (this.waiting?.actors.has(`${spec.kind}/${key}`))
          this.waiting.abandoned(
            new PlatformError(
              ErrorCodes.LOG_REBALANCE,
              `${spec.kind}/${key} was evicted before its checkpoint`,
            ),
          );
        this.deps.system.tell(spec.kind, key, spec.evict);
        await this.deps.snapshots.delete(`${spec.kind}/${key}`);
      }
    }
    // stopping: no restore follows here, and the system's stop abandons what the actors did
    // not process (their records are uncommitted); waiting for their backlog would not end
    if (this.stopping) return;
    await this.deps.system.drain();
  }
}
