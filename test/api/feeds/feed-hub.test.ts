import { describe, expect, test } from "bun:test";
import { MAX_CONTROL_FEEDS } from "../../../api/feeds/feed-control.ts";
import { FeedHub, type FeedSocket, FLOODING_CLIENT_CLOSE } from "../../../api/feeds/feed-hub.ts";

class FakeSocket implements FeedSocket {
  sent: string[] = [];
  /** the sends of each cork, in order */
  corks: string[][] = [];
  buffered = 0;
  closed: { code: number; reason: string } | undefined;
  terminated = false;
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
  terminate(): void {
    this.terminated = true;
  }
  cork(write: () => void): void {
    const before = this.sent.length;
    write();
    this.corks.push(this.sent.slice(before));
  }
  messages(): Record<string, unknown>[] {
    return this.sent.map((text) => JSON.parse(text) as Record<string, unknown>);
  }
}

const subscribe = (...feeds: string[]) => JSON.stringify({ op: "subscribe", feeds });
/** published messages go out once the synchronous work that published them is done */
const sendsDone = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe("feed hub", () => {
  test("a client receives only the feeds it subscribed to, with sequence numbers", async () => {
    const hub = new FeedHub();
    const socket = new FakeSocket();
    const id = hub.connect(socket);
    hub.control(id, subscribe("alerts"));
    hub.publish("windows", { w: 1 });
    hub.publish("alerts", { a: 1 });
    hub.publish("alerts", { a: 2 });
    await sendsDone();
    const feedMessages = socket.messages().filter((m) => m.feed);
    expect(feedMessages).toEqual([
      { feed: "alerts", seq: 1, data: { a: 1 } },
      { feed: "alerts", seq: 2, data: { a: 2 } },
    ]);
  });

  test.each([
    ["not json", "MALFORMED_JSON"],
    ["null", "SCHEMA_VIOLATION"],
    ["[]", "SCHEMA_VIOLATION"],
    ['"subscribe"', "SCHEMA_VIOLATION"],
    ["42", "SCHEMA_VIOLATION"],
    ["{}", "SCHEMA_VIOLATION"],
    [JSON.stringify({ op: "subscribe" }), "SCHEMA_VIOLATION"],
    [JSON.stringify({ op: "subscribe", feeds: null }), "SCHEMA_VIOLATION"],
    [JSON.stringify({ op: "subscribe", feeds: "alerts" }), "SCHEMA_VIOLATION"],
    [JSON.stringify({ op: "subscribe", feeds: [] }), "SCHEMA_VIOLATION"],
    [JSON.stringify({ op: "subscribe", feeds: [1, 2] }), "SCHEMA_VIOLATION"],
    [JSON.stringify({ op: "subscribe", feeds: ["nope"] }), "SCHEMA_VIOLATION"],
    [
      JSON.stringify({ op: "subscribe", feeds: Array(MAX_CONTROL_FEEDS + 1).fill("alerts") }),
      "SCHEMA_VIOLATION",
    ],
    [JSON.stringify({ op: "subscribe", feeds: ["alerts"], extra: 1 }), "SCHEMA_VIOLATION"],
    [JSON.stringify({ op: "dance", feeds: ["alerts"] }), "SCHEMA_VIOLATION"],
    [JSON.stringify({ op: { $gt: "" }, feeds: ["alerts"] }), "SCHEMA_VIOLATION"],
    ["[".repeat(1000) + "]".repeat(1000), "SCHEMA_VIOLATION"],
    [JSON.stringify({ op: "subscribe", feeds: ["x".repeat(5000)] }), "PAYLOAD_TOO_LARGE"],
  ])("a bad control message gets an error reply with its code, not a crash: %#", (text, code) => {
    const hub = new FeedHub();
    const socket = new FakeSocket();
    hub.control(hub.connect(socket), text);
    const [reply] = socket.messages();
    expect(reply).toMatchObject({ type: "error", code });
    expect(String(reply!.message).length).toBeLessThan(600);
    expect(hub.stats().rejectedControls).toBe(1);
  });

  test("regression: the control message null is answered, where it used to throw on request.feeds", () => {
    const hub = new FeedHub();
    const socket = new FakeSocket();
    const id = hub.connect(socket);
    expect(() => hub.control(id, "null")).not.toThrow();
    hub.control(id, subscribe("alerts"));
    expect(socket.messages().at(-1)).toEqual({ type: "subscribed", feeds: ["alerts"] });
  });

  // found probing a node: one client sent 5.5 million control frames in 5 s, each parsed and
  // answered on the main thread, and /health went from 2 ms to 160 ms
  test.each([
    ["text control messages", (hub: FeedHub, id: number) => hub.control(id, subscribe("alerts"))],
    ["binary frames", (hub: FeedHub, id: number) => hub.refuse(id, "UNSUPPORTED_FRAME", "binary")],
  ])(
    "%s past the client's rate are ignored, told once per throttled stretch, and admitted again after a refill",
    (_, send) => {
      let now = 1_000_000;
      const hub = new FeedHub({ controlsPerSecond: 10, controlBurst: 5, now: () => now });
      const socket = new FakeSocket();
      const id = hub.connect(socket);
      for (let n = 0; n < 1000; n++) send(hub, id);
      const replies = socket.messages();
      expect(replies).toHaveLength(6);
      expect(replies[5]).toMatchObject({ type: "error", code: "RATE_LIMITED" });
      expect(replies.slice(0, 5).every((r) => r.code !== "RATE_LIMITED")).toBe(true);
      expect(hub.stats().rejectedControls).toBeGreaterThanOrEqual(995);

      now += 100; // one token back
      send(hub, id);
      send(hub, id);
      const after = socket.messages().slice(6);
      expect(after).toHaveLength(2);
      expect(after[0]!.code).not.toBe("RATE_LIMITED");
      expect(after[1]).toMatchObject({ type: "error", code: "RATE_LIMITED" });
    },
  );

  test.each([
    ["text control messages", (hub: FeedHub, id: number) => hub.control(id, subscribe("alerts"))],
    ["binary frames", (hub: FeedHub, id: number) => hub.refuse(id, "UNSUPPORTED_FRAME", "binary")],
    ["pings", (hub: FeedHub, id: number) => hub.ping(id)],
  ])(
    "a client that keeps sending %s after it was told it is over its rate is closed with 1008",
    (_, send) => {
      const now = 1_000_000;
      const hub = new FeedHub({
        controlsPerSecond: 10,
        controlBurst: 5,
        maxIgnoredControls: 100,
        now: () => now,
      });
      const socket = new FakeSocket();
      const id = hub.connect(socket);
      // 5 admitted, the 6th told RATE_LIMITED and ignored, then 99 more ignored: still open
      for (let n = 0; n < 105; n++) send(hub, id);
      expect(socket.closed).toBeUndefined();
      send(hub, id);
      expect(socket.closed).toEqual({ code: 1008, reason: FLOODING_CLIENT_CLOSE.reason });
      expect(hub.stats()).toMatchObject({ clients: 0, closedFlooding: 1 });
      // frames still in flight from it are dropped without a word
      const replies = socket.sent.length;
      send(hub, id);
      expect(socket.sent).toHaveLength(replies);
    },
  );

  test("a client that slows down when told is never closed, however long it keeps going", () => {
    let now = 1_000_000;
    const hub = new FeedHub({
      controlsPerSecond: 10,
      controlBurst: 5,
      maxIgnoredControls: 100,
      now: () => now,
    });
    const socket = new FakeSocket();
    const id = hub.connect(socket);
    for (let second = 0; second < 60; second++) {
      // a burst over the rate each second, then quiet until the bucket refills
      for (let n = 0; n < 50; n++) hub.control(id, subscribe("alerts"));
      now += 1000;
    }
    expect(socket.closed).toBeUndefined();
    expect(hub.stats().closedFlooding).toBe(0);
  });

  test("one client's flood does not throttle another client", () => {
    const hub = new FeedHub({ controlsPerSecond: 10, controlBurst: 5, now: () => 0 });
    const flooder = hub.connect(new FakeSocket());
    for (let n = 0; n < 100; n++) hub.control(flooder, subscribe("alerts"));
    const calm = new FakeSocket();
    hub.control(hub.connect(calm), subscribe("windows"));
    expect(calm.messages()).toEqual([{ type: "subscribed", feeds: ["windows"] }]);
  });

  test("unsubscribe removes feeds and says what is left", () => {
    const hub = new FeedHub();
    const socket = new FakeSocket();
    const id = hub.connect(socket);
    hub.control(id, subscribe("alerts", "windows"));
    hub.control(id, JSON.stringify({ op: "unsubscribe", feeds: ["alerts"] }));
    expect(socket.messages().at(-1)).toEqual({ type: "subscribed", feeds: ["windows"] });
  });

  test("a slow client loses its oldest messages, is told how many, and a fast client loses none", async () => {
    const hub = new FeedHub({ maxQueued: 10, maxBufferedBytes: 100 });
    const slow = new FakeSocket();
    const fast = new FakeSocket();
    const slowId = hub.connect(slow);
    const fastId = hub.connect(fast);
    hub.control(slowId, subscribe("readings"));
    hub.control(fastId, subscribe("readings"));
    slow.buffered = 1000;
    for (let i = 0; i < 25; i++) hub.publish("readings", { i });
    await sendsDone();
    expect(fast.messages().filter((m) => m.feed)).toHaveLength(25);
    slow.buffered = 0;
    hub.flush(slowId);
    const received = slow.messages().filter((m) => m.feed);
    expect(slow.messages().find((m) => m.type === "lagged")).toEqual({ type: "lagged", dropped: 15 });
    expect(received.map((m) => (m.data as { i: number }).i)).toEqual([
      15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
    ]);
  });

  test("a client backlogged past the eviction time gets nothing more and is closed with 1013 once its socket drains", async () => {
    let now = 0;
    const hub = new FeedHub({ maxQueued: 2, maxBufferedBytes: 1, evictAfterMs: 1000, now: () => now });
    const socket = new FakeSocket();
    const id = hub.connect(socket);
    hub.control(id, subscribe("alerts"));
    socket.buffered = 10;
    for (let i = 0; i < 5; i++) hub.publish("alerts", { i });
    await sendsDone();
    now = 1500;
    hub.publish("alerts", { i: 6 });
    await sendsDone();
    // evicted, but the close frame would sit behind a full buffer: it waits
    expect(socket.closed).toBeUndefined();
    const sentBefore = socket.sent.length;
    hub.publish("alerts", { i: 7 });
    await sendsDone();
    expect(socket.sent.length).toBe(sentBefore);
    socket.buffered = 0;
    hub.flush(id); // Bun's drain
    expect(socket.closed?.code).toBe(1013);
    expect(socket.terminated).toBe(false);
    expect(hub.clientCount).toBe(0);
    expect(hub.stats()).toMatchObject({ evictedClosed: 1, evictedTerminated: 0 });
  });

  test("an evicted client whose socket never drains is terminated after the close grace", async () => {
    let now = 0;
    const hub = new FeedHub({
      maxQueued: 2,
      maxBufferedBytes: 1,
      evictAfterMs: 1000,
      closeGraceMs: 5000,
      now: () => now,
    });
    const socket = new FakeSocket();
    const id = hub.connect(socket);
    hub.control(id, subscribe("alerts"));
    socket.buffered = 10;
    for (let i = 0; i < 5; i++) hub.publish("alerts", { i });
    await sendsDone();
    now = 1000;
    hub.flush();
    now = 5999;
    hub.flush();
    expect(socket.terminated).toBe(false);
    now = 6000;
    hub.flush();
    expect(socket.terminated).toBe(true);
    expect(socket.closed).toBeUndefined();
    expect(hub.clientCount).toBe(0);
    expect(hub.stats()).toMatchObject({ evictedClosed: 0, evictedTerminated: 1 });
  });

  test("an evicted client's own messages are ignored", async () => {
    let now = 0;
    const hub = new FeedHub({ maxQueued: 1, maxBufferedBytes: 1, evictAfterMs: 0, now: () => now });
    const socket = new FakeSocket();
    const id = hub.connect(socket);
    hub.control(id, subscribe("alerts"));
    socket.buffered = 10;
    hub.publish("alerts", {});
    await sendsDone();
    hub.publish("alerts", {});
    await sendsDone();
    now = 1;
    const sent = socket.sent.length;
    hub.control(id, subscribe("windows"));
    hub.refuse(id, "UNSUPPORTED_FRAME", "binary");
    expect(socket.sent.length).toBe(sent);
  });

  test("what is published in one synchronous stretch goes to each client after it, in order, in one cork", async () => {
    const hub = new FeedHub();
    const windows = new FakeSocket();
    const both = new FakeSocket();
    hub.control(hub.connect(windows), subscribe("windows"));
    hub.control(hub.connect(both), subscribe("windows", "alerts"));
    const replies = both.sent.length;
    for (let i = 0; i < 5; i++) {
      hub.publish("windows", { i });
      hub.publish("alerts", { i });
    }
    expect(windows.messages().filter((m) => m.feed)).toEqual([]);
    await sendsDone();
    expect(windows.messages().filter((m) => m.feed)).toEqual(
      [1, 2, 3, 4, 5].map((seq) => ({ feed: "windows", seq, data: { i: seq - 1 } })),
    );
    expect(windows.corks).toHaveLength(1);
    expect(both.corks).toEqual([both.sent.slice(replies)]);
    expect(both.corks[0]!.map((text) => JSON.parse(text).feed)).toEqual(
      Array.from({ length: 5 }, () => ["windows", "alerts"]).flat(),
    );
    // the next stretch is a batch of its own
    hub.publish("windows", { i: 5 });
    hub.publish("windows", { i: 6 });
    await sendsDone();
    expect(windows.corks).toHaveLength(2);
    expect(windows.corks[1]!.map((text) => JSON.parse(text).seq)).toEqual([6, 7]);
  });

  test("a socket without cork gets the same messages one by one, and a client gone before the sends gets none", async () => {
    const hub = new FeedHub();
    const plain: FeedSocket & { sent: string[] } = {
      sent: [],
      send(text) {
        this.sent.push(text);
        return text.length;
      },
      bufferedAmount: () => 0,
      close: () => {},
      terminate: () => {},
    };
    const leaving = new FakeSocket();
    hub.control(hub.connect(plain), subscribe("windows"));
    const leavingId = hub.connect(leaving);
    hub.control(leavingId, subscribe("windows"));
    const replies = leaving.sent.length;
    hub.publish("windows", { a: 1 });
    hub.publish("windows", { a: 2 });
    hub.disconnect(leavingId);
    await sendsDone();
    expect(plain.sent.slice(1).map((text) => JSON.parse(text).data)).toEqual([{ a: 1 }, { a: 2 }]);
    expect(leaving.sent).toHaveLength(replies);
  });

  test("a backlog larger than the socket takes is sent as far as the buffer allows and the rest waits in order", async () => {
    const hub = new FeedHub({ maxBufferedBytes: 100 });
    const socket = new FakeSocket();
    const id = hub.connect(socket);
    hub.control(id, subscribe("windows"));
    socket.send = function (text: string) {
      this.sent.push(text);
      this.buffered += text.length;
      return text.length;
    };
    const before = socket.sent.length;
    for (let i = 0; i < 10; i++) hub.publish("windows", { i });
    await sendsDone();
    const first = socket.messages().slice(before);
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(10);
    socket.buffered = 0;
    hub.flush(id);
    socket.buffered = 0;
    hub.flush(id);
    socket.buffered = 0;
    hub.flush(id);
    const all = socket
      .messages()
      .slice(before)
      .map((m) => (m.data as { i: number }).i);
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(hub.stats().dropped).toBe(0);
  });
});
