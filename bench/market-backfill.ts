/**
 * The back-fill end to end, beside the official SDK's bare paging of the same bars in the same
 * run (the target): 10 years of daily bars of 100 symbols and 1 year of minute bars of
 * 10 symbols, from the Alpaca-protocol simulator's REST (its own process, so generating the bars
 * is not on our side) through the official SDK:
 *
 *   baseline   the SDK's paging alone: every page of every symbol requested and decoded, nothing
 *              written
 *   log        sources/market/backfill.ts into `market.bars.<tf>` of an embedded log
 *              (schema-framed, a checkpoint per page), as in the earlier figure
 *   lake       the same, then sinks/lake-catch-up.ts into the lake's `silver_market_bars` (the
 *              lake sink: decode, row mapping, Delta commits with their txns, parquet): rows/s
 *              over the whole run, from the first request to the last lake commit
 *
 * The lake figure is the one the issue asks for ("into the lake"); the log one shows where the
 * time goes. Each case runs in a fresh data folder.
 *
 *   bun bench/market-backfill.ts [--daily-symbols 100] [--minute-symbols 10] [--years 10]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { marketData } from "@alpacahq/alpaca-trade-api";
import { openLog } from "../log/index.ts";
import { ALPACA_TIMEFRAME, type Timeframe } from "../messages/market.ts";
import { SchemaRegistry } from "../registries/schema-registry.ts";
import { catchUpLake } from "../sinks/lake-catch-up.ts";
import { AlpacaSource } from "../sources/market/alpaca/alpaca-source.ts";
import { backfill } from "../sources/market/backfill.ts";
import { provisionMarket } from "../sources/market/market-provisioning.ts";
import { printFigure } from "./support.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const dailySymbols = arg("daily-symbols", 100);
const minuteSymbols = arg("minute-symbols", 10);
const years = arg("years", 10);
const KEYS = { keyId: "bench", secret: "bench-secret" };
const symbols = Array.from(
  { length: Math.max(dailySymbols, minuteSymbols) },
  (_, i) => `S${String(i).padStart(3, "0")}`,
);

async function startSimulator(): Promise<{ url: string; stop(): Promise<void> }> {
  const child = Bun.spawn(
    [
      "bun",
      "bin/alpaca-simulator.ts",
      ...["--symbols", symbols.join(","), "--hours", "calendar", "--speed", "1"],
      ...["--trades-per-minute", "30", "--rate-limit", "1000000", "--profile", "flat"],
    ],
    {
      env: { ...process.env, SIM_KEY_ID: KEYS.keyId, SIM_SECRET_KEY: KEYS.secret },
      stdout: "pipe",
      stderr: "inherit",
    },
  );
  const { value } = await child.stdout.getReader().read();
  const line = new TextDecoder().decode(value).split("\n")[0]!;
  const { url } = JSON.parse(line) as { url: string };
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

interface Case {
  readonly name: string;
  readonly timeframe: Timeframe;
  readonly symbols: readonly string[];
  readonly from: number;
}

const rate = (rows: number, startedAt: number) => rows / ((performance.now() - startedAt) / 1000);

async function barePaging(api: marketData.StockApi, c: Case, to: number): Promise<number> {
  let rows = 0;
  for (const symbol of c.symbols) {
    let token: string | undefined;
    do {
      const response = await api.stockBars({
        symbols: symbol,
        timeframe: ALPACA_TIMEFRAME[c.timeframe],
        start: new Date(c.from),
        end: new Date(to),
        limit: 10_000,
        ...(token ? { pageToken: token } : {}),
      });
      for (const list of Object.values(response.bars)) rows += list.length;
      token = response.nextPageToken ?? undefined;
    } while (token);
  }
  return rows;
}

async function ours(url: string, c: Case, to: number, intoLake: boolean) {
  const dir = mkdtempSync(join(tmpdir(), "backfill-bench-"));
  const log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
  try {
    const codec = await provisionMarket(log, await SchemaRegistry.open(log), 12);
    const source = new AlpacaSource({
      ...KEYS,
      dataUrl: url,
      rateLimit: { maxRequests: 1_000_000, intervalMs: 60_000 },
    });
    const started = performance.now();
    const result = await backfill(
      { log, source, encode: codec.encode },
      { symbols: c.symbols, timeframe: c.timeframe, from: c.from, to },
    );
    const logSeconds = (performance.now() - started) / 1000;
    let lakeRows = 0;
    if (intoLake) {
      const landed = await catchUpLake({
        log,
        decode: codec.decode,
        applicationId: "bench",
        lakeDir: join(dir, "lake"),
        tables: ["silver_market_bars"],
        onDeadLetter: (letter) => {
          throw new Error(`dead letter in the bench: ${letter.reason}`);
        },
      });
      lakeRows = landed.written.silver_market_bars ?? 0;
      if (lakeRows !== result.written)
        throw new Error(`the lake holds ${lakeRows} rows of ${result.written} back-filled`);
    }
    return { rows: result.written, rate: rate(result.written, started), logSeconds, lakeRows };
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const sim = await startSimulator();
try {
  const api = new marketData.StockApi(new marketData.Configuration({ ...KEYS, basePath: sim.url }));
  const to = Date.now();
  const cases: Case[] = [
    {
      name: `daily_${years}y`,
      timeframe: "1d",
      symbols: symbols.slice(0, dailySymbols),
      from: to - years * 365.25 * 86_400_000,
    },
    {
      name: "minute_1y",
      timeframe: "1m",
      symbols: symbols.slice(0, minuteSymbols),
      from: to - 365.25 * 86_400_000,
    },
  ];
  for (const c of cases) {
    // the simulator computes each day once and caches it; a warm-up pass makes both sides read it
    if (c.timeframe === "1d") await barePaging(api, c, to);
    const bareStarted = performance.now();
    const bareRows = await barePaging(api, c, to);
    const bare = rate(bareRows, bareStarted);
    const log = await ours(sim.url, c, to, false);
    const lake = await ours(sim.url, c, to, true);
    const load = loadavg()[0]!.toFixed(1);
    printFigure({
      name: `market_backfill_lake_${c.name}`,
      value: Math.round(lake.rate),
      unit: "rows/s",
      baseline: "official SDK's bare paging of the same bars (no writes), same run",
      baseline_value: Math.round(bare),
      ratio: Math.round((lake.rate / bare) * 100) / 100,
      rows: lake.rows,
      lake_rows: lake.lakeRows,
      baseline_rows: bareRows,
      into_log_only: Math.round(log.rate),
      symbols: c.symbols.length,
      load_average: load,
      into: "market.bars.<tf> of an embedded log, then the lake's silver_market_bars (Delta, txns)",
    });
  }
} finally {
  await sim.stop();
}
process.exit(0);
