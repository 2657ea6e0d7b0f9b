/**
 * The deletion-request port. An entity (a sensor, a user) is erased from every store that holds
 * data about it; each store implements `EntityEraser` for the kinds it knows, and the workflow
 * (erasure-workflow.ts) runs them all and audits the outcome. An eraser is idempotent: a request
 * run again (after a partial failure) erases what is left and reports what it found.
 *
 * The stores and what erasure means in each:
 *   log (log-entity-eraser.ts)          tombstones for the entity's keys in the compacted topics;
 *                                       append-only topics are reported as "expires" (retention)
 *   lake (lake-entity-eraser.ts)        a Delta DELETE of the entity's rows in every table holding
 *                                       them; older versions keep the rows until VACUUM, which the
 *                                       request may ask for
 *   time series (time-series-entity-   the rows deleted (embedded: DELETE; QuestDB: the day
 *     eraser.ts)                        partitions holding them rewritten without them)
 *   online features (online-entity-     the entity's entries in every version of every view keyed
 *     eraser.ts)                        by its kind; the offline store is the lake
 *   model registry, tracking            no per-entity data (models are trained from the lake)
 */
export const ENTITY_KINDS = ["sensor", "user"] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

export interface EntityRef {
  readonly kind: EntityKind;
  readonly id: string;
}

export interface ErasureRequest {
  /** unique per request, for the audit trail and for running it again */
  readonly requestId: string;
  readonly entity: EntityRef;
  /** who asked (a principal's subject, never a credential) */
  readonly requestedBy: string;
  readonly requestedAt: number;
  /**
   * VACUUM the lake tables the request changed, so the files that still hold the entity's rows
   * for time travel go too: after the tables' retention (the default), or now when the caller
   * lowers it explicitly (`retentionHours` below the table's with `enforceRetention: false`)
   */
  readonly vacuum?: { readonly retentionHours?: number; readonly enforceRetention?: boolean };
}

export type ErasureStatus =
  /** data about the entity was deleted (tombstoned) */
  | "erased"
  /** nothing about the entity was found */
  | "not-found"
  /** kept until the store's retention removes it (an append-only topic) */
  | "expires"
  /** this store does not hold this kind of entity */
  | "not-applicable"
  | "failed";

export interface ErasureOutcome {
  readonly store: string;
  readonly status: ErasureStatus;
  /** how many items (keys, rows, files) were erased */
  readonly items: number;
  /** for the operator: where, or why not; never the erased data */
  readonly detail?: string;
}

export interface EntityEraser {
  /** the store's name in outcomes and the audit trail */
  readonly store: string;
  erase(request: ErasureRequest): Promise<ErasureOutcome[]>;
}
