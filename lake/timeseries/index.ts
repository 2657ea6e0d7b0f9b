import { join } from "node:path";
import { SqliteTimeSeriesStore } from "./embedded/sqlite-time-series-store.ts";
import { QuestDbTimeSeriesStore } from "./questdb/questdb-time-series-store.ts";
import type { TimeSeriesStore } from "./time-series-store.ts";

export type * from "./time-series-store.ts";

/** QuestDB when its URL is given, else the embedded store in the node's data dir. */
export function openTimeSeriesStore(options: {
  readonly questdbUrl?: string;
  readonly questdbPgUrl?: string;
  readonly dataDir: string;
}): TimeSeriesStore {
  if (options.questdbUrl)
    return new QuestDbTimeSeriesStore({
      httpUrl: options.questdbUrl,
      ...(options.questdbPgUrl ? { pgUrl: options.questdbPgUrl } : {}),
    });
  return new SqliteTimeSeriesStore({ path: join(options.dataDir, "timeseries.db") });
}
