import { describe, expect, test } from "bun:test";
import { FeedHub, type FeedSocket } from "../../../api/feeds/feed-hub.ts";

class FakeSocket implements FeedSocket {
  sent: string[] = [];
  buffered = 0;
  closed: { code: number; reason: string } | undefined;
  send(text: string): number {
    this.sent.push(text);
    return text.length;
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
  messages(): Record<string, unknown>[] {
    return this.sent.map((text) => JSON.parse(text) as Record<string, unknown>);
  }
}

describe("feed hub", () => {
  test("a client receives only the feeds it subscribed to, with sequence numbers", () => {
    const hub = new FeedHub();
    const socket = new FakeSocket();
    const id = hub.connect(socket);
    hub.control(id, JSON.stringify({ op: "subscribe", feeds: ["alerts"] }));
    hub.publish("windows", { w: 1 });
    hub.publish("alerts", { a: 1 });
    hub.publish("alerts", { a: 2 });
    const feedMessages = socket.messages().filter((m) => m.feed);
    expect(feedMessages).toEqual([
      { feed: "alerts", seq: 1, data: { a: 1 } },
      { feed: "alerts", seq: 2, data: { a: 2 } },
    ]);
  });

  test.each([
    ["not json", "MALFORMED_JSON"],
    [JSON.stringify({ op: "subscribe", feeds: ["nope"] }), "SCHEMA_VIOLATION"],
    [JSON.stringify({ op: "dance", feeds: [] }), "SCHEMA_VIOLATION"],
  ])("a bad control message %s gets an error reply, not a crash", (text, code) => {
    const hub = new FeedHub();
    const socket = new FakeSocket();
    hub.control(hub.connect(socket), text);
    expect(socket.messages()[0]).toMatchObject({ type: "error", code });
  });

  test("a slow client loses its oldest messages, is told how many, and a fast client loses none", () => {
    const hub = new FeedHub({ maxQueued: 10, maxBufferedBytes: 100 });
    const slow = new FakeSocket();
    const fast = new FakeSocket();
    const slowId = hub.connect(slow);
    const fastId = hub.connect(fast);
    hub.control(slowId, JSON.stringify({ op: "subscribe", feeds: ["readings"] }));
    hub.control(fastId, JSON.stringify({ op: "subscribe", feeds: ["readings"] }));
    slow.buffered = 1000;
    for (let i = 0; i < 25; i++) hub.publish("readings", { i });
    expect(fast.messages().filter((m) => m.feed)).toHaveLength(25);
    slow.buffered = 0;
    hub.flush(slowId);
    const received = slow.messages().filter((m) => m.feed);
    expect(slow.messages().find((m) => m.type === "lagged")).toEqual({ type: "lagged", dropped: 15 });
    expect(received.map((m) => (m.data as { i: number }).i)).toEqual([
      15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
    ]);
  });

  test("a client that stays backlogged past the eviction time is closed with 1013", () => {
    let now = 0;
    const hub = new FeedHub({ maxQueued: 2, maxBufferedBytes: 1, evictAfterMs: 1000, now: () => now });
    const socket = new FakeSocket();
    const id = hub.connect(socket);
    hub.control(id, JSON.stringify({ op: "subscribe", feeds: ["alerts"] }));
    socket.buffered = 10;
    for (let i = 0; i < 5; i++) hub.publish("alerts", { i });
    expect(socket.closed).toBeUndefined();
    now = 1500;
    hub.publish("alerts", { i: 6 });
    expect(socket.closed?.code).toBe(1013);
    expect(hub.clientCount).toBe(0);
  });
});
