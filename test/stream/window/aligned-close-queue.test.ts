import { describe, expect, test } from "bun:test";
import { AlignedCloseQueue } from "../../../stream/window/aligned-close-queue.ts";
import { CloseQueue } from "../../../stream/window/close-queue.ts";

type Entry = readonly [closeAt: number, seq: number, slot: number, generation: number];

function drain(queue: CloseQueue | AlignedCloseQueue, limit = Number.POSITIVE_INFINITY): Entry[] {
  const out: Entry[] = [];
  while (queue.size > 0 && queue.peekCloseAt() <= limit) {
    out.push([queue.peekCloseAt(), -1, queue.peekSlot(), queue.peekGeneration()]);
    queue.pop();
  }
  return out;
}

/** a deterministic xorshift, so a failing case can be replayed */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4_294_967_296;
  };
}

describe("aligned close queue", () => {
  test.each([
    [
      "in seq order, several close times",
      [
        [20, 0, 1, 0],
        [10, 1, 2, 0],
        [20, 2, 3, 0],
        [10, 3, 4, 1],
      ],
    ],
    [
      "one close time",
      [
        [5, 0, 7, 0],
        [5, 1, 8, 0],
        [5, 2, 9, 0],
      ],
    ],
    [
      "a push below the bucket's last seq is placed by seq",
      [
        [10, 5, 1, 0],
        [10, 2, 2, 0],
        [10, 9, 3, 0],
        [10, 1, 4, 0],
      ],
    ],
    [
      "a bucket grown past its first four entries, then a push below its last seq",
      [
        [30, 0, 10, 0],
        [30, 1, 11, 3],
        [30, 2, 12, 0],
        [30, 3, 13, 7],
        [30, 4, 14, 0],
        [30, 6, 15, 2],
        [30, 5, 16, 1],
        [15, 7, 17, 0],
      ],
    ],
  ] as const)("leaves in (closeAt, seq) order like the heap: %s", (_name, entries) => {
    const heap = new CloseQueue(4);
    const aligned = new AlignedCloseQueue();
    for (const [closeAt, seq, slot, generation] of entries) {
      heap.push(closeAt, seq, slot, generation);
      aligned.push(closeAt, seq, slot, generation);
    }
    expect(drain(aligned)).toEqual(drain(heap));
  });

  test("pops up to a limit, accepts pushes between pops and reuses emptied buckets", () => {
    const next = random(7);
    const heap = new CloseQueue(4);
    const aligned = new AlignedCloseQueue();
    let seq = 0;
    for (let round = 0; round < 200; round++) {
      const pushes = Math.floor(next() * 20);
      for (let i = 0; i < pushes; i++) {
        // close times on a grid, as time windows have them
        const closeAt = (round + Math.floor(next() * 6)) * 1_000;
        const slot = Math.floor(next() * 1_000);
        heap.push(closeAt, seq, slot, round);
        aligned.push(closeAt, seq, slot, round);
        seq++;
      }
      const limit = (round - 2) * 1_000;
      expect(drain(aligned, limit)).toEqual(drain(heap, limit));
      expect(aligned.size).toBe(heap.size);
      expect(aligned.peekCloseAt()).toBe(heap.peekCloseAt());
    }
    expect(drain(aligned)).toEqual(drain(heap));
    expect(aligned.peekCloseAt()).toBe(Number.POSITIVE_INFINITY);
  });

  test("clear empties every bucket", () => {
    const queue = new AlignedCloseQueue();
    queue.push(10, 0, 1, 0);
    queue.push(20, 1, 2, 0);
    queue.clear();
    expect(queue.size).toBe(0);
    expect(queue.peekCloseAt()).toBe(Number.POSITIVE_INFINITY);
    queue.push(30, 2, 3, 0);
    expect(drain(queue)).toEqual([[30, -1, 3, 0]]);
  });
});
