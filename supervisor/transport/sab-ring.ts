import type { RecordChannel, RecordReader, RecordWriter } from "../transport.ts";
import { DATA_START, initRing, RingReader, type RingWaker, RingWriter } from "./byte-ring.ts";

/**
 * The cross-worker transport: a byte ring (`byte-ring.ts`) in a SharedArrayBuffer. One side
 * creates the buffer and hands it to the other thread in a postMessage; each side opens its end.
 * A sleeping side waits with `Atomics.waitAsync`, so its event loop stays free for control
 * messages and timers; it is woken with one `Atomics.notify` per batch, and only when asleep.
 */

/** Wakes across threads through the shared control words. */
export const atomicsWaker: RingWaker = {
  wake(control, word) {
    Atomics.notify(control, word);
  },
  wait(control, word, expected, timeoutMs) {
    const result = Atomics.waitAsync(control, word, expected, timeoutMs);
    if (!result.async) return Promise.resolve(result.value !== "timed-out");
    const woken = result.value.then((outcome) => outcome !== "timed-out");
    if (!Number.isFinite(timeoutMs)) return woken;
    // Observed on Bun 1.4.5: a waitAsync whose timeout had passed stayed pending for seconds
    // while no notify came (main thread waiting on a relay worker). An ordinary timer bounds the
    // wait; a waiter left behind is released by the next notify on that word.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(Atomics.load(control, word) !== expected), timeoutMs + 1);
    });
    return Promise.race([woken, timedOut]).finally(() => clearTimeout(timer));
  },
};

/** A fresh shared ring with a data region of `capacity` bytes (a power of two). */
export function createSabRing(capacity: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(DATA_START + capacity);
  initRing(buffer, capacity);
  return buffer;
}

/** The writing end of a shared ring; use from exactly one thread. */
export function openSabRingWriter(ring: SharedArrayBuffer): RecordWriter {
  return new RingWriter(ring, atomicsWaker);
}

/** The reading end of a shared ring; use from exactly one thread. */
export function openSabRingReader(ring: SharedArrayBuffer): RecordReader {
  return new RingReader(ring, atomicsWaker);
}

/** Both ends of a fresh shared ring, for use in one thread (tests) or to pass `ring` on. */
export function sabRingChannel(capacity: number): RecordChannel & { readonly ring: SharedArrayBuffer } {
  const ring = createSabRing(capacity);
  return { ring, writer: openSabRingWriter(ring), reader: openSabRingReader(ring) };
}
