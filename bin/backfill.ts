/**
 * `bun run backfill`: historical bars into `market.bars.<timeframe>`, resumable and idempotent
 * (sources/market/backfill.ts), then into the lake's `silver_market_bars` through the lake's own
 * sink (sinks/lake-catch-up.ts: the node's consumer group and Delta txns, so exactly once with or
 * without a node running, and a second run writes nothing new in the log or the lake), with a
 * progress bar on stderr:
 *
 *   bun run backfill -- --symbols AAPL,MSFT --years 10 --timeframe 1Day
 *   bun run backfill -- --symbols AAPL --from 2024-01-02 --to 2024-03-01 --timeframe 1Min
 *
 * The source is --source alpaca|simulator|replay; by default Alpaca when ALPACA_KEY_ID and
 * ALPACA_SECRET_KEY are set (ALPACA_DATA_URL points it elsewhere, e.g. at the simulator's
 * server), else the simulator on the NYSE calendar. The log is the node's: KAFKA_BROKERS, else
 * the embedded log in DATA_DIR; the lake is the node's (LAKE_DIR, else DATA_DIR/lake), skipped
 * with --lake off or LAKE=off. Keys are read from the environment only and never printed.
 *
 * Why through the log and the lake sink, not straight into Delta: the log is where every bar of
 * the platform is, so replay sources and the node's consumers see back-filled history; and the
 * sink's per-partition txn versions make the lake exactly-once against the log by construction,
 * including a run killed between its log append and its lake commit (the next run, or a node,
 * writes the rest) and a node's lake sink consuming the same records at the same time.
 */
import { isPlatformError } from "../messages/errors.ts";
import { SYMBOL_PATTERN, type Timeframe, timeframeOf } from "../messages/market.ts";
import { lakeDirOf, loadNodeConfig } from "../node/config.ts";
import { marketSymbolsOf } from "../node/market.ts";
import { openNodeLog } from "../node/node-log.ts";
import { catchUpLake } from "../sinks/lake-catch-up.ts";
import { AlpacaSource, hasAlpacaKeys } from "../sources/market/alpaca/alpaca-source.ts";
import { backfill } from "../sources/market/backfill.ts";
import type { MarketDataSource } from "../sources/market/market-data-source.ts";
import { provisionMarket } from "../sources/market/market-provisioning.ts";
import { ReplaySource } from "../sources/market/replay/replay-source.ts";
import { MarketModel } from "../sources/market/simulator/market-model.ts";
import { SimulatorSource } from "../sources/market/simulator-source.ts";

const USAGE = `usage: bun run backfill -- [--symbols A,B] [--years N | --days N | --from DATE [--to DATE]]
                          [--timeframe 1Min|5Min|15Min|1Hour|1Day] [--source alpaca|simulator|replay]
                          [--page-size N] [--lake on|off]`;

function fail(message: string): never {
  console.error(`error: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseFlags(argv: readonly string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") continue;
    if (!arg.startsWith("--")) fail(`unexpected argument '${arg.slice(0, 40)}'`);
    const [name, inline] = arg.slice(2).split("=", 2) as [string, string | undefined];
    const value = inline ?? argv[++i];
    if (value === undefined) fail(`--${name} needs a value`);
    flags[name] = value;
  }
  return flags;
}

const KNOWN = new Set(["symbols", "years", "days", "from", "to", "timeframe", "source", "page-size", "lake"]);

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  for (const name of Object.keys(flags)) if (!KNOWN.has(name)) fail(`unknown flag --${name}`);
  const config = loadNodeConfig(process.env, [], { progress: false });
  const symbols = flags.symbols ? flags.symbols.split(",").map((s) => s.trim()) : marketSymbolsOf(config);
  const bad = symbols.find((s) => !SYMBOL_PATTERN.test(s));
  if (bad !== undefined) fail(`'${bad.slice(0, 20)}' is not a symbol`);
  const timeframe: Timeframe | undefined = timeframeOf(flags.timeframe ?? "1Day");
  if (!timeframe) fail(`unknown timeframe '${(flags.timeframe ?? "").slice(0, 20)}'`);
  const to = flags.to ? Date.parse(flags.to) : Date.now();
  const span = flags.years
    ? Number(flags.years) * 365.25 * 86_400_000
    : flags.days
      ? Number(flags.days) * 86_400_000
      : 365.25 * 86_400_000;
  const from = flags.from ? Date.parse(flags.from) : to - span;
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to)
    fail("the range is not a valid from < to");
  const pageSize = flags["page-size"] ? Number(flags["page-size"]) : 10_000;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 10_000) fail("--page-size is 1 to 10000");
  const lake = flags.lake ?? config.lake;
  if (lake !== "on" && lake !== "off") fail("--lake is on or off");

  const { log, registry, partitions } = await openNodeLog(config);
  try {
    const codec = await provisionMarket(log, registry, partitions);
    const keys = { keyId: config.alpacaKeyId, secret: config.alpacaSecretKey };
    const sourceName = flags.source ?? (hasAlpacaKeys(keys) ? "alpaca" : "simulator");
    let source: MarketDataSource;
    if (sourceName === "alpaca")
      source = new AlpacaSource({
        ...(keys.keyId ? { keyId: keys.keyId } : {}),
        ...(keys.secret ? { secret: keys.secret } : {}),
        ...(config.alpacaDataUrl ? { dataUrl: config.alpacaDataUrl } : {}),
        feed: config.alpacaFeed,
      });
    else if (sourceName === "simulator")
      source = new SimulatorSource(new MarketModel({ seed: config.seed, hours: "calendar" }));
    else if (sourceName === "replay") source = new ReplaySource({ log, decode: codec.decode });
    else fail(`unknown source '${sourceName.slice(0, 20)}'`);

    const started = performance.now();
    const bar = (p: {
      symbol: string;
      symbolIndex: number;
      symbols: number;
      fraction: number;
      written: number;
    }) => {
      const done = (p.symbolIndex + p.fraction) / p.symbols;
      const width = 30;
      const filled = Math.round(done * width);
      const rate = p.written / Math.max(0.001, (performance.now() - started) / 1000);
      process.stderr.write(
        `\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${(done * 100).toFixed(0).padStart(3)}% ${p.symbol.padEnd(6)} ${p.written} bars ${Math.round(rate)}/s   `,
      );
    };
    const result = await backfill(
      { log, source, encode: codec.encode, onProgress: bar },
      { symbols, timeframe, from, to, pageSize },
    );
    process.stderr.write("\n");
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `back-filled ${result.written} ${timeframe} bars of ${symbols.length} symbols from ${source.name} in ${seconds.toFixed(1)} s (${result.pages} pages)${result.written === 0 ? "; nothing new" : ""}`,
    );
    if (lake === "on") {
      const lakeStarted = performance.now();
      const landed = await catchUpLake({
        log,
        decode: codec.decode,
        refreshSchemas: codec.refresh,
        applicationId: config.applicationId,
        lakeDir: lakeDirOf(config),
        tables: ["silver_market_bars"],
        onDeadLetter: (letter) => console.warn(`lake: dead letter ${letter.code}: ${letter.reason}`),
        onProgress: (written, remaining) =>
          process.stderr.write(`\rlake: ${written} rows written, ${remaining} records to go   `),
      });
      process.stderr.write("\n");
      const rows = landed.written.silver_market_bars ?? 0;
      console.log(
        `lake: ${rows} rows into silver_market_bars in ${((performance.now() - lakeStarted) / 1000).toFixed(1)} s${rows === 0 ? "; nothing new" : ""}`,
      );
    }
  } finally {
    await log.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write("\n");
  // a PlatformError's message is written for operators and carries no secret; anything else only its name
  console.error(
    `backfill failed: ${isPlatformError(error) ? error.message : error instanceof Error ? error.name : "error"}`,
  );
  process.exit(1);
});
