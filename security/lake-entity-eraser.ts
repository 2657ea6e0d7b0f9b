import { deleteRows } from "../lake/delta/delete-rows.ts";
import type { DeltaTable } from "../lake/delta/delta-table.ts";
import type { RowMatch } from "../lake/delta/parquet.ts";
import { vacuum } from "../lake/delta/vacuum.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import type { EntityEraser, EntityKind, EntityRef, ErasureOutcome, ErasureRequest } from "./entity-eraser.ts";

/**
 * The lake's part of a deletion request: a Delta DELETE of the entity's rows in every table that
 * holds them (`lake/delta/delete-rows.ts`), so the newest version, which every reader (delta-rs,
 * DuckDB, the lake's SQL, the feature store's offline reads) sees, has no row of it.
 *
 * Delta keeps the removed files for time travel until VACUUM deletes them after the table's
 * retention (`delta.deletedFileRetentionDuration`, a week by default); the outcome says so. A
 * request with `vacuum` runs VACUUM on the tables it changed: with the retention respected it
 * deletes what is past it, and with the retention explicitly lowered it deletes the files that
 * held the entity now, ending time travel to the versions before the delete.
 */
export interface LakeErasureTarget {
  readonly table: string;
  readonly kind: EntityKind;
  /** the entity's rows: column -> the text it equals */
  readonly match: (entity: EntityRef) => RowMatch;
}

export function createLakeEntityEraser(
  /** the node's open lake tables by name (a table absent here is reported, not skipped) */
  tables: () => ReadonlyMap<string, DeltaTable>,
  targets: readonly LakeErasureTarget[],
): EntityEraser {
  const store = "lake";

  async function eraseIn(target: LakeErasureTarget, request: ErasureRequest): Promise<ErasureOutcome> {
    const table = tables().get(target.table);
    if (!table) return { store, status: "not-found", items: 0, detail: `${target.table} is not open here` };
    const result = await deleteRows(table, target.match(request.entity), { attempts: 10 });
    if (result.version === undefined && request.vacuum === undefined)
      return { store, status: "not-found", items: 0, detail: target.table };
    const retentionHours = table.deletedFileRetentionMs() / 3_600_000;
    const deleted =
      result.version === undefined
        ? `${target.table}: no rows`
        : `${target.table}: ${result.numDeletedRows} rows deleted in version ${result.version}`;
    if (request.vacuum === undefined) {
      return {
        store,
        status: "erased",
        items: result.numDeletedRows,
        detail: `${deleted}; earlier versions keep them for time travel until VACUUM after ${retentionHours} h`,
      };
    }
    // VACUUM deletes files removed strictly before now - retention: with a retention of 0 the
    // files this delete just removed must be older than the VACUUM's clock by a millisecond
    await new Promise((resolve) => setTimeout(resolve, 2));
    const swept = await vacuum(table, {
      ...(request.vacuum.retentionHours === undefined
        ? {}
        : { retentionHours: request.vacuum.retentionHours }),
      ...(request.vacuum.enforceRetention === undefined
        ? {}
        : { enforceRetention: request.vacuum.enforceRetention }),
    });
    const hours = request.vacuum.retentionHours ?? retentionHours;
    return {
      store,
      status: result.version === undefined ? "not-found" : "erased",
      items: result.numDeletedRows,
      detail: `${deleted}; VACUUM (retention ${hours} h) deleted ${swept.files.length} files`,
    };
  }

  return {
    store,
    async erase(request) {
      const outcomes: ErasureOutcome[] = [];
      for (const target of targets) {
        if (target.kind !== request.entity.kind) continue;
        try {
          outcomes.push(await eraseIn(target, request));
        } catch (cause) {
          const error = new PlatformError(
            ErrorCodes.ERASURE_INCOMPLETE,
            `erasing from ${target.table} failed`,
            {
              cause,
            },
          );
          // a refused VACUUM retention is the caller's to fix: say which rule, never a path
          const why =
            cause instanceof PlatformError && cause.code === ErrorCodes.CONFIG_INVALID
              ? `: ${cause.message}`
              : "";
          outcomes.push({ store, status: "failed", items: 0, detail: `${error.message}${why}` });
        }
      }
      if (outcomes.length === 0) outcomes.push({ store, status: "not-applicable", items: 0 });
      return outcomes;
    },
  };
}
