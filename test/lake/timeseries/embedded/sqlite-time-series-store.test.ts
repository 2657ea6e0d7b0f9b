import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteTimeSeriesStore } from "../../../../lake/timeseries/embedded/sqlite-time-series-store.ts";
import { timeSeriesStoreContract } from "../time-series-store.contract.ts";

const dir = mkdtempSync(join(tmpdir(), "ts-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

timeSeriesStoreContract("embedded (bun:sqlite)", {
  open: async () => new SqliteTimeSeriesStore({ path: join(dir, "timeseries.db") }),
  settle: async () => {},
});
