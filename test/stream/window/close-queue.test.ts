import { describe, expect, test } from "bun:test";
import { CloseQueue } from "../../../stream/window/close-queue.ts";

describe("heap close queue", () => {
  test("grows past a small initial capacity (regression: its slot arrays were 1024 long, its times 8, and the first grow threw)", () => {
    const queue = new CloseQueue(8);
    for (let i = 0; i < 20; i++) queue.push(100 - i, i, i, 0);
    const closeTimes: number[] = [];
    while (queue.size > 0) {
      closeTimes.push(queue.peekCloseAt());
      queue.pop();
    }
    expect(closeTimes).toEqual(Array.from({ length: 20 }, (_, i) => 81 + i));
  });
});
