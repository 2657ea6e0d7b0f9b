import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FLOODING_CLIENT_CLOSE, SLOW_CLIENT_CLOSE } from "../../api/feeds/feed-hub.ts";
import { MAX_FEED_FRAME_BYTES } from "../../api/server.ts";
import { type ApiUnderTest, startApi } from "./api-fixture.ts";
import { RawWebSocket } from "./raw-websocket.ts";

const subscribe = (...feeds: string[]) => JSON.stringify({ op: "subscribe", feeds });

describe("the feed WebSocket against a real Bun.serve", () => {
  let api: ApiUnderTest;
  beforeAll(() => {
    api = startApi();
  });
  afterAll(() => api.stop());

  test("regression: the message null is answered with an error and the node keeps serving", async () => {
    const ws = await RawWebSocket.open(api.server.port);
    ws.sendText("null");
    await ws.until(() => ws.texts().length >= 1, 5000);
    expect(ws.texts()[0]).toMatchObject({ type: "error", code: "SCHEMA_VIOLATION" });
    ws.sendText(subscribe("alerts"));
    await ws.until(() => ws.texts().length >= 2, 5000);
    expect(ws.texts()[1]).toEqual({ type: "subscribed", feeds: ["alerts"] });
    api.feeds.publish("alerts", { a: 1 });
    await ws.until(() => ws.texts().length >= 3, 5000);
    expect(ws.texts()[2]).toEqual({ feed: "alerts", seq: 1, data: { a: 1 } });
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
    ws.destroy();
  });

  test("a binary frame is answered with UNSUPPORTED_FRAME and the connection stays open", async () => {
    const ws = await RawWebSocket.open(api.server.port);
    ws.sendBinary(new Uint8Array([0, 1, 2, 255]));
    await ws.until(() => ws.texts().length >= 1, 5000);
    expect(ws.texts()[0]).toMatchObject({ type: "error", code: "UNSUPPORTED_FRAME" });
    ws.sendText(subscribe("windows"));
    await ws.until(() => ws.texts().length >= 2, 5000);
    expect(ws.closeFrame()).toBeUndefined();
    ws.destroy();
  });

  test("a frame over the size limit closes the connection with 1009", async () => {
    const ws = await RawWebSocket.open(api.server.port);
    ws.sendText("x".repeat(MAX_FEED_FRAME_BYTES + 1));
    await ws.until(() => ws.closeFrame() !== undefined || ws.ended, 5000);
    expect(ws.closeFrame()?.code).toBe(1009);
    ws.destroy();
  });

  test("a GET /ws without an upgrade is answered 426 with a JSON error", async () => {
    const response = await fetch(`${api.url}/ws`);
    expect(response.status).toBe(426);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("BAD_REQUEST");
  });
});

describe("a client that stops reading its WebSocket", () => {
  test("regression: is closed with 1013 and gets the close frame when it reads again, even after Bun's close timer would have cut it", async () => {
    // Bun cuts a closed socket that has not drained ~16 s after close() (measured with Bun
    // 1.4.5 at the default idleTimeout), dropping what it still buffers. Before the fix the
    // 1013 frame sat in that buffer behind the unread data and was dropped with it: the
    // client saw the end of the TCP stream and no close frame.
    const api = startApi({
      feeds: { maxQueued: 50, evictAfterMs: 300, closeGraceMs: 60_000 },
      feedCheckMs: 100,
    });
    const ws = await RawWebSocket.open(api.server.port);
    try {
      ws.sendText(subscribe("readings"));
      await ws.until(() => ws.texts().length >= 1, 5000);
      ws.pause();
      // publish until the hub evicts the client: its socket and the kernel buffers are full
      const big = "x".repeat(4096);
      const deadline = Date.now() + 20_000;
      let i = 0;
      const evicted = () => {
        const stats = api.feeds.stats();
        return stats.evicting + stats.evictedClosed + stats.evictedTerminated > 0;
      };
      while (!evicted()) {
        if (Date.now() > deadline) throw new Error("the slow client was never evicted");
        for (let n = 0; n < 200; n++) api.feeds.publish("readings", { i: i++, big });
        await Bun.sleep(20);
      }
      // past Bun's close timer (the client sends nothing: a frame left unread in the server's
      // receive queue would turn its close into a reset)
      await Bun.sleep(20_000);
      expect(ws.closeFrame()).toBeUndefined();
      ws.resume();
      await ws.until(() => ws.closeFrame() !== undefined || ws.ended, 15_000);
      expect(ws.closeFrame()).toEqual({ code: SLOW_CLIENT_CLOSE.code, reason: SLOW_CLIENT_CLOSE.reason });
      expect(api.feeds.stats()).toMatchObject({ evictedClosed: 1, evictedTerminated: 0 });
      expect(api.feeds.clientCount).toBe(0);
      const metrics = await (await fetch(`${api.url}/metrics`)).text();
      expect(metrics).toContain('platform_feed_evictions_total{outcome="closed_1013"} 1');
    } finally {
      ws.destroy();
      await api.stop();
    }
  }, 60_000);

  test("that never reads again is cut after the close grace, and the hub forgets it", async () => {
    const api = startApi({
      feeds: { maxQueued: 50, maxBufferedBytes: 64 * 1024, evictAfterMs: 200, closeGraceMs: 1000 },
      feedCheckMs: 100,
    });
    const ws = await RawWebSocket.open(api.server.port);
    try {
      ws.sendText(subscribe("readings"));
      await ws.until(() => ws.texts().length >= 1, 5000);
      ws.pause();
      const big = "x".repeat(4096);
      const deadline = Date.now() + 20_000;
      while (api.feeds.stats().evictedTerminated === 0) {
        if (Date.now() > deadline) throw new Error("the dead client was never cut");
        for (let n = 0; n < 200; n++) api.feeds.publish("readings", { big });
        await Bun.sleep(20);
      }
      expect(api.feeds.clientCount).toBe(0);
      ws.resume();
      await ws.until(() => ws.ended, 10_000);
      expect(ws.closeFrame()).toBeUndefined();
    } finally {
      ws.destroy();
      await api.stop();
    }
  }, 40_000);
});

describe("feed connections from one client address", () => {
  // found probing a node: nothing bounded how many feed connections one address held open, and
  // each may pin its queue and socket buffer
  test("past the cap an upgrade is 429 with a JSON error, and a closed one makes room", async () => {
    const api = startApi({ maxFeedClientsPerAddress: 3 });
    const held: RawWebSocket[] = [];
    try {
      for (let n = 0; n < 3; n++) held.push(await RawWebSocket.open(api.server.port));
      const refused = await fetch(`${api.url}/ws`, {
        headers: {
          upgrade: "websocket",
          connection: "Upgrade",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
          "sec-websocket-version": "13",
        },
      });
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
      expect(api.feeds.clientCount).toBe(3);

      held.shift()?.destroy();
      const deadline = Date.now() + 10_000;
      while (api.feeds.clientCount > 2) {
        if (Date.now() > deadline) throw new Error("the closed connection was never counted down");
        await Bun.sleep(5);
      }
      const again = await RawWebSocket.open(api.server.port);
      held.push(again);
      again.sendText(subscribe("alerts"));
      await again.until(() => again.texts().length >= 1, 5000);
      expect(again.texts()[0]).toEqual({ type: "subscribed", feeds: ["alerts"] });
    } finally {
      for (const ws of held) ws.destroy();
      await api.stop();
    }
  });
});

describe("a feed client flooding the server, on a real Bun.serve", () => {
  let api: ApiUnderTest;
  beforeAll(() => {
    // the node's own rate, and a short patience so the test sends few frames
    api = startApi({ feeds: { controlsPerSecond: 20, controlBurst: 40, maxIgnoredControls: 200 } });
  });
  afterAll(() => api.stop());

  test.each([
    ["control messages", (ws: RawWebSocket) => ws.sendText(subscribe("alerts"))],
    ["pings (Bun answers each with a pong before the hub sees it)", (ws: RawWebSocket) => ws.sendPing()],
  ])(
    "one that keeps sending %s past its rate is closed with 1008, and /health keeps answering",
    async (_, send) => {
      const ws = await RawWebSocket.open(api.server.port);
      const closedBefore = api.feeds.stats().closedFlooding;
      // well past burst + patience, sent at once: the close is decided by the count, not by time
      for (let n = 0; n < 1000 && !ws.ended; n++) send(ws);
      await ws.until(() => ws.closeFrame() !== undefined, 10_000);
      expect(ws.closeFrame()).toEqual({ code: 1008, reason: FLOODING_CLIENT_CLOSE.reason });
      expect(api.feeds.stats().closedFlooding).toBe(closedBefore + 1);
      expect((await fetch(`${api.url}/health`)).status).toBe(200);
      ws.destroy();
    },
  );
});
