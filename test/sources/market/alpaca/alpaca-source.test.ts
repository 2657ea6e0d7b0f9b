import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encode } from "@msgpack/msgpack";
import type { ServerWebSocket } from "bun";
import { openLog } from "../../../../log/index.ts";
import type { DeadLetter } from "../../../../messages/dead-letter.ts";
import { AlpacaSource, clientRateLimit } from "../../../../sources/market/alpaca/alpaca-source.ts";
import { MarketIngest } from "../../../../sources/market/market-ingest.ts";
import { until } from "../market-fixture.ts";

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/**
 * A hostile server that speaks just enough of the v2 stream to be connected to, then sends what
 * no real server should: bytes that are not msgpack, frames of unknown types, trades with bad
 * fields, a frame that is not an array, a very large frame; and one good trade at the end.
 */
function hostileServer() {
  const good = {
    T: "t",
    S: "AAPL",
    i: 1,
    x: "V",
    p: 187.5,
    s: 100,
    t: new Date("2026-03-02T15:00:00Z"),
    c: ["@"],
    z: "C",
  };
  let answered = false;
  const server = Bun.serve<undefined>({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (request, srv) =>
      srv.upgrade(request, { data: undefined }) ? undefined : new Response("no", { status: 400 }),
    websocket: {
      open(ws: ServerWebSocket<undefined>) {
        ws.send(encode([{ T: "success", msg: "connected" }]));
      },
      // whatever the client says (its auth, then its subscription), the answer is the same barrage
      message(ws) {
        if (answered) return;
        answered = true;
        ws.send(encode([{ T: "success", msg: "authenticated" }]));
        ws.send(new Uint8Array([0xc1, 0xff, 0x00, 0x13])); // 0xc1 is never valid msgpack
        ws.send(encode({ T: "t", S: "AAPL" })); // not an array of frames
        ws.send(encode([{ T: "zz", S: "AAPL" }, 42]));
        ws.send(
          encode([
            { ...good, p: -5 },
            { ...good, p: "abc" },
            { ...good, S: "not a symbol!" },
          ]),
        );
        ws.send(encode(Array.from({ length: 20_000 }, (_, i) => ({ ...good, i: i + 10, p: -1 }))));
        ws.send(encode([good]));
      },
    },
  });
  cleanup.push(() => server.stop(true));
  return `ws://127.0.0.1:${server.port}/v2/iex`;
}

describe("the Alpaca adapter", () => {
  test("a hostile server's frames become dead letters with reasons; the good trade still arrives", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hostile-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
    cleanup.push(() => log.close());
    for (const topic of ["market.trades.raw", "market.quotes.raw", "market.bars.raw"])
      await log.createTopic({ name: topic, partitions: 2 });
    const letters: DeadLetter[] = [];
    const ingest = new MarketIngest({
      log,
      encode: (_t, v) => new TextEncoder().encode(JSON.stringify(v)),
      onDeadLetter: (letter) => letters.push(letter),
      onError: (error) => {
        throw error;
      },
    });
    const source = new AlpacaSource({
      keyId: "k",
      secret: "s",
      streamUrl: hostileServer(),
      connectTimeoutMs: 5000,
    });
    const feed = await source.stream(["AAPL"], {
      trade: (t) => ingest.trade(t),
      quote: (q) => ingest.quote(q),
      bar: (b) => ingest.bar(b),
      interrupted: () => {},
      resumed: () => {},
      failed: () => {},
    });
    cleanup.push(() => feed.stop());
    await until(
      () => ingest.counts.trades === 1 && ingest.counts.rejected >= 3 + 20_000,
      20_000,
      "the frames",
    );
    await ingest.flush();
    expect(letters.some((l) => l.reason.startsWith("price:"))).toBe(true);
    expect(letters.some((l) => l.reason.startsWith("symbol:"))).toBe(true);
    expect(letters.every((l) => l.code === "SCHEMA_VIOLATION" && l.source === "market:alpaca")).toBe(true);
    const stored = await log.read({ topic: "market.trades.raw", partition: 0 }, { maxRecords: 10 });
    const stored1 = await log.read({ topic: "market.trades.raw", partition: 1 }, { maxRecords: 10 });
    expect(stored.length + stored1.length).toBe(1);
  }, 30_000);

  test.each([
    { server: { maxRequests: 200, intervalMs: 60_000 } },
    { server: { maxRequests: 4, intervalMs: 1000 } },
    { server: { maxRequests: 1, intervalMs: 1000 } },
    { server: { maxRequests: 10_000, intervalMs: 60_000 } },
  ])("the client's token bucket never exceeds $server.maxRequests in any window", ({ server }) => {
    const bucket = clientRateLimit(server);
    // the worst window: a full burst, then the whole tokens one window refills
    const worst =
      bucket.maxRequests + Math.floor((bucket.maxRequests * server.intervalMs) / bucket.intervalMs);
    expect(worst).toBeLessThanOrEqual(server.maxRequests);
    expect(worst).toBeGreaterThanOrEqual(Math.floor(server.maxRequests * 0.7));
  });
});
