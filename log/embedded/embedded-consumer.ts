import { randomUUID } from "node:crypto";
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
import { type ChangeNotifier, groupSubject, topicSubject } from "./change-notifier.ts";
import type { DataVersion } from "./data-version.ts";
import type { GroupStore } from "./group-store.ts";
import { assignRanges } from "./range-assignor.ts";
import type { RecordStore } from "./record-store.ts";

export interface GroupTimings {
  /** how often a member proves it is alive */
  readonly heartbeatIntervalMs: number;
  /** a member silent for longer is evicted and its partitions handed to others */
  readonly sessionTimeoutMs: number;
  /** how often a waiting poll looks for records written by other processes */
  readonly pollIntervalMs: number;
}

/** what a consumer needs from the log that made it */
export interface ConsumerHost {
  readonly records: RecordStore;
  readonly groups: GroupStore;
  /** one look per poll answers both whether the group changed and whether other processes appended */
  readonly dataVersion: DataVersion;
  readonly notifier: ChangeNotifier;
  readonly timings: GroupTimings;
  isClosed(): boolean;
  forget(consumer: EmbeddedConsumer): void;
}

const DEFAULT_MAX_RECORDS = 500;
const slot = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;
const byTopicPartition = (a: TopicPartition, b: TopicPartition) =>
  a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1;

/**
 * A consumer-group member of the embedded log. Rebalancing happens inside poll() and close()
 * (the Java client's model): onRevoked runs before partitions are released and onAssigned after
 * they are claimed, both awaited, so a member never loses a partition while it is mid-batch.
 * A timer only heartbeats, so an idle member keeps its partitions.
 */
export class EmbeddedConsumer implements Consumer {
  readonly memberId: string;
  private readonly groupId: string;
  private readonly topics: readonly string[];
  private readonly subjects: ReadonlySet<string>;
  private generation = -1;
  private owned: TopicPartition[] = [];
  private readonly positions = new Map<string, number>();
  /** the plan wants partitions that are not yet ours, or a subscribed topic is missing */
  private incomplete = false;
  private rotation = 0;
  private heartbeatFailure: unknown;
  private readonly heartbeatTimer: ReturnType<typeof setInterval>;
  private lock: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly host: ConsumerHost,
    private readonly options: ConsumerOptions,
  ) {
    if (options.topics.length === 0) {
      throw new PlatformError(
        ErrorCodes.CONFIG_INVALID,
        `consumer of group ${options.groupId} names no topics`,
      );
    }
    this.groupId = options.groupId;
    this.topics = [...new Set(options.topics)];
    this.memberId = `${options.memberId ?? "member"}-${randomUUID()}`;
    this.subjects = new Set([groupSubject(this.groupId), ...this.topics.map(topicSubject)]);
    host.groups.join(this.groupId, { memberId: this.memberId, topics: this.topics }, Date.now());
    host.notifier.notify([groupSubject(this.groupId)]);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), host.timings.heartbeatIntervalMs);
    this.heartbeatTimer.unref?.();
  }

  assignment(): readonly TopicPartition[] {
    return [...this.owned];
  }

  async poll(options: PollOptions = {}): Promise<LogRecord[]> {
    this.ensureOpen();
    const maxRecords = Math.max(1, options.maxRecords ?? DEFAULT_MAX_RECORDS);
    const deadline = Date.now() + (options.timeoutMs ?? 0);
    for (;;) {
      // closed while waiting (the consumer or the whole log): end the poll empty
      if (this.closing !== undefined || this.host.isClosed()) return [];
      const version = this.host.dataVersion.look();
      await this.exclusive(() => this.rebalanceIfNeeded(version));
      if (this.closing !== undefined || this.host.isClosed()) return [];
      // another process's commit after the look is seen by the next look, as before by the next poll
      const records = this.fetch(maxRecords, version);
      const remaining = deadline - Date.now();
      if (records.length > 0 || remaining <= 0) return records;
      await this.host.notifier.wait(this.subjects, Math.min(remaining, this.host.timings.pollIntervalMs));
    }
  }

  async commit(offsets: readonly CommitOffset[]): Promise<void> {
    // allowed while closing: onRevoked commits before the member leaves
    this.ensureOpen({ closing: true });
    for (const { topic, partition, offset } of offsets) {
      if (!Number.isInteger(offset) || offset < 0) {
        throw new PlatformError(ErrorCodes.LOG_OFFSET_OUT_OF_RANGE, `cannot commit offset ${offset}`, {
          details: { topic, partition, offset },
        });
      }
      this.host.records.requirePartition(topic, partition);
    }
    this.host.groups.commit(this.groupId, this.memberId, offsets);
  }

  async committed(partition: TopicPartition): Promise<number | undefined> {
    this.ensureOpen({ closing: true });
    return this.host.groups.committed(this.groupId, partition);
  }

  seek(position: RecordPosition): void {
    this.ensureOpen();
    if (!this.positions.has(slot(position))) {
      throw new PlatformError(
        ErrorCodes.LOG_PARTITION_INVALID,
        `cannot seek ${position.topic}[${position.partition}]: member ${this.memberId} does not own it`,
        { details: { ...position, assignment: this.owned } },
      );
    }
    if (!Number.isInteger(position.offset) || position.offset < 0) {
      throw new PlatformError(
        ErrorCodes.LOG_OFFSET_OUT_OF_RANGE,
        `cannot seek to offset ${position.offset}`,
        {
          details: { ...position },
        },
      );
    }
    this.positions.set(slot(position), position.offset);
  }

  currentLag(tp: TopicPartition): number | undefined {
    const position = this.positions.get(slot(tp));
    if (position === undefined || this.closed || this.host.isClosed()) return undefined;
    const topic = this.host.records.lookup(tp.topic);
    const end = topic === undefined ? undefined : this.host.records.lastSeenEnd(topic, tp.partition);
    return end === undefined ? undefined : Math.max(0, end - position);
  }

  close(): Promise<void> {
    this.closing ??= this.leave();
    return this.closing;
  }

  private async leave(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    await this.exclusive(async () => {
      if (this.host.isClosed()) return;
      if (this.owned.length > 0) await this.options.rebalance?.onRevoked?.(this.assignment());
      this.host.groups.leave(this.groupId, this.memberId);
      this.owned = [];
      this.positions.clear();
    });
    this.closed = true;
    this.host.forget(this);
    if (!this.host.isClosed()) this.host.notifier.notify([groupSubject(this.groupId)]);
  }

  private async rebalanceIfNeeded(version: number): Promise<void> {
    if (this.closing !== undefined || this.host.isClosed()) return;
    const { groups, records, notifier } = this.host;
    const generation = groups.generation(this.groupId, version);
    if (generation === this.generation && !this.incomplete) return;
    let members = groups.members(this.groupId);
    if (!members.some((member) => member.memberId === this.memberId)) {
      // evicted while silent (a long pause): join again; partitions taken meanwhile are lost below
      groups.join(this.groupId, { memberId: this.memberId, topics: this.topics }, Date.now());
      notifier.notify([groupSubject(this.groupId)]);
      members = groups.members(this.groupId);
    }
    const missingTopic = this.topics.some((topic) => records.lookup(topic) === undefined);
    const plan = assignRanges(members, (topic) => records.lookup(topic)?.partitions ?? 0);
    const target = new Set((plan.get(this.memberId) ?? []).map(slot));

    const lost = this.owned.filter(
      (tp) => !target.has(slot(tp)) || !groups.isOwner(this.groupId, this.memberId, tp),
    );
    if (lost.length > 0) {
      await this.options.rebalance?.onRevoked?.(lost);
      groups.release(this.groupId, this.memberId, lost);
      const lostSlots = new Set(lost.map(slot));
      this.owned = this.owned.filter((tp) => !lostSlots.has(slot(tp)));
      for (const key of lostSlots) this.positions.delete(key);
      notifier.notify([groupSubject(this.groupId)]);
    }

    const ownedSlots = new Set(this.owned.map(slot));
    const wanted = (plan.get(this.memberId) ?? []).filter((tp) => !ownedSlots.has(slot(tp)));
    const claimed = wanted.length > 0 ? groups.claim(this.groupId, this.memberId, wanted) : [];
    this.incomplete = missingTopic || claimed.length < wanted.length;
    this.generation = generation;
    if (claimed.length === 0) return;
    for (const tp of claimed) this.positions.set(slot(tp), this.startPosition(tp));
    this.owned = [...this.owned, ...claimed].sort(byTopicPartition);
    await this.options.rebalance?.onAssigned?.(claimed);
  }

  private startPosition(tp: TopicPartition): number {
    const committed = this.host.groups.committed(this.groupId, tp);
    if (committed !== undefined) return committed;
    if (this.options.startFrom === "latest") {
      return this.host.records.endOffset(this.host.records.require(tp.topic), tp.partition);
    }
    return 0;
  }

  /** up to maxRecords, an equal share from each owned partition first, starting at a rotating one */
  private fetch(maxRecords: number, version: number): LogRecord[] {
    const count = this.owned.length;
    if (count === 0) return [];
    this.host.records.refreshEnds(version);
    const share = Math.max(1, Math.ceil(maxRecords / count));
    const batch: LogRecord[] = [];
    const full: TopicPartition[] = [];
    const start = this.rotation++ % count;
    for (let i = 0; i < count && batch.length < maxRecords; i++) {
      const tp = this.owned[(start + i) % count]!;
      const taken = this.fetchPartition(tp, Math.min(share, maxRecords - batch.length), batch);
      if (taken === share) full.push(tp);
    }
    for (const tp of full) {
      if (batch.length >= maxRecords) break;
      this.fetchPartition(tp, maxRecords - batch.length, batch);
    }
    return batch;
  }

  private fetchPartition(tp: TopicPartition, limit: number, into: LogRecord[]): number {
    const key = slot(tp);
    const topic = this.host.records.require(tp.topic);
    const position = this.positions.get(key)!;
    if (!this.host.records.mayHaveRecords(topic, tp.partition, position)) return 0;
    const records = this.host.records.read(topic, tp.partition, position, limit);
    if (records.length > 0) this.positions.set(key, records[records.length - 1]!.offset + 1);
    // nothing at or after the position although the end is past it: retention or compaction
    // removed the rest; the position moves over the gap, or the lag would never reach 0
    else this.positions.set(key, Math.max(position, this.host.records.lastSeenEnd(topic, tp.partition) ?? 0));
    for (const record of records) into.push(record);
    return records.length;
  }

  private heartbeat(): void {
    if (this.closing !== undefined || this.host.isClosed()) return;
    try {
      const { groups, timings, notifier } = this.host;
      groups.heartbeat(this.groupId, this.memberId, Date.now(), timings.sessionTimeoutMs);
      if (groups.generation(this.groupId) !== this.generation) notifier.notify([groupSubject(this.groupId)]);
    } catch (error) {
      // a timer has nobody to throw to: the next poll reports it
      this.heartbeatFailure = error;
    }
  }

  private exclusive<T>(step: () => Promise<T>): Promise<T> {
    const run = this.lock.then(step, step);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private ensureOpen(allow: { closing: boolean } = { closing: false }): void {
    const closing = this.closing !== undefined && !allow.closing;
    if (this.closed || closing || this.host.isClosed()) {
      throw new PlatformError(
        ErrorCodes.LOG_CLOSED,
        `consumer ${this.memberId} of group ${this.groupId} is closed`,
      );
    }
    if (this.heartbeatFailure !== undefined) {
      const cause = this.heartbeatFailure;
      this.heartbeatFailure = undefined;
      throw new PlatformError(ErrorCodes.LOG_REBALANCE, `heartbeat of member ${this.memberId} failed`, {
        cause,
      });
    }
  }
}
