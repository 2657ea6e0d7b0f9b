/**
 * The deletion-request port. An entity (a sensor, a user) is erased from every store that holds
 * data about it; each store implements `EntityEraser` for the kinds it knows, and the workflow
 * (erasure-workflow.ts) runs them all and audits the outcome. An eraser is idempotent: a request
 * run again (after a partial failure) erases what is left and reports what it found.
 *
 * What each store must implement:
 *   log (done: log-entity-eraser.ts)   tombstones for the entity's keys in the compacted topics
 *                                      (reference tables, changelogs); non-compacted topics are
 *                                      reported as "expires" with their retention
 *   lake (Delta)                       a DELETE of the entity's rows in every table that has them
 *                                      (a new table version; VACUUM removes the old files after
 *                                      the retention the lake keeps for time travel)
 *   time series (QuestDB, embedded)    a delete of the entity's rows (QuestDB: rewrite the
 *                                      partitions without them, or drop the table's rows by key)
 *   feature store, model registry      the entity's features / training rows
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
