import type { RecordChannel } from "../transport.ts";
import { DATA_START, initRing, RingReader, type RingWaker, RingWriter } from "./byte-ring.ts";

/**
 * The same-thread transport: the byte ring of `byte-ring.ts` over a plain ArrayBuffer, woken by
 * promises instead of Atomics.notify. Used where both ends live on one event loop (a single
 * worker deployment, tests); the records, batching and back-pressure behave exactly as across
 * workers, so code written against one runs unchanged on the other.
 */

function promiseWaker(): RingWaker {
  const sleepers = new Map<number, () => void>();
  return {
    wake(_control, word) {
      const resolve = sleepers.get(word);
      if (resolve === undefined) return;
      sleepers.delete(word);
      resolve();
    },
    wait(control, word, expected, timeoutMs) {
      if (Atomics.load(control, word) !== expected) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        sleepers.set(word, () => {
          if (timer !== undefined) clearTimeout(timer);
          resolve(true);
        });
        if (Number.isFinite(timeoutMs)) {
          timer = setTimeout(() => {
            sleepers.delete(word);
            resolve(false);
          }, timeoutMs);
        }
      });
    },
  };
}

/** A same-thread channel with a data region of `capacity` bytes (a power of two). */
export function inProcessChannel(capacity: number): RecordChannel {
  const buffer = new ArrayBuffer(DATA_START + capacity);
  initRing(buffer, capacity);
  const waker = promiseWaker();
  return { writer: new RingWriter(buffer, waker), reader: new RingReader(buffer, waker) };
}
