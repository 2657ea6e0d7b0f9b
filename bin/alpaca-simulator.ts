/**
 * `bun run bin/alpaca-simulator.ts`: the Alpaca-protocol simulator on its own, for pointing a
 * node (ALPACA_STREAM_URL, ALPACA_DATA_URL), the back-fill or any Alpaca client at it:
 *
 *   SIM_KEY_ID=k SIM_SECRET_KEY=s bun run bin/alpaca-simulator.ts --port 8765 --symbols AAPL,MSFT
 *
 * Flags: --port, --symbols, --hours always|calendar, --trades-per-minute, --speed (market minutes
 * per wall minute), --rate-limit (REST requests a minute), --seed, --profile flat (a steady
 * trade rate instead of the intraday U). Prints one JSON line with its
 * URLs on stdout when it listens; stops on SIGINT / SIGTERM.
 */
import { startAlpacaSimulator } from "../sources/market/alpaca-protocol/simulator-server.ts";
import { MarketModel } from "../sources/market/simulator/market-model.ts";
import { US_LARGE_CAPS } from "../sources/reference/symbol-metadata.ts";

const flags: Record<string, string> = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i]!;
  if (!arg.startsWith("--") || argv[i + 1] === undefined) {
    console.error(
      `usage: bun run bin/alpaca-simulator.ts [--port N] [--symbols A,B] [--hours always|calendar] [--trades-per-minute N] [--speed N] [--rate-limit N] [--seed N] [--profile flat|u]`,
    );
    process.exit(2);
  }
  flags[arg.slice(2)] = argv[++i]!;
}
const speed = Number(flags.speed ?? 1);
const started = Date.now();
const now = speed === 1 ? Date.now : () => started + (Date.now() - started) * speed;
const symbols = flags.symbols ? flags.symbols.split(",") : US_LARGE_CAPS.map((l) => l.symbol);
const sim = startAlpacaSimulator({
  model: new MarketModel({
    seed: Number(flags.seed ?? 42),
    hours: flags.hours === "calendar" ? "calendar" : "always",
    tradesPerMinute: Number(flags["trades-per-minute"] ?? 30),
    flatProfile: flags.profile === "flat",
  }),
  symbols,
  credentials: {
    keyId: process.env.SIM_KEY_ID ?? "simulator",
    secret: process.env.SIM_SECRET_KEY ?? "simulator",
  },
  port: Number(flags.port ?? 0),
  rateLimit: { maxRequests: Number(flags["rate-limit"] ?? 200), intervalMs: 60_000 },
  maxSymbols: Math.max(2000, symbols.length),
  now,
});
console.log(JSON.stringify({ url: sim.url, streamUrl: sim.streamUrl, symbols: symbols.length }));
const stop = () => {
  sim.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
