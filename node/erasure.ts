import type { EntityEraser } from "../security/entity-eraser.ts";
import { createLakeEntityEraser } from "../security/lake-entity-eraser.ts";
import { createLogEntityEraser } from "../security/log-entity-eraser.ts";
import { createOnlineEntityEraser } from "../security/online-entity-eraser.ts";
import {
  lakeErasureTargets,
  modelStoreEraser,
  platformErasureTargets,
  timeSeriesErasureTargets,
} from "../security/platform-erasure-targets.ts";
import { createTimeSeriesEntityEraser } from "../security/time-series-entity-eraser.ts";
import type { NodeFeatures } from "./features.ts";
import type { NodeLake } from "./lake.ts";
import type { NodeContext } from "./node-context.ts";
import type { NodeTimeSeries } from "./timeseries.ts";

/**
 * The stores a deletion request reaches on this node: the log always, the time-series store
 * always, the lake and the online feature store when their rooms run, and the model stores
 * (which say they hold nothing per entity). The erasers run where the stores' sinks run, so the
 * QuestDB rewrite holds this node's own writes to a table while it runs.
 */
export function nodeErasers(
  node: NodeContext,
  parts: {
    readonly timeseries: NodeTimeSeries;
    readonly lake: NodeLake | undefined;
    readonly features: NodeFeatures | undefined;
  },
): EntityEraser[] {
  const features = parts.features;
  const lake = parts.lake;
  return [
    createLogEntityEraser(node.log, platformErasureTargets(node.config.applicationId)),
    createTimeSeriesEntityEraser(parts.timeseries.store, timeSeriesErasureTargets()),
    lake
      ? createLakeEntityEraser(() => lake.tables, lakeErasureTargets())
      : roomOff("lake", "the lake is off on this node (LAKE=off)"),
    features
      ? createOnlineEntityEraser(features.store.online, () =>
          features.store.registry.search().filter((view) => view.kind === "view"),
        )
      : roomOff("online-features", "the feature store is off on this node (FEATURES=off)"),
    modelStoreEraser(),
  ];
}

/** a store whose room does not run here: named in the report, not left out of it */
function roomOff(store: string, detail: string): EntityEraser {
  return { store, erase: async () => [{ store, status: "not-applicable", items: 0, detail }] };
}
