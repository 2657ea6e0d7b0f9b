import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { RecordHandler, RecordReader, RecordSlot, RecordWriter } from "../transport.ts";

/**
 * A single-producer / single-consumer byte ring of length-prefixed records, the core of both
 * transports (over a SharedArrayBuffer between threads, or an ArrayBuffer in one thread).
 * The design follows the LMAX Disruptor / Aeron `OneToOneRingBuffer`: free-running positions,
 * one writer, one reader, records framed by a length word, padding at the wrap.
 *
 * Layout of the buffer (all little-endian Int32 words, positions are free-running int32 that
 * wrap at 2^32; `position & (capacity - 1)` is the byte index in the data region):
 *
 *   byte   0  head     position after the last published record (written by the writer only)
 *   byte   4  capacity data region size in bytes, a power of two (written once at creation)
 *   byte   8  reader sleeping flag (1 while the reader waits for data)
 *   byte  64  tail     position after the last consumed record (written by the reader only;
 *                      its own cache line so the two sides do not false-share)
 *   byte  68  writer sleeping flag (1 while the writer waits for space)
 *   byte 128  data region, `capacity` bytes
 *
 * A record at byte index i: Int32 length L (>= 0), then L bytes, then padding to a multiple of
 * 4, so the next record starts at i + 4 + align4(L). A length of -1 is a padding marker: the
 * rest of the region up to its end is unused and the next record starts at index 0. A record
 * never wraps, so the reader hands out one contiguous slice per record.
 *
 * The largest record is capacity / 2 - 4 bytes: then it always fits an empty ring even after
 * wrap padding, so a full ring is always a transient state (back-pressure), never a deadlock.
 *
 * Publication: the writer stores `head` once per batch (`flush`); plain writes of the records
 * happen-before that sequentially consistent store, and the reader's load of `head`
 * synchronizes with it (ECMAScript memory model, Atomics). The writer wakes the reader only if
 * the reader raised its sleeping flag, so a busy pipeline pays no notify at all.
 */

export const HEAD = 0;
export const CAPACITY = 1;
export const READER_SLEEPING = 2;
export const TAIL = 16;
export const WRITER_SLEEPING = 17;
export const DATA_START = 128;
const PADDING = -1;
/** a larger source buffer is not kept alive for the word copy */
const MAX_KEPT_SOURCE_BYTES = 1 << 20;

/** How a side of the ring sleeps and is woken: Atomics across threads, promises in one thread. */
export interface RingWaker {
  wake(control: Int32Array, word: number): void;
  /** resolves true unless `timeoutMs` passed while `control[word]` still equals `expected` */
  wait(control: Int32Array, word: number, expected: number, timeoutMs: number): Promise<boolean>;
}

export function checkCapacity(capacity: number): void {
  if (
    !Number.isInteger(capacity) ||
    capacity < 64 ||
    capacity > 2 ** 30 ||
    (capacity & (capacity - 1)) !== 0
  ) {
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, "ring capacity must be a power of two in 64..2^30", {
      details: { capacity },
    });
  }
}

/** Initialise the control words of a fresh ring buffer of `DATA_START + capacity` bytes. */
export function initRing(buffer: ArrayBufferLike, capacity: number): void {
  checkCapacity(capacity);
  Atomics.store(new Int32Array(buffer, 0, DATA_START / 4), CAPACITY, capacity);
}

function capacityOf(buffer: ArrayBufferLike): number {
  const capacity = Atomics.load(new Int32Array(buffer, 0, DATA_START / 4), CAPACITY);
  checkCapacity(capacity);
  return capacity;
}

export const maxRecordBytesFor = (capacity: number): number => capacity / 2 - 4;

export class RingWriter implements RecordWriter {
  readonly maxRecordBytes: number;
  private readonly control: Int32Array;
  private readonly words: Int32Array;
  private readonly capacity: number;
  private readonly mask: number;
  private readonly slot: { bytes: Uint8Array; view: DataView; offset: number };
  private head: number;
  private cachedTail: number;
  private reservedIndex = -1;
  private reservedMax = 0;
  private seenBuffer: ArrayBufferLike | undefined;
  private sourceBuffer: ArrayBufferLike | undefined;
  private sourceWords: Int32Array | undefined;

  constructor(
    buffer: ArrayBufferLike,
    private readonly waker: RingWaker,
  ) {
    this.capacity = capacityOf(buffer);
    this.mask = this.capacity - 1;
    this.maxRecordBytes = maxRecordBytesFor(this.capacity);
    this.control = new Int32Array(buffer, 0, DATA_START / 4);
    this.words = new Int32Array(buffer, DATA_START, this.capacity / 4);
    const bytes = new Uint8Array(buffer, DATA_START, this.capacity);
    this.slot = { bytes, view: new DataView(buffer, DATA_START, this.capacity), offset: 0 };
    this.head = Atomics.load(this.control, HEAD);
    this.cachedTail = Atomics.load(this.control, TAIL);
  }

  reserve(maxBytes: number): RecordSlot | null {
    if (maxBytes > this.maxRecordBytes || maxBytes < 0) this.tooLarge(maxBytes);
    const need = 4 + ((maxBytes + 3) & ~3);
    const index = this.head & this.mask;
    const toEnd = this.capacity - index;
    const required = need <= toEnd ? need : toEnd + need;
    if (this.capacity - ((this.head - this.cachedTail) | 0) < required) {
      this.cachedTail = Atomics.load(this.control, TAIL);
      if (this.capacity - ((this.head - this.cachedTail) | 0) < required) {
        this.flush(); // let the reader see what is pending, or it could never free space
        return null;
      }
    }
    let at = index;
    if (need > toEnd) {
      this.words[index >> 2] = PADDING;
      this.head = (this.head + toEnd) | 0;
      at = 0;
    }
    this.reservedIndex = at;
    this.reservedMax = maxBytes;
    this.slot.offset = at + 4;
    return this.slot;
  }

  commit(length: number): void {
    if (this.reservedIndex < 0 || length > this.reservedMax || length < 0) {
      throw new PlatformError(ErrorCodes.RING_RECORD_TOO_LARGE, "commit without a matching reservation", {
        details: { length, reserved: this.reservedMax },
      });
    }
    this.words[this.reservedIndex >> 2] = length;
    this.head = (this.head + 4 + ((length + 3) & ~3)) | 0;
    this.reservedIndex = -1;
  }

  tryWrite(record: Uint8Array): boolean {
    // reserve + copy + commit, inlined: this is the per-record hot path of the copy transport
    const length = record.length;
    if (length > this.maxRecordBytes) this.tooLarge(length);
    const need = 4 + ((length + 3) & ~3);
    let index = this.head & this.mask;
    const toEnd = this.capacity - index;
    const required = need <= toEnd ? need : toEnd + need;
    if (this.capacity - ((this.head - this.cachedTail) | 0) < required) {
      this.cachedTail = Atomics.load(this.control, TAIL);
      if (this.capacity - ((this.head - this.cachedTail) | 0) < required) {
        this.flush();
        return false;
      }
    }
    if (need > toEnd) {
      this.words[index >> 2] = PADDING;
      this.head = (this.head + toEnd) | 0;
      index = 0;
    }
    const bytes = this.slot.bytes;
    const at = index + 4;
    if (length > 64) bytes.set(record, at);
    else if (
      (record.byteOffset & 3) === 0 &&
      record.buffer === this.sourceBuffer &&
      (record.byteOffset + length) >>> 2 <= this.sourceWords!.length
    ) {
      // small records (the hot case) copy faster by hand than through TypedArray#set, and a
      // word at a time when the source is aligned as the ring is (records start on 4 bytes):
      // writers encode into one scratch buffer, whose Int32 view is kept (31 -> 27 ns a record)
      const source = this.sourceWords!;
      const from = record.byteOffset >>> 2;
      const to = at >>> 2;
      const whole = length >>> 2;
      for (let i = 0; i < whole; i++) this.words[to + i] = source[from + i]!;
      for (let i = whole << 2; i < length; i++) bytes[at + i] = record[i]!;
    } else {
      this.noteSource(record);
      for (let i = 0; i < length; i++) bytes[at + i] = record[i]!;
    }
    this.words[index >> 2] = length;
    this.head = (this.head + need) | 0;
    return true;
  }

  /**
   * A buffer seen twice in a row is a writer's scratch buffer: its Int32 view is kept, and the
   * next records from it copy by words. A fresh buffer per record never gets a view (that would
   * be an allocation per record). Only one buffer is held, and none past MAX_KEPT_SOURCE_BYTES;
   * one that grew (resizable, growable) keeps its old view, and records past it copy by bytes.
   */
  private noteSource(record: Uint8Array): void {
    const buffer = record.buffer;
    if ((record.byteOffset & 3) !== 0 || buffer.byteLength > MAX_KEPT_SOURCE_BYTES) return;
    if (buffer !== this.seenBuffer) {
      this.seenBuffer = buffer;
      return;
    }
    this.sourceBuffer = buffer;
    this.sourceWords = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
  }

  flush(): void {
    Atomics.store(this.control, HEAD, this.head);
    if (Atomics.load(this.control, READER_SLEEPING) !== 0) this.waker.wake(this.control, HEAD);
  }

  async waitForSpace(timeoutMs: number): Promise<boolean> {
    const tail = Atomics.load(this.control, TAIL);
    if (tail !== this.cachedTail) {
      this.cachedTail = tail;
      return true;
    }
    Atomics.store(this.control, WRITER_SLEEPING, 1);
    try {
      return await this.waker.wait(this.control, TAIL, tail, timeoutMs);
    } finally {
      Atomics.store(this.control, WRITER_SLEEPING, 0);
    }
  }

  private tooLarge(bytes: number): never {
    throw new PlatformError(ErrorCodes.RING_RECORD_TOO_LARGE, "record is larger than the ring carries", {
      details: { bytes, maxRecordBytes: this.maxRecordBytes },
    });
  }
}

export class RingReader implements RecordReader {
  private readonly control: Int32Array;
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly capacity: number;
  private readonly mask: number;
  private tail: number;

  constructor(
    buffer: ArrayBufferLike,
    private readonly waker: RingWaker,
  ) {
    this.capacity = capacityOf(buffer);
    this.mask = this.capacity - 1;
    this.control = new Int32Array(buffer, 0, DATA_START / 4);
    this.words = new Int32Array(buffer, DATA_START, this.capacity / 4);
    this.bytes = new Uint8Array(buffer, DATA_START, this.capacity);
    this.tail = Atomics.load(this.control, TAIL);
  }

  drain(handler: RecordHandler, max = Number.POSITIVE_INFINITY): number {
    const head = Atomics.load(this.control, HEAD);
    let tail = this.tail;
    if (tail === head) return 0;
    let count = 0;
    try {
      while (tail !== head && count < max) {
        const index = tail & this.mask;
        const length = this.words[index >> 2]!;
        if (length === PADDING) {
          tail = (tail + this.capacity - index) | 0;
          continue;
        }
        // advance first: a handler that throws has still received its record
        const before = tail;
        tail = (tail + 4 + ((length + 3) & ~3)) | 0;
        count++;
        if (handler(this.bytes, index + 4, length) === false) {
          tail = before; // refused: it stays for the next drain
          count--;
          break;
        }
      }
    } finally {
      this.tail = tail;
      Atomics.store(this.control, TAIL, tail);
      if (Atomics.load(this.control, WRITER_SLEEPING) !== 0) this.waker.wake(this.control, TAIL);
    }
    return count;
  }

  async waitForData(timeoutMs: number): Promise<boolean> {
    let head = Atomics.load(this.control, HEAD);
    if (head !== this.tail) return true;
    Atomics.store(this.control, READER_SLEEPING, 1);
    try {
      // re-check after raising the flag: a flush in between may not have seen it
      head = Atomics.load(this.control, HEAD);
      if (head !== this.tail) return true;
      await this.waker.wait(this.control, HEAD, head, timeoutMs);
      return Atomics.load(this.control, HEAD) !== this.tail;
    } finally {
      Atomics.store(this.control, READER_SLEEPING, 0);
    }
  }
}
