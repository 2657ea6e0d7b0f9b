import { describe, expect, test } from "bun:test";
import { Mailbox } from "../../supervisor/mailbox.ts";

describe("Mailbox", () => {
  test("keeps FIFO order while growing and wrapping around", () => {
    const mailbox = new Mailbox();
    const out: unknown[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < round % 7; i++) mailbox.push(next++);
      for (let i = 0; i < round % 5 && mailbox.size > 0; i++) out.push(mailbox.shift());
    }
    while (mailbox.size > 0) out.push(mailbox.shift());
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
  });

  test("the system lane exists only while it holds something", () => {
    const mailbox = new Mailbox();
    expect(mailbox.system).toBeUndefined();
    mailbox.pushSystem({ type: "started" });
    expect(mailbox.system).toEqual([{ type: "started" }]);
  });
});
