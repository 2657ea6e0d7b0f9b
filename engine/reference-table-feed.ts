import type { Log } from "../log/log.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import type { ReferenceTable } from "../stream/enrichment/reference-table.ts";

/**
 * Feeding a ReferenceTable from its compacted topic through the Log port, the way Kafka Streams
 * restores a GlobalKTable: every node reads every partition without a consumer group (a group
 * would split the partitions and each node would see only part of the table), from offset 0 to
 * the end offset taken when the restore starts; then it keeps reading from where it stopped.
 * Reads are batched (`maxRecordsPerRead`) and the follow loop sleeps when nothing is new, so it
 * is bounded in memory and in the load it puts on the log.
 */
export interface BootstrapOptions {
  /** records per log.read; default 1000 */
  readonly maxRecordsPerRead?: number;
  readonly signal?: AbortSignal;
}

export interface BootstrapResult {
  /** records applied (upserts, deletes and invalid ones) */
  readonly records: number;
  /** per partition, the next offset to read */
  readonly nextOffsets: readonly number[];
}

export interface FollowOptions extends BootstrapOptions {
  /** pause when a pass over the partitions found nothing new; default 100 ms */
  readonly pollIntervalMs?: number;
  /**
   * a failed read: reported here and retried after a back-off (up to 5 s). Without it the
   * follower stops and `done` rejects with the error.
   */
  readonly onError?: (error: unknown) => void;
  /** after each pass that applied records */
  readonly onApplied?: (records: number) => void;
}

export interface TableFollower {
  /** resolves when the restore reached the end offsets seen at start; rejects if it failed */
  readonly ready: Promise<BootstrapResult>;
  /**
   * resolves when the follower stopped; rejects when the restore failed or a read failed
   * without `onError`. Await it (an actor: report it to the supervisor), or the failure is lost.
   */
  readonly done: Promise<void>;
  /** the next offset to read, per partition */
  positions(): readonly number[];
  stop(): Promise<void>;
}

const DEFAULT_BATCH = 1000;

export async function bootstrapTable<V>(
  table: ReferenceTable<V>,
  log: Log,
  topic: string,
  options: BootstrapOptions = {},
): Promise<BootstrapResult> {
  const partitions = await log.partitions(topic);
  if (partitions === undefined) {
    throw new PlatformError(ErrorCodes.LOG_TOPIC_MISSING, `reference topic ${topic} does not exist`, {
      details: { topic, table: table.kind.name },
    });
  }
  const maxRecords = options.maxRecordsPerRead ?? DEFAULT_BATCH;
  const nextOffsets: number[] = [];
  let records = 0;
  for (let partition = 0; partition < partitions; partition++) {
    const end = await log.endOffset({ topic, partition });
    let next = 0;
    while (next < end && !options.signal?.aborted) {
      const batch = await log.read({ topic, partition }, { fromOffset: next, maxRecords });
      // a compacted tail can leave the last offsets below `end` empty: nothing more to read
      if (batch.length === 0) break;
      for (const record of batch) {
        if (record.offset >= end) break;
        table.apply(record);
        records++;
        next = record.offset + 1;
      }
      if (batch[batch.length - 1]!.offset >= end) break;
    }
    nextOffsets.push(Math.max(next, end));
  }
  return { records, nextOffsets };
}

export function followTopic<V>(
  table: ReferenceTable<V>,
  log: Log,
  topic: string,
  options: FollowOptions = {},
): TableFollower {
  const controller = new AbortController();
  const signal = controller.signal;
  const stopOnOuterAbort = () => controller.abort();
  options.signal?.addEventListener("abort", stopOnOuterAbort, { once: true });
  if (options.signal?.aborted) controller.abort();
  const maxRecords = options.maxRecordsPerRead ?? DEFAULT_BATCH;
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  let positions: number[] = [];
  let markReady: (result: BootstrapResult) => void = () => undefined;
  let failReady: (error: unknown) => void = () => undefined;
  const ready = new Promise<BootstrapResult>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  // a caller that awaits only `done` still sees a failed restore there
  ready.catch(() => undefined);

  async function pass(): Promise<number> {
    let applied = 0;
    for (let partition = 0; partition < positions.length && !signal.aborted; partition++) {
      const batch = await log.read({ topic, partition }, { fromOffset: positions[partition]!, maxRecords });
      for (const record of batch) {
        table.apply(record);
        positions[partition] = record.offset + 1;
      }
      applied += batch.length;
    }
    return applied;
  }

  async function run(): Promise<void> {
    try {
      const restored = await bootstrapTable(table, log, topic, { maxRecordsPerRead: maxRecords, signal });
      positions = [...restored.nextOffsets];
      markReady(restored);
    } catch (error) {
      failReady(error);
      throw error;
    }
    let backoffMs = pollIntervalMs;
    while (!signal.aborted) {
      let applied: number;
      try {
        applied = await pass();
        backoffMs = pollIntervalMs;
      } catch (error) {
        if (signal.aborted) return;
        if (options.onError === undefined) throw error;
        options.onError(error);
        await sleep(backoffMs, signal);
        backoffMs = Math.min(5000, backoffMs * 2);
        continue;
      }
      if (applied > 0) options.onApplied?.(applied);
      else await sleep(pollIntervalMs, signal);
    }
  }

  const done = run().finally(() => options.signal?.removeEventListener("abort", stopOnOuterAbort));
  // marked handled so a caller awaiting `ready` first is not hit by an unhandled rejection of
  // `done`; the rejection is still delivered to whoever awaits `done`
  done.catch(() => undefined);
  return {
    ready,
    done,
    positions: () => [...positions],
    async stop() {
      controller.abort();
      await done;
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
