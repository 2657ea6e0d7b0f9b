import type { TimeSeriesStore } from "../lake/timeseries/time-series-store.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import type { EntityEraser, EntityKind, EntityRef, ErasureOutcome } from "./entity-eraser.ts";

/**
 * The time-series store's part of a deletion request: the entity's rows deleted from every table
 * that holds them, through the port's `deleteRows` (embedded: a DELETE; QuestDB: the day
 * partitions holding them rewritten without them, see the adapter). The rows are gone from the
 * store once the outcome is reported; QuestDB has no time travel to keep them.
 */
export interface TimeSeriesErasureTarget {
  readonly table: string;
  readonly kind: EntityKind;
  /** the entity's rows: SYMBOL column -> value */
  readonly equals: (entity: EntityRef) => Readonly<Record<string, string>>;
}

export function createTimeSeriesEntityEraser(
  timeSeries: TimeSeriesStore,
  targets: readonly TimeSeriesErasureTarget[],
): EntityEraser {
  const store = `timeseries:${timeSeries.kind}`;
  return {
    store,
    async erase(request) {
      const outcomes: ErasureOutcome[] = [];
      for (const target of targets) {
        if (target.kind !== request.entity.kind) continue;
        try {
          const deleted = await timeSeries.deleteRows(target.table, target.equals(request.entity));
          outcomes.push(
            deleted === 0
              ? { store, status: "not-found", items: 0, detail: target.table }
              : {
                  store,
                  status: "erased",
                  items: deleted,
                  detail: `${target.table}: ${deleted} rows deleted`,
                },
          );
        } catch (cause) {
          // a table this node never opened holds nothing it wrote
          if (cause instanceof PlatformError && cause.code === ErrorCodes.NOT_FOUND) {
            outcomes.push({
              store,
              status: "not-found",
              items: 0,
              detail: `${target.table} is not open here`,
            });
            continue;
          }
          const error = new PlatformError(
            ErrorCodes.ERASURE_INCOMPLETE,
            `erasing from ${target.table} failed`,
            {
              cause,
            },
          );
          outcomes.push({ store, status: "failed", items: 0, detail: error.message });
        }
      }
      if (outcomes.length === 0) outcomes.push({ store, status: "not-applicable", items: 0 });
      return outcomes;
    },
  };
}
