import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { type HeldRecord, HoldBuffer } from "./hold-buffer.ts";
import type { ReferenceTable } from "./reference-table.ts";

/**
 * A stream-table join: each stream record is looked up in a ReferenceTable by key and merged
 * with the row (Kafka Streams' KStream-KTable / KStream-GlobalKTable join). What happens when
 * the table has no row for the key is the `onMissing` policy:
 * - "pass": left join. The record goes on with `merge(record, undefined)` and counts as a miss.
 * - "dead-letter": inner join. The record goes to `deadLetter` with the reason
 *   "no reference data for key K".
 * - "hold": the record waits in a bounded per-key buffer for its row (the row is published a
 *   little after the first readings of a new sensor). When the row arrives every held record of
 *   the key is joined, oldest first; a record that waited `maxHoldMs`, or is evicted because the
 *   buffer is full, goes on as a miss. Only keys the table does not know at all are held.
 *
 * `asOf: "event-time"` joins with the row valid at the record's event time (a table with
 * `versionsPerKey > 1`; KIP-914's versioned stream-table join), so replaying old readings gives
 * the district they were in then, not the one now. A held record released by a late row joins
 * the row valid at its event time, or, if the row became valid later, the earliest one: that the
 * row came late is why the record was held.
 *
 * Output goes through `emit`, for joins done now and for held records released later (from
 * inside `table.apply`, or `expire`). `enrich` returns what happened, without allocating.
 */
export type MissingPolicy = "pass" | "dead-letter" | "hold";
export type JoinOutcome = "hit" | "miss" | "dead-letter" | "held";

export interface HoldOptions {
  /** processing-time wait before a held record goes on as a miss; default 5000 ms */
  readonly maxHoldMs?: number;
  /** default 100 */
  readonly maxPerKey?: number;
  /** default 10,000 */
  readonly maxRecords?: number;
}

export interface EnricherOptions<R, V, O> {
  readonly table: ReferenceTable<V>;
  readonly keyOf: (record: R) => string;
  readonly merge: (record: R, value: V | undefined) => O;
  readonly onMissing: MissingPolicy;
  /** every joined record, hit or miss; `hit` says whether a row was found */
  readonly emit: (output: O, hit: boolean) => void;
  /** required with onMissing "dead-letter" */
  readonly deadLetter?: (record: R, reason: string) => void;
  /** default "latest" */
  readonly asOf?: "latest" | "event-time";
  /** epoch ms; required with asOf "event-time" */
  readonly eventTimeOf?: (record: R) => number;
  readonly hold?: HoldOptions;
  /** processing time for hold deadlines; default Date.now */
  readonly clock?: () => number;
}

export interface EnricherStats {
  readonly hits: number;
  readonly misses: number;
  readonly deadLettered: number;
  /** records ever held */
  readonly held: number;
  /** held records joined when their row arrived */
  readonly released: number;
  /** held records passed on as misses after maxHoldMs */
  readonly expired: number;
  /** held records passed on as misses because the buffer was full */
  readonly overflowed: number;
  /** records held now */
  readonly holding: number;
}

export interface Enricher<R> {
  enrich(record: R): JoinOutcome;
  /** pass on as misses the held records whose time is up; returns how many */
  expire(now?: number): number;
  /** pass on every held record as a miss (before a shutdown or a partition revoke) */
  drain(): number;
  stats(): EnricherStats;
  /** stop listening to the table; held records stay until drained */
  close(): void;
}

/** The default merge of a left join: the record plus `enrichment`, null when there is no row. */
export function withEnrichment<R extends object, V>(
  record: R,
  value: V | undefined,
): R & { enrichment: V | null } {
  return { ...record, enrichment: value ?? null };
}

export function createEnricher<R, V, O>(options: EnricherOptions<R, V, O>): Enricher<R> {
  const { table, keyOf, merge, emit, onMissing } = options;
  const byEventTime = options.asOf === "event-time";
  const eventTimeOf = options.eventTimeOf;
  if (byEventTime && eventTimeOf === undefined) {
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, 'asOf "event-time" needs eventTimeOf');
  }
  if (onMissing === "dead-letter" && options.deadLetter === undefined) {
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, 'onMissing "dead-letter" needs a deadLetter callback');
  }
  const clock = options.clock ?? Date.now;
  const maxHoldMs = options.hold?.maxHoldMs ?? 5000;
  const buffer = new HoldBuffer<R>(
    Math.max(1, options.hold?.maxPerKey ?? 100),
    Math.max(1, options.hold?.maxRecords ?? 10_000),
  );
  let hits = 0;
  let misses = 0;
  let deadLettered = 0;
  let held = 0;
  let released = 0;
  let expired = 0;
  let overflowed = 0;

  // chosen once, so the per-record path has no mode test
  const lookup: (key: string, record: R) => V | undefined = byEventTime
    ? (key, record) => table.getAsOf(key, eventTimeOf!(record))
    : (key) => table.get(key);

  const passAsMiss = (record: R) => {
    misses++;
    emit(merge(record, undefined), false);
  };
  const onOverflow = (entry: HeldRecord<R>) => {
    overflowed++;
    passAsMiss(entry.record);
  };
  const onExpired = (entry: HeldRecord<R>) => {
    expired++;
    passAsMiss(entry.record);
  };

  const unsubscribe =
    onMissing === "hold"
      ? table.subscribe((key, value) => {
          if (value === undefined || !buffer.holds(key)) return;
          for (const entry of buffer.take(key)) {
            const row = byEventTime
              ? (table.getAsOf(key, eventTimeOf!(entry.record)) ?? table.getEarliest(key))
              : value;
            released++;
            hits++;
            emit(merge(entry.record, row), true);
          }
        })
      : () => undefined;

  function enrich(record: R): JoinOutcome {
    const key = keyOf(record);
    const value = lookup(key, record);
    if (value !== undefined) {
      hits++;
      emit(merge(record, value), true);
      return "hit";
    }
    switch (onMissing) {
      case "pass":
        passAsMiss(record);
        return "miss";
      case "dead-letter":
        misses++;
        deadLettered++;
        options.deadLetter!(record, `no reference data for key ${key}`);
        return "dead-letter";
      case "hold": {
        const now = clock();
        buffer.expire(now, onExpired);
        if (table.has(key)) {
          // the key is known but no row was valid at the event time: waiting will not help
          passAsMiss(record);
          return "miss";
        }
        held++;
        buffer.hold(key, record, now + maxHoldMs, onOverflow);
        return "held";
      }
    }
  }

  return {
    enrich,
    expire: (now = clock()) => buffer.expire(now, onExpired),
    drain: () => buffer.drain(onExpired),
    stats: () => ({
      hits,
      misses,
      deadLettered,
      held,
      released,
      expired,
      overflowed,
      holding: buffer.size,
    }),
    close: unsubscribe,
  };
}
