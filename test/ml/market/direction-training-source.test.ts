import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FeatureStore } from "../../../features/feature-store.ts";
import { EmbeddedOnlineStore } from "../../../features/online/embedded-online-store.ts";
import { SYMBOL_INDICATORS_1M } from "../../../features/views/room-views.ts";
import { DeltaTable } from "../../../lake/delta/delta-table.ts";
import { tableDir } from "../../../lake/tables/catalogue.ts";
import { MARKET_TABLES } from "../../../lake/tables/market.ts";
import { openLog } from "../../../log/index.ts";
import { isPlatformError } from "../../../messages/errors.ts";
import type { IndicatorSnapshot } from "../../../messages/market.ts";
import { DIRECTION_FEATURES, directionFeatures } from "../../../ml/market/direction-features.ts";
import { DirectionTrainingSource } from "../../../ml/market/direction-training-source.ts";

const dir = mkdtempSync(join(tmpdir(), "direction-training-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GOLD = MARKET_TABLES.find((t) => t.name === "gold_market_indicators")!;
const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 2, 15, 0);

function snapshot(symbol: string, minute: number, close: number): IndicatorSnapshot {
  return {
    symbol,
    timeframe: "1m",
    bar_start: T0 + minute * MINUTE,
    close,
    sma_20: close * 0.99,
    ema_12: close * 1.01,
    ema_26: close,
    rsi_14: 40 + minute,
    macd: 0.1,
    macd_signal: 0.05,
    macd_histogram: 0.05 * minute,
    bollinger_upper: close + 2,
    bollinger_middle: close,
    bollinger_lower: close - 2,
    vwap: close - 1,
  };
}

/** `snapshots` undefined: the lake has no indicators table yet */
async function storeWith(name: string, snapshots: IndicatorSnapshot[] | undefined) {
  const log = await openLog({ kind: "embedded", path: join(dir, `${name}.db`) });
  const lakeDir = join(dir, name);
  if (snapshots) {
    const table = await DeltaTable.create(tableDir(lakeDir, GOLD), {
      name: GOLD.name,
      schema: [...GOLD.schema],
      partitionColumns: [...(GOLD.partitionColumns ?? [])],
    });
    const rows = snapshots.flatMap((s) => GOLD.toRows!(s, { topic: "market.indicators" } as never));
    if (rows.length > 0) await table.append(rows);
  }
  const store = await FeatureStore.open({ log, lakeDir, online: new EmbeddedOnlineStore(":memory:") });
  await store.registerCode([SYMBOL_INDICATORS_1M]);
  return {
    store,
    async close() {
      await store.close();
      await log.close();
    },
  };
}

test("each minute is labelled with the next minute's direction and joined with its own indicators, oldest first", async () => {
  // AAPL: up, down, flat (not up), then a gap; MSFT: up, up
  const closes: [string, number, number][] = [
    ["AAPL", 0, 100],
    ["AAPL", 1, 101],
    ["AAPL", 2, 100.5],
    ["AAPL", 3, 100.5],
    ["AAPL", 5, 103],
    ["AAPL", 6, 104],
    ["MSFT", 0, 300],
    ["MSFT", 1, 301],
    ["MSFT", 2, 302],
  ];
  const { store, close } = await storeWith(
    "labels",
    closes.map(([s, m, c]) => snapshot(s, m, c)),
  );
  const set = await new DirectionTrainingSource(store, { minRows: 1 }).latest("market-direction");
  // minutes 0..2 of AAPL (3 has no next minute: 4 is missing), 5 of AAPL, 0..1 of MSFT
  expect(set.labels.length).toBe(6);
  expect(Array.from(set.labels)).toEqual([1, 1, 0, 1, 0, 1]);
  expect(set.featureNames).toEqual([...DIRECTION_FEATURES]);
  // the join read the minute that closed (its rsi is 40 + minute), never the one being predicted
  const rsi = DIRECTION_FEATURES.indexOf("rsi_14");
  expect(set.rows.map((r) => r[rsi])).toEqual([40, 40, 41, 41, 42, 45]);
  // the same function as serving: the AAPL minute 1 row is its snapshot with minute 0's close before it
  expect(Array.from(set.rows[2]!)).toEqual(directionFeatures(snapshot("AAPL", 1, 101), 100));
  // minute 5 follows a gap: no return
  expect(set.rows[5]![0]).toBeNaN();
  expect(set.lineage.table).toBe("gold_market_indicators");
  expect(set.lineage.tableVersion).toBe(1); // created at 0, the rows appended at 1
  expect(set.lineage.views).toEqual([{ name: "symbol_indicators_1m", version: 1 }]);
  await close();
});

test("too few labelled minutes, or no table yet, is TRAINING_DATA_INVALID", async () => {
  const few = await storeWith("few", [snapshot("AAPL", 0, 1), snapshot("AAPL", 1, 2)]);
  const refused = await new DirectionTrainingSource(few.store, { minRows: 10 }).latest("m").catch((e) => e);
  expect(isPlatformError(refused, "TRAINING_DATA_INVALID")).toBe(true);
  expect((refused as Error).message).toContain("1 labelled minutes");
  await few.close();
  const none = await storeWith("none", undefined);
  const missing = await new DirectionTrainingSource(none.store).latest("m").catch((e) => e);
  expect(isPlatformError(missing, "TRAINING_DATA_INVALID")).toBe(true);
  await none.close();
});

test("the set keeps the newest maxRows minutes", async () => {
  const snapshots = Array.from({ length: 30 }, (_, m) => snapshot("NVDA", m, 100 + (m % 3)));
  const { store, close } = await storeWith("bounded", snapshots);
  const set = await new DirectionTrainingSource(store, { minRows: 1, maxRows: 10 }).latest("m");
  expect(set.labels.length).toBe(10);
  const rsi = DIRECTION_FEATURES.indexOf("rsi_14");
  expect(set.rows.map((r) => r[rsi])).toEqual(Array.from({ length: 10 }, (_, i) => 40 + 19 + i));
  await close();
});
