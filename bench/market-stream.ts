/**
 * Market data, two paths, each beside its baseline from the same run:
 *
 * 1. Real-time: the Alpaca-protocol simulator (its own process) streams trades of 100 symbols at
 *    ~50,000 trades/s (a market minute each wall second) in msgpack; the official SDK decodes
 *    them. Baseline: the SDK alone, counting trades (no actors). Ours: SDK -> symbol actors
 *    (1m/5m/1h bars, indicators, anomalies; actors/symbol) -> the feed hub -> a WebSocket client
 *    subscribed to `bars`; figures: trades/s through the actors and bar-close -> WebSocket p99.
 *    The log is not on this path (the node's ingest appends the same trades in parallel; the
 *    third figure is that append rate into the embedded log on its own).
 * The back-fill (history through the SDK into the log and the lake) is `bench/market-backfill.ts`.
 *
 *   bun bench/market-stream.ts [--seconds 8] [--symbols 100] [--trades-per-minute 500]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Alpaca } from "@alpacahq/alpaca-trade-api";
import { symbolProps } from "../actors/symbol/symbol.ts";
import { FeedHub } from "../api/feeds/feed-hub.ts";
import { openLog } from "../log/index.ts";
import type { MarketTrade } from "../messages/market.ts";
import { SchemaRegistry } from "../registries/schema-registry.ts";
import { tradeOfStream } from "../sources/market/alpaca/alpaca-records.ts";
import { MarketIngest } from "../sources/market/market-ingest.ts";
import { provisionMarket } from "../sources/market/market-provisioning.ts";
import { createActorSystem, InMemorySnapshotStore } from "../supervisor/index.ts";
import { printFigure, quantile } from "./support.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg("seconds", 8);
const symbolCount = arg("symbols", 100);
// 100 symbols x 500 a market minute, a market minute each wall second: 50,000 trades/s
const tradesPerMinute = arg("trades-per-minute", 500);
const KEYS = { keyId: "bench", secret: "bench-secret" };
const symbols = Array.from({ length: symbolCount }, (_, i) => `S${String(i).padStart(3, "0")}`);

interface Simulator {
  readonly url: string;
  readonly streamUrl: string;
  stop(): Promise<void>;
}

async function startSimulator(options: {
  hours: string;
  speed: number;
  tradesPerMinute: number;
}): Promise<Simulator> {
  const child = Bun.spawn(
    [
      "bun",
      "bin/alpaca-simulator.ts",
      ...["--symbols", symbols.join(","), "--hours", options.hours, "--speed", String(options.speed)],
      ...[
        "--trades-per-minute",
        String(options.tradesPerMinute),
        "--rate-limit",
        "1000000",
        "--profile",
        "flat",
      ],
    ],
    {
      env: { ...process.env, SIM_KEY_ID: KEYS.keyId, SIM_SECRET_KEY: KEYS.secret },
      stdout: "pipe",
      stderr: "inherit",
    },
  );
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  const line = new TextDecoder().decode(value).split("\n")[0]!;
  const urls = JSON.parse(line) as { url: string; streamUrl: string };
  return {
    ...urls,
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

/** counts SDK trades for `seconds` after a warm-up; `onTrade` runs per decoded trade */
async function streamFor(sim: Simulator, onTrade: (trade: MarketTrade) => void): Promise<number> {
  const stream = new Alpaca(KEYS).marketData.stockStream({ url: sim.streamUrl });
  let counting = false;
  let counted = 0;
  stream.onTrade((t) => {
    const trade = tradeOfStream(t, "alpaca");
    onTrade(trade);
    if (counting) counted++;
  });
  stream.connect();
  if (!(await stream.whenAuthenticated()).authenticated)
    throw new Error("the simulator refused the bench's keys");
  stream.subscribeForTrades(symbols.slice(0, symbolCount));
  await Bun.sleep(2000);
  counting = true;
  const started = performance.now();
  await Bun.sleep(seconds * 1000);
  const elapsed = (performance.now() - started) / 1000;
  counting = false;
  stream.disconnect();
  return counted / elapsed;
}

async function realTime(): Promise<void> {
  // baseline: the SDK decoding the stream, nothing else
  let sim = await startSimulator({ hours: "always", speed: 60, tradesPerMinute });
  const baseline = await streamFor(sim, () => {});
  await sim.stop();

  // ours: the same stream through the symbol actors to a WebSocket client of the bars feed
  sim = await startSimulator({ hours: "always", speed: 60, tradesPerMinute });
  const feeds = new FeedHub();
  const server = Bun.serve<{ id: number }>({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (request, srv) =>
      srv.upgrade(request, { data: { id: 0 } }) ? undefined : new Response("", { status: 400 }),
    websocket: {
      open(ws) {
        ws.data.id = feeds.connect(
          {
            send: (text) => ws.send(text),
            bufferedAmount: () => ws.getBufferedAmount(),
            close: (code, reason) => ws.close(code, reason),
            terminate: () => ws.terminate(),
          },
          () => true,
        );
      },
      message(ws, message) {
        feeds.control(ws.data.id, String(message));
      },
      drain(ws) {
        feeds.flush(ws.data.id);
      },
      close(ws) {
        feeds.disconnect(ws.data.id);
      },
    },
  });
  // the WebSocket client runs in its own process, as a dashboard would; it reports receive times
  const emittedAt = new Map<string, number>();
  const latencies: number[] = [];
  let measuring = false;
  const client = Bun.spawn(["bun", "bench/peers/feed-client.ts", `ws://127.0.0.1:${server.port}/`, "bars"], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const clientLines = (async () => {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of client.stdout) {
      const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        const [key, at] = line.split(" ");
        const sent = key === undefined ? undefined : emittedAt.get(key);
        if (sent === undefined || at === undefined) continue;
        emittedAt.delete(key!);
        if (measuring) latencies.push(Number(at) - sent);
      }
    }
  })();
  while (feeds.stats().clients === 0) await Bun.sleep(20);
  await Bun.sleep(200);
  const system = createActorSystem({ name: "bench", snapshots: new InMemorySnapshotStore() });
  let bars = 0;
  system.register(
    symbolProps({
      onBar: (bar) => {
        bars++;
        emittedAt.set(
          `${bar.symbol}|${bar.timeframe}|${bar.start}`,
          performance.timeOrigin + performance.now(),
        );
        feeds.publish("bars", bar);
      },
      onIndicators: () => {},
      onAnomaly: () => {},
      onLate: () => {},
      onState: () => {},
      latenessMs: 0,
      idleCloseMs: 60_000,
      tickMs: 60_000,
      passivateAfterMs: 600_000,
      now: Date.now,
    }),
  );
  let offset = 0;
  setTimeout(() => {
    measuring = true;
  }, 2000);
  const ours = await streamFor(sim, (trade) =>
    system.tell("symbol", trade.symbol, { type: "trade", trade, offset: offset++ }),
  );
  // the actors kept up if what they still had queued when the stream stopped drains at once
  const drainStarted = performance.now();
  await system.drain(10_000);
  const drainMs = performance.now() - drainStarted;
  await sim.stop();
  await Bun.sleep(500); // the client prints every 200 ms
  client.kill("SIGTERM");
  await clientLines;
  await system.stop();
  server.stop(true);
  printFigure({
    name: "market_stream_trades_through_symbol_actors",
    value: Math.round(ours),
    unit: "trades/s",
    baseline: "official SDK decoding the same stream, no actors",
    baseline_value: Math.round(baseline),
    symbols: symbolCount,
    bars_emitted: bars,
    actor_backlog_drain_ms: Number(drainMs.toFixed(1)),
    target: 50_000,
  });
  printFigure({
    name: "market_bar_close_to_websocket_p99",
    value: Number(quantile(latencies, 0.99).toFixed(2)),
    unit: "ms",
    baseline: "p50 of the same bars",
    baseline_value: Number(quantile(latencies, 0.5).toFixed(2)),
    bars_measured: latencies.length,
    target: 10,
  });
}

async function ingestRate(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "market-ingest-bench-"));
  const log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
  try {
    const codec = await provisionMarket(log, await SchemaRegistry.open(log), 12);
    const ingest = new MarketIngest({
      log,
      encode: codec.frameValidated,
      onDeadLetter: () => {},
      onError: (e) => {
        throw e;
      },
    });
    const n = 100_000;
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      ingest.trade({
        symbol: symbols[i % symbolCount]!,
        price: 100 + (i % 50) / 100,
        size: 1 + (i % 9),
        timestamp: 1_700_000_000_000 + i,
        id: String(i),
        source: "bench",
      });
      if (i % 5000 === 4999) await ingest.flush();
    }
    await ingest.flush();
    const rate = n / ((performance.now() - started) / 1000);
    // baseline: JSON.stringify + append of the same records, without validation and framing
    const records = Array.from({ length: n }, (_, i) => ({
      topic: "bench.plain",
      key: symbols[i % symbolCount]!,
      value: new TextEncoder().encode(
        JSON.stringify({
          symbol: symbols[i % symbolCount],
          price: 100,
          size: 1,
          timestamp: i,
          id: String(i),
          source: "bench",
        }),
      ),
    }));
    await log.createTopic({ name: "bench.plain", partitions: 12 });
    const plainStarted = performance.now();
    for (let i = 0; i < n; i += 5000) await log.append(records.slice(i, i + 5000));
    const plain = n / ((performance.now() - plainStarted) / 1000);
    printFigure({
      name: "market_ingest_trades_to_embedded_log",
      value: Math.round(rate),
      unit: "trades/s",
      baseline: "pre-encoded JSON appended in the same batches (no validation, no schema framing)",
      baseline_value: Math.round(plain),
    });
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await realTime();
await ingestRate();
process.exit(0);
