import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lakeTable } from "../../lake/tables/catalogue.ts";
import { openLog } from "../../log/index.ts";
import type { Log } from "../../log/log.ts";
import { subjectOf } from "../../messages/platform-schemas.ts";
import { frame } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import { SchemaRegistry } from "../../registries/schema-registry.ts";
import { catchUpLake } from "../../sinks/lake-catch-up.ts";
import { backfill } from "../../sources/market/backfill.ts";
import { tradingDays } from "../../sources/market/calendar/nyse-calendar.ts";
import { provisionMarket } from "../../sources/market/market-provisioning.ts";
import { MarketModel } from "../../sources/market/simulator/market-model.ts";
import { SimulatorSource } from "../../sources/market/simulator-source.ts";
import { deltaRsRows } from "../../testkit/lake-audit.ts";

/**
 * The back-fill lands in the lake through the lake's own sink (the node's consumer group and
 * Delta txns): every bar once, read back with delta-rs; a second run writes nothing in the log
 * or the lake; a run that died between its log append and the lake is completed by the next.
 */
let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

const BARS = lakeTable("silver_market_bars")!;
const FROM = Date.parse("2024-01-01T00:00:00Z");
const MID = Date.parse("2024-07-01T00:00:00Z");
const TO = Date.parse("2025-01-01T00:00:00Z");
const SYMBOLS = ["AAPL", "MSFT", "BRK.B"];

async function world() {
  const dir = mkdtempSync(join(tmpdir(), "lake-catch-up-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  let log: Log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
  cleanup.push(() => log.close());
  let codec = await provisionMarket(log, await SchemaRegistry.open(log), 4);
  const source = new SimulatorSource(new MarketModel({ seed: 3, hours: "calendar" }));
  const lakeDir = join(dir, "lake");
  return {
    lakeDir,
    log: () => log,
    /** a new process on the same data: the log reopened */
    async reopen() {
      await log.close();
      log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
      codec = await provisionMarket(log, await SchemaRegistry.open(log), 4);
    },
    backfill: (to: number) =>
      backfill({ log, source, encode: codec.encode }, { symbols: SYMBOLS, timeframe: "1d", from: FROM, to }),
    codec: () => codec,
    lake: () =>
      catchUpLake({
        log,
        decode: codec.decode,
        refreshSchemas: codec.refresh,
        applicationId: "city",
        lakeDir,
        tables: [BARS.name],
        onDeadLetter: (letter) => {
          throw new Error(`unexpected dead letter: ${letter.reason}`);
        },
      }),
  };
}

test("back-filled bars land in the lake once each; a second run writes nothing in the log or the lake", async () => {
  const w = await world();
  const days = tradingDays("2024-01-01", "2024-12-31").length;
  expect((await w.backfill(TO)).written).toBe(SYMBOLS.length * days);
  expect((await w.lake()).written[BARS.name]).toBe(SYMBOLS.length * days);

  await w.reopen();
  expect((await w.backfill(TO)).written).toBe(0);
  expect((await w.lake()).written[BARS.name]).toBe(0);

  const { rows, byId } = await deltaRsRows(w.lakeDir, BARS);
  expect(rows.length).toBe(SYMBOLS.length * days);
  expect(byId.size).toBe(rows.length);
  expect(rows.every((r) => r.source === "backfill:simulator" && r.timeframe === "1d")).toBe(true);
  expect(new Set(rows.map((r) => r.symbol))).toEqual(new Set(SYMBOLS));
}, 120_000);

test("a run that died after its log append is completed in the lake by the next run, nothing twice", async () => {
  const w = await world();
  await w.backfill(MID);
  await w.lake();
  // the second half reaches the log, and the process dies before the lake
  const second = await w.backfill(TO);
  expect(second.written).toBeGreaterThan(0);
  // and a page written again after a crash before its checkpoint: the same bars at new offsets
  const topic = Topics.marketBars("1d");
  const partition = 0;
  const tail = await w.log().read({ topic, partition }, { fromOffset: 0, maxRecords: 20 });
  await w.log().append(tail.map((r) => ({ topic, key: r.key, value: r.value, timestamp: r.timestamp })));

  await w.reopen();
  expect((await w.backfill(TO)).written).toBe(0);
  const landed = await w.lake();
  expect(landed.written[BARS.name]).toBe(second.written);
  expect(landed.skipped).toBe(tail.length);
  const { rows, byId } = await deltaRsRows(w.lakeDir, BARS);
  const days = tradingDays("2024-01-01", "2024-12-31").length;
  expect(rows.length).toBe(SYMBOLS.length * days);
  expect(byId.size).toBe(rows.length);
}, 120_000);

test("a bar framed with a schema a running node registered after the catch-up opened lands, where without the registry catch-up it is a dead letter", async () => {
  const w = await world();
  await w.backfill(MID);
  await w.lake();
  // a node beside the command registers a compatible version of the bars' schema and writes with it
  const topic = Topics.marketBars("1d");
  const subject = subjectOf(topic);
  const node = await SchemaRegistry.open(w.log());
  const latest = JSON.parse(node.version(subject, "latest").schema);
  const next = await node.register(subject, JSON.stringify({ ...latest, description: "v2" }), {
    schemaType: "JSON",
  });
  const samples = await Promise.all(
    [0, 1, 2, 3].map((partition) => w.log().read({ topic, partition }, { fromOffset: 0, maxRecords: 1 })),
  );
  const sample = samples.flat()[0];
  // a revision of a bar the lake holds: a row of its own
  const bar = { ...(w.codec().decode(sample!.value!) as Record<string, unknown>), revision: 7 };
  const bytes = frame(next.id, new TextEncoder().encode(JSON.stringify(bar)));
  await w.log().append([{ topic, key: sample!.key, value: bytes, timestamp: sample!.timestamp }]);

  const letters: string[] = [];
  const without = await catchUpLake({
    log: w.log(),
    decode: w.codec().decode,
    applicationId: "other-app",
    lakeDir: `${w.lakeDir}-without`,
    tables: [BARS.name],
    onDeadLetter: (letter) => letters.push(letter.code),
  });
  expect(letters).toEqual(["UNKNOWN_SCHEMA"]);
  expect(without.written[BARS.name]).toBeGreaterThan(0);

  expect((await w.lake()).written[BARS.name]).toBe(1);
}, 120_000);
