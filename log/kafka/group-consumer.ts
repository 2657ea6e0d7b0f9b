import {
  ConnectionPool,
  Consumer as KafkaConsumer,
  type ConsumerOptions as KafkaConsumerOptions,
} from "@platformatic/kafka";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type {
  CommitOffset,
  Consumer,
  ConsumerOptions,
  LogRecord,
  PollOptions,
  RecordPosition,
  TopicPartition,
} from "../log.ts";
import { sharedBatchDecodeThread } from "./batch-decode-offload.ts";
import { corruptBatchVerdict } from "./corrupt-batches.ts";
import { hasApiError } from "./kafka-errors.ts";
import type { KafkaLog } from "./kafka-log.ts";
import type { ResolvedKafkaLogOptions } from "./kafka-options.ts";
import { connectionSecurity } from "./kafka-security.ts";
import { type FetchedPartition, fetchPartitions } from "./partition-fetcher.ts";

/**
 * A member of a Kafka consumer group behind the port's poll/commit/seek interface.
 *
 * Membership is @platformatic/kafka's classic group protocol with the `cooperative-sticky`
 * assignor (KIP-429, incremental cooperative rebalancing): a member keeps the partitions that stay
 * with it through a rebalance and gives up only those that move, so state is restored only for
 * moved partitions. The callbacks hook in where the Java client calls its
 * ConsumerRebalanceListener:
 * - onRevoked runs before the member sends JoinGroup (the library's `protocolsMetadata` hook is
 *   awaited right before every JoinGroup), for the partitions the last SyncGroup took away, so
 *   their effects are flushed and committed before another member can be given them;
 * - onAssigned runs after SyncGroup (the `consumer:group:join` event) for the partitions that are
 *   new, after their start offsets are resolved and before poll() returns any of their records.
 *
 * Records come from our own Fetch loop, not the library's stream: positions, seek and the bound
 * on buffered records stay in this class. One fetch is prefetched while the caller works.
 */

interface OwnedPartition {
  readonly topic: string;
  readonly partition: number;
  /** the next offset to fetch */
  position: bigint;
  /** bumped by seek and reassignment: fetches issued under an older epoch are dropped */
  epoch: number;
  /** the partition's readable end as the last fetch answered it; undefined before one did */
  readableEnd?: bigint;
  /** its records fetched and buffered, not handed out yet */
  pending: number;
  /** fetches in a row that met a corrupt batch at `position` */
  corruptFetches: number;
}

/** one partition's records of one fetch, handed out from `at` on */
interface BufferedRun {
  readonly records: LogRecord[];
  readonly owned: OwnedPartition;
  at: number;
}

interface FetchRound {
  readonly epochs: ReadonlyMap<string, number>;
  readonly settled: Promise<{ fetched?: FetchedPartition[]; error?: unknown }>;
  done: boolean;
}

const DEFAULT_MAX_RECORDS = 500;
const MAX_FETCH_WAIT_MS = 500;
const slotOf = (tp: TopicPartition) => `${tp.topic}#${tp.partition}`;

export class GroupConsumer implements Consumer {
  /** close() has begun: no more polls; commits still work so onRevoked can commit */
  private closing = false;
  private closed = false;
  private readonly client: KafkaConsumer;
  private readonly fetchPool: ConnectionPool;
  private readonly owned = new Map<string, OwnedPartition>();
  /**
   * fetched records as the fetch decoded them, one run per partition and round: no copy into
   * one array per record, and a partition's pending count moves by a run's share, not per record
   */
  private runs: BufferedRun[] = [];
  /** the first run not handed out in full */
  private runHead = 0;
  /** records fetched and not handed out yet */
  private buffered = 0;
  /** records the last accepted round brought: the next fetch starts when half of that is left */
  private lastRound = 0;
  private round: FetchRound | undefined;
  private rebalances: Promise<void> = Promise.resolve();
  private failure: PlatformError | undefined;
  /** a batch still corrupt after its refetches: thrown once the records before it are handed out */
  private corruptBatch: PlatformError | undefined;
  /** commits sent and not yet answered; a rebalance that begins meanwhile fails them (beforeJoin) */
  private readonly pendingCommits = new Set<(error: PlatformError) => void>();
  private readonly joined: Promise<void>;
  private epochs = 0;
  private rounds = 0;

  constructor(
    private readonly options: ConsumerOptions,
    private readonly config: ResolvedKafkaLogOptions,
    private readonly log: KafkaLog,
    private readonly onClosed: () => void,
    /** the library's group client; tests give one that plays a library behaviour at will */
    clientOf: (options: KafkaConsumerOptions<Buffer, Buffer, Buffer, Buffer>) => KafkaConsumer = (o) =>
      new KafkaConsumer(o),
  ) {
    const clientId = `${config.clientId}-${options.memberId ?? "member"}`;
    this.client = clientOf({
      clientId,
      groupId: options.groupId,
      bootstrapBrokers: [...config.brokers],
      autocommit: false,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      rebalanceTimeout: config.rebalanceTimeoutMs,
      protocols: [{ name: "cooperative-sticky", version: 1 }],
      protocolsMetadata: () => this.beforeJoin(),
      retries: config.retries,
      retryDelay: config.retryDelayMs,
      connectTimeout: config.connectTimeoutMs,
      timeout: config.requestTimeoutMs,
      ...connectionSecurity(config.security),
    });
    this.fetchPool = new ConnectionPool(`${clientId}-fetch`, {
      connectTimeout: config.connectTimeoutMs,
      ...connectionSecurity(config.security),
    });
    // a failed rejoin is emitted as an "error" event; it surfaces from the next poll()
    this.client.on("error", (error: Error) => {
      this.failure = this.log.fail(error, `consumer group ${options.groupId}`);
    });
    this.client.on("consumer:group:join", () => {
      this.enqueue(() => this.afterJoin());
    });
    this.joined = this.join().catch((error: unknown) => {
      this.failure = this.log.fail(error, `join consumer group ${options.groupId}`, options.topics.join(","));
    });
  }

  assignment(): readonly TopicPartition[] {
    return [...this.owned.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  async poll(options: PollOptions = {}): Promise<LogRecord[]> {
    this.ensureOpen(true);
    await this.joined;
    await this.rebalances;
    this.ensureOpen(true);
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      throw failure;
    }
    const maxRecords = Math.max(1, options.maxRecords ?? DEFAULT_MAX_RECORDS);
    const deadline = Date.now() + Math.max(0, options.timeoutMs ?? 0);
    for (;;) {
      if (this.buffered > 0) {
        const taken = this.take(maxRecords);
        // fetch the next round while the caller works through the rest of this one
        if (this.buffered <= Math.max(maxRecords, this.lastRound / 2)) this.startRound(MAX_FETCH_WAIT_MS);
        return taken;
      }
      // as Kafka's consumer: the records before a corrupt batch first, then its error, its
      // partition's position left at it (a seek past it is the caller's decision)
      if (this.corruptBatch !== undefined) {
        const corrupt = this.corruptBatch;
        this.corruptBatch = undefined;
        throw corrupt;
      }
      const remaining = deadline - Date.now();
      const round = this.round ?? this.startRound(Math.min(MAX_FETCH_WAIT_MS, Math.max(0, remaining)));
      if (round === undefined) {
        // nothing owned yet: wait for an assignment, bounded by the timeout
        if (remaining <= 0) return [];
        await Bun.sleep(Math.min(remaining, 50));
        await this.rebalances;
        continue;
      }
      const outcome = round.done ? await round.settled : await settleWithin(round.settled, remaining);
      if (outcome === undefined) return []; // the fetch goes on; the next poll picks it up
      this.round = undefined;
      if (outcome.error !== undefined) await this.recover(outcome.error);
      else this.accept(round, outcome.fetched ?? []);
      if (this.buffered === 0 && Date.now() >= deadline) return [];
    }
  }

  async commit(offsets: readonly CommitOffset[]): Promise<void> {
    this.ensureOpen();
    if (offsets.length === 0) return;
    // Out of the group (the coordinator forgot this member: UNKNOWN_MEMBER_ID, or it left) until
    // the library's rejoin is answered. The library would send the commit with a null member id,
    // which the broker cannot parse: it closes the connection, failing whatever else was on it
    // (the rejoin's own requests), six retries over (seen as a node whose stop hung for minutes).
    if (this.client.memberId === null) {
      throw new PlatformError(
        ErrorCodes.LOG_REBALANCE,
        `this member of group ${this.options.groupId} is rejoining the group; the offsets are committed at the next checkpoint`,
      );
    }
    let abandon: (error: PlatformError) => void = () => {};
    const abandoned = new Promise<never>((_, reject) => {
      abandon = reject;
    });
    this.pendingCommits.add(abandon);
    try {
      await Promise.race([
        this.client.commit({
          offsets: offsets.map(({ topic, partition, offset }) => ({
            topic,
            partition,
            offset: BigInt(offset),
            leaderEpoch: -1,
          })),
        }),
        abandoned,
      ]);
    } catch (error) {
      if (error instanceof PlatformError && error.code === ErrorCodes.LOG_REBALANCE) throw error;
      throw this.log.fail(error, `commit offsets of group ${this.options.groupId}`, offsets[0]!.topic);
    } finally {
      this.pendingCommits.delete(abandon);
    }
  }

  async committed(tp: TopicPartition): Promise<number | undefined> {
    this.ensureOpen();
    try {
      const committed = await this.client.listCommittedOffsets({
        topics: [{ topic: tp.topic, partitions: [tp.partition] }],
      });
      const offset = committed.get(tp.topic)?.[tp.partition];
      return offset === undefined || offset < 0n ? undefined : Number(offset);
    } catch (error) {
      throw this.log.fail(error, `read the committed offset of group ${this.options.groupId}`, tp.topic);
    }
  }

  seek(position: RecordPosition): void {
    this.ensureOpen(true);
    const owned = this.owned.get(slotOf(position));
    if (owned === undefined) {
      throw new PlatformError(
        ErrorCodes.LOG_PARTITION_INVALID,
        `cannot seek ${slotOf(position)}: this member of group ${this.options.groupId} does not own it`,
        { details: { ...position, groupId: this.options.groupId } },
      );
    }
    owned.position = BigInt(Math.max(0, position.offset));
    owned.epoch = ++this.epochs;
    owned.corruptFetches = 0;
    this.keepBuffered((slot) => slot !== slotOf(position));
  }

  currentLag(tp: TopicPartition): number | undefined {
    const owned = this.owned.get(slotOf(tp));
    if (owned?.readableEnd === undefined) return undefined;
    // fetched records still in the buffer are not read yet: they count
    const unfetched = owned.readableEnd > owned.position ? Number(owned.readableEnd - owned.position) : 0;
    return unfetched + owned.pending;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.joined;
    await this.rebalances;
    try {
      await this.revoke([...this.owned.keys()], this.client.memberId === null ? "lost" : "revoked");
      await this.round?.settled;
      await this.leaveGroup();
    } finally {
      this.closed = true;
      await Promise.allSettled([this.client.close(), this.fetchPool.close()]);
      this.onClosed();
    }
  }

  /** leaving is a courtesy that starts the rebalance now; the session timeout would anyway */
  private leaveGroup(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.leaveGroup(true, (error) => {
        if (error && !hasApiError(error, "UNKNOWN_MEMBER_ID")) reject(error);
        else resolve();
      });
    });
  }

  private async join(): Promise<void> {
    this.client.topics.trackAll(...this.options.topics);
    await this.client.joinGroup({});
  }

  /** serialise rebalance work: callbacks never overlap and poll() waits for them */
  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.rebalances.then(work).catch((error: unknown) => {
      this.failure = this.log.fail(error, `rebalance of group ${this.options.groupId}`);
    });
    this.rebalances = next;
    return next;
  }

  private async beforeJoin(): Promise<Buffer> {
    // A commit that meets a rebalance (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION) makes the
    // library rejoin from inside that commit and retry it after the join, and this hook runs
    // before the JoinGroup. The revocation below waits for the engine's checkpoint, and the
    // checkpoint waited for that very commit: the member never rejoined, the group waited for
    // it, and a stopping node gave up on it after 40 s (the rolling restart's slow stops). The
    // commits pending now fail instead; the engine keeps their offsets for its next checkpoint.
    for (const abandon of this.pendingCommits)
      abandon(
        new PlatformError(
          ErrorCodes.LOG_REBALANCE,
          `group ${this.options.groupId} began a rebalance before the commit was answered; the offsets are committed at the next checkpoint`,
        ),
      );
    this.pendingCommits.clear();
    // the coordinator forgot this member (its session expired while it was busy): the group
    // has already given its partitions to the others, so they are lost, not revoked
    const fenced = this.client.memberId === null;
    await this.enqueue(async () => {
      const kept = fenced ? new Map() : this.currentSlots();
      await this.revoke(
        [...this.owned.keys()].filter((slot) => !kept.has(slot)),
        fenced ? "lost" : "revoked",
      );
    });
    return Buffer.alloc(0);
  }

  private async afterJoin(): Promise<void> {
    if (this.closing) return;
    const current = this.currentSlots();
    // with the cooperative protocol nothing is lost here, but a member that was fenced is
    await this.revoke([...this.owned.keys()].filter((slot) => !current.has(slot)));
    const added = [...current.values()].filter((tp) => !this.owned.has(slotOf(tp)));
    if (added.length === 0) return;
    const starts = await this.startOffsets(added);
    added.forEach((tp, i) => {
      this.owned.set(slotOf(tp), {
        ...tp,
        position: starts[i]!,
        epoch: ++this.epochs,
        pending: 0,
        corruptFetches: 0,
      });
    });
    await this.options.rebalance?.onAssigned?.(added);
  }

  private async revoke(slots: string[], how: "revoked" | "lost" = "revoked"): Promise<void> {
    if (slots.length === 0) return;
    const partitions = slots.flatMap((slot) => {
      const owned = this.owned.get(slot);
      return owned === undefined ? [] : [{ topic: owned.topic, partition: owned.partition }];
    });
    for (const slot of slots) this.owned.delete(slot);
    const gone = new Set(slots);
    this.keepBuffered((slot) => !gone.has(slot));
    const listener = this.options.rebalance;
    if (how === "lost" && listener?.onLost) await listener.onLost(partitions);
    else await listener?.onRevoked?.(partitions);
  }

  private currentSlots(): Map<string, TopicPartition> {
    const slots = new Map<string, TopicPartition>();
    for (const assignment of this.client.assignments ?? []) {
      for (const partition of assignment.partitions) {
        const tp = { topic: assignment.topic, partition };
        slots.set(slotOf(tp), tp);
      }
    }
    return slots;
  }

  /** the committed offset of each partition, or the start the options ask for */
  private async startOffsets(partitions: readonly TopicPartition[]): Promise<bigint[]> {
    const byTopic = new Map<string, number[]>();
    for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    const committed = await this.client.listCommittedOffsets({
      topics: [...byTopic].map(([topic, list]) => ({ topic, partitions: list })),
    });
    const fallback = this.options.startFrom ?? "earliest";
    return Promise.all(
      partitions.map(async (tp) => {
        const offset = committed.get(tp.topic)?.[tp.partition];
        return offset !== undefined && offset >= 0n ? offset : this.log.listOffset(tp, fallback);
      }),
    );
  }

  private startRound(maxWaitMs: number): FetchRound | undefined {
    if (this.closing || this.round !== undefined || this.owned.size === 0) return this.round;
    const owned = [...this.owned.values()].map(({ topic, partition, position }) => ({
      topic,
      partition,
      offset: position,
    }));
    // a different partition first each round: the broker fills a response in request order up
    // to its byte limit, so a fixed order could starve the last partitions (as Kafka's Fetcher)
    const first = this.rounds++ % owned.length;
    const positions = [...owned.slice(first), ...owned.slice(0, first)];
    const epochs = new Map([...this.owned].map(([slot, owned]) => [slot, owned.epoch]));
    const round: FetchRound = {
      epochs,
      done: false,
      settled: fetchPartitions(this.client, this.fetchPool, positions, {
        maxWaitMs,
        partitionBytes: this.config.partitionFetchBytes,
        totalBytes: this.config.fetchBytes,
        retries: this.config.retries,
        retryDelayMs: this.config.retryDelayMs,
        decoder: (sources, limits) =>
          sharedBatchDecodeThread().decode(sources, limits, this.config.decodeThreadBytes),
      }).then(
        (fetched) => ({ fetched }),
        (error: unknown) => ({ error }),
      ),
    };
    round.settled.then(() => {
      round.done = true;
    });
    this.round = round;
    return round;
  }

  /**
   * up to `max` records from the front runs, in order; a run handed out whole is handed out as
   * it is. A read index, not splice(0, n): splicing the front of a 100k-record round for every
   * poll moved the whole rest each time and halved the consume rate.
   */
  private take(max: number): LogRecord[] {
    let taken: LogRecord[] | undefined;
    let wanted = max;
    while (wanted > 0 && this.runHead < this.runs.length) {
      const run = this.runs[this.runHead]!;
      const count = Math.min(wanted, run.records.length - run.at);
      const part = count === run.records.length ? run.records : run.records.slice(run.at, run.at + count);
      run.at += count;
      run.owned.pending -= count;
      this.buffered -= count;
      wanted -= count;
      if (taken === undefined) taken = part;
      else for (const record of part) taken.push(record);
      if (run.at === run.records.length) this.runHead++;
    }
    if (this.runHead === this.runs.length) {
      this.runs = [];
      this.runHead = 0;
    }
    return taken ?? [];
  }

  /** the runs not handed out yet whose partition `keep` says still belongs to this member */
  private keepBuffered(keep: (slot: string) => boolean): void {
    this.runs = this.runs.slice(this.runHead).filter((run) => keep(slotOf(run.owned)));
    this.runHead = 0;
    for (const owned of this.owned.values()) owned.pending = 0;
    this.buffered = 0;
    for (const run of this.runs) {
      const left = run.records.length - run.at;
      run.owned.pending += left;
      this.buffered += left;
    }
  }

  /** keep what still matches an owned partition's position; advance the positions */
  private accept(round: FetchRound, fetched: readonly FetchedPartition[]): void {
    this.lastRound = 0;
    for (const result of fetched) {
      const slot = slotOf(result);
      const owned = this.owned.get(slot);
      // the log's end is news whatever became of the position the fetch was sent for
      if (owned !== undefined) owned.readableEnd = result.readableEnd;
      if (
        owned === undefined ||
        owned.epoch !== round.epochs.get(slot) ||
        owned.position !== result.fromOffset
      ) {
        continue; // revoked, seeked or reassigned since the fetch was sent
      }
      if (result.nextOffset !== undefined && result.nextOffset > owned.position)
        owned.position = result.nextOffset;
      if (result.records.length > 0) {
        this.runs.push({ records: result.records, owned, at: 0 });
        this.buffered += result.records.length;
      }
      owned.pending += result.records.length;
      this.lastRound += result.records.length;
      if (result.corrupt === undefined) owned.corruptFetches = 0;
      else this.corruptBatchMet(owned, result.corrupt.error, result.nextOffset !== undefined);
    }
  }

  /** counted every time it is met; after its refetches it fails the poll (corrupt-batches.ts) */
  private corruptBatchMet(owned: OwnedPartition, error: PlatformError, movedBefore: boolean): void {
    this.log.noteCorruptBatch(owned.topic);
    const verdict = corruptBatchVerdict(owned.corruptFetches, movedBefore);
    owned.corruptFetches = verdict.fetchesInARow;
    if (verdict.fail) this.corruptBatch ??= error;
  }

  /** a fetch failed: reset positions that fell out of the log, otherwise report the failure */
  private async recover(error: unknown): Promise<void> {
    if (!hasApiError(error, "OFFSET_OUT_OF_RANGE")) {
      throw this.log.fail(error, `fetch for group ${this.options.groupId}`, this.options.topics.join(","));
    }
    for (const owned of this.owned.values()) {
      const earliest = await this.log.listOffset(owned, "earliest");
      const latest = await this.log.listOffset(owned, "latest");
      if (owned.position < earliest || owned.position > latest) {
        owned.position = this.options.startFrom === "latest" ? latest : earliest;
        owned.epoch = ++this.epochs;
      }
    }
  }

  private ensureOpen(orClosing = false): void {
    if (this.closed || (orClosing && this.closing)) {
      throw new PlatformError(
        ErrorCodes.LOG_CLOSED,
        `the consumer of group ${this.options.groupId} is closed`,
      );
    }
  }
}

/** the promise's value if it settles within `ms`, otherwise undefined (it keeps running) */
async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  if (ms <= 0) return undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
