/**
 * The transport port: a one-way, single-producer / single-consumer channel of binary records,
 * published in batches. Hot messages (readings, window updates) cross workers through it as
 * records encoded by `messages/codec/`; control messages use the worker's postMessage channel.
 *
 * Implementations: `transport/in-process.ts` (same thread; tests and the no-worker fallback) and
 * `transport/sab-ring.ts` (a SharedArrayBuffer ring between threads). Both pass
 * `test/supervisor/transport.contract.ts`.
 *
 * Rules every implementation keeps:
 * - Records arrive in the order written, each exactly once, never dropped.
 * - Written records become visible to the reader only at `flush()` (one publish per batch);
 *   a writer that finds the channel full publishes what it has and reports back-pressure.
 * - A record larger than `maxRecordBytes` fails with RING_RECORD_TOO_LARGE; a full channel
 *   makes `tryWrite` / `reserve` return false / null: the caller waits (`waitForSpace`) and
 *   retries.
 * - The reader's handler sees the bytes in place; it must copy anything it keeps after it returns.
 */

/** A place to write one record in place (zero-copy). Reused between calls: do not keep it. */
export interface RecordSlot {
  /** the whole backing store; write the record at `[offset, offset + reserved)` */
  readonly bytes: Uint8Array;
  /** a DataView over the same bytes as `bytes`, same offsets */
  readonly view: DataView;
  readonly offset: number;
}

export interface RecordWriter {
  /** the largest record this channel carries */
  readonly maxRecordBytes: number;
  /** copy `record` in; false when the channel is full (nothing written) */
  tryWrite(record: Uint8Array): boolean;
  /** room for a record of up to `maxBytes`; null when full. Follow with `commit(actualBytes)`. */
  reserve(maxBytes: number): RecordSlot | null;
  /** finish the last reservation with the record's actual length (<= the reserved size) */
  commit(length: number): void;
  /** publish every record written since the last flush to the reader (one store + one wake-up) */
  flush(): void;
  /** resolves true once the reader has freed space, false after `timeoutMs` */
  waitForSpace(timeoutMs: number): Promise<boolean>;
}

/**
 * Called once per record, in order; `bytes[offset, offset + length)` is the record. Returning
 * `false` leaves this record (and those after it) in the channel and ends the drain: that is how
 * a consumer whose own output is full applies back-pressure upstream. A throw also ends the
 * drain, with the record counted as delivered.
 */
export type RecordHandler = (bytes: Uint8Array, offset: number, length: number) => unknown;

export interface RecordReader {
  /** hand up to `max` published records to `handler`, free their space, return how many it took */
  drain(handler: RecordHandler, max?: number): number;
  /** resolves true as soon as published records are waiting, false after `timeoutMs` */
  waitForData(timeoutMs: number): Promise<boolean>;
}

export interface RecordChannel {
  readonly writer: RecordWriter;
  readonly reader: RecordReader;
}
