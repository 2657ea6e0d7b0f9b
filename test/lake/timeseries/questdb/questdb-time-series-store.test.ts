import { QuestDbTimeSeriesStore } from "../../../../lake/timeseries/questdb/questdb-time-series-store.ts";
import { questdbHttpUrl, requireQuestDb } from "../../../../testkit/questdb-server.ts";
import { timeSeriesStoreContract } from "../time-series-store.contract.ts";

await requireQuestDb();

timeSeriesStoreContract("QuestDB (real server)", {
  open: async () => new QuestDbTimeSeriesStore({ httpUrl: questdbHttpUrl }),
  settle: (store, table) => (store as QuestDbTimeSeriesStore).awaitApplied(table),
});
